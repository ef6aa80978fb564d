// The built-in MQTT listener with clients nobody here wrote: Debian's mosquitto_pub/mosquitto_sub
// and the npm `mqtt` client (MQTT 3.1, 3.1.1 and 5), against WAMP peers (Autobahn|JS, in-process).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { allowAll, tick } from '../helpers/core.js';
import { ClientSession } from '../../src/client/client-session.js';
import type { ListenerConfig, MqttServiceConfig, PermissionConfig, RoleConfig } from '../../src/config/types.js';
import { MQTT_DEFAULTS } from '../../src/config/load-mqtt.js';
import { until } from '../helpers/until.js';
import { connectMqtt } from '../helpers/mqtt-client.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

const perm = (uri: string, allow: Partial<PermissionConfig['allow']>): PermissionConfig => ({
  uri, match: 'prefix', cache: true,
  allow: { call: false, register: false, publish: false, subscribe: false, ...allow },
  disclose: { caller: false, publisher: false },
});
/** A sensor may publish under sensors. and read cmd., nothing else. */
const SENSOR: RoleConfig = { name: 'sensor', permissions: [perm('sensors.', { publish: true, subscribe: true }), perm('cmd.', { subscribe: true })] };

function mqttService(overrides: Partial<MqttServiceConfig> = {}): MqttServiceConfig {
  return { ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '', payload: [{ prefix: '', type: 'native' }, { prefix: 'raw.', type: 'passthrough' }], ...overrides };
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

function messages(client: MqttClient) {
  const got: Array<{ topic: string; payload: string; qos: number; retain: boolean; properties?: Record<string, unknown> }> = [];
  client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain, properties: packet.properties as Record<string, unknown> }));
  return got;
}

/** SUBACK reason codes, failures included (mqtt.js rejects the promise when one failed). */
async function subscribeCodes(client: MqttClient, filters: Record<string, { qos: 0 | 1 | 2 }>): Promise<number[]> {
  const suback = new Promise<number[]>((resolve) => {
    const onPacket = (packet: { cmd: string; granted?: number[] }) => {
      if (packet.cmd !== 'suback') return;
      client.off('packetreceive', onPacket);
      resolve(packet.granted ?? []);
    };
    client.on('packetreceive', onPacket);
  });
  client.subscribe(filters, () => {});
  return suback;
}

