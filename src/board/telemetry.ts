// Board telemetry: the gateway reports its own health. On a node-cron schedule (every 5 s by
// default) it samples CPU load (total and per core), the CPU temperature where the board has a
// sensor, memory and uptime, and publishes them with `retain: true` so a dashboard that subscribes
// later gets the latest sample at once:
//
//   topic     junction.board.<board>.load   (board: the hostname as one URI component)
//   kwargs    { load, cores: [..], temperature, memory: { used, total, available }, uptime, timestamp }
//             load and cores[i]: % busy since the previous sample, 0–100; temperature: °C or null;
//             memory: bytes (used = total − available); uptime: seconds since boot; timestamp: ISO 8601
//
//   procedure junction.board.<board>.info → kwargs { board, hostname, model, manufacturer, os: {..},
//             cpu: {..}, memory, uptime, load, cores, temperature, node, junction_uptime }
//   procedure junction.board.<board>.history → kwargs { samples: [sample, ..] } (oldest first): the
//             last HISTORY_SAMPLES published samples, so a chart opened now starts with the recent past
//
// It joins its realm as an ordinary in-process session (authid 'junction-telemetry', role from the
// config, default 'trusted'), so its publishes and registration are authorized like any client's.
//
// Cost: systeminformation's load and memory read /proc (well under a millisecond). Its
// cpuTemperature() spawns shells on Linux (and blocks the event loop on one of them), so it is not
// called per sample: a CPU thermal zone in /sys/class/thermal is read directly when there is one;
// otherwise cpuTemperature() is asked once at start, and only if it found a sensor it is asked again
// per sample. Without a sensor the temperature is null and costs nothing. Uptime is os.uptime()
// (si.time() spawns a process too).

import { readFile, readdir } from 'node:fs/promises';
import { hostname, uptime as osUptime } from 'node:os';
import si from 'systeminformation';
import { createTask, type ScheduledTask } from 'node-cron';
import type { TelemetryConfig } from '../config/types.js';
import type { SessionFactory } from '../core-boundary.js';
import { Result, type ClientSession } from '../client/client-session.js';
import { ComponentSession, cronLogger } from './component-session.js';
import { log } from '../log.js';

export interface BoardSample {
  /** % of all cores busy since the previous sample, 0–100. */
  load: number;
  /** The same per core, in core order. */
  cores: number[];
  /** °C, or null when the board has no sensor Junction can read. */
  temperature: number | null;
  /** Bytes; used = total − available (page cache counts as available). */
  memory: { used: number; total: number; available: number };
  /** Seconds since the board booted. */
  uptime: number;
  timestamp: string;
}

export interface TelemetryStats {
  samples: number;
  /** CPU time of this process spent in sample() (user + system), microseconds, summed. */
  sampleCpuMicros: number;
  published: number;
  failures: number;
  /** Scheduled runs skipped because the previous one had not finished. */
  skipped: number;
}

type TemperatureSource = { kind: 'file'; path: string } | { kind: 'si' } | { kind: 'none' };

const round1 = (x: number): number => Math.round(x * 10) / 10;
const clampPct = (x: number): number => (Number.isFinite(x) ? Math.min(100, Math.max(0, round1(x))) : 0);

/** Samples kept for the history procedure: 10 minutes at the default 5 s (the dashboard's chart). */
export const HISTORY_SAMPLES = 120;

export function telemetryUris(board: string): { topic: string; procedure: string; history: string } {
  return { topic: `junction.board.${board}.load`, procedure: `junction.board.${board}.info`, history: `junction.board.${board}.history` };
}

export class Telemetry {
  readonly topic: string;
  readonly procedure: string;
  readonly historyProcedure: string;
  private readonly session: ComponentSession;
  private task: ScheduledTask | undefined;
  private temperatureSource: Promise<TemperatureSource> | undefined;
  private staticInfo: Promise<Record<string, unknown>> | undefined;
  private running = false;
  private failing = false;
  private readonly counters: TelemetryStats = { samples: 0, sampleCpuMicros: 0, published: 0, failures: 0, skipped: 0 };
  /** The latest published sample. */
  last: BoardSample | undefined;
  /** The last HISTORY_SAMPLES published samples, oldest first. */
  private readonly recent: BoardSample[] = [];

  constructor(readonly config: TelemetryConfig, factory: SessionFactory) {
    ({ topic: this.topic, procedure: this.procedure, history: this.historyProcedure } = telemetryUris(config.board));
    this.session = new ComponentSession(factory, { realm: config.realm, role: config.role, authid: config.authid, name: 'telemetry', privileged: true },
      async (s) => {
        await s.register(this.procedure, async () => new Result([], await this.info()));
        await s.register(this.historyProcedure, () => new Result([], { samples: this.history() }));
      });
  }

  /** The recently published samples, oldest first (a copy). */
  history(): BoardSample[] {
    return this.recent.slice();
  }

  stats(): TelemetryStats {
    return { ...this.counters };
  }

  /** Joins, registers the info procedure, publishes a first sample at once, then on the schedule. */
  async start(): Promise<void> {
    await this.session.get();
    await this.tick();
    this.task = createTask(this.config.cron, () => this.tick(), { name: 'telemetry', logger: cronLogger('telemetry') });
    await this.task.start();
    log.info(`telemetry: publishing to ${this.topic} (retained) on '${this.config.cron}' in realm '${this.config.realm}'; info at ${this.procedure}, recent samples at ${this.historyProcedure}`);
  }

