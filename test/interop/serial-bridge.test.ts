// The serial bridge on real ptys (socat pairs) with scripted boards: readings as retained events,
// device procedures called by Autobahn|JS, hot standby under a stream of calls, unplug detected by
// hang-up and by heartbeat watchdog, replug with backoff, concurrency with the call queue.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, type JunctionNode } from '../../src/node.js';
import type { JunctionConfig, SerialBridgeConfig } from '../../src/config/types.js';
import { DEFAULT_TRANSPORT_OPTIONS } from '../../src/config/types.js';
import { ClientSession } from '../../src/client/client-session.js';
import { allowAll, tick } from '../helpers/core.js';
import { Board, Cable } from '../helpers/serial.js';
import { until } from '../helpers/until.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

let dir: string;
let node: JunctionNode | undefined;
const cables: Cable[] = [];
const boards: Board[] = [];

async function cable(name: string): Promise<Cable> {
  const c = new Cable(join(dir, `${name}-gw`), join(dir, `${name}-board`));
  await c.plug();
  cables.push(c);
  return c;
}

async function board(path: string, options: ConstructorParameters<typeof Board>[1]): Promise<Board> {
  const b = new Board(path, options);
  await b.open();
  boards.push(b);
  return b;
}

async function start(serial: Partial<SerialBridgeConfig>, queue = false): Promise<{ node: JunctionNode; port: number; wamp: ClientSession }> {
  const config: JunctionConfig = {
    router: {
      realms: [{ name: 'realm1', roles: [allowAll()], store: { type: 'memory', limit: 100, callQueue: queue ? [{ uri: 'devices.', match: 'prefix', limit: 100, timeout: 30_000 }] : [], eventHistory: [] } }],
      listeners: [{
        id: 'ws', kind: 'websocket', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' }, websocketAnyPath: true, static: {},
        websocket: { '/': { serializers: ['json'], options: { ...DEFAULT_TRANSPORT_OPTIONS } } },
      }],
    },
    serial: [{ id: 'usb', realm: 'realm1', role: 'trusted', prefix: 'devices', ports: [], callTimeout: 3000, reopenMin: 100, reopenMax: 400, ...serial }],
  };
  node = await startNode(config);
  const address = node.listeners[0]!.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const wamp = await ClientSession.connect(node.router, { realm: 'realm1', name: 'observer' });
  return { node, port, wamp };
}

async function autobahnSession(port: number): Promise<any> {
  return new Promise((resolve, reject) => {
    const c = new autobahn.Connection({ url: `ws://127.0.0.1:${port}/`, realm: 'realm1', max_retries: 0 });
    c.onopen = (s: any) => resolve(s);
    c.onclose = (reason: string) => { reject(new Error(reason)); return true; };
    c.open();
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'junction-serial-'));
});
afterEach(async () => {
  for (const b of boards.splice(0)) b.close();
  await node?.stop();
  node = undefined;
  for (const c of cables.splice(0)) await c.unplug();
  rmSync(dir, { recursive: true, force: true });
});

