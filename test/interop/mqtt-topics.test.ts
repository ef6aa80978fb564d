// Topics any MQTT client may use (empty levels, a leading or trailing '/', dots, spaces, '%') and
// text payloads, with clients nobody here wrote: Debian's mosquitto_pub/mosquitto_sub (MQTT 3.1,
// 3.1.1, 5), the npm `mqtt` client (3.1.1, 5) and Autobahn|JS as the WAMP peer.
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import mqtt, { type MqttClient } from 'mqtt';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { tick, allowAll } from '../helpers/core.js';
import type { ListenerConfig, MqttServiceConfig } from '../../src/config/types.js';
import { MQTT_DEFAULTS } from '../../src/config/load-mqtt.js';
import { MOSQUITTO_PUB, MOSQUITTO_SUB } from '../helpers/mosquitto.js';
import { until } from '../helpers/until.js';
import { MqttMapping } from '../../src/mqtt/mapping.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

// The Eclipse Paho interoperability suite's topics and wildcard filters (facts of that suite), and
// topics no URI component could hold as they are.
const TOPICS = ['TopicA', 'TopicA/B', 'Topic/C', 'TopicA/C', '/TopicA', 'a//b', 'a/', 'my room/v1.2', 'load/100%'];
/** What each filter matches of TOPICS, in publishing order, as MQTT says [MQTT-4.7.1]. */
const MATCHES: Record<string, string[]> = {
  'TopicA/+': ['TopicA/B', 'TopicA/C'],
  '+/C': ['Topic/C', 'TopicA/C'],
  '#': TOPICS,
  '/#': ['/TopicA'],
  '/+': ['/TopicA'],
  '+/+': ['TopicA/B', 'Topic/C', 'TopicA/C', '/TopicA', 'a/', 'my room/v1.2', 'load/100%'],
  'TopicA/#': ['TopicA', 'TopicA/B', 'TopicA/C'],
  'a//#': ['a//b', 'a/'],
  'a/+': ['a/'],
  '+/#': TOPICS,
  'a/+/#': ['a//b', 'a/'],
  'my room/+': ['my room/v1.2'],
  // `+` before `#`: no WAMP pattern holds these; the listener narrows a broader subscription.
  '+/C/#': ['Topic/C', 'TopicA/C'],
  '+/+/#': TOPICS.filter((t) => t !== 'TopicA'),
  'a/+/b/#': ['a//b'],
};

function mqttService(): MqttServiceConfig {
  return { ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '', payload: [{ prefix: '', type: 'native' }] };
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

async function connectMqtt(port: number, protocolVersion: 4 | 5, clientId: string): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion, clientId });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/**
 * A mosquitto_sub printing each message as `topic<TAB>payload`; `ready` once its SUBACK came (-d
 * prints it; stdbuf -oL, so that its debug lines are not held in stdio's buffer of a pipe).
 */
function mosquittoSub(port: number, version: string, filter: string) {
  const child: ChildProcess = spawn('stdbuf', ['-oL', MOSQUITTO_SUB, '-p', String(port), '-V', version, '-q', '1', '-t', filter, '-d', '-F', '%t\t%p']);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return {
    child,
    ready: () => until(() => out.includes('received SUBACK'), 15_000, `mosquitto_sub -V ${version} -t '${filter}' subscribed`),
    /** The messages as [topic, payload]; mosquitto_sub's debug lines (`Client ...`) left out. */
    messages: () => out.split('\n').filter((l) => l.includes('\t') && !l.startsWith('Client ')).map((l) => l.split('\t') as [string, string]),
  };
}

async function autobahnSession(url: string): Promise<any> {
  return new Promise<any>((resolve, reject) => {
    const c = new autobahn.Connection({ url, realm: 'realm1', max_retries: 0 });
    c.onopen = (s: any) => resolve(s);
    c.onclose = (reason: string) => { reject(new Error(reason)); return true; };
    c.open();
  });
}

/** A binary argument as Autobahn|JS 22 gives it over JSON: "\0" + base64 (it leaves the convention to the application). */
const isBinary = (v: unknown): v is string => typeof v === 'string' && v.startsWith('\0');

