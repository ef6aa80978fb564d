// A board component's session (telemetry, schedules): an ordinary in-process WAMP session that is
// joined on first use and joined again on the next use after it was closed (e.g. its role was
// removed by a reload, or the realm ended it), so a component never needs a restart.

import { ClientSession, type ConnectOptions } from '../client/client-session.js';
import type { SessionFactory } from '../core-boundary.js';
import { log } from '../log.js';

export class ComponentSession {
  private session: ClientSession | undefined;
  private connecting: Promise<ClientSession> | undefined;
  private stopped = false;

  constructor(
    private readonly factory: SessionFactory,
    readonly options: ConnectOptions,
    /** Runs after each join, before the session is used (e.g. to register procedures). */
    private readonly onJoin?: (session: ClientSession) => Promise<void>,
  ) {}

  /** The joined session, joining (again) when there is none. */
  get(): Promise<ClientSession> {
    if (this.stopped) return Promise.reject(new Error('component stopped'));
    if (this.session) return Promise.resolve(this.session);
    this.connecting ??= (async () => {
      const s = await ClientSession.connect(this.factory, this.options);
      void s.closed.then(() => {
        if (this.session === s) this.session = undefined;
      });
      try {
        await this.onJoin?.(s);
      } catch (err) {
        await s.close().catch(() => undefined);
        throw err;
      }
      if (this.stopped) {
        await s.close().catch(() => undefined);
        throw new Error('component stopped');
      }
      this.session = s;
      return s;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.connecting?.catch(() => undefined);
    const s = this.session;
    this.session = undefined;
    await s?.close().catch(() => undefined);
  }
}

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