describe('MQTT listener: mosquitto clients and Autobahn|JS', () => {
  let node: TestNode;
  let wamp: ClientSession;

  beforeAll(async () => {
    const listener: Partial<ListenerConfig> = { mqtt: mqttService(), websocket: { '/ws': service() } };
    node = await startTestNode({ listener });
    wamp = await ClientSession.connect(node.node.router, { realm: 'realm1', name: 'observer' });
  });
  afterAll(async () => {
    await wamp?.close();
    await node?.stop();
  });

  it('mosquitto_pub (MQTT 3.1, 3.1.1, 5; QoS 0, 1, 2) reaches an Autobahn|JS subscriber; MQTT topic and QoS are in the event details', async () => {
    const received: any[] = [];
    // Autobahn|JS keeps only the details it knows, so the MQTT ones (custom attributes) are read here.
    const origins: unknown[] = [];
    await wamp.subscribe('sensors.', (_a, _k, details) => origins.push([details['_mqtt_topic'], details['_mqtt_qos']]), { match: 'prefix' });
    const session = await new Promise<any>((resolve, reject) => {
      const c = new autobahn.Connection({ url: node.wsUrl, realm: 'realm1', max_retries: 0 });
      c.onopen = (s: any) => resolve(s);
      c.onclose = (reason: string) => { reject(new Error(reason)); return true; };
      c.open();
    });
    await session.subscribe('sensors.', (args: unknown[], kwargs: object, details: any) => received.push({ args, kwargs, topic: details.topic }), { match: 'prefix' });
    const cases: Array<[string, string, string, string]> = [
      ['mqttv31', '0', 'sensors/kitchen/temp', '21.5'],
      ['mqttv311', '1', 'sensors/hall/humidity', '{"args":[40,"%"],"kwargs":{"sensor":"dht22"}}'],
      ['mqttv5', '2', 'sensors/garage/door', 'open'],
    ];
    for (const [version, qos, topic, payload] of cases) {
      await run('mosquitto_pub', ['-p', String(node.port), '-V', version, '-q', qos, '-t', topic, '-m', payload, '-i', `pub-${version}`]);
    }
    await until(() => received.length >= 3);
    expect(received[0]).toMatchObject({ args: [21.5], topic: 'sensors.kitchen.temp' });
    expect(received[1]).toMatchObject({ args: [40, '%'], kwargs: { sensor: 'dht22' }, topic: 'sensors.hall.humidity' });
    // Not JSON but UTF-8 text: one string argument (issue 15).
    expect(received[2]).toMatchObject({ args: ['open'], topic: 'sensors.garage.door' });
    expect(origins).toEqual([['sensors/kitchen/temp', 0], ['sensors/hall/humidity', 1], ['sensors/garage/door', 2]]);
    session.connection?.close?.();
  });

  it('an Autobahn|JS publish reaches mosquitto_sub; one argument is sent as its JSON (a string as its text), several as {"args", "kwargs"}; `cmd/#` matches `cmd` too', async () => {
    const sub = spawn('mosquitto_sub', ['-p', String(node.port), '-t', 'cmd/#', '-v', '-C', '3', '-q', '1']);
    let out = '';
    sub.stdout.on('data', (d) => (out += d));
    await tick(300); // mosquitto_sub has subscribed
    const conn = new autobahn.Connection({ url: node.wsUrl, realm: 'realm1', max_retries: 0 });
    const session = await new Promise<any>((resolve) => { conn.onopen = resolve; conn.open(); });
    await session.publish('cmd.lamp.set', [{ on: true }], {}, { acknowledge: true });
    await session.publish('cmd.lamp.blink', [3, 'fast'], { ms: 200 }, { acknowledge: true });
    await session.publish('cmd', ['all'], {}, { acknowledge: true });
    await new Promise((r) => sub.once('close', r));
    conn.close();
    expect(out.trim().split('\n')).toEqual(['cmd/lamp/set {"on":true}', 'cmd/lamp/blink {"args":[3,"fast"],"kwargs":{"ms":200}}', 'cmd all']);
  });

  it('QoS 2 both ways with the npm mqtt client: exactly once; passthrough keeps bytes as they are', async () => {
    const got: unknown[] = [];
    await wamp.subscribe('raw.', (args, _kw, details) => got.push([args[0], details['_mqtt_qos']]), { match: 'prefix' });
    const client = await connectMqtt(node.port, { protocolVersion: 5, clientId: 'qos2' });
    const inbox = messages(client);
    await client.subscribeAsync('raw/#', { qos: 2 });
    await client.publishAsync('raw/blob', Buffer.from([0, 1, 2, 255]), { qos: 2 });
    await until(() => got.length >= 1 && inbox.length >= 1);
    await tick(100);
    expect(got).toHaveLength(1);
    expect(Buffer.from(got[0] as Uint8Array[] as unknown as Uint8Array).length).toBeGreaterThan(0);
    expect([...(got[0] as unknown[])[0] as Uint8Array]).toEqual([0, 1, 2, 255]);
    expect(inbox).toHaveLength(1); // its own message, back once (no No Local)
    expect(inbox[0]).toMatchObject({ topic: 'raw/blob', qos: 2 });
    // WAMP → MQTT at QoS 2: the subscriber's QoS, since a WAMP publisher gave none.
    await wamp.publish('raw.from-wamp', ['bytes'], {}, { acknowledge: true });
    await until(() => inbox.length >= 2);
    expect(inbox[1]).toMatchObject({ topic: 'raw/from-wamp', payload: 'bytes', qos: 2 });
    await client.endAsync();
  });

  it('retained messages reach wildcard subscribers, MQTT and WAMP alike; an empty retained message clears it', async () => {
    const publisher = await connectMqtt(node.port, { clientId: 'retainer' });
    await publisher.publishAsync('sensors/attic/temp', '18', { qos: 1, retain: true });
    const client = await connectMqtt(node.port, { clientId: 'late' });
    const inbox = messages(client);
    await client.subscribeAsync('sensors/+/temp', { qos: 1 });
    await until(() => inbox.some((m) => m.topic === 'sensors/attic/temp'));
    expect(inbox.find((m) => m.topic === 'sensors/attic/temp')).toMatchObject({ payload: '18', retain: true });
    const seen: unknown[] = [];
    await wamp.subscribe('sensors..temp', (args, _kw, details) => seen.push([details['topic'], args[0], details['retained']]), { match: 'wildcard', get_retained: true });
    await until(() => seen.length >= 1);
    expect(seen).toContainEqual(['sensors.attic.temp', 18, true]);
    // Cleared: a new subscriber gets nothing retained.
    await publisher.publishAsync('sensors/attic/temp', '', { qos: 1, retain: true });
    const third = await connectMqtt(node.port, { clientId: 'later' });
    const inbox3 = messages(third);
    await third.subscribeAsync('sensors/attic/temp', { qos: 1 });
    await tick(300);
    expect(inbox3).toEqual([]);
    await Promise.all([publisher.endAsync(), client.endAsync(), third.endAsync()]);
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`a persistent QoS 1 session (MQTT ${protocolVersion === 4 ? '3.1.1, clean=false' : '5, session expiry'}) gets what it missed while away`, async () => {
      const options: IClientOptions = protocolVersion === 4
        ? { clientId: `persist-${protocolVersion}`, clean: false, protocolVersion }
        : { clientId: `persist-${protocolVersion}`, clean: false, protocolVersion, properties: { sessionExpiryInterval: 300 } };
      const first = await connectMqtt(node.port, { ...options, clean: true });
      await first.endAsync();
      const client = await connectMqtt(node.port, options);
      await client.subscribeAsync('sensors/offline/#', { qos: 1 });
      await client.endAsync();
      for (let i = 0; i < 5; i++) await wamp.publish(`sensors.offline.n${i}`, [i], {}, { acknowledge: true });
      const back = mqtt.connect(`mqtt://127.0.0.1:${node.port}`, { ...options, reconnectPeriod: 0 });
      const inbox = messages(back);
      const connack = await new Promise<any>((resolve) => back.once('connect', resolve));
      expect(connack.sessionPresent).toBe(true);
      await until(() => inbox.length >= 5);
      expect(inbox.map((m) => [m.topic, m.payload, m.qos])).toEqual([0, 1, 2, 3, 4].map((i) => [`sensors/offline/n${i}`, String(i), 1]));
      await back.endAsync();
    });
  }

  it('the last will is published when the connection is lost, not after a clean DISCONNECT', async () => {
    const wills: unknown[] = [];
    await wamp.subscribe('status.', (args, _kw, details) => wills.push([details['topic'], args[0]]), { match: 'prefix' });
    const will = (id: string) => ({ clientId: id, will: { topic: `status/${id}`, payload: Buffer.from('"offline"'), qos: 1 as const, retain: false } });
    const polite = await connectMqtt(node.port, will('polite'));
    await polite.endAsync();
    const crashed = await connectMqtt(node.port, will('crashed'));
    (crashed as unknown as { stream: { destroy(): void } }).stream.destroy();
    await until(() => wills.length >= 1);
    await tick(200);
    expect(wills).toEqual([['status.crashed', 'offline']]);
  });

  it('MQTT 5 request/response properties travel to WAMP details and back to an MQTT 5 subscriber', async () => {
    const seen: any[] = [];
    await wamp.subscribe('rpc.req.', (_a, _k, details) => seen.push(details), { match: 'prefix' });
    const responder = await connectMqtt(node.port, { protocolVersion: 5, clientId: 'responder' });
    const inbox = messages(responder);
    await responder.subscribeAsync('rpc/req/#', { qos: 1 });
    const requester = await connectMqtt(node.port, { protocolVersion: 5, clientId: 'requester' });
    await requester.publishAsync('rpc/req/echo', 'ping', { qos: 1, properties: { responseTopic: 'rpc/resp/requester', correlationData: Buffer.from('c-17') } });
    await until(() => seen.length >= 1 && inbox.length >= 1);
    expect(seen[0]._mqtt_response_topic).toBe('rpc/resp/requester');
    expect(Buffer.from(seen[0]._mqtt_correlation_data).toString()).toBe('c-17');
    expect(inbox[0]!.properties).toMatchObject({ responseTopic: 'rpc/resp/requester' });
    expect(Buffer.from(inbox[0]!.properties!['correlationData'] as Uint8Array).toString()).toBe('c-17');
    await Promise.all([responder.endAsync(), requester.endAsync()]);
  });

  it('[MQTT-4.8.2-1] a malformed shared filter is refused with MQTT 5 reason 0x8F; `a/+/b/#` and a topic with an empty level are not (issue 15)', async () => {
    const client = await connectMqtt(node.port, { protocolVersion: 5, clientId: 'oddball' });
    expect(await subscribeCodes(client, { 'a/+/b/#': { qos: 1 }, '$share//x': { qos: 1 }, 'fine/+': { qos: 1 } })).toEqual([1, 0x8f, 1]);
    const error = await client.publishAsync('a//b', 'x', { qos: 1 }).then(() => undefined, (e: { code?: number }) => e);
    expect(error).toBeUndefined();
    await client.endAsync();
  });
});

