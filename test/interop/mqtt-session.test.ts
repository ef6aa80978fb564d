// An MQTT session's life beyond one connection, with MQTT.js and raw packets (test/helpers/mqtt-wire.ts,
// to cut an exchange at an exact step): Session Expiry Interval in CONNECT and DISCONNECT, Will Delay
// Interval, Server Keep Alive (`max_keepalive`), Request Problem/Response Information, and a QoS 2
// exchange interrupted by a disconnect at each of its steps, both ways, delivered exactly once.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import type { MqttClient, IClientOptions } from 'mqtt';
import type { IConnackPacket, IPublishPacket, Packet } from 'mqtt-packet';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { tick } from '../helpers/core.js';
import { until } from '../helpers/until.js';
import { MqttWire } from '../helpers/mqtt-wire.js';
import { connectMqttWithConnack } from '../helpers/mqtt-client.js';
import { ClientSession } from '../../src/client/client-session.js';
import type { MqttServiceConfig } from '../../src/config/types.js';
import { MQTT_DEFAULTS } from '../../src/config/load-mqtt.js';
import type { MqttService } from '../../src/transports/mqtt-listener/service.js';

const DAY_MS = 86_400_000;
const DAY_S = 86_400;

let clientIds = 0;
/** A client id of its own per test (letters and digits: it is also a topic level and a URI component). */
const newId = (name: string) => `${name}${++clientIds}`;

async function startNode(overrides: Partial<MqttServiceConfig>): Promise<TestNode> {
  const mqttConfig: MqttServiceConfig = { ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '', payload: [{ prefix: '', type: 'native' }], ...overrides };
  return startTestNode({ listener: { mqtt: mqttConfig, websocket: { '/ws': service() } } });
}

const listenerOf = (node: TestNode): MqttService => node.node.listeners[0]!.mqtt!;

/** An MQTT.js client and its CONNACK. */
const connectMqtt = (node: TestNode, options: IClientOptions) => connectMqttWithConnack(node.port, options);

/** The connection is lost without DISCONNECT (what a sensor losing power looks like to the router). */
function lose(client: MqttClient): void {
  (client as unknown as { stream: { destroy(): void } }).stream.destroy();
}

/** MQTT 5, resuming its session (Clean Start 0) with the given CONNECT properties. */
const v5 = (clientId: string, properties: NonNullable<IClientOptions['properties']>, more: IClientOptions = {}): IClientOptions => ({ protocolVersion: 5, clientId, clean: false, properties, ...more });

