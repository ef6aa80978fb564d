// One info line per WAMP session joining or leaving a realm, so an operator can follow who comes and
// goes in the journal. Connections are the clients' to make: a flood of them is summarized, not
// written line by line (at most SESSION_LINES_PER_WINDOW lines per 10 s, joins and leaves together).

import { LogBudget } from '../log-budget.js';
import type { Session } from './session.js';

/** Enough for a restart's worth of devices coming back at once on a small installation. */
export const SESSION_LINES_PER_WINDOW = 60;

const budget = new LogBudget('session joins and leaves', SESSION_LINES_PER_WINDOW);

function who(session: Session): string {
  const t = session.transport.info;
  return `session ${session.id} (authid '${session.authid}', role '${session.authrole}', realm '${session.realm?.name}', ${t.type} ${t.peer})`;
}

export function logSessionJoined(session: Session): void {
  budget.write(() => `${who(session)} joined`);
}

/** `why`: how the session ended, e.g. "client said goodbye (wamp.close.normal)", "connection closed". */
export function logSessionLeft(session: Session, why: string): void {
  budget.write(() => `${who(session)} left: ${why}`);
}
