// The bridge to an external MQTT broker, against real peers: Debian's mosquitto broker,
// mosquitto_pub / mosquitto_sub, the npm `mqtt` client, and Autobahn|JS on the WAMP side of a real
// Junction node. Brokers run on ephemeral ports with persistence off; a broker "gate" (the bridge
// user's password, reloaded with SIGHUP) keeps a bridge out while a test's MQTT subscriber connects,
// so the subscriber is always in place before buffered messages flow — nothing here waits on timing.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createRequire } from 'node:module';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { connect as mqttConnect, type MqttClient, type IClientOptions } from 'mqtt';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { freePort } from '../helpers/free-port.js';
import { Mosquitto, MOSQUITTO_PUB, MOSQUITTO_SUB, BRIDGE_USER, BRIDGE_PASSWORD } from '../helpers/mosquitto.js';
import type { MqttBridgeConfig } from '../../src/config/types.js';
import { ClientSession } from '../../src/client/client-session.js';
import { until } from '../helpers/until.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

const STREAM = 10_000;

function bridgeConfig(id: string, url: string, overrides: Partial<MqttBridgeConfig> = {}): MqttBridgeConfig {
  return {
    id, realm: 'realm1', role: 'trusted', authid: `mqtt-bridge-${id}`, urls: [url], clientId: `junction-test-${id}`,
    username: BRIDGE_USER, password: BRIDGE_PASSWORD, protocolVersion: 5, keepalive: 30,
    reconnect: { initialDelay: 100, maxDelay: 500 }, connectTimeout: 5000,
    topicPrefix: '', payload: [{ prefix: '', type: 'native' }],
    toWamp: [], toMqtt: [], maxBuffered: 10_000, maxInflight: 20,
    ...overrides,
  };
}

const opened: Array<{ close(): void }> = [];
const mqttClients: MqttClient[] = [];
const children: ChildProcess[] = [];
const brokers: Mosquitto[] = [];
const nodes: TestNode[] = [];

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const o of opened) { try { o.close(); } catch { /* already closed */ } }
  for (const c of mqttClients) c.end(true);
  for (const n of nodes) await n.stop();
  for (const b of brokers) await b.kill();
});

async function broker(): Promise<Mosquitto> {
  const b = new Mosquitto(await freePort());
  brokers.push(b);
  return b;
}

function wamp(port: number): Promise<any> {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({ url: `ws://127.0.0.1:${port}/ws`, realm: 'realm1', max_retries: 0 });
    connection.onopen = (session: any) => { opened.push(connection); resolve(session); };
    connection.onclose = (reason: string, details: any) => { reject(new Error(`${reason} ${details?.reason ?? ''}`)); return true; };
    connection.open();
  });
}

/** An npm `mqtt` client, connected. */
async function mqttClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqttConnect(url, { reconnectPeriod: 200, ...options });
  mqttClients.push(client);
  client.on('error', () => {});
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  return client;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 15_000 }, (err, _stdout, stderr) => (err ? reject(new Error(`${cmd}: ${err.message} ${stderr}`)) : resolve()));
  });
}

const state = async (session: any, id: string): Promise<Record<string, any>> => session.call('junction.bridge.mqtt.get', [id]);

