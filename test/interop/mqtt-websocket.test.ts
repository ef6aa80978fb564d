// MQTT over WebSocket (a web path of `type: mqtt`, subprotocol `mqtt`) with clients nobody here
// wrote: MQTT.js over ws:// and wss:// (MQTT 3.1.1 and 5), beside MQTT.js and mosquitto over TCP
// and Autobahn|JS over WAMP; and MQTT.js's browser build in headless Chromium.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import type { AddressInfo, Socket } from 'node:net';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import * as mqttPacket from 'mqtt-packet';
import mqtt, { type MqttClient } from 'mqtt';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { until } from '../helpers/until.js';
import { connectMqtt, connectMqttUrl } from '../helpers/mqtt-client.js';
import { closeAll, websocketFrameHeader, websocketHalfFrame, websocketUpgrade } from '../helpers/flood.js';
import type { ListenerConfig, MqttServiceConfig, MqttWebSocketPathConfig, RealmConfig } from '../../src/config/types.js';
import { MQTT_DEFAULTS } from '../../src/config/load-mqtt.js';
import { openBrowser, type Browser } from '../helpers/chromium.js';
import { ClientSession } from '../../src/client/client-session.js';
import { startNode as startJunction, type JunctionNode } from '../../src/node.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');
const CERTS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const pem = (name: string) => readFileSync(`${CERTS}${name}`, 'utf8');
/** MQTT.js's own browser build, as a web page loads it from a <script> tag. */
const MQTT_BROWSER_BUILD = require.resolve('mqtt/dist/mqtt.min');

const REALM: RealmConfig = { name: 'realm1', roles: [allowAll(), allowAll('sensor')], store: { type: 'memory', limit: 10, callQueue: [], eventHistory: [] } };

function mqttService(overrides: Partial<MqttServiceConfig> = {}): MqttServiceConfig {
  return { ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '', payload: [{ prefix: '', type: 'native' }], ...overrides };
}

/** A web path of `type: mqtt` with an MQTT service of its own. */
function ownPath(service: MqttServiceConfig, allowedOrigins = ['*']): MqttWebSocketPathConfig {
  return { service, allowedOrigins };
}

/** A node whose one listener serves `listener` (no RawSocket, no WAMP path unless given). */
function startNode(listener: Partial<ListenerConfig>): Promise<TestNode> {
  return startTestNode({ realms: [REALM], listener: { rawsocket: undefined, websocket: {}, ...listener } });
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

type Got = Array<{ topic: string; payload: string; qos: number; retain: boolean }>;
function messages(client: MqttClient): Got {
  const got: Got = [];
  client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }));
  return got;
}

/** Resumes the MQTT 3.1.1 session of `clientId`, collecting messages from before CONNACK: those waiting in it come right behind it. */
async function resume(url: string, clientId: string): Promise<{ client: MqttClient; connack: mqttPacket.IConnackPacket; got: Got }> {
  const client = mqtt.connect(url, { protocolVersion: 4, clientId, clean: false, reconnectPeriod: 0 });
  const got = messages(client);
  const connack = await new Promise<mqttPacket.IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  return { client, connack, got };
}

function autobahnSession(url: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const c = new autobahn.Connection({ url, realm: 'realm1', max_retries: 0 });
    c.onopen = (s: any) => resolve(s);
    c.onclose = (reason: string) => { reject(new Error(reason)); return true; };
    c.open();
  });
}

/** The HTTP answer to a WebSocket upgrade offering `protocols`: status and body (ws reports a refusal as 'unexpected-response'). */
function upgradeAnswer(url: string, protocols: string[], origin?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, origin ? { origin } : {});
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('open', () => {
      ws.terminate();
      reject(new Error(`upgrade with ${protocols.join(',') || 'no subprotocol'} was accepted`));
    });
    ws.on('error', () => {});
  });
}

