// A component's session: an ordinary in-process WAMP session that is joined on first use and
// joined again on the next use after it was closed (e.g. its role was removed by a reload, or the
// realm ended it), so a component never needs a restart. Used by the board's components and the
// HTTP bridge services.

import { ClientSession, type ConnectOptions } from './client-session.js';
import type { SessionFactory } from '../core-boundary.js';

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
