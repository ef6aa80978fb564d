// MQTT 5 subscription options and shared subscriptions on the built-in listener, with clients
// nobody here wrote: MQTT.js (npm `mqtt`, v5 and 3.1.1) and Debian's mosquitto_sub/mosquitto_pub
// (-V 5 and 311). Retain As Published, Retain Handling, No Local, Subscription Identifiers, one
// PUBLISH per message however many subscriptions match, and `$share/<group>/<filter>` groups
// (src/transports/mqtt-listener/subscriptions.ts, wamp-session.ts, shared-groups.ts).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { tick } from '../helpers/core.js';
import { MqttWire } from '../helpers/mqtt-wire.js';
import { MOSQUITTO_PUB, MOSQUITTO_SUB } from '../helpers/mosquitto.js';
import { until } from '../helpers/until.js';
import { MQTT_DEFAULTS } from '../../src/config/load-mqtt.js';

interface Got { topic: string; payload: string; qos: number; retain: boolean; ids: number[] }

let node: TestNode;
/** The mosquitto_sub processes started, ended after the tests whatever happened. */
const children: ChildProcess[] = [];

beforeAll(async () => {
  node = await startTestNode({ listener: { mqtt: { ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '', payload: [{ prefix: '', type: 'passthrough' }] } } });
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill();
  await node?.stop();
});