/** A WebSocket with subprotocol `mqtt` sending raw bytes; the router's MQTT packets parsed from its binary messages. */
async function rawMqttSocket(url: string) {
  const ws = new WebSocket(url, ['mqtt']);
  const packets: mqttPacket.Packet[] = [];
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on('packet', (p: mqttPacket.Packet) => packets.push(p));
  let closeCode: number | undefined;
  ws.on('message', (data: Buffer) => parser.parse(data));
  ws.on('close', (code: number) => (closeCode = code));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const bytes = (p: object) => mqttPacket.generate(p as mqttPacket.Packet, { protocolVersion: 4 });
  return { ws, packets, bytes, closeCode: () => closeCode };
}

describe('MQTT over WebSocket: MQTT.js, mosquitto and Autobahn|JS on one realm', () => {
  let node: TestNode;
  let wsUrl: string;

  beforeAll(async () => {
    node = await startNode({
      mqtt: mqttService(),
      mqttWebsocket: {
        '/mqtt': ownPath(mqttService()),
        '/secure-mqtt': ownPath(mqttService({ auth: { ticket: { type: 'static', principals: { 'sensor-1': { ticket: 's3cret', role: 'sensor' } } } } })),
        '/our-pages': ownPath(mqttService(), ['http://app.example', 'https://*.app.example']),
      },
      websocket: { '/ws': service() },
    });
    wsUrl = `ws://127.0.0.1:${node.port}/mqtt`;
  });
  afterAll(async () => {
    await node?.stop();
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`MQTT.js over ws:// (protocol ${protocolVersion}): QoS 0, 1 and 2 between a WebSocket client, a TCP client and an Autobahn|JS subscriber, both ways`, async () => {
      const { client: web } = await connectMqttUrl(wsUrl, { protocolVersion, clientId: `web-${protocolVersion}` });
      const tcp = await connectMqtt(node.port, { protocolVersion, clientId: `tcp-${protocolVersion}` });
      const wamp = await autobahnSession(node.wsUrl);
      const wampGot: unknown[] = [];
      await wamp.subscribe(`v${protocolVersion}.`, (args: unknown[], _kw: unknown, details: { topic: string }) => wampGot.push([details.topic, args[0]]), { match: 'prefix' });
      const webGot = messages(web);
      const tcpGot = messages(tcp);
      await web.subscribeAsync(`v${protocolVersion}/to-web/#`, { qos: 2 });
      await tcp.subscribeAsync(`v${protocolVersion}/to-tcp/#`, { qos: 2 });
      for (const qos of [0, 1, 2] as const) {
        await tcp.publishAsync(`v${protocolVersion}/to-web/q${qos}`, JSON.stringify({ qos }), { qos });
        await web.publishAsync(`v${protocolVersion}/to-tcp/q${qos}`, JSON.stringify({ qos }), { qos });
      }
      wamp.publish(`v${protocolVersion}.to-web.wamp`, ['from autobahn']);
      // The Autobahn|JS publisher is not sent its own event (WAMP's default exclude_me).
      await until(() => webGot.length === 4 && tcpGot.length === 3 && wampGot.length === 6);
      expect(webGot.sort((a, b) => a.topic.localeCompare(b.topic))).toEqual([
        { topic: `v${protocolVersion}/to-web/q0`, payload: '{"qos":0}', qos: 0, retain: false },
        { topic: `v${protocolVersion}/to-web/q1`, payload: '{"qos":1}', qos: 1, retain: false },
        { topic: `v${protocolVersion}/to-web/q2`, payload: '{"qos":2}', qos: 2, retain: false },
        // A WAMP publisher without _mqtt_qos: delivered at the subscription's QoS; a string as its text.
        { topic: `v${protocolVersion}/to-web/wamp`, payload: 'from autobahn', qos: 2, retain: false },
      ]);
      expect(tcpGot.map((m) => [m.topic, m.payload, m.qos])).toEqual([0, 1, 2].map((q) => [`v${protocolVersion}/to-tcp/q${q}`, `{"qos":${q}}`, q]));
      expect(wampGot).toEqual(expect.arrayContaining([[`v${protocolVersion}.to-tcp.q2`, { qos: 2 }], [`v${protocolVersion}.to-web.q1`, { qos: 1 }]]));
      await Promise.all([web.endAsync(), tcp.endAsync()]);
      wamp.leave();
    });
  }

  it('MQTT.js at MQTT 3.1 over ws:// (it offers the subprotocol mqttv3.1) publishes to a TCP subscriber and receives from it', async () => {
    const { client: web } = await connectMqttUrl(wsUrl, { protocolVersion: 3, protocolId: 'MQIsdp', clientId: 'web-31' });
    const tcp = await connectMqtt(node.port, { protocolVersion: 4 });
    const [webGot, tcpGot] = [messages(web), messages(tcp)];
    await web.subscribeAsync('v3/to-web', { qos: 1 });
    await tcp.subscribeAsync('v3/to-tcp', { qos: 1 });
    await web.publishAsync('v3/to-tcp', 'from 3.1', { qos: 1 });
    await tcp.publishAsync('v3/to-web', 'to 3.1', { qos: 1 });
    await until(() => webGot.length === 1 && tcpGot.length === 1);
    expect([webGot[0]!.payload, tcpGot[0]!.payload]).toEqual(['to 3.1', 'from 3.1']);
    await Promise.all([web.endAsync(), tcp.endAsync()]);
  });

  it('a retained message published over WebSocket reaches a later subscriber over TCP, and one published over TCP a later subscriber over WebSocket', async () => {
    const { client: web } = await connectMqttUrl(wsUrl, { protocolVersion: 5 });
    await web.publishAsync('retained/web', 'kept-from-web', { qos: 1, retain: true });
    const tcp = await connectMqtt(node.port, { protocolVersion: 4 });
    await tcp.publishAsync('retained/tcp', 'kept-from-tcp', { qos: 1, retain: true });
    const tcpGot = messages(tcp);
    const webGot = messages(web);
    await tcp.subscribeAsync('retained/web', { qos: 1 });
    await web.subscribeAsync('retained/tcp', { qos: 1 });
    await until(() => tcpGot.length === 1 && webGot.length === 1);
    expect(tcpGot).toEqual([{ topic: 'retained/web', payload: 'kept-from-web', qos: 1, retain: true }]);
    expect(webGot).toEqual([{ topic: 'retained/tcp', payload: 'kept-from-tcp', qos: 1, retain: true }]);
    await Promise.all([web.endAsync(), tcp.endAsync()]);
  });

  it('a persistent session over WebSocket keeps its subscription and receives what a TCP client published while it was away', async () => {
    const { client: first } = await connectMqttUrl(wsUrl, { protocolVersion: 4, clientId: 'web-persistent', clean: false });
    await first.subscribeAsync('away/#', { qos: 1 });
    await first.endAsync();
    const tcp = await connectMqtt(node.port, { protocolVersion: 4 });
    await tcp.publishAsync('away/news', 'while you were out', { qos: 1 });
    await tcp.endAsync();
    const { client: back, connack, got } = await resume(wsUrl, 'web-persistent');
    expect(connack.sessionPresent).toBe(true);
    await until(() => got.length === 1);
    expect(got).toEqual([{ topic: 'away/news', payload: 'while you were out', qos: 1, retain: false }]);
    await back.endAsync();
  });

  it("the path's auth block applies: right credentials connect, a wrong password gets CONNACK 0x86 (MQTT 5) / 4 (3.1.1), no credentials 0x87", async () => {
    const url = `ws://127.0.0.1:${node.port}/secure-mqtt`;
    const { client } = await connectMqttUrl(url, { username: 'sensor-1', password: 's3cret', protocolVersion: 5 });
    await client.endAsync();
    for (const protocolVersion of [4, 5] as const) {
      const err = await connectMqttUrl(url, { username: 'sensor-1', password: 'guess', protocolVersion }).then(() => undefined, (e: { code?: number }) => e);
      expect(err?.code).toBe(protocolVersion === 5 ? 0x86 : 4);
    }
    const anonymous = await connectMqttUrl(url, { protocolVersion: 5 }).then(() => undefined, (e: { code?: number }) => e);
    expect(anonymous?.code).toBe(0x87);
  });

  it('an upgrade without the subprotocol mqtt (a WAMP one, or none) is refused with 400 naming mqtt; `mqttv3.1` is accepted', async () => {
    for (const protocols of [['wamp.2.json'], []]) {
      const answer = await upgradeAnswer(wsUrl, protocols);
      expect(answer.status).toBe(400);
      expect(answer.body).toContain('use the subprotocol mqtt');
    }
    // The info page names the paths; the WAMP path does not speak MQTT.
    expect(await (await fetch(`http://127.0.0.1:${node.port}/`)).text()).toContain('MQTT over WebSocket (subprotocol mqtt): /mqtt, /secure-mqtt, /our-pages');
    expect((await upgradeAnswer(node.wsUrl, ['mqtt'])).status).toBe(400);
    const old = new WebSocket(wsUrl, ['mqttv3.1']);
    await new Promise((resolve, reject) => { old.once('open', resolve); old.once('error', reject); });
    expect(old.protocol).toBe('mqttv3.1');
    old.close();
  });

  it('allowed_origins: a page of another origin is refused with 403; allowed origins and clients sending none connect', async () => {
    const url = `ws://127.0.0.1:${node.port}/our-pages`;
    const refused = await upgradeAnswer(url, ['mqtt'], 'http://elsewhere.example');
    expect(refused).toEqual({ status: 403, body: 'origin http://elsewhere.example is not allowed\n' });
    for (const origin of ['http://app.example', 'https://sensors.app.example', undefined]) {
      const { client } = await connectMqttUrl(url, { protocolVersion: 5, wsOptions: origin ? { origin } : {} });
      await client.endAsync();
    }
  });

  it('[MQTT-6.0.0-2] packets are a byte stream: a CONNECT split over two messages, then SUBSCRIBE and PUBLISH in one message', async () => {
    const raw = await rawMqttSocket(wsUrl);
    const connect = raw.bytes({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, clientId: 'split' });
    raw.ws.send(connect.subarray(0, 5));
    raw.ws.send(connect.subarray(5));
    await until(() => raw.packets.length === 1);
    expect(raw.packets[0]).toMatchObject({ cmd: 'connack', returnCode: 0 });
    raw.ws.send(Buffer.concat([
      raw.bytes({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'stream/#', qos: 0 }] }),
      raw.bytes({ cmd: 'publish', topic: 'stream/one', payload: Buffer.from('1'), qos: 0, retain: false, dup: false }),
    ]));
    await until(() => raw.packets.length === 3);
    expect(raw.packets.slice(1)).toMatchObject([{ cmd: 'suback', granted: [0] }, { cmd: 'publish', topic: 'stream/one' }]);
    expect((raw.packets[2] as mqttPacket.IPublishPacket).payload.toString()).toBe('1');
    raw.ws.close();
  });

  it('[MQTT-6.0.0-1] a text message closes the connection (1003), and its will is published', async () => {
    const watcher = await connectMqtt(node.port, { protocolVersion: 4 });
    const wills = messages(watcher);
    await watcher.subscribeAsync('wills/#', { qos: 0 });
    const raw = await rawMqttSocket(wsUrl);
    raw.ws.send(raw.bytes({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, clientId: 'texter',
      will: { topic: 'wills/texter', payload: Buffer.from('gone'), qos: 0, retain: false } }));
    await until(() => raw.packets.length === 1);
    raw.ws.send('not binary');
    await until(() => raw.closeCode() !== undefined);
    expect(raw.closeCode()).toBe(1003);
    await until(() => wills.length === 1);
    expect(wills[0]).toMatchObject({ topic: 'wills/texter', payload: 'gone' });
    await watcher.endAsync();
  });

  it('mosquitto_pub over TCP reaches an MQTT.js subscriber over WebSocket', async () => {
    const { client: web } = await connectMqttUrl(wsUrl, { protocolVersion: 5 });
    const got = messages(web);
    await web.subscribeAsync('mosquitto/#', { qos: 1 });
    await run('mosquitto_pub', ['-p', String(node.port), '-V', '5', '-q', '1', '-t', 'mosquitto/hello', '-m', 'hi from mosquitto']);
    await until(() => got.length === 1);
    expect(got[0]).toMatchObject({ topic: 'mosquitto/hello', payload: 'hi from mosquitto', qos: 1 });
    await web.endAsync();
  });
});

