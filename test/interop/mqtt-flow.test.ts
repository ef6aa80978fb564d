// MQTT 5 flow control and expiry on the listener, with clients nobody here wrote (MQTT.js 5,
// mosquitto_pub/mosquitto_sub -V 5) and, where no client can be made to break a rule, raw packets
// (test/helpers/mqtt-wire.ts): topic aliases both ways, Receive Maximum both ways, Maximum Packet
// Size both ways, Payload Format Indicator and Content Type, Message Expiry Interval.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import type { IPublishPacket, Packet } from 'mqtt-packet';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { tick } from '../helpers/core.js';
import { until } from '../helpers/until.js';
import { MqttWire } from '../helpers/mqtt-wire.js';
import { MOSQUITTO_PUB, MOSQUITTO_SUB } from '../helpers/mosquitto.js';
import { ClientSession } from '../../src/client/client-session.js';
import type { MqttServiceConfig } from '../../src/config/types.js';
import { MQTT_DEFAULTS } from '../../src/config/load-mqtt.js';
import { TOPIC_ALIAS_MAXIMUM } from '../../src/transports/mqtt-listener/topic-aliases.js';

/** The router's Receive Maximum and in-flight bound (`max_inflight`), small to be reached. */
const MAX_INFLIGHT = 5;
/** The router's Maximum Packet Size (`max_message_size`). */
const MAX_MESSAGE_SIZE = 4096;

const mqttService = (): MqttServiceConfig => ({
  ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '', payload: [{ prefix: '', type: 'native' }],
  maxInflight: MAX_INFLIGHT, maxMessageSize: MAX_MESSAGE_SIZE,
});

let node: TestNode;
let wamp: ClientSession;
let ids = 0;

beforeAll(async () => {
  node = await startTestNode({ listener: { mqtt: mqttService() } });
  wamp = await ClientSession.connect(node.node.router, { realm: 'realm1', name: 'observer' });
});
afterAll(async () => {
  await wamp?.close();
  await node?.stop();
});

type Received = { topic: string; payload: string; packet: IPublishPacket };

/** An MQTT.js 5 client, its messages collected from the first packet on (a persistent session's arrive right after CONNACK). */
async function client(options: IClientOptions = {}): Promise<{ c: MqttClient; inbox: Received[] }> {
  const c = mqtt.connect(`mqtt://127.0.0.1:${node.port}`, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, clientId: `flow-${++ids}`, ...options });
  const inbox: Received[] = [];
  c.on('message', (topic, payload, packet) => inbox.push({ topic, payload: payload.toString(), packet }));
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return { c, inbox };
}

/** mosquitto_sub -V 5 printing `format` per message, once its SUBACK came (-d: debug lines start with "Client "). */
async function mosquittoSub(args: string[], format: string): Promise<{ child: ChildProcessWithoutNullStreams; lines: string[] }> {
  // Line-buffered: its debug lines are printf'd, held back in a pipe otherwise.
  const child = spawn('stdbuf', ['-oL', MOSQUITTO_SUB, '-p', String(node.port), '-V', '5', '-d', '-F', format, ...args]);
  const lines: string[] = [];
  let subscribed = false;
  let rest = '';
  child.stdout.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop()!;
    for (const line of parts) {
      if (line.includes('received SUBACK')) subscribed = true;
      else if (!line.startsWith('Client ') && !line.startsWith('Subscribed')) lines.push(line);
    }
  });
  await until(() => subscribed, 10_000, 'mosquitto_sub subscribed');
  return { child, lines };
}

function mosquittoPub(args: string[], input?: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(MOSQUITTO_PUB, ['-p', String(node.port), '-V', '5', ...args]);
    if (input !== undefined) child.stdin.end(input);
    child.on('close', (code) => resolve(code ?? -1));
  });
}

