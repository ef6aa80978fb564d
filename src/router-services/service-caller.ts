// Calls the router makes to procedures that clients provide: dynamic authenticators and
// authorizers. The router joins each realm it needs as an ordinary in-process session (role
// 'trusted', internal, hidden from the meta API), so these calls go through the same dealer,
// concurrency limits and call queue as any other call. Authenticators and authorizers get a session
// each: a flood of logins waiting on a slow authenticator must not use up the pending calls that
// established sessions' authorizations need, nor the other way round.

import { ClientSession, type Payload } from '../client/client-session.js';
import { TRUSTED_ROLE } from '../wamp/roles.js';
import type { SessionFactory } from '../core-boundary.js';
import type { ServicePurpose } from '../router/session.js';

/** How long the router waits for an authenticator or authorizer to answer. */
export const SERVICE_CALL_TIMEOUT_MS = 10_000;

export class ServiceCaller {
  private readonly sessions = new Map<string, Promise<ClientSession>>();

  constructor(private readonly factory: SessionFactory) {}

  call(realm: string, procedure: string, args: unknown[], purpose: ServicePurpose): Promise<Payload> {
    return this.session(realm, purpose).then((s) => s.call(procedure, args, {}, { timeout: SERVICE_CALL_TIMEOUT_MS }));
  }

  private session(realm: string, purpose: ServicePurpose): Promise<ClientSession> {
    const key = `${purpose} ${realm}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = ClientSession.connect(this.factory, { realm, role: TRUSTED_ROLE, authid: 'junction', name: `service-caller:${purpose}`, internal: true });
      // A failed join (realm gone) must not be remembered forever.
      session.catch(() => this.sessions.delete(key));
      this.sessions.set(key, session);
    }
    return session;
  }

  async close(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(sessions.map(async (s) => (await s).close()));
  }
}
