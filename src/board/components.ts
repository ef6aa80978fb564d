// The board's own components, started by JunctionNode once the router is ready: telemetry (only
// with a `telemetry` section) and schedules. Telemetry's module (and systeminformation) is loaded
// only when it is configured. A component that cannot start is logged; it never stops the node.

import type { JunctionConfig } from '../config/types.js';
import type { SessionFactory } from '../router/transport.js';
import type { Telemetry } from './telemetry.js';
import type { Schedules } from './schedules.js';
import { log } from '../log.js';

export interface BoardComponents {
  telemetry: Telemetry | undefined;
  schedules: Schedules | undefined;
  stop(): Promise<void>;
}

export async function startBoard(config: JunctionConfig, factory: SessionFactory): Promise<BoardComponents | undefined> {
  if (!config.telemetry && !config.schedules?.length) return undefined;
  let telemetry: Telemetry | undefined;
  let schedules: Schedules | undefined;
  if (config.telemetry) {
    const { Telemetry } = await import('./telemetry.js');
    telemetry = new Telemetry(config.telemetry, factory);
    try {
      await telemetry.start();
    } catch (err) {
      log.error(`telemetry: not started: ${(err as Error)?.message ?? err}`);
      await telemetry.stop().catch(() => undefined);
      telemetry = undefined;
    }
  }
  if (config.schedules?.length) {
    const { Schedules } = await import('./schedules.js');
    schedules = new Schedules(config.schedules, factory);
    await schedules.start();
  }
  return {
    telemetry,
    schedules,
    async stop() {
      await Promise.allSettled([telemetry?.stop(), schedules?.stop()]);
    },
  };
}