describe('MQTT listener: authentication and permissions', () => {
  let node: TestNode;
  let wamp: ClientSession;

  beforeAll(async () => {
    node = await startTestNode({
      realms: [{ name: 'realm1', roles: [SENSOR, allowAll('admin')], store: { type: 'memory', limit: 10, callQueue: [], eventHistory: [] } }],
      listener: {
        kind: 'mqtt', websocket: {}, rawsocket: undefined,
        mqtt: mqttService({ auth: { ticket: { type: 'static', principals: { 'sensor-1': { ticket: 's3cret', role: 'sensor' } } } } }),
      },
    });
    wamp = await ClientSession.connect(node.node.router, { realm: 'realm1', role: 'admin', name: 'observer' });
  });
  afterAll(async () => {
    await wamp?.close();
    await node?.stop();
  });

  it('username/password are checked against the ticket principals; a wrong one gets CONNACK "bad username or password"', async () => {
    const ok = await connectMqtt(node.port, { username: 'sensor-1', password: 's3cret', clientId: 's1' });
    await ok.endAsync();
    for (const protocolVersion of [4, 5] as const) {
      const err = await connectMqtt(node.port, { username: 'sensor-1', password: 'guess', protocolVersion }).then(() => undefined, (e: { code?: number }) => e);
      expect(err?.code).toBe(protocolVersion === 5 ? 0x86 : 4);
    }
    const anonymous = await connectMqtt(node.port, { protocolVersion: 5 }).then(() => undefined, (e: { code?: number }) => e);
    expect(anonymous?.code).toBe(0x87); // no anonymous access on this transport
  });

  it("the role's permissions apply to the mapped URIs: a denied publish is acknowledged with 0x87 and not delivered, a denied subscription fails", async () => {
    const delivered: unknown[] = [];
    await wamp.subscribe('', (args, _kw, details) => {
      if (!String(details['topic']).startsWith('wamp.')) delivered.push([details['topic'], args[0]]);
    }, { match: 'prefix' });
    const client = await connectMqtt(node.port, { username: 'sensor-1', password: 's3cret', clientId: 's2', protocolVersion: 5 });
    const denied = await client.publishAsync('admin/reboot', 'now', { qos: 1 }).then(() => undefined, (e: { code?: number }) => e);
    expect(denied?.code).toBe(0x87);
    await client.publishAsync('sensors/s2/temp', '20', { qos: 1 });
    expect(await subscribeCodes(client, { 'admin/#': { qos: 1 }, 'cmd/#': { qos: 1 } })).toEqual([0x87, 1]);
    await until(() => delivered.length >= 1);
    await tick(100);
    expect(delivered).toEqual([['sensors.s2.temp', 20]]);
    await client.endAsync();
  });
});

