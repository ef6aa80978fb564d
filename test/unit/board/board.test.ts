// Board telemetry (sane values, retained so a late subscriber gets the latest at once, the info
// procedure, the sampling cost) and schedules (firing on time under a fake clock, each run logged;
// failing and slow jobs reported and counted, the node keeps running).
import { describe, it, expect, vi, afterEach } from 'vitest';
import { cpus } from 'node:os';
import type { JunctionConfig, RealmConfig, ScheduleConfig, TelemetryConfig } from '../../../src/config/types.js';
import { JunctionNode } from '../../../src/node.js';
import { ClientSession, WampError } from '../../../src/client/client-session.js';
import { HISTORY_SAMPLES, type BoardSample } from '../../../src/board/telemetry.js';
import { dashboardRole } from '../../../src/config/load.js';
import { log } from '../../../src/log.js';
import { allowAll } from '../../helpers/core.js';

const realm = (): RealmConfig => ({
  name: 'realm1',
  roles: [allowAll(), dashboardRole(), { name: 'viewer', permissions: [{ uri: 'test.', match: 'prefix', cache: true, allow: { call: false, register: false, publish: false, subscribe: true }, disclose: { caller: false, publisher: false } }] }],
  store: { type: 'memory', limit: 100, callQueue: [], eventHistory: [] },
});

const TELEMETRY: TelemetryConfig = { realm: 'realm1', role: 'trusted', authid: 'junction-telemetry', board: 'testboard', cron: '*/5 * * * * *' };

let node: JunctionNode | undefined;
afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await node?.stop();
  node = undefined;
});

async function start(extra: Partial<JunctionConfig>): Promise<JunctionNode> {
  node = new JunctionNode({ router: { realms: [realm()], listeners: [] }, ...extra });
  await node.start();
  return node;
}

function client(n: JunctionNode, role = 'anonymous'): Promise<ClientSession> {
  return ClientSession.connect(n.router, { realm: 'realm1', role, authid: `test-${role}` });
}

/** CPU time (ms) of this process's finished child processes, from /proc/self/stat (cutime + cstime). */
function expectSane(s: BoardSample): void {
  expect(s.load).toBeGreaterThanOrEqual(0);
  expect(s.load).toBeLessThanOrEqual(100);
  expect(s.cores).toHaveLength(cpus().length);
  for (const c of s.cores) {
    expect(c).toBeGreaterThanOrEqual(0);
    expect(c).toBeLessThanOrEqual(100);
  }
  expect(s.memory.total).toBeGreaterThan(0);
  expect(s.memory.used).toBeGreaterThan(0);
  expect(s.memory.used).toBeLessThanOrEqual(s.memory.total);
  expect(s.memory.used + s.memory.available).toBe(s.memory.total);
  expect(s.uptime).toBeGreaterThan(0);
  if (s.temperature !== null) {
    expect(s.temperature).toBeGreaterThan(-40);
    expect(s.temperature).toBeLessThan(150);
  }
  expect(Number.isNaN(Date.parse(s.timestamp))).toBe(false);
}