const publish = (topic: string, properties: IPublishPacket['properties'], qos: 0 | 1 | 2 = 0, messageId?: number): Packet =>
  ({ cmd: 'publish', topic, payload: Buffer.from('x'), qos, retain: false, dup: false, ...(messageId ? { messageId } : {}), ...(properties ? { properties } : {}) }) as Packet;

const disconnectOf = (wire: MqttWire, from: number) => wire.next((p) => p.cmd === 'disconnect', from);

describe('topic aliases from the client', () => {
  it('[MQTT-3.3.2-12] CONNACK announces a Topic Alias Maximum; mosquitto_pub -D publish topic-alias sets an alias with its first message and uses it alone for the rest', async () => {
    const wire = await MqttWire.connected(node.port, 5, { clientId: `flow-${++ids}` });
    expect(wire.packets[0]).toMatchObject({ cmd: 'connack', properties: expect.objectContaining({ topicAliasMaximum: TOPIC_ALIAS_MAXIMUM }) });
    wire.close();
    const { c, inbox } = await client();
    await c.subscribeAsync('alias/#', { qos: 1 });
    // -l: one message per line, the first with topic and alias, the later ones with the alias alone.
    expect(await mosquittoPub(['-t', 'alias/kitchen', '-D', 'publish', 'topic-alias', '3', '-q', '1', '-l'], 'one\ntwo\nthree\n')).toBe(0);
    await until(() => inbox.length >= 3);
    expect(inbox.map((m) => [m.topic, m.payload])).toEqual([['alias/kitchen', 'one'], ['alias/kitchen', 'two'], ['alias/kitchen', 'three']]);
    await c.endAsync();
  });

  it('[MQTT-3.3.2-12] MQTT.js with autoAssignTopicAlias publishes on several topics by alias; an alias can be set again to another topic', async () => {
    const got: unknown[] = [];
    await wamp.subscribe('alias2.', (args, _kw, details) => got.push([details['topic'], details['_mqtt_topic']]), { match: 'prefix' });
    const { c } = await client({ autoAssignTopicAlias: true });
    for (const t of ['a', 'b', 'a', 'b']) await c.publishAsync(`alias2/${t}`, t, { qos: 1 });
    // The alias 1 now names another topic, set explicitly.
    await c.publishAsync('alias2/c', 'c', { qos: 1, properties: { topicAlias: 1 } });
    await c.publishAsync('', 'c', { qos: 1, properties: { topicAlias: 1 } });
    await until(() => got.length >= 6);
    expect(got).toEqual([['alias2.a', 'alias2/a'], ['alias2.b', 'alias2/b'], ['alias2.a', 'alias2/a'], ['alias2.b', 'alias2/b'], ['alias2.c', 'alias2/c'], ['alias2.c', 'alias2/c']]);
    await c.endAsync();
  });

  it('[MQTT-3.3.2-8] [MQTT-3.3.2-9] a topic alias of 0 or above the Topic Alias Maximum ends the connection with 0x94; the maximum itself is accepted', async () => {
    for (const alias of [0, TOPIC_ALIAS_MAXIMUM + 1]) {
      const wire = await MqttWire.connected(node.port, 5, { clientId: `flow-${++ids}` });
      wire.send(publish('alias3/x', { topicAlias: alias }));
      expect(await disconnectOf(wire, 1), `alias ${alias}`).toMatchObject({ reasonCode: 0x94 });
      await wire.wait(() => wire.closed);
      wire.close();
    }
    const wire = await MqttWire.connected(node.port, 5, { clientId: `flow-${++ids}` });
    wire.send(publish('alias3/x', { topicAlias: TOPIC_ALIAS_MAXIMUM }, 1, 1));
    wire.send(publish('', { topicAlias: TOPIC_ALIAS_MAXIMUM }, 1, 2));
    await wire.wait(() => wire.packets.filter((p) => p.cmd === 'puback').length >= 2);
    expect(wire.packets.filter((p) => p.cmd === 'puback')).toEqual([expect.objectContaining({ messageId: 1, reasonCode: 0 }), expect.objectContaining({ messageId: 2, reasonCode: 0 })]);
    wire.close();
  });

  it('[MQTT-3.3.2-7] aliases do not outlive the connection: after reconnecting (persistent session) an alias alone is a protocol error (0x82)', async () => {
    const clientId = `flow-${++ids}`;
    const connect = { clientId, clean: false, properties: { sessionExpiryInterval: 60 } };
    const first = await MqttWire.connected(node.port, 5, connect);
    first.send(publish('alias4/x', { topicAlias: 1 }, 1, 1));
    await first.next((p) => p.cmd === 'puback');
    first.close();
    await tick(50);
    const second = await MqttWire.connected(node.port, 5, connect);
    expect(second.packets[0]).toMatchObject({ cmd: 'connack', sessionPresent: true });
    second.send(publish('', { topicAlias: 1 }, 1, 2));
    expect(await disconnectOf(second, 1)).toMatchObject({ reasonCode: 0x82 });
    second.close();
  });
});

