// Issue 19 on a 256 MB board, MQTT side, with the npm `mqtt` client (MQTT.js) and Autobahn|JS:
// a subscriber that stops reading costs a bounded queue (#2), persistent sessions waiting for their
// clients are bounded in bytes (#11), and a SUBSCRIBE of many filters over 10,000 retained topics
// does not stall the event loop (#4).
import { describe, it, expect, afterEach } from 'vitest';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { tick } from '../helpers/core.js';
import { ClientSession } from '../../src/client/client-session.js';
import type { MqttServiceConfig } from '../../src/config/types.js';
import { MQTT_DEFAULTS } from '../../src/config/load-mqtt.js';
import { MAX_FILTERS_PER_SUBSCRIBE } from '../../src/transports/mqtt-listener/subscriptions.js';
import type { MqttService } from '../../src/transports/mqtt-listener/service.js';
import { closeAll, stalledMqttSubscriber } from '../helpers/flood.js';
import { until } from '../helpers/until.js';
import { MqttWire } from '../helpers/mqtt-wire.js';
import { TurnTally } from '../helpers/turns.js';
import * as mqttPacket from 'mqtt-packet';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

const KB = 1024;
const MIB = 1024 * KB;

// A full garbage collection, so that what is measured is what the router holds, not garbage. Twice:
// V8 frees the memory of dead Buffers (ArrayBuffer backing stores) in a sweep that may still be
// running when gc() returns, and the next collection finishes it; after one, `arrayBuffers` read
// up to 40 MiB of dead Buffers now and then (3.7 MiB held, read again after a second one).
setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;
const collectGarbage = (): void => {
  gc();
  gc();
};

let node: TestNode | undefined;
const clients: MqttClient[] = [];
afterEach(async () => {
  closeAll();
  for (const c of clients.splice(0)) c.end(true);
  await node?.stop();
  node = undefined;
});

async function startWith(overrides: Partial<MqttServiceConfig> = {}): Promise<{ node: TestNode; mqttService: MqttService }> {
  const mqttConfig: MqttServiceConfig = { ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '', payload: [{ prefix: '', type: 'native' }], ...overrides };
  node = await startTestNode({ listener: { mqtt: mqttConfig } });
  return { node, mqttService: node.node.listeners[0]!.mqtt! };
}

async function connectMqtt(port: number, options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/**
 * What the router holds while `work` runs: every 250 ms, and once after it, a full garbage
 * collection, then the growth of the heap and of Buffer memory (where queued messages live) over
 * what was held before; the highest is `heldPeak`, the last `buffersHeld` (Buffers only). Not RSS:
 * the router runs in this process beside the test's own MQTT.js clients, whose packets (and the
 * garbage both leave until V8 collects it) are in the RSS too; the budget test measures the whole
 * router's RSS in a process of its own (test/integration/budget-process.test.ts).
 */
async function memoryGrowth(work: () => Promise<void>): Promise<{ heldPeak: number; buffersHeld: number }> {
  const held = () => {
    collectGarbage();
    const m = process.memoryUsage();
    return { all: m.heapUsed + m.arrayBuffers, buffers: m.arrayBuffers };
  };
  const before = held();
  let peak = before.all;
  const timer = setInterval(() => (peak = Math.max(peak, held().all)), 250);
  try {
    await work();
    await tick(100);
  } finally {
    clearInterval(timer);
  }
  const after = held();
  return { heldPeak: Math.max(peak, after.all) - before.all, buffersHeld: after.buffers - before.buffers };
}

/** Publishes `count` messages, at most `window` unacknowledged (QoS 1) or unwritten (QoS 0) at once. */
async function flood(client: MqttClient, topic: string, payload: Buffer, count: number, qos: 0 | 1, window = 32): Promise<void> {
  const pending = new Set<Promise<unknown>>();
  for (let i = 0; i < count; i++) {
    const p = client.publishAsync(topic, payload, { qos });
    pending.add(p);
    void p.finally(() => pending.delete(p));
    if (pending.size >= window) await Promise.race(pending);
  }
  await Promise.all(pending);
}

async function autobahnSession(url: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const c = new autobahn.Connection({ url, realm: 'realm1', max_retries: 0 });
    c.onopen = (s: any) => resolve(s);
    c.onclose = (reason: string) => { reject(new Error(reason)); return true; };
    c.open();
  });
}