describe('MQTT over WebSocket: the MQTT service\'s limits and the listener\'s', () => {
  let node: TestNode;

  beforeAll(async () => {
    node = await startNode({
      endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1', maxConnections: 3 },
      mqttWebsocket: {
        '/mqtt': ownPath(mqttService({ maxMessageSize: 1024, maxKeepalive: 30 })),
        // No CONNECT deadline: only the size limit can end a slow first message here.
        '/patient': ownPath(mqttService({ openHandshakeTimeout: 0, maxUnauthenticatedBytes: 4096 })),
        '/small-queue': ownPath(mqttService({ maxSendQueue: 256 * 1024, sendQueuePolicy: 'disconnect' })),
      },
    });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('[MQTT-3.2.2-15] CONNACK announces max_message_size as Maximum Packet Size, and max_keepalive as Server Keep Alive; a larger PUBLISH ends the connection with 0x95', async () => {
    const { client, connack } = await connectMqttUrl(`ws://127.0.0.1:${node.port}/mqtt`, { protocolVersion: 5, keepalive: 600 });
    expect(connack.properties).toMatchObject({ maximumPacketSize: 1024, serverKeepAlive: 30 });
    const disconnect = new Promise<number | undefined>((resolve) => client.once('disconnect', (packet) => resolve(packet.reasonCode)));
    client.publish('big', Buffer.alloc(1100, 0x61), { qos: 0 });
    expect(await disconnect).toBe(0x95);
    client.end(true);
  });

  it('a WebSocket message announced longer than max_unauthenticated_bytes before CONNACK ends the connection before it has arrived', async () => {
    const { socket, upgraded } = await websocketUpgrade(node.port, '/patient', 'mqtt');
    expect(upgraded).toBe(true);
    // A binary frame announcing 100,000 bytes, 1,000 of them sent: ws waits for the rest.
    await websocketHalfFrame(socket, 100_000, 1000, 0x82);
    await until(() => socket.destroyed);
  });

  it('max_send_queue: a WebSocket client that stops reading is disconnected at the limit (send_queue_policy disconnect), announced by junction.session.on_slow_consumer', async () => {
    const observer = await ClientSession.connect(node.node.router, { realm: 'realm1', name: 'observer' });
    const slowEvents: unknown[][] = [];
    await observer.subscribe('junction.session.on_slow_consumer', (args) => slowEvents.push(args));
    const raw = await rawMqttSocket(`ws://127.0.0.1:${node.port}/small-queue`);
    raw.ws.send(raw.bytes({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, clientId: 'slow-reader' }));
    raw.ws.send(raw.bytes({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'flood/#', qos: 0 }] }));
    await until(() => raw.packets.length === 2);
    // It stops reading: the kernel's buffers fill, then the router's send queue.
    (raw.ws as unknown as { _socket: Socket })._socket.pause();
    const { client: publisher } = await connectMqttUrl(`ws://127.0.0.1:${node.port}/small-queue`, { protocolVersion: 4 });
    // Small messages: what one turn writes (one read's worth) stays under the limit; only a backlog passes it.
    const payload = Buffer.alloc(4 * 1024, 0x71);
    for (let i = 0; i < 16_000 && slowEvents.length === 0; i += 50) {
      for (let j = 0; j < 50; j++) publisher.publish('flood/data', payload, { qos: 0 });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => slowEvents.length > 0);
    expect(slowEvents[0]![1]).toMatchObject({ policy: 'disconnect', send_queue_limit: 256 * 1024, disconnected: true });
    await publisher.endAsync();
    await observer.close();
    raw.ws.terminate();
  });

  it("max_connections of the listener counts MQTT clients over WebSocket: past it the upgrade gets 503", async () => {
    const clients = await Promise.all([1, 2, 3].map(() => connectMqttUrl(`ws://127.0.0.1:${node.port}/mqtt`, { protocolVersion: 4 })));
    const answer = await upgradeAnswer(`ws://127.0.0.1:${node.port}/mqtt`, ['mqtt']);
    expect(answer.status).toBe(503);
    await Promise.all(clients.map(({ client }) => client.endAsync()));
  });
});