describe('topic aliases to the client', () => {
  it('[MQTT-3.3.2-11] MQTT.js with topicAliasMaximum 2 gets topics by alias, never above 2, and every message on its topic', async () => {
    const { c: sub, inbox } = await client({ properties: { topicAliasMaximum: 2 } });
    // As they arrive, before MQTT.js puts the topic of an alias back in.
    const wire: unknown[] = [];
    sub.on('packetreceive', (p) => { if (p.cmd === 'publish') wire.push([p.topic.toString(), p.properties?.topicAlias]); });
    await sub.subscribeAsync('alias5/#', { qos: 1 });
    const { c } = await client();
    for (const t of ['a', 'b', 'c', 'a', 'b', 'c']) await c.publishAsync(`alias5/${t}`, t, { qos: 1 });
    await until(() => inbox.length >= 6);
    expect(wire).toEqual([['alias5/a', 1], ['alias5/b', 2], ['alias5/c', undefined], ['', 1], ['', 2], ['alias5/c', undefined]]);
    expect(inbox.map((m) => [m.topic, m.payload])).toEqual(['a', 'b', 'c', 'a', 'b', 'c'].map((t) => [`alias5/${t}`, t]));
    await Promise.all([c.endAsync(), sub.endAsync()]);
  });

  it('[MQTT-3.3.2-11] on the wire: the first message on a topic carries topic and alias, later ones the alias alone; a client without a maximum gets none', async () => {
    const wire = await MqttWire.connected(node.port, 5, { clientId: `flow-${++ids}`, properties: { topicAliasMaximum: 1 } });
    wire.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'alias6/#', qos: 0 }] } as Packet);
    await wire.next((p) => p.cmd === 'suback');
    const plain = await MqttWire.connected(node.port, 5, { clientId: `flow-${++ids}` });
    plain.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'alias6/#', qos: 0 }] } as Packet);
    await plain.next((p) => p.cmd === 'suback');
    const { c } = await client();
    for (const t of ['a', 'a', 'b', 'b']) await c.publishAsync(`alias6/${t}`, t, { qos: 0 });
    const publishes = (w: MqttWire) => w.packets.filter((p): p is IPublishPacket => p.cmd === 'publish');
    await wire.wait(() => publishes(wire).length >= 4);
    await plain.wait(() => publishes(plain).length >= 4);
    expect(publishes(wire).map((p) => [p.topic, p.properties?.topicAlias])).toEqual([['alias6/a', 1], ['', 1], ['alias6/b', undefined], ['alias6/b', undefined]]);
    expect(publishes(plain).map((p) => [p.topic, p.properties?.topicAlias])).toEqual([['alias6/a', undefined], ['alias6/a', undefined], ['alias6/b', undefined], ['alias6/b', undefined]]);
    await c.endAsync();
    wire.close();
    plain.close();
  });
});

