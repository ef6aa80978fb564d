// Loads and validates a configuration file (JSON or YAML) in Crossbar.io's format (version 2, one
// worker of type "router") and produces the typed JunctionConfig, with every default filled in.
//
// Rules:
// - Every problem is reported with the JSON path of the key at fault, all of them in one run.
// - A key Junction does not support is an error naming its path, never silently ignored. The
//   same holds for the Crossbar tuning knobs that cannot change what is routed or who may connect
//   (load-wamp-service.ts): refused with a reason like any unsupported key, unless the value
//   states what Junction does anyway (compression: false).
// - File paths (TLS files, static directories, Unix sockets) are relative to the config file's
//   directory; TLS files are read and checked while loading (load-tls.ts), so a bad certificate
//   fails at load time.
//
// This file reads the top level and checks what one section names that another defines; each
// section has its own file:
//   config-text.ts       JSON or YAML text -> document
//   load-router.ts       workers: the router worker, its options, realms and transports
//   load-realms.ts       a realm: roles, permissions, store, options
//   load-transports.ts   transports by type, distinct ids and ports
//   load-endpoint.ts     a transport's endpoint (TCP or Unix socket)
//   load-tls.ts          TLS blocks and the PEM files they name
//   load-wamp-service.ts a WebSocket or RawSocket service: serializers, options, limits
//   load-web.ts          web paths: static files, WebSocket, the status dashboard
//   load-auth.ts         auth blocks and secrets
//   load-mqtt.ts, load-bridges.ts, load-serial.ts, load-board.ts: Junction's own sections
//   load-context.ts      what they share while one file is read
// The embedded default is in default-config.ts.

import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import type { JunctionConfig, ListenerConfig, RealmConfig } from './types.js';
import { ConfigError, describe, describeFileError } from './check-values.js';
import { LoadContext } from './load-context.js';
import { parseWorkers } from './load-router.js';
import { resolveDashboards, resolveSharedMqtt } from './load-web.js';
import { parseSerial } from './load-serial.js';
import { parseBridges } from './load-bridges.js';
import { parseSchedules, parseTelemetry } from './load-board.js';
import { parseConfigText } from './config-text.js';
import { ANONYMOUS_ROLE, TRUSTED_ROLE } from '../wamp/roles.js';
import { addBuiltinRoles } from './dashboard-roles.js';

export { dashboardRole, monitorRole } from './dashboard-roles.js';
export { defaultConfig } from './default-config.js';
export { ConfigError, formatIssue } from './check-values.js';
export type { ConfigIssue } from './check-values.js';
export { convertStarredUri } from './load-realms.js';
export { parseConfigText, releaseConfigParser } from './config-text.js';

/**
 * Validates an already-parsed config document (Crossbar format) and returns the typed config.
 * `source` names the file in error messages; `baseDir` resolves relative file paths (TLS files,
 * static directories, Unix sockets), default the working directory. TLS files are read (sync).
 * Throws ConfigError listing every problem found.
 */
