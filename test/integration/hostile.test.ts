// Security tests as a hostile user, against a real node on loopback (WebSocket and RawSocket):
// actions outside a role's permissions, the router's wamp.* namespace, authid spoofing in HELLO, a
// second HELLO, and clients that never finish their opening handshake (slowloris). Each attempt
// must be refused (and, where the router logs it, logged) while other clients keep being served.
// (Replayed WAMP-CRA and cryptosign signatures are tested with those methods.)

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { AuthConfig, PermissionConfig, RealmConfig, RoleConfig, WampServiceConfig } from '../../src/config/types.js';
import { DEFAULT_TRANSPORT_OPTIONS } from '../../src/config/types.js';
import { log } from '../../src/log.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { WsConn, RawConn, tcp, type FuzzConn } from '../helpers/wamp-wire.js';
import { captureStderr } from '../helpers/capture-log.js';

const HELLO = 1, WELCOME = 2, ABORT = 3, CHALLENGE = 4, AUTHENTICATE = 5, ERROR = 8, PUBLISH = 16, PUBLISHED = 17,
  SUBSCRIBE = 32, SUBSCRIBED = 33, EVENT = 36, CALL = 48, RESULT = 50, REGISTER = 64, REGISTERED = 65, INVOCATION = 68, YIELD = 70;
const NOT_AUTHORIZED = 'wamp.error.not_authorized';
const HANDSHAKE_TIMEOUT = 1000;
const ROLES_DETAILS = { caller: {}, callee: {}, publisher: {}, subscriber: {} };

const perm = (uri: string, allow: Partial<PermissionConfig['allow']>, match: PermissionConfig['match'] = 'prefix'): PermissionConfig => ({
  uri, match, cache: true,
  allow: { call: false, register: false, publish: false, subscribe: false, ...allow },
  disclose: { caller: false, publisher: false },
});

/** Trusted back-end: everything under app. */
const SERVICE: RoleConfig = { name: 'service', permissions: [perm('app.', { call: true, register: true, publish: true, subscribe: true })] };
/** What an anonymous or ticket-holding guest may do: only app.public, and call nothing it registers itself. */
const GUEST: RoleConfig = {
  name: 'guest',
  permissions: [
    perm('app.public.', { call: true, publish: true, subscribe: true }),
    perm('wamp.session.count', { call: true }, 'exact'),
  ],
};
/** A role that may do everything, to show that even it cannot act in wamp.*. */
const ROOT: RoleConfig = { name: 'root', permissions: [perm('', { call: true, register: true, publish: true, subscribe: true })] };

const AUTH: AuthConfig = {
  anonymous: { type: 'static', role: 'guest' },
  ticket: {
    type: 'static',
    principals: {
      admin: { ticket: 'admin-secret', role: 'service' },
      alice: { ticket: 'alice-pw', role: 'guest' },
      root: { ticket: 'root-pw', role: 'root' },
    },
  },
};

const svc = (): WampServiceConfig => ({
  serializers: ['json', 'msgpack', 'cbor'],
  options: { ...DEFAULT_TRANSPORT_OPTIONS, openHandshakeTimeout: HANDSHAKE_TIMEOUT },
  auth: AUTH,
});

const realm: RealmConfig = { name: 'realm1', roles: [SERVICE, GUEST, ROOT], store: { type: 'memory', limit: 100, callQueue: [], eventHistory: [] } };

let node: TestNode;
let logs: ReturnType<typeof captureStderr>;

beforeAll(async () => {
  logs = captureStderr(/./);
  log.setLevel('info');
  node = await startTestNode({ realms: [realm], listener: { rawsocket: svc(), websocket: { '/ws': svc() } } });
});

afterAll(async () => {
  await node?.stop();
  logs?.restore();
});

type Transport = 'websocket' | 'rawsocket';

function open(transport: Transport = 'websocket'): Promise<FuzzConn> {
  return transport === 'websocket' ? WsConn.open(node.wsUrl, 'json') : RawConn.open(node.port, 'msgpack');
}

