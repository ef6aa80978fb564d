// `$` topics and the router's own topics with real MQTT clients (Debian's mosquitto_sub/mosquitto_pub
// with -V 5 and 311, the npm `mqtt` client): filters starting with a wildcard never match them
// [MQTT-4.7.2-1], and the listener's `$SYS/` tree is served under mosquitto's topic names.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import type { MqttClient, IClientOptions } from 'mqtt';
import { connectMqtt } from '../helpers/mqtt-client.js';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { MOSQUITTO_SUB } from '../helpers/mosquitto.js';
import { until } from '../helpers/until.js';
import { ClientSession } from '../../src/client/client-session.js';
import type { MqttServiceConfig } from '../../src/config/types.js';
import { MQTT_DEFAULTS } from '../../src/config/load-mqtt.js';

/** The topics mosquitto's $SYS/ tree has that Junction's serves too (mosquitto(8), "BROKER STATUS"). */
const SYS_TOPICS = [
  '$SYS/broker/version', '$SYS/broker/uptime',
  '$SYS/broker/clients/connected', '$SYS/broker/clients/disconnected', '$SYS/broker/clients/maximum', '$SYS/broker/clients/total',
  '$SYS/broker/messages/received', '$SYS/broker/messages/sent', '$SYS/broker/bytes/received', '$SYS/broker/bytes/sent',
  '$SYS/broker/retained messages/count', '$SYS/broker/subscriptions/count',
];

function mqttService(overrides: Partial<MqttServiceConfig> = {}): MqttServiceConfig {
  return { ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '', payload: [{ prefix: '', type: 'native' }], ...overrides };
}

interface Received { topic: string; payload: string; retain: boolean }

function inbox(client: MqttClient): Received[] {
  const got: Received[] = [];
  client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), retain: packet.retain }));
  return got;
}

/** The newest value of `topic` in `got`, optionally only live (not retained) ones. */
function latest(got: Received[], topic: string, live = false): string | undefined {
  for (let i = got.length - 1; i >= 0; i--) if (got[i]!.topic === topic && (!live || !got[i]!.retain)) return got[i]!.payload;
  return undefined;
}

/**
 * mosquitto_sub with -d: `subscribed` resolves once its SUBACK came, `lines` are the messages it
 * printed (-v: "topic payload"; the debug lines left out), `done` resolves when it exits.
 */
function mosquittoSub(args: string[]): { child: ChildProcess; subscribed: Promise<void>; lines: () => string[]; done: Promise<number | null> } {
  // Line-buffered: its debug lines (SUBACK) would otherwise wait in its stdout buffer until it exits.
  const child = spawn('stdbuf', ['-oL', MOSQUITTO_SUB, '-d', ...args]);
  let out = '';
  let onSuback: () => void = () => {};
  const subscribed = new Promise<void>((resolve) => (onSuback = resolve));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('received SUBACK')) onSuback();
  });
  const done = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const lines = () => out.split('\n').filter((l) => l !== '' && !l.startsWith('Client ') && !l.startsWith('Subscribed (mid'));
  return { child, subscribed, lines, done };
}

