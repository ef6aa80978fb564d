// Limits and back-pressure (issue 5, item 4) on real sockets: a slow consumer's bounded send queue
// (drop-events and disconnect), max_connections (RawSocket error 4, HTTP 503), the per-session
// message rate (reading paused, nothing lost), and the per-caller pending-call cap (in-process).
//
// The router runs in this process: "bounded memory" is checked as the router's own send-queue
// bytes (junction.session.get → junction.send_queue_bytes), sampled while the publisher runs, and as
// the process's RSS growth against the volume published.

import { describe, it, expect, afterEach } from 'vitest';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { join, tick, allowAll } from '../helpers/core.js';
import { Router } from '../../src/router/router.js';
import { InProcessServices } from '../../src/router-services/in-process-services.js';
import { ClientSession, WampError } from '../../src/client/client-session.js';
import type { WampTransportOptions } from '../../src/config/types.js';
import { TOO_MANY_PENDING_CALLS } from '../../src/router/dealer.js';
import { SendQueueGuard } from '../../src/transports/limits.js';
import { SendQueueTotal } from '../../src/transports/send-queue-total.js';
import { until } from '../helpers/until.js';

const HELLO_DETAILS = { roles: { caller: {}, callee: {}, publisher: {}, subscriber: {} } };
const EVENT = 36;

// ---- a minimal WAMP client (JSON) over WebSocket or RawSocket ----

type Msg = unknown[];

class Wire {
  /** Every message but EVENTs (those are only counted). */
  readonly messages: Msg[] = [];
  events = 0;
  closed = false;
  sessionId = 0;
  private nextRequest = 0;
  private waiters: Array<{ pred: (m: Msg) => boolean; resolve: (m: Msg) => void }> = [];
  private closeWaiters: Array<() => void> = [];

  constructor(private readonly write: (m: Msg) => void) {}

  receive(m: Msg): void {
    if (m[0] === EVENT) {
      this.events++;
      return;
    }
    this.messages.push(m);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(m)) return true;
      w.resolve(m);
      return false;
    });
  }

  gone(): void {
    this.closed = true;
    this.closeWaiters.splice(0).forEach((r) => r());
  }

  whenClosed(): Promise<void> {
    return this.closed ? Promise.resolve() : new Promise((r) => this.closeWaiters.push(r));
  }

  send(m: Msg): void {
    this.write(m);
  }

  waitFor(pred: (m: Msg) => boolean, ms = 15_000): Promise<Msg> {
    const found = this.messages.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no such message in time')), ms);
      this.waiters.push({ pred, resolve: (m) => { clearTimeout(timer); resolve(m); } });
    });
  }

  async hello(): Promise<number> {
    this.send([1, 'realm1', HELLO_DETAILS]);
    const welcome = await this.waitFor((m) => m[0] === 2 || m[0] === 3);
    if (welcome[0] !== 2) throw new Error(`not welcomed: ${JSON.stringify(welcome)}`);
    this.sessionId = welcome[1] as number;
    return this.sessionId;
  }

  async subscribe(topic: string): Promise<number> {
    const id = ++this.nextRequest;
    this.send([32, id, {}, topic]);
    const m = await this.waitFor((x) => (x[0] === 33 && x[1] === id) || (x[0] === 8 && x[2] === id));
    if (m[0] !== 33) throw new Error(`subscribe failed: ${JSON.stringify(m)}`);
    return m[2] as number;
  }

  publish(topic: string, args: unknown[]): void {
    this.send([16, ++this.nextRequest, {}, topic, args]);
  }

  /** RESULT or ERROR for a CALL. */
  async call(procedure: string, args: unknown[] = []): Promise<Msg> {
    const id = ++this.nextRequest;
    this.send([48, id, {}, procedure, args]);
    return this.waitFor((x) => (x[0] === 50 && x[1] === id) || (x[0] === 8 && x[1] === 48 && x[2] === id));
  }
}

interface WsWire extends Wire {
  ws: WebSocket;
}