/** Joins with anonymous auth (role guest) or a ticket; resolves with the connection and WELCOME.Details. */
async function join(opts: { authid?: string; ticket?: string; authmethods?: string[]; transport?: Transport } = {}) {
  const c = await open(opts.transport);
  const details: Record<string, unknown> = { roles: ROLES_DETAILS };
  if (opts.authmethods) details['authmethods'] = opts.authmethods;
  else if (opts.ticket !== undefined) details['authmethods'] = ['ticket'];
  if (opts.authid !== undefined) details['authid'] = opts.authid;
  c.sendMessage([HELLO, 'realm1', details]);
  if (opts.ticket !== undefined) {
    const challenge = await c.next((m) => m[0] === CHALLENGE || m[0] === ABORT);
    expect(challenge?.[0], `CHALLENGE for ${opts.authid}`).toBe(CHALLENGE);
    c.sendMessage([AUTHENTICATE, opts.ticket, {}]);
  }
  const welcome = await c.next((m) => m[0] === WELCOME || m[0] === ABORT);
  return { c, welcome };
}

async function joined(opts: Parameters<typeof join>[0] = {}) {
  const { c, welcome } = await join(opts);
  expect(welcome?.[0], `WELCOME for ${JSON.stringify(opts)}: ${JSON.stringify(welcome)}`).toBe(WELCOME);
  const client = new Client(c);
  client.session = welcome![1] as number;
  client.details = welcome![2] as Record<string, unknown>;
  return client;
}

/** A thin WAMP client over a FuzzConn: request/answer, serves procedures by echoing. */
class Client {
  private request = 0;
  session = 0;
  details: Record<string, unknown> = {};
  constructor(readonly c: FuzzConn) {
    c.onMessage = (m) => {
      const msg = m as unknown[];
      if (msg[0] === INVOCATION) c.sendMessage([YIELD, msg[1], {}, ['served']]);
    };
  }
  /** Sends a request and waits for its answer (the reply type or ERROR for it). */
  async ask(type: number, rest: unknown[], reply: number): Promise<unknown[]> {
    const id = ++this.request;
    this.c.sendMessage([type, id, ...rest]);
    const answer = await this.c.next((m) => (m[0] === reply && m[1] === id) || (m[0] === ERROR && m[1] === type && m[2] === id));
    if (!answer) throw new Error(`no answer to ${JSON.stringify([type, id, ...rest])}: ${JSON.stringify(this.c.messages)}`);
    return answer;
  }
  call(procedure: string, args: unknown[] = []) { return this.ask(CALL, [{}, procedure, args], RESULT); }
  register(procedure: string) { return this.ask(REGISTER, [{}, procedure], REGISTERED); }
  subscribe(topic: string, options: Record<string, unknown> = {}) { return this.ask(SUBSCRIBE, [options, topic], SUBSCRIBED); }
  publish(topic: string, kwargs: Record<string, unknown>, options: Record<string, unknown> = {}) {
    return this.ask(PUBLISH, [{ acknowledge: true, ...options }, topic, [], kwargs], PUBLISHED);
  }
  /** PUBLISH without acknowledge: nothing comes back either way. */
  publishQuietly(topic: string, kwargs: Record<string, unknown>) {
    this.c.sendMessage([PUBLISH, ++this.request, {}, topic, [], kwargs]);
  }
  events(): unknown[][] {
    return this.c.messages.filter((m) => (m as unknown[])[0] === EVENT) as unknown[][];
  }
  invocations(): unknown[][] {
    return this.c.messages.filter((m) => (m as unknown[])[0] === INVOCATION) as unknown[][];
  }
  close() { this.c.close(); }
}

const isError = (m: unknown[], uri: string) => m[0] === ERROR && m[4] === uri;