/** A router-side look at one MQTT client's session: its outbox and send queue. */
function routerSide(service: MqttService, clientId: string) {
  const session = service.session(clientId);
  if (!session) throw new Error(`no session for ${clientId}`);
  return { outbox: session.deliveries, queue: session.sendQueue() };
}

describe('issue 19 #2: an MQTT client that stops reading', () => {
  it('issue 19 #2: QoS 0 past max_send_queue is dropped (counted, meta stats), the memory held stays bounded, the bystander is served', async () => {
    const { node, mqttService } = await startWith();
    const slow = await connectMqtt(node.port, { clientId: 'slow' });
    await slow.subscribeAsync('sensors/#', { qos: 0 });
    const bystander = await connectMqtt(node.port, { clientId: 'bystander' });
    await bystander.subscribeAsync('sensors/marker', { qos: 0 });
    const marks: string[] = [];
    bystander.on('message', (_topic, payload) => marks.push(payload.toString()));
    const wamp = await ClientSession.connect(node.node.router, { realm: 'realm1', name: 'observer' });
    const slowEvents: unknown[][] = [];
    await wamp.subscribe('junction.session.on_slow_consumer', (args) => slowEvents.push(args));
    // The subscriber stops reading: the kernel's buffers fill, then the router's socket backlog.
    slow.stream.pause();
    const publisher = await connectMqtt(node.port, { clientId: 'publisher' });
    const payload = Buffer.alloc(16 * KB, 'q');
    const count = 12_000; // 188 MiB toward the slow subscriber
    let worstQueue = 0;
    const sampler = setInterval(() => (worstQueue = Math.max(worstQueue, routerSide(mqttService, 'slow').queue.bytes)), 10);
    const growth = await memoryGrowth(() => flood(publisher, 'sensors/temp', payload, count, 0));
    clearInterval(sampler);

    const { queue } = routerSide(mqttService, 'slow');
    expect(queue.limit).toBe(MQTT_DEFAULTS.maxSendQueue);
    expect(worstQueue).toBeLessThanOrEqual(MQTT_DEFAULTS.maxSendQueue + payload.length + 1024);
    expect(queue.slow).toBe(true);
    expect(queue.droppedEvents).toBeGreaterThan(count / 2);
    expect(queue.disconnected).toBe(false); // drop-events: it stays, and loses QoS 0 messages
    // Before the bound: +185 MiB of Buffers held (RSS +277 MiB).
    console.log(`issue 19 #2 QoS 0: held at most ${(growth.heldPeak / MIB).toFixed(1)} MiB over the start (heap and Buffers, after GC), Buffers at the end ${(growth.buffersHeld / MIB).toFixed(1)} MiB, worst send queue ${worstQueue} bytes`);
    expect(growth.buffersHeld).toBeLessThan(32 * MIB);
    // The peak is sampled mid-flood, so it also holds what is in flight in this process (the test's
    // own MQTT.js clients): 2-5 MiB, idle machine or busy.
    expect(growth.heldPeak).toBeLessThan(24 * MIB);

    // The same numbers through the meta API (announced once), and the bystander still served (MQTT and WAMP).
    const ids = (await wamp.call('wamp.session.list')).args[0] as number[];
    const details = await Promise.all(ids.map(async (id) => (await wamp.call('junction.session.get', [id])).args[0] as any));
    const slowDetails = details.find((d) => d.authextra?.mqtt?.client_id === 'slow') ?? details.find((d) => d.transport.peer.endsWith(`:${slow.stream.localPort}`));
    expect(slowDetails.junction).toMatchObject({ send_queue_limit: MQTT_DEFAULTS.maxSendQueue, send_queue_policy: 'drop-events', slow_consumer: true });
    expect(slowDetails.junction.dropped_events).toBeGreaterThan(count / 2);
    expect(slowEvents).toEqual([[slowDetails.session, expect.objectContaining({ policy: 'drop-events', send_queue_limit: MQTT_DEFAULTS.maxSendQueue, disconnected: false })]]);
    await publisher.publishAsync('sensors/marker', 'still here', { qos: 0 });
    await until(() => marks.length > 0);
    expect(marks).toEqual(['still here']);
    const caller = await autobahnSession(node.wsUrl);
    await wamp.register('svc.ping', () => 'pong');
    expect(await caller.call('svc.ping')).toBe('pong');
    caller.connection?.close?.();
    await wamp.close();
  });

  it('issue 19 #2: QoS 1 messages of 64 kB wait in an outbox bounded in bytes (max_offline_bytes), not only in count', async () => {
    const { node, mqttService } = await startWith();
    const slow = await connectMqtt(node.port, { clientId: 'slow-q1' });
    await slow.subscribeAsync('sensors/#', { qos: 1 });
    slow.stream.pause();
    const publisher = await connectMqtt(node.port, { clientId: 'publisher-q1' });
    const payload = Buffer.alloc(64 * KB, 'w');
    const count = 1500; // 94 MiB; 1,100 of them fitted in the count-only outbox (100 in flight, 1,000 waiting)
    let worstOutbox = 0;
    const sampler = setInterval(() => (worstOutbox = Math.max(worstOutbox, routerSide(mqttService, 'slow-q1').outbox.bytes)), 10);
    const growth = await memoryGrowth(() => flood(publisher, 'sensors/cam', payload, count, 1));
    clearInterval(sampler);
    const { outbox, queue } = routerSide(mqttService, 'slow-q1');
    expect(worstOutbox).toBeLessThanOrEqual(MQTT_DEFAULTS.maxOfflineBytes + payload.length + 1024);
    expect(outbox.dropped).toBeGreaterThan(count / 2);
    expect(queue.droppedEvents).toBeGreaterThanOrEqual(outbox.dropped);
    // Before the bound: +73 MiB of Buffers held (1,100 messages of 64 kB).
    console.log(`issue 19 #2 QoS 1: held at most ${(growth.heldPeak / MIB).toFixed(1)} MiB over the start (heap and Buffers, after GC), Buffers at the end ${(growth.buffersHeld / MIB).toFixed(1)} MiB, worst outbox ${worstOutbox} bytes`);
    expect(growth.buffersHeld).toBeLessThan(32 * MIB);
    expect(growth.heldPeak).toBeLessThan(24 * MIB);
  });

  it('issue 19 #2: with send_queue_policy disconnect the slow client is dropped at max_send_queue; its persistent session keeps a bounded queue', async () => {
    const { node, mqttService } = await startWith({ sendQueuePolicy: 'disconnect', maxSendQueue: 256 * KB, maxOfflineBytes: 256 * KB });
    const slow = await connectMqtt(node.port, { clientId: 'slow-persistent', clean: false });
    await slow.subscribeAsync('sensors/#', { qos: 1 });
    slow.stream.pause();
    const publisher = await connectMqtt(node.port, { clientId: 'publisher-p' });
    await flood(publisher, 'sensors/noise', Buffer.alloc(16 * KB, 'n'), 2000, 0);
    // Dropped: the session waits for its client, and what it keeps is bounded in bytes.
    await until(() => mqttService.session('slow-persistent')?.connected === false);
    expect(mqttService.session('slow-persistent')?.connected).toBe(false);
    await flood(publisher, 'sensors/important', Buffer.alloc(32 * KB, 'i'), 40, 1);
    const { outbox } = routerSide(mqttService, 'slow-persistent');
    expect(outbox.bytes).toBeLessThanOrEqual(256 * KB + 32 * KB);
    expect(outbox.dropped).toBeGreaterThan(0);
    expect(mqttService.offlineQueuedBytes).toBe(outbox.bytes);
    // The client comes back and gets the newest of what was kept.
    slow.end(true);
    const back = await connectMqtt(node.port, { clientId: 'slow-persistent', clean: false });
    const got: string[] = [];
    back.on('message', (topic) => got.push(topic));
    await until(() => got.includes('sensors/important') && outbox.queued === 0);
    expect(got.filter((t) => t === 'sensors/important').length).toBeLessThanOrEqual(9);
    expect(got).toContain('sensors/important');
  });
});

