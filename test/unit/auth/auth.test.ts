// Authentication (ticket, WAMP-CRA, Cryptosign; static and dynamic), dynamic authorization and
// the failed-login throttle, on the router core through in-process wires.

import { describe, it, expect, vi } from 'vitest';
import { log } from '../../../src/log.js';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import type { AuthConfig, RoleConfig } from '../../../src/config/types.js';
import { Router } from '../../../src/router/router.js';
import { InProcessServices } from '../../../src/router-services/in-process-services.js';
import { LocalConnection } from '../../../src/client/local-transport.js';
import { ClientSession, WampError } from '../../../src/client/client-session.js';
import type { WampMessage } from '../../../src/wamp/message.js';
import type { Transport } from '../../../src/core-boundary.js';
import { craDeriveKey } from '../../../src/auth/wampcra.js';
import { FailureThrottle, peerAddress } from '../../../src/auth/throttle.js';
import { allowAll, join, tick } from '../../helpers/core.js';

const ROLES = { caller: {}, callee: {}, publisher: {}, subscriber: {} };

function routerWith(roles: RoleConfig[] = [allowAll(), allowAll('device'), allowAll('admin')]): Router {
  return new Router([{ name: 'realm1', roles, store: { type: 'memory', limit: 100, callQueue: [], eventHistory: [] } }], new InProcessServices());
}

/** A raw in-process wire on a transport with `auth`. */
function wire(router: Router, auth: AuthConfig | undefined, name = 'tcp4:10.0.0.9:4000') {
  const received: WampMessage[] = [];
  let closed = false;
  const conn = new LocalConnection(router, name, {
    onMessage: (m) => received.push(m),
    onClose: () => { closed = true; },
  }, auth ? { auth } : {});
  return {
    received,
    get closed() { return closed; },
    send: (m: unknown) => conn.send(m as WampMessage),
    /** Sends and waits for the next answer (or the close). */
    async ask(m: unknown, waitMs = 2000): Promise<WampMessage | undefined> {
      const before = received.length;
      conn.send(m as WampMessage);
      const deadline = Date.now() + waitMs;
      while (received.length === before && !closed && Date.now() < deadline) await tick(2);
      return received[before];
    },
  };
}

/** A wire whose transport has a network peer string (as RawSocket and WebSocket give), so addresses count. */
function tcpWire(router: Router, auth: AuthConfig, peer: string) {
  const received: WampMessage[] = [];
  let closed = false;
  const transport: Transport = {
    info: { type: 'rawsocket', serializer: 'json', peer },
    send: (m) => { if (!closed) received.push(m as WampMessage); return true; },
    close: () => { if (!closed) { closed = true; queueMicrotask(() => handle.transportClosed()); } },
  };
  const handle = router.openSession(transport, { auth });
  return {
    received,
    get closed() { return closed; },
    send: (m: unknown) => handle.receive(m),
    async ask(m: unknown, waitMs = 2000): Promise<WampMessage | undefined> {
      const before = received.length;
      handle.receive(m);
      const deadline = Date.now() + waitMs;
      while (received.length === before && !closed && Date.now() < deadline) await tick(2);
      return received[before];
    },
  };
}

function ed25519() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pubHex = (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(12).toString('hex');
  return {
    pubHex,
    /** hex(signature || challenge), as Autobahn sends it. */
    sign: (challengeHex: string) => {
      const msg = Buffer.from(challengeHex, 'hex');
      return Buffer.concat([sign(null, msg, privateKey), msg]).toString('hex');
    },
  };
}

const craSign = (key: string, challenge: string) => createHmac('sha256', key).update(challenge).digest('base64');

describe('ticket', () => {
  const auth: AuthConfig = { ticket: { type: 'static', principals: { dev1: { ticket: 's3cret', role: 'device' } } } };

  it('welcomes the right ticket with authid, role, method and provider; refuses wrong ones alike', async () => {
    const router = routerWith();
    const ok = wire(router, auth);
    expect(await ok.ask([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid: 'dev1' }])).toEqual([4, 'ticket', {}]);
    const welcome = await ok.ask([5, 's3cret', {}]);
    expect(welcome?.[0]).toBe(2);
    expect(welcome?.[2]).toMatchObject({ authid: 'dev1', authrole: 'device', authmethod: 'ticket', authprovider: 'static' });

    const answers = [];
    for (const [authid, ticket] of [['dev1', 'wrong'], ['nobody', 's3cret']]) {
      const w = wire(router, auth);
      await w.ask([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid }]);
      answers.push(await w.ask([5, ticket, {}]));
      expect(w.closed).toBe(true);
    }
    // Wrong ticket and unknown authid: the same answer, so neither is revealed.
    expect(answers[0]).toEqual([3, { message: 'authentication failed' }, 'wamp.error.not_authorized']);
    expect(answers[1]).toEqual(answers[0]);
  });

  it('a method the transport does not enable is refused with no_matching_auth_method', async () => {
    const w = wire(routerWith(), auth);
    const abort = await w.ask([1, 'realm1', { roles: ROLES, authmethods: ['anonymous'] }]);
    expect(abort?.[0]).toBe(3);
    expect(abort?.[2]).toBe('wamp.error.no_matching_auth_method');
  });

  it('offered authmethods that are not strings (a dict whose toString is no function) are refused with no_matching_auth_method, not left unanswered', async () => {
    const w = wire(routerWith(), auth);
    const abort = await w.ask([1, 'realm1', { roles: ROLES, authmethods: ['hasOwnProperty', { toString: 'x' }, 7] }]);
    expect(abort?.[0]).toBe(3);
    expect(abort?.[2]).toBe('wamp.error.no_matching_auth_method');
  });
});