describe('hostile user: actions outside the role', () => {
  for (const transport of ['websocket', 'rawsocket'] as const) {
    it(`${transport}: a guest's call, register, subscribe and publish outside its permissions are refused, and nothing is delivered`, async () => {
      const service = await joined({ authid: 'admin', ticket: 'admin-secret' });
      expect(service.details['authrole']).toBe('service');
      await service.register('app.secret.proc');
      const secretSub = await service.subscribe('app.secret.topic');
      await service.subscribe('app.public.marker');
      const guest = await joined({ transport });
      expect(guest.details['authrole']).toBe('guest');

      // CALL: not_authorized, and the callee never sees an INVOCATION.
      expect(isError(await guest.call('app.secret.proc'), NOT_AUTHORIZED)).toBe(true);
      // REGISTER: not_authorized, and calls to that URI never reach the guest.
      expect(isError(await guest.register('app.public.trap'), NOT_AUTHORIZED)).toBe(true);
      const trap = await service.call('app.public.trap');
      expect(trap[0] === ERROR && trap[4]).toBe('wamp.error.no_such_procedure');
      // SUBSCRIBE: not_authorized, and the guest receives nothing published there later.
      expect(isError(await guest.subscribe('app.secret.topic'), NOT_AUTHORIZED)).toBe(true);
      await service.publish('app.secret.topic', { n: 'secret-from-service' }, { exclude_me: true });
      // PUBLISH with acknowledge: not_authorized; without: no answer at all. Neither reaches the allowed subscriber.
      expect(isError(await guest.publish('app.secret.topic', { n: 'forged-acked' }), NOT_AUTHORIZED)).toBe(true);
      guest.publishQuietly('app.secret.topic', { n: 'forged-quiet' });
      // Events from one publisher reach a subscriber in order across topics: once the guest's next,
      // allowed event is in, the refused ones would have been in before it.
      await guest.subscribe('app.public.marker');
      await guest.publish('app.public.marker', { n: 'marker-from-guest' });
      await service.c.next((m) => m[0] === EVENT && (m[5] as Record<string, unknown>)?.['n'] === 'marker-from-guest');
      await service.publish('app.public.marker', { n: 'marker-from-service' }, { exclude_me: false });
      await guest.c.next((m) => m[0] === EVENT && (m[5] as Record<string, unknown>)?.['n'] === 'marker-from-service');

      const secretEvents = service.events().filter((e) => e[1] === secretSub[2]);
      expect(secretEvents).toEqual([]);
      expect(service.invocations()).toEqual([]);
      expect(guest.invocations()).toEqual([]);
      expect(guest.events().map((e) => (e[5] as Record<string, unknown>)['n'])).toEqual(['marker-from-service']);
      // Each refusal is logged with who tried what.
      for (const what of ["call 'app.secret.proc'", "register 'app.public.trap'", "subscribe to 'app.secret.topic'", "publish to 'app.secret.topic'"]) {
        expect(logs.lines.some((l) => l.includes(`session ${guest.session} `) && l.includes(`role 'guest'`) && l.includes(`may not ${what}`))).toBe(true);
      }
      // Nothing of it was an error of the guest's session: it is still served.
      expect((await guest.call('wamp.session.count'))[0]).toBe(RESULT);
      guest.close();
      service.close();
    });
  }

  it('wamp.* is the router\'s: even a role allowed everything cannot register there or publish there', async () => {
    const root = await joined({ authid: 'root', ticket: 'root-pw' });
    const watcher = await joined({ authid: 'root', ticket: 'root-pw' });
    await watcher.subscribe('wamp.session.on_join');
    for (const uri of ['wamp.session.get', 'wamp.session.kill_all', 'wamp.my.proc', 'wamp.']) {
      const answer = await root.register(uri);
      expect(answer[0], `REGISTER ${uri}: ${JSON.stringify(answer)}`).toBe(ERROR);
      expect(['wamp.error.invalid_uri', NOT_AUTHORIZED, 'wamp.error.procedure_already_exists']).toContain(answer[4]);
    }
    // The meta API still answers, not the would-be impostor.
    const count = await root.call('wamp.session.count');
    expect(count[0]).toBe(RESULT);
    expect(typeof (count[3] as unknown[])[0]).toBe('number');
    expect(root.invocations()).toEqual([]);

    // A forged meta event is refused and never delivered; the real one that follows is.
    const forged = await root.publish('wamp.session.on_join', { forged: true });
    expect(forged[0]).toBe(ERROR);
    expect(['wamp.error.invalid_uri', NOT_AUTHORIZED]).toContain(forged[4]);
    const newcomer = await joined();
    const realOnJoin = await watcher.c.next((m) => m[0] === EVENT && ((m[4] as unknown[])?.[0] as Record<string, unknown>)?.['session'] === newcomer.session);
    expect(realOnJoin).toBeDefined();
    const onJoin = watcher.events();
    expect(onJoin.length).toBeGreaterThan(0);
    expect(onJoin.some((e) => (e[5] as Record<string, unknown> | undefined)?.['forged'] === true)).toBe(false);
    newcomer.close();
    root.close();
    watcher.close();
  });
});