describe('issue 19 memory budget: many MQTT clients that stop reading', () => {
  it('issue 19 memory budget: the events queued for many slow MQTT subscribers are held once, not once per subscriber', async () => {
    // Send queues (each, and all together) large enough that none of the measured events is dropped:
    // which events a queue holds then does not depend on when each subscriber's kernel buffer filled
    // (it varies with load). The bounds themselves are the tests above and below.
    const mqttConfig: MqttServiceConfig = { ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '', payload: [{ prefix: '', type: 'native' }], maxSendQueue: 16 * MIB };
    node = await startTestNode({ listener: { mqtt: mqttConfig }, maxSendQueueTotal: 512 * MIB });
    const mqttService = node.node.listeners[0]!.mqtt!;
    const SLOW = 20;
    for (let i = 0; i < SLOW; i++) {
      await stalledMqttSubscriber(node.port, { clientId: `stalled-${i}`, username: 'u', password: 'p', filter: 'cams/#', qos: 0 });
    }
    const publisher = await connectMqtt(node.port, { clientId: 'cam-publisher' });
    const payload = Buffer.alloc(64 * KB, 'c');
    const queuedNow = () => Array.from({ length: SLOW }, (_, i) => routerSide(mqttService, `stalled-${i}`).queue.bytes);
    // First every subscriber's kernel buffers fill, so that the router queues what follows. A queue
    // that has just started may still drain into a kernel buffer that grows (the router reads its
    // publishers a share per event-loop turn, which paces its writes): filled to several events,
    // and settled.
    for (let sent = 0; queuedNow().some((bytes) => bytes < 4 * payload.length); sent++) {
      if (sent > 2000) throw new Error(`send queues never started: ${queuedNow().join(', ')}`);
      await flood(publisher, 'cams/front', payload, 8, 0);
      await tick(5);
    }
    await tick(200);
    const queuedBefore = queuedNow().reduce((a, b) => a + b, 0);
    const EVENTS = 32; // 2 MiB to each subscriber, 40 MiB in all
    const growth = await memoryGrowth(() => flood(publisher, 'cams/front', payload, EVENTS, 0));
    const queued = queuedNow().reduce((a, b) => a + b, 0) - queuedBefore;
    console.log(`issue 19 memory budget: ${SLOW} stalled MQTT subscribers queued ${(queued / MIB).toFixed(1)} MiB more in all; Buffers held ${(growth.buffersHeld / MIB).toFixed(1)} MiB more`);
    // Every subscriber queued the events (less what a kernel buffer that grew took meanwhile)...
    expect(queued).toBeGreaterThanOrEqual(0.9 * SLOW * EVENTS * payload.length);
    // ...and the payloads are held once: before, each queue held its own copy (+40 MiB here).
    expect(growth.buffersHeld).toBeLessThan(queued / 4);
  });

  it('issue 19 memory budget: stalled MQTT subscribers, each sent different QoS 0 messages, hold about max_send_queue_total in all; a subscriber that reads gets every message', async () => {
    const total = 4 * MIB;
    const mqttConfig: MqttServiceConfig = { ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '', payload: [{ prefix: '', type: 'native' }] };
    node = await startTestNode({ listener: { mqtt: mqttConfig }, maxSendQueueTotal: total });
    const mqttService = node.node.listeners[0]!.mqtt!;
    const SLOW = 20;
    for (let i = 0; i < SLOW; i++) {
      await stalledMqttSubscriber(node.port, { clientId: `stalled-${i}`, username: 'u', password: 'p', filter: `cams/${i}`, qos: 0 });
    }
    const reader = await connectMqtt(node.port, { clientId: 'reader' });
    await reader.subscribeAsync('cams/#', { qos: 0 });
    let received = 0;
    let onReceived = () => {};
    reader.on('message', () => {
      received++;
      onReceived();
    });
    const publisher = await connectMqtt(node.port, { clientId: 'cam-publisher' });
    const payload = Buffer.alloc(60 * KB, 'c');
    const queues = () => Array.from({ length: SLOW }, (_, i) => routerSide(mqttService, `stalled-${i}`).queue);
    let published = 0;
    let sumMax = 0;
    // A different message to each, round after round, until each stalled one lost some (past the
    // kernel's buffers, a few MiB each on loopback; at most 150 rounds, 176 MiB).
    for (let round = 0; round < 150 && !queues().every((q) => q.droppedEvents > 0); round++) {
      for (let i = 0; i < SLOW; i++) {
        const delivered = new Promise<void>((resolve) => (onReceived = () => received >= published && resolve()));
        published++;
        await publisher.publishAsync(`cams/${i}`, payload, { qos: 0 });
        await delivered; // the reader keeps up: one message in flight
        sumMax = Math.max(sumMax, queues().reduce((sum, q) => sum + q.bytes, 0));
      }
    }
    const dropped = queues().reduce((sum, q) => sum + q.droppedEvents, 0);
    console.log(`issue 19 memory budget: ${SLOW} stalled MQTT subscribers held at most ${(sumMax / MIB).toFixed(2)} MiB in all (max_send_queue_total ${total / MIB} MiB, ${SLOW} × max_send_queue ${SLOW * MQTT_DEFAULTS.maxSendQueue / MIB} MiB); ${dropped} messages dropped of ${published}`);
    expect(received).toBe(published);
    expect(routerSide(mqttService, 'reader').queue).toMatchObject({ droppedEvents: 0, slow: false });
    // The total, plus up to 64 KiB and one round's message for each before it counts as slow.
    expect(sumMax).toBeGreaterThan(total / 2);
    expect(sumMax).toBeLessThan(total + SLOW * 192 * KB);
    for (const q of queues()) expect(q).toMatchObject({ slow: true, disconnected: false });
    expect(dropped).toBeGreaterThan(0);
  });
});

