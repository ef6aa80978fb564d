// The router: the realms, and the one door through which every transport opens a session.

import type { RealmConfig } from '../config/types.js';
import { IdSequence, secureRandomId } from '../wamp/ids.js';
import { Realm } from './realm.js';
import { Session } from './session.js';
import { MetaApi } from './meta-api.js';
import { ServiceCaller } from './service-caller.js';
import { FailureThrottle } from '../auth/throttle.js';
import { AuthenticationGate } from '../auth/auth-gate.js';
import type { SessionFactory, SessionHandle, SessionOptions, Transport } from '../core-boundary.js';

export class Router implements SessionFactory {
  private readonly realms = new Map<string, Realm>();
  /** Every session not yet closed, joined or still opening, for shutdown. */
  private readonly open = new Set<Session>();
  private readonly sessionIds = new Set<number>();
  /** Subscription and registration IDs: router scope, sequential. */
  readonly ids = new IdSequence();
  private readonly metaApis: MetaApi[] = [];
  /** Failed authentications per client address, shared by all transports. */
  readonly authThrottle = new FailureThrottle();
  /** Calls to dynamic authenticators, admitted per client address and in total. */
  readonly authGate = new AuthenticationGate();
  /** The router's own calls to client procedures (dynamic authenticators and authorizers). */
  readonly services = new ServiceCaller(this);
  /** Resolves once every realm's meta API has joined and registered its procedures. */
  readonly ready: Promise<void>;

  constructor(realms: RealmConfig[]) {
    for (const config of realms) {
      const realm = new Realm(config, this.ids);
      this.realms.set(config.name, realm);
      if (config.enableMetaApi !== false) this.metaApis.push(new MetaApi(realm));
    }
    this.ready = Promise.all(this.metaApis.map((m) => m.start(this))).then(() => undefined);
  }

  realm(name: string): Realm | undefined {
    return this.realms.get(name);
  }

  get realmNames(): string[] {
    return [...this.realms.keys()];
  }

  openSession(transport: Transport, options?: SessionOptions): SessionHandle {
    // The session is its own handle: no wrapper object or closures per connection.
    const session = new Session(this, transport, options);
    this.open.add(session);
    return session;
  }

  /** Called by a session once its transport is gone. */
  sessionClosed(session: Session): void {
    this.open.delete(session);
    this.sessionIds.delete(session.id);
  }

  newSessionId(): number {
    let id = secureRandomId();
    while (this.sessionIds.has(id)) id = secureRandomId();
    this.sessionIds.add(id);
    return id;
  }

  get sessionCount(): number {
    return this.open.size;
  }

  /**
   * Ends every session and closes its connection the way clients read as "come back later" (no
   * GOODBYE: see Session.shutdown); resolves when all transports closed or after `waitMs`.
   */
  async shutdown(waitMs = 2000): Promise<void> {
    await Promise.allSettled([...this.metaApis.map((m) => m.stop()), this.services.close()]);
    for (const session of this.open) session.shutdown();
    const deadline = Date.now() + waitMs;
    while (this.open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }
}