describe('hostile user: authid spoofing', () => {
  // Failed authentications slow down later attempts from the same address (src/auth/throttle.ts):
  // these run on a node of their own, so the other tests' clients on 127.0.0.1 are not held back.
  let main: TestNode;
  beforeAll(async () => {
    main = node;
    node = await startTestNode({ realms: [realm], listener: { rawsocket: svc(), websocket: { '/ws': svc() } } });
  });
  afterAll(async () => {
    await node.stop();
    node = main;
  });

  it('HELLO authid "admin" with a wrong ticket, or with another principal\'s ticket, is aborted, and the refusal logged', async () => {
    for (const ticket of ['wrong', 'alice-pw', '', 'admin-secret\u0000', 'ADMIN-SECRET']) {
      const { c, welcome } = await join({ authid: 'admin', ticket });
      expect(welcome?.[0], `ticket ${JSON.stringify(ticket)}`).toBe(ABORT);
      expect(['wamp.error.not_authorized', 'wamp.error.authentication_failed']).toContain(welcome?.[2]);
      expect(await c.wait(() => c.closed)).toBe(true);
    }
    expect(logs.lines.some((l) => /authentication failed/.test(l) && /admin/.test(l))).toBe(true);
  });

  it('an authid that names an Object.prototype member, with any ticket, is aborted (never an internal error or a hang)', async () => {
    for (const authid of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const { c, welcome } = await join({ authid, ticket: 'x' });
      expect(welcome?.[0], `authid ${authid}: ${JSON.stringify(c.messages)}`).toBe(ABORT);
      expect(await c.wait(() => c.closed)).toBe(true);
    }
    expect(logs.lines.filter((l) => / ERROR /.test(l))).toEqual([]);
  });

});

describe('hostile user: authid spoofing with anonymous auth', () => {
  it('with anonymous auth, the authid a HELLO claims is not granted: the session is anonymous, not "admin"', async () => {
    const spoof = await joined({ authid: 'admin', authmethods: ['anonymous'] });
    expect(spoof.details['authrole']).toBe('guest');
    expect(spoof.details['authmethod']).toBe('anonymous');
    expect(spoof.details['authid']).not.toBe('admin');
    // Nor does the router tell others it is "admin": the meta API and publisher disclosure agree.
    const root = await joined({ authid: 'root', ticket: 'root-pw' });
    const info = await root.call('wamp.session.get', [spoof.session]);
    expect(info[0]).toBe(RESULT);
    expect((info[3] as Record<string, unknown>[])[0]?.['authid']).toBe(spoof.details['authid']);
    expect((info[3] as Record<string, unknown>[])[0]?.['authrole']).toBe('guest');
    root.close();
    const service = await joined({ authid: 'admin', ticket: 'admin-secret' });
    await service.subscribe('app.public.who');
    await spoof.publish('app.public.who', { n: 1 }, { disclose_me: true });
    const event = await service.c.next((m) => m[0] === EVENT);
    expect((event?.[3] as Record<string, unknown>)['publisher_authid']).not.toBe('admin');
    // And it may do only what the guest role may.
    expect(isError(await spoof.register('app.secret.proc2'), NOT_AUTHORIZED)).toBe(true);
    spoof.close();
    service.close();
  });
});

describe('hostile user: protocol abuse', () => {
  for (const transport of ['websocket', 'rawsocket'] as const) {
    it(`${transport}: a second HELLO on an established session is ABORTed (protocol_violation), the session closed and its registrations dropped`, async () => {
      const evil = await joined({ authid: 'admin', ticket: 'admin-secret', transport });
      await evil.register('app.evil.proc');
      evil.c.sendMessage([HELLO, 'realm1', { roles: ROLES_DETAILS, authid: 'root', authmethods: ['anonymous'] }]);
      const abort = await evil.c.next((m) => m[0] === ABORT);
      expect(abort?.[2]).toBe('wamp.error.protocol_violation');
      expect(await evil.c.wait(() => evil.c.closed)).toBe(true);
      expect(evil.c.messages.filter((m) => (m as unknown[])[0] === WELCOME)).toHaveLength(1);
      const other = await joined({ authid: 'admin', ticket: 'admin-secret' });
      const answer = await other.call('app.evil.proc');
      expect(answer[0] === ERROR && answer[4]).toBe('wamp.error.no_such_procedure');
      expect(logs.lines.some((l) => /protocol violation/.test(l) && /HELLO/.test(l))).toBe(true);
      other.close();
    });
  }

  it('AUTHENTICATE without a CHALLENGE, and a call before HELLO, are ABORTed (protocol_violation)', async () => {
    for (const first of [[AUTHENTICATE, 'admin-secret', {}], [CALL, 1, {}, 'app.secret.proc', []], [PUBLISH, 1, {}, 'app.public.x']]) {
      const c = await open();
      c.sendMessage(first);
      const abort = await c.next((m) => m[0] === ABORT);
      expect(abort?.[2], JSON.stringify(first)).toBe('wamp.error.protocol_violation');
      expect(await c.wait(() => c.closed)).toBe(true);
    }
    // Established, then AUTHENTICATE: also a violation.
    const guest = await joined();
    guest.c.sendMessage([AUTHENTICATE, 'x', {}]);
    expect((await guest.c.next((m) => m[0] === ABORT))?.[2]).toBe('wamp.error.protocol_violation');
  });
});