async function connect(options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${node.port}`, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 5, ...options });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/** What the client receives, with the subscription identifiers of each PUBLISH (sorted). */
function inbox(client: MqttClient): Got[] {
  const got: Got[] = [];
  client.on('message', (topic, payload, packet) => {
    const id = packet.properties?.subscriptionIdentifier;
    got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain, ids: id === undefined ? [] : ([] as number[]).concat(id).sort((a, b) => a - b) });
  });
  return got;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

/** A mosquitto_sub that prints each message on a line (`format`, mosquitto_sub -F); resolves once it has subscribed. */
async function mosquittoSub(args: string[], format: string): Promise<{ child: ChildProcess; lines: () => string[] }> {
  // Line-buffered: mosquitto_sub flushes after each message, not after its debug lines (-d).
  const child = spawn('stdbuf', ['-oL', MOSQUITTO_SUB, '-p', String(node.port), '-F', format, '-d', ...args]);
  children.push(child);
  let out = '';
  // With -d, mosquitto_sub's own debug lines share stdout: they start with "Client ".
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await until(() => out.includes('received SUBACK'), 10_000, 'mosquitto_sub subscribed');
  return { child, lines: () => out.split('\n').filter((l) => l !== '' && !l.startsWith('Client ') && !l.startsWith('Subscribed')) };
}

describe('MQTT 5 subscription options', () => {
  it('CONNACK announces subscription identifiers and shared subscriptions as available', async () => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${node.port}`, { reconnectPeriod: 0, protocolVersion: 5, clientId: 'connack-flags' });
    const connack = await new Promise<mqtt.IConnackPacket>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    expect(connack.properties).toMatchObject({ subscriptionIdentifiersAvailable: true, sharedSubscriptionAvailable: true });
    await client.endAsync();
  });

  it('[MQTT-3.3.1-12] [MQTT-3.3.1-13] RETAIN is cleared on forwarded messages unless the subscription asked Retain As Published', async () => {
    const plain = await connect({ clientId: 'rap-0' });
    const asPublished = await connect({ clientId: 'rap-1' });
    const plainGot = inbox(plain);
    const rapGot = inbox(asPublished);
    await plain.subscribeAsync('rap/t', { qos: 1, rap: false });
    await asPublished.subscribeAsync('rap/t', { qos: 1, rap: true });
    const publisher = await connect({ clientId: 'rap-pub' });
    await publisher.publishAsync('rap/t', 'kept', { qos: 1, retain: true });
    await publisher.publishAsync('rap/t', 'live', { qos: 1, retain: false });
    await until(() => plainGot.length >= 2 && rapGot.length >= 2);
    expect(plainGot.map((m) => [m.payload, m.retain])).toEqual([['kept', false], ['live', false]]);
    expect(rapGot.map((m) => [m.payload, m.retain])).toEqual([['kept', true], ['live', false]]);
    await publisher.publishAsync('rap/t', '', { qos: 1, retain: true }); // clears the retained message
    await Promise.all([plain.endAsync(), asPublished.endAsync(), publisher.endAsync()]);
  });

  it('[MQTT-3.3.1-9] [MQTT-3.3.1-10] [MQTT-3.3.1-11] Retain Handling 0 sends retained messages on every SUBSCRIBE, 1 only for a new subscription, 2 never', async () => {
    const publisher = await connect({ clientId: 'rh-pub' });
    await publisher.publishAsync('rh/t', 'stored', { qos: 1, retain: true });
    const clients = await Promise.all([0, 1, 2].map((rh) => connect({ clientId: `rh-${rh}` })));
    const got = clients.map(inbox);
    for (let round = 0; round < 2; round++) {
      for (const rh of [0, 1, 2] as const) await clients[rh]!.subscribeAsync('rh/t', { qos: 1, rh });
    }
    // The SUBACKs are in: whatever retained message was coming has come; a live one marks the end.
    await publisher.publishAsync('rh/t', 'end', { qos: 1 });
    await until(() => got.every((g) => g.some((m) => m.payload === 'end')));
    const stored = (g: Got[]) => g.filter((m) => m.payload === 'stored');
    expect(stored(got[0]!).map((m) => m.retain)).toEqual([true, true]);
    expect(stored(got[1]!).map((m) => m.retain)).toEqual([true]);
    expect(stored(got[2]!)).toEqual([]);
    await publisher.publishAsync('rh/t', '', { qos: 1, retain: true });
    await Promise.all([publisher, ...clients].map((c) => c.endAsync()));
  });

  it('[MQTT-3.8.3-3] No Local keeps the client\'s own messages from that subscription only; another matching subscription still delivers them', async () => {
    const client = await connect({ clientId: 'nl-self' });
    const other = await connect({ clientId: 'nl-other' });
    const got = inbox(client);
    await client.subscribeAsync('nl/#', { qos: 1, nl: true, properties: { subscriptionIdentifier: 1 } });
    await client.publishAsync('nl/a/x', 'own-only-nl', { qos: 1 });
    await other.publishAsync('nl/a/x', 'from-other', { qos: 1 });
    await until(() => got.length >= 1);
    await client.subscribeAsync('nl/a/+', { qos: 0, nl: false, properties: { subscriptionIdentifier: 2 } });
    await client.publishAsync('nl/a/x', 'own-both', { qos: 1 });
    await other.publishAsync('nl/a/x', 'end', { qos: 1 });
    await until(() => got.some((m) => m.payload === 'end'));
    // Its own message through the subscription without No Local alone: its QoS and its identifier.
    expect(got.map((m) => [m.payload, m.qos, m.ids])).toEqual([['from-other', 1, [1]], ['own-both', 0, [2]], ['end', 1, [1, 2]]]);
    await Promise.all([client.endAsync(), other.endAsync()]);
  });

  it('[MQTT-3.3.4-2] [MQTT-3.3.4-4] overlapping subscriptions: one PUBLISH at the highest QoS, with every matching subscription identifier', async () => {
    const client = await connect({ clientId: 'sid-overlap' });
    const got = inbox(client);
    await client.subscribeAsync('sid/+', { qos: 1, properties: { subscriptionIdentifier: 7 } });
    await client.subscribeAsync('sid/#', { qos: 2, properties: { subscriptionIdentifier: 268_435_455 } });
    await client.subscribeAsync('sid/a', { qos: 0 });
    const publisher = await connect({ clientId: 'sid-pub' });
    await publisher.publishAsync('sid/a', 'one', { qos: 2 });
    await publisher.publishAsync('sid/b/c', 'deep', { qos: 2 });
    await until(() => got.length >= 2);
    await tick(200);
    expect(got.map((m) => [m.topic, m.qos, m.ids])).toEqual([['sid/a', 2, [7, 268_435_455]], ['sid/b/c', 2, [268_435_455]]]);
    await Promise.all([client.endAsync(), publisher.endAsync()]);
  });

  it('[MQTT-3.3.4-2] an MQTT 3.1.1 client with overlapping subscriptions gets one message at the highest QoS', async () => {
    const client = await connect({ clientId: 'overlap-311', protocolVersion: 4 });
    const got = inbox(client);
    await client.subscribeAsync({ 'ov/#': { qos: 1 }, 'ov/+': { qos: 2 }, '+/x': { qos: 0 } });
    await run(MOSQUITTO_PUB, ['-p', String(node.port), '-V', 'mqttv311', '-q', '2', '-t', 'ov/x', '-m', 'once']);
    await until(() => got.length >= 1);
    await tick(300);
    expect(got.map((m) => [m.topic, m.payload, m.qos])).toEqual([['ov/x', 'once', 2]]);
    await client.endAsync();
  });

  it('[MQTT-3.10.4-1] UNSUBSCRIBE deletes only the filter it names: `both/#` still delivers `both` once `both` is unsubscribed', async () => {
    const client = await connect({ clientId: 'unsub-one' });
    const got = inbox(client);
    await client.subscribeAsync({ 'both/#': { qos: 1 }, both: { qos: 0 } });
    await client.unsubscribeAsync('both');
    const publisher = await connect({ clientId: 'unsub-pub' });
    await publisher.publishAsync('both', 'parent', { qos: 1 });
    await until(() => got.length >= 1);
    expect(got.map((m) => [m.topic, m.qos])).toEqual([['both', 1]]);
    await Promise.all([client.endAsync(), publisher.endAsync()]);
  });

  it('[MQTT-3.3.4-3] mosquitto_sub -V 5 prints the subscription identifier it subscribed with', async () => {
    const sub = await mosquittoSub(['-V', 'mqttv5', '-q', '1', '-t', 'sidm/+', '-D', 'subscribe', 'subscription-identifier', '42'], '%S %t %p');
    await run(MOSQUITTO_PUB, ['-p', String(node.port), '-V', 'mqttv5', '-q', '1', '-t', 'sidm/a', '-m', 'hello']);
    await until(() => sub.lines().length >= 1);
    sub.child.kill();
    expect(sub.lines()).toEqual(['42 sidm/a hello']);
  });

  it('a subscription identifier of 0 in SUBSCRIBE is a protocol error (DISCONNECT 0x82)', async () => {
    const wire = await MqttWire.connected(node.port, 5, { clientId: 'sid-zero' });
    wire.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x', qos: 0 }], properties: { subscriptionIdentifier: 0 } });
    expect(await wire.next((p) => p.cmd === 'disconnect')).toMatchObject({ reasonCode: 0x82 });
    wire.socket.destroy();
  });
});