describe('Receive Maximum', () => {
  it('[MQTT-3.3.4-9] MQTT.js with receiveMaximum 1 gets ten QoS 2 messages published at once one exchange at a time (it drops a server that sends more)', async () => {
    const { c, inbox } = await client({ properties: { receiveMaximum: 1 } });
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    await c.subscribeAsync('recv/#', { qos: 2 });
    // From WAMP, all in one turn: the router has ten for the client at once.
    await Promise.all(Array.from({ length: 10 }, (_, i) => wamp.publish(`recv.${i}`, [i], {}, { acknowledge: true })));
    await until(() => inbox.length >= 10 || errors.length > 0);
    expect(errors).toEqual([]);
    expect(inbox.map((m) => [m.payload, m.packet.qos])).toEqual(Array.from({ length: 10 }, (_, i) => [String(i), 2]));
    await c.endAsync();
  });

  it('[MQTT-3.3.4-9] on the wire: with receiveMaximum 2, two QoS 1 PUBLISHes are in flight until one is acknowledged; the rest wait', async () => {
    const wire = await MqttWire.connected(node.port, 5, { clientId: `flow-${++ids}`, properties: { receiveMaximum: 2 } });
    wire.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'recv2/#', qos: 1 }] } as Packet);
    await wire.next((p) => p.cmd === 'suback');
    const { c } = await client();
    for (let i = 0; i < 4; i++) await c.publishAsync('recv2/x', String(i), { qos: 1 });
    const publishes = () => wire.packets.filter((p): p is IPublishPacket => p.cmd === 'publish');
    await wire.wait(() => publishes().length >= 2);
    // All four were accepted by the router (PUBACKed to the publisher); two wait for the subscriber.
    await tick(200);
    expect(publishes().map((p) => p.payload.toString())).toEqual(['0', '1']);
    wire.send({ cmd: 'puback', messageId: publishes()[0]!.messageId!, reasonCode: 0 } as Packet);
    await wire.wait(() => publishes().length >= 3);
    await tick(200);
    expect(publishes().map((p) => p.payload.toString())).toEqual(['0', '1', '2']);
    await c.endAsync();
    wire.close();
  });

  it(`[MQTT-3.3.4-7] CONNACK announces the router's Receive Maximum (max_inflight); a client with more QoS 1/2 PUBLISHes unanswered gets DISCONNECT 0x93`, async () => {
    const wire = await MqttWire.connected(node.port, 5, { clientId: `flow-${++ids}` });
    expect(wire.packets[0]).toMatchObject({ cmd: 'connack', properties: expect.objectContaining({ receiveMaximum: MAX_INFLIGHT }) });
    // QoS 2 PUBLISHes stay unanswered (counted) until their PUBREL: MAX_INFLIGHT of them are fine.
    for (let id = 1; id <= MAX_INFLIGHT; id++) wire.send(publish('recv3/x', undefined, 2, id));
    await wire.wait(() => wire.packets.filter((p) => p.cmd === 'pubrec').length >= MAX_INFLIGHT);
    // Releasing one makes room for one more.
    wire.send({ cmd: 'pubrel', messageId: 1 } as Packet);
    await wire.next((p) => p.cmd === 'pubcomp');
    wire.send(publish('recv3/x', undefined, 2, MAX_INFLIGHT + 1));
    await wire.wait(() => wire.packets.filter((p) => p.cmd === 'pubrec').length >= MAX_INFLIGHT + 1);
    expect(wire.packets.some((p) => p.cmd === 'disconnect')).toBe(false);
    wire.send(publish('recv3/x', undefined, 1, MAX_INFLIGHT + 2));
    expect(await disconnectOf(wire, 1)).toMatchObject({ reasonCode: 0x93 });
    wire.close();
  });
});