describe("MQTT listener: Crossbar's options.role", () => {
  let node: TestNode;
  let wamp: ClientSession;

  beforeAll(async () => {
    node = await startTestNode({
      realms: [{ name: 'realm1', roles: [SENSOR, allowAll('admin')], store: { type: 'memory', limit: 10, callQueue: [], eventHistory: [] } }],
      listener: { kind: 'mqtt', websocket: {}, rawsocket: undefined, mqtt: mqttService({ role: 'sensor' }) },
    });
    wamp = await ClientSession.connect(node.node.router, { realm: 'realm1', role: 'admin', name: 'observer' });
  });
  afterAll(async () => {
    await wamp?.close();
    await node?.stop();
  });

  it('issue 20 #8: without an auth block every MQTT client joins with options.role, user name or not, and that role\'s permissions apply', async () => {
    const joined: Array<[string, string]> = [];
    await wamp.subscribe('wamp.session.on_join', (args) => {
      // Crossbar's SessionDetails: the transport's kind is its channel_framing.
      const d = args[0] as { authrole: string; transport?: { channel_framing?: string } };
      if (d.transport?.channel_framing === 'mqtt') joined.push([d.authrole, String((d as { authid?: string }).authid)]);
    });
    const delivered: unknown[] = [];
    await wamp.subscribe('', (args, _kw, details) => {
      if (!String(details['topic']).startsWith('wamp.')) delivered.push([details['topic'], args[0]]);
    }, { match: 'prefix' });
    const client = await connectMqtt(node.port, { clientId: 'r1', protocolVersion: 5 });
    const denied = await client.publishAsync('admin/reboot', 'now', { qos: 1 }).then(() => undefined, (e: { code?: number }) => e);
    expect(denied?.code).toBe(0x87); // the sensor role may not publish there
    await client.publishAsync('sensors/r1/temp', '20', { qos: 1 });
    await client.endAsync();
    // Debian's mosquitto_pub with a user name: no auth block, so it proves nothing and is ignored.
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(node.port), '-V', 'mqttv311', '-u', 'someone', '-P', 'x', '-q', '1', '-t', 'sensors/m1/temp', '-m', '21']);
    await until(() => delivered.length >= 2);
    expect(delivered).toEqual([['sensors.r1.temp', 20], ['sensors.m1.temp', 21]]);
    expect(joined.map(([role]) => role)).toEqual(['sensor', 'sensor']);
  });
});