describe('MQTT bridge with mosquitto', () => {
  let mosquitto: Mosquitto;
  let node: TestNode;
  let wampSession: any;
  const states: Array<[string, Record<string, any>]> = [];

  beforeAll(async () => {
    mosquitto = await broker();
    await mosquitto.start();
    node = await startTestNode({
      bridges: {
        mqtt: [bridgeConfig('main', mosquitto.url, {
          toWamp: [{ filter: 'sensors/#', qos: 2 }, { filter: 'tele/+/STATE', qos: 2 }, { filter: 'loop/#', qos: 2 }],
          toMqtt: [
            { uri: 'cmd.', match: 'prefix', qos: 0, retain: false },
            { uri: 'loop.', match: 'prefix', qos: 0, retain: false },
            { uri: 'stream.', match: 'prefix', qos: 1, retain: false },
          ],
          maxBuffered: 20_000,
        }), bridgeConfig('v4', mosquitto.url, {
          protocolVersion: 4, role: 'anonymous',
          toWamp: [{ filter: 'loop4/#', qos: 1 }],
          toMqtt: [{ uri: 'loop4.', match: 'prefix', qos: 1, retain: false }],
        })],
      },
    });
    nodes.push(node);
    wampSession = await wamp(node.port);
    await wampSession.subscribe('junction.bridge.mqtt.on_state', (args: any[]) => { states.push([args[0], args[1]]); });
    await until(async () => (await state(wampSession, 'main'))['connected'] === true && (await state(wampSession, 'v4'))['connected'] === true, 30_000, 'the bridges to connect');
  });

  it('lists its bridges and shows their state in the meta API', async () => {
    expect(await wampSession.call('junction.bridge.mqtt.list')).toEqual(['main', 'v4']);
    const s = await state(wampSession, 'main');
    expect(s).toMatchObject({ id: 'main', realm: 'realm1', url: mosquitto.url, connected: true, buffered: 0, dropped: 0, protocol_version: 5 });
    await expect(wampSession.call('junction.bridge.mqtt.get', ['nope'])).rejects.toMatchObject({ error: 'junction.error.no_such_bridge' });
  });

  it('mosquitto_pub to a bridged topic reaches a WAMP subscriber, mapped, with _mqtt_topic and _mqtt_qos', async () => {
    // Autobahn|JS keeps only the spec's fields of EVENT details; an in-process session (a WAMP
    // session like any other, through the same broker) shows all of them.
    const local = await ClientSession.connect(node.node.router, { realm: 'realm1', role: 'anonymous' });
    const events: Array<{ args: any[]; kwargs: any; details: any }> = [];
    await local.subscribe('sensors.', (args, kwargs, details) => { events.push({ args, kwargs, details }); }, { match: 'prefix' });
    await local.subscribe('tele..STATE', (args, kwargs, details) => { events.push({ args, kwargs, details }); }, { match: 'wildcard' });
    const viaAutobahn: any[] = [];
    await wampSession.subscribe('sensors.kitchen.temp', (args: any[], kwargs: any) => { viaAutobahn.push({ args, kwargs }); });
    const pub = (topic: string, message: string, qos: number, ...extra: string[]) =>
      run(MOSQUITTO_PUB, ['-h', '127.0.0.1', '-p', String(mosquitto.port), '-t', topic, '-q', String(qos), '-m', message, ...extra]);
    await pub('sensors/kitchen/temp', '{"args":[21.5],"kwargs":{"unit":"C"}}', 1);
    await pub('tele/plug1/STATE', '{"POWER":"ON"}', 0);
    await pub('sensors/hall/raw', 'not json', 2);
    await until(() => events.length >= 3 && viaAutobahn.length >= 1, 30_000, '3 events');
    expect(viaAutobahn).toEqual([{ args: [21.5], kwargs: { unit: 'C' } }]);
    const byTopic = (t: string) => events.find((e) => e.details.topic === t)!;
    expect(byTopic('sensors.kitchen.temp').args).toEqual([21.5]);
    expect(byTopic('sensors.kitchen.temp').kwargs).toEqual({ unit: 'C' });
    expect(byTopic('sensors.kitchen.temp').details).toMatchObject({ _mqtt_topic: 'sensors/kitchen/temp', _mqtt_qos: 1, _mqtt_bridge: 'main' });
    expect(byTopic('tele.plug1.STATE').args).toEqual([{ POWER: 'ON' }]);
    expect(byTopic('tele.plug1.STATE').details).toMatchObject({ _mqtt_topic: 'tele/plug1/STATE', _mqtt_qos: 0 });
    const raw = byTopic('sensors.hall.raw');
    expect(raw.details).toMatchObject({ _mqtt_topic: 'sensors/hall/raw', _mqtt_qos: 2 });
    expect(Buffer.from(raw.args[0]).toString()).toBe('not json');

    // A retained MQTT message becomes a retained WAMP event; an empty retained one clears it.
    await pub('sensors/door', '"open"', 1, '-r');
    await until(() => events.some((e) => e.details.topic === 'sensors.door'), 30_000, 'the retained event');
    const late: any[] = [];
    const other = await ClientSession.connect(node.node.router, { realm: 'realm1', role: 'anonymous' });
    await other.subscribe('sensors.door', (args, _k, details) => { late.push({ args, details }); }, { get_retained: true });
    await until(() => late.length === 1, 30_000, 'the retained event for a late subscriber');
    expect(late[0]).toMatchObject({ args: ['open'], details: { retained: true, _mqtt_topic: 'sensors/door' } });
    await pub('sensors/door', '', 1, '-r');
    await until(() => late.length === 2, 30_000, 'the clearing event');
    const third = await ClientSession.connect(node.node.router, { realm: 'realm1', role: 'anonymous' });
    const later: any[] = [];
    await third.subscribe('sensors.door', (args) => { later.push(args); }, { get_retained: true });
    // A fence through the same path: once it arrived, a retained event would have arrived before it.
    await third.subscribe('sensors.fence', (args) => { later.push(args); });
    await pub('sensors/fence', '1', 1);
    await until(() => later.length >= 1, 30_000, 'the fence');
    expect(later).toEqual([[1]]);
  });

  it('a WAMP publish reaches mosquitto_sub and an npm mqtt subscriber', async () => {
    const lines: string[] = [];
    const sub = spawn(MOSQUITTO_SUB, ['-h', '127.0.0.1', '-p', String(mosquitto.port), '-t', 'cmd/#', '-v', '-q', '1']);
    children.push(sub);
    sub.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    // mosquitto_sub says nothing when subscribed: probe through the broker until it prints.
    await until(async () => {
      await run(MOSQUITTO_PUB, ['-h', '127.0.0.1', '-p', String(mosquitto.port), '-t', 'cmd/probe', '-m', 'probe']);
      return lines.includes('cmd/probe probe');
    }, 30_000, 'mosquitto_sub to be subscribed');
    const client = await mqttClient(mosquitto.url, { protocolVersion: 5 });
    const got: Array<{ topic: string; payload: string; qos: number }> = [];
    client.on('message', (topic, payload, packet) => { if (topic !== 'cmd/probe') got.push({ topic, payload: payload.toString(), qos: packet.qos }); });
    await client.subscribeAsync('cmd/#', { qos: 1 });

    wampSession.publish('cmd.light.on', [{ level: 80 }], {}, { _mqtt_qos: 1 });
    wampSession.publish('cmd.light.set', [1, 2], { fade: true });
    await until(() => got.length >= 2 && lines.filter((l) => !l.startsWith('cmd/probe')).length >= 2, 30_000, 'both messages at both subscribers');
    expect(lines.filter((l) => !l.startsWith('cmd/probe'))).toEqual(['cmd/light/on {"level":80}', 'cmd/light/set {"args":[1,2],"kwargs":{"fade":true}}']);
    expect(got).toEqual([
      { topic: 'cmd/light/on', payload: '{"level":80}', qos: 1 },
      { topic: 'cmd/light/set', payload: '{"args":[1,2],"kwargs":{"fade":true}}', qos: 0 },
    ]);
    sub.kill();
  });

  it('issue 15: topics with empty levels, dots and spaces cross the bridge both ways by the listener\'s mapping (`sensors//x` ↔ `sensors.%.x`); text stays text', async () => {
    const local = await ClientSession.connect(node.node.router, { realm: 'realm1', role: 'anonymous' });
    const events: Array<[string, unknown]> = [];
    for (const uri of ['sensors.%.x', 'sensors.my%20room.v1%2E2', 'sensors.edge.%']) {
      await local.subscribe(uri, (args) => { events.push([uri, args[0]]); });
    }
    for (const topic of ['sensors//x', 'sensors/my room/v1.2', 'sensors/edge/']) {
      await run(MOSQUITTO_PUB, ['-h', '127.0.0.1', '-p', String(mosquitto.port), '-t', topic, '-q', '1', '-m', 'ON']);
    }
    await until(() => events.length >= 3, 30_000, 'the three events');
    expect(events).toEqual([['sensors.%.x', 'ON'], ['sensors.my%20room.v1%2E2', 'ON'], ['sensors.edge.%', 'ON']]);

    const client = await mqttClient(mosquitto.url, { protocolVersion: 5 });
    const got: string[] = [];
    client.on('message', (topic, payload) => got.push(`${topic}|${payload.toString()}`));
    await client.subscribeAsync('cmd//+', { qos: 1 });
    wampSession.publish('cmd.%.lamp', ['OFF'], {}, { _mqtt_qos: 1 });
    wampSession.publish('cmd.%.fan%20speed', [2], {}, { _mqtt_qos: 1 });
    await until(() => got.length >= 2, 30_000, 'both messages at the broker\'s subscriber');
    expect(got).toEqual(['cmd//lamp|OFF', 'cmd//fan speed|2']);
    await local.close();
  });

  it('issue 19 #9: MQTT 5 properties MQTT cannot carry (a 70,000-byte _mqtt_content_type) are left out, not written as a corrupt frame that cuts the bridge off', async () => {
    const client = await mqttClient(mosquitto.url, { protocolVersion: 5 });
    const got: Array<{ topic: string; contentType: unknown }> = [];
    client.on('message', (topic, _payload, packet) => { if (topic.startsWith('cmd/props/')) got.push({ topic, contentType: packet.properties?.contentType }); });
    await client.subscribeAsync('cmd/props/#', { qos: 1 });
    const before = (await state(wampSession, 'main'))['connects'];
    wampSession.publish('cmd.props.big', [1], {}, { _mqtt_content_type: 'x'.repeat(70_000), _mqtt_qos: 1 });
    wampSession.publish('cmd.props.after', [2], {}, { _mqtt_content_type: 'text/plain', _mqtt_qos: 1 });
    await until(() => got.length >= 2, 10_000, 'both messages at the broker');
    expect(got).toEqual([{ topic: 'cmd/props/big', contentType: undefined }, { topic: 'cmd/props/after', contentType: 'text/plain' }]);
    expect((await state(wampSession, 'main'))['connects']).toBe(before);
  });

  it('does not loop: a topic bridged both ways arrives once on each side', async () => {
    const wampSeen: string[] = [];
    await wampSession.subscribe('loop.', (args: any[], _k: any, details: any) => { wampSeen.push(`${details.topic} ${JSON.stringify(args)}`); }, { match: 'prefix' });
    const client = await mqttClient(mosquitto.url, { protocolVersion: 5 });
    const mqttSeen: string[] = [];
    client.on('message', (topic, payload) => mqttSeen.push(`${topic} ${payload.toString()}`));
    await client.subscribeAsync('loop/#', { qos: 1 });
    const publisher = await wamp(node.port);

    // MQTT → WAMP: the bridge must not publish it back to the broker.
    await run(MOSQUITTO_PUB, ['-h', '127.0.0.1', '-p', String(mosquitto.port), '-t', 'loop/a', '-q', '1', '-m', '1']);
    await until(() => wampSeen.length === 1, 30_000, 'loop.a in WAMP');
    // Fence: a WAMP publication after it takes the same way to the broker; a copy of loop/a sent
    // back by the bridge would reach the MQTT subscriber before it.
    publisher.publish('loop.fence1', ['f1']);
    await until(() => mqttSeen.includes('loop/fence1 f1'), 30_000, 'fence 1 at the MQTT subscriber');

    // WAMP → MQTT: the broker must not send it back to the bridge (No Local).
    publisher.publish('loop.b', [2]);
    await until(() => mqttSeen.includes('loop/b 2'), 30_000, 'loop/b at the MQTT subscriber');
    // Fence: an MQTT message published after it reaches the bridge after any copy of loop/b would.
    await run(MOSQUITTO_PUB, ['-h', '127.0.0.1', '-p', String(mosquitto.port), '-t', 'loop/fence2', '-q', '1', '-m', '3']);
    await until(() => wampSeen.some((s) => s.startsWith('loop.fence2')), 30_000, 'fence 2 in WAMP');

    expect(mqttSeen).toEqual(['loop/a 1', 'loop/fence1 f1', 'loop/b 2', 'loop/fence2 3']);
    expect(wampSeen).toEqual(['loop.a [1]', 'loop.fence1 ["f1"]', 'loop.b [2]', 'loop.fence2 [3]']);
  });

  it('does not loop with MQTT 3.1.1 either (no No Local: the bridge drops its own messages coming back)', async () => {
    const wampSeen: string[] = [];
    await wampSession.subscribe('loop4.', (args: any[], _k: any, details: any) => { wampSeen.push(`${details.topic} ${JSON.stringify(args)}`); }, { match: 'prefix' });
    const client = await mqttClient(mosquitto.url, { protocolVersion: 4 });
    const mqttSeen: string[] = [];
    client.on('message', (topic, payload) => mqttSeen.push(`${topic} ${payload.toString()}`));
    await client.subscribeAsync('loop4/#', { qos: 1 });
    const publisher = await wamp(node.port);

    publisher.publish('loop4.b', [2]);
    publisher.publish('loop4.b', [2]); // the same message twice: both must arrive, once each
    await until(() => mqttSeen.filter((m) => m === 'loop4/b 2').length === 2, 30_000, 'loop4/b twice at the MQTT subscriber');
    await run(MOSQUITTO_PUB, ['-h', '127.0.0.1', '-p', String(mosquitto.port), '-t', 'loop4/fence', '-q', '1', '-m', '3']);
    await until(() => wampSeen.some((s) => s.startsWith('loop4.fence')), 30_000, 'the fence in WAMP');
    // Someone else publishing the very same bytes on the broker is not taken for an echo.
    await run(MOSQUITTO_PUB, ['-h', '127.0.0.1', '-p', String(mosquitto.port), '-t', 'loop4/b', '-q', '1', '-m', '2']);
    await until(() => wampSeen.length >= 4, 30_000, 'the outside loop4/b in WAMP');
    expect(wampSeen).toEqual(['loop4.b [2]', 'loop4.b [2]', 'loop4.fence [3]', 'loop4.b [2]']);
    expect(await state(wampSession, 'v4')).toMatchObject({ protocol_version: 4, connected: true, messages_in: 2, dropped: 0 });
  });

  it(`delivers all of ${STREAM} QoS 1 publications in order when mosquitto is killed and restarted mid-stream`, async () => {
    const outBefore = (await state(wampSession, 'main'))['messages_out'] as number;
    const received: number[] = [];
    let killed: Promise<void> | undefined;
    let resubscribed: () => void = () => {};
    const afterRestart = new Promise<void>((r) => { resubscribed = r; });
    const client = await mqttClient(mosquitto.url, { clientId: 'stream-subscriber', clean: false, resubscribe: false });
    const killAt = STREAM * 0.3;
    let fenced = false;
    client.on('message', (topic, payload) => {
      if (topic === 'stream/fence') return void (fenced = true);
      received.push(Number(payload.toString()));
      if (received.length === killAt && !killed) killed = mosquitto.kill();
    });
    client.on('connect', (connack) => {
      // A broker without persistence forgets the persistent session when killed: subscribe again.
      if (!connack.sessionPresent) client.subscribeAsync('stream/#', { qos: 1 }).then(() => { if (killed) resubscribed(); }, () => {});
    });
    await client.subscribeAsync('stream/#', { qos: 1 });
    const publisher = await wamp(node.port);

    // A broker without persistence that dies loses what it had acknowledged but not yet passed on
    // (no bridge can help that), so the kill must not fall inside the broker's own hand-over: the
    // publisher runs at most 100 messages ahead of the subscriber, waits at the kill point until the
    // subscriber has everything before it (the subscriber then kills the broker), and goes on at
    // once, as fast as it can, while the broker is dying and gone. What the bridge had sent and not
    // got acknowledged, and everything after, must be buffered and delivered after the restart.
    const publishing = (async () => {
      for (let seq = 1; seq <= STREAM; seq++) {
        const ahead = seq <= killAt ? 100 : 1;
        while (!killed && seq - received.length > ahead) await new Promise((r) => setTimeout(r, 1));
        publisher.publish('stream.seq', [seq], {}, { _mqtt_qos: 1 });
      }
    })();
    await until(() => killed !== undefined, 120_000, 'the kill');
    await killed;
    await publishing;
    await until(async () => {
      const s = await state(wampSession, 'main');
      return s['connected'] === false && s['messages_out'] - outBefore + s['buffered'] >= STREAM;
    }, 60_000, 'every publication at the bridge');
    const down = await state(wampSession, 'main');
    expect(down).toMatchObject({ connected: false, dropped: 0 });
    expect(down['buffered']).toBeGreaterThanOrEqual(STREAM * 0.6);

    // Same port, fresh broker (nothing persisted). The bridge is kept out until the subscriber is back.
    mosquitto.gate(false);
    await mosquitto.start();
    await afterRestart;
    expect((await state(wampSession, 'main'))['connected']).toBe(false); // still kept out
    mosquitto.gate(true);
    await until(async () => (await state(wampSession, 'main'))['buffered'] === 0, 120_000, 'the bridge to deliver its buffer');
    // A fence after the stream: once it arrived, everything before it has.
    publisher.publish('stream.fence', [], {}, { _mqtt_qos: 1 });
    await until(() => fenced, 30_000, 'the fence');

    // At-least-once: a message the broker took but had not acknowledged when it died is sent again;
    // apart from such repeats (at most the bridge's in-flight window) every number arrives once, in order.
    const firsts: number[] = [];
    const seen = new Set<number>();
    for (const seq of received) if (!seen.has(seq)) { seen.add(seq); firsts.push(seq); }
    expect(firsts.length, `missing: ${Array.from({ length: STREAM }, (_, i) => i + 1).filter((n) => !seen.has(n)).slice(0, 20).join(',')}`).toBe(STREAM);
    for (let i = 0; i < STREAM; i++) if (firsts[i] !== i + 1) expect.fail(`position ${i}: got ${firsts[i]}, expected ${i + 1}`);
    expect(received.length - STREAM).toBeLessThanOrEqual(20);

    const up = await state(wampSession, 'main');
    expect(up).toMatchObject({ connected: true, buffered: 0, dropped: 0, dropped_overflow: 0 });
    expect(up['disconnects']).toBeGreaterThanOrEqual(1);
    // on_state told of the disconnect and the reconnect.
    const mainStates = states.filter(([id]) => id === 'main').map(([, s]) => s['connected']);
    expect(mainStates).toContain(false);
    expect(mainStates[mainStates.length - 1]).toBe(true);
  }, 240_000);
});

