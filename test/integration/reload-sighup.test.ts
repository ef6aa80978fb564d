// SIGHUP through the real CLI (issue 20 #2): every section that can change live is applied, every
// change that cannot is named as needing a restart, and "nothing changed" is said only when the file
// is really the same. Clients are ones nobody here wrote: MQTT.js, mosquitto_pub/mosquitto_sub,
// Autobahn|JS; serial boards sit on socat pty pairs.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, copyFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import { Board, Cable } from '../helpers/serial.js';
import { freePort } from '../helpers/free-port.js';
import { Mosquitto, MOSQUITTO_PUB, MOSQUITTO_SUB, BRIDGE_USER, BRIDGE_PASSWORD } from '../helpers/mosquitto.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');
const CLI = fileURLToPath(new URL('../../dist/bin/junction.cjs', import.meta.url));
const CERTS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));

const everything = (uri: string) => ({ uri, match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true }, disclose: { caller: false, publisher: false }, cache: true });

/** realm1 with roles anonymous (everything) and sensor (sensors.*), a WebSocket transport and an MQTT one. */
function baseConfig(wsPort: number, mqttPort: number): any {
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [{ name: 'realm1', roles: [
        { name: 'anonymous', permissions: [everything('')] },
        { name: 'sensor', permissions: [everything('sensors.')] },
      ] }],
      transports: [
        { id: 'ws', type: 'websocket', endpoint: { type: 'tcp', port: wsPort, interface: '127.0.0.1' }, serializers: ['json'] },
        {
          id: 'mqtt', type: 'mqtt', endpoint: { type: 'tcp', port: mqttPort, interface: '127.0.0.1' }, options: { realm: 'realm1' },
          auth: { ticket: { type: 'static', principals: { 'sensor-1': { ticket: 'one', role: 'sensor' }, 'panel': { ticket: 'p', role: 'anonymous' } } } },
        },
      ],
    }],
  };
}

/** A `junction start --config FILE` process, its log, and SIGHUP with a new file. */
class Junction {
  private child: ChildProcess | undefined;
  output = '';

  constructor(readonly file: string) {}

  async start(config: unknown, env: Record<string, string> = {}): Promise<void> {
    writeFileSync(this.file, JSON.stringify(config));
    this.output = '';
    const child = spawn(process.execPath, [CLI, 'start', '--config', this.file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.child = child;
    child.stdout!.on('data', (d) => (this.output += d));
    child.stderr!.on('data', (d) => (this.output += d));
    await this.waitFor(/Junction ready/);
  }

  /** Writes the file, sends SIGHUP and returns the log of that reload once it is done. */
  async reload(config: unknown): Promise<string> {
    writeFileSync(this.file, typeof config === 'string' ? config : JSON.stringify(config));
    const from = this.output.length;
    this.child!.kill('SIGHUP');
    await this.waitFor(/SIGHUP: .*(reloaded|not reloaded)/, from);
    return this.output.slice(from);
  }

  async waitFor(re: RegExp, from = 0, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!re.test(this.output.slice(from)) && Date.now() < deadline) await sleep(20);
    expect(this.output.slice(from)).toMatch(re);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Connects MQTT.js (MQTT 3.1.1) with a username and password: the client once connected, or the refusal. */
function mqttLogin(port: number, username: string, password: string, options: { reconnectPeriod?: number } = {}): Promise<{ client: MqttClient; error?: Error }> {
  const client = mqttConnect(`mqtt://127.0.0.1:${port}`, { username, password, protocolVersion: 4, reconnectPeriod: options.reconnectPeriod ?? 0, connectTimeout: 5000 });
  clients.push(client);
  return new Promise((resolve) => {
    client.once('connect', () => resolve({ client }));
    client.once('error', (error) => resolve({ client, error }));
  });
}

function wampSession(port: number): Promise<any> {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({ url: `ws://127.0.0.1:${port}/`, realm: 'realm1', max_retries: 0 });
    connection.onopen = (session: any) => resolve(session);
    connection.onclose = (reason: string) => { reject(new Error(reason)); return true; };
    connection.open();
    connections.push(connection);
  });
}

function mosquittoPub(port: number, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(MOSQUITTO_PUB, ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr });
    });
  });
}

let dir: string;
let junction: Junction | undefined;
const clients: MqttClient[] = [];
const connections: any[] = [];
const cleanups: Array<() => unknown> = [];