describe('MQTT 5 request/response ↔ WAMP RPC', () => {
  let node: TestNode;
  let wamp: ClientSession;

  beforeAll(async () => {
    const rpc = {
      role: 'trusted',
      toMqtt: [{ procedure: 'lamp.set', topic: 'devices/lamp/set', timeout: 2000 }, { procedure: 'lamp.unplugged', topic: 'devices/none/set', timeout: 300 }],
      fromMqtt: [{ topic: 'rpc/call', procedure: 'svc.' }],
    };
    node = await startTestNode({ listener: { mqtt: mqttService({ rpc }), websocket: { '/ws': service() } } });
    wamp = await ClientSession.connect(node.node.router, { realm: 'realm1', name: 'callee' });
  });
  afterAll(async () => {
    await wamp?.close();
    await node?.stop();
  });

  it('an Autobahn|JS CALL is answered by an MQTT 5 device through response topic and correlation data; no answer → canceled', async () => {
    const device = await connectMqtt(node.port, { protocolVersion: 5, clientId: 'lamp' });
    let state = 'off';
    device.on('message', (_topic, payload, packet) => {
      state = payload.toString(); // a string argument arrives as its text (issue 15)
      const { responseTopic, correlationData } = packet.properties ?? {};
      device.publish(responseTopic!, JSON.stringify({ args: [state, 'ok'] }), { qos: 1, properties: { correlationData } });
    });
    await device.subscribeAsync('devices/lamp/set', { qos: 1 });
    const conn = new autobahn.Connection({ url: node.wsUrl, realm: 'realm1', max_retries: 0 });
    const session = await new Promise<any>((resolve) => { conn.onopen = resolve; conn.open(); });
    const answers = await Promise.all(['on', 'dim', 'off'].map((s) => session.call('lamp.set', [s])));
    expect(answers.map((a: any) => a.args)).toEqual([['on', 'ok'], ['dim', 'ok'], ['off', 'ok']]);
    const error = await session.call('lamp.unplugged', ['on']).then(() => undefined, (e: any) => e);
    expect(error?.error).toBe('wamp.error.canceled');
    conn.close();
    await device.endAsync();
  });

  it('an MQTT 5 client calls a WAMP procedure by publishing a request with a response topic; errors come back as {"error": …}', async () => {
    await wamp.register('svc.add', (args) => (args[0] as number) + (args[1] as number));
    const client = await connectMqtt(node.port, { protocolVersion: 5, clientId: 'caller' });
    const inbox = messages(client);
    await client.subscribeAsync('replies/caller', { qos: 1 });
    await client.publishAsync('rpc/call/add', '{"args":[2,3]}', { qos: 1, properties: { responseTopic: 'replies/caller', correlationData: Buffer.from('req-1') } });
    await client.publishAsync('rpc/call/nothing', '{"args":[]}', { qos: 1, properties: { responseTopic: 'replies/caller', correlationData: Buffer.from('req-2') } });
    await until(() => inbox.length >= 2);
    const byCorrelation = Object.fromEntries(inbox.map((m) => [Buffer.from(m.properties!['correlationData'] as Uint8Array).toString(), m.payload]));
    expect(byCorrelation['req-1']).toBe('5');
    expect(JSON.parse(byCorrelation['req-2']!)).toMatchObject({ error: 'wamp.error.no_such_procedure' });
    await client.endAsync();
  });
});
