// Issue 20 #1: a clean restart (SIGTERM, then a new process on the same ports — which is what
// `systemctl restart junction` does) must bring every client back by itself, as a crash does.
// Clients nobody here wrote, each with its own stock reconnect logic: Autobahn|JS over WebSocket and
// RawSocket (max_retries: -1), an Autobahn|Python Component (max_retries: -1), MQTT.js (MQTT 3.1.1
// and 5), mosquitto_sub (3.1.1 and 5); plus the serial bridge's board on a pty, an MQTT bridge to a
// real mosquitto, and the dashboard page in headless Chromium. After the restart a publish through
// the router must reach each of them (a call, for the board) within 5 s of the new process listening.
import { describe, it, expect, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { freePort } from '../helpers/free-port.js';
import { Child } from '../helpers/child.js';
import { Mosquitto, MOSQUITTO_SUB } from '../helpers/mosquitto.js';
import { Board, Cable } from '../helpers/serial.js';
import { openBrowser, type Browser } from '../helpers/chromium.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');
const CLI = fileURLToPath(new URL('../../dist/bin/junction.cjs', import.meta.url));
const PYTHON = process.env['JUNCTION_PYTHON'] ?? '/usr/bin/python3';
const PYTHON_PEER = fileURLToPath(new URL('./python/reconnecting_peer.py', import.meta.url));
/** What the issue promises: every client back and receiving within this long of the new process listening. */
const BACK_WITHIN_MS = 5000;

/** The time each client last received ping `n` (a publish through the router), by client name. */
class Receipts {
  private readonly seen = new Map<string, Map<number, number>>();
  got(client: string, n: unknown): void {
    if (typeof n !== 'number') return;
    if (!this.seen.has(client)) this.seen.set(client, new Map());
    this.seen.get(client)!.set(n, Date.now());
  }
  /** When `client` first received a ping numbered `from` or later; undefined if it has not. */
  firstSince(client: string, from: number): number | undefined {
    const times = [...(this.seen.get(client) ?? new Map<number, number>()).entries()].filter(([n]) => n >= from).map(([, t]) => t);
    return times.length ? Math.min(...times) : undefined;
  }
}

/**
 * Closes an Autobahn|JS connection and resolves once it has closed and logged so: what Autobahn
 * prints after the test file's teardown is an unhandled error to vitest.
 */
function closed(connection: any): Promise<void> {
  return new Promise<void>((resolve) => {
    const onclose = connection.onclose;
    connection.onclose = (...args: unknown[]) => {
      onclose?.(...args);
      setImmediate(resolve); // after Autobahn's own log line that follows onclose
      return true;
    };
    try {
      connection.close();
    } catch {
      resolve(); // already closed, and not retrying
    }
    setTimeout(resolve, 2000).unref();
  });
}