async function setup(env: Record<string, string> = {}): Promise<{ junction: Junction; ws: number; mqtt: number; config: any }> {
  const ws = await freePort();
  const mqtt = await freePort();
  const c = baseConfig(ws, mqtt);
  junction = new Junction(join(dir, 'junction.json'));
  await junction.start(c, env);
  return { junction, ws, mqtt, config: c };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'junction-reload-'));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  for (const c of connections.splice(0)) { try { c.close(); } catch { /* closed already */ } }
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await junction?.kill();
  junction = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('SIGHUP applies every section it can (issue 20 #2)', () => {
  it('issue 20 #2: a ticket principal added to an mqtt transport lets the new sensor in after SIGHUP (MQTT.js, mosquitto_pub)', async () => {
    const { junction, mqtt, config } = await setup();
    const refused = await mqttLogin(mqtt, 'sensor-2', 'two');
    expect(refused.error?.message).toMatch(/bad user ?name or password/i);

    config.workers[0].transports[1].auth.ticket.principals['sensor-2'] = { ticket: 'two', role: 'sensor' };
    const log = await junction.reload(config);
    expect(log).toMatch(/SIGHUP: applied: transport 'mqtt': auth\.ticket\.principals\['sensor-2'\] added/);
    expect(log).not.toMatch(/nothing changed/);

    const admitted = await mqttLogin(mqtt, 'sensor-2', 'two');
    expect(admitted.error).toBeUndefined();
    expect((await mosquittoPub(mqtt, ['-u', 'sensor-2', '-P', 'two', '-t', 'sensors/t', '-m', '21.5', '-q', '1'])).code).toBe(0);
    expect((await mosquittoPub(mqtt, ['-u', 'sensor-2', '-P', 'wrong', '-t', 'sensors/t', '-m', '1'])).code).not.toBe(0);
  });

  it('issue 20 #2: a sensor whose role was removed is disconnected, and comes back once the role is added again', async () => {
    const { junction, mqtt, config } = await setup();
    const sensor = await mqttLogin(mqtt, 'sensor-1', 'one', { reconnectPeriod: 200 });
    expect(sensor.error).toBeUndefined();
    let connects = 1;
    sensor.client.on('connect', () => connects++);
    const closed = new Promise((r) => sensor.client.once('close', r));

    const withoutRole = structuredClone(config);
    withoutRole.workers[0].realms[0].roles.splice(1, 1);
    delete withoutRole.workers[0].transports[1].auth.ticket.principals['sensor-1'];
    const log = await junction.reload(withoutRole);
    expect(log).toMatch(/applied: realm 'realm1': roles\['sensor'\] removed/);
    expect(log).toMatch(/realm 'realm1': 1 session\(s\) ended/);
    await closed;

    const back = await junction.reload(config);
    expect(back).toMatch(/applied: realm 'realm1': roles\['sensor'\] added/);
    expect(back).toMatch(/applied: transport 'mqtt': auth\.ticket\.principals\['sensor-1'\] added/);
    const deadline = Date.now() + 10_000;
    while (connects < 2 && Date.now() < deadline) await sleep(20);
    expect(connects).toBe(2);
    expect(sensor.client.connected).toBe(true);
  });

  it('issue 20 #2: a serial port added is watched after SIGHUP; the port already there keeps its board', async () => {
    const { junction, ws, config } = await setup();
    const cables = [new Cable(join(dir, 'a-gw'), join(dir, 'a-board')), new Cable(join(dir, 'b-gw'), join(dir, 'b-board'))];
    for (const cable of cables) {
      await cable.plug();
      cleanups.push(() => cable.unplug());
    }
    const boardA = new Board(cables[0]!.board, { id: 'board-a', procedures: { 'a.ping': () => 'a' } });
    const boardB = new Board(cables[1]!.board, { id: 'board-b', procedures: { 'b.ping': () => 'b' } });
    await boardA.open();
    await boardB.open();
    cleanups.push(() => { boardA.close(); boardB.close(); });

    config.serial = [{ id: 'usb', realm: 'realm1', prefix: 'devices', ports: [{ path: cables[0]!.gateway }], reopen_min: 100, reopen_max: 400 }];
    expect(await junction.reload(config)).toMatch(/applied: serial 'usb': added/);
    const session = await wampSession(ws);
    const devices = async () => (await session.call('junction.serial.usb.devices')) as Array<{ path: string; state: string; since: string }>;
    const ready = async (path: string) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const found = (await devices()).find((d) => d.path === path);
        if (found?.state === 'ready' || Date.now() > deadline) return found;
        await sleep(50);
      }
    };
    const a = await ready(cables[0]!.gateway);
    expect(a?.state).toBe('ready');

    config.serial[0].ports.push({ path: cables[1]!.gateway });
    const log = await junction.reload(config);
    expect(log).toMatch(new RegExp(`applied: serial 'usb': ports\\['${cables[1]!.gateway.replace(/[/.-]/g, '\\$&')}'\\] added`));
    expect((await ready(cables[1]!.gateway))?.state).toBe('ready');
    expect(await session.call('devices.b.ping')).toBe('b');
    // Port A was not touched: same board session since before the reload.
    expect((await devices()).find((d) => d.path === cables[0]!.gateway)).toMatchObject({ state: 'ready', since: a!.since });

    config.serial[0].ports.shift();
    expect(await junction.reload(config)).toMatch(/applied: serial 'usb': ports\[.*a-gw'\] removed/);
    expect((await devices()).map((d) => d.path)).toEqual([cables[1]!.gateway]);

    // Another setting of the bridge: it restarts with it, and its board is back.
    config.serial[0].call_timeout = 1234;
    expect(await junction.reload(config)).toMatch(/applied: serial 'usb': call_timeout changed/);
    expect((await ready(cables[1]!.gateway))?.state).toBe('ready');
    expect(await session.call('devices.b.ping')).toBe('b');
  });

  it('issue 20 #2: a changed telemetry interval and a new schedule apply at once', async () => {
    const { junction, ws, config } = await setup();
    config.telemetry = { board: 'pi', cron: '0 0 * * * *' }; // hourly
    expect(await junction.reload(config)).toMatch(/applied: telemetry added/);
    const session = await wampSession(ws);
    let samples = 0;
    let ticks = 0;
    await session.subscribe('junction.board.pi.load', () => samples++);
    await session.subscribe('app.tick', () => ticks++);
    const before = samples;

    config.telemetry.cron = '* * * * * *'; // every second
    config.schedules = [{ name: 'tick', cron: '* * * * * *', publish: { topic: 'app.tick' } }];
    const log = await junction.reload(config);
    expect(log).toMatch(/applied: telemetry\.cron changed/);
    expect(log).toMatch(/applied: schedules\['tick'\] added/);
    const deadline = Date.now() + 10_000;
    while ((samples < before + 3 || ticks < 2) && Date.now() < deadline) await sleep(50);
    expect(samples).toBeGreaterThanOrEqual(before + 3);
    expect(ticks).toBeGreaterThanOrEqual(2);
  });

  it('issue 20 #2: a changed MQTT bridge reconnects with its new config and delivers what it buffered meanwhile', async () => {
    const broker = new Mosquitto(await freePort());
    await broker.start();
    cleanups.push(() => broker.kill());
    const { junction, ws, config } = await setup();
    const bridge = {
      id: 'shed', realm: 'realm1', url: broker.url, username: BRIDGE_USER, password: 'not-the-password',
      reconnect: { initial_delay: 100, max_delay: 300 }, to_mqtt: [{ uri: 'out.', match: 'prefix', qos: 1 }],
    };
    const other = { id: 'barn', realm: 'realm1', url: broker.url, to_wamp: [{ filter: 'barn/#' }] };
    config.bridges = { mqtt: [bridge, other] };
    expect(await junction.reload(config)).toMatch(/applied: mqtt bridge 'shed': added/);
    const session = await wampSession(ws);
    const barn = async () => (await session.call('junction.bridge.mqtt.get', ['barn'])) as { connected: boolean; connects: number; since: string };
    const deadline0 = Date.now() + 10_000;
    while (!(await barn()).connected && Date.now() < deadline0) await sleep(50);
    const barnBefore = await barn();
    expect(barnBefore.connected).toBe(true);
    for (let i = 0; i < 3; i++) await session.publish('out.reading', [i], {}, { acknowledge: true });

    const received: string[] = [];
    const sub = spawn(MOSQUITTO_SUB, ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 'out/#', '-q', '1', '-v']);
    cleanups.push(() => sub.kill());
    sub.stdout.on('data', (d: Buffer) => received.push(...d.toString().trim().split('\n')));
    await sleep(300); // mosquitto_sub has subscribed (it prints nothing until a message comes)

    bridge.password = BRIDGE_PASSWORD;
    const log = await junction.reload(config);
    expect(log).toMatch(/applied: mqtt bridge 'shed': password changed/);
    expect(log).not.toContain('not-the-password'); // paths are logged, never values
    expect(log).not.toContain(BRIDGE_PASSWORD);
    const deadline = Date.now() + 10_000;
    while (received.length < 3 && Date.now() < deadline) await sleep(50);
    expect(received.map((line) => line.split(' ')[0])).toEqual(['out/reading', 'out/reading', 'out/reading']);
    expect(received.map((line) => line.replace(/\D/g, ''))).toEqual(['0', '1', '2']);
    // The bridge whose config did not change was not touched.
    expect(await barn()).toMatchObject({ connected: true, connects: 1, since: barnBefore.since });
  });

  it('issue 20 #2: a port change is named as needing a restart and the old port keeps serving; an identical file changes nothing', async () => {
    const { junction, ws, config } = await setup();
    expect(await junction.reload(config)).toMatch(/reloaded, nothing changed/);
    config.workers[0].transports[0].endpoint.port = await freePort();
    config.workers[0].realms[0].roles[1].permissions[0].allow.call = false;
    const log = await junction.reload(config);
    expect(log).toMatch(/SIGHUP: not applied, needs a restart: transport 'ws': endpoint\.port changed/);
    expect(log).toMatch(/SIGHUP: applied: realm 'realm1': roles\['sensor'\]\.permissions\['sensors\.'\]\.allow\.call changed/);
    expect(log).not.toMatch(/nothing changed/);
    const session = await wampSession(ws);
    expect(session.id).toBeGreaterThan(0);
    // Still different from the file: reported again, not forgotten.
    expect(await junction.reload(config)).toMatch(/needs a restart: transport 'ws': endpoint\.port changed/);
  });

  it('issue 20 #2: a file with an error changes nothing and names the key at fault', async () => {
    const { junction, mqtt, config } = await setup();
    config.workers[0].transports[1].auth.ticket.principals['sensor-2'] = { ticket: 'two', role: 'sensor' };
    config.workers[0].transports[0].endpoint.port = 'eighty';
    const log = await junction.reload(config);
    expect(log).toMatch(/not reloaded, the running config stays/);
    expect(log).toMatch(/workers\[0\]\.transports\[0\]\.endpoint\.port/);
    expect(log).not.toMatch(/applied:/);
    expect((await mqttLogin(mqtt, 'sensor-2', 'two')).error?.message).toMatch(/bad user ?name or password/i);
    expect((await mqttLogin(mqtt, 'sensor-1', 'one')).error).toBeUndefined();
  });

  it('issue 20 #2: under systemd each reload is RELOADING=1 (with MONOTONIC_USEC) then READY=1, in order, and the watchdog is not started again', async () => {
    const socketPath = join(dir, 'notify.sock');
    const receiver = spawn('python3', [fileURLToPath(new URL('./python/notify_socket.py', import.meta.url)), socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => receiver.kill());
    let notes = '';
    receiver.stdout!.on('data', (d) => (notes += d));
    while (!notes.includes('LISTENING')) await sleep(20);
    const { junction, config } = await setup({ NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '2000000' });
    for (let i = 0; i < 3; i++) {
      config.workers[0].realms[0].roles[1].permissions[0].allow.call = i % 2 === 0;
      await junction.reload(config);
    }
    const deadline = Date.now() + 10_000;
    while ((notes.match(/STATUS=config reloaded/g) ?? []).length < 3 && Date.now() < deadline) await sleep(20);
    const states = notes.split('\n').filter((line) => /RELOADING=1|READY=1/.test(line));
    expect(states[0]).toMatch(/READY=1 STATUS=serving/);
    for (let i = 1; i <= 5; i += 2) {
      expect(states[i]).toMatch(/^RELOADING=1 MONOTONIC_USEC=\d+$/);
      expect(states[i + 1]).toMatch(/READY=1 STATUS=config reloaded/);
    }
    // One watchdog ping per WatchdogSec / 2 = 1 s, however many times READY was sent.
    const from = notes.length;
    await sleep(3000);
    expect((notes.slice(from).match(/WATCHDOG=1/g) ?? []).length).toBeLessThanOrEqual(5);
  });

  it('issue 20 #2: a renewed TLS certificate (same files, new contents) is served to new connections after SIGHUP', async () => {
    const { junction, config } = await setup();
    const tlsPort = await freePort();
    copyFileSync(join(CERTS, 'server.key'), join(dir, 'tls.key'));
    copyFileSync(join(CERTS, 'server.crt'), join(dir, 'tls.crt'));
    config.workers[0].transports.push({ id: 'wss', type: 'websocket', endpoint: { type: 'tcp', port: tlsPort, interface: '127.0.0.1', tls: { key: 'tls.key', certificate: 'tls.crt' } }, serializers: ['json'] });
    expect(await junction.reload(config)).toMatch(/needs a restart: transport 'wss': added/);
    await junction.kill();
    await junction.start(config);
    expect(await peerName(tlsPort)).toBe('junction-test-server');

    // Another certificate and key at the same paths, as certbot renews them.
    copyFileSync(join(CERTS, 'client.key'), join(dir, 'tls.key'));
    copyFileSync(join(CERTS, 'client.crt'), join(dir, 'tls.crt'));
    const log = await junction.reload(config);
    expect(log).toMatch(/applied: transport 'wss': endpoint\.tls\.key changed/);
    expect(log).toMatch(/applied: transport 'wss': endpoint\.tls\.certificate changed/);
    expect(await peerName(tlsPort)).toBe('junction-test-client');
  });
});

/** The CN of the certificate a TLS server on the port presents. */
function peerName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.destroy();
      resolve(Array.isArray(cn) ? cn.join(',') : cn);
    });
    socket.once('error', reject);
  });
}
