// Persistent MQTT sessions kept in the listener's `session_file` across a restart (what a package
// upgrade does to the node): subscriptions and the QoS 1 messages queued for clients that are away
// are back, with MQTT.js and mosquitto_sub; a session past its expiry is not; a broken file is one
// warning and an empty start; a role that lost its subscribe permission does not get its filter back.
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { IConnackPacket, IPublishPacket } from 'mqtt-packet';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { until } from '../helpers/until.js';
import { captureStderr } from '../helpers/capture-log.js';
import { MOSQUITTO_SUB } from '../helpers/mosquitto.js';
import { MqttWire } from '../helpers/mqtt-wire.js';
import { ClientSession } from '../../src/client/client-session.js';
import type { MqttServiceConfig, RoleConfig } from '../../src/config/types.js';
import { MQTT_DEFAULTS } from '../../src/config/load-mqtt.js';
import type { MqttService } from '../../src/transports/mqtt-listener/service.js';

const dir = mkdtempSync(join(tmpdir(), 'junction-mqtt-sessions-'));
let files = 0;
const newFile = () => join(dir, `sessions-${++files}.json`);

const nodes: TestNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

async function startNode(sessionFile: string, roles: RoleConfig[] = [allowAll()], more: Partial<MqttServiceConfig> = {}): Promise<TestNode> {
  const mqttConfig: MqttServiceConfig = { ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '', payload: [{ prefix: '', type: 'native' }], sessionFile, ...more };
  const node = await startTestNode({
    listener: { mqtt: mqttConfig, websocket: { '/ws': service() } },
    realms: [{ name: 'realm1', roles, store: { type: 'memory', limit: 100, callQueue: [], eventHistory: [] } }],
  });
  nodes.push(node);
  return node;
}

/** Stops a node as `systemctl restart` does (SIGTERM: the router shuts down). */
async function stopNode(node: TestNode): Promise<void> {
  nodes.splice(nodes.indexOf(node), 1);
  await node.stop();
}

const listenerOf = (node: TestNode): MqttService => node.node.listeners[0]!.mqtt!;

