// Junction's `telemetry` and `schedules` sections (top-level keys beside Crossbar's `version` and
// `workers`): the board's own health published on a schedule, and timed publishes and calls. Every
// error names its JSON path; cron expressions are checked here with node-cron's own parser, so a
// bad one fails at load time, not at the first run.

import { hostname } from 'node:os';
import { createRequire } from 'node:module';
import type { RealmConfig, ScheduleAction, ScheduleConfig, TelemetryConfig } from './types.js';
import { describe, join, type Checker, type Obj } from './check-values.js';
import { isReservedUri, isValidUri } from '../wamp/uri.js';
import { TRUSTED_ROLE } from '../wamp/roles.js';

const DAY_MS = 86_400_000;

export const TELEMETRY_DEFAULTS = {
  cron: '*/5 * * * * *',
  role: TRUSTED_ROLE,
  authid: 'junction-telemetry',
} as const;

/** The authid schedule jobs run with. */
export const SCHEDULES_AUTHID = 'junction-schedules';

export interface BoardParseContext {
  realms: RealmConfig[];
}

/**
 * A host name as one URI component valid under strict URI checking too: lowercase, every character
 * other than a-z, 0-9 and '_' becomes '_' ("Pi-Kitchen.local" → "pi_kitchen_local").
 */
export function boardName(host: string = hostname()): string {
  const name = host.toLowerCase().replace(/[^0-9a-z_]/g, '_');
  return name === '' ? 'board' : name;
}

/** `telemetry: { enabled, realm, role, authid, board, cron }`; undefined when switched off. */
export function parseTelemetry(c: Checker, value: unknown, path: string, ctx: BoardParseContext): TelemetryConfig | undefined {
  // `telemetry: {}` or `telemetry: true` switch it on with every default.
  if (value === true) value = {};
  if (value === false) return undefined;
  const o = c.object(value, path, ['enabled', 'realm', 'role', 'authid', 'board', 'cron']);
  if (!o) return undefined;
  const enabled = c.boolean(o['enabled'], join(path, 'enabled'), true);
  const { realm, role } = realmAndRole(c, o, path, ctx);
  const authid = c.string(o['authid'], join(path, 'authid'), { required: false }) ?? TELEMETRY_DEFAULTS.authid;
  const boardPath = join(path, 'board');
  const board = c.string(o['board'], boardPath, { required: false }) ?? boardName();
  if (o['board'] !== undefined && !/^[0-9a-z_]+$/.test(board)) {
    c.error(boardPath, `must be one URI component of lowercase letters, digits and '_' (it goes into junction.board.<board>.load), got ${describe(board)}`);
  }
  const cron = cronExpression(c, o['cron'], join(path, 'cron'), false) ?? TELEMETRY_DEFAULTS.cron;
  if (!enabled) return undefined;
  return { realm, role, authid, board, cron };
}