describe('MQTT topics with empty levels, dots and spaces; text payloads (issue 15)', () => {
  let node: TestNode;

  beforeAll(async () => {
    const listener: Partial<ListenerConfig> = { mqtt: mqttService(), websocket: { '/ws': service() } };
    node = await startTestNode({ listener });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('[MQTT-4.7.1] every filter gets exactly the topics MQTT matches, empty levels included, none refused: MQTT.js 3.1.1 and 5, mosquitto_sub 3.1, 3.1.1 and 5 (the Paho interop topics and wildcards, and more)', async () => {
    const subscribers: Array<{ who: string; filter: string; got: () => string[]; end: () => unknown }> = [];
    for (const protocolVersion of [4, 5] as const) {
      for (const filter of Object.keys(MATCHES)) {
        const client = await connectMqtt(node.port, protocolVersion, `sub-${protocolVersion}-${subscribers.length}`);
        const got: string[] = [];
        client.on('message', (topic) => got.push(topic));
        const granted = await client.subscribeAsync(filter, { qos: 1 });
        expect(granted[0]!.qos, `MQTT.js ${protocolVersion}: SUBACK for '${filter}'`).toBe(1);
        subscribers.push({ who: `MQTT.js ${protocolVersion}`, filter, got: () => got, end: () => client.endAsync() });
      }
    }
    for (const version of ['mqttv31', 'mqttv311', 'mqttv5']) {
      for (const filter of ['/+', 'a//#', '+/+', 'my room/+', '+/C/#']) {
        const sub = mosquittoSub(node.port, version, filter);
        await sub.ready();
        subscribers.push({ who: `mosquitto_sub -V ${version}`, filter, got: () => sub.messages().map(([t]) => t), end: () => sub.child.kill() });
      }
    }
    const publisher = await connectMqtt(node.port, 5, 'paho-topics-publisher');
    for (const topic of TOPICS) await publisher.publishAsync(topic, 'ON', { qos: 1 });
    // mosquitto_pub too: the same topics from a client of another make, MQTT 3.1.1.
    await run(MOSQUITTO_PUB, ['-p', String(node.port), '-V', 'mqttv311', '-q', '1', '-t', '/TopicA', '-m', 'ON']);
    const expected = (filter: string) => [...MATCHES[filter]!, ...(MATCHES[filter]!.includes('/TopicA') ? ['/TopicA'] : [])];
    // Only our topics count: `#` also gets what the router itself publishes.
    const ours = (s: (typeof subscribers)[number]) => s.got().filter((t) => TOPICS.includes(t));
    await until(() => subscribers.every((s) => ours(s).length >= expected(s.filter).length), 15_000, 'every subscriber got its messages');
    await tick(300); // anything more would have come by now
    for (const s of subscribers) expect(ours(s), `${s.who} on '${s.filter}'`).toEqual(expected(s.filter));
    await publisher.endAsync();
    for (const s of subscribers) await s.end();
  });

  it('[MQTT-4.8.2] a shared subscription whose filter has `+` before `#` gets exactly its topics, each message to one member', async () => {
    const members = await Promise.all([1, 2].map((n) => connectMqtt(node.port, 5, `share-broader-${n}`)));
    const got: string[] = [];
    for (const m of members) {
      m.on('message', (topic) => got.push(topic));
      await m.subscribeAsync('$share/g/+/C/#', { qos: 1 });
    }
    const publisher = await connectMqtt(node.port, 5, 'share-broader-publisher');
    for (const topic of TOPICS) await publisher.publishAsync(topic, 'x', { qos: 1 });
    await until(() => got.length >= 2);
    await tick(300);
    expect(got.sort()).toEqual(['Topic/C', 'TopicA/C']);
    await publisher.endAsync();
    for (const m of members) await m.endAsync();
  });

  it('Autobahn|JS subscribers see the documented URIs (`/TopicA` → `%.TopicA`, `a//b` → `a.%.b`, `a/` → `a.%`, `my room/v1.2` → `my%20room.v1%2E2`), and an Autobahn|JS publish on `a.%.b` reaches mosquitto_sub on `a//b`', async () => {
    const session = await autobahnSession(node.wsUrl);
    const uris = ['%.TopicA', 'a.%.b', 'a.%', 'my%20room.v1%2E2', 'load.100%25'];
    const seen: string[] = [];
    for (const uri of uris) await session.subscribe(uri, () => seen.push(uri));
    const wild: string[] = [];
    await session.subscribe('%.', (_a: unknown[], _k: unknown, details: any) => wild.push(details.topic), { match: 'wildcard' });
    for (const topic of ['/TopicA', 'a//b', 'a/', 'my room/v1.2', 'load/100%']) {
      await run(MOSQUITTO_PUB, ['-p', String(node.port), '-V', 'mqttv5', '-q', '1', '-t', topic, '-m', 'x']);
    }
    await until(() => seen.length >= uris.length && wild.length >= 1, 15_000, 'the events');
    expect(seen).toEqual(uris);
    expect(wild).toEqual(['%.TopicA']); // a WAMP wildcard subscription on the encoding: `/+`

    const sub = mosquittoSub(node.port, 'mqttv311', 'a//b');
    await sub.ready();
    const back = mosquittoSub(node.port, 'mqttv5', 'my room/+');
    await back.ready();
    await session.publish('a.%.b', ['from WAMP'], {}, { acknowledge: true });
    await session.publish('my%20room.v1%2E2', [1], {}, { acknowledge: true });
    await until(() => sub.messages().length >= 1 && back.messages().length >= 1);
    expect(sub.messages()).toEqual([['a//b', 'from WAMP']]);
    expect(back.messages()).toEqual([['my room/v1.2', '1']]);
    sub.child.kill();
    back.child.kill();
    session.connection?.close?.();
  });

  it('[issue 15 #4] text payloads: mosquitto_pub `ON` reaches Autobahn|JS as the string "ON", JSON as JSON, bytes that are not UTF-8 as binary; an Autobahn|JS string reaches mosquitto_sub and MQTT.js as its UTF-8 bytes', async () => {
    const session = await autobahnSession(node.wsUrl);
    const received: unknown[] = [];
    await session.subscribe('tasmota.', (args: unknown[]) => received.push(args[0]), { match: 'prefix' });
    const dir = mkdtempSync(join(tmpdir(), 'junction-topics-'));
    const binaryFile = join(dir, 'binary');
    writeFileSync(binaryFile, Buffer.from([0xff, 0x00, 0x41, 0xfe]));
    await run(MOSQUITTO_PUB, ['-p', String(node.port), '-V', 'mqttv311', '-q', '1', '-t', 'tasmota/plug1/POWER', '-m', 'ON']);
    await run(MOSQUITTO_PUB, ['-p', String(node.port), '-V', 'mqttv5', '-q', '1', '-t', 'tasmota/plug1/temp', '-m', '23.5 °C']);
    await run(MOSQUITTO_PUB, ['-p', String(node.port), '-V', 'mqttv5', '-q', '1', '-t', 'tasmota/plug1/SENSOR', '-m', '{"POWER":"ON"}']);
    await run(MOSQUITTO_PUB, ['-p', String(node.port), '-V', 'mqttv31', '-q', '1', '-t', 'tasmota/plug1/blob', '-f', binaryFile]);
    await until(() => received.length >= 4, 15_000, 'four events');
    expect(received.slice(0, 3)).toEqual(['ON', '23.5 °C', { POWER: 'ON' }]);
    expect(isBinary(received[3])).toBe(true);
    expect([...Buffer.from((received[3] as string).slice(1), 'base64')]).toEqual([0xff, 0x00, 0x41, 0xfe]);

    const sub = mosquittoSub(node.port, 'mqttv5', 'cmnd/plug1/+');
    await sub.ready();
    const js = await connectMqtt(node.port, 4, 'text-reader');
    const inbox: Array<[string, string]> = [];
    js.on('message', (topic, payload) => inbox.push([topic, payload.toString('utf8')]));
    await js.subscribeAsync('cmnd/plug1/+', { qos: 1 });
    await session.publish('cmnd.plug1.POWER', ['OFF'], {}, { acknowledge: true });
    await session.publish('cmnd.plug1.Dimmer', [40], {}, { acknowledge: true });
    await session.publish('cmnd.plug1.Text', ['Grüße'], {}, { acknowledge: true });
    await until(() => sub.messages().length >= 3 && inbox.length >= 3);
    const expected = [['cmnd/plug1/POWER', 'OFF'], ['cmnd/plug1/Dimmer', '40'], ['cmnd/plug1/Text', 'Grüße']];
    expect(sub.messages()).toEqual(expected);
    expect(inbox).toEqual(expected);
    sub.child.kill();
    await js.endAsync();
    session.connection?.close?.();
  });

  it('[issue 15 #4] MQTT to MQTT, text stays as it was: MQTT.js `ON` reaches mosquitto_sub as `ON` (the string it is on the way is not written back as JSON)', async () => {
    const sub = mosquittoSub(node.port, 'mqttv311', 'stat/+/+');
    await sub.ready();
    const publisher = await connectMqtt(node.port, 5, 'text-writer');
    await publisher.publishAsync('stat/plug2/POWER', 'ON', { qos: 1 });
    await until(() => sub.messages().length >= 1);
    // JSON reaches MQTT subscribers as it was written, as from any broker (not re-serialized).
    await publisher.publishAsync('stat/plug2/STATE', '{ "POWER" : "ON", "Dimmer" : 40.0 }', { qos: 0 });
    await until(() => sub.messages().length >= 2);
    expect(sub.messages()).toEqual([['stat/plug2/POWER', 'ON'], ['stat/plug2/STATE', '{ "POWER" : "ON", "Dimmer" : 40.0 }']]);
    sub.child.kill();
    await publisher.endAsync();
  });

  it('[issue 15 #5] a payload only MQTT subscribers receive is never decoded (they get its bytes); with a WAMP subscriber beside them it is decoded once, Autobahn|JS sees the same args; a retained one is kept as its bytes and decoded for each WAMP reader only', async () => {
    const decode = vi.spyOn(MqttMapping.prototype, 'decode'); // watched, not replaced
    try {
      const reader = await connectMqtt(node.port, 4, 'lazy-reader');
      const inbox: string[] = [];
      reader.on('message', (_topic, payload) => inbox.push(payload.toString('utf8')));
      await reader.subscribeAsync('lazy/+', { qos: 1 });
      const publisher = await connectMqtt(node.port, 5, 'lazy-writer');
      await publisher.publishAsync('lazy/a', '{"args": [1, "x"]}', { qos: 1 });
      await publisher.publishAsync('lazy/a', 'ON', { qos: 0 });
      await until(() => inbox.length >= 2);
      expect(decode).not.toHaveBeenCalled();

      const session = await autobahnSession(node.wsUrl);
      const seen: unknown[] = [];
      await session.subscribe('lazy.a', (args: unknown[], kwargs: unknown) => seen.push([args, kwargs]));
      await publisher.publishAsync('lazy/a', '{"args": [2, "y"], "kwargs": {"k": 1}}', { qos: 1 });
      await until(() => inbox.length >= 3 && seen.length >= 1);
      expect(decode).toHaveBeenCalledTimes(1);
      expect(seen).toEqual([[[2, 'y'], { k: 1 }]]);
      expect(inbox).toEqual(['{"args": [1, "x"]}', 'ON', '{"args": [2, "y"], "kwargs": {"k": 1}}']); // bytes as published

      // Retained with only the MQTT subscriber: kept as its bytes (not decoded for the store); a later
      // MQTT subscriber gets those bytes, a later WAMP subscriber gets it decoded, each time it asks.
      await publisher.publishAsync('lazy/b', '{"v":   3}', { qos: 1, retain: true });
      await until(() => inbox.length >= 4);
      expect(decode).toHaveBeenCalledTimes(1);
      const late = await connectMqtt(node.port, 5, 'lazy-late');
      const lateInbox: string[] = [];
      late.on('message', (_topic, payload) => lateInbox.push(payload.toString('utf8')));
      await late.subscribeAsync('lazy/b', { qos: 1 });
      await until(() => lateInbox.length >= 1);
      expect(lateInbox).toEqual(['{"v":   3}']);
      expect(decode).toHaveBeenCalledTimes(1);
      const retained: unknown[] = [];
      await session.subscribe('lazy.b', (args: unknown[]) => retained.push(args), { get_retained: true });
      await until(() => retained.length >= 1);
      expect(retained).toEqual([[{ v: 3 }]]);
      expect(decode).toHaveBeenCalledTimes(2);

      // Retained while a WAMP subscriber is there (decoded on its way): a later MQTT subscriber still
      // gets the bytes as published, not the values written anew.
      await publisher.publishAsync('lazy/a', '{ "args" : [4] }', { qos: 1, retain: true });
      await until(() => seen.length >= 2);
      expect((seen[1] as unknown[])[0]).toEqual([4]);
      const later = await connectMqtt(node.port, 4, 'lazy-later');
      const laterInbox: string[] = [];
      later.on('message', (_topic, payload) => laterInbox.push(payload.toString('utf8')));
      await later.subscribeAsync('lazy/a', { qos: 1 });
      await until(() => laterInbox.length >= 1);
      expect(laterInbox).toEqual(['{ "args" : [4] }']);
      await later.endAsync();
      await late.endAsync();
      await reader.endAsync();
      await publisher.endAsync();
      session.connection?.close?.();
    } finally {
      decode.mockRestore();
    }
  });
});

describe('MQTT messages in the event history (issue 15 #5)', () => {
  it('an MQTT message kept in the event history is stored as its bytes and read back decoded by wamp.subscription.get_events (Autobahn|JS)', async () => {
    const node = await startTestNode({
      realms: [{ name: 'realm1', roles: [allowAll()], store: { type: 'memory', limit: 10, callQueue: [], eventHistory: [{ uri: 'hist.', match: 'prefix', limit: 5 }] } }],
      listener: { mqtt: mqttService(), websocket: { '/ws': service() } },
    });
    try {
      // Published while no WAMP session listens: nobody decodes them on the way.
      const publisher = await connectMqtt(node.port, 5, 'hist-writer');
      await publisher.publishAsync('hist/a', '{"t": 21.5}', { qos: 1 });
      await publisher.publishAsync('hist/b', 'ON', { qos: 1 });
      const session = await autobahnSession(node.wsUrl);
      const subscription = await session.subscribe('hist.', () => {}, { match: 'prefix' });
      const events = await session.call('wamp.subscription.get_events', [subscription.id], { limit: 5 });
      expect(events.map((e: { topic: string; args: unknown[] }) => [e.topic, e.args])).toEqual([['hist.b', ['ON']], ['hist.a', [{ t: 21.5 }]]]);
      await publisher.endAsync();
      session.connection?.close?.();
    } finally {
      await node.stop();
    }
  });
});
