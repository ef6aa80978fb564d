// The router: the realms, and the one door through which every transport opens a session. Its own
// services (the meta API, calls to dynamic authenticators and authorizers) are not part of it: they
// join realms as ordinary sessions through that same door, and come in through `RouterServices`.

import type { RealmConfig } from '../config/types.js';
import { IdSequence, secureRandomId } from '../wamp/ids.js';
import { Realm } from './realm.js';
import { Session, type ServicePurpose } from './session.js';
import { FailureThrottle } from '../auth/throttle.js';
import { AuthenticationGate } from '../auth/auth-gate.js';
import type { SessionFactory, SessionHandle, SessionOptions, Transport } from '../core-boundary.js';

/**
 * What the core needs of the router's own services, which live outside it (src/router-services/)
 * and are handed in by node.ts.
 */
export interface RouterServices {
  /** Joins the router's realms (a meta API per realm); resolves once every one is ready. */
  start(router: Router, realms: readonly RealmConfig[]): Promise<void>;
  /** Leaves, before the router ends every other session. */
  stop(): Promise<void>;
  /** A call to a procedure that a client provides (a dynamic authenticator or authorizer). */
  call(realm: string, procedure: string, args: unknown[], purpose: ServicePurpose): Promise<{ args: unknown[] }>;
}

export class Router implements SessionFactory {
  private readonly realms = new Map<string, Realm>();
  /** Every session not yet closed, joined or still opening, for shutdown. */
  private readonly open = new Set<Session>();
  private readonly sessionIds = new Set<number>();
  /** Subscription and registration IDs: router scope, sequential. */
  readonly ids = new IdSequence();
  /** Failed authentications per client address, shared by all transports. */
  readonly authThrottle = new FailureThrottle();
  /** Calls to dynamic authenticators, admitted per client address and in total. */
  readonly authGate = new AuthenticationGate();
  /** Resolves once the router's services have joined (every realm's meta API registered its procedures). */
  readonly ready: Promise<void>;

  /** `services`: the router's own calls to client procedures (dynamic authenticators and authorizers), and the meta API. */
  constructor(realms: RealmConfig[], readonly services: RouterServices) {
    for (const config of realms) this.realms.set(config.name, new Realm(config, this.ids));
    this.ready = services.start(this, realms);
  }

  realm(name: string): Realm | undefined {
    return this.realms.get(name);
  }

  get realmNames(): string[] {
    return [...this.realms.keys()];
  }

  retainedCount(realm: string): number | undefined {
    return this.realms.get(realm)?.broker.store.retainedUsage.topics;
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
    await this.services.stop();
    for (const session of this.open) session.shutdown();
    const deadline = Date.now() + waitMs;
    while (this.open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }
}