export function parseConfig(raw: unknown, source?: string, baseDir: string = process.cwd()): JunctionConfig {
  const ctx = new LoadContext(baseDir);
  const { c } = ctx;
  let realms: RealmConfig[] = [];
  let listeners: ListenerConfig[] = [];
  let maxIncomingBytes: number | undefined;
  let maxSendQueueTotal: number | undefined;
  let bridges: JunctionConfig['bridges'];
  let serial: JunctionConfig['serial'];
  let telemetry: JunctionConfig['telemetry'];
  let schedules: JunctionConfig['schedules'];
  if (!c.isObject(raw)) {
    c.error('', `must be an object (a Crossbar config, version 2), got ${describe(raw)}`);
  } else {
    // `$schema` (an editor hint in Crossbar's own files) is accepted and ignored.
    // `bridges` is Junction's own section beside Crossbar's keys.
    c.object(raw, '', ['$schema', 'version', 'controller', 'workers', 'bridges', 'serial', 'telemetry', 'schedules']);
    if (raw['version'] === undefined) c.error('version', "is required: Junction reads version 2 of Crossbar's config format");
    else if (raw['version'] !== 2) c.error('version', `must be 2 (Crossbar's config format version 2), got ${describe(raw['version'])}`);
    if (raw['controller'] !== undefined) {
      const ctl = c.object(raw['controller'], 'controller', ['id'], {
        options: 'controller options are not supported by Junction',
        manhole: 'the manhole is not supported by Junction',
      });
      if (ctl) c.string(ctl['id'], 'controller.id', { required: false });
    }
    ({ realms, listeners, maxIncomingBytes, maxSendQueueTotal } = parseWorkers(ctx, raw['workers']));
    resolveDashboards(ctx, realms, listeners);
    resolveSharedMqtt(ctx, listeners);
    if (raw['serial'] !== undefined) serial = parseSerial(c, raw['serial'], 'serial', ctx);
    if (raw['bridges'] !== undefined) bridges = parseBridges(c, raw['bridges'], 'bridges', { realms, file: (p) => ctx.file(p) });
    if (raw['telemetry'] !== undefined) telemetry = parseTelemetry(c, raw['telemetry'], 'telemetry', { realms });
    if (raw['schedules'] !== undefined) schedules = parseSchedules(c, raw['schedules'], 'schedules', { realms });
  }

  addBuiltinRoles(realms, ctx.roleRefs.map((ref) => ref.role));
  const roleNames = new Set([TRUSTED_ROLE, ...realms.flatMap((r) => r.roles.map((role) => role.name))]);
  for (const ref of ctx.roleRefs) {
    if (ref.role && !roleNames.has(ref.role)) c.error(ref.path, `role '${ref.role}' is not defined in any realm`);
  }
  const realmNames = new Set(realms.map((r) => r.name));
  for (const ref of ctx.realmRefs) {
    if (!realmNames.has(ref.realm)) c.error(ref.path, `realm '${ref.realm}' is not defined (realms: ${[...realmNames].join(', ') || 'none'})`);
  }
  if (!roleNames.has(ANONYMOUS_ROLE)) {
    for (const path of ctx.openServices) {
      c.warn(path, `has no auth block, so clients join as role '${ANONYMOUS_ROLE}', which no realm defines: nobody can join through it`);
    }
  }

  if (c.errors.length > 0) throw new ConfigError(c.errors, source);
  const config: JunctionConfig = { source, router: { realms, listeners } };
  if (maxIncomingBytes !== undefined) config.router.maxIncomingBytes = maxIncomingBytes;
  if (maxSendQueueTotal !== undefined) config.router.maxSendQueueTotal = maxSendQueueTotal;
  if (bridges) config.bridges = bridges;
  if (serial) config.serial = serial;
  if (telemetry) config.telemetry = telemetry;
  if (schedules && schedules.length > 0) config.schedules = schedules;
  if (c.warnings.length > 0) config.warnings = c.warnings;
  return config;
}

/** Reads a JSON (.json) or YAML (.yaml, .yml) file and validates it; throws ConfigError. */
export async function loadConfigFile(path: string): Promise<JunctionConfig> {
  const ext = extname(path).toLowerCase();
  const format = ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : undefined;
  if (!format) {
    throw new ConfigError([{ path: '', message: `cannot tell the format from the file name: use .json, .yaml or .yml (got ${JSON.stringify(ext || path)})` }], path);
  }
  let text: string;
  try {
    // Synchronous: a config is small, and an asynchronous read would start libuv's thread pool
    // (four threads, their stacks and malloc arenas) for this one file.
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: '', message: `cannot read ${resolve(path)}: ${describeFileError(err)}` }], path);
  }
  return parseConfig(parseConfigText(text, format, path), path, dirname(resolve(path)));
}
