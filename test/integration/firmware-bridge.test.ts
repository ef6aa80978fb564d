// The whole edge path with the real firmware: two simulated Arduino Unos (the sketch built with
// Debian's gcc-avr, running in simavr with UART0 on a pty) attached by the serial bridge; an
// Autobahn|JS client receives a board's readings and calls led.set/led.get. The primary board is
// unplugged (its simulator killed) under a steady stream of calls and the standby answers every
// later call; plugged in again, it stands by.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, type JunctionNode } from '../../src/node.js';
import { DEFAULT_TRANSPORT_OPTIONS, type JunctionConfig } from '../../src/config/types.js';
import { allowAll, tick } from '../helpers/core.js';
import { Board, buildAll } from '../helpers/firmware.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

let dir: string;
let node: JunctionNode;
let built: ReturnType<typeof buildAll>;
const boards: Board[] = [];

function plug(elf: string, link: string): Board {
  const board = Board.start(built.harness, elf, link);
  boards.push(board);
  board.go(); // the bridge asks "who" until the board answers: nothing is lost to its open()
  return board;
}

async function unplug(board: Board): Promise<void> {
  board.proc.kill('SIGTERM');
  await board.exited;
}

beforeAll(async () => {
  built = buildAll();
  dir = mkdtempSync(join(tmpdir(), 'junction-fw-bridge-'));
  const config: JunctionConfig = {
    router: {
      realms: [{ name: 'realm1', roles: [allowAll()], store: { type: 'memory', limit: 100, callQueue: [{ uri: 'devices.', match: 'prefix', limit: 100, timeout: 30_000 }], eventHistory: [] } }],
      listeners: [{
        id: 'ws', kind: 'websocket', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' }, websocketAnyPath: true, static: {},
        websocket: { '/': { serializers: ['json'], options: { ...DEFAULT_TRANSPORT_OPTIONS } } },
      }],
    },
    serial: [{ id: 'usb', realm: 'realm1', role: 'trusted', prefix: 'devices', ports: [{ path: join(dir, 'uno-a'), baudRate: 115200 }, { path: join(dir, 'uno-b'), baudRate: 115200 }], callTimeout: 3000, reopenMin: 200, reopenMax: 1000 }],
  };
  node = await startNode(config);
}, 120_000);

afterAll(async () => {
  for (const b of boards) b.proc.kill('SIGKILL');
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('serial bridge with the real firmware in simavr', () => {
  it('readings reach Autobahn|JS, led.set/led.get drive pin 13; the standby takes over on unplug and the primary stands by once replugged', async () => {
    const address = node.listeners[0]!.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const session: any = await new Promise((resolve, reject) => {
      const c = new autobahn.Connection({ url: `ws://127.0.0.1:${port}/`, realm: 'realm1', max_retries: 0 });
      c.onopen = resolve;
      c.onclose = (reason: string) => { reject(new Error(reason)); return true; };
      c.open();
    });
    const callees = async () => {
      const id = await session.call('wamp.registration.lookup', ['devices.led.set']);
      return id === null ? 0 : (await session.call('wamp.registration.list_callees', [id])).length;
    };
    const waitCallees = async (n: number) => {
      for (let i = 0; i < 200 && (await callees()) !== n; i++) await tick(50);
      expect(await callees()).toBe(n);
    };

    const primary = plug(built.elf, join(dir, 'uno-a'));
    await waitCallees(1); // uno-1 registered first: it is the primary
    plug(built.elf2, join(dir, 'uno-b'));
    await waitCallees(2);

    const readings: unknown[] = [];
    await session.subscribe('devices.uno-1.a0', (args: unknown[]) => readings.push(args[0]));
    for (let i = 0; i < 100 && readings.length < 2; i++) await tick(50);
    expect(readings.length).toBeGreaterThanOrEqual(2);
    expect(readings.every((v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 1023)).toBe(true);

    expect(await session.call('devices.led.set', [1])).toBe(1);
    await primary.line((l) => l === 'LED 1'); // the pin itself, as the simulator saw it
    expect(await session.call('devices.led.get')).toBe(1);

    // A steady stream of led.get: the primary's LED is on, the standby's off.
    const answers: unknown[] = [];
    const failures: string[] = [];
    let unpluggedAt = -1;
    let streaming = true;
    const stream = (async () => {
      while (streaming) {
        try {
          answers.push(await session.call('devices.led.get'));
        } catch (e: any) {
          failures.push(e.error);
        }
      }
    })();
    for (let i = 0; i < 200 && answers.length < 10; i++) await tick(20);
    unpluggedAt = answers.length;
    await unplug(primary);
    for (let i = 0; i < 400 && answers.length < unpluggedAt + 15; i++) await tick(25);
    streaming = false;
    await stream;
    expect(answers.slice(0, unpluggedAt).every((a) => a === 1)).toBe(true);
    // Every call after the unplug was answered, by the standby (its LED is off) — except at most
    // the one in flight when the board vanished, which got an error rather than silence.
    const after = answers.slice(unpluggedAt);
    expect(after.length).toBeGreaterThanOrEqual(15);
    expect(after.slice(1).every((a) => a === 0)).toBe(true);
    expect(failures.length).toBeLessThanOrEqual(1);
    await waitCallees(1);

    // The standby now serves: turn its LED on, then plug the old primary back in.
    expect(await session.call('devices.led.set', [1])).toBe(1);
    const replugged = plug(built.elf, join(dir, 'uno-a'));
    await waitCallees(2);
    for (let i = 0; i < 5; i++) expect(await session.call('devices.led.get')).toBe(1); // uno-2 answers (uno-1 rebooted with its LED off)
    expect(replugged.out).not.toContain('LED 1'); // no led.set reached the replugged board (it only set the pin low at boot)
    session.connection?.close?.();
  }, 90_000);
});