/** An MQTT.js client that records every message from its first packet on (queued ones come right after CONNACK). */
async function connect(node: TestNode, options: IClientOptions): Promise<{ client: MqttClient; connack: IConnackPacket; got: string[] }> {
  const got: string[] = [];
  const client = mqtt.connect(`mqtt://127.0.0.1:${node.port}`, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  client.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  return { client, connack, got };
}

async function publishAll(node: TestNode, topic: string, values: number[]): Promise<void> {
  const wamp = await ClientSession.connect(node.node.router, { realm: 'realm1', name: 'publisher' });
  for (const v of values) await wamp.publish(topic.replaceAll('/', '.'), [v], {}, { acknowledge: true });
  await wamp.close();
}

const endClient = (client: MqttClient) => new Promise<void>((resolve) => client.end(false, {}, () => resolve()));

describe('MQTT persistent sessions in session_file', () => {
  it('survive a restart: subscriptions and queued QoS 1 messages are back, session present, every message once and in order', async () => {
    const file = newFile();
    let node = await startNode(file);
    const v4 = await connect(node, { clientId: 'keep4', clean: false, protocolVersion: 4 });
    await v4.client.subscribeAsync('store/a', { qos: 1 });
    const v5 = await connect(node, { clientId: 'keep5', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
    await v5.client.subscribeAsync('store/+', { qos: 1, nl: true, rap: true, properties: { subscriptionIdentifier: 7 } });
    await Promise.all([endClient(v4.client), endClient(v5.client)]);
    await until(() => listenerOf(node).offlineQueuedBytes === 0 && listenerOf(node).session('keep4')?.connected === false && listenerOf(node).session('keep5')?.connected === false, 5000, 'both clients away');

    await publishAll(node, 'store/a', [1, 2, 3]);
    await stopNode(node);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { sessions: Array<{ clientId: string; filters: unknown[]; messages: unknown[]; identity: { authrole: string } }> };
    expect(saved.sessions.map((s) => s.clientId).sort()).toEqual(['keep4', 'keep5']);
    expect(saved.sessions.find((s) => s.clientId === 'keep5')!.filters).toEqual([{ filter: 'store/+', qos: 1, noLocal: true, retainAsPublished: true, identifier: 7 }]);
    expect(saved.sessions.every((s) => s.messages.length === 3 && s.identity.authrole === 'anonymous')).toBe(true);

    node = await startNode(file);
    expect(listenerOf(node).session('keep4')?.connected).toBe(false);
    await publishAll(node, 'store/a', [4, 5, 6]);
    const expected = [1, 2, 3, 4, 5, 6].map((v) => `store/a ${v}`);
    const back4 = await connect(node, { clientId: 'keep4', clean: false, protocolVersion: 4 });
    const back5 = await connect(node, { clientId: 'keep5', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
    expect(back4.connack.sessionPresent).toBe(true);
    expect(back5.connack.sessionPresent).toBe(true);
    await until(() => back4.got.length >= 6 && back5.got.length >= 6, 5000, 'the six messages');
    // Published after both are back: the subscriptions are live, not only the queue.
    await publishAll(node, 'store/a', [7]);
    await until(() => back4.got.length >= 7 && back5.got.length >= 7, 5000, 'the seventh message');
    expect(back4.got).toEqual([...expected, 'store/a 7']);
    expect(back5.got).toEqual([...expected, 'store/a 7']);
    await Promise.all([endClient(back4.client), endClient(back5.client)]);
  });

  it('a shared subscription ($share/<group>/) is back as a member of its group', async () => {
    const file = newFile();
    let node = await startNode(file);
    const member = await connect(node, { clientId: 'shared5', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
    await member.client.subscribeAsync('$share/g/shared/t', { qos: 1 });
    await endClient(member.client);
    await until(() => listenerOf(node).session('shared5')?.connected === false, 5000, 'client away');
    await publishAll(node, 'shared/t', [1]);
    await stopNode(node);
    node = await startNode(file);
    await publishAll(node, 'shared/t', [2]);
    const back = await connect(node, { clientId: 'shared5', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
    expect(back.connack.sessionPresent).toBe(true);
    await until(() => back.got.length >= 2, 5000, 'both messages');
    expect(back.got).toEqual(['shared/t 1', 'shared/t 2']);
    await endClient(back.client);
  });

  it('MQTT 5 properties of a queued message are kept: content type, correlation data, user properties, what is left of its expiry', async () => {
    const file = newFile();
    let node = await startNode(file);
    const away = await connect(node, { clientId: 'props5', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
    await away.client.subscribeAsync('props/t', { qos: 1, properties: { subscriptionIdentifier: 42 } });
    await endClient(away.client);
    await until(() => listenerOf(node).session('props5')?.connected === false, 5000, 'client away');
    const publisher = await connect(node, { clientId: 'propspub', protocolVersion: 5 });
    await publisher.client.publishAsync('props/t', 'p', {
      qos: 1, properties: { contentType: 'text/plain', correlationData: Buffer.from([0, 1, 255]), userProperties: { site: 'shelf', tag: ['a', 'b'] }, messageExpiryInterval: 3600 },
    });
    await endClient(publisher.client);
    await stopNode(node);
    node = await startNode(file);
    const packets: IPublishPacket[] = [];
    const client = mqtt.connect(`mqtt://127.0.0.1:${node.port}`, { reconnectPeriod: 0, clientId: 'props5', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
    client.on('message', (_topic, _payload, packet) => packets.push(packet));
    await until(() => packets.length >= 1, 5000, 'the queued message');
    const { properties } = packets[0]!;
    expect(properties).toMatchObject({ contentType: 'text/plain', correlationData: Buffer.from([0, 1, 255]), userProperties: { site: 'shelf', tag: ['a', 'b'] }, subscriptionIdentifier: 42 });
    expect(properties!.messageExpiryInterval).toBeGreaterThan(3500);
    expect(properties!.messageExpiryInterval).toBeLessThanOrEqual(3600);
    await endClient(client);
  });

  it('mosquitto_sub -c gets what was published while it was away and the node restarted', async () => {
    const file = newFile();
    let node = await startNode(file);
    const sub = (count: number) => {
      const child = spawn(MOSQUITTO_SUB, ['-p', String(node.port), '-h', '127.0.0.1', '-i', 'moskeep', '-c', '-q', '1', '-t', 'mos/t', '-C', String(count), '-W', '10']);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      return { child, done: new Promise<string>((resolve) => child.on('exit', () => resolve(out))) };
    };
    const first = sub(1);
    await until(() => (listenerOf(node).session('moskeep')?.wamp.subscriptionsIfAny?.filterCount ?? 0) > 0, 5000, 'mosquitto_sub subscribed');
    await publishAll(node, 'mos/t', [0]);
    expect((await first.done).trim()).toBe('0');
    await until(() => listenerOf(node).session('moskeep')?.connected === false, 5000, 'mosquitto_sub away');
    await publishAll(node, 'mos/t', [1, 2]);
    await stopNode(node);
    node = await startNode(file);
    await publishAll(node, 'mos/t', [3]);
    const second = sub(3);
    expect((await second.done).trim().split('\n')).toEqual(['1', '2', '3']);
  });

  it('QoS 2 exchanges cut by the restart finish after it: PUBREL and the unacknowledged PUBLISH (same packet id, DUP) to the client, its unreleased message not published twice', async () => {
    const file = newFile();
    let node = await startNode(file);
    let wire = await MqttWire.connected(node.port, 4, { clientId: 'midway', clean: false });
    wire.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'fly/t', qos: 2 }] });
    await wire.next((p) => p.cmd === 'suback');
    await publishAll(node, 'fly/t', [1, 2]);
    const first = await wire.next((p) => p.cmd === 'publish' && p.payload.toString() === '1') as IPublishPacket;
    const second = await wire.next((p) => p.cmd === 'publish' && p.payload.toString() === '2') as IPublishPacket;
    const from = wire.packets.length;
    wire.send({ cmd: 'pubrec', messageId: first.messageId! });
    await wire.next((p) => p.cmd === 'pubrel', from);
    // The client's own QoS 2 message, received by the router and not released.
    wire.send({ cmd: 'publish', topic: 'up/t', payload: Buffer.from('"once"'), qos: 2, messageId: 9, retain: false, dup: false });
    await wire.next((p) => p.cmd === 'pubrec' && p.messageId === 9, from);
    wire.close();
    await until(() => listenerOf(node).session('midway')?.connected === false, 5000, 'client away');
    await stopNode(node);

    node = await startNode(file);
    const events: unknown[] = [];
    const observer = await ClientSession.connect(node.node.router, { realm: 'realm1', name: 'observer' });
    await observer.subscribe('up.t', (args) => events.push(args[0]));
    wire = await MqttWire.connected(node.port, 4, { clientId: 'midway', clean: false });
    expect(wire.packets[0]).toMatchObject({ cmd: 'connack', sessionPresent: true, returnCode: 0 });
    expect(await wire.next((p) => p.cmd === 'pubrel')).toMatchObject({ messageId: first.messageId });
    expect(await wire.next((p) => p.cmd === 'publish')).toMatchObject({ messageId: second.messageId, dup: true, qos: 2, topic: 'fly/t', payload: Buffer.from('2') });
    wire.send({ cmd: 'publish', topic: 'up/t', payload: Buffer.from('"once"'), qos: 2, messageId: 9, retain: false, dup: true });
    expect(await wire.next((p) => p.cmd === 'pubrec' && p.messageId === 9)).toBeDefined();
    wire.send({ cmd: 'pubrel', messageId: 9 });
    expect(await wire.next((p) => p.cmd === 'pubcomp' && p.messageId === 9)).toBeDefined();
    wire.send({ cmd: 'publish', topic: 'up/t', payload: Buffer.from('"after"'), qos: 0, retain: false, dup: false });
    await until(() => events.includes('after'), 5000, 'the message after');
    expect(events).toEqual(['after']);
    wire.close();
    await observer.close();
  });

  it('a connected client\'s QoS 1 exchanges do not rewrite the file; what it left unacknowledged is written when it goes away, and at shutdown while it is connected', async () => {
    const file = newFile();
    let node = await startNode(file);
    const savedMessages = () => (JSON.parse(readFileSync(file, 'utf8')) as { sessions: Array<{ messages: Array<{ packet: { payload: string } }> }> })
      .sessions[0]!.messages.map((m) => Buffer.from(m.packet.payload, 'base64').toString());
    let wire = await MqttWire.connected(node.port, 4, { clientId: 'busy', clean: false });
    wire.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'busy/t', qos: 1 }] });
    await wire.next((p) => p.cmd === 'suback');
    await until(() => existsSync(file) && readFileSync(file, 'utf8').includes('busy/t'), 5000, 'the subscription in the file');
    const before = { inode: statSync(file).ino, text: readFileSync(file, 'utf8') };

    // Three messages to the connected client, one acknowledged: nothing the file keeps has changed.
    await publishAll(node, 'busy/t', [1, 2, 3]);
    const first = await wire.next((p) => p.cmd === 'publish' && p.payload.toString() === '1') as IPublishPacket;
    expect(await wire.next((p) => p.cmd === 'publish' && p.payload.toString() === '3')).toBeDefined();
    wire.send({ cmd: 'puback', messageId: first.messageId! });
    // Past the file's batching interval (1 s) twice over: a write would have happened by now.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(statSync(file).ino).toBe(before.inode);
    expect(readFileSync(file, 'utf8')).toBe(before.text);

    // Gone without acknowledging 2 and 3: the file keeps them (no shutdown needed: a power cut next would not lose them).
    wire.close();
    await until(() => savedMessages().length === 2, 5000, 'the unacknowledged messages in the file');
    expect(savedMessages()).toEqual(['2', '3']);

    // Back, given 2 and 3 again, acknowledges neither; the node stops while it is connected.
    wire = await MqttWire.connected(node.port, 4, { clientId: 'busy', clean: false });
    expect(await wire.next((p) => p.cmd === 'publish' && p.payload.toString() === '3')).toMatchObject({ dup: true });
    await until(() => savedMessages().length === 0, 5000, 'the file without messages while the client is connected');
    await stopNode(node);
    wire.close();
    expect(savedMessages()).toEqual(['2', '3']);

    node = await startNode(file);
    wire = await MqttWire.connected(node.port, 4, { clientId: 'busy', clean: false });
    expect(wire.packets[0]).toMatchObject({ cmd: 'connack', sessionPresent: true });
    const again = await wire.next((p) => p.cmd === 'publish' && p.payload.toString() === '3') as IPublishPacket;
    expect(wire.packets.filter((p) => p.cmd === 'publish').map((p) => [(p as IPublishPacket).payload.toString(), (p as IPublishPacket).dup]))
      .toEqual([['2', true], ['3', true]]);
    expect(again.topic).toBe('busy/t');
    wire.close();
  });

  it('a session whose expiry passed while the node was stopped is gone', async () => {
    const file = newFile();
    let node = await startNode(file);
    const c = await connect(node, { clientId: 'short', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 1 } });
    await c.client.subscribeAsync('short/t', { qos: 1 });
    await endClient(c.client);
    await until(() => listenerOf(node).session('short')?.connected === false, 5000, 'client away');
    await stopNode(node);
    const deadline = (JSON.parse(readFileSync(file, 'utf8')) as { sessions: Array<{ deadline: number }> }).sessions[0]!.deadline;
    await until(() => Date.now() > deadline, 5000, 'the deadline to pass');
    node = await startNode(file);
    expect(listenerOf(node).session('short')).toBeUndefined();
    const back = await connect(node, { clientId: 'short', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 1 } });
    expect(back.connack.sessionPresent).toBe(false);
    await endClient(back.client);
  });

  const goodSession = { clientId: 'x', identity: { authid: 'a', authrole: 'anonymous', authmethod: 'anonymous' }, version: 4, peer: 'p', expiryMs: 60_000, filters: [], qos2Received: [] };
  it.each([
    ['cut short', '{"format":"junction.mqtt.sessions","version":1,"sessions":[{"clientId":'],
    ['a property no PUBLISH can carry', JSON.stringify({ format: 'junction.mqtt.sessions', version: 1, sessions: [{ ...goodSession, messages: [{ packet: { topic: 't', qos: 1, retain: false, payload: '', properties: { topicAlias: 'x' } } }] }] })],
  ])('a corrupt file (%s) is one warning and an empty start', async (_what, text) => {
    const file = newFile();
    writeFileSync(file, text);
    const log = captureStderr(/session file/);
    let node: TestNode;
    try {
      node = await startNode(file);
    } finally {
      log.restore();
    }
    expect(log.lines.filter((l) => l.includes(file))).toEqual([expect.stringMatching(/WARN .*not a session file.*starting without saved sessions/)]);
    const c = await connect(node, { clientId: 'fresh', clean: false, protocolVersion: 4 });
    expect(c.connack.sessionPresent).toBe(false);
    await c.client.subscribeAsync('fresh/t', { qos: 1 });
    await endClient(c.client);
    // The file is written again, whole, with what the node has now.
    await until(() => existsSync(file) && readFileSync(file, 'utf8').includes('"fresh/t"'), 5000, 'the file rewritten');
  });

  it('a role that lost its subscribe permission across the restart does not get the subscription back', async () => {
    const file = newFile();
    const sensor = (subscribe: boolean): RoleConfig => ({
      name: 'sensor',
      permissions: [{ uri: '', match: 'prefix', cache: true, allow: { call: false, register: false, publish: true, subscribe }, disclose: { caller: false, publisher: false } }],
    });
    const roles = (subscribe: boolean) => [allowAll(), sensor(subscribe)];
    let node = await startNode(file, roles(true), { role: 'sensor' });
    const c = await connect(node, { clientId: 'demoted', clean: false, protocolVersion: 4 });
    await c.client.subscribeAsync('lost/t', { qos: 1 });
    await endClient(c.client);
    await until(() => listenerOf(node).session('demoted')?.connected === false, 5000, 'client away');
    await publishAll(node, 'lost/t', [1]);
    await stopNode(node);

    const log = captureStderr(/demoted/);
    try {
      node = await startNode(file, roles(false), { role: 'sensor' });
    } finally {
      log.restore();
    }
    expect(log.lines).toContainEqual(expect.stringMatching(/saved session of 'demoted': subscription to 'lost\/t' dropped: refused now/));
    const session = listenerOf(node).session('demoted')!;
    expect(session.wamp.authrole).toBe('sensor');
    expect(session.wamp.subscriptionsIfAny?.filterCount ?? 0).toBe(0);
    await publishAll(node, 'lost/t', [2]);
    const back = await connect(node, { clientId: 'demoted', clean: false, protocolVersion: 4 });
    expect(back.connack.sessionPresent).toBe(true);
    // What was queued before the restart is still the client's; nothing published since.
    await until(() => back.got.length >= 1, 5000, 'the queued message');
    // A round trip: whatever the session had queued went out right after CONNACK, before its PUBACK.
    await back.client.publishAsync('other/x', 'x', { qos: 1 });
    expect(back.got).toEqual(['lost/t 1']);
    await endClient(back.client);
  });
});