/** `schedules: [ { name, cron, timezone, realm, role, publish: {…} | call: {…} } ]`. */
export function parseSchedules(c: Checker, value: unknown, path: string, ctx: BoardParseContext): ScheduleConfig[] {
  const out: ScheduleConfig[] = [];
  const seen = new Map<string, string>();
  (c.array(value, path) ?? []).forEach((entry, i) => {
    const p = join(path, i);
    const o = c.object(entry, p, ['name', 'cron', 'timezone', 'realm', 'role', 'publish', 'call']);
    if (!o) return;
    const name = c.string(o['name'], join(p, 'name'), { required: false }) ?? p;
    const first = seen.get(name);
    if (first !== undefined) c.error(join(p, 'name'), `schedule name '${name}' is already used by ${first}`);
    else seen.set(name, p);
    const cron = cronExpression(c, o['cron'], join(p, 'cron'), true) ?? '';
    const { realm, role, realmConfig } = realmAndRole(c, o, p, ctx);
    const uriCheck = realmConfig?.uriCheck ?? 'loose';

    let action: ScheduleAction | undefined;
    if (o['publish'] !== undefined && o['call'] !== undefined) {
      c.error(p, 'must have either publish or call, not both');
    } else if (o['publish'] !== undefined) {
      const ap = join(p, 'publish');
      const a = c.object(o['publish'], ap, ['topic', 'args', 'kwargs', 'options']);
      if (a) {
        const topic = c.string(a['topic'], join(ap, 'topic')) ?? '';
        if (topic && !isValidUri(topic, uriCheck)) c.error(join(ap, 'topic'), `must be a topic URI (${uriCheck} URI check in realm '${realm}'), got ${describe(topic)}`);
        else if (topic && isReservedUri(topic)) c.error(join(ap, 'topic'), "must not start with 'wamp.': those topics belong to the router");
        const options = dict(c, a['options'], join(ap, 'options')) ?? {};
        action = { type: 'publish', topic, args: list(c, a['args'], join(ap, 'args')), kwargs: dict(c, a['kwargs'], join(ap, 'kwargs')) ?? {}, options };
      }
    } else if (o['call'] !== undefined) {
      const ap = join(p, 'call');
      const a = c.object(o['call'], ap, ['procedure', 'args', 'kwargs', 'timeout']);
      if (a) {
        const procedure = c.string(a['procedure'], join(ap, 'procedure')) ?? '';
        if (procedure && !isValidUri(procedure, uriCheck)) c.error(join(ap, 'procedure'), `must be a procedure URI (${uriCheck} URI check in realm '${realm}'), got ${describe(procedure)}`);
        action = {
          type: 'call', procedure,
          args: list(c, a['args'], join(ap, 'args')),
          kwargs: dict(c, a['kwargs'], join(ap, 'kwargs')) ?? {},
          timeout: c.integer(a['timeout'], join(ap, 'timeout'), 60_000, 0, DAY_MS)!,
        };
      }
    } else {
      c.error(p, 'needs publish: { topic, args, kwargs, options } or call: { procedure, args, kwargs, timeout }');
    }

    const schedule: ScheduleConfig = { name, cron, realm, role, action: action ?? { type: 'publish', topic: '', args: [], kwargs: {}, options: {} } };
    const tzPath = join(p, 'timezone');
    const timezone = c.string(o['timezone'], tzPath, { required: false });
    if (timezone !== undefined) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: timezone });
        schedule.timezone = timezone;
      } catch {
        c.error(tzPath, `must be an IANA time zone such as "Europe/Berlin" or "UTC", got ${describe(timezone)}`);
      }
    }
    out.push(schedule);
  });
  return out;
}

function realmAndRole(c: Checker, o: Obj, path: string, ctx: BoardParseContext): { realm: string; role: string; realmConfig: RealmConfig | undefined } {
  const realmPath = join(path, 'realm');
  const realm = c.string(o['realm'], realmPath, { required: false }) ?? ctx.realms[0]?.name ?? '';
  const realmConfig = ctx.realms.find((r) => r.name === realm);
  if (realm && !realmConfig) c.error(realmPath, `realm '${realm}' is not defined (realms: ${ctx.realms.map((r) => r.name).join(', ') || 'none'})`);
  const role = c.string(o['role'], join(path, 'role'), { required: false }) ?? TRUSTED_ROLE;
  if (realmConfig && role !== TRUSTED_ROLE && !realmConfig.roles.some((r) => r.name === role)) {
    c.error(join(path, 'role'), `role '${role}' is not defined in realm '${realm}' (roles: ${[TRUSTED_ROLE, ...realmConfig.roles.map((r) => r.name)].join(', ')})`);
  }
  return { realm, role, realmConfig };
}

// node-cron's parser is loaded only when a config has schedules: it costs a router without them
// ~8 ms of start-up and ~3 MB of memory (it pulls in child_process and cluster).
const requireLazily = createRequire(import.meta.url);
type CronValidator = typeof import('node-cron').validateDetailed;
let validateCron: CronValidator | undefined;

/** A node-cron expression: five fields, or six with seconds first. */
function cronExpression(c: Checker, value: unknown, path: string, required: boolean): string | undefined {
  const expr = c.string(value, path, { required });
  if (expr === undefined) return undefined;
  const fields = expr.trim().split(/\s+/).length;
  // node-cron also takes nicknames such as "@daily" (checked below).
  if (!expr.trim().startsWith('@') && (fields < 5 || fields > 6)) {
    c.error(path, `must be a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first), got ${describe(expr)}`);
    return undefined;
  }
  let problems: string[];
  try {
    validateCron ??= (requireLazily('node-cron') as typeof import('node-cron')).validateDetailed;
    const v = validateCron(expr);
    problems = v.valid ? [] : v.errors.map((e) => e.message);
  } catch (err) {
    problems = [String((err as Error)?.message ?? err)];
  }
  if (problems.length > 0) {
    c.error(path, `is not a valid cron expression ${JSON.stringify(expr)}: ${problems.join('; ') || 'rejected by node-cron'}`);
    return undefined;
  }
  return expr;
}

function list(c: Checker, value: unknown, path: string): unknown[] {
  return c.array(value, path) ?? [];
}

function dict(c: Checker, value: unknown, path: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  return c.map(value, path);
}