describe('hostile user: slowloris', () => {
  it('connections that never finish their opening handshake are dropped after openHandshakeTimeout; others are served meanwhile', async () => {
    const loris = await Promise.all([
      // Nothing at all.
      ...Array.from({ length: 20 }, async () => ({ kind: 'silent', c: await tcp(node.port) })),
      // RawSocket: the magic byte, then nothing.
      ...Array.from({ length: 20 }, async () => {
        const c = await tcp(node.port);
        c.socket.write(Buffer.from([0x7f]));
        return { kind: 'rawsocket 1 byte', c };
      }),
      // RawSocket: 3 of the 4 handshake bytes.
      ...Array.from({ length: 10 }, async () => {
        const c = await tcp(node.port);
        c.socket.write(Buffer.from([0x7f, 0xf1, 0]));
        return { kind: 'rawsocket 3 bytes', c };
      }),
      // An HTTP upgrade request sent a few bytes at a time, never finished.
      ...Array.from({ length: 20 }, async () => {
        const c = await tcp(node.port);
        const request = 'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Slow: ';
        let i = 0;
        const drip = setInterval(() => {
          if (c.closed()) return clearInterval(drip);
          c.socket.write(i < request.length ? request.slice(i, i + 3) : 'a');
          i += 3;
        }, 100);
        c.socket.on('close', () => clearInterval(drip));
        return { kind: 'slow HTTP upgrade', c };
      }),
      // One complete HTTP request (kept alive), then the next one's headers a byte at a time.
      ...Array.from({ length: 10 }, async () => {
        const c = await tcp(node.port);
        c.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
        const drip = setInterval(() => (c.closed() ? clearInterval(drip) : c.socket.write('a')), 100);
        c.socket.on('close', () => clearInterval(drip));
        return { kind: 'keep-alive, then a slow second request', c };
      }),
    ]);
    // While they hang on, a normal client joins, calls and is answered, on both transports.
    for (const transport of ['websocket', 'rawsocket'] as const) {
      const ok = await joined({ transport });
      expect((await ok.call('wamp.session.count'))[0]).toBe(RESULT);
      ok.close();
    }
    // Every one of them is dropped: long after the timeout at the latest (the bound is loose on purpose).
    const results = await Promise.all(loris.map(async ({ kind, c }) => ({ kind, closed: await c.waitClosed(HANDSHAKE_TIMEOUT + 9000) })));
    expect(results.filter((r) => !r.closed)).toEqual([]);
    // Each drop is logged.
    expect(logs.lines.filter((l) => /no (opening )?handshake within \d+ ms; dropped/.test(l)).length).toBeGreaterThanOrEqual(loris.length);
    // And the router still serves.
    const after = await joined();
    expect((await after.call('wamp.session.count'))[0]).toBe(RESULT);
    after.close();
  }, 30_000);
  it('a transport that is up but never sends HELLO, or never answers the CHALLENGE, is closed after openHandshakeTimeout', async () => {
    const idle = await Promise.all([
      WsConn.open(node.wsUrl, 'json'), RawConn.open(node.port, 'cbor'),
      (async () => {
        const c = await WsConn.open(node.wsUrl, 'json');
        c.sendMessage([HELLO, 'realm1', { roles: ROLES_DETAILS, authmethods: ['ticket'], authid: 'admin' }]);
        return c;
      })(),
    ]);
    const closed = await Promise.all(idle.map((c) => c.wait(() => c.closed, HANDSHAKE_TIMEOUT + 9000)));
    expect(closed).toEqual([true, true, true]);
    // Each was told why before the close.
    for (const c of idle) expect(c.messages.some((m) => Array.isArray(m) && m[0] === ABORT && m[2] === "wamp.error.timeout")).toBe(true);
    expect(logs.lines.filter((l) => /dropped: no (HELLO|AUTHENTICATE) within \d+ ms/.test(l)).length).toBeGreaterThanOrEqual(3);
  }, 20_000);
});
