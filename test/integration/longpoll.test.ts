// WAMP over HTTP long-poll (a web path of type longpoll), driven with curl the way Crossbar's
// long-poll example drives it: /open, /<id>/send, /<id>/receive, /<id>/close; the other party is
// Autobahn|JS over WebSocket. Autobahn|JS's own long-poll transport runs in headless Chromium in
// test/interop/autobahn-js-longpoll.test.ts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { curl } from '../helpers/curl.js';
import { autobahnWs, type AutobahnClient } from '../helpers/autobahn-ws.js';
import { until } from '../helpers/until.js';
import { allowAll } from '../helpers/core.js';
import { LONGPOLL_DEFAULTS } from '../../src/config/load-longpoll.js';
import type { LongPollPathConfig, RealmConfig } from '../../src/config/types.js';

const require = createRequire(import.meta.url);

const HELLO = [1, 'realm1', { roles: { caller: {}, callee: {}, publisher: {}, subscriber: {} } }];

async function start(options: Partial<LongPollPathConfig> = {}): Promise<{ node: TestNode; lp: string }> {
  const node = await startTestNode({ listener: { longpoll: { '/lp': { ...LONGPOLL_DEFAULTS, ...options } } } });
  return { node, lp: `http://127.0.0.1:${node.port}/lp` };
}

/** For a describe block: a node with the long-poll paths given (and the realms, default realm1 allowing all)
 *  and an Autobahn|JS WebSocket client on it; `lp` is the URL of /lp. Both end after the block. */
function nodeWithWs(longpoll: Record<string, LongPollPathConfig>, realms?: RealmConfig[]): { node: TestNode; lp: string; ws: AutobahnClient } {
  const t = {} as { node: TestNode; lp: string; ws: AutobahnClient };
  beforeAll(async () => {
    t.node = await startTestNode({ listener: { longpoll }, ...(realms ? { realms } : {}) });
    t.lp = `http://127.0.0.1:${t.node.port}/lp`;
    t.ws = await autobahnWs(t.node.wsUrl);
  });
  afterAll(async () => {
    t.ws?.connection.close();
    await t.node?.stop();
  });
  return t;
}

/** Opens a transport and joins realm1 through it: its base URL and session id. */
async function join(lp: string, protocol = 'wamp.2.json'): Promise<{ base: string; session: number }> {
  const opened = await curl(`${lp}/open`, { body: JSON.stringify({ protocols: [protocol] }) });
  expect(opened.status).toBe(200);
  const base = `${lp}/${JSON.parse(opened.text).transport}`;
  expect((await curl(`${base}/send`, { body: JSON.stringify(HELLO) })).status).toBe(204);
  const welcome = JSON.parse((await curl(`${base}/receive`)).text);
  expect(welcome[0]).toBe(2);
  return { base, session: welcome[1] };
}

/** A long-poll client subscribes to `topic`, then stops polling while the WebSocket client publishes
 *  `events` there: its session must leave the realm (its queue over the limit), and its id become a 404. */
async function floodUntilItLeaves(t: { lp: string; ws: AutobahnClient }, topic: string, events: unknown[]): Promise<void> {
  const { base, session } = await join(t.lp);
  await curl(`${base}/send`, { body: JSON.stringify([32, 1, {}, topic]) });
  expect(JSON.parse((await curl(`${base}/receive`)).text)[0]).toBe(33);
  const left: number[] = [];
  await t.ws.session.subscribe('wamp.session.on_leave', (args: unknown[]) => left.push(args[0] as number));
  for (const e of events) await t.ws.session.publish(topic, [e], {}, { acknowledge: true });
  await until(() => left.includes(session), 5000, `the flooded long-poll session to leave (${topic})`);
  expect((await curl(`${base}/receive`)).status).toBe(404);
}