describe('Maximum Packet Size', () => {
  it('[MQTT-3.1.2-24] [MQTT-3.1.2-25] a message larger than mosquitto_sub\'s maximum-packet-size is not sent to it, and the next one is; another subscriber gets both', async () => {
    const { child, lines } = await mosquittoSub(['-t', 'size/#', '-q', '1', '-D', 'connect', 'maximum-packet-size', '200', '-C', '1'], '%t|%p');
    const { c: other, inbox } = await client();
    await other.subscribeAsync('size/#', { qos: 1 });
    const { c } = await client();
    await c.publishAsync('size/big', 'b'.repeat(500), { qos: 1 });
    await c.publishAsync('size/small', 'small', { qos: 1 });
    await new Promise((r) => child.once('close', r));
    expect(lines).toEqual(['size/small|small']);
    await until(() => inbox.length >= 2);
    expect(inbox.map((m) => m.topic)).toEqual(['size/big', 'size/small']);
    await Promise.all([c.endAsync(), other.endAsync()]);
  });

  it('[MQTT-3.2.2-15] CONNACK announces the router\'s Maximum Packet Size (max_message_size); a larger PUBLISH ends the connection with 0x95', async () => {
    const wire = await MqttWire.connected(node.port, 5, { clientId: `flow-${++ids}` });
    expect(wire.packets[0]).toMatchObject({ cmd: 'connack', properties: expect.objectContaining({ maximumPacketSize: MAX_MESSAGE_SIZE }) });
    wire.send({ ...publish('size2/x', undefined), payload: Buffer.alloc(MAX_MESSAGE_SIZE + 1, 0x61) } as Packet);
    expect(await disconnectOf(wire, 1)).toMatchObject({ reasonCode: 0x95 });
    wire.close();
  });
});

describe('Payload Format Indicator and Content Type', () => {
  it('[MQTT-3.3.2-4] [MQTT-3.3.2-20] from mosquitto_pub to mosquitto_sub and MQTT.js unaltered, and to WAMP as _mqtt_payload_format_indicator and _mqtt_content_type', async () => {
    const seen: unknown[] = [];
    await wamp.subscribe('format.', (_a, _kw, details) => seen.push([details['_mqtt_payload_format_indicator'], details['_mqtt_content_type']]), { match: 'prefix' });
    const { child, lines } = await mosquittoSub(['-t', 'format/#', '-q', '1', '-C', '2'], '%t|%F|%C|%p');
    const { c, inbox } = await client();
    await c.subscribeAsync('format/#', { qos: 1 });
    expect(await mosquittoPub(['-t', 'format/text', '-q', '1', '-m', 'ON', '-D', 'publish', 'payload-format-indicator', '1', '-D', 'publish', 'content-type', 'text/plain'])).toBe(0);
    expect(await mosquittoPub(['-t', 'format/bytes', '-q', '1', '-m', 'AA', '-D', 'publish', 'payload-format-indicator', '0', '-D', 'publish', 'content-type', 'application/octet-stream'])).toBe(0);
    await until(() => lines.length >= 2 || child.exitCode !== null).catch(() => child.kill());
    expect(lines).toEqual(['format/text|1|text/plain|ON', 'format/bytes|0|application/octet-stream|AA']);
    await until(() => inbox.length >= 2 && seen.length >= 2);
    expect(inbox.map((m) => [m.topic, m.packet.properties?.payloadFormatIndicator, m.packet.properties?.contentType]))
      .toEqual([['format/text', true, 'text/plain'], ['format/bytes', false, 'application/octet-stream']]);
    expect(seen).toEqual([[1, 'text/plain'], [0, 'application/octet-stream']]);
    await c.endAsync();
  });
});