describe('MQTT listener: $ topics and the router\'s own topics (mosquitto_sub, MQTT.js)', () => {
  let node: TestNode;
  let wamp: ClientSession;
  /** Stays connected through the tests, so that $SYS/broker/clients/connected is never 0. */
  let resident: MqttClient;
  const clients: MqttClient[] = [];
  const subs: ChildProcess[] = [];

  const client = async (options: IClientOptions): Promise<MqttClient> => {
    const c = await connectMqtt(node.port, options);
    clients.push(c);
    return c;
  };
  const sub = (args: string[]) => {
    const s = mosquittoSub(['-p', String(node.port), ...args]);
    subs.push(s.child);
    return s;
  };

  beforeAll(async () => {
    // A refresh every second, so that the tests see the tree change without waiting long.
    node = await startTestNode({ listener: { mqtt: mqttService({ sysInterval: 1 }), websocket: { '/ws': service() } } });
    wamp = await ClientSession.connect(node.node.router, { realm: 'realm1', name: 'observer' });
    resident = await client({ clientId: 'resident' });
    // Until a refresh has counted it.
    const seen = inbox(resident);
    await resident.subscribeAsync('$SYS/broker/clients/connected', { qos: 0 });
    await until(() => Number(latest(seen, '$SYS/broker/clients/connected')) >= 1);
  });
  afterAll(async () => {
    for (const s of subs) if (s.exitCode === null) s.kill();
    for (const c of clients) await c.endAsync(true);
    await wamp?.close();
    await node?.stop();
  });

  it('[MQTT-4.7.2-1] a filter starting with a wildcard never matches a topic starting with $ (mosquitto_sub -V 5 and 311, MQTT.js 5 and 3.1.1); a filter naming the $ level does', async () => {
    const v5 = sub(['-V', '5', '-t', '#', '-t', '+/status', '-v', '-C', '1']);
    const v311 = sub(['-V', '311', '-t', '#', '-t', '+/status', '-v', '-C', '1']);
    await Promise.all([v5.subscribed, v311.subscribed]);
    const js5 = await client({ clientId: 'wild-5', protocolVersion: 5 });
    const js311 = await client({ clientId: 'wild-311', protocolVersion: 4 });
    const named = await client({ clientId: 'named', protocolVersion: 5 });
    const got5 = inbox(js5);
    const got311 = inbox(js311);
    const gotNamed = inbox(named);
    await js5.subscribeAsync({ '#': { qos: 1 }, '+/status': { qos: 1 } });
    await js311.subscribeAsync({ '#': { qos: 1 }, '+/status': { qos: 1 } });
    await named.subscribeAsync({ '$aws/#': { qos: 1 } });
    const publisher = await client({ clientId: 'dollar-publisher', protocolVersion: 5 });
    await publisher.publishAsync('$aws/status', 'dollar', { qos: 1 });
    await publisher.publishAsync('plain/status', 'plain', { qos: 1 });
    await until(() => gotNamed.length >= 1 && got5.some((m) => m.topic === 'plain/status') && got311.some((m) => m.topic === 'plain/status'));
    await Promise.all([v5.done, v311.done]);
    // Each stops at its first message: the $ topic was published first, and must not be it.
    expect(v5.lines()).toEqual(['plain/status plain']);
    expect(v311.lines()).toEqual(['plain/status plain']);
    expect(got5.filter((m) => m.topic.startsWith('$'))).toEqual([]);
    expect(got311.filter((m) => m.topic.startsWith('$'))).toEqual([]);
    expect(gotNamed).toEqual([{ topic: '$aws/status', payload: 'dollar', retain: false }]);
  });

  it('issue 15: the router\'s meta events (wamp.*) and junction.* topics are not matched by filters starting with a wildcard, as $ topics; filters naming them get them', async () => {
    const named = await client({ clientId: 'meta-watcher', protocolVersion: 5 });
    const gotNamed = inbox(named);
    await named.subscribeAsync({ 'wamp/subscription/#': { qos: 0 }, 'junction/rpc/#': { qos: 0 } });
    const wild = await client({ clientId: 'meta-wild', protocolVersion: 4 });
    const gotWild = inbox(wild);
    await wild.subscribeAsync({ '#': { qos: 0 }, '+/subscription/+': { qos: 0 } });
    const v5 = sub(['-V', '5', '-t', '#', '-v', '-C', '1']);
    await v5.subscribed;
    // A WAMP subscription makes the meta API publish wamp.subscription.on_create/on_subscribe;
    // junction.rpc.* is where clients may publish under junction.*.
    await wamp.subscribe('some.sensor', () => {});
    await wamp.publish('junction.rpc.reply', ['r'], {}, { acknowledge: true });
    await wamp.publish('meta.marker', ['m'], {}, { acknowledge: true });
    await until(() => gotWild.some((m) => m.topic === 'meta/marker') && gotNamed.some((m) => m.topic === 'junction/rpc/reply'));
    await v5.done;
    expect(gotNamed.map((m) => m.topic)).toEqual(expect.arrayContaining(['wamp/subscription/on_create', 'wamp/subscription/on_subscribe', 'junction/rpc/reply']));
    expect(gotWild.map((m) => m.topic)).toEqual(['meta/marker']);
    expect(v5.lines()).toEqual(['meta/marker m']);
  });

  for (const version of ['5', '311']) {
    it(`issue 15: $SYS/ under mosquitto's topic names, retained, read by mosquitto_sub -V ${version}`, async () => {
      // --retained-only: it prints the retained messages it gets on subscribing and exits at the first live one.
      const s = sub(['-V', version, '-t', '$SYS/#', '-v', '--retained-only', '-W', '10']);
      await s.done;
      const byTopic = new Map<string, string>();
      for (const line of s.lines()) {
        const topic = SYS_TOPICS.find((t) => line.startsWith(`${t} `));
        expect(topic, line).toBeDefined();
        byTopic.set(topic!, line.slice(topic!.length + 1));
      }
      expect([...byTopic.keys()].sort()).toEqual([...SYS_TOPICS].sort());
      expect(byTopic.get('$SYS/broker/version')).toMatch(/^junction version \d+\.\d+\.\d+/);
      expect(byTopic.get('$SYS/broker/uptime')).toMatch(/^\d+ seconds$/);
      for (const topic of SYS_TOPICS.slice(2)) expect(byTopic.get(topic), topic).toMatch(/^\d+$/);
      const n = (topic: string) => Number(byTopic.get(`$SYS/broker/${topic}`));
      expect(n('clients/connected')).toBeGreaterThanOrEqual(1); // the resident client
      expect(n('clients/maximum')).toBeGreaterThanOrEqual(n('clients/connected'));
      expect(n('clients/total')).toBe(n('clients/connected') + n('clients/disconnected'));
      expect(n('messages/received')).toBeGreaterThan(0);
      expect(n('bytes/sent')).toBeGreaterThan(0);
    });
  }

  it('issue 15: $SYS/ figures are refreshed every sys_interval: clients, messages, bytes, retained messages, subscriptions (MQTT.js); live updates are not flagged retained', async () => {
    const watcher = await client({ clientId: 'sys-watcher', protocolVersion: 5 });
    const got = inbox(watcher);
    await watcher.subscribeAsync('$SYS/broker/#', { qos: 1 });
    await until(() => got.length >= SYS_TOPICS.length);
    expect(got.slice(0, SYS_TOPICS.length).every((m) => m.retain)).toBe(true);
    // The figures before: as of a refresh after this test began (the uptime changes at each).
    await until(() => got.some((m) => !m.retain));
    const before = (topic: string) => Number(latest(got, `$SYS/broker/${topic}`));
    const connected = before('clients/connected');
    const received = before('messages/received');
    const bytesReceived = before('bytes/received');
    const retained = before('retained messages/count');
    const subscriptions = before('subscriptions/count');
    const extra = await client({ clientId: 'sys-extra', protocolVersion: 4 });
    await extra.subscribeAsync({ 'sys/test/a': { qos: 0 }, 'sys/test/b': { qos: 0 } });
    await extra.publishAsync('sys/test/kept', '1', { qos: 1, retain: true });
    const live = (topic: string) => Number(latest(got, `$SYS/broker/${topic}`, true) ?? NaN);
    await until(() => live('clients/connected') >= connected + 1 && live('retained messages/count') >= retained + 1
      && live('subscriptions/count') >= subscriptions + 2 && live('messages/received') > received && live('bytes/received') > bytesReceived);
    expect(Number(latest(got, '$SYS/broker/clients/maximum'))).toBeGreaterThanOrEqual(live('clients/connected'));
    expect(got.filter((m) => !m.retain).length).toBeGreaterThan(0);
    // Only what changed is sent again: the version is static.
    expect(got.filter((m) => m.topic === '$SYS/broker/version')).toHaveLength(1);
  });

  it('[MQTT-4.7.2-1] $SYS/ topics never reach # or +/... filters, while $SYS/# gets them', async () => {
    const wild = await client({ clientId: 'sys-wild', protocolVersion: 5 });
    const gotWild = inbox(wild);
    await wild.subscribeAsync({ '#': { qos: 0 }, '+/broker/uptime': { qos: 0 }, '+/broker/clients/+': { qos: 0 } });
    const sys = await client({ clientId: 'sys-named', protocolVersion: 4 });
    const gotSys = inbox(sys);
    await sys.subscribeAsync('$SYS/#', { qos: 0 });
    // A live refresh reached $SYS/# after the wildcard filters were in place.
    await until(() => gotSys.some((m) => !m.retain));
    await sys.publishAsync('sys/marker', 'done', { qos: 1 });
    await until(() => gotWild.some((m) => m.topic === 'sys/marker'));
    expect(gotWild.filter((m) => m.topic.startsWith('$'))).toEqual([]);
  });

  it('issue 15: clients cannot publish into $SYS/ (MQTT 5: PUBACK 0x87 not authorized); the tree keeps its own value', async () => {
    const forger = await client({ clientId: 'sys-forger', protocolVersion: 5 });
    const refused = await forger.publishAsync('$SYS/broker/version', 'mosquitto version 0', { qos: 1 }).then(() => undefined, (err: { code?: number }) => err);
    expect(refused?.code).toBe(0x87);
    const s = sub(['-V', '311', '-t', '$SYS/broker/version', '-v', '-C', '1']);
    await s.done;
    expect(s.lines()).toEqual([expect.stringMatching(/^\$SYS\/broker\/version junction version /)]);
  });

  it('issue 15: UNSUBSCRIBE of a $SYS/ filter answers as any other (MQTT 5 UNSUBACK 0x00, then 0x11 no subscription existed)', async () => {
    const c = await client({ clientId: 'sys-unsub', protocolVersion: 5 });
    await c.subscribeAsync('$SYS/broker/uptime', { qos: 0 });
    const codes: number[][] = [];
    c.on('packetreceive', (p) => { if (p.cmd === 'unsuback') codes.push((p as unknown as { granted: number[] }).granted); });
    await c.unsubscribeAsync('$SYS/broker/uptime');
    await c.unsubscribeAsync('$SYS/broker/uptime').catch(() => {});
    await until(() => codes.length >= 2);
    expect(codes).toEqual([[0x00], [0x11]]);
  });
});

describe('MQTT listener: sys_interval 0 turns the $SYS/ tree off', () => {
  let node: TestNode;

  beforeAll(async () => {
    node = await startTestNode({ listener: { mqtt: mqttService({ sysInterval: 0 }) } });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('issue 15: $SYS/# is accepted and stays silent (mosquitto_sub -V 311)', async () => {
    const s = mosquittoSub(['-p', String(node.port), '-V', '311', '-t', '$SYS/#', '-t', 'after/marker', '-v', '-C', '1']);
    await s.subscribed;
    const publisher = await connectMqtt(node.port, { clientId: 'off-publisher' });
    await publisher.publishAsync('after/marker', 'x', { qos: 1 });
    await s.done;
    await publisher.endAsync();
    expect(s.lines()).toEqual(['after/marker x']);
  });
});
