// Denied actions are logged, so an operator sees who tries what — but a client that floods denied
// requests must not flood the log: at most LINES_PER_WINDOW lines per window, then one summary.

import { log } from '../log.js';
import type { Session } from './session.js';

const WINDOW_MS = 10_000;
const LINES_PER_WINDOW = 20;

let windowStart = 0;
let lines = 0;
let suppressed = 0;

export function logRefusal(session: Session, action: string, uri: string, why = 'not authorized'): void {
  const now = Date.now();
  if (now - windowStart >= WINDOW_MS) {
    if (suppressed > 0) log.info(`refused: ${suppressed} more denied request(s) in the last ${WINDOW_MS / 1000} s not shown`);
    windowStart = now;
    lines = 0;
    suppressed = 0;
  }
  if (++lines > LINES_PER_WINDOW) {
    suppressed++;
    return;
  }
  log.info(`refused: session ${session.id} (authid '${session.authid}', role '${session.authrole}', ${session.transport.info.peer}) may not ${action} '${uri.slice(0, 200)}': ${why}`);
}
