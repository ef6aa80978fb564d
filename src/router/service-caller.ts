// Calls the router makes to procedures that clients provide: dynamic authenticators and
// authorizers. The router joins each realm it needs as an ordinary in-process session (role
// 'trusted', internal, hidden from the meta API), so these calls go through the same dealer,
// concurrency limits and call queue as any other call.

import { ClientSession, type Payload } from '../client/session.js';
import { TRUSTED_ROLE } from '../auth/authorizer.js';
import type { SessionFactory } from './transport.js';

/** How long the router waits for an authenticator or authorizer to answer. */
export const SERVICE_CALL_TIMEOUT_MS = 10_000;

export class ServiceCaller {
  private readonly sessions = new Map<string, Promise<ClientSession>>();

  constructor(private readonly factory: SessionFactory) {}

  call(realm: string, procedure: string, args: unknown[]): Promise<Payload> {
    return this.session(realm).then((s) => s.call(procedure, args, {}, { timeout: SERVICE_CALL_TIMEOUT_MS }));
  }

  private session(realm: string): Promise<ClientSession> {
    let session = this.sessions.get(realm);
    if (!session) {
      session = ClientSession.connect(this.factory, { realm, role: TRUSTED_ROLE, authid: 'junction', name: 'service-caller', internal: true });
      // A failed join (realm gone) must not be remembered forever.
      session.catch(() => this.sessions.delete(realm));
      this.sessions.set(realm, session);
    }
    return session;
  }

  async close(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(sessions.map(async (s) => (await s).close()));
  }
}