  async stop(): Promise<void> {
    await this.task?.destroy();
    this.task = undefined;
    await this.session.close();
  }

  /** One scheduled run: sample and publish; failures are logged and counted, never thrown. */
  async tick(): Promise<void> {
    if (this.running) {
      this.counters.skipped++;
      log.debug('telemetry: previous sample still running, this one skipped');
      return;
    }
    this.running = true;
    try {
      const sample = await this.sample();
      const session = await this.session.get();
      await session.publish(this.topic, [], sample as unknown as Record<string, unknown>, { retain: true, acknowledge: true });
      this.last = sample;
      this.recent.push(sample);
      if (this.recent.length > HISTORY_SAMPLES) this.recent.shift();
      this.counters.published++;
      if (this.failing) log.info(`telemetry: publishing to ${this.topic} again`);
      this.failing = false;
    } catch (err) {
      this.counters.failures++;
      // The first failure of a run of failures is a warning; repeats would flood the log every 5 s.
      (this.failing ? log.debug : log.warn)(`telemetry: sample not published to ${this.topic}: ${(err as Error)?.message ?? err}`);
      this.failing = true;
    } finally {
      this.running = false;
    }
  }

  /** Takes one sample; its CPU cost is added to stats().sampleCpuMicros. */
  async sample(): Promise<BoardSample> {
    const before = process.cpuUsage();
    try {
      const source = await (this.temperatureSource ??= findTemperatureSource());
      const [load, mem, temperature] = await Promise.all([si.currentLoad(), si.mem(), readTemperature(source)]);
      return {
        load: clampPct(load.currentLoad),
        cores: load.cpus.map((c) => clampPct(c.load)),
        temperature,
        memory: { used: mem.total - mem.available, total: mem.total, available: mem.available },
        uptime: Math.round(osUptime()),
        timestamp: new Date().toISOString(),
      };
    } finally {
      const spent = process.cpuUsage(before);
      this.counters.samples++;
      this.counters.sampleCpuMicros += spent.user + spent.system;
    }
  }

  /** The board's description and a fresh sample (the `.info` procedure). */
  async info(): Promise<Record<string, unknown>> {
    const [fixed, sample] = await Promise.all([this.staticInfo ??= staticInfo(this.config.board), this.sample()]);
    return {
      ...fixed,
      load: sample.load,
      cores: sample.cores,
      temperature: sample.temperature,
      memory: sample.memory,
      uptime: sample.uptime,
      junction_uptime: Math.round(process.uptime()),
      topic: this.topic,
      schedule: this.config.cron,
      timestamp: sample.timestamp,
    };
  }

  /** For tests: the session publishing the samples. */
  componentSession(): Promise<ClientSession> {
    return this.session.get();
  }
}

/** What does not change while the board runs; asked once (systeminformation spawns processes for it). */
async function staticInfo(board: string): Promise<Record<string, unknown>> {
  const [system, os, cpu] = await Promise.all([si.system(), si.osInfo(), si.cpu()]);
  return {
    board,
    hostname: hostname(),
    model: system.model || system.raspberry?.type || null,
    manufacturer: system.manufacturer || null,
    raspberry: system.raspberry ?? null,
    os: { platform: os.platform, distro: os.distro, release: os.release, kernel: os.kernel, arch: os.arch },
    cpu: { manufacturer: cpu.manufacturer, brand: cpu.brand, cores: cpu.cores, physical_cores: cpu.physicalCores, speed_ghz: cpu.speed },
    node: process.version,
  };
}

async function findTemperatureSource(): Promise<TemperatureSource> {
  // A CPU thermal zone (Raspberry Pi: "cpu-thermal"; x86: "x86_pkg_temp"; many SoCs: "soc-thermal").
  try {
    const base = '/sys/class/thermal';
    const zones = (await readdir(base)).filter((z) => z.startsWith('thermal_zone')).sort();
    for (const zone of zones) {
      const type = (await readFile(`${base}/${zone}/type`, 'utf8').catch(() => '')).trim().toLowerCase();
      if (/cpu|x86_pkg_temp|soc/.test(type)) {
        const path = `${base}/${zone}/temp`;
        if (Number.isFinite(parseInt(await readFile(path, 'utf8'), 10))) return { kind: 'file', path };
      }
    }
  } catch {
    /* no sysfs thermal zones */
  }
  try {
    const t = await si.cpuTemperature();
    if (typeof t.main === 'number' && Number.isFinite(t.main)) return { kind: 'si' };
  } catch {
    /* no sensor */
  }
  return { kind: 'none' };
}

async function readTemperature(source: TemperatureSource): Promise<number | null> {
  try {
    if (source.kind === 'file') {
      const milli = parseInt(await readFile(source.path, 'utf8'), 10);
      return Number.isFinite(milli) ? round1(milli / 1000) : null;
    }
    if (source.kind === 'si') {
      const t = await si.cpuTemperature();
      return typeof t.main === 'number' && Number.isFinite(t.main) ? round1(t.main) : null;
    }
  } catch {
    /* a sensor that stopped answering reads as none */
  }
  return null;
}