describe('issue 19 #11: persistent sessions waiting for their clients', () => {
  it('issue 19 #11: each keeps at most max_offline_bytes, all together at most max_offline_bytes_total (the one away longest ends)', async () => {
    const { node, mqttService } = await startWith({ maxOfflineBytes: 256 * KB, maxOfflineBytesTotal: MIB });
    for (let i = 0; i < 6; i++) {
      const c = await connectMqtt(node.port, { clientId: `away-${i}`, clean: false });
      await c.subscribeAsync('fleet/#', { qos: 1 });
      await c.endAsync();
      await until(() => mqttService.session(`away-${i}`)?.connected === false);
    }
    const publisher = await connectMqtt(node.port, { clientId: 'fleet-publisher' });
    for (let n = 0; n < 64; n++) await publisher.publishAsync('fleet/update', Buffer.from(`${n}:`.padEnd(32 * KB, '.')), { qos: 1 });
    expect(mqttService.offlineQueuedBytes).toBeLessThanOrEqual(MIB);
    // Six sessions of about 256 kB do not fit in 1 MiB: the two away longest ended.
    expect(mqttService.session('away-0')).toBeUndefined();
    expect(mqttService.session('away-1')).toBeUndefined();
    for (let i = 2; i < 6; i++) expect(mqttService.session(`away-${i}`)!.deliveries.bytes).toBeLessThanOrEqual(256 * KB);
    const back = await connectMqtt(node.port, { clientId: 'away-5', clean: false, protocolVersion: 5 });
    const got: number[] = [];
    back.on('message', (_topic, payload) => got.push(Number(payload.toString().split(':')[0])));
    await until(() => got.includes(63));
    // The newest messages, as many as fit in 256 kB; the oldest were dropped.
    expect(got.length).toBeGreaterThan(3);
    expect(got.length).toBeLessThanOrEqual(8);
    expect(got).toEqual(got.slice().sort((a, b) => a - b));
    expect(got.at(-1)).toBe(63);
  });
});