describe('WAMP-CRA', () => {
  const derived = craDeriveKey('password', 'salt123', 100, 32);
  const auth: AuthConfig = {
    wampcra: {
      type: 'static',
      users: {
        alice: { secret: 'alice-secret', role: 'admin' },
        bob: { secret: derived, role: 'device', salt: 'salt123', iterations: 100, keylen: 32 },
      },
    },
  };

  it('verifies the HMAC of the challenge, which names the session that will be welcomed', async () => {
    const w = wire(routerWith(), auth);
    const challenge = await w.ask([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid: 'alice' }]);
    expect(challenge?.[1]).toBe('wampcra');
    const text = (challenge![2] as { challenge: string }).challenge;
    const fields = JSON.parse(text);
    expect(fields).toMatchObject({ authid: 'alice', authrole: 'admin', authmethod: 'wampcra', authprovider: 'static' });
    expect(typeof fields.nonce).toBe('string');
    const welcome = await w.ask([5, craSign('alice-secret', text), {}]);
    expect(welcome?.[0]).toBe(2);
    expect(welcome?.[1]).toBe(fields.session);
    expect(welcome?.[2]).toMatchObject({ authid: 'alice', authrole: 'admin', authmethod: 'wampcra' });
  });

  it('salted: sends salt, iterations and keylen; the client signs with the key derived from its password', async () => {
    const w = wire(routerWith(), auth);
    const challenge = await w.ask([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid: 'bob' }]);
    const extra = challenge![2] as { challenge: string; salt: string; iterations: number; keylen: number };
    expect(extra).toMatchObject({ salt: 'salt123', iterations: 100, keylen: 32 });
    const key = craDeriveKey('password', extra.salt, extra.iterations, extra.keylen);
    expect((await w.ask([5, craSign(key, extra.challenge), {}]))?.[0]).toBe(2);
  });

  it('a signature replayed on another session is refused; an unknown authid gets a challenge like a known one', async () => {
    const router = routerWith();
    const first = wire(router, auth);
    const c1 = await first.ask([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid: 'alice' }]);
    const signature = craSign('alice-secret', (c1![2] as { challenge: string }).challenge);
    expect((await first.ask([5, signature, {}]))?.[0]).toBe(2);

    const replay = wire(router, auth);
    await replay.ask([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid: 'alice' }]);
    expect(await replay.ask([5, signature, {}])).toEqual([3, { message: 'authentication failed' }, 'wamp.error.not_authorized']);

    const probe = wire(router, auth);
    const decoy = await probe.ask([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid: 'mallory' }]);
    expect(decoy?.[0]).toBe(4);
    // Salted users exist on this transport, so the unknown authid also gets a salt, the same each time.
    const again = await wire(router, auth).ask([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid: 'mallory' }]);
    expect((decoy![2] as { salt: string }).salt).toBe((again![2] as { salt: string }).salt);
    expect(await probe.ask([5, craSign('anything', (decoy![2] as { challenge: string }).challenge), {}]))
      .toEqual([3, { message: 'authentication failed' }, 'wamp.error.not_authorized']);
  });

  it('issue 19 #7: the challenge for an unknown authid has the same keys as a known one and tells no role', async () => {
    const router = routerWith();
    const challengeOf = async (authid: string) => {
      const w = wire(router, auth);
      const c = await w.ask([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid }]);
      expect(c?.[0], authid).toBe(4);
      const extra = c![2] as Record<string, unknown>;
      return { w, extra, fields: JSON.parse(extra['challenge'] as string) as Record<string, unknown> };
    };
    const known = [await challengeOf('alice'), await challengeOf('bob')];
    const shape = (c: { extra: Record<string, unknown>; fields: Record<string, unknown> }) =>
      `${Object.keys(c.extra).sort().join(',')} | ${Object.keys(c.fields).sort().join(',')}`;
    const knownShapes = new Set(known.map(shape));
    const roles = new Set<unknown>();
    for (let i = 0; i < 40; i++) {
      const c = await challengeOf(`nobody-${i}`);
      expect(knownShapes, shape(c)).toContain(shape(c));
      expect(c.fields['authprovider']).toBe('static');
      roles.add(c.fields['authrole']);
      if (c.extra['salt'] !== undefined) expect(c.extra).toMatchObject({ iterations: 100, keylen: 32 });
      if (i < 3) expect(await c.w.ask([5, craSign('alice-secret', c.extra['challenge'] as string), {}])).toEqual([3, { message: 'authentication failed' }, 'wamp.error.not_authorized']);
    }
    // Roles a real user has, never the tell-tale "anonymous".
    expect([...roles].sort()).toEqual(['admin', 'device']);
  });
});

describe('Cryptosign', () => {
  const device = ed25519();
  const stranger = ed25519();
  const auth: AuthConfig = { cryptosign: { type: 'static', principals: { 'sensor-7': { authorizedKeys: [device.pubHex], role: 'device' } } } };

  it('welcomes the holder of an authorized key as its principal, with or without an authid in HELLO', async () => {
    for (const authid of [undefined, 'sensor-7']) {
      const w = wire(routerWith(), auth);
      const challenge = await w.ask([1, 'realm1', { roles: ROLES, authmethods: ['cryptosign'], ...(authid ? { authid } : {}), authextra: { pubkey: device.pubHex } }]);
      expect(challenge?.[1]).toBe('cryptosign');
      const hex = (challenge![2] as { challenge: string }).challenge;
      expect(hex).toMatch(/^[0-9a-f]{64}$/);
      const welcome = await w.ask([5, device.sign(hex), {}]);
      expect(welcome?.[2]).toMatchObject({ authid: 'sensor-7', authrole: 'device', authmethod: 'cryptosign', authprovider: 'static' });
    }
  });

  it('refuses an unknown key, a key claimed for another authid, a replayed signature and a signature by another key', async () => {
    const router = routerWith();
    const refused = [3, { message: 'authentication failed' }, 'wamp.error.not_authorized'];
    const attempt = async (pubkey: string, authid: string | undefined, signer: (c: string) => string) => {
      const w = wire(router, auth);
      const c = await w.ask([1, 'realm1', { roles: ROLES, authmethods: ['cryptosign'], ...(authid ? { authid } : {}), authextra: { pubkey } }]);
      return w.ask([5, signer((c![2] as { challenge: string }).challenge), {}]);
    };
    expect(await attempt(stranger.pubHex, undefined, stranger.sign)).toEqual(refused);
    expect(await attempt(device.pubHex, 'admin', device.sign)).toEqual(refused);
    expect(await attempt(device.pubHex, undefined, stranger.sign)).toEqual(refused);
    // Replay: a valid signature over an earlier challenge.
    const old = device.sign('00'.repeat(32));
    expect(await attempt(device.pubHex, undefined, () => old)).toEqual(refused);
    // No pubkey at all.
    const w = wire(router, auth);
    const abort = await w.ask([1, 'realm1', { roles: ROLES, authmethods: ['cryptosign'] }]);
    expect(abort?.[2]).toBe('wamp.error.not_authorized');
  });
});