describe('MQTT over WebSocket: max_incoming_bytes', () => {
  let node: TestNode;

  beforeAll(async () => {
    // The budget is then one largest packet and one read: 1,024 + 128 KiB.
    node = await startTestNode({ realms: [REALM], maxIncomingBytes: 1, listener: { rawsocket: undefined, websocket: {}, mqttWebsocket: { '/mqtt': ownPath(mqttService({ maxMessageSize: 1024 })) } } });
  });
  afterAll(async () => {
    closeAll();
    await node?.stop();
  });

  it('what ws holds of messages still arriving counts in max_incoming_bytes: past it the largest holder is dropped, other clients go on', async () => {
    const connectBytes = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, clientId: '' } as mqttPacket.Packet);
    const halfSent: Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const { socket, upgraded } = await websocketUpgrade(node.port, '/mqtt', 'mqtt');
      expect(upgraded).toBe(true);
      const connack = new Promise((resolve) => socket.once('data', resolve));
      socket.write(Buffer.concat([websocketFrameHeader(0x82, connectBytes.length), connectBytes]));
      await connack;
      // Authenticated: 70,000 bytes of a message announced at 100,000, twice, are more than the budget.
      await websocketHalfFrame(socket, 100_000, 70_000, 0x82);
      halfSent.push(socket);
    }
    await until(() => halfSent.some((s) => s.destroyed));
    const { client } = await connectMqttUrl(`ws://127.0.0.1:${node.port}/mqtt`, { protocolVersion: 5 });
    const got = messages(client);
    await client.subscribeAsync('still/#', { qos: 1 });
    await client.publishAsync('still/here', 'yes', { qos: 1 });
    await until(() => got.length === 1);
    await client.endAsync();
  });
});

