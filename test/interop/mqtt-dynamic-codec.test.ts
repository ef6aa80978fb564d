// Crossbar's `dynamic` payload mapping, set up as its mqtt/dynamic example does: a codec component
// (Autobahn|JS here, msgpack so that payloads travel as bytes) registers the decoder and encoder;
// MQTT.js clients publish and subscribe; Autobahn|JS sessions are the WAMP side.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createRequire } from 'node:module';
import type { MqttClient } from 'mqtt';
import { connectMqtt, connectMqttWithConnack } from '../helpers/mqtt-client.js';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { until } from '../helpers/until.js';
import type { MqttServiceConfig } from '../../src/config/types.js';
import { MQTT_DEFAULTS } from '../../src/config/load-mqtt.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

const mqttService = (): MqttServiceConfig => ({
  ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '',
  payload: [
    { prefix: 'codec.', type: 'dynamic', decoder: 'com.example.mqtt.decode', encoder: 'com.example.mqtt.encode' },
    { prefix: 'stuck.', type: 'dynamic', decoder: 'com.example.stuck.decode' },
    { prefix: '', type: 'native' },
  ],
});

function autobahnMsgpack(url: string): Promise<{ session: any; connection: any }> {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({ url, realm: 'realm1', max_retries: 0, serializers: [new autobahn.serializer.MsgpackSerializer()] });
    connection.onopen = (session: any) => resolve({ session, connection });
    connection.onclose = (reason: string) => { reject(new Error(reason)); return true; };
    connection.open();
  });
}