describe('dynamic authentication', () => {
  it('calls the authenticator with (realm, authid, details) and uses the role it returns; its errors refuse', async () => {
    const router = routerWith();
    const service = await join(router, 'admin');
    const seen: unknown[][] = [];
    await service.register('com.example.authenticate', (args) => {
      seen.push(args);
      const [, authid, details] = args as [string, string, { ticket?: string; authmethod: string }];
      if (details.authmethod === 'ticket' && details.ticket === `pw-${authid}`) return { role: 'device', extra: { greeting: 'hi' } };
      if (details.authmethod === 'anonymous') return 'anonymous';
      throw new WampError('wamp.error.not_authorized', ['no']);
    });
    const auth: AuthConfig = {
      ticket: { type: 'dynamic', authenticator: 'com.example.authenticate' },
      anonymous: { type: 'dynamic', authenticator: 'com.example.authenticate' },
    };
    const ok = wire(router, auth);
    await ok.ask([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid: 'd1' }]);
    const welcome = await ok.ask([5, 'pw-d1', {}]);
    expect(welcome?.[2]).toMatchObject({ authid: 'd1', authrole: 'device', authmethod: 'ticket', authprovider: 'dynamic', authextra: { greeting: 'hi' } });
    expect(seen[0]![0]).toBe('realm1');
    expect(seen[0]![1]).toBe('d1');
    expect(seen[0]![2]).toMatchObject({ authmethod: 'ticket', ticket: 'pw-d1', session: welcome![1], transport: { type: 'local' } });

    const bad = wire(router, auth);
    await bad.ask([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid: 'd1' }]);
    expect(await bad.ask([5, 'nope', {}])).toEqual([3, { message: 'authentication failed' }, 'wamp.error.not_authorized']);

    const anon = wire(router, auth);
    expect((await anon.ask([1, 'realm1', { roles: ROLES, authmethods: ['anonymous'] }]))?.[2]).toMatchObject({ authrole: 'anonymous', authprovider: 'dynamic' });
  });

  it('WAMP-CRA and Cryptosign: the authenticator supplies the secret or vouches for the key', async () => {
    const router = routerWith();
    const service = await join(router, 'admin');
    const key = ed25519();
    await service.register('com.example.authenticate', (args) => {
      const [, authid, details] = args as [string, string | null, { authmethod: string; authextra: { pubkey?: string } }];
      if (details.authmethod === 'wampcra' && authid === 'carol') return { secret: 'carol-key', role: 'admin' };
      if (details.authmethod === 'cryptosign' && details.authextra.pubkey === key.pubHex) return { role: 'device', authid: 'board-1', pubkey: key.pubHex };
      throw new WampError('wamp.error.not_authorized');
    });
    const auth: AuthConfig = {
      wampcra: { type: 'dynamic', authenticator: 'com.example.authenticate' },
      cryptosign: { type: 'dynamic', authenticator: 'com.example.authenticate' },
    };
    const cra = wire(router, auth);
    const c = await cra.ask([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid: 'carol' }]);
    expect((await cra.ask([5, craSign('carol-key', (c![2] as { challenge: string }).challenge), {}]))?.[2])
      .toMatchObject({ authid: 'carol', authrole: 'admin', authmethod: 'wampcra', authprovider: 'dynamic' });
    const cs = wire(router, auth);
    const c2 = await cs.ask([1, 'realm1', { roles: ROLES, authmethods: ['cryptosign'], authextra: { pubkey: key.pubHex } }]);
    expect((await cs.ask([5, key.sign((c2![2] as { challenge: string }).challenge), {}]))?.[2])
      .toMatchObject({ authid: 'board-1', authrole: 'device', authmethod: 'cryptosign', authprovider: 'dynamic' });
  });

  it('issue 19 #7: a dynamic Cryptosign authenticator must vouch for the key: a role alone lets no key in', async () => {
    const router = routerWith();
    const service = await join(router, 'admin');
    const [mallory, device, other] = [ed25519(), ed25519(), ed25519()];
    await service.register('com.example.authenticate', (args) => {
      const [, authid] = args as [string, string | null];
      if (authid === 'lazy') return { role: 'admin' }; // vouches for nothing
      if (authid === 'typo') return { role: 'admin', pubkey: other.pubHex };
      if (authid === 'board-2') return { role: 'device', authorized_keys: [other.pubHex, device.pubHex.toUpperCase()] };
      return 'admin'; // a bare role
    });
    const auth: AuthConfig = { cryptosign: { type: 'dynamic', authenticator: 'com.example.authenticate' } };
    const attempt = async (authid: string | undefined, key: ReturnType<typeof ed25519>) => {
      const w = wire(router, auth);
      const c = await w.ask([1, 'realm1', { roles: ROLES, authmethods: ['cryptosign'], authextra: { pubkey: key.pubHex }, ...(authid ? { authid } : {}) }]);
      if (c?.[0] !== 4) return c;
      return w.ask([5, key.sign((c[2] as { challenge: string }).challenge), {}]);
    };
    const refused = [3, { message: 'authentication failed' }, 'wamp.error.not_authorized'];
    expect(await attempt('lazy', mallory)).toEqual(refused);
    expect(await attempt('root', mallory)).toEqual(refused);
    expect(await attempt(undefined, mallory)).toEqual(refused);
    expect(await attempt('typo', mallory)).toEqual(refused);
    expect((await attempt('board-2', device))?.[2]).toMatchObject({ authid: 'board-2', authrole: 'device', authmethod: 'cryptosign' });
  });

  it('issue 19 #7: a dynamic WAMP-CRA authenticator\'s refusal is a challenge like any other, failing at AUTHENTICATE', async () => {
    const router = routerWith();
    const service = await join(router, 'admin');
    await service.register('com.example.authenticate', (args) => {
      if (args[1] === 'carol') return { secret: 'carol-key', role: 'device' };
      throw new WampError('wamp.error.not_authorized');
    });
    const auth: AuthConfig = { wampcra: { type: 'dynamic', authenticator: 'com.example.authenticate' } };
    const known = wire(router, auth);
    const kc = await known.ask([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid: 'carol' }]);
    expect((await known.ask([5, craSign('carol-key', (kc![2] as { challenge: string }).challenge), {}]))?.[0]).toBe(2);
    const probe = wire(router, auth);
    const pc = await probe.ask([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid: 'nobody' }]);
    expect(pc?.[0]).toBe(4);
    const fields = JSON.parse((pc![2] as { challenge: string }).challenge);
    expect(Object.keys(fields).sort()).toEqual(Object.keys(JSON.parse((kc![2] as { challenge: string }).challenge)).sort());
    expect(fields.authrole).toBe('device');
    expect(await probe.ask([5, craSign('carol-key', (pc![2] as { challenge: string }).challenge), {}])).toEqual([3, { message: 'authentication failed' }, 'wamp.error.not_authorized']);
  });

  it('an authenticator that is not registered, or returns a role the realm lacks, refuses and keeps the router up', async () => {
    const router = routerWith();
    const auth: AuthConfig = { anonymous: { type: 'dynamic', authenticator: 'com.example.missing' } };
    const w = wire(router, auth);
    const abort = await w.ask([1, 'realm1', { roles: ROLES, authmethods: ['anonymous'] }]);
    // Not the client's fault: refused as unavailable, and not counted against its address.
    expect(abort).toEqual([3, { message: 'authentication is not available right now; try again later' }, 'wamp.error.authentication_failed']);
    expect(router.authThrottle.failures(peerAddress('tcp4:10.0.0.9:4000'))).toBe(0);
    const service = await join(router, 'admin');
    await service.register('com.example.missing', () => 'ghost');
    const w2 = wire(router, auth);
    expect((await w2.ask([1, 'realm1', { roles: ROLES, authmethods: ['anonymous'] }]))?.[2]).toBe('wamp.error.no_such_role');
    expect(await service.call('wamp.session.count')).toMatchObject({ args: [1] });
  });
});