describe('board telemetry', () => {
  it('publishes sane values, retained: a late subscriber gets the latest sample at once', async () => {
    const n = await start({ telemetry: TELEMETRY });
    const telemetry = n.board!.telemetry!;
    expect(telemetry.topic).toBe('junction.board.testboard.load');
    expect(telemetry.stats().published).toBe(1); // the first sample goes out at start

    const viewer = await client(n);
    const got: Array<{ kwargs: Record<string, unknown>; details: Record<string, unknown> }> = [];
    await viewer.subscribe('junction.board.testboard.load', (_a, kwargs, details) => got.push({ kwargs, details }), { get_retained: true });
    await vi.waitFor(() => expect(got).toHaveLength(1), { timeout: 1000 });
    expect(got[0]!.details['retained']).toBe(true);
    const sample = got[0]!.kwargs as unknown as BoardSample;
    expectSane(sample);
    expect(Object.keys(sample).sort()).toEqual(['cores', 'load', 'memory', 'temperature', 'timestamp', 'uptime']);
    expect(sample).toEqual(telemetry.last);
    await viewer.close();
  });

  it('answers the info procedure with the board, its load and memory', async () => {
    const n = await start({ telemetry: TELEMETRY });
    const caller = await client(n);
    const { kwargs } = await caller.call('junction.board.testboard.info');
    expect(kwargs['board']).toBe('testboard');
    expect(typeof kwargs['hostname']).toBe('string');
    expect(kwargs['os']).toMatchObject({ platform: 'linux' });
    expect((kwargs['cpu'] as { cores: number }).cores).toBe(cpus().length);
    expect(kwargs).toHaveProperty('model');
    expect(kwargs['topic']).toBe('junction.board.testboard.load');
    expectSane(kwargs as unknown as BoardSample);
    await caller.close();
  });

  it('issue 20 #10: serves the recently published samples (oldest first, the last 120) for a chart that opens now', async () => {
    const n = await start({ telemetry: TELEMETRY });
    const telemetry = n.board!.telemetry!;
    const published: BoardSample[] = [];
    const watcher = await client(n);
    await watcher.subscribe(telemetry.topic, (_a, kwargs) => published.push(kwargs as unknown as BoardSample));
    for (let i = 0; i < HISTORY_SAMPLES + 4; i++) await telemetry.tick();
    await vi.waitFor(() => expect(published).toHaveLength(HISTORY_SAMPLES + 4), { timeout: 5000 });
    // A viewer that opens now, with the dashboard's own role.
    const viewer = await client(n, 'dashboard');
    const { kwargs } = await viewer.call('junction.board.testboard.history');
    const samples = kwargs['samples'] as BoardSample[];
    expect(samples).toHaveLength(HISTORY_SAMPLES);
    expect(samples).toEqual(published.slice(-HISTORY_SAMPLES));
    expect(samples.at(-1)).toEqual(telemetry.last);
    await watcher.close();
    await viewer.close();
  });

  it('samples and publishes on its schedule (fake clock: every 5 s)', async () => {
    fakeClock();
    const n = await start({ telemetry: TELEMETRY });
    const telemetry = n.board!.telemetry!;
    expect(telemetry.stats().published).toBe(1); // at start, 00:00:00.500
    const sub = await client(n);
    const at: string[] = [];
    await sub.subscribe(telemetry.topic, (_a, kwargs) => {
      expectSane(kwargs as unknown as BoardSample);
      at.push((kwargs as unknown as BoardSample).timestamp);
    });
    for (let i = 1; i <= 3; i++) {
      // To exactly 00:00:05, :10, :15 (the fake clock stands still while the sample's I/O finishes).
      await vi.advanceTimersByTimeAsync(i === 1 ? 4500 : 5000);
      // Sampling reads /proc (real I/O): let it finish without moving the fake clock.
      await until(() => telemetry.stats().published === 1 + i);
    }
    expect(at).toEqual(['2030-01-01T00:00:05.000Z', '2030-01-01T00:00:10.000Z', '2030-01-01T00:00:15.000Z']);
    expect(telemetry.stats()).toMatchObject({ samples: 4, published: 4, failures: 0, skipped: 0 });
    await sub.close();
  });

  it('a role that may not register its info procedure: telemetry is not started, reported, the node keeps running', async () => {
    const error = vi.spyOn(log, 'error');
    const n = await start({ telemetry: { ...TELEMETRY, role: 'viewer' } });
    // The registration of the info procedure is refused too: telemetry does not start, the node does.
    expect(n.board!.telemetry).toBeUndefined();
    const c = await client(n);
    expect((await c.call('wamp.session.count')).args[0]).toBeGreaterThanOrEqual(1);
    await c.close();
    expect(error).toHaveBeenCalledWith(expect.stringMatching(/^telemetry: not started: wamp\.error\.not_authorized/));
  });
});

function publishJob(name: string, cron: string, topic: string, args: unknown[] = []): ScheduleConfig {
  return { name, cron, realm: 'realm1', role: 'trusted', action: { type: 'publish', topic, args, kwargs: {}, options: {} } };
}

function callJob(name: string, cron: string, procedure: string, extra: Partial<ScheduleConfig> = {}): ScheduleConfig {
  return { name, cron, realm: 'realm1', role: 'trusted', action: { type: 'call', procedure, args: [], kwargs: {}, timeout: 60_000 }, ...extra };
}

const T0 = new Date('2030-01-01T00:00:00.500Z').getTime();