describe('MQTT session expiry, will delay, problem and response information', () => {
  let node: TestNode;
  let wamp: ClientSession;
  /** Wills seen by a WAMP subscriber, as [uri, payload]. */
  const wills: Array<[string, unknown]> = [];
  const willsOf = (clientId: string) => wills.filter(([uri]) => uri === `will.${clientId}`);

  beforeAll(async () => {
    // Longer than Node's longest setTimeout (24.8 days), to show expiry timers survive it.
    node = await startNode({ sessionExpiry: 30 * DAY_MS });
    wamp = await ClientSession.connect(node.node.router, { realm: 'realm1', name: 'observer' });
    await wamp.subscribe('will.', (args, _kw, details) => wills.push([String(details['topic']), args[0]]), { match: 'prefix' });
  });
  afterAll(async () => {
    await wamp?.close();
    await node?.stop();
  });

  const will = (clientId: string, willDelayInterval?: number): IClientOptions['will'] => ({
    topic: `will/${clientId}`, payload: Buffer.from('"lost"'), qos: 1, retain: false,
    ...(willDelayInterval !== undefined ? { properties: { willDelayInterval } } : {}),
  });

  it('the meta API names where an MQTT client connects from (asked of its socket when wanted); a persistent session whose client is away names where it was', async () => {
    const clientId = newId('peer');
    const { client } = await connectMqtt(node, v5(clientId, { sessionExpiryInterval: 60 }));
    const port = (client as unknown as { stream: { localPort: number } }).stream.localPort;
    /** The transport details (Crossbar's shape) of the MQTT sessions the meta API lists. */
    const mqttTransports = async () => {
      const ids = (await wamp.call('wamp.session.list')).args[0] as number[];
      const details = await Promise.all(ids.map(async (id) => (await wamp.call('wamp.session.get', [id])).args[0] as { serializer: string; transport: { peer: string } }));
      return details.filter((d) => d.serializer === 'mqtt').map((d) => d.transport);
    };
    expect(await mqttTransports()).toContainEqual(expect.objectContaining({ peer: `tcp4:127.0.0.1:${port}` }));
    lose(client);
    await until(() => listenerOf(node).session(clientId)?.connected === false, 5000, 'the session to lose its connection');
    expect(listenerOf(node).session(clientId)!.peer).toBe(`tcp4:127.0.0.1:${port}`);
    expect(await mqttTransports()).toContainEqual(expect.objectContaining({ peer: `tcp4:127.0.0.1:${port}` }));
    const back = await connectMqtt(node, v5(clientId, { sessionExpiryInterval: 0 }));
    const backPort = (back.client as unknown as { stream: { localPort: number } }).stream.localPort;
    expect(back.connack.sessionPresent).toBe(true);
    expect(listenerOf(node).session(clientId)!.peer).toBe(`tcp4:127.0.0.1:${backPort}`);
    const now = await mqttTransports();
    expect(now).toContainEqual(expect.objectContaining({ peer: `tcp4:127.0.0.1:${backPort}` }));
    expect(now).not.toContainEqual(expect.objectContaining({ peer: `tcp4:127.0.0.1:${port}` }));
    await back.client.endAsync();
  });

  it('[MQTT-3.1.2-23] a session outlives its connection for its Session Expiry Interval, then ends', async () => {
    const clientId = newId('expiry');
    const first = await connectMqtt(node, v5(clientId, { sessionExpiryInterval: 1 }));
    await first.client.subscribeAsync('expiry/#', { qos: 1 });
    await first.client.endAsync();
    const back = await connectMqtt(node, v5(clientId, { sessionExpiryInterval: 1 }));
    expect(back.connack.sessionPresent).toBe(true);
    await back.client.endAsync();
    await until(() => listenerOf(node).session(clientId) === undefined, 5000, 'the session to expire');
    const late = await connectMqtt(node, v5(clientId, { sessionExpiryInterval: 1 }));
    expect(late.connack.sessionPresent).toBe(false);
    await late.client.endAsync();
  });

  it('a session expiry longer than 24.8 days (Node\'s longest setTimeout) keeps the session: it used to end within 1 ms; CONNACK tells the interval granted', async () => {
    const cases: IClientOptions[] = [
      v5(newId('month'), { sessionExpiryInterval: 0xffffffff }),
      { protocolVersion: 4, clientId: newId('month'), clean: false },
    ];
    for (const options of cases) {
      const first = await connectMqtt(node, options);
      expect(first.connack.sessionPresent).toBe(false);
      // 0xFFFFFFFF asks for the longest the router allows: session_expiry, 30 days here.
      if (options.protocolVersion === 5) expect(first.connack.properties?.sessionExpiryInterval).toBe(30 * DAY_S);
      await first.client.endAsync();
      await tick(100);
      const back = await connectMqtt(node, options);
      expect(back.connack.sessionPresent).toBe(true);
      await back.client.endAsync();
    }
  });

  it('[MQTT-3.14.2-2] a DISCONNECT setting a Session Expiry Interval when CONNECT set 0 is a protocol error: DISCONNECT 0x82, the will is published, no session kept', async () => {
    const clientId = newId('raise');
    const wire = await MqttWire.connected(node.port, 5, { clientId, will: { topic: `will/${clientId}`, payload: Buffer.from('"lost"'), qos: 0, retain: false } });
    expect(wire.packets[0]).toMatchObject({ cmd: 'connack', reasonCode: 0 });
    wire.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 60 } });
    expect(await wire.next((p) => p.cmd === 'disconnect')).toMatchObject({ reasonCode: 0x82 });
    expect(await wire.wait(() => wire.closed, 3000)).toBe(true);
    await until(() => willsOf(clientId).length === 1, 5000, 'the will');
    expect(listenerOf(node).session(clientId)).toBeUndefined();
  });

  it('[MQTT-3.14.2-2] (what it allows) a DISCONNECT may set the Session Expiry Interval to 0: the session ends with its connection', async () => {
    const clientId = newId('lower');
    const first = await connectMqtt(node, v5(clientId, { sessionExpiryInterval: 300 }));
    await first.client.subscribeAsync('lower/#', { qos: 1 });
    await first.client.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
    await until(() => listenerOf(node).session(clientId) === undefined, 3000, 'the session to end');
    const back = await connectMqtt(node, v5(clientId, { sessionExpiryInterval: 300 }));
    expect(back.connack.sessionPresent).toBe(false);
    await back.client.endAsync();
  });

  it('[MQTT-3.14.2-2] (what it allows) a DISCONNECT may raise a non-zero Session Expiry Interval: the session outlives the 1 s CONNECT asked for', async () => {
    const clientId = newId('longer');
    const first = await connectMqtt(node, v5(clientId, { sessionExpiryInterval: 1 }));
    await first.client.endAsync(false, { properties: { sessionExpiryInterval: 300 } });
    await tick(1600);
    expect(listenerOf(node).session(clientId)).toBeDefined();
    const back = await connectMqtt(node, v5(clientId, { sessionExpiryInterval: 300 }));
    expect(back.connack.sessionPresent).toBe(true);
    await back.client.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
  });

  it('[MQTT-3.1.3-9] a will with a Will Delay Interval is not published when the client resumes its session within the delay', async () => {
    const clientId = newId('resumes');
    const options = v5(clientId, { sessionExpiryInterval: 300 }, { will: will(clientId, 2) });
    const first = await connectMqtt(node, options);
    lose(first.client);
    await until(() => listenerOf(node).session(clientId)?.connected === false, 3000, 'the connection to be gone');
    const back = await connectMqtt(node, options);
    expect(back.connack.sessionPresent).toBe(true);
    await tick(2500);
    expect(willsOf(clientId)).toEqual([]);
    await back.client.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
    await tick(100);
    expect(willsOf(clientId)).toEqual([]); // a clean DISCONNECT: no will either
  });

  it('[MQTT-3.1.3-9] a delayed will is published once its Will Delay Interval has passed (not at once), the session going on', async () => {
    const clientId = newId('delayed');
    const first = await connectMqtt(node, v5(clientId, { sessionExpiryInterval: 300 }, { will: will(clientId, 3) }));
    lose(first.client);
    await until(() => listenerOf(node).session(clientId)?.connected === false, 3000, 'the connection to be gone');
    await tick(300);
    expect(willsOf(clientId)).toEqual([]);
    await until(() => willsOf(clientId).length === 1, 8000, 'the will');
    expect(willsOf(clientId)).toEqual([[`will.${clientId}`, 'lost']]);
    expect(listenerOf(node).session(clientId)).toBeDefined();
  });

  it('[MQTT-3.1.3-9] a delayed will is published when the session ends first (Session Expiry Interval 1 s, Will Delay Interval 300 s)', async () => {
    const clientId = newId('ends');
    const first = await connectMqtt(node, v5(clientId, { sessionExpiryInterval: 1 }, { will: will(clientId, 300) }));
    lose(first.client);
    await until(() => willsOf(clientId).length === 1, 5000, 'the will');
    expect(listenerOf(node).session(clientId)).toBeUndefined();
  });

  it('[MQTT-3.1.3-9] mosquitto_sub -V 5 with a Will Delay Interval: killed and back within the delay, no will; killed for good, the will after the delay', async () => {
    const clientId = newId('mosq');
    const sub = (): ChildProcess => spawn('mosquitto_sub', ['-p', String(node.port), '-V', '5', '-i', clientId, '-c', '-x', '300', '-q', '1', '-t', `mosq/${clientId}`,
      '--will-topic', `will/${clientId}`, '--will-payload', '"lost"', '-D', 'will', 'will-delay-interval', '2']);
    const connected = () => listenerOf(node).session(clientId)?.connected === true;
    const first = sub();
    await until(connected, 5000, 'mosquitto_sub to connect');
    first.kill('SIGKILL');
    await until(() => listenerOf(node).session(clientId)?.connected === false, 3000, 'the connection to be gone');
    const second = sub();
    await until(connected, 5000, 'mosquitto_sub to connect again');
    await tick(2500);
    expect(willsOf(clientId)).toEqual([]);
    second.kill('SIGKILL');
    await until(() => willsOf(clientId).length === 1, 8000, 'the will');
  });

  it('a reconnect with Clean Start ends the session, so its delayed will is published then', async () => {
    const clientId = newId('fresh');
    const first = await connectMqtt(node, v5(clientId, { sessionExpiryInterval: 300 }, { will: will(clientId, 300) }));
    lose(first.client);
    await until(() => listenerOf(node).session(clientId)?.connected === false, 3000, 'the connection to be gone');
    await tick(200);
    expect(willsOf(clientId)).toEqual([]);
    const fresh = await connectMqtt(node, v5(clientId, { sessionExpiryInterval: 300 }, { clean: true }));
    expect(fresh.connack.sessionPresent).toBe(false);
    await until(() => willsOf(clientId).length === 1, 5000, 'the will');
    await fresh.client.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
  });

  it('[MQTT-3.1.2-29] Request Problem Information 0: a refused PUBLISH is acknowledged without a Reason String (by default the reason is given)', async () => {
    const acks = async (properties: NonNullable<IClientOptions['properties']>) => {
      const { client } = await connectMqtt(node, { protocolVersion: 5, clientId: newId('problem'), properties });
      const got: Packet[] = [];
      client.on('packetreceive', (p) => {
        if (p.cmd === 'puback' || p.cmd === 'pubrec') got.push(p);
      });
      // The router's own namespace: no client may publish there.
      for (const qos of [1, 2] as const) await client.publishAsync('wamp/forged', '1', { qos }).catch(() => undefined);
      await until(() => got.length === 2);
      await client.endAsync();
      return got as Array<Packet & { reasonCode?: number; properties?: { reasonString?: string; userProperties?: object } }>;
    };
    const told = await acks({});
    expect(told.map((p) => p.cmd)).toEqual(['puback', 'pubrec']);
    for (const p of told) {
      expect(p.reasonCode).toBeGreaterThanOrEqual(0x80);
      expect(p.properties?.reasonString).toMatch(/^wamp\.error\./);
    }
    const quiet = await acks({ requestProblemInformation: false });
    expect(quiet.map((p) => [p.cmd, p.reasonCode, p.properties?.reasonString, p.properties?.userProperties])).toEqual(told.map((p) => [p.cmd, p.reasonCode, undefined, undefined]));
  });

  it('[MQTT-3.1.2-28] Response Information only when asked: a topic of the client\'s own, the same on every connection, that request/response works under', async () => {
    const clientId = newId('asker');
    const asker = await connectMqtt(node, { protocolVersion: 5, clientId, properties: { requestResponseInformation: true } });
    const base = asker.connack.properties?.responseInformation;
    expect(base).toMatch(/^junction\/rpc\/client\/[0-9a-f]{24}$/);
    const responder = await connectMqtt(node, { protocolVersion: 5, clientId: newId('responder') });
    expect(responder.connack.properties?.responseInformation).toBeUndefined();
    await responder.client.subscribeAsync('svc/echo', { qos: 1 });
    responder.client.on('message', (_topic, payload, packet) => {
      const responseTopic = packet.properties?.responseTopic;
      if (responseTopic) responder.client.publish(responseTopic, `echo ${payload.toString()}`, { qos: 1, properties: { correlationData: packet.properties!.correlationData! } });
    });
    const answers: Array<[string, string]> = [];
    asker.client.on('message', (topic, payload) => answers.push([topic, payload.toString()]));
    await asker.client.subscribeAsync(`${base}/answers`, { qos: 1 });
    await asker.client.publishAsync('svc/echo', 'hi', { qos: 1, properties: { responseTopic: `${base}/answers`, correlationData: Buffer.from('1') } });
    await until(() => answers.length === 1, 5000, 'the answer');
    expect(answers).toEqual([[`${base}/answers`, 'echo hi']]);
    await asker.client.endAsync();
    const again = await connectMqtt(node, { protocolVersion: 5, clientId, properties: { requestResponseInformation: true } });
    expect(again.connack.properties?.responseInformation).toBe(base);
    const other = await connectMqtt(node, { protocolVersion: 5, clientId: newId('other'), properties: { requestResponseInformation: true } });
    expect(other.connack.properties?.responseInformation).not.toBe(base);
    await Promise.all([again.client.endAsync(), other.client.endAsync(), responder.client.endAsync()]);
  });

  it('[MQTT-4.3.3] a QoS 2 PUBLISH refused in its PUBREC (0x80 or more) ends its exchange: the next PUBLISH with that packet id is a new message', async () => {
    const got: unknown[] = [];
    await wamp.subscribe('reuse.', (args) => got.push(args[0]), { match: 'prefix' });
    const wire = await MqttWire.connected(node.port, 5, { clientId: newId('reuse') });
    const publish = (topic: string): Packet => ({ cmd: 'publish', topic, payload: Buffer.from('7'), qos: 2, messageId: 9, dup: false, retain: false });
    wire.send(publish('wamp/forged'));
    expect(await wire.next((p) => p.cmd === 'pubrec')).toMatchObject({ messageId: 9, reasonCode: expect.any(Number) });
    expect((wire.packets.find((p) => p.cmd === 'pubrec') as { reasonCode: number }).reasonCode).toBeGreaterThanOrEqual(0x80);
    const from = wire.packets.length;
    wire.send(publish('reuse/ok'));
    expect(await wire.next((p) => p.cmd === 'pubrec', from)).toMatchObject({ messageId: 9, reasonCode: 0 });
    wire.send({ cmd: 'pubrel', messageId: 9 });
    expect(await wire.next((p) => p.cmd === 'pubcomp', from)).toMatchObject({ messageId: 9 });
    await until(() => got.length === 1, 5000, 'the message');
    expect(got).toEqual([7]);
    wire.close();
  });
});