describe('dynamic authorization', () => {
  const roles: RoleConfig[] = [allowAll('admin'), { name: 'user', permissions: [], authorizer: 'com.example.authorize' }];

  it('asks the authorizer per action, denies what it denies, keeps the order of later messages, and caches on request', async () => {
    const router = routerWith(roles);
    const admin = await join(router, 'admin');
    const asked: string[] = [];
    await admin.register('com.example.authorize', async (args) => {
      const [session, uri, action] = args as [{ authrole: string; session: number }, string, string];
      asked.push(`${action} ${uri}`);
      await tick(5); // an authorizer that takes its time: later messages must wait their turn
      if (uri === 'app.secret') return false;
      if (uri === 'app.cached') return { allow: true, cache: true };
      return { allow: session.authrole === 'user', disclose: true };
    });
    await admin.register('app.echo', (args, _kw, ctx) => [args[0], ctx.details['caller']]);
    await admin.register('app.secret', () => 'leaked');
    await admin.register('app.cached', () => 'ok');
    const user = await join(router, 'user');

    const [echo, secret] = await Promise.allSettled([user.call('app.echo', [1]), user.call('app.secret')]);
    expect(echo).toMatchObject({ status: 'fulfilled', value: { args: [[1, expect.any(Number)]] } }); // disclose: caller shown
    expect(secret).toMatchObject({ status: 'rejected', reason: { uri: 'wamp.error.not_authorized' } });

    // Order: a publish decided slowly is still delivered before the one sent after it.
    const got: unknown[] = [];
    await admin.subscribe('app.news', (args) => got.push(args[0]));
    for (let i = 0; i < 5; i++) user.publish('app.news', [i]);
    await tick(100);
    expect(got).toEqual([0, 1, 2, 3, 4]);

    await user.call('app.cached');
    await user.call('app.cached');
    expect(asked.filter((a) => a === 'call app.cached')).toHaveLength(1);
    expect(asked.filter((a) => a === 'call app.echo')).toHaveLength(1);
  });

  it('an authorizer that fails or is missing denies (not_authorized), and the session keeps working', async () => {
    const router = routerWith(roles);
    const admin = await join(router, 'admin');
    await admin.register('app.echo', (args) => args[0]);
    const user = await join(router, 'user');
    await expect(user.call('app.echo', [1])).rejects.toMatchObject({ uri: 'wamp.error.not_authorized' });
    await admin.register('com.example.authorize', (args) => {
      if ((args[1] as string) === 'app.echo') throw new Error('boom');
      return 'yes'; // neither bool nor dict
    });
    await expect(user.call('app.echo', [1])).rejects.toMatchObject({ uri: 'wamp.error.not_authorized' });
    await expect(user.subscribe('app.x', () => {})).rejects.toMatchObject({ uri: 'wamp.error.not_authorized' });
  });
});

