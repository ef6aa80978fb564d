// An idle MQTT client's state is made on first use (src/transports/mqtt-listener/: its subscriptions,
// QoS 2 ids, in-flight map, delivery queue, requests waiting for answers): with MQTT.js, a client
// idle since CONNECT that starts subscribing and
// publishing behaves as any other, what one client makes is never another's, and a persistent
// session that was idle gets what was published while it was away.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { generate, type IConnackPacket } from 'mqtt-packet';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { until } from '../helpers/until.js';
import { connectMqttWithConnack } from '../helpers/mqtt-client.js';
import type { MqttServiceConfig } from '../../src/config/types.js';
import { MQTT_DEFAULTS } from '../../src/config/load-mqtt.js';

const received = (client: MqttClient) => {
  const got: string[] = [];
  client.on('message', (topic, payload, packet) => got.push(`${topic}=${payload.toString()}@${packet.qos}`));
  return got;
};

describe('an idle MQTT client starting to use its session', () => {
  let node: TestNode;
  const connect = async (options: IClientOptions) => (await connectMqttWithConnack(node.port, options)).client;

  beforeAll(async () => {
    const mqtt: MqttServiceConfig = { ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '', payload: [{ prefix: '', type: 'native' }], sessionExpiry: 60_000 };
    node = await startTestNode({ listener: { mqtt, websocket: { '/ws': service() } } });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('subscribes after being idle and gets QoS 0, 1 and 2 once each; another idle client gets nothing and has no subscription to remove (MQTT 5 0x11)', async () => {
    const idle = await connect({ protocolVersion: 5, clientId: 'idlesub' });
    const other = await connect({ protocolVersion: 5, clientId: 'idleother' });
    const publisher = await connect({ protocolVersion: 5, clientId: 'idlepub' });
    const got = received(idle);
    const otherGot = received(other);
    await new Promise((resolve) => setTimeout(resolve, 200)); // idle: a PINGREQ's worth of nothing
    await idle.subscribeAsync('idle/+', { qos: 2 });
    for (const qos of [0, 1, 2] as const) await publisher.publishAsync(`idle/q${qos}`, Buffer.from(`m${qos}`), { qos });
    await until(() => got.length >= 3, 5000, 'the three messages');
    await new Promise((resolve) => setTimeout(resolve, 200)); // no duplicate behind them
    expect(got.sort()).toEqual(['idle/q0=m0@0', 'idle/q1=m1@1', 'idle/q2=m2@2']);
    expect(otherGot).toEqual([]);
    const unsuback = await other.unsubscribeAsync('idle/+') as { reasonCode?: number; granted?: number[] } | undefined;
    expect(unsuback?.granted ?? [unsuback?.reasonCode]).toEqual([0x11]);
    await Promise.all([idle.endAsync(), other.endAsync(), publisher.endAsync()]);
  });

  it('an idle client publishing QoS 2 twice under one packet id before PUBREL (a resend) has it delivered once', async () => {
    const subscriber = await connect({ protocolVersion: 4, clientId: 'idleq2sub' });
    const got = received(subscriber);
    await subscriber.subscribeAsync('idleq2/t', { qos: 2 });
    const publisher = await connect({ protocolVersion: 4, clientId: 'idleq2pub' });
    // The same QoS 2 PUBLISH written twice (DUP on the second), as a client resending it does.
    const packet = { cmd: 'publish', topic: 'idleq2/t', payload: Buffer.from('once'), qos: 2, messageId: 42, retain: false, dup: false } as const;
    const stream = (publisher as unknown as { stream: { write(b: Buffer): void } }).stream;
    stream.write(generate(packet));
    stream.write(generate({ ...packet, dup: true }));
    await until(() => got.length >= 1, 5000, 'the message');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(got).toEqual(['idleq2/t=once@2']);
    await Promise.all([subscriber.endAsync(), publisher.endAsync()]);
  });

  it('[MQTT-3.1.2-5] a persistent session idle since CONNECT keeps the QoS 1 messages published while its client was away, and delivers them on its return', async () => {
    const first = await connect({ protocolVersion: 4, clientId: 'idlepersist', clean: false });
    await first.subscribeAsync('idlepersist/#', { qos: 1 });
    await first.endAsync();
    const publisher = await connect({ protocolVersion: 4, clientId: 'idlepersistpub' });
    await publisher.publishAsync('idlepersist/a', Buffer.from('1'), { qos: 1 });
    await publisher.publishAsync('idlepersist/b', Buffer.from('2'), { qos: 1 });
    // Listening before CONNACK: the kept messages may follow it in the same read.
    const back = mqtt.connect(`mqtt://127.0.0.1:${node.port}`, { protocolVersion: 4, clientId: 'idlepersist', clean: false, reconnectPeriod: 0 });
    const got = received(back);
    const connack = await new Promise<IConnackPacket>((resolve, reject) => back.once('connect', resolve).once('error', reject));
    expect(connack.sessionPresent).toBe(true);
    await until(() => got.length >= 2, 5000, 'the messages kept while away');
    expect(got).toEqual(['idlepersist/a=1@1', 'idlepersist/b=2@1']);
    await Promise.all([back.endAsync(), publisher.endAsync()]);
  });
});
