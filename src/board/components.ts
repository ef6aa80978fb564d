// The board's own components, started by JunctionNode once the router is ready: telemetry (only
// with a `telemetry` section) and schedules. Telemetry's module (and systeminformation) is loaded
// only when it is configured. A component that cannot start is logged; it never stops the node.
// A reload restarts the component whose section changed, with its new config.

import type { JunctionConfig, ScheduleConfig, TelemetryConfig } from '../config/types.js';
import type { SessionFactory } from '../core-boundary.js';
import { sameConfig } from '../config/diff.js';
import type { Telemetry } from './telemetry.js';
import type { Schedules } from './schedules.js';
import { log } from '../log.js';

export class BoardComponents {
  telemetry: Telemetry | undefined;
  schedules: Schedules | undefined;

  constructor(private readonly factory: SessionFactory) {}

  async start(config: JunctionConfig): Promise<void> {
    await this.startTelemetry(config.telemetry);
    await this.startSchedules(config.schedules);
  }

  /** A reloaded config: a component whose section changed is stopped and started again with it (or only stopped, when the section is gone). */
  async reload(before: JunctionConfig, after: JunctionConfig): Promise<void> {
    if (!sameConfig(before.telemetry, after.telemetry)) {
      await this.telemetry?.stop();
      this.telemetry = undefined;
      await this.startTelemetry(after.telemetry);
    }
    if (!sameConfig(before.schedules, after.schedules)) {
      await this.schedules?.stop();
      this.schedules = undefined;
      await this.startSchedules(after.schedules);
    }
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.telemetry?.stop(), this.schedules?.stop()]);
  }

  private async startTelemetry(config: TelemetryConfig | undefined): Promise<void> {
    if (!config) return;
    const { Telemetry } = await import('./telemetry.js');
    const telemetry = new Telemetry(config, this.factory);
    try {
      await telemetry.start();
      this.telemetry = telemetry;
    } catch (err) {
      log.error(`telemetry: not started: ${(err as Error)?.message ?? err}`);
      await telemetry.stop().catch(() => undefined);
    }
  }

  private async startSchedules(configs: ScheduleConfig[] | undefined): Promise<void> {
    if (!configs?.length) return;
    const { Schedules } = await import('./schedules.js');
    this.schedules = new Schedules(configs, this.factory);
    await this.schedules.start();
  }
}

export async function startBoard(config: JunctionConfig, factory: SessionFactory): Promise<BoardComponents | undefined> {
  if (!config.telemetry && !config.schedules?.length) return undefined;
  const board = new BoardComponents(factory);
  await board.start(config);
  return board;
}