describe('failed-login throttle', () => {
  it('spaces out attempts from an address after five failures, doubling, refuses beyond a minute, forgets after ten minutes', () => {
    let now = 1_000_000;
    const t = new FailureThrottle(() => now);
    const a = 'tcp4:10.0.0.9';
    for (let i = 0; i < 5; i++) {
      expect(t.admit(a)).toBe(0);
      t.failed(a);
    }
    expect(t.admit(a)).toBe(0); // first slot now; the next one 250 ms later
    expect(t.admit(a)).toBe(250);
    expect(t.admit(a)).toBe(500);
    expect(t.admit('tcp4:10.0.0.10')).toBe(0); // another address is not affected
    for (let i = 0; i < 10; i++) t.failed(a);
    let refused = false;
    for (let i = 0; i < 10 && !refused; i++) refused = t.admit(a) < 0;
    expect(refused).toBe(true);
    now += 10 * 60_000 + 1;
    expect(t.admit(a)).toBe(0);
    expect(peerAddress('tcp4:127.0.0.1:5555')).toBe('tcp4:127.0.0.1');
    expect(peerAddress('tcp6:::1:5555')).toBe('tcp6:::1');
  });

  it('a client that keeps failing is slowed down by the router', async () => {
    const router = routerWith();
    const auth: AuthConfig = { ticket: { type: 'static', principals: { dev1: { ticket: 's3cret', role: 'device' } } } };
    const attempt = async () => {
      const w = wire(router, auth);
      const started = Date.now();
      await w.ask([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid: 'dev1' }], 5000);
      await w.ask([5, 'guess', {}]);
      return Date.now() - started;
    };
    for (let i = 0; i < 5; i++) await attempt();
    // Two guesses at once from the same address: the second waits for its slot.
    const [a, b] = await Promise.all([attempt(), attempt()]);
    expect(Math.max(a, b)).toBeGreaterThanOrEqual(240);
  });
});