describe('issue 19 #4: retained lookups and large SUBSCRIBEs do not stall the router', () => {
  it('issue 19 #4: 10,000 retained topics, a SUBSCRIBE with the most filters allowed: the loop stays responsive, a WAMP call is answered promptly, extra filters get 0x97', async () => {
    const { node } = await startWith();
    const wamp = await ClientSession.connect(node.node.router, { realm: 'realm1', name: 'retainer' });
    const RETAINED = 10_000;
    for (let i = 0; i < RETAINED; i++) await wamp.publish(`sensors.${i}.temp`, [i], {}, { retain: true, acknowledge: true });
    await wamp.register('svc.ping', () => 'pong');
    const caller = await autobahnSession(node.wsUrl);

    const client = await connectMqtt(node.port, { clientId: 'many-filters', protocolVersion: 5 });
    let received = 0;
    client.on('message', () => received++);
    // One filter matches every retained topic; the others one each, as a dashboard of sensors would.
    const filters: Record<string, { qos: 0 }> = { 'sensors/#': { qos: 0 } };
    for (let i = 0; Object.keys(filters).length < MAX_FILTERS_PER_SUBSCRIBE + 1; i++) filters[`sensors/${i}/+`] = { qos: 0 };
    const suback = new Promise<number[]>((resolve) => {
      client.on('packetreceive', (packet: any) => packet.cmd === 'suback' && resolve(packet.granted));
    });
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const started = performance.now();
    // Unrelated WAMP calls all along, one due every 10 ms: how late the worst one is answered.
    let pinging = true;
    let calls = 0;
    let callMs = 0;
    const pinger = (async () => {
      while (pinging) {
        const due = performance.now() + 10;
        await tick(10);
        expect(await caller.call('svc.ping')).toBe('pong');
        callMs = Math.max(callMs, performance.now() - due);
        calls++;
      }
    })();
    client.subscribe(filters, () => {});
    const granted = await suback;
    const expected = RETAINED + MAX_FILTERS_PER_SUBSCRIBE - 1;
    await until(() => received >= expected, 30_000);
    delay.disable();
    pinging = false;
    await pinger;
    const totalMs = performance.now() - started;
    const maxDelayMs = delay.max / 1e6;
    console.log(`issue 19 #4: ${RETAINED} retained, ${MAX_FILTERS_PER_SUBSCRIBE} filters: done in ${totalMs.toFixed(0)} ms, event-loop delay max ${maxDelayMs.toFixed(1)} ms (p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms), unrelated calls ${calls}, the latest answered ${callMs.toFixed(1)} ms after it was due`);
    expect(granted).toHaveLength(MAX_FILTERS_PER_SUBSCRIBE + 1);
    expect(granted.slice(0, MAX_FILTERS_PER_SUBSCRIBE).every((code) => code === 0)).toBe(true);
    expect(granted[MAX_FILTERS_PER_SUBSCRIBE]).toBe(0x97);
    expect(received).toBe(expected);
    // Before: one 8-16 s stall. The bound is generous: this process also runs the clients, and a
    // loaded 2-core machine preempts it (40-140 ms seen at load 12, 10 ms slices of router work).
    expect(maxDelayMs).toBeLessThan(400);
    expect(calls).toBeGreaterThan(0);
    expect(callMs).toBeLessThan(1000);
    caller.connection?.close?.();
    await wamp.close();
  });

  it('issue 19 #4: an MQTT 3.1.1 client gets 0x80 (failure) for the filters past the limit', async () => {
    const { node } = await startWith();
    const client = await connectMqtt(node.port, { clientId: 'v311-many', protocolVersion: 4 });
    const filters: Record<string, { qos: 1 }> = {};
    for (let i = 0; i <= MAX_FILTERS_PER_SUBSCRIBE; i++) filters[`a/${i}`] = { qos: 1 };
    const granted = await new Promise<number[]>((resolve) => {
      client.on('packetreceive', (packet: any) => packet.cmd === 'suback' && resolve(packet.granted));
      client.subscribe(filters, () => {});
    });
    expect(granted.slice(0, MAX_FILTERS_PER_SUBSCRIBE).every((code) => code === 1)).toBe(true);
    expect(granted[MAX_FILTERS_PER_SUBSCRIBE]).toBe(0x80);
  });
});

