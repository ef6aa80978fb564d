// Issue 19's MQTT items with clients nobody here wrote (MQTT.js, mosquitto_sub) and, where a
// packet no client would send is the point, raw mqtt-packet frames:
// #5 the request/response gateway is no confused deputy; #9 U+0000 and over-long MQTT 5 properties
// never poison MQTT subscribers; #12c a client id belongs to the authid that made it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { allowAll, tick } from '../helpers/core.js';
import { MqttWire } from '../helpers/mqtt-wire.js';
import { ClientSession } from '../../src/client/client-session.js';
import type { MqttServiceConfig, PermissionConfig, RoleConfig } from '../../src/config/types.js';
import { MQTT_DEFAULTS } from '../../src/config/load-mqtt.js';
import { until } from '../helpers/until.js';

const perm = (uri: string, allow: Partial<PermissionConfig['allow']>): PermissionConfig => ({
  uri, match: 'prefix', cache: true,
  allow: { call: false, register: false, publish: false, subscribe: false, ...allow },
  disclose: { caller: false, publisher: false },
});
/** Publishes sensor data, sends requests, reads its replies; `ops.` is not its business. */
const SENSOR: RoleConfig = {
  name: 'sensor',
  permissions: [perm('sensors.', { publish: true, subscribe: true }), perm('rpc.call.', { publish: true }), perm('replies.', { publish: true, subscribe: true })],
};
/** The same, decided by a procedure (dynamic authorization). */
const DYNAMIC: RoleConfig = { name: 'dynamic', permissions: [], authorizer: 'authz.mqtt' };

const PRINCIPALS = {
  'sensor-1': { ticket: 's1', role: 'sensor' },
  'sensor-2': { ticket: 's2', role: 'sensor' },
  'dyn-1': { ticket: 'd1', role: 'dynamic' },
};

function mqttService(): MqttServiceConfig {
  return {
    ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '', payload: [{ prefix: '', type: 'native' }],
    auth: { ticket: { type: 'static', principals: PRINCIPALS } },
    rpc: { role: 'trusted', toMqtt: [], fromMqtt: [{ topic: 'rpc/call', procedure: 'svc.' }] },
  };
}

async function connectMqtt(port: number, options: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/** The CONNACK error code of a refused connection (undefined when it connected). */
async function refusedWith(port: number, options: IClientOptions): Promise<number | undefined> {
  return connectMqtt(port, options).then(async (c) => {
    await c.endAsync();
    return undefined;
  }, (e: { code?: number }) => e.code ?? -1);
}

function inbox(client: MqttClient) {
  const got: Array<{ topic: string; payload: string; properties?: Record<string, unknown> }> = [];
  client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), properties: packet.properties as Record<string, unknown> }));
  return got;
}

const v5 = (user: keyof typeof PRINCIPALS, clientId: string, extra: IClientOptions = {}): IClientOptions =>
  ({ protocolVersion: 5, username: user, password: PRINCIPALS[user].ticket, clientId, ...extra });