describe('issue 20 #1: a restart never strands clients', () => {
  const children: Child[] = [];
  const cleanups: Array<() => unknown> = [];
  const dir = mkdtempSync(join(tmpdir(), 'junction-restart-'));
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // already closed
      }
    }
    for (const child of children) child.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('issue 20 #1: after SIGTERM and a new start, every client is back and receiving within 5 s of the new process listening', async () => {
    const port = await freePort();
    const mosquitto = new Mosquitto(await freePort());
    await mosquitto.start();
    cleanups.push(() => mosquitto.kill());
    const cable = new Cable(join(dir, 'gw'), join(dir, 'board'));
    await cable.plug();
    cleanups.push(() => cable.unplug());

    const file = join(dir, 'junction.json');
    writeFileSync(file, JSON.stringify({
      version: 2,
      workers: [{
        type: 'router',
        realms: [{ name: 'realm1', roles: [{ name: 'anonymous', 'allow-by-default': true }] }],
        transports: [{
          type: 'universal',
          endpoint: { type: 'tcp', port, interface: '127.0.0.1' },
          rawsocket: { serializers: ['json'] },
          websocket: { ws: { serializers: ['json'] } },
          mqtt: { options: { realm: 'realm1' } },
          web: { paths: { '/': { type: 'dashboard', realm: 'realm1', websocket: 'ws' } } },
        }],
      }],
      bridges: { mqtt: [{ id: 'shed', realm: 'realm1', role: 'anonymous', url: mosquitto.url, to_mqtt: [{ uri: 'restart.', match: 'prefix' }], reconnect: { initial_delay: 200, max_delay: 1000 } }] },
      serial: [{ id: 'usb', realm: 'realm1', role: 'anonymous', prefix: 'devices', ports: [{ path: cable.gateway }], reopen_min: 100, reopen_max: 400 }],
    }));
    const startRouter = () => {
      const child = new Child(spawn(process.execPath, [CLI, 'start', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] }));
      children.push(child);
      return child;
    };
    const first = startRouter();
    await first.waitFor(/Junction ready/);

    const clientLog: string[] = [];
    const receipts = new Receipts();
    const ping = 'restart.ping';

    // Autobahn|JS, WebSocket and RawSocket, stock retry settings apart from retrying forever.
    for (const [name, transport] of [
      ['autobahn-js websocket', { type: 'websocket', url: `ws://127.0.0.1:${port}/ws` }],
      ['autobahn-js rawsocket', { type: 'rawsocket', host: '127.0.0.1', port }],
    ] as const) {
      const connection = new autobahn.Connection({ transports: [transport], realm: 'realm1', max_retries: -1 });
      connection.onopen = (session: any) => {
        clientLog.push(`${new Date().toISOString()} ${name}: joined`);
        void session.subscribe(ping, (args: unknown[]) => receipts.got(name, args[0]));
      };
      // What the client saw, for the failure message: a close it never noticed or a retry that failed.
      connection.onclose = (reason: string, details: { retry_delay?: number; will_retry?: boolean }) => {
        clientLog.push(`${new Date().toISOString()} ${name}: closed (${reason}), retry in ${details.retry_delay} s: ${details.will_retry}`);
      };
      connection.open();
      cleanups.push(() => closed(connection));
    }

    // Autobahn|Python: a Component that retries forever.
    const python = new Child(spawn(PYTHON, [PYTHON_PEER, String(port), ping], { stdio: ['ignore', 'pipe', 'pipe'] }));
    children.push(python);
    python.process.stdout!.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        if (line.startsWith('{"via"')) receipts.got('autobahn-python', JSON.parse(line).args[0]);
      }
    });

    // MQTT.js, both protocol versions, default reconnect settings.
    for (const protocolVersion of [4, 5] as const) {
      const name = `mqtt.js v${protocolVersion}`;
      const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion, clientId: `restart-mqttjs-${protocolVersion}` });
      client.on('connect', () => client.subscribe('restart/ping'));
      client.on('message', (_topic, payload) => receipts.got(name, Number(payload.toString())));
      client.on('error', () => {});
      cleanups.push(() => client.endAsync(true));
    }

    // mosquitto_sub, both protocol versions: one line per message.
    const mosquittoSub = (name: string, args: string[]) => {
      const sub = new Child(spawn(MOSQUITTO_SUB, [...args, '-t', 'restart/ping'], { stdio: ['ignore', 'pipe', 'pipe'] }));
      children.push(sub);
      sub.process.stdout!.on('data', (d: Buffer) => {
        for (const line of d.toString().split('\n')) if (line) receipts.got(name, Number(line));
      });
    };
    mosquittoSub('mosquitto_sub v3.1.1', ['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv311']);
    mosquittoSub('mosquitto_sub v5', ['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv5']);
    // The MQTT bridge's side: the external broker gets what is published on restart.* in the router.
    mosquittoSub('mqtt bridge → mosquitto', ['-h', '127.0.0.1', '-p', String(mosquitto.port)]);

    // The serial bridge's board: "receiving" is a call through the router reaching it.
    const board = new Board(cable.board, { id: 'board-1', procedures: { 'led.set': (n) => { receipts.got('serial board', n); return n; } } });
    await board.open();
    cleanups.push(() => board.close());

    // The dashboard page in Chromium: its status, and its own Autobahn|JS browser build with the
    // page's retry settings, subscribed to the pings.
    const browser: Browser = await openBrowser({ width: 1000, height: 700 });
    cleanups.push(() => browser.close());
    await browser.page.goto(`http://127.0.0.1:${port}/`);
    await browser.page.waitForSelector('#status.ok', { timeout: 15_000 });
    await browser.page.exposeFunction('pingReceived', (n: number) => receipts.got('dashboard page', n));
    await browser.page.evaluate(([url, topic]) => {
      const w = window as any;
      const connection = new w.autobahn.Connection({ url, realm: 'realm1', max_retries: -1, initial_retry_delay: 1, max_retry_delay: 10 });
      connection.onopen = (session: any) => session.subscribe(topic, (args: number[]) => w.pingReceived(args[0]));
      connection.open();
    }, [`ws://127.0.0.1:${port}/ws`, ping]);

    const clients = ['autobahn-js websocket', 'autobahn-js rawsocket', 'autobahn-python', 'mqtt.js v4', 'mqtt.js v5',
      'mosquitto_sub v3.1.1', 'mosquitto_sub v5', 'mqtt bridge → mosquitto', 'serial board', 'dashboard page'];

    /** Publishes pings (and calls the board) through the router until every client got one numbered `from` or later. */
    const pingUntilAllReceived = async (from: number, ms: number): Promise<void> => {
      const publisher = await new Promise<any>((resolve, reject) => {
        const c = new autobahn.Connection({ url: `ws://127.0.0.1:${port}/ws`, realm: 'realm1', max_retries: 0 });
        c.onopen = (s: any) => resolve(s);
        c.onclose = (reason: string) => { reject(new Error(`publisher: ${reason}`)); return true; };
        c.open();
        cleanups.push(() => closed(c));
      });
      const deadline = Date.now() + ms;
      for (let n = from; Date.now() < deadline; n++) {
        publisher.publish(ping, [n]);
        publisher.call('devices.led.set', [n]).catch(() => {}); // the board may not be back yet
        if (clients.every((c) => receipts.firstSince(c, from) !== undefined)) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    await pingUntilAllReceived(1, 20_000);
    expect(clients.filter((c) => receipts.firstSince(c, 1) === undefined)).toEqual([]);

    // systemctl restart: SIGTERM, wait for the exit, start again.
    first.process.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const second = startRouter();
    await second.waitFor(/listening: /);
    const listeningAt = Date.now();
    await second.waitFor(/Junction ready/);

    await pingUntilAllReceived(1000, BACK_WITHIN_MS + 3000);
    // The page's own session is back too (it re-subscribes to the meta events when it rejoins).
    await browser.page.waitForSelector('#status.ok', { timeout: 5000 });
    const backAfter = clients.map((c) => ({ client: c, ms: (receipts.firstSince(c, 1000) ?? Infinity) - listeningAt }));
    console.log(`back and receiving, ms after the new process listened: ${backAfter.map((r) => `${r.client} ${r.ms}`).join(', ')}`);
    const late = backAfter.filter((r) => !(r.ms <= BACK_WITHIN_MS));
    expect(late, `the first process said:\n${first.output}\nthe second:\n${second.output}\nthe Python peer:\n${python.output}\nthe Autobahn|JS clients:\n${clientLog.join('\n')}`).toEqual([]);
  }, 90_000);
});
