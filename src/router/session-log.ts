// One info line per WAMP session joining or leaving a realm, so an operator can follow who comes and
// goes in the journal. Connections are the clients' to make: a flood of them is summarized, not
// written line by line (at most SESSION_LINES_PER_WINDOW lines per 10 s, joins and leaves together).

import { LogBudget } from '../log-budget.js';
import type { TransportInfo } from '../core-boundary.js';

/** What a log line names of a session: who, in which realm, from where (a Session is one). */
export interface LoggedSession {
  readonly id: number;
  readonly authid: string;
  readonly authrole: string;
  readonly realm: { readonly name: string } | undefined;
  readonly transport: { readonly info: TransportInfo };
}

/** Enough for a restart's worth of devices coming back at once on a small installation. */
export const SESSION_LINES_PER_WINDOW = 60;

const budget = new LogBudget('session joins and leaves', SESSION_LINES_PER_WINDOW);

function who(session: LoggedSession): string {
  const t = session.transport.info;
  return `session ${session.id} (authid '${session.authid}', role '${session.authrole}', realm '${session.realm?.name}', ${t.type} ${t.peer})`;
}

export function logSessionJoined(session: LoggedSession): void {
  budget.write(() => `${who(session)} joined`);
}

/** `why`: how the session ended, e.g. "client said goodbye (wamp.close.normal)", "connection closed". */
export function logSessionLeft(session: LoggedSession, why: string): void {
  budget.write(() => `${who(session)} left: ${why}`);
}