describe('MQTT bridge buffering while the broker is away', () => {
  it('keeps at most max_buffered QoS 1 messages, counts the overflow and QoS 0 drops, delivers the kept ones in order', async () => {
    const port = await freePort();
    const node = await startTestNode({
      bridges: { mqtt: [bridgeConfig('small', `mqtt://127.0.0.1:${port}`, { toMqtt: [{ uri: 'small.', match: 'prefix', qos: 1, retain: false }], maxBuffered: 50 })] },
    });
    nodes.push(node);
    const session = await wamp(node.port);
    for (let seq = 1; seq <= 80; seq++) session.publish('small.seq', [seq]);
    for (let i = 0; i < 5; i++) session.publish('small.zero', [i], {}, { _mqtt_qos: 0 });
    await until(async () => {
      const s = await state(session, 'small');
      return s['dropped_overflow'] === 30 && s['dropped_qos0'] === 5;
    }, 30_000, 'the overflow to be counted');
    expect(await state(session, 'small')).toMatchObject({ connected: false, buffered: 50, buffer_limit: 50, dropped: 35 });

    const mosquitto = new Mosquitto(port);
    brokers.push(mosquitto);
    mosquitto.gate(false);
    await mosquitto.start();
    const client = await mqttClient(mosquitto.url, { protocolVersion: 5 });
    const got: string[] = [];
    client.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
    await client.subscribeAsync('small/#', { qos: 1 });
    mosquitto.gate(true);
    await until(() => got.length >= 50, 30_000, 'the buffered messages');
    session.publish('small.fence', ['end']);
    await until(() => got.includes('small/fence end'), 30_000, 'the fence');
    expect(got).toEqual([...Array.from({ length: 50 }, (_, i) => `small/seq ${i + 1}`), 'small/fence end']);
    await until(async () => (await state(session, 'small'))['buffered'] === 0, 30_000, 'the bridge to drain');
    expect(await state(session, 'small')).toMatchObject({ connected: true, buffered: 0, dropped_overflow: 30, dropped_qos0: 5 });
  }, 60_000);

  it('keeps buffered messages in buffer_file across a restart of the node and delivers them when the broker returns', async () => {
    const port = await freePort();
    const file = joinPath(mkdtempSync(joinPath(tmpdir(), 'junction-bridge-')), 'sub', 'persist.jsonl');
    const config = () => ({ mqtt: [bridgeConfig('persist', `mqtt://127.0.0.1:${port}`, { toMqtt: [{ uri: 'persist.', match: 'prefix', qos: 1, retain: false }], bufferFile: file })] });

    const first = await startTestNode({ bridges: config() });
    nodes.push(first);
    const s1 = await wamp(first.port);
    for (let seq = 1; seq <= 100; seq++) s1.publish('persist.seq', [seq], {}, { _mqtt_qos: seq % 2 === 0 ? 2 : 1 });
    await until(async () => (await state(s1, 'persist'))['buffered'] === 100, 30_000, '100 buffered');
    await first.stop();
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(100);

    const second = await startTestNode({ bridges: config() });
    nodes.push(second);
    const s2 = await wamp(second.port);
    expect(await state(s2, 'persist')).toMatchObject({ connected: false, buffered: 100, buffer_file: file });

    const mosquitto = new Mosquitto(port);
    brokers.push(mosquitto);
    mosquitto.gate(false);
    await mosquitto.start();
    const client = await mqttClient(mosquitto.url, { protocolVersion: 5 });
    const got: Array<[number, number]> = [];
    client.on('message', (_topic, payload, packet) => got.push([Number(payload.toString()), packet.qos]));
    await client.subscribeAsync('persist/#', { qos: 2 });
    mosquitto.gate(true);
    await until(() => got.length >= 100, 30_000, 'the 100 messages');
    // MQTT keeps order per QoS level (the broker forwards a QoS 2 message only once it is released).
    expect(got.filter(([, qos]) => qos === 1).map(([seq]) => seq)).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i + 1));
    expect(got.filter(([, qos]) => qos === 2).map(([seq]) => seq)).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i + 2));
    await until(async () => (await state(s2, 'persist'))['buffered'] === 0, 30_000, 'the bridge to drain');
    await second.stop();
    expect(readFileSync(file, 'utf8')).toBe('');
  }, 60_000);
});