describe('pattern authorization', () => {
  const perm = (uri: string, match: 'exact' | 'prefix' | 'wildcard', allow: { subscribe?: boolean; register?: boolean; call?: boolean; publish?: boolean }) => ({
    uri, match, cache: true,
    allow: { call: false, register: false, publish: false, subscribe: false, ...allow },
    disclose: { caller: false, publisher: false },
  });
  const roles: RoleConfig[] = [
    allowAll('admin'),
    { name: 'reader', permissions: [perm('public.news', 'exact', { subscribe: true })] },
    { name: 'echo-only', permissions: [perm('svc.sensor.echo', 'exact', { register: true })] },
    { name: 'sensor-svc', permissions: [perm('svc.', 'prefix', {}), perm('svc.sensor.', 'prefix', { register: true, subscribe: true })] },
    { name: 'app', permissions: [perm('app.', 'prefix', { subscribe: true, register: true }), perm('app.secret', 'exact', {}), perm('app.internal.', 'prefix', {})] },
  ];
  const refused = { uri: 'wamp.error.not_authorized' };

  it('issue 19 #6: a prefix subscription is refused when the role allows only the exact URI', async () => {
    const router = routerWith(roles);
    const [reader, admin] = await Promise.all([join(router, 'reader'), join(router, 'admin')]);
    const got: string[] = [];
    await reader.subscribe('public.news', (_a, _k, d) => got.push(String(d['topic'] ?? 'public.news')));
    await expect(reader.subscribe('public.news', () => got.push('leak'), { match: 'prefix' })).rejects.toMatchObject(refused);
    await expect(reader.subscribe('public.', () => got.push('leak'), { match: 'wildcard' })).rejects.toMatchObject(refused);
    await expect(reader.subscribe('.news', () => got.push('leak'), { match: 'wildcard' })).rejects.toMatchObject(refused);
    // A wildcard without an empty component is that one URI.
    await reader.subscribe('public.news', () => {}, { match: 'wildcard' });
    await admin.publish('public.news.internal', ['secret'], {}, { acknowledge: true });
    await admin.publish('public.news', ['hello'], {}, { acknowledge: true });
    await tick(5);
    expect(got).toEqual(['public.news']);
  });

  it('issue 19 #6: an exact register permission does not register a prefix that captures other procedures; a prefix permission does', async () => {
    const router = routerWith(roles);
    const [echo, svc, admin] = await Promise.all([join(router, 'echo-only'), join(router, 'sensor-svc'), join(router, 'admin')]);
    await expect(echo.register('svc.sensor.echo', () => 'forged', { match: 'prefix' })).rejects.toMatchObject(refused);
    await expect(echo.register('svc.sensor.', () => 'forged', { match: 'wildcard' })).rejects.toMatchObject(refused);
    await echo.register('svc.sensor.echo', (args) => args[0]);
    await admin.register('svc.sensor.echo_admin_reset', () => 'reset done');
    expect((await admin.call('svc.sensor.echo_admin_reset')).args).toEqual(['reset done']);
    // The permission on the prefix `svc.sensor.` covers any pattern inside it (the broader `svc.`
    // denial never applies there: the longer prefix always wins), as Crossbar allows.
    await svc.register('svc.sensor.temp', () => 't', { match: 'prefix' });
    await svc.register('svc.sensor..reset', () => 'r', { match: 'wildcard' });
    await svc.subscribe('svc.sensor.', () => {}, { match: 'prefix' });
    await expect(svc.register('svc.', () => 'x', { match: 'prefix' })).rejects.toMatchObject(refused);
    await expect(svc.register('svc..reset', () => 'x', { match: 'wildcard' })).rejects.toMatchObject(refused);
  });

  it('issue 19 #6: a subscription pattern over a narrower denial gets only the topics the role may subscribe to; a registration pattern over one is refused', async () => {
    const router = routerWith(roles);
    const [app, admin] = await Promise.all([join(router, 'app'), join(router, 'admin')]);
    // Subscriptions: allowed (Crossbar's answer, kept because it is made safe), filtered per topic.
    const got: string[] = [];
    const record = (_a: unknown[], _k: unknown, d: Record<string, unknown>) => got.push(String(d['topic']));
    await app.subscribe('app.', record, { match: 'prefix' });
    await app.subscribe('app..status', record, { match: 'wildcard' });
    for (const topic of ['app.secret', 'app.internal.status', 'app.internal.x', 'app.x.status', 'app.news']) {
      await admin.publish(topic, [topic], {}, { acknowledge: true, retain: true });
    }
    await tick(5);
    expect(got.sort()).toEqual(['app.news', 'app.x.status', 'app.x.status']);
    // Retained events follow the same rule.
    const retained: string[] = [];
    await app.subscribe('app.', (_a, _k, d) => retained.push(String(d['topic'])), { match: 'prefix', get_retained: true });
    await tick(5);
    expect(retained.sort()).toEqual(['app.news', 'app.x.status']);
    await expect(app.subscribe('app.secret', () => {})).rejects.toMatchObject(refused);
    // Registrations: a pattern that would answer calls to app.secret or app.internal.* is refused.
    await expect(app.register('app.', () => 'x', { match: 'prefix' })).rejects.toMatchObject(refused);
    await expect(app.register('app.int', () => 'x', { match: 'prefix' })).rejects.toMatchObject(refused);
    await expect(app.register('app..status', () => 'x', { match: 'wildcard' })).rejects.toMatchObject(refused);
    await expect(app.register('app...status', () => 'x', { match: 'wildcard' })).rejects.toMatchObject(refused); // app.internal.x.status
    await app.register('app.pub', () => 'x', { match: 'prefix' });
    await app.register('app.public.', () => 'x', { match: 'wildcard' });
  });

  it("issue 19 #6: the dashboard's built-in roles still subscribe to everything the page subscribes to for them", async () => {
    const { dashboardRole, monitorRole } = await import('../../../src/config/load.js');
    const router = routerWith([allowAll('admin'), dashboardRole(), monitorRole()]);
    const [dash, monitor] = await Promise.all([join(router, 'dashboard'), join(router, 'monitor')]);
    // As src/web/dashboard.js subscribes (start()); the page takes a refusal as "fewer events".
    const page: Array<[string, Record<string, unknown>]> = [
      ['wamp.', { match: 'prefix' }],
      ['junction.registration.', { match: 'prefix' }],
      ['junction.session.', { match: 'prefix' }],
      ['junction.bridge.mqtt.on_state', {}],
      ['junction.serial..on_change', { match: 'wildcard', get_retained: true }],
      ['junction.board..load', { match: 'wildcard', get_retained: true }],
    ];
    const received = { dashboard: [] as string[], monitor: [] as string[] };
    const subscribeAsPage = (s: typeof dash, got: string[]) => Promise.all(page.map(([uri, options]) =>
      s.subscribe(uri, (_a, _k, d) => got.push(String(d['topic'] ?? uri)), options).then(() => uri, (err: WampError) => `${uri}: ${err.uri}`)));
    // The operator's role gets every one of them, meta events included (src/config/dashboard-roles.ts);
    // the anonymous visitor's only the bridges' and the board's state: no meta events, which carry
    // authids, roles and URIs (issue 19 #10).
    expect(await subscribeAsPage(monitor, received.monitor)).toEqual(page.map(([uri]) => uri));
    expect(await subscribeAsPage(dash, received.dashboard)).toEqual([
      'wamp.: wamp.error.not_authorized',
      'junction.registration.: wamp.error.not_authorized',
      'junction.session.: wamp.error.not_authorized',
      'junction.bridge.mqtt.on_state', 'junction.serial..on_change', 'junction.board..load',
    ]);
    // Nor anything wider than what the roles allow.
    for (const s of [dash, monitor]) {
      await expect(s.subscribe('junction.', () => {}, { match: 'prefix' })).rejects.toMatchObject(refused);
      await expect(s.subscribe('', () => {}, { match: 'prefix' })).rejects.toMatchObject(refused);
    }
    // The events arrive: a session joining (meta) and the board's load (published by the router's
    // own telemetry session, as src/board/telemetry.ts does).
    const telemetry = await ClientSession.connect(router, { realm: 'realm1', role: 'trusted', authid: 'junction-telemetry', privileged: true });
    await join(router, 'admin', 'newcomer');
    await telemetry.publish('junction.board.pi.load', [{ cpu: 0.5 }], {}, { acknowledge: true });
    await tick(5);
    expect(received.monitor).toContain('wamp.session.on_join');
    expect(received.monitor).toContain('junction.board.pi.load');
    expect(received.dashboard).toEqual(['junction.board.pi.load']);
  });

  it('issue 19 #6: a dynamic authorizer is told the match policy and its cached decisions are kept per policy', async () => {
    const router = routerWith([allowAll('admin'), { name: 'user', permissions: [], authorizer: 'com.example.authorize' }]);
    const admin = await join(router, 'admin');
    const asked: unknown[] = [];
    await admin.register('com.example.authorize', (args) => {
      const [, uri, action, options] = args as [unknown, string, string, Record<string, unknown>];
      asked.push([action, uri, options['match']]);
      return { allow: options['match'] === 'exact', cache: true };
    });
    const user = await join(router, 'user');
    await user.subscribe('public.news', () => {});
    await expect(user.subscribe('public.news', () => {}, { match: 'prefix' })).rejects.toMatchObject(refused);
    await expect(user.register('svc.sensor.echo', () => 1, { match: 'wildcard' })).rejects.toMatchObject(refused);
    await user.register('svc.sensor.echo', () => 1);
    expect(asked).toEqual([
      ['subscribe', 'public.news', 'exact'], ['subscribe', 'public.news', 'prefix'],
      ['register', 'svc.sensor.echo', 'wildcard'], ['register', 'svc.sensor.echo', 'exact'],
    ]);
  });
});

