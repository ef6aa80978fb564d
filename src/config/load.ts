// Loads and validates a configuration file (JSON or YAML) in Crossbar.io's format (version 2, one
// worker of type "router") and produces the typed JunctionConfig, with every default filled in.
//
// Rules:
// - Every problem is reported with the JSON path of the key at fault, all of them in one run.
// - A key Junction does not support is an error naming its path, never silently ignored. The only
//   same holds for the Crossbar tuning knobs that cannot change what is
//   routed or who may connect (WS_OPTIONS_WITHOUT_EFFECT and friends below): refused with a reason
//   like any unsupported key, unless the value states what Junction does anyway (compression: false).
// - File paths (TLS files, static directories, Unix sockets) are relative to the config file's
//   directory; TLS files are read and checked here, so a bad certificate fails at load time.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { createRequire } from 'node:module';
import {
  DEFAULT_TRANSPORT_OPTIONS, DEFAULT_HISTORY_MAX_BYTES, DEFAULT_RETAINED_LIMITS, SEND_QUEUE_POLICIES,
  type AuthConfig, type CallQueueConfig, type EndpointConfig, type EventHistoryConfig,
  type JunctionConfig, type ListenerConfig, type MatchPolicy, type MqttServiceConfig, type PermissionConfig, type RealmConfig, type RouterConfig,
  type RealmStoreConfig, type RoleConfig, type SerializerName, type StaticPathConfig, type DashboardPathConfig,
  type TlsConfig, type WampServiceConfig, type WampTransportOptions, type RetainedLimits,
} from './types.js';
import { Checker, ConfigError, describe, join, type Obj } from './check-values.js';
import { parseAuth } from './load-auth.js';
import { parseMqttService } from './load-mqtt.js';
import { parseSerial } from './load-serial.js';
import { parseBridges } from './load-bridges.js';
import { duplicateKeys } from './json-duplicates.js';
import { parseSchedules, parseTelemetry } from './load-board.js';
import { isValidPattern, isValidUri } from '../wamp/uri.js';
import { ANONYMOUS_ROLE, TRUSTED_ROLE } from '../wamp/roles.js';
import { DASHBOARD_DIR } from './dashboard-dir.js';
import { MONITOR_ROLE, addBuiltinRoles, monitorRole } from './dashboard-roles.js';

export { dashboardRole, monitorRole } from './dashboard-roles.js';

export { ConfigError, formatIssue } from './check-values.js';

// The parsing libraries are loaded when a config is read, and only the one its format needs: the
// YAML library costs ~8 MB and ~19 ms of start-up, jsonc-parser (JSON duplicate keys) ~1 MB.
const requireLazily = createRequire(import.meta.url);
const librariesInUse = new Set<string>();
function library<T>(name: string): T {
  librariesInUse.add(name);
  return requireLazily(name) as T;
}
const yaml = () => library<typeof import('yaml')>('yaml');

/**
 * Lets the parsing libraries be garbage-collected once the config is read (they are needed again
 * only for a reload, which loads them afresh): memory a small board has better uses for.
 */
export function releaseConfigParser(): void {
  for (const name of librariesInUse) {
    const root = dirname(requireLazily.resolve(name));
    for (const key of Object.keys(requireLazily.cache)) {
      if (!key.startsWith(root)) continue;
      // The module that loaded it (createRequire's, or the library's own main file) lists it in
      // `children` too; left there, the library's code and source text stay reachable.
      const loaded = requireLazily.cache[key];
      const parent = loaded?.parent;
      if (parent) parent.children = parent.children.filter((child) => child !== loaded);
      delete requireLazily.cache[key];
    }
  }
  librariesInUse.clear();
}
export type { ConfigIssue } from './check-values.js';

const MATCHES: readonly MatchPolicy[] = ['exact', 'prefix', 'wildcard'];
const SERIALIZERS: readonly SerializerName[] = ['json', 'msgpack', 'cbor'];
const NOT_YET = 'is not supported by Junction yet';
const MIB = 1024 * 1024;
/** Junction's own transport options (limits and back-pressure), accepted by WebSocket and RawSocket. */
const LIMIT_OPTIONS = ['max_send_queue', 'send_queue_policy', 'max_messages_per_second', 'max_messages_burst', 'max_unauthenticated_bytes'];
/** Crossbar's rule for keys of `paths` and of a universal transport's `websocket` map. */
const WEB_PATH_KEY = /^([A-Za-z0-9_-]+|\/)$/;
/** Longest Unix socket path Linux accepts (sun_path is 108 bytes including the NUL). */
const MAX_UNIX_PATH = 107;

/**
 * Crossbar WebSocket options that tune Autobahn's WebSocket code and have no counterpart in
 * Junction. They appear in the config `crossbar init` writes, so they are accepted with a warning.
 * `quiet` is the value that matches what Junction does anyway (no warning for it).
 */
const WS_OPTIONS_WITHOUT_EFFECT: Readonly<Record<string, { reason: string; quiet?: unknown }>> = {
  compression: { reason: 'Junction does not compress WebSocket messages; clients fall back to uncompressed messages', quiet: false },
  max_frame_size: { reason: 'Junction limits whole messages (max_message_size), not single frames' },
  auto_fragment_size: { reason: 'Junction sends every message as a single frame' },
  fail_by_drop: { reason: 'Junction has no such setting' },
  close_handshake_timeout: { reason: 'Junction has no such setting' },
  allow_null_origin: { reason: "Junction treats 'Origin: null' like any other origin: allowed when allowed_origins contains '*' or 'null'" },
  enable_webstatus: { reason: 'Junction serves no WebSocket status page', quiet: false },
};

/** Crossbar transport and web-service types Junction refuses, with the reason. */
const TRANSPORT_TYPES_REFUSED: Readonly<Record<string, string>> = {
  flashpolicy: 'Flash policy transports are not supported by Junction',
  'websocket.testee': 'WebSocket testee transports are not supported by Junction',
  'stream.testee': 'stream testee transports are not supported by Junction',
};

/**
 * Crossbar's "starred" URIs, used when a permission (or store entry) has no `match`:
 * no '*' → exact; one '*' at the very end → prefix without it ('com.example.*' → 'com.example.',
 * '*' → '' = every URI); otherwise → wildcard, each '*' component becoming an empty component
 * ('com.*.add' → 'com..add'). A '*' inside a component ('com.ex*ple') is refused (`error`).
 */
export function convertStarredUri(uri: string): { uri: string; match: MatchPolicy; error?: string } {
  const stars = uri.split('*').length - 1;
  if (stars === 0) return { uri, match: 'exact' };
  if (stars === 1 && uri.endsWith('*')) return { uri: uri.slice(0, -1), match: 'prefix' };
  const components = uri.split('.');
  if (components.some((c) => c.includes('*') && c !== '*')) {
    return { uri, match: 'wildcard', error: "a '*' must be a whole URI component ('a.*.c'), or the single last character ('a.b*')" };
  }
  return { uri: components.map((c) => (c === '*' ? '' : c)).join('.'), match: 'wildcard' };
}