function wsClient(url: string): Promise<WsWire> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['wamp.2.json']);
    const wire = new Wire((m) => ws.send(JSON.stringify(m))) as WsWire;
    wire.ws = ws;
    ws.on('message', (data) => wire.receive(JSON.parse(data.toString()) as Msg));
    ws.on('close', () => wire.gone());
    ws.on('error', reject);
    ws.on('open', () => resolve(wire));
  });
}

interface RawWire extends Wire {
  socket: Socket;
}

/** RawSocket, JSON, announcing 16 MiB. Frames are parsed from an accumulating buffer (test sizes only). */
function rawClient(port: number): Promise<RawWire> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const wire = new Wire((m) => {
      const payload = Buffer.from(JSON.stringify(m));
      const header = Buffer.alloc(4);
      header.writeUInt32BE(payload.length);
      socket.write(Buffer.concat([header, payload]));
    }) as RawWire;
    wire.socket = socket;
    let buffer: Buffer = Buffer.alloc(0);
    let shaken = false;
    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      if (!shaken) {
        if (buffer.length < 4) return;
        if (buffer[0] !== 0x7f || (buffer[1]! & 0x0f) !== 1) return reject(new Error(`handshake refused: ${buffer.subarray(0, 4).toString('hex')}`));
        shaken = true;
        buffer = buffer.subarray(4);
        resolve(wire);
      }
      while (buffer.length >= 4) {
        const header = buffer.readUInt32BE(0);
        const length = header & 0xffffff;
        if (buffer.length < 4 + length) break;
        const type = header >>> 24;
        const payload = buffer.subarray(4, 4 + length);
        buffer = buffer.subarray(4 + length);
        if (type === 0) wire.receive(JSON.parse(payload.toString()) as Msg);
      }
    });
    socket.on('close', () => wire.gone());
    socket.on('error', reject);
    socket.on('connect', () => socket.write(Buffer.from([0x7f, 0xf1, 0, 0])));
  });
}

// ---- fixtures ----