describe('Message Expiry Interval', () => {
  it('[MQTT-3.3.2-6] a message waiting for a persistent session goes out with its interval less the time it waited; WAMP sees _mqtt_message_expiry_interval', async () => {
    const seen: unknown[] = [];
    await wamp.subscribe('expiry.', (_a, _kw, details) => seen.push(details['_mqtt_message_expiry_interval']), { match: 'prefix' });
    const options: IClientOptions = { clientId: `flow-${++ids}`, clean: false, properties: { sessionExpiryInterval: 60 } };
    const { c: away } = await client(options);
    await away.subscribeAsync('expiry/#', { qos: 1 });
    await away.endAsync();
    const { c } = await client();
    await c.publishAsync('expiry/a', 'a', { qos: 1, properties: { messageExpiryInterval: 100 } });
    await tick(1100); // more than a second in the router
    const { c: back, inbox } = await client(options);
    await until(() => inbox.length >= 1);
    expect(inbox[0]!.topic).toBe('expiry/a');
    const left = inbox[0]!.packet.properties?.messageExpiryInterval;
    expect(left).toBeLessThan(100);
    expect(left).toBeGreaterThan(90);
    expect(seen).toEqual([100]);
    await Promise.all([c.endAsync(), back.endAsync()]);
  });

  it('[MQTT-3.3.2-5] a message whose interval passed while it waited is dropped from the queue (MQTT 5 and 3.1.1 sessions alike); one without expiry is not', async () => {
    const v5: IClientOptions = { clientId: `flow-${++ids}`, clean: false, properties: { sessionExpiryInterval: 60 } };
    const v4: IClientOptions = { clientId: `flow-${++ids}`, clean: false, protocolVersion: 4 };
    for (const options of [v5, v4]) {
      const { c } = await client(options);
      await c.subscribeAsync('expiry2/#', { qos: 1 });
      await c.endAsync();
    }
    const { c } = await client();
    await c.publishAsync('expiry2/short', 'short', { qos: 1, properties: { messageExpiryInterval: 1 } });
    await c.publishAsync('expiry2/long', 'long', { qos: 1, properties: { messageExpiryInterval: 600 } });
    await c.publishAsync('expiry2/none', 'none', { qos: 1 });
    await tick(1200);
    for (const options of [v5, v4]) {
      const { c: back, inbox } = await client(options);
      await until(() => inbox.length >= 2);
      await tick(100);
      expect(inbox.map((m) => m.topic), `MQTT ${options.protocolVersion ?? 5}`).toEqual(['expiry2/long', 'expiry2/none']);
      await back.endAsync();
    }
    await c.endAsync();
  });

  it('[MQTT-3.3.2-5] a retained message is not sent once its interval passed (MQTT and WAMP subscribers); until then with what is left', async () => {
    const { c } = await client();
    await c.publishAsync('expiry3/short', 'short', { qos: 1, retain: true, properties: { messageExpiryInterval: 1 } });
    await c.publishAsync('expiry3/long', 'long', { qos: 1, retain: true, properties: { messageExpiryInterval: 600 } });
    const { c: early, inbox: earlyInbox } = await client();
    await early.subscribeAsync('expiry3/#', { qos: 1 });
    await until(() => earlyInbox.length >= 2);
    expect(earlyInbox.map((m) => [m.topic, m.packet.retain, m.packet.properties?.messageExpiryInterval])).toEqual([['expiry3/short', true, 1], ['expiry3/long', true, 600]]);
    await tick(1200);
    const { c: late, inbox } = await client();
    await late.subscribeAsync('expiry3/#', { qos: 1 });
    await until(() => inbox.length >= 1);
    const retained: unknown[] = [];
    await wamp.subscribe('expiry3.', (_a, _kw, details) => retained.push(details['topic']), { match: 'prefix', get_retained: true });
    await until(() => retained.length >= 1);
    await tick(100);
    expect(inbox.map((m) => m.topic)).toEqual(['expiry3/long']);
    expect(inbox[0]!.packet.properties?.messageExpiryInterval).toBeLessThan(600);
    expect(retained).toEqual(['expiry3.long']);
    await Promise.all([c.endAsync(), early.endAsync(), late.endAsync()]);
  });
});