/** Lets real I/O complete (setImmediate is not faked) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
}

function fakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: T0 });
}

describe('schedules', () => {
  it('a job every 2 seconds fires at the right simulated times, each run logged', async () => {
    const info = vi.spyOn(log, 'info');
    fakeClock();
    const n = await start({ schedules: [publishJob('tick', '*/2 * * * * *', 'test.tick', ['hello'])] });
    const sub = await client(n);
    const fired: number[] = [];
    await sub.subscribe('test.tick', (args) => {
      expect(args).toEqual(['hello']);
      fired.push(Date.now() - T0 + 500); // ms since 00:00:00.000
    });
    await vi.advanceTimersByTimeAsync(1000); // 00:00:01.500: nothing yet
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(9000); // to 00:00:10.500
    expect(fired).toEqual([2000, 4000, 6000, 8000, 10000]);
    const runs = info.mock.calls.filter(([m]) => m === "schedule 'tick': published to test.tick");
    expect(runs).toHaveLength(5);
    expect(n.board!.schedules!.stats()).toEqual([{ name: 'tick', runs: 5, failures: 0, skipped: 0, lastRun: '2030-01-01T00:00:10.000Z' }]);
    await sub.close();
  });

  it('calls a procedure on time and logs its result', async () => {
    const info = vi.spyOn(log, 'info');
    fakeClock();
    const n = await start({ schedules: [callJob('backup', '0 * * * * *', 'svc.backup')] });
    const callee = await client(n);
    const calls: number[] = [];
    await callee.register('svc.backup', () => {
      calls.push(Date.now());
      return 'done';
    });
    await vi.advanceTimersByTimeAsync(125_000); // to 00:02:05.500
    expect(calls.map((t) => new Date(t).toISOString())).toEqual(['2030-01-01T00:01:00.000Z', '2030-01-01T00:02:00.000Z']);
    expect(info.mock.calls.filter(([m]) => /^schedule 'backup': called svc\.backup \(\d+ ms\): \["done"\]$/.test(m))).toHaveLength(2);
    await callee.close();
  });

  it('failing jobs (no such procedure, an error, not authorized) are logged and counted; the node keeps running', async () => {
    const warn = vi.spyOn(log, 'warn');
    fakeClock();
    const n = await start({
      schedules: [
        callJob('missing', '* * * * * *', 'svc.missing'),
        callJob('broken', '* * * * * *', 'svc.broken'),
        { ...publishJob('refused', '* * * * * *', 'secret.topic'), role: 'viewer' },
        publishJob('fine', '* * * * * *', 'test.fine'),
      ],
    });
    const c = await client(n);
    await c.register('svc.broken', () => {
      throw new WampError('app.error.disk_full', ['no space left']);
    });
    await vi.advanceTimersByTimeAsync(3000);
    const stats = Object.fromEntries(n.board!.schedules!.stats().map((s) => [s.name, s]));
    expect(stats['missing']).toMatchObject({ runs: 3, failures: 3, lastError: expect.stringMatching(/wamp\.error\.no_such_procedure/) });
    expect(stats['broken']).toMatchObject({ runs: 3, failures: 3, lastError: 'app.error.disk_full: no space left' });
    expect(stats['refused']).toMatchObject({ runs: 3, failures: 3, lastError: expect.stringMatching(/wamp\.error\.not_authorized/) });
    expect(stats['fine']).toMatchObject({ runs: 3, failures: 0 });
    expect(warn.mock.calls.some(([m]) => /^schedule 'missing': call svc\.missing failed \(3 failure\(s\) so far\): wamp\.error\.no_such_procedure/.test(m))).toBe(true);
    expect(warn.mock.calls.some(([m]) => /^schedule 'refused': publish to secret\.topic failed/.test(m))).toBe(true);
    // The router still routes.
    expect((await c.call('wamp.session.count')).args[0]).toBeGreaterThanOrEqual(2);
    await c.close();
  });

  it('skips (and logs) a run that comes due while the previous one is still going', async () => {
    const warn = vi.spyOn(log, 'warn');
    fakeClock();
    const n = await start({ schedules: [callJob('slow', '* * * * * *', 'svc.slow')] });
    const callee = await client(n);
    let started = 0;
    await callee.register('svc.slow', async () => {
      started++;
      await new Promise((r) => setTimeout(r, 2500)); // longer than the 1 s period
      return 'ok';
    });
    await vi.advanceTimersByTimeAsync(6000); // 00:00:06.500: runs at 1 (→3.5), 4 (→6.5); 2, 3, 5, 6 skipped
    expect(started).toBe(2);
    expect(n.board!.schedules!.stats()[0]).toMatchObject({ runs: 2, failures: 0, skipped: 4 });
    expect(warn.mock.calls.filter(([m]) => m === "schedule 'slow': run skipped, the previous run is still going")).toHaveLength(4);
    await callee.close();
  });

  it('a job whose call times out is a failure, and the next run goes ahead', async () => {
    fakeClock();
    const n = await start({ schedules: [callJob('hang', '*/10 * * * * *', 'svc.hang', { action: { type: 'call', procedure: 'svc.hang', args: [], kwargs: {}, timeout: 3000 } })] });
    const callee = await client(n);
    await callee.register('svc.hang', () => new Promise(() => undefined), { });
    await vi.advanceTimersByTimeAsync(25_000); // runs at 10 s and 20 s, each cancelled after 3 s
    expect(n.board!.schedules!.stats()[0]).toMatchObject({ runs: 2, failures: 2, skipped: 0, lastError: expect.stringMatching(/timeout|canceled/) });
    await callee.close();
  });
});