const nodes: TestNode[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

async function node(options: Partial<WampTransportOptions>, endpoint: { maxConnections?: number } = {}, maxSendQueueTotal?: number): Promise<TestNode> {
  const svc = () => {
    const s = service();
    s.options = { ...s.options, ...options };
    return s;
  };
  const n = await startTestNode({
    listener: { rawsocket: svc(), websocket: { '/ws': svc() }, endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1', ...endpoint } },
    ...(maxSendQueueTotal !== undefined ? { maxSendQueueTotal } : {}),
  });
  nodes.push(n);
  return n;
}

function track<T extends { ws?: WebSocket; socket?: Socket }>(w: T): T {
  cleanups.push(() => {
    w.ws?.terminate();
    w.socket?.destroy();
  });
  return w;
}

/** junction.session.get's `junction` part (send queue) for a session, or undefined when it is gone. */
async function stats(admin: ClientSession, id: number): Promise<Record<string, unknown> | undefined> {
  try {
    return ((await admin.call('junction.session.get', [id])).args[0] as { junction: Record<string, unknown> }).junction;
  } catch (err) {
    if (err instanceof WampError && err.uri === 'wamp.error.no_such_session') return undefined;
    throw err;
  }
}

const MIB = 1024 * 1024;
const PAYLOAD = 'x'.repeat(16 * 1024);

/**
 * Publishes `count` events of ~16 KiB on `topic` from `publisher`, paced by the bystander (at most
 * `window` events ahead of what it received). Calls `sample` every 100 events.
 */
async function publishPaced(publisher: Wire, bystander: Wire, topic: string, count: number, window: number, sample: () => Promise<void> = async () => {}): Promise<void> {
  const base = bystander.events;
  for (let i = 0; i < count; i++) {
    while (i - (bystander.events - base) >= window) await tick(1);
    publisher.publish(topic, [i, PAYLOAD]);
    if (i % 100 === 99) await sample();
  }
  await until(() => bystander.events - base >= count, 30_000);
}

// ---- slow consumers ----

/**
 * A publisher, a bystander subscriber, and two subscribers (WebSocket, RawSocket) to 'feed' that
 * stop reading: the kernel buffers fill, then the router's send queue.
 */
async function slowConsumerScene(n: Awaited<ReturnType<typeof node>>) {
  const admin = await join(n.node.router);
  const slowEvents: unknown[][] = [];
  await admin.subscribe('junction.session.on_slow_consumer', (args) => slowEvents.push(args));
  const publisher = track(await wsClient(n.wsUrl));
  const bystander = track(await wsClient(n.wsUrl));
  const slowWs = track(await wsClient(n.wsUrl));
  const slowRaw = track(await rawClient(n.port));
  for (const w of [publisher, bystander, slowWs, slowRaw]) await w.hello();
  let subscription = 0;
  for (const w of [bystander, slowWs, slowRaw]) subscription = await w.subscribe('feed');
  (slowWs.ws as unknown as { _socket: Socket })._socket.pause();
  slowRaw.socket.pause();
  return { admin, slowEvents, publisher, bystander, slowWs, slowRaw, subscription };
}

describe('slow consumers: the send queue is bounded by bytes', () => {
  it('drop-events: a subscriber that stops reading loses events, not the router its memory; a bystander gets all', async () => {
    const limit = 1 * MIB;
    const n = await node({ maxSendQueue: limit, sendQueuePolicy: 'drop-events' });
    const { admin, slowEvents, publisher, bystander, slowWs, slowRaw } = await slowConsumerScene(n);

    const count = 4096; // 64 MiB of events, to each subscriber
    const rssBefore = process.memoryUsage().rss;
    let rssMax = rssBefore;
    let queueMax = 0;
    // At most 16 events (256 KiB) ahead of the bystander: well under the limit, so it never drops.
    await publishPaced(publisher, bystander, 'feed', count, 16, async () => {
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
      for (const id of [slowWs.sessionId, slowRaw.sessionId]) {
        queueMax = Math.max(queueMax, (await stats(admin, id))!['send_queue_bytes'] as number);
      }
    });

    expect(bystander.events).toBe(count); // nothing lost for a subscriber that reads
    // The router held at most the limit plus one message for each slow subscriber...
    expect(queueMax).toBeGreaterThan(limit / 2);
    expect(queueMax).toBeLessThanOrEqual(limit + 20 * 1024);
    // ...and the process did not grow with the 128 MiB it sent to the two of them.
    if (process.env['JUNCTION_LIMITS_DEBUG']) console.log(`rss growth ${((rssMax - rssBefore) / MIB).toFixed(1)} MiB, queue max ${queueMax}`);
    expect(rssMax - rssBefore).toBeLessThan(48 * MIB);
    for (const w of [slowWs, slowRaw]) {
      const s = (await stats(admin, w.sessionId))!;
      expect(s).toMatchObject({ send_queue_limit: limit, send_queue_policy: 'drop-events', slow_consumer: true });
      // Kernel buffers took a few MiB; everything past them and the limit was dropped.
      expect(s['dropped_events'] as number).toBeGreaterThan(count / 2);
      expect(s['send_queue_bytes'] as number).toBeLessThanOrEqual(limit + 20 * 1024);
    }
    expect((await stats(admin, bystander.sessionId))!).toMatchObject({ dropped_events: 0, slow_consumer: false });
    // One meta event per slow session, when it first went over.
    await until(() => slowEvents.length >= 2);
    await tick(50);
    expect(slowEvents.map((e) => e[0]).sort()).toEqual([slowWs.sessionId, slowRaw.sessionId].sort());
    for (const e of slowEvents) expect(e[1]).toMatchObject({ policy: 'drop-events', disconnected: false, send_queue_limit: limit });
    // The slow sessions are still there (dropping events is the whole penalty).
    expect(slowWs.closed || slowRaw.closed).toBe(false);
  }, 120_000);

  it('disconnect: a subscriber that stops reading is closed and its subscription freed', async () => {
    const limit = 256 * 1024;
    const n = await node({ maxSendQueue: limit, sendQueuePolicy: 'disconnect' });
    const { admin, slowEvents, publisher, bystander, slowWs, slowRaw, subscription } = await slowConsumerScene(n);
    const subscribers = async () => ((await admin.call('wamp.subscription.list_subscribers', [subscription])).args[0] as number[]).sort();
    expect(await subscribers()).toEqual([bystander.sessionId, slowWs.sessionId, slowRaw.sessionId].sort());

    // Publish until both are gone (a few MiB of kernel buffers first), at most 64 MiB.
    let published = 0;
    while (published < 4096 && ((await stats(admin, slowWs.sessionId)) || (await stats(admin, slowRaw.sessionId)))) {
      await publishPaced(publisher, bystander, 'feed', 64, 4);
      published += 64;
    }
    expect(await stats(admin, slowWs.sessionId)).toBeUndefined();
    expect(await stats(admin, slowRaw.sessionId)).toBeUndefined();
    expect(await subscribers()).toEqual([bystander.sessionId]);
    expect(bystander.events).toBe(published);
    await until(() => slowEvents.length >= 2);
    expect(slowEvents.map((e) => e[0]).sort()).toEqual([slowWs.sessionId, slowRaw.sessionId].sort());
    for (const e of slowEvents) expect(e[1]).toMatchObject({ policy: 'disconnect', disconnected: true });
    // The bystander is untouched and still served.
    expect((await stats(admin, bystander.sessionId))!).toMatchObject({ dropped_events: 0 });
  }, 120_000);

  it('drop-events never drops anything else: a caller that stops reading its results is closed past twice the limit', async () => {
    // (A callee that stops reading is not sent more invocations: it is busy, see slow-callee.test.ts.)
    const limit = 256 * 1024;
    const n = await node({ maxSendQueue: limit, sendQueuePolicy: 'drop-events' });
    const service = await join(n.node.router);
    const big = 'y'.repeat(64 * 1024);
    let served = 0;
    await service.register('svc.big', () => { served++; return big; });
    const caller = track(await rawClient(n.port));
    await caller.hello();
    caller.socket.pause();
    // 32 MiB of results at most: past the kernel buffers and 2 × 256 KiB the session is closed.
    for (let i = 1; i <= 512; i++) caller.send([48, i, {}, 'svc.big']);
    await until(async () => (await stats(service, caller.sessionId)) === undefined);
    expect(served).toBeGreaterThan(8);
    // The router and its other sessions carry on.
    expect((await service.call('svc.big')).args).toEqual([big]);
  }, 120_000);
});

describe('max_send_queue_total: the send queues of all connections together are bounded', () => {
  it('issue 19 memory budget: 40 subscribers that stop reading, each sent different events, hold about max_send_queue_total in all; drops are counted; a bystander that reads gets every event', async () => {
    const perConnection = 1 * MIB;
    const total = 4 * MIB;
    const n = await node({ maxSendQueue: perConnection, sendQueuePolicy: 'drop-events' }, {}, total);
    const admin = await join(n.node.router);
    const slowEvents: unknown[][] = [];
    await admin.subscribe('junction.session.on_slow_consumer', (args) => slowEvents.push(args));
    const publisher = track(await wsClient(n.wsUrl));
    const bystander = track(await wsClient(n.wsUrl));
    await publisher.hello();
    await bystander.hello();
    const slow: Array<WsWire | RawWire> = [];
    for (let i = 0; i < 40; i++) {
      const w = track(i % 2 === 0 ? await wsClient(n.wsUrl) : await rawClient(n.port));
      await w.hello();
      await w.subscribe(`feed.${i}`);
      await bystander.subscribe(`feed.${i}`);
      slow.push(w);
    }
    for (const w of slow) {
      if ('ws' in w) (w.ws as unknown as { _socket: Socket })._socket.pause();
      else w.socket.pause();
    }

    const payload = 'z'.repeat(60 * 1024);
    let published = 0;
    let sumMax = 0;
    const queues = async () => Promise.all(slow.map(async (w) => (await stats(admin, w.sessionId))!));
    // Round after round, a different event to each: until every slow subscriber lost some (past the
    // kernel buffers and its own queue), at most 100 rounds (240 MiB).
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < slow.length; i++) {
        publisher.publish(`feed.${i}`, [round, payload]);
        published++;
        // The bystander reads: at most one event in flight to it.
        while (bystander.events < published && !bystander.closed) await tick(1);
      }
      const q = await queues();
      sumMax = Math.max(sumMax, q.reduce((sum, s) => sum + (s['send_queue_bytes'] as number), 0));
      if (q.every((s) => (s['dropped_events'] as number) > 0)) break;
    }
    const q = await queues();
    const dropped = q.reduce((sum, s) => sum + (s['dropped_events'] as number), 0);
    if (process.env['JUNCTION_LIMITS_DEBUG']) console.log(`published ${published}, send queues at most ${(sumMax / MIB).toFixed(2)} MiB in all, ${dropped} events dropped`);

    expect(bystander.events).toBe(published); // a reader loses nothing
    expect((await stats(admin, bystander.sessionId))!).toMatchObject({ dropped_events: 0, slow_consumer: false });
    // The slow ones together held about the total: the cap, plus what each may take before it counts
    // as slow (64 KiB) and one turn's events — far under 40 × max_send_queue.
    expect(sumMax).toBeGreaterThan(total / 2);
    expect(sumMax).toBeLessThan(total + slow.length * 192 * 1024);
    for (const s of q) expect(s).toMatchObject({ slow_consumer: true, send_queue_limit: perConnection });
    expect(dropped).toBeGreaterThan(0);
    // Reported as for any slow consumer: once per session, not closed.
    await until(() => slowEvents.length >= slow.length);
    for (const e of slowEvents) expect(e[1]).toMatchObject({ policy: 'drop-events', disconnected: false });
    expect(slow.some((w) => w.closed)).toBe(false);
  }, 180_000);

  it('issue 19 memory budget: over max_send_queue_total, a slow connection under its own limit loses events only (drop-events) or is closed (disconnect); other messages still go', () => {
    const total = new SendQueueTotal(1 * MIB);
    const owners: string[] = [];
    const guard = (policy: 'drop-events' | 'disconnect', name: string) =>
      new SendQueueGuard({ maxSendQueue: 4 * MIB, sendQueuePolicy: policy }, { info: { type: 'rawsocket', serializer: 'json', peer: name }, dropSlowConsumer: () => owners.push(name) }, total);
    const dropping = guard('drop-events', 'a');
    const closing = guard('disconnect', 'b');
    // Under the total: a slow connection's events still go.
    dropping.record(512 * 1024);
    expect(dropping.threshold).toBe(0); // slow: each message to it is checked
    expect(dropping.over(EVENT, 512 * 1024, undefined)).toBe(false);
    closing.record(768 * 1024);
    expect(total.bytes).toBe(1280 * 1024);
    // Over it: events are dropped for the slow ones, anything else still goes.
    expect(dropping.over(EVENT, 512 * 1024, undefined)).toBe(true);
    expect(dropping.over(50 /* RESULT */, 512 * 1024, undefined)).toBe(false);
    expect(dropping.stats(512 * 1024)).toMatchObject({ droppedEvents: 1, slow: true, disconnected: false });
    expect(closing.over(EVENT, 768 * 1024, undefined)).toBe(true);
    expect(closing.stats(768 * 1024)).toMatchObject({ slow: true, disconnected: true });
    expect(owners).toEqual(['b']);
    // Drained: no longer slow, back to one comparison against its own limit.
    dropping.record(0);
    expect(dropping.threshold).toBe(4 * MIB);
    expect(total.bytes).toBe(768 * 1024);
  });
});

