// Denied actions are logged, so an operator sees who tries what — but a client that floods denied
// requests must not flood the log: at most 20 lines per 10 s, then one summary.

import { LogBudget } from '../log-budget.js';
import type { LoggedSession } from './session-log.js';

const refusals = new LogBudget('refused', 20);

export function logRefusal(session: LoggedSession, action: string, uri: string, why = 'not authorized'): void {
  refusals.write(() => `refused: session ${session.id} (authid '${session.authid}', role '${session.authrole}', ${session.transport.info.peer}) may not ${action} '${uri.slice(0, 200)}': ${why}`);
}