function allowAll(): PermissionConfig {
  return {
    uri: '', match: 'prefix', cache: true,
    allow: { call: true, register: true, publish: true, subscribe: true },
    disclose: { caller: false, publisher: false },
  };
}

function normalizeWebPath(key: string): string {
  return key === '/' ? '/' : `/${key}`;
}

function isWildcardInterface(iface: string | undefined): boolean {
  return iface === undefined || iface === '0.0.0.0' || iface === '::';
}

class ConfigParser {
  private readonly c = new Checker();
  /** Roles named by auth blocks; each must exist in some realm. */
  private readonly roleRefs: Array<{ role: string; path: string }> = [];
  /** Realms named by MQTT services; each must exist. */
  private readonly realmRefs: Array<{ realm: string; path: string }> = [];
  /** Dashboard paths naming a WebSocket path of their listener, checked once the listener is read. */
  private readonly dashboardRefs: Array<{ listener: ListenerConfig; websocket: string; path: string }> = [];
  /** WAMP services without an `auth` block: their clients join as role 'anonymous'. */
  private readonly openServices: string[] = [];

  constructor(private readonly baseDir: string) {}

  parse(raw: unknown, source?: string): JunctionConfig {
    const c = this.c;
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
      ({ realms, listeners, maxIncomingBytes, maxSendQueueTotal } = this.workers(raw['workers']));
      this.dashboards(realms, listeners);
      if (raw['serial'] !== undefined) serial = parseSerial(c, raw['serial'], 'serial', { realmRefs: this.realmRefs, roleRefs: this.roleRefs });
      if (raw['bridges'] !== undefined) bridges = parseBridges(c, raw['bridges'], 'bridges', { realms, file: (p) => this.file(p) });
      if (raw['telemetry'] !== undefined) telemetry = parseTelemetry(c, raw['telemetry'], 'telemetry', { realms });
      if (raw['schedules'] !== undefined) schedules = parseSchedules(c, raw['schedules'], 'schedules', { realms });
    }