describe('long-poll transport with curl', () => {
  const t = nodeWithWs({ '/lp': { ...LONGPOLL_DEFAULTS, requestTimeout: 1000, queueLimitMessages: 5 } });

  it('opens a transport (id and protocol in the answer), joins, calls a WebSocket callee and closes; then the id is a 404', async () => {
    const opened = await curl(`${t.lp}/open`, { body: JSON.stringify({ protocols: ['wamp.2.foo', 'wamp.2.json'] }), headers: { 'Content-Type': 'application/json' } });
    expect(opened.status).toBe(200);
    expect(opened.headers['content-type']).toMatch(/^application\/json/);
    const answer = JSON.parse(opened.text);
    expect(answer.protocol).toBe('wamp.2.json');
    expect(answer.transport).toMatch(/^[A-Za-z0-9_-]{12}$/);
    const base = `${t.lp}/${answer.transport}`;

    expect((await curl(`${base}/send`, { body: JSON.stringify(HELLO) })).status).toBe(204);
    const welcome = await curl(`${base}/receive`);
    expect(welcome.status).toBe(200);
    expect(JSON.parse(welcome.text)[0]).toBe(2);

    await t.ws.session.register('lp.add2', (args: number[]) => args[0]! + args[1]!);
    expect((await curl(`${base}/send`, { body: JSON.stringify([48, 1, {}, 'lp.add2', [20, 22]]) })).status).toBe(204);
    expect(JSON.parse((await curl(`${base}/receive`)).text)).toEqual([50, 1, {}, [42]]);

    expect((await curl(`${base}/close`)).status).toBe(204);
    const gone = await curl(`${base}/receive`);
    expect(gone.status).toBe(404);
    expect(gone.text).toContain(`no WAMP transport '${answer.transport}'`);
  });

  it('a WebSocket client calls a procedure the long-poll client registered, and events reach it', async () => {
    const { base } = await join(t.lp);
    await curl(`${base}/send`, { body: JSON.stringify([64, 1, {}, 'lp.greet']) });
    const registered = JSON.parse((await curl(`${base}/receive`)).text);
    expect(registered[0]).toBe(65);
    const result = t.ws.session.call('lp.greet', ['Ada']);
    const invocation = JSON.parse((await curl(`${base}/receive`)).text);
    expect(invocation.slice(0, 5)).toEqual([68, invocation[1], registered[2], {}, ['Ada']]);
    await curl(`${base}/send`, { body: JSON.stringify([70, invocation[1], {}, ['hello Ada']]) });
    expect(await result).toBe('hello Ada');

    await curl(`${base}/send`, { body: JSON.stringify([32, 2, {}, 'lp.news']) });
    expect(JSON.parse((await curl(`${base}/receive`)).text)[0]).toBe(33);
    await t.ws.session.publish('lp.news', ['fresh'], {}, { acknowledge: true });
    const event = JSON.parse((await curl(`${base}/receive`)).text);
    expect(event[0]).toBe(36);
    expect(event[4]).toEqual(['fresh']);
    await curl(`${base}/close`);
  });

  it('the router closing the session (GOODBYE, ABORT) leaves its last message for the client; then the transport ends', async () => {
    const { base } = await join(t.lp);
    await curl(`${base}/send`, { body: JSON.stringify([6, {}, 'wamp.close.system_shutdown']) });
    const goodbye = await curl(`${base}/receive`);
    expect(JSON.parse(goodbye.text)[0]).toBe(6);
    expect((await curl(`${base}/close`)).status).toBe(204); // what Autobahn|JS does next
    expect((await curl(`${base}/receive`)).status).toBe(404);

    const opened = JSON.parse((await curl(`${t.lp}/open`, { body: '{"protocols": ["wamp.2.json"]}' })).text);
    const other = `${t.lp}/${opened.transport}`;
    await curl(`${other}/send`, { body: JSON.stringify([1, 'no.such.realm', { roles: { caller: {} } }]) });
    const abort = JSON.parse((await curl(`${other}/receive`)).text);
    expect(abort[0]).toBe(3);
    expect(abort[2]).toBe('wamp.error.no_such_realm');
    // A client that does not close: its next receive finds nothing more and ends the transport.
    expect((await curl(`${other}/receive`)).status).toBe(204);
    expect((await curl(`${other}/receive`)).status).toBe(404);
  });

  it('a receive with nothing queued is answered 204 after request_timeout', async () => {
    const { base } = await join(t.lp);
    const t0 = Date.now();
    const idle = await curl(`${base}/receive`);
    expect(idle.status).toBe(204);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    await curl(`${base}/close`);
  });

  it('a bad transport id or operation is a 404; a bad body a 400; the transport stays usable', async () => {
    expect((await curl(`${t.lp}/AAAAAAAAAAAA/receive`)).status).toBe(404);
    expect((await curl(`${t.lp}/AAAAAAAAAAAA/send`, { body: '[1]' })).status).toBe(404);
    const { base } = await join(t.lp);
    expect((await curl(`${base}/frobnicate`)).status).toBe(404);
    expect((await curl(`${t.lp}/open`, { body: 'not json' })).status).toBe(400);
    expect((await curl(`${t.lp}/open`, { body: '{"protocols": ["wamp.2.ubjson"]}' })).text).toContain('no common protocol');
    expect((await curl(`${base}/send`, { body: '[1, "realm1"' })).status).toBe(400);
    expect((await curl(`${base}/send`, { body: JSON.stringify([32, 3, {}, 'lp.still']) })).status).toBe(204);
    expect(JSON.parse((await curl(`${base}/receive`)).text)[0]).toBe(33);
    await curl(`${base}/close`);
  });

  it('answers with Crossbar\'s CORS headers and a browser preflight', async () => {
    const origin = 'http://app.example:3000';
    const opened = await curl(`${t.lp}/open`, { body: '{"protocols": ["wamp.2.json"]}', headers: { Origin: origin } });
    expect(opened.headers['access-control-allow-origin']).toBe(origin);
    expect(opened.headers['access-control-allow-credentials']).toBe('true');
    expect(opened.headers['cache-control']).toBe('no-store, no-cache, must-revalidate, max-age=0');
    const preflight = await curl(`${t.lp}/open`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(origin);
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(preflight.headers['access-control-allow-headers']).toBe('content-type');
    expect((await curl(`${t.lp}/open`, { body: '{"protocols": ["wamp.2.json"]}' })).headers['access-control-allow-origin']).toBe('*');
    await curl(`${t.lp}/${JSON.parse(opened.text).transport}/close`);
  });

  it('batched JSON: several messages in one send, all queued ones in one receive, each ended by 0x18', async () => {
    const opened = JSON.parse((await curl(`${t.lp}/open`, { body: '{"protocols": ["wamp.2.json.batched"]}' })).text);
    expect(opened.protocol).toBe('wamp.2.json.batched');
    const base = `${t.lp}/${opened.transport}`;
    const batch = [HELLO, [32, 1, {}, 'lp.b1'], [32, 2, {}, 'lp.b2']].map((m) => JSON.stringify(m) + '\x18').join('');
    expect((await curl(`${base}/send`, { body: batch })).status).toBe(204);
    const received: unknown[][] = [];
    while (received.length < 3) {
      const r = await curl(`${base}/receive`);
      const text = r.text;
      expect(text.endsWith('\x18')).toBe(true);
      received.push(...text.split('\x18').slice(0, -1).map((t) => JSON.parse(t)));
    }
    expect(received.map((m) => m[0])).toEqual([2, 33, 33]);
    await curl(`${base}/close`);
  });

  it('a send queue past queue_limit_messages ends the session (it leaves the realm); its id is then a 404', async () => {
    // Not polled: the events pile up in its queue (limit 5 messages).
    await floodUntilItLeaves(t, 'lp.flood', [0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('long-poll transport: a client that stops polling', () => {
  const t = nodeWithWs({ '/lp': { ...LONGPOLL_DEFAULTS, sessionTimeout: 1000, requestTimeout: 500 } });

  it('times out after session_timeout: its session leaves and its testament is published', async () => {
    const { base, session } = await join(t.lp);
    const left: number[] = [];
    const testaments: unknown[] = [];
    await t.ws.session.subscribe('wamp.session.on_leave', (args: unknown[]) => left.push(args[0] as number));
    await t.ws.session.subscribe('lp.testament', (args: unknown[]) => testaments.push(args[0]));
    await curl(`${base}/send`, { body: JSON.stringify([48, 1, {}, 'wamp.session.add_testament', ['lp.testament', ['gone'], {}]]) });
    expect(JSON.parse((await curl(`${base}/receive`)).text)[0]).toBe(50);
    // Polling keeps it alive past the timeout...
    const t0 = Date.now();
    while (Date.now() - t0 < 1600) expect([200, 204]).toContain((await curl(`${base}/receive`)).status);
    expect(left).not.toContain(session);
    // ...and no request at all ends it.
    await until(() => left.includes(session), 4000, 'the idle long-poll session to leave');
    await until(() => testaments.length === 1, 2000, 'the testament');
    expect(testaments).toEqual(['gone']);
    expect((await curl(`${base}/receive`)).status).toBe(404);
  });
});

describe('long-poll transport: max_transports', () => {
  it('past max_transports, /open is answered 503 with Retry-After; a closed transport frees its place', async () => {
    const { node, lp } = await start({ maxTransports: 2 });
    try {
      const open = () => curl(`${lp}/open`, { body: '{"protocols": ["wamp.2.json"]}' });
      const a = await open();
      expect((await open()).status).toBe(200);
      const refused = await open();
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      await curl(`${lp}/${JSON.parse(a.text).transport}/close`);
      expect((await open()).status).toBe(200);
    } finally {
      await node.stop();
    }
  });
});

describe('long-poll transport: limits, auth, binary serializers', () => {
  const t = nodeWithWs({
    '/lp': { ...LONGPOLL_DEFAULTS, queueLimitBytes: 2048, maxMessageSize: 4096 },
    '/origins': { ...LONGPOLL_DEFAULTS, allowedOrigins: ['https://*.example.com'] },
    '/secure': { ...LONGPOLL_DEFAULTS, auth: { ticket: { type: 'static', principals: { alice: { ticket: 'secret', role: 'user' } } } } },
  }, [{ name: 'realm1', roles: [allowAll(), allowAll('user')], store: { type: 'memory', limit: 100, callQueue: [], eventHistory: [] } }]);

  it('a send queue past queue_limit_bytes ends the session', async () => {
    await floodUntilItLeaves(t, 'lp.big', ['x'.repeat(1000), 'x'.repeat(1000), 'x'.repeat(1000)]);
  });

  it('a send body over max_message_size is refused with 413; the transport stays', async () => {
    const { base } = await join(t.lp);
    const big = JSON.stringify([16, 1, {}, 'lp.x', ['y'.repeat(5000)]]);
    expect((await curl(`${base}/send`, { body: big })).status).toBe(413);
    expect((await curl(`${base}/send`, { body: JSON.stringify([32, 2, {}, 'lp.ok']) })).status).toBe(204);
    expect(JSON.parse((await curl(`${base}/receive`)).text)[0]).toBe(33);
    await curl(`${base}/close`);
  });

  it('allowed_origins: a page of another origin is refused with 403 (a preflight too); clients without Origin are not restricted', async () => {
    const url = `http://127.0.0.1:${t.node.port}/origins/open`;
    const body = '{"protocols": ["wamp.2.json"]}';
    const refused = await curl(url, { body, headers: { Origin: 'https://evil.test' } });
    expect(refused.status).toBe(403);
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    expect((await curl(url, { method: 'OPTIONS', headers: { Origin: 'https://evil.test', 'Access-Control-Request-Method': 'POST' } })).status).toBe(403);
    const allowed = await curl(url, { body, headers: { Origin: 'https://app.example.com' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect((await curl(url, { body })).status).toBe(200);
  });

  it("the path's auth block applies: ticket authentication over long-poll, anonymous refused", async () => {
    const secure = `http://127.0.0.1:${t.node.port}/secure`;
    const open = async () => `${secure}/${JSON.parse((await curl(`${secure}/open`, { body: '{"protocols": ["wamp.2.json"]}' })).text).transport}`;
    const a = await open();
    await curl(`${a}/send`, { body: JSON.stringify([1, 'realm1', { roles: { caller: {} } }]) });
    expect(JSON.parse((await curl(`${a}/receive`)).text)[0]).toBe(3); // ABORT
    const b = await open();
    await curl(`${b}/send`, { body: JSON.stringify([1, 'realm1', { roles: { caller: {} }, authmethods: ['ticket'], authid: 'alice' }]) });
    expect(JSON.parse((await curl(`${b}/receive`)).text)).toEqual([4, 'ticket', {}]);
    await curl(`${b}/send`, { body: JSON.stringify([5, 'secret', {}]) });
    const welcome = JSON.parse((await curl(`${b}/receive`)).text);
    expect(welcome[0]).toBe(2);
    expect(welcome[2]).toMatchObject({ authid: 'alice', authrole: 'user', authmethod: 'ticket' });
    await curl(`${b}/close`);
  });

  it('MessagePack, batched: binary bodies with length prefixes, Content-Type application/x-msgpack', async () => {
    const msgpack = require('msgpack5')();
    const frame = (m: unknown) => {
      const e: Buffer = msgpack.encode(m);
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(e.length);
      return Buffer.concat([prefix, e]);
    };
    const opened = JSON.parse((await curl(`${t.lp}/open`, { body: '{"protocols": ["wamp.2.msgpack.batched"]}' })).text);
    expect(opened.protocol).toBe('wamp.2.msgpack.batched');
    const base = `${t.lp}/${opened.transport}`;
    await t.ws.session.register('lp.bin.echo', (args: unknown[]) => args[0]);
    expect((await curl(`${base}/send`, { body: Buffer.concat([frame(HELLO), frame([48, 1, {}, 'lp.bin.echo', [Buffer.from([1, 2, 3]).toString('base64')]])]) })).status).toBe(204);
    const got: unknown[] = [];
    while (got.length < 2) {
      const r = await curl(`${base}/receive`);
      expect(r.headers['content-type']).toBe('application/x-msgpack');
      for (let at = 0; at < r.body.length;) {
        const n = r.body.readUInt32BE(at);
        got.push(msgpack.decode(r.body.subarray(at + 4, at + 4 + n)));
        at += 4 + n;
      }
    }
    expect((got[0] as unknown[])[0]).toBe(2);
    expect(got[1]).toEqual([50, 1, {}, ['AQID']]);
    await curl(`${base}/close`);
  });
});

describe('long-poll transport: unfinished request bodies', () => {
  it('count toward max_incoming_bytes: past it a connection holding part of a body is dropped, the router stays up', async () => {
    // The budget is never below one largest message plus 128 KiB: here 1 MiB + 128 KiB.
    const node = await startTestNode({ maxIncomingBytes: 1, listener: { longpoll: { '/lp': { ...LONGPOLL_DEFAULTS } } } });
    try {
      const lp = `http://127.0.0.1:${node.port}/lp`;
      const ids = await Promise.all([0, 1].map(async () => JSON.parse((await curl(`${lp}/open`, { body: '{"protocols": ["wamp.2.json"]}' })).text).transport));
      // Two clients each send 700 KB of a 900 KB body, and stop there.
      const sockets = ids.map((id) => {
        const s = connect(node.port, '127.0.0.1');
        s.on('error', () => {});
        s.write(`POST /lp/${id}/send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 900000\r\n\r\n`);
        s.write(Buffer.alloc(700_000, 0x20));
        return s;
      });
      await until(() => sockets.some((s) => s.destroyed || s.readableEnded), 5000, 'one of the two connections to be dropped');
      expect(sockets.filter((s) => s.destroyed || s.readableEnded)).toHaveLength(1);
      for (const s of sockets) s.destroy();
      expect((await curl(`${lp}/open`, { body: '{"protocols": ["wamp.2.json"]}' })).status).toBe(200);
    } finally {
      await node.stop();
    }
  });
});
