// Issue 19 #3 and #11 (byte budgets) on a real router with real sockets: what a peer may make the
// router hold before its session is established (RawSocket, WebSocket, MQTT), the total held for
// unfinished incoming messages, the default connection cap, pending calls in bytes, subscriptions
// per session and per realm. Clients nobody here wrote (Autobahn|JS, MQTT.js) check that ordinary
// large messages still pass once a session is established.
import { describe, it, expect, afterEach } from 'vitest';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import mqtt from 'mqtt';
import { service, startTestNode, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { closeAll, idleConnections, mqttHalfConnect, open, rawsocketHalfMessage, websocketFrameHeader, websocketHalfMessage } from '../helpers/flood.js';
import { MQTT_DEFAULTS } from '../../src/config/load-mqtt.js';
import { parseConfig } from '../../src/config/load.js';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_SEND_QUEUE_TOTAL, DEFAULT_TRANSPORT_OPTIONS, type RealmConfig } from '../../src/config/types.js';
import { errorsOf } from '../helpers/config.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

let node: TestNode | undefined;
const connections: Array<{ close(): void }> = [];
afterEach(async () => {
  closeAll();
  for (const c of connections.splice(0)) {
    try { c.close(); } catch { /* already closed */ }
  }
  await node?.stop();
  node = undefined;
});

function realm(options: Partial<RealmConfig> = {}): RealmConfig {
  return { name: 'realm1', roles: [allowAll()], store: { type: 'memory', limit: 100, callQueue: [], eventHistory: [] }, ...options };
}

async function wamp(transport: 'websocket' | 'rawsocket' = 'websocket'): Promise<any> {
  const connection = new autobahn.Connection({
    transports: [transport === 'rawsocket' ? { type: 'rawsocket', host: '127.0.0.1', port: node!.port } : { type: 'websocket', url: node!.wsUrl }],
    realm: 'realm1', max_retries: 0,
  });
  const session = await new Promise<any>((resolve, reject) => {
    connection.onopen = resolve;
    connection.onclose = (reason: string) => {
      reject(new Error(reason));
      return true;
    };
    connection.open();
  });
  connections.push({ close: () => connection.close() });
  return session;
}