describe('MQTT bridge over TLS', () => {
  it('connects to an mqtts:// broker that requires a client certificate, checking the broker\'s', async () => {
    const dir = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
    const pem = (name: string) => readFileSync(joinPath(dir, name), 'utf8');
    const mosquitto = new Mosquitto(await freePort(), { ca: joinPath(dir, 'ca.crt'), certificate: joinPath(dir, 'server.crt'), key: joinPath(dir, 'server.key') });
    brokers.push(mosquitto);
    await mosquitto.start();
    const client = await mqttClient(mosquitto.url, { protocolVersion: 5, ca: pem('ca.crt'), cert: pem('client.crt'), key: pem('client.key') });
    const got: string[] = [];
    client.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
    await client.subscribeAsync('secure/#', { qos: 1 });
    const tls = { ca: pem('ca.crt'), certificate: pem('client.crt'), key: pem('client.key'), rejectUnauthorized: true };
    const node = await startTestNode({
      bridges: { mqtt: [
        bridgeConfig('tls', mosquitto.url, { tls, toMqtt: [{ uri: 'secure.', match: 'prefix', qos: 1, retain: false }] }),
        // The same broker without our CA: its certificate is not trusted, the bridge never connects.
        bridgeConfig('untrusted', mosquitto.url, { tls: { ...tls, ca: pem('client.crt') }, toMqtt: [{ uri: 'other.', match: 'prefix', qos: 1, retain: false }] }),
      ] },
    });
    nodes.push(node);
    const session = await wamp(node.port);
    await until(async () => (await state(session, 'tls'))['connected'] === true, 30_000, 'the TLS bridge to connect');
    session.publish('secure.door', ['locked']);
    await until(() => got.length === 1, 30_000, 'the message over TLS');
    expect(got).toEqual(['secure/door locked']);
    await until(async () => typeof (await state(session, 'untrusted'))['last_error'] === 'string', 30_000, 'the untrusted bridge to report its error');
    expect(await state(session, 'untrusted')).toMatchObject({ connected: false, connects: 0 });
  }, 60_000);
});