describe("issue 16: MQTT payload_mapping type dynamic (Crossbar's codec procedures)", () => {
  let node: TestNode;
  let codec: { session: any; connection: any };
  let wamp: { session: any; connection: any };
  const mqttClients: MqttClient[] = [];
  /** What the decoder was called with, in order. */
  const decoded: unknown[][] = [];
  let decoderFails = false;
  let encodeCalls = 0;

  beforeAll(async () => {
    node = await startTestNode({ listener: { mqtt: mqttService(), websocket: { '/ws': service() } } });
    codec = await autobahnMsgpack(node.wsUrl);
    // decoder(uri, mqtt_topic, payload) → {args, kwargs}; encoder(mqtt_topic, uri, args, kwargs) → bytes.
    await codec.session.register('com.example.mqtt.decode', async (args: unknown[]) => {
      const [uri, topic, payload] = args as [string, string, Uint8Array];
      const text = Buffer.from(payload).toString();
      decoded.push([uri, topic, text]);
      if (decoderFails && text === 'bad') throw new autobahn.Error('com.example.bad_payload', ['cannot read it']);
      // Answers out of order, later for earlier messages: the router keeps the client's order.
      await new Promise((r) => setTimeout(r, text === 'first' ? 200 : 10));
      const [name, value] = text.split('=');
      return { args: [Number(value)], kwargs: { name, topic } };
    });
    await codec.session.register('com.example.mqtt.encode', (args: unknown[]) => {
      encodeCalls++;
      const [topic, uri, wampArgs, kwargs] = args as [string, string, unknown[] | null, Record<string, unknown> | null];
      return Buffer.from(`${topic}|${uri}|${JSON.stringify(wampArgs)}|${JSON.stringify(kwargs)}`);
    });
    wamp = await autobahnMsgpack(node.wsUrl);
  });

  afterAll(async () => {
    for (const c of mqttClients) c.end(true);
    codec?.connection.close();
    wamp?.connection.close();
    await node?.stop();
  });

  it('MQTT → WAMP: the decoder makes the arguments, in the order the client published; MQTT subscribers get the bytes as published', async () => {
    const events: unknown[][] = [];
    await wamp.session.subscribe('codec.sensor', (args: unknown[], kwargs: Record<string, unknown>) => events.push([...args, kwargs]));
    const mqttSubscriber = await connectMqtt(node.port, { clientId: 'mqtt-sub' });
    mqttClients.push(mqttSubscriber);
    const raw: string[] = [];
    mqttSubscriber.on('message', (_topic, payload) => raw.push(payload.toString()));
    await mqttSubscriber.subscribeAsync('codec/#', { qos: 1 });
    const publisher = await connectMqtt(node.port, { clientId: 'mqtt-pub' });
    mqttClients.push(publisher);
    for (const text of ['first', 't=2', 't=3']) await publisher.publishAsync('codec/sensor', text === 'first' ? 't=1' : text, { qos: 1 });
    await until(() => events.length === 3 && raw.length === 3, 5000, 'three events each side');
    expect(events).toEqual([1, 2, 3].map((v) => [v, { name: 't', topic: 'codec/sensor' }]));
    expect(raw, JSON.stringify(raw)).toEqual(['t=1', 't=2', 't=3']);
    expect(decoded.slice(0, 3)).toEqual([['codec.sensor', 'codec/sensor', 't=1'], ['codec.sensor', 'codec/sensor', 't=2'], ['codec.sensor', 'codec/sensor', 't=3']]);
  });

  it('WAMP → MQTT: the encoder makes the payload, once for all MQTT subscribers, in order; other prefixes stay native', async () => {
    const got: Record<string, string[]> = { a: [], b: [] };
    for (const name of ['a', 'b'] as const) {
      const client = await connectMqtt(node.port, { clientId: `enc-${name}` });
      mqttClients.push(client);
      client.on('message', (topic, payload) => got[name]!.push(`${topic} ${payload.toString()}`));
      await client.subscribeAsync(['codec/lamp', 'plain/lamp'], { qos: 0 });
    }
    const before = decoded.length;
    const encodesBefore = encodeCalls;
    await wamp.session.publish('codec.lamp', [1, 'on'], { room: 'hall' }, { acknowledge: true });
    await wamp.session.publish('plain.lamp', ['off'], {}, { acknowledge: true });
    await wamp.session.publish('codec.lamp', [2], {}, { acknowledge: true });
    await until(() => got.a.length === 3 && got.b.length === 3, 5000, 'three messages to each MQTT subscriber');
    const expected = ['codec/lamp codec/lamp|codec.lamp|[1,"on"]|{"room":"hall"}', 'plain/lamp off', 'codec/lamp codec/lamp|codec.lamp|[2]|{}'];
    expect(got.a, JSON.stringify(got.a)).toEqual(expected);
    expect(got.b).toEqual(expected);
    expect(decoded.length).toBe(before); // nothing was decoded on the way out
    // One call per publication for all its MQTT subscribers (mqtt-sub's codec/# included).
    expect(encodeCalls - encodesBefore).toBe(2);
  });

  it('a failing decoder costs that one message: MQTT 5 hears 0x80 in PUBACK, the next message goes through; no codec registered: the same', async () => {
    decoderFails = true;
    const events: unknown[] = [];
    await wamp.session.subscribe('codec.valve', (args: unknown[]) => events.push(args[0]));
    const { client } = await connectMqttWithConnack(node.port, { clientId: 'v5', protocolVersion: 5 });
    mqttClients.push(client);
    const reasonOf = (payload: string) => new Promise<number | undefined>((resolve, reject) => {
      // MQTT.js reports a PUBACK reason code of 0x80 and above as an error carrying it as `code`.
      client.publish('codec/valve', payload, { qos: 1 }, (err, packet) => {
        const code = (err as { code?: unknown } | undefined)?.code;
        if (err && typeof code !== 'number') reject(err);
        else resolve(typeof code === 'number' ? code : ((packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0));
      });
    });
    expect(await reasonOf('bad')).toBe(0x80);
    expect(await reasonOf('v=7')).toBe(0);
    await until(() => events.length === 1, 5000, 'the good message');
    expect(events).toEqual([7]);
    decoderFails = false;

    await codec.session.unregister(codec.session.registrations.find((r: any) => r.procedure === 'com.example.mqtt.decode'));
    expect(await reasonOf('v=8')).toBe(0x80);
    expect(events).toEqual([7]);
  });

  it("what waits for a codec that does not answer is bounded: past 4 MiB of a client's messages, PUBACK 0x97 at once", async () => {
    await codec.session.register('com.example.stuck.decode', () => new Promise(() => {}));
    const { client } = await connectMqttWithConnack(node.port, { clientId: 'v5-stuck', protocolVersion: 5 });
    mqttClients.push(client);
    const payload = Buffer.alloc(900 * 1024, 's');
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) {
      client.publish('stuck/big', payload, { qos: 1 }, (err) => {
        const code = (err as { code?: unknown } | undefined)?.code;
        if (typeof code === 'number') codes.push(code);
      });
    }
    // Four (3.6 MB) wait for the codec; the fifth would pass 4 MiB: refused at once, not queued.
    await until(() => codes.length === 1, 5000, 'the fifth message refused');
    expect(codes).toEqual([0x97]);
    const other = await connectMqtt(node.port, { clientId: 'still-served' });
    mqttClients.push(other);
    await other.publishAsync('plain/after', 'ok', { qos: 1 }); // the router goes on serving
  });
});