describe('authentication under a flood', () => {
  it('issue 19 #8: a correct login succeeds while 1,500 HELLOs from another address wait on a slow authenticator', async () => {
    const router = routerWith();
    const service = await join(router, 'admin');
    let release!: () => void;
    const slow = new Promise<void>((r) => { release = r; });
    let asked = 0;
    await service.register('com.example.authenticate', async (args) => {
      asked++;
      if (args[1] === 'alice') return { secret: 'alice-key', role: 'device' };
      await slow; // the flood's answers take as long as the test wants
      throw new WampError('wamp.error.not_authorized');
    });
    const auth: AuthConfig = { wampcra: { type: 'dynamic', authenticator: 'com.example.authenticate' } };
    const warnings: string[] = [];
    const spy = vi.spyOn(log, 'warn').mockImplementation((m: string) => { warnings.push(m); });
    try {
      const flood = Array.from({ length: 1500 }, (_, i) => {
        const w = tcpWire(router, auth, `tcp4:10.0.0.66:${10_000 + i}`);
        w.send([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid: `mallory-${i}` }]);
        return w;
      });
      await tick(20);
      const alice = tcpWire(router, auth, 'tcp4:10.0.0.7:5000');
      const c = await alice.ask([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid: 'alice' }]);
      expect(c?.[0], JSON.stringify(c)).toBe(4);
      const welcome = await alice.ask([5, craSign('alice-key', (c![2] as { challenge: string }).challenge), {}]);
      expect(welcome?.[2]).toMatchObject({ authid: 'alice', authrole: 'device' });
      // The flood's excess was turned away at once, with the reason logged, and asked nobody.
      const turnedAway = flood.filter((w) => w.closed).length;
      expect(turnedAway).toBeGreaterThan(1400);
      expect(asked).toBeLessThan(40);
      expect(warnings.some((m) => m.includes('tcp4:10.0.0.66') && m.includes('authentications from this address are waiting'))).toBe(true);
      expect(warnings.length).toBeLessThan(30); // logged, not flooded: 20 lines per 10 s, then a count
      // Nothing was counted against either address: nobody got a credential wrong.
      expect(router.authThrottle.failures('tcp4:10.0.0.7')).toBe(0);
      expect(router.authThrottle.failures('tcp4:10.0.0.66')).toBe(0);
      expect(router.authGate.stats().running).toBeLessThanOrEqual(4);
    } finally {
      spy.mockRestore();
      release();
    }
  });

  it('issue 19 #8: a correct login from the flood\'s own address (NAT, loopback) gets through once the burst\'s first answers are in', async () => {
    const router = routerWith();
    const service = await join(router, 'admin');
    let asked = 0;
    await service.register('com.example.authenticate', async (args) => {
      asked++;
      if (args[1] === 'alice') return { secret: 'alice-key', role: 'device' };
      await tick(300); // slow for everyone else
      throw new WampError('wamp.error.not_authorized');
    });
    const auth: AuthConfig = { wampcra: { type: 'dynamic', authenticator: 'com.example.authenticate' } };
    const spy = vi.spyOn(log, 'warn').mockImplementation(() => {});
    try {
      for (let i = 0; i < 1500; i++) tcpWire(router, auth, `tcp4:127.0.0.1:${20_000 + i}`).send([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid: `mallory-${i}` }]);
      await tick(20);
      const alice = tcpWire(router, auth, 'tcp4:127.0.0.1:5000');
      const c = await alice.ask([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid: 'alice' }], 5000);
      expect(c?.[0], JSON.stringify(c)).toBe(4);
      const welcome = await alice.ask([5, craSign('alice-key', (c![2] as { challenge: string }).challenge), {}]);
      expect(welcome?.[2]).toMatchObject({ authid: 'alice', authrole: 'device' });
      expect(asked).toBeLessThan(10); // the 4 first of the burst, then alice
      expect(router.authThrottle.failures('tcp4:127.0.0.1')).toBe(0);
    } finally {
      spy.mockRestore();
    }
  });

  it('issue 19 #8: waiting attempts are served round-robin across addresses, within the per-address and total bounds', async () => {
    const { AuthenticationGate } = await import('../../../src/auth/auth-gate.js');
    const gate = new AuthenticationGate({ perAddress: 1, total: 2, queuedPerAddress: 2, queuedTotal: 5 });
    const order: string[] = [];
    const finishers: Array<() => void> = [];
    const job = (name: string) => () => new Promise<string>((r) => { order.push(name); finishers.push(() => r(name)); });
    const results = [
      ...['a1', 'a2', 'a3', 'a4'].map((n) => gate.run('A', job(n)).catch((e: Error) => `refused ${n}: ${e.message}`)),
      ...['b1', 'b2'].map((n) => gate.run('B', job(n)).catch((e: Error) => `refused ${n}: ${e.message}`)),
      gate.run('C', job('c1')).catch((e: Error) => `refused c1: ${e.message}`),
    ];
    await tick(1);
    expect(order).toEqual(['a1', 'b1']);
    while (finishers.length > 0) { finishers.shift()!(); await tick(1); }
    // A's queue holds 2: its fourth attempt makes it give up its oldest waiter (a2). A's burst does
    // not delay B and C (turns go round the addresses), and within A the newest goes first.
    expect(await Promise.all(results)).toEqual(['a1', 'refused a2: given up for newer attempts: 2 authentications from this address are waiting', 'a3', 'a4', 'b1', 'b2', 'c1']);
    expect(order).toEqual(['a1', 'b1', 'a4', 'b2', 'c1', 'a3']);
    expect(gate.stats()).toEqual({ running: 0, waiting: 0 });
  });
});