    addBuiltinRoles(realms, this.roleRefs.map((ref) => ref.role));
    const roleNames = new Set([TRUSTED_ROLE, ...realms.flatMap((r) => r.roles.map((role) => role.name))]);
    for (const ref of this.roleRefs) {
      if (ref.role && !roleNames.has(ref.role)) c.error(ref.path, `role '${ref.role}' is not defined in any realm`);
    }
    const realmNames = new Set(realms.map((r) => r.name));
    for (const ref of this.realmRefs) {
      if (!realmNames.has(ref.realm)) c.error(ref.path, `realm '${ref.realm}' is not defined (realms: ${[...realmNames].join(', ') || 'none'})`);
    }
    if (!roleNames.has(ANONYMOUS_ROLE)) {
      for (const path of this.openServices) {
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

  private workers(value: unknown): RouterConfig {
    const c = this.c;
    const workers = c.array(value, 'workers', { required: true });
    if (!workers) return { realms: [], listeners: [] };
    let router: RouterConfig | undefined;
    let routerPath = '';
    workers.forEach((w, i) => {
      const path = join('workers', i);
      if (!c.isObject(w)) {
        c.error(path, `must be an object, got ${describe(w)}`);
        return;
      }
      if (w['type'] === undefined) {
        c.error(join(path, 'type'), 'is required (Junction runs one worker of type "router")');
      } else if (w['type'] !== 'router') {
        c.error(join(path, 'type'), `worker type ${describe(w['type'])} is not supported: Junction runs exactly one worker of type "router"`);
      } else if (router) {
        c.error(path, `only one router worker is supported (the first is ${routerPath})`);
      } else {
        routerPath = path;
        router = this.router(w, path);
      }
    });
    if (!router && workers.length === 0) c.error('workers', 'must hold one worker of type "router"');
    return router ?? { realms: [], listeners: [] };
  }

  private router(w: Obj, path: string): RouterConfig {
    const c = this.c;
    c.object(w, path, ['type', 'id', 'options', 'realms', 'transports'], {
      components: 'router components are not supported by Junction: run them as ordinary WAMP clients',
      connections: 'router connections are not supported by Junction',
      manhole: 'the manhole is not supported by Junction',
    });
    c.string(w['id'], join(path, 'id'), { required: false });
    let maxIncomingBytes: number | undefined;
    let maxSendQueueTotal: number | undefined;
    if (w['options'] !== undefined) {
      const op = join(path, 'options');
      const o = c.object(w['options'], op, ['title', 'max_incoming_bytes', 'max_send_queue_total']);
      if (o) c.string(o['title'], join(op, 'title'), { required: false });
      // Junction's: bytes of unfinished incoming messages, all connections together.
      if (o?.['max_incoming_bytes'] !== undefined) maxIncomingBytes = c.integer(o['max_incoming_bytes'], join(op, 'max_incoming_bytes'), undefined, MIB, 4096 * MIB);
      // Junction's: bytes waiting to be written, all connections' send queues together.
      if (o?.['max_send_queue_total'] !== undefined) maxSendQueueTotal = c.integer(o['max_send_queue_total'], join(op, 'max_send_queue_total'), undefined, MIB, 4096 * MIB);
    }

    const realmsPath = join(path, 'realms');
    const realms = (c.array(w['realms'], realmsPath, { required: true, nonEmpty: true }) ?? [])
      .map((r, i) => this.realm(r, join(realmsPath, i)));
    const seen = new Map<string, number>();
    realms.forEach((r, i) => {
      if (!r.name) return;
      const first = seen.get(r.name);
      if (first !== undefined) c.error(join(join(realmsPath, i), 'name'), `realm '${r.name}' is already defined at ${join(realmsPath, first)}`);
      else seen.set(r.name, i);
    });

    const transportsPath = join(path, 'transports');
    const entries = (c.array(w['transports'], transportsPath, { required: true, nonEmpty: true }) ?? [])
      .map((t, i) => ({ i, listener: this.transport(t, join(transportsPath, i), i) }))
      .filter((e): e is { i: number; listener: ListenerConfig } => e.listener !== undefined);
    this.checkListenersDistinct(entries, transportsPath);
    const router: RouterConfig = { realms, listeners: entries.map((e) => e.listener) };
    if (maxIncomingBytes !== undefined) router.maxIncomingBytes = maxIncomingBytes;
    if (maxSendQueueTotal !== undefined) router.maxSendQueueTotal = maxSendQueueTotal;
    return router;
  }

  // ---- realms, roles, permissions, store ----

  private realm(value: unknown, path: string): RealmConfig {
    const c = this.c;
    const r = c.object(value, path, ['name', 'roles', 'store', 'options'], {
      inventory: 'realm inventories (payload schemas) are not supported by Junction',
    }) ?? {};
    const name = c.string(r['name'], join(path, 'name')) ?? '';
    if (name && !isValidUri(name)) c.error(join(path, 'name'), `${JSON.stringify(name)} is not a valid realm name (a URI like "realm1" or "com.example")`);

    const realm: RealmConfig = { name, roles: [], uriCheck: 'loose', enableMetaApi: true };
    const rolesPath = join(path, 'roles');
    const seen = new Map<string, number>();
    (c.array(r['roles'], rolesPath) ?? []).forEach((role, i) => {
      const parsed = this.role(role, join(rolesPath, i));
      const first = seen.get(parsed.name);
      if (parsed.name && first !== undefined) {
        c.error(join(join(rolesPath, i), 'name'), `role '${parsed.name}' is already defined in this realm at ${join(rolesPath, first)}`);
      } else {
        seen.set(parsed.name, i);
      }
      realm.roles.push(parsed);
    });
    if (r['store'] !== undefined) realm.store = this.store(r['store'], join(path, 'store'));
    if (r['options'] !== undefined) {
      const op = join(path, 'options');
      const o = c.object(r['options'], op, ['uri_check', 'enable_meta_api', 'max_pending_calls', 'max_pending_call_bytes',
        'max_pending_call_bytes_total', 'max_subscriptions', 'max_subscription_bytes'], {
        event_dispatching_chunk_size: 'is not supported by Junction (events are dispatched without chunking)',
        bridge_meta_api: 'is not supported by Junction (there are no router-to-router links)',
      });
      if (o) {
        realm.uriCheck = c.oneOf(o['uri_check'], join(op, 'uri_check'), ['loose', 'strict'] as const, 'loose');
        realm.enableMetaApi = c.boolean(o['enable_meta_api'], join(op, 'enable_meta_api'), true);
        if (o['max_pending_calls'] !== undefined) {
          const max = c.integer(o['max_pending_calls'], join(op, 'max_pending_calls'), undefined, 1, 1_000_000);
          if (max !== undefined) realm.maxPendingCalls = max;
        }
        // Junction's byte budgets (defaults in config/types.ts).
        const budget = (key: string, min: number, max: number) => (o[key] === undefined ? undefined : c.integer(o[key], join(op, key), undefined, min, max));
        const pendingBytes = budget('max_pending_call_bytes', 1024, 4096 * MIB);
        if (pendingBytes !== undefined) realm.maxPendingCallBytes = pendingBytes;
        const pendingTotal = budget('max_pending_call_bytes_total', 1024, 4096 * MIB);
        if (pendingTotal !== undefined) realm.maxPendingCallBytesTotal = pendingTotal;
        const subscriptions = budget('max_subscriptions', 1, 10_000_000);
        if (subscriptions !== undefined) realm.maxSubscriptions = subscriptions;
        const subscriptionBytes = budget('max_subscription_bytes', 1024, 4096 * MIB);
        if (subscriptionBytes !== undefined) realm.maxSubscriptionBytes = subscriptionBytes;
      }
    }
    return realm;
  }

  private role(value: unknown, path: string): RoleConfig {
    const c = this.c;
    const r = c.object(value, path, ['name', 'permissions', 'allow-by-default', 'authorizer']) ?? {};
    const name = c.string(r['name'], join(path, 'name')) ?? '';
    if (r['authorizer'] !== undefined) {
      // Dynamic authorization: a procedure decides every action (Crossbar: permissions or authorizer).
      const ap = join(path, 'authorizer');
      const authorizer = c.string(r['authorizer'], ap);
      if (authorizer !== undefined && !isValidUri(authorizer)) c.error(ap, `must be a procedure URI, got ${describe(authorizer)}`);
      for (const key of ['permissions', 'allow-by-default']) {
        if (r[key] !== undefined) c.error(join(path, key), 'cannot be combined with an authorizer (the authorizer decides every action)');
      }
      return { name, permissions: [], authorizer: authorizer ?? '' };
    }
    const permsPath = join(path, 'permissions');
    const permissions: PermissionConfig[] = [];
    const seen = new Map<string, number>();
    (c.array(r['permissions'], permsPath) ?? []).forEach((p, i) => {
      const parsed = this.permission(p, join(permsPath, i));
      if (!parsed) return;
      permissions.push(parsed);
      if (typeof (p as Obj)['uri'] !== 'string') return; // already reported
      const key = `${parsed.match} ${parsed.uri}`;
      const first = seen.get(key);
      if (first !== undefined) c.error(join(join(permsPath, i), 'uri'), `duplicate permission: ${parsed.match} ${JSON.stringify(parsed.uri)} is already listed at ${join(permsPath, first)}`);
      else seen.set(key, i);
    });
    // Crossbar: a role without `permissions` allows everything when `allow-by-default` is true
    // (disclose nothing, cacheable); with `permissions` the flag would be ignored, so refuse it.
    const byDefaultPath = join(path, 'allow-by-default');
    const allowByDefault = c.boolean(r['allow-by-default'], byDefaultPath, false);
    if (allowByDefault && r['permissions'] !== undefined) {
      c.error(byDefaultPath, 'applies only to a role without permissions; remove one of the two');
    } else if (allowByDefault) {
      permissions.push(allowAll());
    }
    return { name, permissions };
  }

  private permission(value: unknown, path: string): PermissionConfig | undefined {
    const c = this.c;
    const p = c.object(value, path, ['uri', 'match', 'allow', 'disclose', 'cache'], {
      validate: `payload validation ${NOT_YET}`,
    });
    if (!p) return undefined;
    const { uri, match } = this.uriAndMatch(p, path);
    const allowPath = join(path, 'allow');
    const disclosePath = join(path, 'disclose');
    const allow = (p['allow'] === undefined ? {} : c.object(p['allow'], allowPath, ['call', 'register', 'publish', 'subscribe'])) ?? {};
    const disclose = (p['disclose'] === undefined ? {} : c.object(p['disclose'], disclosePath, ['caller', 'publisher'])) ?? {};
    return {
      uri, match,
      allow: {
        call: c.boolean(allow['call'], join(allowPath, 'call'), false),
        register: c.boolean(allow['register'], join(allowPath, 'register'), false),
        publish: c.boolean(allow['publish'], join(allowPath, 'publish'), false),
        subscribe: c.boolean(allow['subscribe'], join(allowPath, 'subscribe'), false),
      },
      disclose: {
        caller: c.boolean(disclose['caller'], join(disclosePath, 'caller'), false),
        publisher: c.boolean(disclose['publisher'], join(disclosePath, 'publisher'), false),
      },
      cache: c.boolean(p['cache'], join(path, 'cache'), true),
    };
  }

  /** `uri` with `match`, or a starred `uri` without it (permissions and store entries). */
  private uriAndMatch(o: Obj, path: string): { uri: string; match: MatchPolicy } {
    const c = this.c;
    const uriPath = join(path, 'uri');
    const raw = c.string(o['uri'], uriPath, { nonEmpty: false });
    if (o['match'] !== undefined) {
      const match = c.oneOf(o['match'], join(path, 'match'), MATCHES);
      if (raw === undefined || match === undefined) return { uri: raw ?? '', match: match ?? 'exact' };
      if (raw.includes('*')) {
        c.error(uriPath, `'*' is only understood without 'match' (Crossbar's starred form); with match '${match}' write the URI without it, e.g. ${match === 'wildcard' ? '"com..add"' : '"com.example."'}`);
      } else if (!isValidPattern(raw, match)) {
        c.error(uriPath, `${JSON.stringify(raw)} is not a valid URI for match '${match}'`);
      }
      return { uri: raw, match };
    }
    if (raw === undefined) return { uri: '', match: 'exact' };
    const starred = convertStarredUri(raw);
    if (starred.error) c.error(uriPath, starred.error);
    else if (!isValidPattern(starred.uri, starred.match)) c.error(uriPath, `${JSON.stringify(raw)} is not a valid URI`);
    return { uri: starred.uri, match: starred.match };
  }

  private store(value: unknown, path: string): RealmStoreConfig {
    const c = this.c;
    const s = c.object(value, path, ['type', 'limit', 'call-queue', 'event-history', 'retained']) ?? {};
    const typePath = join(path, 'type');
    if (s['type'] === 'cfxdb') c.error(typePath, 'store type "cfxdb" is not supported by Junction (use "memory")');
    else c.oneOf(s['type'], typePath, ['memory'] as const);
    const limit = c.integer(s['limit'], join(path, 'limit'), 100, 0, 1_000_000)!;

    const queuePath = join(path, 'call-queue');
    const callQueue: CallQueueConfig[] = [];
    const seenQueue = new Map<string, number>();
    (c.array(s['call-queue'], queuePath) ?? []).forEach((e, i) => {
      const p = join(queuePath, i);
      const o = c.object(e, p, ['uri', 'match', 'limit', 'timeout']);
      if (!o) return;
      const entry: CallQueueConfig = {
        ...this.uriAndMatch(o, p),
        // Junction enforces the limit (Crossbar ignores it), so it must be chosen explicitly.
        limit: c.integer(o['limit'], join(p, 'limit'), undefined, 0, 1_000_000) ?? 0,
        timeout: c.integer(o['timeout'], join(p, 'timeout'), 30_000, 1, 86_400_000)!,
      };
      const key = `${entry.match} ${entry.uri}`;
      const first = seenQueue.get(key);
      if (first !== undefined) c.error(join(p, 'uri'), `duplicate call-queue entry: ${entry.match} ${JSON.stringify(entry.uri)} is already listed at ${join(queuePath, first)}`);
      else seenQueue.set(key, i);
      callQueue.push(entry);
    });

    const historyPath = join(path, 'event-history');
    const eventHistory: EventHistoryConfig[] = [];
    (c.array(s['event-history'], historyPath) ?? []).forEach((e, i) => {
      const p = join(historyPath, i);
      const o = c.object(e, p, ['uri', 'match', 'limit', 'max_bytes']);
      if (!o) return;
      // As in Crossbar, the store's `limit` is the default for each entry.
      eventHistory.push({
        ...this.uriAndMatch(o, p),
        limit: c.integer(o['limit'], join(p, 'limit'), limit, 0, 1_000_000)!,
        maxBytes: c.integer(o['max_bytes'], join(p, 'max_bytes'), DEFAULT_HISTORY_MAX_BYTES, 1024, 1024 * MIB)!,
      });
    });
    return { type: 'memory', limit, callQueue, eventHistory, retained: this.retainedLimits(s['retained'], join(path, 'retained')) };
  }

  /** `store.retained` (Junction's): how much of retained events a realm keeps. */
  private retainedLimits(value: unknown, path: string): RetainedLimits {
    const c = this.c;
    const d = DEFAULT_RETAINED_LIMITS;
    const o = value === undefined ? {} : c.object(value, path, ['limit', 'max_bytes']) ?? {};
    return {
      maxTopics: c.integer(o['limit'], join(path, 'limit'), d.maxTopics, 0, 10_000_000)!,
      maxBytes: c.integer(o['max_bytes'], join(path, 'max_bytes'), d.maxBytes, 0, 1024 * MIB)!,
    };
  }

  // ---- transports ----

  private transport(value: unknown, path: string, index: number): ListenerConfig | undefined {
    const c = this.c;
    if (!c.isObject(value)) {
      c.error(path, `must be an object, got ${describe(value)}`);
      return undefined;
    }
    const kind = value['type'];
    const id = c.string(value['id'], join(path, 'id'), { required: false }) ?? `transport${index}`;
    const base = { id, websocket: {}, websocketAnyPath: false, static: {} };
    switch (kind) {
      case 'websocket': {
        const t = c.object(value, path, ['id', 'type', 'endpoint', 'serializers', 'options', 'auth', 'url', 'debug'], {
          cookie: `cookie tracking ${NOT_YET}`,
        })!;
        return {
          ...base, kind, websocketAnyPath: true,
          endpoint: this.endpoint(t['endpoint'], join(path, 'endpoint')),
          websocket: { '/': this.service(t, path, 'websocket') },
        };
      }
      case 'rawsocket': {
        const t = c.object(value, path, ['id', 'type', 'endpoint', 'serializers', 'options', 'max_message_size', 'auth', 'debug'])!;
        return {
          ...base, kind,
          endpoint: this.endpoint(t['endpoint'], join(path, 'endpoint')),
          rawsocket: this.service(t, path, 'rawsocket'),
        };
      }
      case 'web': {
        const t = c.object(value, path, ['id', 'type', 'endpoint', 'paths'], {
          options: 'web transport options (access_log, hsts, client_timeout, …) are not supported by Junction',
        })!;
        const listener: ListenerConfig = { ...base, kind, endpoint: this.endpoint(t['endpoint'], join(path, 'endpoint')) };
        this.paths(t['paths'], join(path, 'paths'), listener);
        return listener;
      }
      case 'universal':
        return this.universal(value, path, base);
      case 'mqtt': {
        const t = c.object(value, path, ['id', 'type', 'endpoint', 'options', 'auth', 'debug'])!;
        c.boolean(t['debug'], join(path, 'debug'), false);
        return { ...base, kind, endpoint: this.endpoint(t['endpoint'], join(path, 'endpoint')), mqtt: this.mqtt(t, path) };
      }
      default: {
        const typePath = join(path, 'type');
        if (kind === undefined) c.error(typePath, 'is required (one of "websocket", "rawsocket", "universal", "web", "mqtt")');
        else if (typeof kind === 'string' && TRANSPORT_TYPES_REFUSED[kind]) c.error(typePath, TRANSPORT_TYPES_REFUSED[kind]);
        else c.error(typePath, `must be one of "websocket", "rawsocket", "universal", "web", "mqtt", got ${describe(kind)}`);
        return undefined;
      }
    }
  }

  private universal(value: Obj, path: string, base: Pick<ListenerConfig, 'id' | 'websocket' | 'websocketAnyPath' | 'static'>): ListenerConfig {
    const c = this.c;
    const t = c.object(value, path, ['id', 'type', 'endpoint', 'rawsocket', 'websocket', 'web', 'mqtt'])!;
    const listener: ListenerConfig = { ...base, kind: 'universal', endpoint: this.endpoint(t['endpoint'], join(path, 'endpoint')) };
    const ownEndpoint = "a universal transport's sub-items share its endpoint; remove this one";

    if (t['rawsocket'] !== undefined) {
      const p = join(path, 'rawsocket');
      const r = c.object(t['rawsocket'], p, ['id', 'type', 'serializers', 'options', 'max_message_size', 'auth', 'debug'], { endpoint: ownEndpoint });
      if (r) {
        c.string(r['id'], join(p, 'id'), { required: false });
        if (r['type'] !== undefined) c.oneOf(r['type'], join(p, 'type'), ['rawsocket'] as const);
        listener.rawsocket = this.service(r, p, 'rawsocket');
      }
    }
    if (t['websocket'] !== undefined) {
      const p = join(path, 'websocket');
      for (const [key, svc] of Object.entries(c.map(t['websocket'], p) ?? {})) {
        const sp = join(p, key);
        if (!this.webPathKey(key, sp)) continue;
        const s = c.object(svc, sp, ['id', 'type', 'serializers', 'options', 'auth', 'url', 'debug'], {
          endpoint: ownEndpoint,
          cookie: `cookie tracking ${NOT_YET}`,
        });
        if (!s) continue;
        c.string(s['id'], join(sp, 'id'), { required: false });
        if (s['type'] !== undefined) c.oneOf(s['type'], join(sp, 'type'), ['websocket'] as const);
        listener.websocket[normalizeWebPath(key)] = this.service(s, sp, 'websocket');
      }
    }
    if (t['web'] !== undefined) {
      const p = join(path, 'web');
      const web = c.object(t['web'], p, ['paths'], {
        endpoint: ownEndpoint,
        options: 'web transport options (access_log, hsts, client_timeout, …) are not supported by Junction',
      });
      if (web) this.paths(web['paths'], join(p, 'paths'), listener);
    }
    if (t['mqtt'] !== undefined) {
      const p = join(path, 'mqtt');
      const m = c.object(t['mqtt'], p, ['id', 'type', 'options', 'auth', 'debug'], { endpoint: ownEndpoint });
      if (m) {
        if (m['type'] !== undefined) c.oneOf(m['type'], join(p, 'type'), ['mqtt'] as const);
        c.boolean(m['debug'], join(p, 'debug'), false);
        listener.mqtt = this.mqtt(m, p);
      }
    }
    if (!listener.rawsocket && !listener.mqtt && Object.keys(listener.websocket).length === 0 && Object.keys(listener.static).length === 0) {
      c.error(path, 'a universal transport needs at least one of rawsocket, websocket, web or mqtt');
    }
    return listener;
  }

  private webPathKey(key: string, path: string): boolean {
    if (WEB_PATH_KEY.test(key)) return true;
    this.c.error(path, `${JSON.stringify(key)} is not a valid path: use "/" or one segment of letters, digits, '_' and '-' (e.g. "ws")`);
    return false;
  }

  /** A web transport's `paths`, added to `listener`. */
  private paths(value: unknown, path: string, listener: ListenerConfig): void {
    const c = this.c;
    const paths = c.map(value, path);
    if (paths && Object.keys(paths).length === 0) c.error(path, 'must serve at least one path');
    for (const [key, entry] of Object.entries(paths ?? {})) {
      const p = join(path, key);
      if (!this.webPathKey(key, p)) continue;
      const url = normalizeWebPath(key);
      if (listener.websocket[url] || listener.static[url]) {
        c.error(p, `path ${url} is already served by this transport`);
        continue;
      }
      if (!c.isObject(entry)) {
        c.error(p, `must be an object, got ${describe(entry)}`);
        continue;
      }
      const type = entry['type'];
      if (type === 'static') {
        const s = c.object(entry, p, ['id', 'type', 'directory', 'options'], {
          package: "serving a Python package's resources is not supported by Junction; use directory",
          resource: "serving a Python package's resources is not supported by Junction; use directory",
        })!;
        c.string(s['id'], join(p, 'id'), { required: false });
        if (s['options'] !== undefined) this.staticOptions(s['options'], join(p, 'options'));
        const dir = this.directory(s['directory'], join(p, 'directory'));
        if (dir !== undefined) listener.static[url] = { type: 'static', directory: dir } satisfies StaticPathConfig;
      } else if (type === 'dashboard') {
        // Junction's own: the built-in status page (README, "Status dashboard").
        const s = c.object(entry, p, ['id', 'type', 'realm', 'websocket', 'setup'])!;
        c.string(s['id'], join(p, 'id'), { required: false });
        const realm = c.string(s['realm'], join(p, 'realm'), { required: false });
        if (realm !== undefined) this.realmRefs.push({ realm, path: join(p, 'realm') });
        // "ws" or "/ws", like the keys of the websocket map.
        const ws = c.string(s['websocket'], join(p, 'websocket'), { required: false })?.replace(/^\/(?=.)/, '');
        const dashboard: DashboardPathConfig = { type: 'dashboard', directory: DASHBOARD_DIR, realm: realm ?? '' };
        if (ws !== undefined && this.webPathKey(ws, join(p, 'websocket'))) {
          dashboard.websocket = normalizeWebPath(ws);
          this.dashboardRefs.push({ listener, websocket: dashboard.websocket, path: join(p, 'websocket') });
        }
        // The setup file may not exist yet (first boot writes it); it is read at each reveal.
        const setup = c.string(s['setup'], join(p, 'setup'), { required: false });
        if (setup !== undefined) dashboard.setup = this.file(setup);
        listener.static[url] = dashboard;
      } else if (type === 'websocket') {
        const s = c.object(entry, p, ['id', 'type', 'serializers', 'options', 'auth', 'url', 'debug'], {
          cookie: `cookie tracking ${NOT_YET}`,
        })!;
        c.string(s['id'], join(p, 'id'), { required: false });
        listener.websocket[url] = this.service(s, p, 'websocket');
      } else if (type === 'nodeinfo') {
        // In the config `crossbar init` writes; harmless to leave out.
        c.object(entry, p, ['id', 'type']);
        c.error(join(p, 'type'), `Crossbar's node info page is not served by Junction; remove the path '${url}'`);
      } else if (type === undefined) {
        c.error(join(p, 'type'), 'is required (one of "static", "websocket", "dashboard")');
      } else {
        c.error(join(p, 'type'), `web service type ${describe(type)} is not supported by Junction (supported: "static", "websocket", "dashboard")`);
      }
    }
  }

  /** Dashboard paths: the default realm (the first), and the WebSocket path they name must exist. */
  private dashboards(realms: RealmConfig[], listeners: ListenerConfig[]): void {
    for (const l of listeners) {
      for (const s of Object.values(l.static)) if (s.type === 'dashboard' && s.realm === '') s.realm = realms[0]?.name ?? '';
    }
    for (const ref of this.dashboardRefs) {
      if (!ref.listener.websocket[ref.websocket]) {
        this.c.error(ref.path, `this transport serves no WebSocket at ${ref.websocket} (it has: ${Object.keys(ref.listener.websocket).join(', ') || 'none'})`);
      }
    }
  }

  private staticOptions(value: unknown, path: string): void {
    const c = this.c;
    const o = c.object(value, path, ['enable_directory_listing'], {
      mime_types: 'is not supported by Junction (content types come from a built-in table)',
      cache_timeout: 'is not supported by Junction (static files are sent with Cache-Control: no-cache)',
      default_file: 'is not supported by Junction (a directory URL serves its index.html)',
    });
    if (!o) return;
    const p = join(path, 'enable_directory_listing');
    if (c.boolean(o['enable_directory_listing'], p, false)) {
      c.error(p, 'is not supported: Junction does not list directories (a directory URL serves its index.html); remove it or set it to false');
    }
  }

  private directory(value: unknown, path: string): string | undefined {
    const dir = this.c.string(value, path);
    if (dir === undefined) return undefined;
    const abs = this.file(dir);
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch (err) {
      this.c.error(path, `cannot use ${abs}: ${errorCode(err)}`);
      return undefined;
    }
    if (!isDir) {
      this.c.error(path, `${abs} is not a directory`);
      return undefined;
    }
    return abs;
  }

  private service(t: Obj, path: string, kind: 'websocket' | 'rawsocket'): WampServiceConfig {
    const c = this.c;
    const serPath = join(path, 'serializers');
    const serializers: SerializerName[] = [];
    const list = t['serializers'] === undefined ? [...SERIALIZERS] : c.array(t['serializers'], serPath, { nonEmpty: true }) ?? [];
    list.forEach((s, i) => {
      const p = join(serPath, i);
      if (s === 'ubjson' || s === 'flatbuffers') c.error(p, `serializer "${s}" is not supported by Junction (supported: json, msgpack, cbor)`);
      else if (serializers.includes(s as SerializerName)) c.error(p, `serializer "${String(s)}" is listed twice`);
      else {
        const name = c.oneOf(s, p, SERIALIZERS);
        if (name) serializers.push(name);
      }
    });
    // `debug` (Crossbar's per-transport debug logging) and `url` (the public URL, informational)
    // cannot change behaviour: accepted, type-checked, not used.
    c.boolean(t['debug'], join(path, 'debug'), false);
    if (kind === 'websocket' && t['url'] !== undefined) this.wsUrl(t['url'], join(path, 'url'));

    const options = this.options(t['options'], join(path, 'options'), kind);
    if (kind === 'rawsocket' && t['max_message_size'] !== undefined) {
      // Older Crossbar configs put it beside `serializers`, newer ones in `options`.
      const p = join(path, 'max_message_size');
      if (c.isObject(t['options']) && t['options']['max_message_size'] !== undefined) c.error(p, 'is also set in options; keep one');
      else options.maxMessageSize = c.integer(t['max_message_size'], p, options.maxMessageSize, 1, 64 * MIB)!;
    }
    const service: WampServiceConfig = { serializers, options };
    if (t['auth'] !== undefined) service.auth = this.auth(t['auth'], join(path, 'auth'));
    else this.openServices.push(path);
    return service;
  }

  private wsUrl(value: unknown, path: string): void {
    const url = this.c.string(value, path);
    if (url === undefined) return;
    let ok = false;
    try {
      ok = ['ws:', 'wss:'].includes(new URL(url).protocol);
    } catch {
      ok = false;
    }
    if (!ok) this.c.error(path, `must be a ws:// or wss:// URL, got ${JSON.stringify(url)}`);
  }

  private options(value: unknown, path: string, kind: 'websocket' | 'rawsocket'): WampTransportOptions {
    const c = this.c;
    const d = DEFAULT_TRANSPORT_OPTIONS;
    const out: WampTransportOptions = { ...d, allowedOrigins: [...d.allowedOrigins] };
    if (value === undefined) return out;
    const known = kind === 'websocket'
      ? ['max_message_size', 'auto_ping_interval', 'auto_ping_timeout', 'auto_ping_size', 'open_handshake_timeout', 'allowed_origins']
      : ['max_message_size', 'auto_ping_interval', 'auto_ping_timeout', 'open_handshake_timeout'];
    const tolerated = kind === 'websocket' ? Object.keys(WS_OPTIONS_WITHOUT_EFFECT) : [];
    // Junction's limit keys are taken apart from Crossbar's (and left out of the "supported" hint,
    // which lists what Crossbar configs carry).
    let crossbarOnly = value;
    if (c.isObject(value) && LIMIT_OPTIONS.some((k) => k in value)) {
      crossbarOnly = Object.fromEntries(Object.entries(value).filter(([k]) => !LIMIT_OPTIONS.includes(k)));
    }
    const o = c.object(crossbarOnly, path, [...known, ...tolerated]);
    if (!o) return out;
    for (const key of tolerated) {
      const rule = WS_OPTIONS_WITHOUT_EFFECT[key]!;
      // Refused, as every unsupported key is, unless its value says what Junction does anyway.
      if (o[key] !== undefined && o[key] !== rule.quiet) {
        c.error(join(path, key), `is not supported by Junction: ${rule.reason}${rule.quiet !== undefined ? ` (remove it, or set it to ${String(rule.quiet)})` : ' (remove it)'}`);
      }
    }
    out.maxMessageSize = c.integer(o['max_message_size'], join(path, 'max_message_size'), d.maxMessageSize, 1, 64 * MIB)!;
    out.autoPingInterval = this.milliseconds(o['auto_ping_interval'], join(path, 'auto_ping_interval'), d.autoPingInterval, true);
    out.autoPingTimeout = this.milliseconds(o['auto_ping_timeout'], join(path, 'auto_ping_timeout'), d.autoPingTimeout, true);
    out.openHandshakeTimeout = this.milliseconds(o['open_handshake_timeout'], join(path, 'open_handshake_timeout'), d.openHandshakeTimeout, false);
    if (out.autoPingTimeout > 0 && out.autoPingInterval === 0) {
      c.warn(join(path, 'auto_ping_timeout'), 'has no effect without auto_ping_interval');
    }
    this.limits(value as Obj, path, out);
    if (kind === 'websocket') {
      out.autoPingSize = c.integer(o['auto_ping_size'], join(path, 'auto_ping_size'), d.autoPingSize, 0, 125)!;
      if (o['allowed_origins'] !== undefined) {
        const op = join(path, 'allowed_origins');
        const list = c.array(o['allowed_origins'], op, { nonEmpty: true }) ?? [];
        out.allowedOrigins = list.map((x, i) => c.string(x, join(op, i))).filter((x): x is string => x !== undefined);
      }
    }
    return out;
  }

  /** Junction's limits in a transport's `options`: send queue and its policy, message rate. */
  private limits(o: Obj, path: string, out: WampTransportOptions): void {
    const c = this.c;
    const d = DEFAULT_TRANSPORT_OPTIONS;
    out.maxSendQueue = c.integer(o['max_send_queue'], join(path, 'max_send_queue'), d.maxSendQueue, 1024, 1024 * MIB)!;
    out.sendQueuePolicy = c.oneOf(o['send_queue_policy'], join(path, 'send_queue_policy'), SEND_QUEUE_POLICIES, d.sendQueuePolicy)!;
    out.maxMessagesPerSecond = c.integer(o['max_messages_per_second'], join(path, 'max_messages_per_second'), d.maxMessagesPerSecond, 0, 1_000_000)!;
    out.maxMessagesBurst = c.integer(o['max_messages_burst'], join(path, 'max_messages_burst'), d.maxMessagesBurst, 0, 1_000_000)!;
    out.maxUnauthenticatedBytes = c.integer(o['max_unauthenticated_bytes'], join(path, 'max_unauthenticated_bytes'), d.maxUnauthenticatedBytes, 1024, 64 * MIB)!;
    if (o['max_messages_burst'] !== undefined && out.maxMessagesPerSecond === 0) {
      c.warn(join(path, 'max_messages_burst'), 'has no effect without max_messages_per_second');
    }
  }

  /** Milliseconds as Crossbar takes them: 0 (off, where allowed) or at least 1000, to catch seconds. */
  private milliseconds(value: unknown, path: string, fallback: number, zeroMeansOff: boolean): number {
    const v = this.c.integer(value, path, fallback, 0, 86_400_000)!;
    if (value === undefined || v !== value) return v;
    if (v === 0 && !zeroMeansOff) {
      this.c.error(path, 'must be at least 1000 ms (Junction always limits the opening handshake)');
      return fallback;
    }
    if (v > 0 && v < 1000) {
      this.c.error(path, `is in milliseconds; ${v} is too small (at least 1000${zeroMeansOff ? ', or 0 for off' : ''})`);
      return fallback;
    }
    return v;
  }

  // ---- MQTT (load-mqtt.ts) ----

  private mqtt(t: Obj, path: string): MqttServiceConfig {
    const service = parseMqttService(this.c, t, path, { realmRefs: this.realmRefs, roleRefs: this.roleRefs, auth: (v, p) => this.auth(v, p) });
    if (!service.auth && !service.role) this.openServices.push(path);
    return service;
  }

  // ---- authentication (load-auth.ts) ----

  private auth(value: unknown, path: string): AuthConfig {
    return parseAuth(this.c, value, path, { roleRefs: this.roleRefs, file: (p) => this.file(p) });
  }

  // ---- endpoints ----

  private endpoint(value: unknown, path: string): EndpointConfig {
    const c = this.c;
    const fallback: EndpointConfig = { type: 'tcp', port: 0 };
    if (!c.isObject(value)) {
      c.error(path, value === undefined
        ? 'is required: an object with type "tcp" (port, interface) or "unix" (path)'
        : `must be an object, got ${describe(value)}`);
      return fallback;
    }
    const type = value['type'];
    if (type === 'unix') {
      const e = c.object(value, path, ['type', 'path', 'tls', 'max_connections'], {
        backlog: 'is not supported by Junction for Unix sockets',
      })!;
      const p = c.string(e['path'], join(path, 'path'));
      const abs = p === undefined ? '' : this.file(p);
      if (Buffer.byteLength(abs) > MAX_UNIX_PATH) c.error(join(path, 'path'), `${abs} is too long for a Unix socket (at most ${MAX_UNIX_PATH} bytes)`);
      const endpoint: EndpointConfig = { type: 'unix', path: abs };
      if (e['tls'] !== undefined) {
        const tls = this.tls(e['tls'], join(path, 'tls'));
        if (tls) endpoint.tls = tls;
      }
      this.maxConnections(e, path, endpoint);
      return endpoint;
    }
    if (type !== 'tcp') {
      const typePath = join(path, 'type');
      if (type === undefined) c.error(typePath, 'is required ("tcp" or "unix")');
      else if (type === 'twisted' || type === 'onion') c.error(typePath, `endpoint type "${type}" is not supported by Junction (use "tcp" or "unix")`);
      else c.error(typePath, `must be "tcp" or "unix", got ${describe(type)}`);
      return fallback;
    }
    const e = c.object(value, path, ['type', 'port', 'interface', 'version', 'backlog', 'tls', 'max_connections'], {
      shared: 'is not supported by Junction (one process owns the port)',
      portrange: 'is not supported by Junction; give one port',
      user_timeout: 'is not supported by Junction',
    })!;
    const version = e['version'] === undefined ? undefined : c.oneOf(e['version'], join(path, 'version'), [4, 6] as const);
    const ifacePath = join(path, 'interface');
    let iface = c.string(e['interface'], ifacePath, { required: false });
    if (iface !== undefined) {
      const family = isIP(iface);
      if (family === 0) {
        c.error(ifacePath, `must be an IP address such as "127.0.0.1", "0.0.0.0" or "::", got ${JSON.stringify(iface)}`);
        iface = undefined;
      } else if (version !== undefined && family !== version) {
        c.error(ifacePath, `${iface} is an IPv${family} address but version is ${version}`);
      }
    }
    const endpoint: EndpointConfig = {
      type: 'tcp',
      // 0 asks the OS for a free port (useful in tests).
      port: c.integer(e['port'], join(path, 'port'), undefined, 0, 65535) ?? 0,
      // Crossbar listens on every interface unless told otherwise; so does Junction.
      interface: iface ?? (version === 6 ? '::' : '0.0.0.0'),
    };
    if (version !== undefined) endpoint.version = version;
    if (e['backlog'] !== undefined) {
      const backlog = c.integer(e['backlog'], join(path, 'backlog'), undefined, 1, 65535);
      if (backlog !== undefined) endpoint.backlog = backlog;
    }
    if (e['tls'] !== undefined) {
      const tls = this.tls(e['tls'], join(path, 'tls'));
      if (tls) endpoint.tls = tls;
    }
    this.maxConnections(e, path, endpoint);
    return endpoint;
  }

  /** `max_connections` (Junction's own): connections open at once on the endpoint; absent = no limit. */
  private maxConnections(e: Obj, path: string, endpoint: EndpointConfig): void {
    if (e['max_connections'] === undefined) return;
    const max = this.c.integer(e['max_connections'], join(path, 'max_connections'), undefined, 1, 1_000_000);
    if (max !== undefined) endpoint.maxConnections = max;
  }

  /**
   * TLS files (paths relative to the config file) are read and checked here: the key must be an
   * unencrypted private key, the certificate must parse and belong to the key. `chain_certificates`
   * (Crossbar) are appended to the certificate; `ca` (Junction) and `ca_certificates` (Crossbar)
   * are joined into `ca`.
   */
  private tls(value: unknown, path: string): TlsConfig | undefined {
    const c = this.c;
    const t = c.object(value, path, ['key', 'certificate', 'chain_certificates', 'ca', 'ca_certificates'], {
      dhparam: 'is not supported by Junction (Node.js picks the key exchange); remove it',
      ciphers: 'is not supported by Junction (Node.js default cipher list); remove it',
    });
    if (!t) return undefined;
    const keyPath = join(path, 'key');
    const certPath = join(path, 'certificate');
    const keyPem = this.pemFile(t['key'], keyPath, true);
    let certPem = this.pemFile(t['certificate'], certPath, true);
    const chain = this.pemFiles(t['chain_certificates'], join(path, 'chain_certificates'));
    const ca = [this.pemFile(t['ca'], join(path, 'ca'), false), ...this.pemFiles(t['ca_certificates'], join(path, 'ca_certificates'))]
      .filter((x): x is string => x !== undefined);

    let key: ReturnType<typeof createPrivateKey> | undefined;
    if (keyPem !== undefined) {
      try {
        key = createPrivateKey(keyPem);
      } catch (err) {
        const encrypted = /ENCRYPTED/.test(keyPem);
        c.error(keyPath, encrypted
          ? 'the private key is encrypted; Junction needs it without a passphrase'
          : `not a usable private key: ${(err as Error).message}`);
      }
    }
    if (certPem !== undefined) {
      try {
        const cert = new X509Certificate(certPem);
        if (key && !cert.checkPrivateKey(key)) c.error(certPath, 'does not belong to the private key given in key');
        const expires = new Date(cert.validTo);
        if (expires.getTime() < Date.now()) c.warn(certPath, `the certificate expired on ${expires.toISOString()}`);
      } catch (err) {
        c.error(certPath, `not a usable certificate: ${(err as Error).message}`);
        certPem = undefined;
      }
    }
    if (keyPem === undefined || certPem === undefined || !key) return undefined;
    const tls: TlsConfig = { key: keyPem, certificate: [certPem, ...chain].map((p) => p.trimEnd() + '\n').join('') };
    if (ca.length > 0) tls.ca = ca.map((p) => p.trimEnd() + '\n').join('');
    return tls;
  }

  private pemFiles(value: unknown, path: string): string[] {
    return (this.c.array(value, path) ?? [])
      .map((f, i) => this.pemFile(f, join(path, i), true))
      .filter((x): x is string => x !== undefined);
  }

  /** Reads a PEM file named (relative to the config file) by `value`. */
  private pemFile(value: unknown, path: string, required: boolean): string | undefined {
    const file = this.c.string(value, path, { required });
    if (file === undefined) return undefined;
    const abs = this.file(file);
    let text: string;
    try {
      text = readFileSync(abs, 'utf8');
    } catch (err) {
      this.c.error(path, `cannot read ${abs}: ${errorCode(err)}`);
      return undefined;
    }
    if (!text.includes('-----BEGIN ')) {
      this.c.error(path, `${abs} is not a PEM file (no "-----BEGIN" line)`);
      return undefined;
    }
    return text;
  }

  private file(p: string): string {
    return isAbsolute(p) ? p : resolve(this.baseDir, p);
  }

  // ---- across listeners ----

  private checkListenersDistinct(entries: Array<{ i: number; listener: ListenerConfig }>, path: string): void {
    const ids = new Map<string, number>();
    const endpoints: Array<{ i: number; endpoint: EndpointConfig }> = [];
    for (const { i, listener } of entries) {
      const first = ids.get(listener.id);
      if (first !== undefined) this.c.error(join(join(path, i), 'id'), `transport id '${listener.id}' is already used by ${join(path, first)}`);
      else ids.set(listener.id, i);

      const e = listener.endpoint;
      const clash = endpoints.find(({ endpoint: o }) => {
        if (e.type === 'unix' || o.type === 'unix') return e.type === 'unix' && o.type === 'unix' && e.path !== '' && e.path === o.path;
        if (e.port === 0 || e.port !== o.port) return false;
        return e.interface === o.interface || isWildcardInterface(e.interface) || isWildcardInterface(o.interface);
      });
      if (clash) {
        const what = e.type === 'unix' ? `Unix socket ${e.path}` : `TCP port ${e.port}`;
        this.c.error(join(join(path, i), 'endpoint'), `${what} is already used by ${join(path, clash.i)}`);
      } else {
        endpoints.push({ i, endpoint: e });
      }
    }
  }
}

function errorCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'no such file or directory';
  if (e.code === 'EACCES') return 'permission denied';
  return e.code ?? e.message;
}

/**
 * Validates an already-parsed config document (Crossbar format) and returns the typed config.
 * `source` names the file in error messages; `baseDir` resolves relative file paths (TLS files,
 * static directories, Unix sockets), default the working directory. TLS files are read (sync).
 * Throws ConfigError listing every problem found.
 */
export function parseConfig(raw: unknown, source?: string, baseDir: string = process.cwd()): JunctionConfig {
  return new ConfigParser(baseDir).parse(raw, source);
}

/** Parses config text as JSON or YAML (every syntax error becomes a ConfigError). */
export function parseConfigText(text: string, format: 'json' | 'yaml', source?: string): unknown {
  const fail = (message: string): never => {
    throw new ConfigError([{ path: '', message }], source);
  };
  if (format === 'json') {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      const message = (err as Error).message;
      const pos = /at position (\d+)/.exec(message);
      fail(`not valid JSON: ${message.replace(/ in JSON at position \d+.*/, '')}${pos ? ` (${lineColumn(text, Number(pos[1]))})` : ''}`);
    }
    const duplicates = duplicateKeys(text, library<typeof import('jsonc-parser')>('jsonc-parser').visit);
    if (duplicates.length > 0) throw new ConfigError(duplicates, source);
    return raw;
  }
  try {
    const raw: unknown = yaml().parse(text, { uniqueKeys: true, prettyErrors: true });
    return raw;
  } catch (err) {
    return fail(`not valid YAML: ${firstLine((err as Error).message)}`);
  }
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
    throw new ConfigError([{ path: '', message: `cannot read ${resolve(path)}: ${errorCode(err)}` }], path);
  }
  return parseConfig(parseConfigText(text, format, path), path, dirname(resolve(path)));
}

