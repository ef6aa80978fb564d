// Crossbar router keys Junction once refused although they are harmless or easy: endpoint
// `portrange` and `user_timeout`, the `flatbuffers` serializer, the `*-proxy` authentication
// methods, the testee transports and the `cfxdb` store. What the loader makes of each, and its
// warnings and errors by key path.
import { describe, it, expect } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { errorsOf, routerWithTransport } from '../../helpers/config.js';

type Raw = any; // documents are built loosely and broken on purpose
const T0 = 'workers[0].transports[0]';

function warningsOf(raw: unknown): Record<string, string> {
  return Object.fromEntries((parseConfig(raw).warnings ?? []).map((w) => [w.path, w.message]));
}

function websocket(endpoint: object, extra: object = {}): Raw {
  return routerWithTransport({ type: 'websocket', endpoint, ...extra });
}

describe('endpoint portrange', () => {
  it('is read as a range of ports (both ends included); the listener takes the first free one at start', () => {
    const config = parseConfig(websocket({ type: 'tcp', portrange: [8080, 8089], interface: '127.0.0.1' }));
    expect(config.warnings).toBeUndefined();
    expect(config.router.listeners[0]!.endpoint).toEqual({
      type: 'tcp', port: 0, interface: '127.0.0.1',
      portRange: { first: 8080, last: 8089, path: `${T0}.endpoint.portrange` },
    });
  });

  it('two transports with overlapping ranges do not clash (each takes a free port)', () => {
    const raw = websocket({ type: 'tcp', portrange: [8080, 8081] });
    raw.workers[0].transports.push({ type: 'rawsocket', endpoint: { type: 'tcp', portrange: [8080, 8081] } });
    expect(errorsOf(raw)).toEqual({});
  });

  it('bad ranges, and port beside portrange, are errors by key path', () => {
    const e = `${T0}.endpoint`;
    expect(errorsOf(websocket({ type: 'tcp', port: 8080, portrange: [8080, 8081] }))).toEqual({
      [`${e}.portrange`]: 'give either port or portrange, not both',
    });
    expect(errorsOf(websocket({ type: 'tcp', portrange: [8081, 8080] }))).toEqual({
      [`${e}.portrange`]: 'the last port (8080) must not be below the first (8081)',
    });
    expect(errorsOf(websocket({ type: 'tcp', portrange: [8080] }))).toEqual({
      [`${e}.portrange`]: 'must be a pair of ports [first, last], got [8080]',
    });
    expect(errorsOf(websocket({ type: 'tcp', portrange: [0, 70000] }))).toEqual({
      [`${e}.portrange[0]`]: 'must be between 1 and 65535, got 0',
      [`${e}.portrange[1]`]: 'must be between 1 and 65535, got 70000',
    });
    expect(errorsOf(websocket({ type: 'tcp' }))).toEqual({ [`${e}.port`]: 'is required' });
  });
});

describe('endpoint user_timeout', () => {
  it('is accepted with one warning naming what finds dead peers instead', () => {
    const config = parseConfig(websocket({ type: 'tcp', port: 8080, user_timeout: 10000 }));
    expect(config.warnings).toEqual([{
      path: `${T0}.endpoint.user_timeout`,
      message: "Node.js cannot set TCP_USER_TIMEOUT: ignored. Junction finds dead peers with the transport's options.auto_ping_interval and options.auto_ping_timeout (WebSocket and RawSocket; MQTT clients by their keep-alive)",
    }]);
  });

  it('a bad value is an error by key path (Crossbar: a whole number 0..65535)', () => {
    expect(errorsOf(websocket({ type: 'tcp', port: 8080, user_timeout: 70000 }))).toEqual({
      [`${T0}.endpoint.user_timeout`]: 'must be between 0 and 65535, got 70000',
    });
    expect(errorsOf(websocket({ type: 'tcp', port: 8080, user_timeout: '10s' }))).toEqual({
      [`${T0}.endpoint.user_timeout`]: 'must be a whole number, got "10s"',
    });
  });
});

describe('serializer flatbuffers', () => {
  it('beside other serializers: one warning, and the transport offers the others', () => {
    const raw = routerWithTransport({ type: 'rawsocket', endpoint: { type: 'tcp', port: 8080 }, serializers: ['cbor', 'flatbuffers', 'json'] });
    const config = parseConfig(raw);
    expect(config.warnings).toEqual([{
      path: `${T0}.serializers[1]`,
      message: 'serializer "flatbuffers" is not offered by Junction (no FlatBuffers schema for WAMP messages here): this transport offers cbor, json',
    }]);
    expect(config.router.listeners[0]!.rawsocket!.serializers).toEqual(['cbor', 'json']);
  });

  it('alone: an error naming the key', () => {
    expect(errorsOf(websocket({ type: 'tcp', port: 8080 }, { serializers: ['flatbuffers'] }))).toEqual({
      [`${T0}.serializers[0]`]: 'serializer "flatbuffers" is not supported by Junction, and the transport lists no other: add one of json, msgpack, cbor, ubjson',
    });
  });
});