// ---- max connections ----

/** Opens a TCP connection, sends a RawSocket handshake, resolves with the reply's 2nd byte or 'closed'. */
function rawHandshake(port: number, keep: Socket[]): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let done = false;
    const finish = (v: number | 'closed') => {
      if (done) return;
      done = true;
      resolve(v);
    };
    socket.on('connect', () => socket.write(Buffer.from([0x7f, 0xf1, 0, 0])));
    let got = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 2) {
        if ((got[1]! & 0x0f) !== 0) keep.push(socket); // accepted: held open
        else socket.destroy();
        finish(got[1]!);
      }
    });
    socket.on('error', () => finish('closed'));
    socket.on('close', () => finish('closed'));
  });
}

describe('max_connections', () => {
  it('refuses RawSocket connections past the limit with handshake error 4 while a bystander keeps calling', async () => {
    const max = 50;
    const n = await node({}, { maxConnections: max });
    const callee = await join(n.node.router);
    await callee.register('svc.echo', (args) => args[0]);
    const bystander = track(await wsClient(n.wsUrl)); // one of the 50
    await bystander.hello();

    let calls = 0;
    let slowest = 0;
    let running = true;
    const calling = (async () => {
      while (running) {
        const t0 = Date.now();
        const r = await bystander.call('svc.echo', [calls]);
        expect(r[0]).toBe(50);
        slowest = Math.max(slowest, Date.now() - t0);
        calls++;
        await tick(5);
      }
    })();

    const held: Socket[] = [];
    cleanups.push(() => held.forEach((s) => s.destroy()));
    const outcomes: Array<number | 'closed'> = [];
    const total = 3000;
    for (let i = 0; i < total; i += 200) {
      outcomes.push(...(await Promise.all(Array.from({ length: Math.min(200, total - i) }, () => rawHandshake(n.port, held)))));
    }
    running = false;
    await calling;

    // Success: the router's length nibble and JSON (1); error: code << 4 with a zero low nibble.
    const accepted = outcomes.filter((o) => o !== 'closed' && (o & 0x0f) === 1).length;
    const refused = outcomes.filter((o) => o === 0x40).length;
    expect(accepted).toBe(max - 1);
    // Refused with error 4 ("maximum connection count reached"), or simply dropped when refusals pile up.
    expect(refused + outcomes.filter((o) => o === 'closed').length).toBe(total - accepted);
    expect(refused).toBeGreaterThan(total / 2);
    expect(calls).toBeGreaterThan(5);
    expect(slowest).toBeLessThan(5000);
    // The router stays responsive, and a freed slot can be used again.
    expect((await bystander.call('svc.echo', ['still here']))[3]).toEqual(['still here']);
    held.splice(0).forEach((s) => s.destroy());
    await until(() => n.node.router.sessionCount <= 3);
    const again = track(await rawClient(n.port));
    expect(await again.hello()).toBeGreaterThan(0);
  }, 120_000);

  it('answers WebSocket upgrades past the limit with HTTP 503', async () => {
    const n = await node({}, { maxConnections: 3 });
    const open = await Promise.all([wsClient(n.wsUrl), wsClient(n.wsUrl), wsClient(n.wsUrl)]);
    open.forEach(track);
    for (const w of open) await w.hello();
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(n.wsUrl, ['wamp.2.json']);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('connected past max_connections')));
      ws.on('error', () => {});
    });
    expect(status).toBe(503);
    open[0]!.ws.close();
    await open[0]!.whenClosed();
    await until(() => n.node.router.sessionCount <= 3);
    const fourth = track(await wsClient(n.wsUrl));
    expect(await fourth.hello()).toBeGreaterThan(0);
  }, 30_000);
});