describe('max_keepalive (Server Keep Alive) and session_expiry 0', () => {
  let node: TestNode;

  beforeAll(async () => {
    node = await startNode({ maxKeepalive: 2, sessionExpiry: 0 });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('[MQTT-3.2.2-21] an MQTT 5 client asking for no keep-alive (0) or a longer one is told max_keepalive in Server Keep Alive, and closed after 1.5 times it without a packet', async () => {
    for (const keepalive of [0, 600]) {
      const wire = await MqttWire.connected(node.port, 5, { clientId: newId('lazy'), keepalive });
      expect(wire.packets[0]).toMatchObject({ cmd: 'connack', reasonCode: 0, properties: { serverKeepAlive: 2 } });
      expect(await wire.wait(() => wire.closed, 8000)).toBe(true);
      // [MQTT-3.1.2-22]: closed as if the network had failed; MQTT 5 hears why (0x8D Keep Alive timeout).
      expect(wire.packets.slice(1)).toEqual([expect.objectContaining({ cmd: 'disconnect', reasonCode: 0x8d })]);
    }
  });

  it('[MQTT-3.2.2-22] a client asking for no more than max_keepalive is told no Server Keep Alive, and a client that pings stays', async () => {
    const wire = await MqttWire.connected(node.port, 5, { clientId: newId('brisk'), keepalive: 1 });
    expect(wire.packets[0]).toMatchObject({ cmd: 'connack', reasonCode: 0 });
    expect((wire.packets[0] as IConnackPacket).properties?.serverKeepAlive).toBeUndefined();
    const told = await MqttWire.connected(node.port, 5, { clientId: newId('pinger'), keepalive: 0 });
    for (let i = 0; i < 4; i++) {
      told.send({ cmd: 'pingreq' });
      await tick(1000);
    }
    expect(told.closed).toBe(false);
    expect(told.packets.filter((p) => p.cmd === 'pingresp').length).toBe(4);
    wire.close();
    told.close();
  });

  it('max_keepalive holds an MQTT 3.1.1 client asking for keep-alive 0 to it too (MQTT 3 cannot be told)', async () => {
    const wire = await MqttWire.connected(node.port, 4, { clientId: newId('old'), keepalive: 0 });
    expect(wire.packets[0]).toMatchObject({ cmd: 'connack', returnCode: 0 });
    expect(await wire.wait(() => wire.closed, 8000)).toBe(true);
  });

  it('with session_expiry 0 an MQTT 5 client asking for a session is told Session Expiry Interval 0 in CONNACK, and gets none', async () => {
    const clientId = newId('nosession');
    const first = await MqttWire.connected(node.port, 5, { clientId, clean: false, keepalive: 1, properties: { sessionExpiryInterval: 300 } });
    expect(first.packets[0]).toMatchObject({ cmd: 'connack', sessionPresent: false, properties: { sessionExpiryInterval: 0 } });
    first.close();
    await until(() => listenerOf(node).session(clientId) === undefined, 3000, 'the session to end');
  });
});

describe('a QoS 2 exchange interrupted by a disconnect at each step, persistent session', () => {
  let node: TestNode;
  let wamp: ClientSession;
  /** Messages a WAMP subscriber got from MQTT publishers, by URI. */
  const received = new Map<string, unknown[]>();
  const receivedOn = (uri: string) => received.get(uri) ?? [];

  beforeAll(async () => {
    node = await startNode({});
    wamp = await ClientSession.connect(node.node.router, { realm: 'realm1', name: 'observer' });
    await wamp.subscribe('qos2.in.', (args, _kw, details) => {
      const uri = String(details['topic']);
      received.set(uri, [...receivedOn(uri), args[0]]);
    }, { match: 'prefix' });
  });
  afterAll(async () => {
    await wamp?.close();
    await node?.stop();
  });

  describe('raw packets', () => {
    for (const version of [4, 5] as const) {
      const name = version === 4 ? 'MQTT 3.1.1 clean=false' : 'MQTT 5 Clean Start 0, session expiry';
      const connect = (clientId: string) => ({ clientId, clean: false, keepalive: 0, ...(version === 5 ? { properties: { sessionExpiryInterval: 300 } } : {}) });

      /** The client goes after what it sent (a half-close: the router reads it all first), and comes back. */
      async function reconnect(wire: MqttWire, clientId: string): Promise<MqttWire> {
        wire.socket.end();
        expect(await wire.wait(() => wire.closed, 3000)).toBe(true);
        const back = await MqttWire.connected(node.port, version, connect(clientId));
        expect(back.packets[0]).toMatchObject({ cmd: 'connack', sessionPresent: true });
        return back;
      }

      const inbound = {
        PUBLISH: '[MQTT-4.4.0-1] [MQTT-4.3.3-10] cut after PUBLISH (PUBREC lost): the PUBLISH sent again (DUP, same id) gets PUBREC and is not published twice',
        PUBREC: '[MQTT-4.4.0-1] [MQTT-4.3.3-11] cut after PUBREC: the PUBREL sent again gets PUBCOMP',
        PUBREL: '[MQTT-4.3.3-11] [MQTT-4.3.3-12] cut after PUBREL (PUBCOMP lost): the PUBREL sent again gets PUBCOMP, and the id then starts a new message',
      } as const;
      for (const [cut, title] of Object.entries(inbound) as Array<[keyof typeof inbound, string]>) {
        it(`${name}, client → router, ${title}`, async () => {
          const clientId = newId(`in${cut}v${version}`);
          const uri = `qos2.in.${clientId}`;
          const publish = (payload: string, dup: boolean): Packet => ({ cmd: 'publish', topic: `qos2/in/${clientId}`, payload: Buffer.from(payload), qos: 2, messageId: 42, dup, retain: false });
          const first = await MqttWire.connected(node.port, version, connect(clientId));
          expect(first.packets[0]).toMatchObject({ cmd: 'connack', sessionPresent: false });
          first.send(publish('1', false));
          if (cut !== 'PUBLISH') expect(await first.next((p) => p.cmd === 'pubrec')).toMatchObject({ messageId: 42 });
          if (cut === 'PUBREL') first.send({ cmd: 'pubrel', messageId: 42 });
          const back = await reconnect(first, clientId);
          if (cut === 'PUBLISH') {
            back.send(publish('1', true));
            expect(await back.next((p) => p.cmd === 'pubrec')).toMatchObject({ messageId: 42 });
          }
          back.send({ cmd: 'pubrel', messageId: 42 });
          expect(await back.next((p) => p.cmd === 'pubcomp')).toMatchObject({ messageId: 42 });
          // The exchange is over: the same id now carries a new message.
          const from = back.packets.length;
          back.send(publish('2', false));
          expect(await back.next((p) => p.cmd === 'pubrec', from)).toMatchObject({ messageId: 42 });
          back.send({ cmd: 'pubrel', messageId: 42 });
          expect(await back.next((p) => p.cmd === 'pubcomp', from)).toMatchObject({ messageId: 42 });
          await until(() => receivedOn(uri).length >= 2, 5000, 'both messages');
          await tick(200);
          expect(receivedOn(uri)).toEqual([1, 2]);
          back.close();
        });
      }

      const outbound = {
        PUBLISH: '[MQTT-4.4.0-1] [MQTT-3.3.1-1] cut after the router\'s PUBLISH (no PUBREC): it is sent again with its id and DUP 1',
        PUBREC: '[MQTT-4.4.0-1] [MQTT-4.3.3-6] cut after the client\'s PUBREC: the router sends PUBREL again, not the PUBLISH',
        PUBREL: '[MQTT-4.4.0-1] [MQTT-4.3.3-6] cut after the router\'s PUBREL (PUBCOMP lost): the router sends PUBREL again',
        PUBCOMP: '[MQTT-4.4.0-1] cut after PUBCOMP: the exchange is over, nothing is sent again',
      } as const;
      for (const [cut, title] of Object.entries(outbound) as Array<[keyof typeof outbound, string]>) {
        it(`${name}, router → client, ${title}`, async () => {
          const clientId = newId(`out${cut}v${version}`);
          const topic = `qos2/out/${clientId}`;
          const first = await MqttWire.connected(node.port, version, connect(clientId));
          first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 2 }] });
          expect(await first.next((p) => p.cmd === 'suback')).toMatchObject({ granted: [2] });
          await wamp.publish(`qos2.out.${clientId}`, ['m'], {}, { acknowledge: true });
          const sent = await first.next((p) => p.cmd === 'publish') as IPublishPacket;
          expect(sent).toMatchObject({ topic, qos: 2, dup: false });
          const id = sent.messageId!;
          if (cut !== 'PUBLISH') first.send({ cmd: 'pubrec', messageId: id });
          if (cut === 'PUBREL' || cut === 'PUBCOMP') expect(await first.next((p) => p.cmd === 'pubrel')).toMatchObject({ messageId: id });
          if (cut === 'PUBCOMP') first.send({ cmd: 'pubcomp', messageId: id });
          const back = await reconnect(first, clientId);
          if (cut === 'PUBLISH') {
            const again = await back.next((p) => p.cmd === 'publish');
            expect(again).toMatchObject({ topic, qos: 2, messageId: id, dup: true });
            back.send({ cmd: 'pubrec', messageId: id });
          }
          if (cut !== 'PUBCOMP') {
            expect(await back.next((p) => p.cmd === 'pubrel')).toMatchObject({ messageId: id });
            back.send({ cmd: 'pubcomp', messageId: id });
          }
          // A message after it is the only other thing the client gets.
          await wamp.publish(`qos2.out.${clientId}`, ['n'], {}, { acknowledge: true });
          const next = await back.next((p) => p.cmd === 'publish' && p.payload.toString() === 'n') as IPublishPacket;
          expect(next).toMatchObject({ dup: false });
          await tick(200);
          const publishes = back.packets.filter((p): p is IPublishPacket => p.cmd === 'publish').map((p) => p.payload.toString());
          expect(publishes).toEqual(cut === 'PUBLISH' ? ['m', 'n'] : ['n']);
          expect(back.packets.filter((p) => p.cmd === 'pubrel').length).toBe(cut === 'PUBCOMP' ? 0 : 1);
          back.send({ cmd: 'pubrec', messageId: next.messageId! });
          expect(await back.next((p) => p.cmd === 'pubrel' && p.messageId === next.messageId)).toBeDefined();
          back.send({ cmd: 'pubcomp', messageId: next.messageId! });
          await until(() => listenerOf(node).session(clientId)?.deliveries.queued === 0, 3000, 'nothing left in flight');
          back.close();
        });
      }
    }
  });

  describe('MQTT.js reconnecting with its session', () => {
    for (const protocolVersion of [4, 5] as const) {
      const name = protocolVersion === 4 ? 'MQTT 3.1.1 clean=false' : 'MQTT 5 Clean Start 0';
      const options = (clientId: string): IClientOptions => ({
        protocolVersion, clientId, clean: false, reconnectPeriod: 100,
        ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 300 } } : {}),
      });

      /**
       * Cuts the client's connection once: right after it sent the first packet of that kind (MQTT.js
       * tells before writing it), or as one arrives, before it can answer.
       */
      function cutAt(client: MqttClient, event: 'packetsend' | 'packetreceive', cmd: string): { done: () => boolean } {
        let cut = false;
        const onPacket = (packet: Packet) => {
          if (cut || packet.cmd !== cmd) return;
          cut = true;
          client.off(event, onPacket);
          if (event === 'packetsend') setImmediate(() => lose(client));
          else lose(client);
        };
        client.on(event, onPacket);
        return { done: () => cut };
      }

      const inbound: Array<['packetsend' | 'packetreceive', string]> = [['packetsend', 'publish'], ['packetreceive', 'pubrec'], ['packetsend', 'pubrel'], ['packetreceive', 'pubcomp']];
      for (const [event, cmd] of inbound) {
        it(`${name}, MQTT.js → router, the connection cut at the ${cmd.toUpperCase()} ${event === 'packetsend' ? 'it sends' : 'it gets'}: published exactly once [MQTT-4.4.0-1] [MQTT-4.3.3-10]`, async () => {
          const clientId = newId(`jsin${cmd}v${protocolVersion}`);
          const { client } = await connectMqtt(node, options(clientId));
          const cut = cutAt(client, event, cmd);
          await client.publishAsync(`qos2/in/${clientId}`, '5', { qos: 2 });
          expect(cut.done()).toBe(true);
          await until(() => receivedOn(`qos2.in.${clientId}`).length >= 1, 5000, 'the message');
          await tick(300);
          expect(receivedOn(`qos2.in.${clientId}`)).toEqual([5]);
          await client.endAsync();
        });
      }

      const outbound: Array<['packetsend' | 'packetreceive', string]> = [['packetreceive', 'publish'], ['packetsend', 'pubrec'], ['packetreceive', 'pubrel'], ['packetsend', 'pubcomp']];
      for (const [event, cmd] of outbound) {
        it(`${name}, router → MQTT.js, the connection cut at the ${cmd.toUpperCase()} ${event === 'packetsend' ? 'it sends' : 'it gets'}: delivered exactly once [MQTT-4.4.0-1] [MQTT-4.3.3-10]`, async () => {
          const clientId = newId(`jsout${cmd}v${protocolVersion}`);
          const { client } = await connectMqtt(node, options(clientId));
          const inbox: string[] = [];
          client.on('message', (_topic, payload) => inbox.push(payload.toString()));
          await client.subscribeAsync(`qos2/out/${clientId}`, { qos: 2 });
          const cut = cutAt(client, event, cmd);
          await wamp.publish(`qos2.out.${clientId}`, ['once'], {}, { acknowledge: true });
          await until(() => cut.done() && inbox.length >= 1 && listenerOf(node).session(clientId)?.deliveries.queued === 0, 8000, 'the message delivered and its exchange complete');
          await tick(300);
          expect(inbox).toEqual(['once']);
          await client.endAsync();
        });
      }
    }
  });
});