/** Resolves true once the socket is closed, false if it is still open after `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed || socket.closed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

const errorOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: any) => `${e.error}: ${e.args?.[0] ?? ''}`);
const big = (n: number) => 'x'.repeat(n);

describe('issue 19 #3: before authentication a peer may make the router hold only max_unauthenticated_bytes', () => {
  it('issue 19 #3: a RawSocket frame announced longer than the pre-authentication limit is refused at once; after WELCOME large messages pass', async () => {
    node = await startTestNode();
    const socket = await rawsocketHalfMessage(node.port, 100_000, 10);
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    expect(await closedWithin(socket, 3000)).toBe(true);
    expect(answer).toContain('wamp.error.protocol_violation');

    const session = await wamp('rawsocket');
    await session.register('echo', (args: unknown[]) => args[0]);
    expect(await session.call('echo', [big(300_000)])).toHaveLength(300_000);
  });

  it('issue 19 #3: a WebSocket peer sending more than the pre-authentication limit before WELCOME is dropped; after WELCOME large messages pass', async () => {
    node = await startTestNode();
    // Announced longer than the limit: refused at once, on the frame header.
    const announced = await websocketHalfMessage(node.port, '/ws', 200_000, 10);
    expect(await closedWithin(announced, 3000)).toBe(true);
    // Fragments each under the limit, more than it together: dropped once the bytes read pass it.
    const half = DEFAULT_TRANSPORT_OPTIONS.maxUnauthenticatedBytes / 2 + 1000;
    const fragmented = await websocketHalfMessage(node.port, '/ws', half, half, 0x01);
    expect(await closedWithin(fragmented, 300)).toBe(false);
    fragmented.write(websocketFrameHeader(0x00, half));
    fragmented.write(Buffer.alloc(half, 0x20));
    expect(await closedWithin(fragmented, 3000)).toBe(true);

    const session = await wamp('websocket');
    await session.register('echo', (args: unknown[]) => args[0]);
    expect(await session.call('echo', [big(300_000)])).toHaveLength(300_000);
  });

  it('issue 19 #3: an MQTT CONNECT announced longer than the pre-authentication limit is refused at once; after CONNACK large messages pass', async () => {
    node = await startTestNode({ listener: { mqtt: { ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '', payload: [{ prefix: '', type: 'native' }] } } });
    const socket = await mqttHalfConnect(node.port, 100_000, 10);
    expect(await closedWithin(socket, 3000)).toBe(true);

    const client = mqtt.connect(`mqtt://127.0.0.1:${node.port}`, { reconnectPeriod: 0 });
    connections.push({ close: () => client.end(true) });
    await new Promise((resolve, reject) => { client.once('connect', resolve); client.once('error', reject); });
    await client.subscribeAsync('big/t', { qos: 1 });
    const received = new Promise<Buffer>((resolve) => client.once('message', (_t, payload) => resolve(payload)));
    await client.publishAsync('big/t', Buffer.alloc(300_000, 1), { qos: 1 });
    expect((await received).length).toBe(300_000);
  });

  it('issue 19 #3: past max_incoming_bytes the largest unauthenticated holders are dropped, and an established session still gets a large message through', async () => {
    // Messages up to 700,000 bytes, so that the total is not raised to fit one largest message.
    const small = service({ options: { ...DEFAULT_TRANSPORT_OPTIONS, maxMessageSize: 700_000 } });
    node = await startTestNode({ maxIncomingBytes: 1024 * 1024, listener: { rawsocket: small, websocket: { '/ws': small } } });
    const session = await wamp('rawsocket');
    await session.register('echo', (args: unknown[]) => args[0]);
    // 30 × 60,000 bytes of unfinished 65,000-byte frames: each under the per-connection limit, 1.8 MB in all.
    const holders = await Promise.all(Array.from({ length: 30 }, () => rawsocketHalfMessage(node!.port, 65_000, 60_000)));
    await new Promise((r) => setTimeout(r, 500));
    const dropped = holders.filter((h) => h.destroyed || h.closed).length;
    expect(dropped).toBeGreaterThanOrEqual(13);
    expect(await session.call('echo', [big(450_000)])).toHaveLength(450_000);
  });

  it(`issue 19 #3: a listener takes ${DEFAULT_MAX_CONNECTIONS} connections by default; the next RawSocket client gets handshake error 4`, async () => {
    node = await startTestNode();
    await idleConnections(node.port, DEFAULT_MAX_CONNECTIONS);
    await new Promise((r) => setTimeout(r, 200));
    const extra = open(node.port);
    const reply = await new Promise<Buffer>((resolve) => {
      extra.once('data', resolve);
      extra.write(Buffer.from([0x7f, 0xf1, 0, 0]));
    });
    expect([...reply]).toEqual([0x7f, 0x40, 0, 0]);
  });

  it('issue 19 #3: max_unauthenticated_bytes and max_incoming_bytes are config keys, checked at their path', () => {
    const raw = (options: unknown, workerOptions?: unknown) => ({
      version: 2,
      workers: [{
        type: 'router', ...(workerOptions ? { options: workerOptions } : {}),
        realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [] }] }],
        transports: [
          { type: 'websocket', endpoint: { type: 'tcp', port: 8080 }, options },
          { type: 'mqtt', endpoint: { type: 'tcp', port: 1883 }, options: { realm: 'realm1', max_unauthenticated_bytes: 4096 } },
        ],
      }],
    });
    const config = parseConfig(raw({ max_unauthenticated_bytes: 8192 }, { max_incoming_bytes: 8 * 1024 * 1024 }));
    expect(config.router.listeners[0]!.websocket['/']!.options.maxUnauthenticatedBytes).toBe(8192);
    expect(config.router.listeners[1]!.mqtt!.maxUnauthenticatedBytes).toBe(4096);
    expect(config.router.maxIncomingBytes).toBe(8 * 1024 * 1024);
    expect(errorsOf(raw({ max_unauthenticated_bytes: 'lots' }, { max_incoming_bytes: 10 }))).toEqual({
      'workers[0].transports[0].options.max_unauthenticated_bytes': expect.stringMatching(/whole number/),
      'workers[0].options.max_incoming_bytes': expect.stringMatching(/between 1048576/),
    });
  });

  it('issue 19 memory budget: max_send_queue_total is a config key of the router worker, checked at its path; absent = 32 MiB', () => {
    const raw = (workerOptions?: unknown) => ({
      version: 2,
      workers: [{
        type: 'router', ...(workerOptions ? { options: workerOptions } : {}),
        realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [] }] }],
        transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 8080 } }],
      }],
    });
    expect(parseConfig(raw({ max_send_queue_total: 64 * 1024 * 1024 })).router.maxSendQueueTotal).toBe(64 * 1024 * 1024);
    expect(parseConfig(raw()).router.maxSendQueueTotal).toBeUndefined();
    expect(DEFAULT_MAX_SEND_QUEUE_TOTAL).toBe(32 * 1024 * 1024);
    expect(errorsOf(raw({ max_send_queue_total: 1000 }))).toEqual({
      'workers[0].options.max_send_queue_total': expect.stringMatching(/between 1048576/),
    });
    expect(errorsOf(raw({ max_send_queue_total: 'lots' }))).toEqual({
      'workers[0].options.max_send_queue_total': expect.stringMatching(/whole number/),
    });
  });
});

describe('issue 19 #11: pending calls in bytes, subscriptions per session and per realm', () => {
  it('issue 19 #11: a session\'s pending calls are bounded in bytes (max_pending_call_bytes), and in total per realm; answered calls free their bytes', async () => {
    node = await startTestNode({ realms: [realm({ maxPendingCallBytes: 250_000, maxPendingCallBytesTotal: 400_000 })] });
    const callee = await wamp();
    const answers: Array<() => void> = [];
    await callee.register('svc.slow', () => new Promise<string>((resolve) => answers.push(() => resolve('done'))));
    const a = await wamp();
    const b = await wamp();
    const a1 = a.call('svc.slow', [big(100_000)]);
    const a2 = a.call('svc.slow', [big(100_000)]);
    expect(await errorOf(a.call('svc.slow', [big(100_000)]))).toMatch(/^junction\.error\.too_many_pending_calls: .*max_pending_call_bytes 250000/);
    const b1 = b.call('svc.slow', [big(120_000)]);
    expect(await errorOf(b.call('svc.slow', [big(100_000)]))).toMatch(/^junction\.error\.too_many_pending_calls: .*max_pending_call_bytes_total/);
    // Small calls still fit.
    const b2 = b.call('svc.slow', ['small']);
    while (answers.length < 4) await new Promise((r) => setTimeout(r, 10));
    for (const answer of answers.splice(0)) answer();
    expect(await Promise.all([a1, a2, b1, b2])).toEqual(['done', 'done', 'done', 'done']);
    const a3 = a.call('svc.slow', [big(200_000)]);
    while (answers.length < 1) await new Promise((r) => setTimeout(r, 10));
    answers[0]!();
    expect(await a3).toBe('done');
  });

  it('issue 19 #11: a session may hold at most max_subscriptions subscriptions; unsubscribing makes room', async () => {
    node = await startTestNode({ realms: [realm({ maxSubscriptions: 5 })] });
    const session = await wamp();
    const subs = await Promise.all(Array.from({ length: 5 }, (_, i) => session.subscribe(`t.${i}`, () => {})));
    expect(await errorOf(session.subscribe('t.5', () => {}))).toMatch(/^junction\.error\.too_many_subscriptions: .*max_subscriptions 5/);
    // Another session is not affected by this one's count.
    const other = await wamp();
    await other.subscribe('t.5', () => {});
    await session.unsubscribe(subs[0]);
    await session.subscribe('t.5', () => {});
  });

  it('issue 19 #11: the realm\'s subscriptions together are bounded in bytes (max_subscription_bytes)', async () => {
    node = await startTestNode({ realms: [realm({ maxSubscriptionBytes: 20_000 })] });
    const session = await wamp();
    const long = (i: number) => `long.${i}.${big(3000)}`;
    await session.subscribe(long(0), () => {});
    await session.subscribe(long(1), () => {});
    expect(await errorOf(session.subscribe(long(2), () => {}))).toMatch(/^junction\.error\.too_many_subscriptions: .*max_subscription_bytes/);
    // A short one still fits.
    await session.subscribe('short', () => {});
  });
});