describe('auth methods anonymous-proxy and cryptosign-proxy', () => {
  it('are accepted with one warning each and not offered; the other methods stay', () => {
    const raw = websocket({ type: 'tcp', port: 8080 }, {
      auth: {
        'anonymous-proxy': { type: 'static', role: 'anonymous' },
        'cryptosign-proxy': { type: 'dynamic', authenticator: 'com.example.auth' },
        ticket: { type: 'static', principals: { dev: { ticket: 'secret', role: 'anonymous' } } },
      },
    });
    const config = parseConfig(raw);
    const a = `${T0}.auth`;
    expect(config.warnings).toEqual([
      { path: `${a}.anonymous-proxy`, message: `"anonymous-proxy" authenticates sessions forwarded by Crossbar's proxy workers, which Junction does not have: this method is not offered (its logins fail); clients connect to Junction directly and authenticate with "anonymous"` },
      { path: `${a}.cryptosign-proxy`, message: `"cryptosign-proxy" authenticates sessions forwarded by Crossbar's proxy workers, which Junction does not have: this method is not offered (its logins fail); clients connect to Junction directly and authenticate with "cryptosign"` },
    ]);
    expect(Object.keys(config.router.listeners[0]!.websocket['/']!.auth!)).toEqual(['ticket']);
  });

  it('alone: accepted (nobody can log in through it, as with type "function"); other *-proxy names stay unknown keys', () => {
    const only = parseConfig(websocket({ type: 'tcp', port: 8080 }, { auth: { 'anonymous-proxy': { type: 'static' } } }));
    expect(only.warnings?.map((w) => w.path)).toEqual([`${T0}.auth.anonymous-proxy`]);
    expect(only.router.listeners[0]!.websocket['/']!.auth).toEqual({});
    expect(errorsOf(websocket({ type: 'tcp', port: 8080 }, { auth: { 'ticket-proxy': {} } }))).toEqual({
      [`${T0}.auth.ticket-proxy`]: "unknown key 'ticket-proxy' (supported: anonymous, ticket, wampcra, cryptosign, scram, tls, cookie)",
    });
  });
});

describe('transports websocket.testee and stream.testee', () => {
  it('are read with their endpoint, and the WebSocket options of a WAMP WebSocket service', () => {
    const raw = routerWithTransport({ type: 'websocket.testee', id: 'ws_testee', endpoint: { type: 'tcp', port: 9001 }, url: 'ws://localhost:9001', debug: false, options: { max_message_size: 1048576, compression: { deflate: {} }, auto_fragment_size: 65536 } });
    raw.workers[0].transports.push({ type: 'stream.testee', endpoint: { type: 'tcp', port: 9002 } });
    const config = parseConfig(raw);
    expect(config.warnings).toBeUndefined();
    const [ws, stream] = config.router.listeners;
    expect(ws).toMatchObject({ id: 'ws_testee', kind: 'websocket.testee', endpoint: { type: 'tcp', port: 9001 }, websocket: {}, static: {} });
    expect(ws!.testee).toMatchObject({ kind: 'websocket', options: { maxMessageSize: 1048576, websocket: { autoFragmentSize: 65536, deflate: expect.any(Object) } } });
    expect(stream).toMatchObject({ id: 'transport1', kind: 'stream.testee', testee: { kind: 'stream' } });
  });

  it('options that shape WAMP sessions get one warning each: the echo does not use them', () => {
    const config = parseConfig(routerWithTransport({ type: 'websocket.testee', endpoint: { type: 'tcp', port: 9001 }, options: { fail_by_drop: true, open_handshake_timeout: 5000 } }));
    const message = 'not applied by a websocket.testee transport (an echo server, no WAMP): it takes max_message_size, compression, auto_fragment_size, auto_ping_*, allowed_origins, allow_null_origin, enable_webstatus and max_send_queue';
    expect(config.warnings).toEqual([
      { path: `${T0}.options.open_handshake_timeout`, message },
      { path: `${T0}.options.fail_by_drop`, message },
    ]);
  });

  it('keys Crossbar does not take on them are errors by key path', () => {
    expect(errorsOf(routerWithTransport({ type: 'stream.testee', endpoint: { type: 'tcp', port: 9002 }, options: {} }))).toEqual({
      [`${T0}.options`]: "unknown key 'options' (supported: id, type, endpoint, debug)",
    });
    expect(errorsOf(routerWithTransport({ type: 'websocket.testee', endpoint: { type: 'tcp', port: 9001 }, auth: {}, options: { max_message_size: 0 } }))).toEqual({
      [`${T0}.auth`]: "unknown key 'auth' (supported: id, type, endpoint, url, debug, options)",
      [`${T0}.options.max_message_size`]: 'must be between 1 and 67108864, got 0',
    });
  });
});