// ---- message rate ----

describe('max_messages_per_second', () => {
  it('throttles a flooding publisher to about the rate, loses nothing, and a bystander is answered promptly', async () => {
    const rate = 500;
    const burst = 50;
    const n = await node({ maxMessagesPerSecond: rate, maxMessagesBurst: burst });
    const sink = await join(n.node.router);
    const received = { ws: 0, raw: 0 };
    const doneAt = { ws: 0, raw: 0 };
    const count = 1500;
    await sink.subscribe('flood.ws', () => {
      if (++received.ws === count) doneAt.ws = Date.now();
    });
    await sink.subscribe('flood.raw', () => {
      if (++received.raw === count) doneAt.raw = Date.now();
    });
    await sink.register('svc.echo', (args) => args[0]);
    const floodWs = track(await wsClient(n.wsUrl));
    const floodRaw = track(await rawClient(n.port));
    const bystander = track(await wsClient(n.wsUrl));
    for (const w of [floodWs, floodRaw, bystander]) await w.hello();
    await tick(Math.ceil((burst * 1000) / rate) + 50); // budgets full again after the handshakes

    const t0 = Date.now();
    for (let i = 0; i < count; i++) {
      floodWs.publish('flood.ws', [i]);
      floodRaw.publish('flood.raw', [i]);
    }
    let slowest = 0;
    let calls = 0;
    while (received.ws < count || received.raw < count) {
      const c0 = Date.now();
      const r = await bystander.call('svc.echo', [calls]);
      expect(r[0]).toBe(50);
      slowest = Math.max(slowest, Date.now() - c0);
      calls++;
      if (Date.now() - t0 > 60_000) break;
      await tick(20);
    }
    expect(received).toEqual({ ws: count, raw: count }); // nothing lost
    // Each flooder got its burst and then at most `rate` per second (both in parallel).
    const least = ((count - burst) / rate) * 1000;
    for (const t of [doneAt.ws, doneAt.raw]) {
      expect(t - t0).toBeGreaterThanOrEqual(least * 0.9);
      expect(t - t0).toBeLessThan(least * 4);
    }
    expect(calls).toBeGreaterThan(10);
    expect(slowest).toBeLessThan(1000);
  }, 90_000);
});