describe('issue 19: a retained MQTT message holds the memory its limits count', () => {
  it('issue 19: retained payloads read in one chunk with other messages, small or large, keep only their own bytes (not the chunk they came in)', async () => {
    const { node } = await startWith();
    const wire = await MqttWire.connected(node.port, 4, { clientId: 'burst' });
    const publish = (topic: string, payload: Buffer, retain: boolean) =>
      mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, retain, dup: false }, { protocolVersion: 4 });
    const small = Buffer.alloc(64, 's');
    const large = Buffer.alloc(40 * KB, 'l');
    const noise = Buffer.alloc(30 * KB, 'n'); // to a topic nobody subscribes to: gone once routed
    const packets: Buffer[] = [];
    for (let i = 0; i < 200; i++) packets.push(publish(`ret/small/${i}`, small, true), publish('noise', noise, false));
    for (let i = 0; i < 100; i++) packets.push(publish(`ret/large/${i}`, large, true), publish('noise', noise, false));
    const retainedBytes = 200 * small.length + 100 * large.length;
    const store = node.node.router.realm('realm1')!.broker.store;
    // One write: the router reads it in chunks of up to 64 KiB, each with several messages.
    const growth = await memoryGrowth(async () => {
      wire.write(Buffer.concat(packets));
      await until(() => store.retainedUsage.topics === 300, 15_000, '300 retained topics');
    });
    // A payload sharing its chunk would hold up to 64 KiB each: 200 small ones alone, ~12.5 MiB.
    expect(growth.buffersHeld, `${(growth.buffersHeld / MIB).toFixed(2)} MiB held for ${(retainedBytes / MIB).toFixed(2)} MiB retained`)
      .toBeLessThan(retainedBytes * 1.2 + 512 * KB);
    wire.close();
  });
});