describe('serial bridge', () => {
  it('a board joins as its own session: readings are retained events, its procedures are callable from Autobahn|JS, errors keep their meaning', async () => {
    const c = await cable('a');
    const { port, wamp } = await start({ ports: [{ path: c.gateway, baudRate: 115200 }] });
    let led = 0;
    const b = await board(c.board, {
      id: 'uno-1', publishes: ['a0'],
      procedures: { 'led.set': (a) => (led = Number(a)), 'led.get': () => led, 'fail': () => { throw new Error('bad_argument'); }, 'broken': () => { throw new Error('overheated'); } },
    });
    await tick(0);
    const status = async () => (await wamp.call('junction.serial.usb.devices')).args[0] as Array<Record<string, any>>;
    await tick(300);
    for (let i = 0; i < 50 && (await status())[0]?.['state'] !== 'ready'; i++) await tick(50);
    expect((await status())[0]).toMatchObject({ path: c.gateway, state: 'ready', device: { id: 'uno-1', procedures: ['led.set', 'led.get', 'fail', 'broken'], publishes: ['a0'] } });

    b.publish('a0', 512);
    const session = await autobahnSession(port);
    const readings: unknown[] = [];
    await tick(100);
    await session.subscribe('devices.uno-1.a0', (args: unknown[], _kw: unknown, details: any) => readings.push([args[0], details.retained === true]), { get_retained: true });
    await until(() => readings.length >= 1);
    expect(readings[0]).toEqual([512, true]); // the latest reading, at once, for a late dashboard

    expect((await session.call('devices.led.set', [1]))).toBe(1);
    expect((await session.call('devices.led.get'))).toBe(1);
    const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: any) => e.error);
    expect(await errorOf(session.call('devices.fail'))).toBe('wamp.error.invalid_argument');
    expect(await errorOf(session.call('devices.broken'))).toBe('devices.error.overheated');
    expect(await errorOf(session.call('devices.led.set', [{ not: 'scalar' }]))).toBe('wamp.error.invalid_argument');
    expect(b.calls.map((x) => x.p)).toEqual(['led.set', 'led.get', 'fail', 'broken']);
    session.connection?.close?.();
  });

  it('hot standby: the primary is unplugged under a steady stream of calls, the standby answers every later call; replugged, it becomes the standby', async () => {
    const [ca, cb] = [await cable('primary'), await cable('standby')];
    const { wamp } = await start({ ports: [{ path: ca.gateway, baudRate: 115200 }, { path: cb.gateway, baudRate: 115200 }] });
    const primary = await board(ca.board, { id: 'primary', procedures: { 'pump.run': () => 'primary' } });
    await tick(500); // the primary registers first
    const standby = await board(cb.board, { id: 'standby', procedures: { 'pump.run': () => 'standby' } });
    const registered = async () => {
      const ids = (await wamp.call('wamp.registration.lookup', ['devices.pump.run'])).args[0];
      return ids === null ? [] : (await wamp.call('wamp.registration.list_callees', [ids])).args[0] as number[];
    };
    for (let i = 0; i < 100 && (await registered()).length < 2; i++) await tick(20);
    expect(await registered()).toHaveLength(2);

    const answers: string[] = [];
    const errors: string[] = [];
    let unpluggedAt = -1;
    let running = true;
    const stream = (async () => {
      while (running) {
        try {
          answers.push((await wamp.call('devices.pump.run')).args[0] as string);
        } catch (e) {
          errors.push(`${answers.length}:${(e as { uri?: string }).uri}`);
        }
        await tick(5);
      }
    })();
    await until(() => answers.length >= 20);
    expect(new Set(answers)).toEqual(new Set(['primary']));
    await tick(20); // a quiet moment: a hang-up in the middle of a read is not always reported (see port-link.ts)
    primary.close();
    await ca.unplug();
    unpluggedAt = answers.length;
    await until(() => answers.length >= unpluggedAt + 30);
    running = false;
    await stream;
    // After the unplug, every call is answered, by the standby; at most the calls in flight at the
    // moment of the unplug failed, and with wamp.error.canceled.
    expect(answers.slice(unpluggedAt + errors.length + 1).every((a) => a === 'standby')).toBe(true);
    expect(errors.length).toBeLessThanOrEqual(1);
    for (const e of errors) expect(e).toMatch(/wamp.error.canceled|wamp.error.no_such_procedure/);

    // Replug: the board comes back (new pty, same link) and stands by.
    await ca.plug();
    const back = await board(ca.board, { id: 'primary', procedures: { 'pump.run': () => 'primary' } });
    for (let i = 0; i < 150 && (await registered()).length < 2; i++) await tick(20);
    expect(await registered()).toHaveLength(2);
    const after: unknown[] = [];
    for (let i = 0; i < 5; i++) after.push((await wamp.call('devices.pump.run')).args[0]);
    expect(after).toEqual(['standby', 'standby', 'standby', 'standby', 'standby']);
    expect(back.calls).toHaveLength(0);
    expect(standby.calls.length).toBeGreaterThanOrEqual(35);
  }, 30_000);

  it('a board that goes silent without a hang-up is dropped after three missed heartbeats; its callers get an error at once', async () => {
    const c = await cable('quiet');
    const { wamp } = await start({ ports: [{ path: c.gateway, baudRate: 115200 }] });
    const b = await board(c.board, { id: 'hang', heartbeatMs: 200, procedures: { 'slow': () => new Promise(() => {}) } });
    await tick(400);
    for (let i = 0; i < 50; i++) {
      const s = (await wamp.call('junction.serial.usb.devices')).args[0] as Array<Record<string, unknown>>;
      if (s[0]?.['state'] === 'ready') break;
      await tick(50);
    }
    const pending = wamp.call('devices.slow').then(() => 'answered', (e: { uri?: string }) => e.uri);
    await tick(100);
    b.silent = true; // the board hangs: no heartbeats, no answers, but the port stays open
    const started = Date.now();
    expect(await pending).toBe('wamp.error.canceled');
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(350); // 3 × 200 ms after the last heartbeat (sent up to 200 ms before it fell silent), not before
    expect(took).toBeLessThan(3000);
  });

  it('issue 20 #10: a port whose new board is ready no longer shows the previous board\'s error', async () => {
    const c = await cable('swap');
    const { wamp } = await start({ ports: [{ path: c.gateway, baudRate: 115200 }] });
    const changes: Array<Record<string, unknown>> = [];
    await wamp.subscribe('junction.serial.usb.on_change', (args) => changes.push(args[0] as Record<string, unknown>));
    const status = async () => ((await wamp.call('junction.serial.usb.devices')).args[0] as Array<Record<string, unknown>>)[0] ?? {};
    const old = await board(c.board, { id: 'old', heartbeatMs: 200 });
    await until(() => changes.some((s) => s['state'] === 'ready'));
    old.silent = true; // it hangs: dropped after three missed heartbeats, with that as the error
    await until(() => changes.some((s) => s['state'] === 'closed'));
    expect(String((await status())['lastError'])).toMatch(/no heartbeat/);
    old.close();
    changes.length = 0;
    await board(c.board, { id: 'new', heartbeatMs: 200 }); // another board on the same port
    await until(() => changes.some((s) => s['state'] === 'ready'));
    const ready = changes.find((s) => s['state'] === 'ready')!;
    expect(ready).toMatchObject({ state: 'ready', device: { id: 'new' } });
    expect(ready['lastError']).toBeUndefined();
    expect(await status()).not.toHaveProperty('lastError');
  });

  it('concurrency: a board announcing conc 1 never gets a second call while one runs; extra calls wait in the queue', async () => {
    const c = await cable('conc');
    const { wamp } = await start({ ports: [{ path: c.gateway, baudRate: 115200 }] }, true);
    const b = await board(c.board, { id: 'mcu', concurrency: 1, procedures: { 'work': async (a) => { await tick(30); return a; } } });
    await tick(500);
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => wamp.call('devices.work', [n])));
    expect(results.map((r) => r.args[0])).toEqual([1, 2, 3, 4, 5]);
    expect(b.maxRunning).toBe(1);
  });

  it('ports matching a glob are picked up when they appear', async () => {
    const { wamp } = await start({ ports: [{ path: join(dir, 'usb-*-gw'), baudRate: 115200 }] });
    const c = await cable('usb-late');
    await board(c.board, { id: 'late', procedures: { 'ping': () => 'pong' } });
    let answer: unknown;
    for (let i = 0; i < 100 && answer === undefined; i++) {
      answer = await wamp.call('devices.ping').then((r) => r.args[0], () => undefined);
      if (answer === undefined) await tick(50);
    }
    expect(answer).toBe('pong');
  });
});