// ---- pending calls per caller (in-process) ----

describe('max_pending_calls', () => {
  function router(maxPendingCalls?: number): Router {
    return new Router([{ name: 'realm1', roles: [allowAll()], ...(maxPendingCalls ? { maxPendingCalls } : {}) }], new InProcessServices());
  }

  it('answers a CALL past the cap with junction.error.too_many_pending_calls, and takes calls again once answered', async () => {
    const r = router(5);
    const [callee, caller, other] = [await join(r), await join(r), await join(r)];
    const release: Array<() => void> = [];
    await callee.register('svc.wait', () => new Promise((resolve) => release.push(() => resolve('done'))));
    const pending = Array.from({ length: 5 }, () => caller.call('svc.wait'));
    await tick(5);
    await expect(caller.call('svc.wait')).rejects.toMatchObject({ uri: TOO_MANY_PENDING_CALLS });
    expect(TOO_MANY_PENDING_CALLS).toBe('junction.error.too_many_pending_calls');
    // Per session: another caller is not affected.
    const others = other.call('svc.wait');
    await tick(5);
    expect(release).toHaveLength(6);
    release.shift()!();
    await pending[0];
    const sixth = caller.call('svc.wait');
    await tick(5);
    expect(release).toHaveLength(6);
    release.splice(0).forEach((f) => f());
    await Promise.all([...pending, others, sixth]);
  });

  it('defaults to 1000 pending calls per session', async () => {
    const r = router();
    const [callee, caller] = [await join(r), await join(r)];
    const release: Array<() => void> = [];
    await callee.register('svc.wait', () => new Promise((resolve) => release.push(() => resolve(1))));
    const pending = Array.from({ length: 1000 }, () => caller.call('svc.wait'));
    await until(() => release.length === 1000);
    await expect(caller.call('svc.wait')).rejects.toMatchObject({ uri: TOO_MANY_PENDING_CALLS });
    release.splice(0).forEach((f) => f());
    await Promise.all(pending);
    const next = caller.call('svc.wait');
    await until(() => release.length === 1);
    release.splice(0).forEach((f) => f());
    expect((await next).args).toEqual([1]);
  });
});