describe('pattern authorization: soundness over a small URI universe', () => {
  it('issue 19 #6: whenever a pattern is allowed, every URI it matches is allowed on its own (random roles and patterns)', async () => {
    const { Authorizer } = await import('../../../src/auth/authorizer.js');
    const { uriMatches } = await import('../../../src/wamp/uri.js');
    // Every URI of 1 to 4 components from a small alphabet; 'ab' makes string prefixes cross components.
    const parts = ['a', 'b', 'ab'];
    const universe: string[] = [];
    const grow = (prefix: string[]) => {
      if (prefix.length > 0) universe.push(prefix.join('.'));
      if (prefix.length < 4) for (const p of parts) grow([...prefix, p]);
    };
    grow([]);
    let seed = 12345;
    const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
    const pick = <T>(xs: readonly T[]) => xs[rand(xs.length)]!;
    const randomPattern = (): { uri: string; match: 'exact' | 'prefix' | 'wildcard' } => {
      const match = pick(['exact', 'prefix', 'wildcard'] as const);
      const n = 1 + rand(4);
      const comps = Array.from({ length: n }, () => (match === 'wildcard' && rand(3) === 0 ? '' : pick(parts)));
      let uri = comps.join('.');
      if (match === 'prefix' && rand(3) === 0) uri += '.';
      if (match === 'prefix' && rand(4) === 0) uri = uri.slice(0, Math.max(0, uri.length - 1));
      return { uri, match };
    };
    let allowedPatterns = 0;
    for (let round = 0; round < 150; round++) {
      const permissions = Array.from({ length: 1 + rand(5) }, () => {
        const p = randomPattern();
        return { ...p, cache: true, allow: { call: false, register: rand(2) === 0, publish: false, subscribe: rand(2) === 0 }, disclose: { caller: false, publisher: false } };
      });
      const authorizer = new Authorizer([{ name: 'r', permissions }]);
      for (let q = 0; q < 30; q++) {
        const pattern = randomPattern();
        if (pattern.match === 'exact' && pattern.uri === '') continue;
        for (const action of ['subscribe', 'register'] as const) {
          const decision = authorizer.authorize('r', action, pattern.uri, pattern.match);
          if (!decision.allow) continue;
          allowedPatterns++;
          for (const uri of universe) {
            if (!uriMatches(pattern.uri, pattern.match, uri)) continue;
            const alone = authorizer.authorize('r', action, uri).allow;
            // A partial subscription is filtered per topic; anything else must hold for every URI.
            if (!(action === 'subscribe' && decision.partial)) {
              expect(alone, `${action} ${pattern.match} '${pattern.uri}' allowed, but not '${uri}' (permissions ${JSON.stringify(permissions.map((p) => [p.uri, p.match, p.allow[action]]))})`).toBe(true);
            }
          }
        }
      }
    }
    expect(allowedPatterns).toBeGreaterThan(250);
  });
});

describe('Authorizer.decide: every PUBLISH, CALL, SUBSCRIBE and REGISTER is decided in one place', () => {
  const requester = (authrole: string, answers: unknown[] = []) => {
    const asked: unknown[][] = [];
    return {
      asked,
      id: 7, authid: 'alice', authrole, authmethod: 'ticket', authprovider: 'static',
      transport: { info: { type: 'websocket', peer: 'tcp4:10.0.0.9:4000' } },
      callAuthorizer: async (procedure: string, args: unknown[]) => { asked.push([procedure, ...args]); return answers.shift(); },
    };
  };

  it('a URI the realm does not accept is INVALID_URI for any role, and no authorizer procedure is asked', async () => {
    const { Authorizer, INVALID_URI } = await import('../../../src/auth/authorizer.js');
    const authorizer = new Authorizer([allowAll(), { name: 'user', permissions: [], authorizer: 'com.example.authorize' }]);
    const user = requester('user');
    expect(authorizer.decide(requester('anonymous'), 'call', 'a..b', {}, 'loose')).toBe(INVALID_URI);
    expect(authorizer.decide(user, 'subscribe', 'a.#', { match: 'prefix' }, 'loose')).toBe(INVALID_URI);
    expect(authorizer.decide(user, 'publish', 'A.b', {}, 'strict')).toBe(INVALID_URI);
    expect(user.asked).toEqual([]);
  });

  it('a static role is answered at once; a dynamic role by its procedure, told the session and the match policy', async () => {
    const { Authorizer } = await import('../../../src/auth/authorizer.js');
    const authorizer = new Authorizer([allowAll(), { name: 'user', permissions: [], authorizer: 'com.example.authorize' }]);
    expect(authorizer.decide(requester('anonymous'), 'call', 'com.x', {}, 'loose')).toMatchObject({ allow: true });
    expect(authorizer.decide(requester('nobody'), 'call', 'com.x', {}, 'loose')).toMatchObject({ allow: false });
    const user = requester('user', [{ allow: true, disclose: true }]);
    const decision = authorizer.decide(user, 'subscribe', 'com.', { match: 'prefix', get_retained: true }, 'loose');
    expect(decision).toBeInstanceOf(Promise);
    expect(await decision).toMatchObject({ allow: true, disclose: true });
    expect(user.asked).toEqual([['com.example.authorize',
      { session: 7, authid: 'alice', authrole: 'user', authmethod: 'ticket', authprovider: 'static', transport: { type: 'websocket', peer: 'tcp4:10.0.0.9:4000' } },
      'com.', 'subscribe', { match: 'prefix', get_retained: true }]]);
  });
});