describe('issue 19: MQTT', () => {
  let node: TestNode;
  let admin: ClientSession;
  /** What reached ops.* (where no sensor may publish). */
  const alarms: unknown[] = [];
  let echoCalls = 0;

  beforeAll(async () => {
    node = await startTestNode({
      realms: [{ name: 'realm1', roles: [SENSOR, DYNAMIC, allowAll('admin')], store: { type: 'memory', limit: 10, callQueue: [], eventHistory: [] } }],
      listener: { kind: 'mqtt', websocket: {}, rawsocket: undefined, mqtt: mqttService() },
    });
    admin = await ClientSession.connect(node.node.router, { realm: 'realm1', role: 'admin', name: 'admin' });
    // The dynamic role may do what SENSOR may, decided per request by this procedure.
    await admin.register('authz.mqtt', (args) => {
      const [, uri, action] = args as [unknown, string, string];
      if (uri.startsWith('ops.')) return false;
      return action === 'publish' || action === 'subscribe';
    });
    await admin.register('svc.echo', (args) => {
      echoCalls++;
      return `echo: ${String(args[0])}`;
    });
    await admin.subscribe('ops.', (args, _kw, details) => alarms.push([details['topic'], args[0]]), { match: 'prefix' });
  });
  afterAll(async () => {
    await admin?.close();
    await node?.stop();
  });

  it('issue 19 #5: a sensor refused on ops/alarm cannot get the rpc gateway to publish there by naming it as response topic', async () => {
    const sensor = await connectMqtt(node.port, v5('sensor-1', 'deputy-sensor'));
    const replies = inbox(sensor);
    await sensor.subscribeAsync('replies/sensor-1', { qos: 1 });
    // Refused on ops/alarm itself:
    const direct = await sensor.publishAsync('ops/alarm', 'fire', { qos: 1 }).then(() => undefined, (e: { code?: number }) => e.code);
    expect(direct).toBe(0x87);
    // The request naming ops/alarm as response topic is refused like a PUBLISH there (QoS 1: 0x87; QoS 0: dropped).
    const request = (responseTopic: string, qos: 0 | 1, id: string) =>
      sensor.publishAsync('rpc/call/echo', JSON.stringify(`evacuate ${id}`), { qos, properties: { responseTopic, correlationData: Buffer.from(id) } })
        .then(() => 0, (e: { code?: number }) => e.code);
    expect(await request('ops/alarm', 1, 'q1')).toBe(0x87);
    expect(await request('ops/alarm', 0, 'q0')).toBe(0);
    // Its own reply topic works, so the gateway is up and the refusals above were the check.
    expect(await request('replies/sensor-1', 1, 'ok')).toBe(0);
    expect(await until(() => replies.length >= 1)).toBe(true);
    expect(replies[0]).toMatchObject({ topic: 'replies/sensor-1', payload: 'echo: evacuate ok' });
    await tick(200);
    expect(alarms).toEqual([]);
    expect(echoCalls).toBe(1);
    await sensor.endAsync();
  });

  it('issue 19 #5: a WAMP publisher setting _mqtt_response_topic is not served by the gateway', async () => {
    const wampSensor = await ClientSession.connect(node.node.router, { realm: 'realm1', role: 'sensor', authid: 'wamp-sensor', name: 'wamp-sensor' });
    const before = echoCalls;
    await wampSensor.publish('rpc.call.echo', ['evacuate'], {}, { acknowledge: true, _mqtt_response_topic: 'ops/alarm', _mqtt_correlation_data: 'w1' });
    await tick(300);
    expect(alarms).toEqual([]);
    expect(echoCalls).toBe(before);
    await wampSensor.close();
  });

  it('issue 19 #5: the response topic is authorized through the realm authorizer, dynamic authorizers included', async () => {
    const client = await connectMqtt(node.port, v5('dyn-1', 'deputy-dynamic'));
    const replies = inbox(client);
    await client.subscribeAsync('replies/dyn-1', { qos: 1 });
    const request = (responseTopic: string, id: string) =>
      client.publishAsync('rpc/call/echo', '"x"', { qos: 1, properties: { responseTopic, correlationData: Buffer.from(id) } }).then(() => 0, (e: { code?: number }) => e.code);
    // Sent back to back: the one waiting for the authorizer keeps its place in order.
    const codes = await Promise.all([request('ops/alarm', 'd1'), request('replies/dyn-1', 'd2'), request('ops/alarm', 'd3')]);
    expect(codes).toEqual([0x87, 0, 0x87]);
    expect(await until(() => replies.length >= 1)).toBe(true);
    expect(Buffer.from(replies[0]!.properties!['correlationData'] as Uint8Array).toString()).toBe('d2');
    await tick(200);
    expect(alarms).toEqual([]);
    await client.endAsync();
  });

  it('issue 19 #9: a topic or filter with U+0000 is a malformed packet (MQTT 5: DISCONNECT 0x81; 3.1.1: closed)', async () => {
    for (const version of [4, 5] as const) {
      for (const bad of ['publish', 'subscribe', 'unsubscribe'] as const) {
        const wire = await MqttWire.connected(node.port, version, { clientId: `nul-${version}-${bad}`, username: 'sensor-1', password: Buffer.from('s1') });
        expect(wire.packets[0]).toMatchObject({ cmd: 'connack' });
        const from = wire.packets.length;
        if (bad === 'publish') wire.send({ cmd: 'publish', topic: 'sensors/a\u0000b', payload: Buffer.from('1'), qos: 1, messageId: 1, retain: false, dup: false });
        if (bad === 'subscribe') wire.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'sensors/\u0000/#', qos: 1 }] });
        if (bad === 'unsubscribe') wire.send({ cmd: 'unsubscribe', messageId: 1, unsubscriptions: ['sensors/\u0000'] });
        expect(await wire.wait(() => wire.closed), `${bad} v${version} closed`).toBe(true);
        const answers = wire.packets.slice(from);
        expect(answers, `${bad} v${version}`).toEqual(version === 5 ? [expect.objectContaining({ cmd: 'disconnect', reasonCode: 0x81 })] : []);
      }
    }
  });

  it('issue 19 #9: a WAMP publication whose URI holds U+0000 (or a wildcard) is not delivered; MQTT.js and mosquitto_sub keep receiving', async () => {
    // mosquitto_sub with a persistent session (3.1.1, clean=false, QoS 1), the case that broke for good.
    const sub = spawn('mosquitto_sub', ['-p', String(node.port), '-V', 'mqttv311', '-u', 'sensor-2', '-P', 's2', '-i', 'poison-sub', '-c', '-q', '1', '-t', 'sensors/poison/#', '-v', '-C', '2']);
    let out = '';
    sub.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => sub.once('close', r));
    const js = await connectMqtt(node.port, v5('sensor-1', 'poison-js'));
    const got = inbox(js);
    await js.subscribeAsync('sensors/poison/#', { qos: 1 });
    await tick(300); // mosquitto_sub has subscribed
    await admin.publish('sensors.poison.before', [1], {}, { acknowledge: true });
    await admin.publish('sensors.poison.a\u0000b', [2], {}, { acknowledge: true });
    await admin.publish('sensors.poison.+', [3], {}, { acknowledge: true });
    await admin.publish('sensors.poison.after', [4], {}, { acknowledge: true });
    expect(await exited).toBe(0);
    expect(out.trim().split('\n')).toEqual(['sensors/poison/before 1', 'sensors/poison/after 4']);
    expect(await until(() => got.length >= 2)).toBe(true);
    await tick(100);
    expect(got.map((m) => [m.topic, m.payload])).toEqual([['sensors/poison/before', '1'], ['sensors/poison/after', '4']]);
    await js.endAsync();
  });

  it('issue 19 #9: MQTT 5 properties MQTT cannot encode (a 70,000-byte _mqtt_content_type, ...) are left out with a log line; MQTT.js and mosquitto_sub keep receiving', async () => {
    const sub = spawn('mosquitto_sub', ['-p', String(node.port), '-V', 'mqttv5', '-u', 'sensor-2', '-P', 's2', '-i', 'props-sub', '-q', '1', '-t', 'sensors/props/#', '-v', '-C', '3']);
    let out = '';
    sub.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => sub.once('close', r));
    const js = await connectMqtt(node.port, v5('sensor-1', 'props-js'));
    const got = inbox(js);
    await js.subscribeAsync('sensors/props/#', { qos: 1 });
    await tick(300);
    const huge = 'x'.repeat(70_000);
    await admin.publish('sensors.props.type', [1], {}, { acknowledge: true, _mqtt_content_type: huge, _mqtt_qos: 1 });
    await admin.publish('sensors.props.other', [2], {}, {
      acknowledge: true, _mqtt_correlation_data: Buffer.alloc(70_000), _mqtt_response_topic: 'a/#', _mqtt_user_properties: { n: 5 }, _mqtt_content_type: 'text/plain',
    });
    await admin.publish('sensors.props.after', [3], {}, { acknowledge: true });
    expect(await exited).toBe(0);
    expect(out.trim().split('\n')).toEqual(['sensors/props/type 1', 'sensors/props/other 2', 'sensors/props/after 3']);
    expect(await until(() => got.length >= 3)).toBe(true);
    expect(got.map((m) => m.topic)).toEqual(['sensors/props/type', 'sensors/props/other', 'sensors/props/after']);
    expect(got[0]!.properties?.['contentType']).toBeUndefined();
    // What can be carried still is.
    expect(got[1]!.properties).toMatchObject({ contentType: 'text/plain' });
    expect(got[1]!.properties?.['correlationData']).toBeUndefined();
    await js.endAsync();
  });

  it("issue 19 #9: an event larger than an MQTT 5 client's maximum packet size is not sent to it [MQTT-3.1.2-24]; MQTT.js and mosquitto_sub keep receiving", async () => {
    const sub = spawn('mosquitto_sub', ['-p', String(node.port), '-V', 'mqttv5', '-u', 'sensor-2', '-P', 's2', '-i', 'small-sub', '-c', '-x', '3600',
      '-D', 'connect', 'maximum-packet-size', '1024', '-q', '1', '-t', 'sensors/small/#', '-v', '-C', '2']);
    let out = '';
    sub.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => sub.once('close', r));
    const js = await connectMqtt(node.port, v5('sensor-1', 'small-js', { properties: { maximumPacketSize: 1024 } }));
    const got = inbox(js);
    await js.subscribeAsync('sensors/small/#', { qos: 1 });
    await tick(300);
    await admin.publish('sensors.small.before', [1], {}, { acknowledge: true });
    await admin.publish('sensors.small.big', ['x'.repeat(2000)], {}, { acknowledge: true });
    await admin.publish('sensors.small.after', [3], {}, { acknowledge: true });
    expect(await exited).toBe(0);
    expect(out.trim().split('\n')).toEqual(['sensors/small/before 1', 'sensors/small/after 3']);
    expect(await until(() => got.length >= 2)).toBe(true);
    await tick(100);
    expect(got.map((m) => m.topic)).toEqual(['sensors/small/before', 'sensors/small/after']);
    expect(js.connected).toBe(true);
    await js.endAsync();
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`issue 19 #12c: another user reusing a client id is refused (MQTT ${protocolVersion === 5 ? '5: 0x85' : '3.1.1: 2'}); the owner's persistent session is untouched; the owner takes over`, async () => {
      const clientId = `owned-${protocolVersion}`;
      const options = (user: 'sensor-1' | 'sensor-2'): IClientOptions => ({
        protocolVersion, username: user, password: PRINCIPALS[user].ticket, clientId, clean: false,
        ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 300 } } : {}),
      });
      const owner = await connectMqtt(node.port, options('sensor-1'));
      await owner.subscribeAsync('sensors/owned/#', { qos: 1 });
      // While the owner is connected, and while it is away: refused, and it stays as it was.
      expect(await refusedWith(node.port, options('sensor-2'))).toBe(protocolVersion === 5 ? 0x85 : 2);
      expect(owner.connected).toBe(true);
      await owner.endAsync();
      expect(await refusedWith(node.port, options('sensor-2'))).toBe(protocolVersion === 5 ? 0x85 : 2);
      await admin.publish('sensors.owned.missed', ['while away'], {}, { acknowledge: true });
      const back = mqtt.connect(`mqtt://127.0.0.1:${node.port}`, { ...options('sensor-1'), reconnectPeriod: 0 });
      const got = inbox(back);
      const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => back.once('connect', resolve));
      expect(connack.sessionPresent).toBe(true);
      expect(await until(() => got.length >= 1)).toBe(true);
      expect(got[0]).toMatchObject({ topic: 'sensors/owned/missed', payload: 'while away' });
      // The same authid takes over a live connection, as before.
      const again = await connectMqtt(node.port, options('sensor-1'));
      expect(await until(() => !back.connected)).toBe(true);
      await again.endAsync();
      back.end(true);
    });
  }
});
