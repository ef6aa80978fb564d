// Denied actions are logged, so an operator sees who tries what — but a client that floods denied
// requests must not flood the log (src/throttled-log.ts).

import { ThrottledLog } from '../throttled-log.js';
import type { Session } from './session.js';

const refusals = new ThrottledLog('refused');

export function logRefusal(session: Session, action: string, uri: string, why = 'not authorized'): void {
  refusals.line(`refused: session ${session.id} (authid '${session.authid}', role '${session.authrole}', ${session.transport.info.peer}) may not ${action} '${uri.slice(0, 200)}': ${why}`);
}