describe('shared subscriptions $share/<group>/<filter>', () => {
  /**
   * Group `name` on `<name>/t`: first a member on the raw wire that never acknowledges (every
   * message it gets stays in flight), then an MQTT.js member; and a publisher.
   */
  async function stuckAndLive(name: string, qos: 1 | 2, persistent = false) {
    const stuck = await MqttWire.connected(node.port, 5, { clientId: `${name}-stuck`, ...(persistent ? { clean: false, properties: { sessionExpiryInterval: 600 } } : {}) });
    stuck.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `$share/${name}/${name}/t`, qos }] });
    await stuck.next((p) => p.cmd === 'suback');
    const live = await connect({ clientId: `${name}-live` });
    const got = inbox(live);
    await live.subscribeAsync(`$share/${name}/${name}/t`, { qos });
    const publisher = await connect({ clientId: `${name}-pub` });
    return { stuck, live, got, publisher };
  }

  it('[MQTT-4.8.2-1] [MQTT-4.8.2-2] a $share filter without a group name, with a wildcard in it, or without a filter is refused (0x8F; MQTT 3.1.1 0x80)', async () => {
    // MQTT.js checks filters itself (and sends none of these): the raw wire does.
    const subscriptions = ['$share/g', '$share//x', '$share/g+/x', '$share/g#/x', '$share/g/', '$share/g/ok'].map((topic) => ({ topic, qos: 1 as const }));
    for (const [version, refused] of [[5, 0x8f], [4, 0x80]] as const) {
      const wire = await MqttWire.connected(node.port, version, { clientId: `share-bad-${version}` });
      wire.send({ cmd: 'subscribe', messageId: 1, subscriptions });
      expect(await wire.next((p) => p.cmd === 'suback')).toMatchObject({ granted: [refused, refused, refused, refused, refused, 1] });
      wire.socket.destroy();
    }
  });

  it('[MQTT-3.8.3-4] No Local on a shared subscription is a protocol error (DISCONNECT 0x82)', async () => {
    const wire = await MqttWire.connected(node.port, 5, { clientId: 'share-nl' });
    wire.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/x', qos: 1, nl: true }] });
    expect(await wire.next((p) => p.cmd === 'disconnect')).toMatchObject({ reasonCode: 0x82 });
    wire.socket.destroy();
  });

  it('each message goes to one member, round-robin, MQTT 5 (MQTT.js) and MQTT 3.1.1 (mosquitto_sub -V 311) members alike; no retained message on subscribing', async () => {
    const publisher = await connect({ clientId: 'rr-pub' });
    await publisher.publishAsync('rr/old', 'retained', { qos: 1, retain: true });
    const a = await connect({ clientId: 'rr-a' });
    const b = await connect({ clientId: 'rr-b', protocolVersion: 4 });
    const gotA = inbox(a);
    const gotB = inbox(b);
    await a.subscribeAsync('$share/rr/rr/#', { qos: 1, properties: { subscriptionIdentifier: 5 } });
    await b.subscribeAsync('$share/rr/rr/#', { qos: 1 });
    const c = await mosquittoSub(['-V', 'mqttv311', '-q', '1', '-t', '$share/rr/rr/#', '-i', 'rr-c'], '%t %p');
    // Another group, and a plain subscriber: each gets every message.
    const d = await connect({ clientId: 'rr-d' });
    const gotD = inbox(d);
    await d.subscribeAsync('$share/other/rr/+', { qos: 1 });
    for (let i = 0; i < 30; i++) await publisher.publishAsync(`rr/${i % 3}`, `m${i}`, { qos: 1 });
    await until(() => gotA.length + gotB.length + c.lines().length >= 30 && gotD.length >= 30);
    await tick(200);
    c.child.kill();
    expect([gotA.length, gotB.length, c.lines().length]).toEqual([10, 10, 10]);
    const all = [...gotA.map((m) => m.payload), ...gotB.map((m) => m.payload), ...c.lines().map((l) => l.split(' ')[1])];
    expect(all.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`).sort());
    expect(gotD).toHaveLength(30);
    expect(gotA.every((m) => m.ids.join() === '5' && !m.retain)).toBe(true);
    await publisher.publishAsync('rr/old', '', { qos: 1, retain: true });
    await Promise.all([publisher, a, b, d].map((x) => x.endAsync()));
  });

  it('[MQTT-4.7.2-1] a shared filter starting with a wildcard matches no $ topic either', async () => {
    const member = await connect({ clientId: 'share-dollar' });
    const got = inbox(member);
    await member.subscribeAsync('$share/dollar/#', { qos: 0 });
    await run(MOSQUITTO_PUB, ['-p', String(node.port), '-V', 'mqttv5', '-t', '$private/x', '-m', 'hidden']);
    await run(MOSQUITTO_PUB, ['-p', String(node.port), '-V', 'mqttv5', '-t', 'public/x', '-m', 'seen']);
    await until(() => got.length >= 1);
    await tick(200);
    expect(got.map((m) => m.payload)).toEqual(['seen']);
    await member.endAsync();
  });

  it('three mosquitto_sub -V 5 members, one killed mid-stream of QoS 1 messages: every message is delivered', async () => {
    const members = await Promise.all([1, 2, 3].map((n) => mosquittoSub(['-V', 'mqttv5', '-q', '1', '-t', '$share/kill/kill/#', '-i', `kill-${n}`], '%p')));
    const publisher = await connect({ clientId: 'kill-pub' });
    const total = 600;
    let killedAt = -1;
    for (let i = 0; i < total; i += 20) {
      // In batches, not one by one: many messages are in flight when the member dies.
      await Promise.all(Array.from({ length: 20 }, (_, j) => publisher.publishAsync('kill/t', `m${i + j}`, { qos: 1 })));
      await tick(10);
      if (killedAt < 0 && members[1]!.lines().length >= 20) {
        members[1]!.child.kill('SIGKILL');
        killedAt = i + 20;
      }
    }
    const seen = () => new Set(members.flatMap((m) => m.lines()));
    await until(() => seen().size >= total, 15_000, 'every message delivered');
    for (const m of members) m.child.kill();
    expect(killedAt).toBeLessThan(total); // killed mid-stream
    expect(seen().size).toBe(total);
    await publisher.endAsync();
  });

  it('a member that leaves with QoS 1 messages unacknowledged hands them to another member (MQTT 5 4.8.2); nothing lost', async () => {
    const { stuck, got, publisher, live } = await stuckAndLive('hand', 1);
    for (let i = 0; i < 20; i++) await publisher.publishAsync('hand/t', `m${i}`, { qos: 1 });
    await until(() => got.length >= 10);
    await tick(200);
    expect(got.length).toBe(10); // round-robin: the other half is the stuck member's
    expect(stuck.packets.filter((p) => p.cmd === 'publish').length).toBeGreaterThan(0);
    stuck.socket.destroy();
    await until(() => got.length >= 20);
    expect(got.map((m) => m.payload).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`).sort());
    await Promise.all([live.endAsync(), publisher.endAsync()]);
  });

  it('[MQTT-4.8.2-5] a QoS 2 message already sent to a member that leaves is not sent to another member', async () => {
    const { stuck, got, publisher, live } = await stuckAndLive('q2', 2);
    await publisher.publishAsync('q2/t', 'to-stuck', { qos: 2 });
    await publisher.publishAsync('q2/t', 'to-live', { qos: 2 });
    await stuck.next((p) => p.cmd === 'publish');
    stuck.socket.destroy(); // no PUBREC: the message is in flight
    await tick(300);
    await publisher.publishAsync('q2/t', 'end', { qos: 2 });
    await until(() => got.some((m) => m.payload === 'end'));
    await tick(200);
    expect(got.map((m) => m.payload)).toEqual(['to-live', 'end']);
    await Promise.all([live.endAsync(), publisher.endAsync()]);
  });

  it('[MQTT-4.8.2-4] a member with a persistent session that loses its connection: its QoS 1 messages go to another member at once, its QoS 2 message in flight is completed when it is back', async () => {
    const { stuck, got, publisher, live } = await stuckAndLive('back', 1, true);
    await live.subscribeAsync('$share/back2/back/t2', { qos: 2 });
    stuck.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: '$share/back2/back/t2', qos: 2 }] });
    await stuck.next((p) => p.cmd === 'suback' && p.messageId === 2);
    for (let i = 0; i < 4; i++) await publisher.publishAsync('back/t', `q1-${i}`, { qos: 1 });
    await publisher.publishAsync('back/t2', 'q2-live', { qos: 2 }); // live joined back2 first
    await publisher.publishAsync('back/t2', 'q2-stuck', { qos: 2 });
    await until(() => stuck.packets.filter((p) => p.cmd === 'publish').length >= 3 && got.length >= 3);
    stuck.socket.destroy();
    await until(() => got.length >= 5);
    expect(got.map((m) => m.payload).sort()).toEqual(['q1-0', 'q1-1', 'q1-2', 'q1-3', 'q2-live']);
    // Back: the QoS 2 message again (DUP), and none of the QoS 1 messages another member took.
    const back = await MqttWire.connected(node.port, 5, { clientId: 'back-stuck', clean: false, properties: { sessionExpiryInterval: 600 } });
    expect(back.packets[0]).toMatchObject({ cmd: 'connack', sessionPresent: true });
    const again = await back.next((p) => p.cmd === 'publish');
    expect(again).toMatchObject({ topic: 'back/t2', dup: true, qos: 2 });
    expect(String((again as { payload: Buffer }).payload)).toBe('q2-stuck');
    await tick(200);
    expect(back.packets.filter((p) => p.cmd === 'publish')).toHaveLength(1);
    back.send({ cmd: 'disconnect', properties: { sessionExpiryInterval: 0 } });
    back.socket.destroy();
    await Promise.all([live.endAsync(), publisher.endAsync()]);
  });
});