describe('store type cfxdb', () => {
  function withStore(store: object): Raw {
    const raw = websocket({ type: 'tcp', port: 8080 });
    raw.workers[0].realms[0].store = store;
    return raw;
  }
  const S = 'workers[0].realms[0].store';

  it('is kept in memory with one warning, its limit, call-queue and event-history read as the memory store reads them', () => {
    const config = parseConfig(withStore({
      type: 'cfxdb', path: '../.db-realm1', maxsize: 1073741824, readonly: false, sync: true, limit: 50,
      'event-history': [{ uri: 'com.example.oncounter', match: 'exact', limit: 20 }, { uri: 'com.example.', match: 'prefix' }],
    }));
    expect(config.warnings).toEqual([{
      path: `${S}.type`,
      message: 'Junction keeps this realm\'s store in memory, as type "memory" (Crossbar\'s LMDB database is not used; path, maxsize, readonly and sync are ignored): event history and retained events are lost on restart',
    }]);
    const memory = parseConfig(withStore({ type: 'memory', limit: 50, 'event-history': [{ uri: 'com.example.oncounter', match: 'exact', limit: 20 }, { uri: 'com.example.', match: 'prefix' }] }));
    expect(config.router.realms[0]!.store).toEqual(memory.router.realms[0]!.store);
    expect(config.router.realms[0]!.store.eventHistory.map((e) => [e.uri, e.match, e.limit])).toEqual([['com.example.oncounter', 'exact', 20], ['com.example.', 'prefix', 50]]);
  });

  it('its database keys are checked as Crossbar checks them; on a memory store they stay unknown keys', () => {
    expect(errorsOf(withStore({ type: 'cfxdb', maxsize: 1024, readonly: 'no', sync: 1 }))).toEqual({
      [`${S}.path`]: 'is required',
      [`${S}.maxsize`]: 'must be between 131072 and 137438953472, got 1024',
      [`${S}.readonly`]: 'must be true or false, got "no"',
      [`${S}.sync`]: 'must be true or false, got number 1',
    });
    expect(errorsOf(withStore({ type: 'memory', path: 'db' }))).toEqual({
      [`${S}.path`]: "unknown key 'path' (supported: type, limit, call-queue, event-history, retained)",
    });
  });
});

describe('cryptosign trustroots', () => {
  const KEY = 'cd'.repeat(32);
  it('is accepted with one warning: keys log in only as principals\' authorized_keys (failing closed)', () => {
    const config = parseConfig(websocket({ type: 'tcp', port: 8080 }, {
      auth: { cryptosign: { type: 'static', trustroots: { '0x1234': { certificate: 'x' } }, principals: { dev: { authorized_keys: [KEY], role: 'anonymous' } } } },
    }));
    expect(config.warnings?.map((w) => [w.path, w.message])).toEqual([[`${T0}.auth.cryptosign.trustroots`, expect.stringMatching(/^certificate trust roots are not checked by Junction: a key logs in only when a principal lists it/)]]);
    expect(config.router.listeners[0]!.websocket['/']!.auth!.cryptosign).toEqual({ type: 'static', principals: { dev: { authorizedKeys: [KEY], role: 'anonymous' } } });
  });

  it('alone (no principals): accepted, nobody logs in through it; principals without trustroots stay required', () => {
    const only = parseConfig(websocket({ type: 'tcp', port: 8080 }, { auth: { cryptosign: { type: 'static', trustroots: {} } } }));
    expect(only.router.listeners[0]!.websocket['/']!.auth!.cryptosign).toEqual({ type: 'static', principals: {} });
    expect(errorsOf(websocket({ type: 'tcp', port: 8080 }, { auth: { cryptosign: { type: 'static' } } }))).toEqual({
      [`${T0}.auth.cryptosign.principals`]: 'is required for type "static": the principals who may log in',
    });
  });
});

describe('endpoint port from the environment ("$NAME", as Crossbar)', () => {
  it('reads the variable; unset or not a number: an error naming the key and the variable', () => {
    process.env['JUNCTION_TEST_PORT'] = '8123';
    process.env['JUNCTION_TEST_BAD_PORT'] = 'http';
    delete process.env['JUNCTION_TEST_NO_PORT'];
    try {
      expect(parseConfig(websocket({ type: 'tcp', port: '$JUNCTION_TEST_PORT' })).router.listeners[0]!.endpoint).toMatchObject({ type: 'tcp', port: 8123 });
      expect(errorsOf(websocket({ type: 'tcp', port: '$JUNCTION_TEST_NO_PORT' }))).toEqual({
        [`${T0}.endpoint.port`]: 'reads the environment variable JUNCTION_TEST_NO_PORT, which is not set',
      });
      expect(errorsOf(websocket({ type: 'tcp', port: '$JUNCTION_TEST_BAD_PORT' }))).toEqual({
        [`${T0}.endpoint.port`]: 'reads the environment variable JUNCTION_TEST_BAD_PORT, which holds "http", not a port number',
      });
      expect(errorsOf(websocket({ type: 'tcp', port: '8080' }))).toEqual({ [`${T0}.endpoint.port`]: 'must be a whole number, got "8080"' });
    } finally {
      delete process.env['JUNCTION_TEST_PORT'];
      delete process.env['JUNCTION_TEST_BAD_PORT'];
    }
  });
});