// Issue 19 "no stall": a client streaming large PUBLISHes gets its share of an event-loop turn and
// no more; the rest waits in the kernel until the next turns (TurnShare).
describe('issue 19 no stall: an MQTT client\'s share of an event-loop turn', () => {
  it('30 PUBLISHes of 200 KiB sent at once reach subscribers at most two a turn, all of them in order', async () => {
    const { node } = await startWith({ maxPacketSize: MIB });
    const turns = new TurnTally();
    const received: number[] = [];
    const wamp = await ClientSession.connect(node.node.router, { realm: 'realm1', name: 'observer' });
    await wamp.subscribe('big', (args) => {
      turns.seen();
      received.push(Buffer.from(args[0] as Uint8Array).readUInt32BE(0));
    });
    const publisher = await connectMqtt(node.port, { clientId: 'big-publisher' });
    const MESSAGES = 30;
    for (let i = 0; i < MESSAGES; i++) {
      const payload = Buffer.alloc(200 * KB, 'b');
      payload.writeUInt32BE(i, 0);
      publisher.publish('big', payload, { qos: 0 });
    }
    try {
      await until(() => received.length === MESSAGES, 10_000);
    } finally {
      turns.stop();
    }
    expect(received).toEqual(Array.from({ length: MESSAGES }, (_, i) => i));
    expect(turns.busiest).toBeLessThanOrEqual(2);
  });
});
