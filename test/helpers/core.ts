// Helpers for core tests: a router with no sockets, joined by in-process sessions.

import type { CallQueueConfig, RealmConfig, RoleConfig } from '../../src/config/types.js';
import { Router } from '../../src/router/router.js';
import { InProcessServices } from '../../src/router-services/in-process-services.js';
import { ClientSession } from '../../src/client/client-session.js';
import { LocalConnection } from '../../src/client/local-transport.js';
import type { WampMessage } from '../../src/wamp/message.js';

export const allowAll = (name = 'anonymous'): RoleConfig => ({
  name,
  permissions: [{
    uri: '', match: 'prefix', cache: true,
    allow: { call: true, register: true, publish: true, subscribe: true },
    disclose: { caller: false, publisher: false },
  }],
});

export function makeRouter(opts: { roles?: RoleConfig[]; callQueue?: CallQueueConfig[]; wire?: RealmConfig['wire'] } = {}): Router {
  const realm: RealmConfig = {
    name: 'realm1',
    wire: opts.wire,
    roles: opts.roles ?? [allowAll()],
    store: { type: 'memory', limit: 100, callQueue: opts.callQueue ?? [], eventHistory: [] },
  };
  return new Router([realm], new InProcessServices());
}

export async function join(router: Router, role = 'anonymous', authid?: string): Promise<ClientSession> {
  await router.ready;
  return ClientSession.connect(router, { realm: 'realm1', role, authid });
}

export const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** A raw in-process wire: send any message, read what the router answers. */
export function rawWire(router: Router) {
  const received: WampMessage[] = [];
  let closed = false;
  const waiters: Array<() => void> = [];
  const conn = new LocalConnection(router, 'raw', {
    onMessage: (m) => { received.push(m); waiters.splice(0).forEach((w) => w()); },
    onClose: () => { closed = true; waiters.splice(0).forEach((w) => w()); },
  });
  return {
    received,
    get closed() { return closed; },
    send: (m: unknown) => conn.send(m as WampMessage),
    /** Waits until `n` messages have arrived (or the wire closed). */
    async next(n = received.length + 1): Promise<WampMessage | undefined> {
      const deadline = Date.now() + 2000;
      while (received.length < n && !closed && Date.now() < deadline) {
        await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 50); });
      }
      return received[n - 1];
    },
  };
}

export const HELLO_ALL = { roles: { caller: {}, callee: {}, publisher: {}, subscriber: {} } };
