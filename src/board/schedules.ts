// Schedules: timed publishes and calls from the config's `schedules` section, on node-cron
// expressions. Each job runs as an ordinary in-process session of its realm (authid
// 'junction-schedules', the job's role, default 'trusted'; jobs with the same realm and role share
// one session), so what it may do is decided by the realm's authorization like for any client.
//
// Every run is logged (info: what was published or called and how it ended). A failing run (call
// error, not authorized, no such procedure, timeout) is logged as a warning and counted; it never
// throws out of the job, so it cannot take the gateway down. A run that comes due while the
// previous run of the same job is still going (a slow procedure) is skipped, logged and counted.

import { createTask, type ScheduledTask } from 'node-cron';
import type { ScheduleConfig } from '../config/types.js';
import { SCHEDULES_AUTHID } from '../config/load-board.js';
import type { SessionFactory } from '../core-boundary.js';
import { WampError } from '../client/client-session.js';
import { ComponentSession, cronLogger } from './component-session.js';
import { log } from '../log.js';

export interface JobStats {
  name: string;
  /** Runs started (successful or failed; skipped ones not included). */
  runs: number;
  failures: number;
  /** Runs skipped because the previous run was still going. */
  skipped: number;
  lastRun?: string;
  lastError?: string;
}

interface Job {
  config: ScheduleConfig;
  session: ComponentSession;
  task?: ScheduledTask;
  running: Promise<void> | undefined;
  stats: JobStats;
}

export class Schedules {
  private readonly sessions = new Map<string, ComponentSession>();
  private readonly jobs: Job[];
  private stopped = false;

  constructor(configs: ScheduleConfig[], factory: SessionFactory) {
    this.jobs = configs.map((config) => {
      const key = `${config.realm}\n${config.role}`;
      let session = this.sessions.get(key);
      if (!session) {
        session = new ComponentSession(factory, { realm: config.realm, role: config.role, authid: SCHEDULES_AUTHID, name: 'schedules' });
        this.sessions.set(key, session);
      }
      return { config, session, running: undefined, stats: { name: config.name, runs: 0, failures: 0, skipped: 0 } };
    });
  }

  async start(): Promise<void> {
    for (const job of this.jobs) {
      const { name, cron, timezone } = job.config;
      job.task = createTask(cron, () => this.run(job), { name, timezone, logger: cronLogger(`schedule '${name}'`) });
      await job.task.start();
    }
    // Join now so a problem (e.g. a role the realm refuses) shows at start, not at the first run.
    await Promise.all([...this.sessions.values()].map((s) => s.get().catch((err) => {
      log.warn(`schedules: cannot join realm '${s.options.realm}' as role '${s.options.role}' yet: ${message(err)} (trying again at the next run)`);
    })));
    if (this.jobs.length > 0) log.info(`schedules: ${this.jobs.length} job(s): ${this.jobs.map((j) => `'${j.config.name}' (${j.config.cron})`).join(', ')}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.jobs.map((j) => j.task?.destroy()));
    await Promise.all([...this.sessions.values()].map((s) => s.close()));
  }

  stats(): JobStats[] {
    return this.jobs.map((j) => ({ ...j.stats }));
  }

  /** Runs the named job now, as its schedule would (for tests and manual triggers). */
  runNow(name: string): Promise<void> {
    const job = this.jobs.find((j) => j.config.name === name);
    if (!job) return Promise.reject(new Error(`no schedule named '${name}'`));
    return this.run(job);
  }

  /** One run of a job. Never rejects: every failure is logged and counted. */
  private run(job: Job): Promise<void> {
    const name = job.config.name;
    if (this.stopped) return Promise.resolve();
    if (job.running) {
      job.stats.skipped++;
      log.warn(`schedule '${name}': run skipped, the previous run is still going`);
      return Promise.resolve();
    }
    const running = this.execute(job).finally(() => {
      job.running = undefined;
    });
    job.running = running;
    return running;
  }

  private async execute(job: Job): Promise<void> {
    const { name, action } = job.config;
    const started = Date.now();
    job.stats.runs++;
    job.stats.lastRun = new Date(started).toISOString();
    const what = action.type === 'publish' ? `publish to ${action.topic}` : `call ${action.procedure}`;
    try {
      const session = await job.session.get();
      if (action.type === 'publish') {
        // Acknowledged, so a refused publish (not authorized, bad URI) is seen and reported.
        await session.publish(action.topic, action.args, action.kwargs, { ...action.options, acknowledge: true });
        log.info(`schedule '${name}': published to ${action.topic}`);
      } else {
        const result = await session.call(action.procedure, action.args, action.kwargs, action.timeout > 0 ? { timeout: action.timeout } : {});
        log.info(`schedule '${name}': called ${action.procedure} (${Date.now() - started} ms): ${summary(result.args, result.kwargs)}`);
      }
    } catch (err) {
      job.stats.failures++;
      job.stats.lastError = message(err);
      log.warn(`schedule '${name}': ${what} failed (${job.stats.failures} failure(s) so far): ${job.stats.lastError}`);
    }
  }
}

function message(err: unknown): string {
  if (err instanceof WampError) return err.message;
  return String((err as Error)?.message ?? err);
}

function summary(args: unknown[], kwargs: Record<string, unknown>): string {
  let text: string;
  try {
    text = JSON.stringify(Object.keys(kwargs).length > 0 ? { args, kwargs } : args);
  } catch {
    text = '(result not shown)';
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