/**
 * The embedded default, used without --config: one universal listener 'default' on
 * 127.0.0.1:8080 (RawSocket, WebSocket at /ws; json, msgpack, cbor), realm 'realm1' where the role
 * 'anonymous' may do everything; no auth block, so every client joins as 'anonymous'. HTTP '/' is
 * the status dashboard, which joins through the WebSocket path /dashboard-ws as the built-in
 * read-only role 'monitor' (src/config/dashboard-roles.ts): on loopback, where anonymous may do
 * everything anyway, the page shows the whole view without a login.
 */
export function defaultConfig(): JunctionConfig {
  const service = (): WampServiceConfig => ({
    serializers: [...SERIALIZERS],
    options: { ...DEFAULT_TRANSPORT_OPTIONS, allowedOrigins: [...DEFAULT_TRANSPORT_OPTIONS.allowedOrigins] },
  });
  return {
    router: {
      realms: [{
        name: 'realm1',
        roles: [{ name: ANONYMOUS_ROLE, permissions: [allowAll()] }, monitorRole()],
        uriCheck: 'loose',
        enableMetaApi: true,
      }],
      listeners: [{
        id: 'default',
        kind: 'universal',
        endpoint: { type: 'tcp', port: 8080, interface: '127.0.0.1' },
        rawsocket: service(),
        websocket: {
          '/ws': service(),
          // The dashboard's own path: anonymous clients here get the read-only role 'monitor'.
          '/dashboard-ws': { ...service(), auth: { anonymous: { type: 'static', role: MONITOR_ROLE } } },
        },
        websocketAnyPath: false,
        static: { '/': { type: 'dashboard', directory: DASHBOARD_DIR, realm: 'realm1', websocket: '/dashboard-ws' } },
      }],
    },
  };
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim().replace(/:$/, '');
}