describe('MQTT over WebSocket with TLS (wss://)', () => {
  let node: TestNode;

  beforeAll(async () => {
    node = await startNode({
      endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1', tls: { key: pem('server.key'), certificate: pem('server.crt') } },
      mqtt: mqttService(),
      mqttWebsocket: { '/mqtt': ownPath(mqttService()) },
    });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('MQTT.js over wss:// exchanges messages with MQTT.js over mqtts:// on the same TLS port', async () => {
    const tls = { ca: pem('ca.crt'), servername: 'localhost' };
    const { client: web } = await connectMqttUrl(`wss://localhost:${node.port}/mqtt`, { protocolVersion: 5, ...tls });
    const { client: tcp } = await connectMqttUrl(`mqtts://localhost:${node.port}`, { protocolVersion: 4, ...tls });
    const webGot = messages(web);
    await web.subscribeAsync('tls/#', { qos: 1 });
    await tcp.publishAsync('tls/hello', 'over tls', { qos: 1 });
    await until(() => webGot.length === 1);
    expect(webGot[0]).toMatchObject({ topic: 'tls/hello', payload: 'over tls', qos: 1 });
    await Promise.all([web.endAsync(), tcp.endAsync()]);
  });
});

describe('MQTT over WebSocket in headless Chromium: MQTT.js browser build', () => {
  let node: TestNode;
  let dir: string;
  let browser: Browser;

  beforeAll(async () => {
    // A page served by the same listener loads MQTT.js's browser build, as a web app would.
    dir = mkdtempSync(join(tmpdir(), 'junction-mqtt-browser-'));
    copyFileSync(MQTT_BROWSER_BUILD, join(dir, 'mqtt.min.js'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><script src="mqtt.min.js"></script></head><body>MQTT</body></html>');
    node = await startNode({
      mqtt: mqttService(),
      mqttWebsocket: { '/mqtt': ownPath(mqttService()) },
      static: { '/': { type: 'static', directory: dir } },
    });
    browser = await openBrowser({ width: 800, height: 600 });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the browser client subscribes and gets what mosquitto_pub publishes over TCP, and publishes what a TCP client receives', async () => {
    const { page } = browser;
    await page.goto(`http://127.0.0.1:${node.port}/`);
    // In the page: connect over WebSocket (MQTT 5), subscribe, and keep what arrives.
    await page.evaluate(async (url) => {
      const w = globalThis as unknown as { mqtt: any; client: any; received: string[] };
      w.received = [];
      w.client = w.mqtt.connect(url, { protocolVersion: 5, clientId: 'chromium', reconnectPeriod: 0 });
      await new Promise<void>((resolve, reject) => {
        w.client.once('connect', () => resolve());
        w.client.once('error', (e: Error) => reject(e));
      });
      w.client.on('message', (topic: string, payload: Uint8Array) => w.received.push(`${topic} ${new TextDecoder().decode(payload)}`));
      await w.client.subscribeAsync('browser/in', { qos: 1 });
    }, `ws://127.0.0.1:${node.port}/mqtt`);

    await run('mosquitto_pub', ['-p', String(node.port), '-V', '311', '-q', '1', '-t', 'browser/in', '-m', 'hello browser']);
    await page.waitForFunction(() => (globalThis as unknown as { received: string[] }).received.length > 0, undefined, { timeout: 15_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { received: string[] }).received)).toEqual(['browser/in hello browser']);

    const tcp = await connectMqtt(node.port, { protocolVersion: 4 });
    const got = messages(tcp);
    await tcp.subscribeAsync('browser/out', { qos: 1 });
    await page.evaluate(() => (globalThis as unknown as { client: any }).client.publishAsync('browser/out', 'hello from chromium', { qos: 1 }));
    await until(() => got.length === 1);
    expect(got[0]).toMatchObject({ topic: 'browser/out', payload: 'hello from chromium', qos: 1 });
    await tcp.endAsync();
    await page.evaluate(() => (globalThis as unknown as { client: any }).client.endAsync());
    expect(browser.pageErrors).toEqual([]);
  });
});

describe('MQTT over WebSocket: reloading the config (SIGHUP)', () => {
  let node: TestNode;

  beforeAll(async () => {
    node = await startNode({
      mqttWebsocket: { '/mqtt': ownPath(mqttService({ auth: { ticket: { type: 'static', principals: { 's-1': { ticket: 'one', role: 'sensor' } } } } })) },
    });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it("an mqtt path's auth applies at once, as an mqtt transport's; its topic_prefix and a path added are reported as needing a restart", async () => {
    const url = `ws://127.0.0.1:${node.port}/mqtt`;
    const login = (username: string, password: string) => connectMqttUrl(url, { username, password, protocolVersion: 5 }).then(({ client }) => client.endAsync().then(() => 0), (e: { code?: number }) => e.code);
    expect(await login('s-2', 'two')).toBe(0x86);
    const next = structuredClone(node.node.config);
    const listener = next.router.listeners[0]!;
    const own = listener.mqttWebsocket!['/mqtt']!.service!;
    const ticket = own.auth!.ticket as { type: 'static'; principals: Record<string, { ticket: string; role: string }> };
    ticket.principals['s-2'] = { ticket: 'two', role: 'sensor' };
    own.topicPrefix = 'mqtt.';
    listener.mqttWebsocket!['/more'] = ownPath(mqttService());
    const report = await node.node.reload(next);
    expect(report.applied).toEqual(["transport 'test': mqtt_websocket['/mqtt'].service.auth.ticket.principals['s-2'] added"]);
    expect([...report.needsRestart].sort()).toEqual([
      "transport 'test': mqtt_websocket['/more'] added",
      "transport 'test': mqtt_websocket['/mqtt'].service.topic_prefix changed",
    ]);
    expect(await login('s-2', 'two')).toBe(0);
    expect(await login('s-1', 'one')).toBe(0);
  });
});

describe("MQTT over WebSocket sharing another transport's MQTT service (`transport`)", () => {
  let node: JunctionNode;
  let tcpPort: number;
  let webPort: number;

  beforeAll(async () => {
    const endpoint = { type: 'tcp' as const, port: 0, interface: '127.0.0.1' };
    node = await startJunction({
      router: {
        realms: [REALM],
        listeners: [
          { id: 'web', kind: 'web', endpoint, websocket: {}, websocketAnyPath: false, static: {}, mqttWebsocket: { '/mqtt': { transport: 'sensors', allowedOrigins: ['*'] } } },
          // $SYS/ refreshed every second, for the test that reads it.
          { id: 'sensors', kind: 'mqtt', endpoint, websocket: {}, websocketAnyPath: false, static: {}, mqtt: mqttService({ sysInterval: 1 }) },
        ],
      },
    });
    const port = (i: number) => (node.listeners[i]!.address() as AddressInfo).port;
    [webPort, tcpPort] = [port(0), port(1)];
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('a persistent session made over TCP is resumed over WebSocket, with what was published meanwhile', async () => {
    const tcp = await connectMqtt(tcpPort, { protocolVersion: 4, clientId: 'roamer', clean: false });
    await tcp.subscribeAsync('roam/#', { qos: 1 });
    await tcp.endAsync();
    const publisher = await connectMqtt(tcpPort, { protocolVersion: 5 });
    await publisher.publishAsync('roam/news', 'kept for roamer', { qos: 1 });
    await publisher.endAsync();
    const { client: web, connack, got } = await resume(`ws://127.0.0.1:${webPort}/mqtt`, 'roamer');
    expect(connack.sessionPresent).toBe(true);
    await until(() => got.length === 1);
    expect(got).toEqual([{ topic: 'roam/news', payload: 'kept for roamer', qos: 1, retain: false }]);
    await web.endAsync();
  });

  it('[MQTT-3.1.4-2] a client id connected over TCP is taken over by the same client id over WebSocket', async () => {
    const tcp = await connectMqtt(tcpPort, { protocolVersion: 4, clientId: 'one-id' });
    let tcpClosed = false;
    tcp.on('close', () => (tcpClosed = true));
    const { client: web } = await connectMqttUrl(`ws://127.0.0.1:${webPort}/mqtt`, { protocolVersion: 4, clientId: 'one-id' });
    await until(() => tcpClosed);
    expect(web.connected).toBe(true);
    await web.endAsync();
    tcp.end(true);
  });

  it('$SYS/ counts the clients of both: one over TCP and one over WebSocket are 2 connected', async () => {
    const tcp = await connectMqtt(tcpPort, { protocolVersion: 4, clientId: 'sys-tcp' });
    const { client: web } = await connectMqttUrl(`ws://127.0.0.1:${webPort}/mqtt`, { protocolVersion: 4, clientId: 'sys-web' });
    const got = messages(web);
    await web.subscribeAsync('$SYS/broker/clients/connected', { qos: 0 });
    await until(() => got.some((m) => m.payload === '2'));
    await Promise.all([web.endAsync(), tcp.endAsync()]);
  });
});
