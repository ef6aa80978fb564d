// The board's components (telemetry, schedules) join through a ComponentSession (client/): joined
// on first use and again after it was closed. What is theirs alone: node-cron's log lines.

import { log } from '../log.js';

export { ComponentSession } from '../client/component-session.js';

/** node-cron's own messages (e.g. a missed run after the event loop was blocked) go to Junction's log. */
export function cronLogger(name: string): { info(m: string): void; warn(m: string): void; error(m: string | Error): void; debug(m: string | Error): void } {
  const text = (m: string | Error) => (m instanceof Error ? m.message : m);
  return {
    info: (m) => log.debug(`${name}: ${text(m)}`),
    warn: (m) => log.warn(`${name}: ${text(m)}`),
    error: (m) => log.error(`${name}: ${text(m)}`),
    debug: (m) => log.debug(`${name}: ${text(m)}`),
  };
}
