// Loads and validates a configuration file (JSON or YAML) in Crossbar.io's format and produces the
// typed JunctionConfig. Every problem is reported with the JSON path of the key at fault; a key
// Junction does not support is an error, never silently ignored.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  DEFAULT_TRANSPORT_OPTIONS,
  type AuthConfig, type CallQueueConfig, type EndpointConfig, type EventHistoryConfig, type JunctionConfig,
  type ListenerConfig, type MatchPolicy, type PermissionConfig, type RealmConfig, type RealmStoreConfig,
  type RoleConfig, type SerializerName, type StaticPathConfig, type TlsConfig, type WampServiceConfig,
  type WampTransportOptions,
} from './types.js';
import { Checker, ConfigError, join, type Obj } from './check-values.js';
import { isValidPattern, isValidUri } from '../wamp/uri.js';

export { ConfigError } from './check-values.js';
export type { ConfigIssue } from './check-values.js';

const MATCHES: readonly MatchPolicy[] = ['exact', 'prefix', 'wildcard'];
const SERIALIZERS: readonly SerializerName[] = ['json', 'msgpack', 'cbor'];
const NOT_YET = 'is not supported by Junction yet';

/** Crossbar's "starred" URIs, used when a permission has no `match`: 'a.*' → prefix 'a.', 'a.*.c' → wildcard 'a..c'. */
export function convertStarredUri(uri: string): { uri: string; match: MatchPolicy } {
  if (!uri.includes('*')) return { uri, match: 'exact' };
  if (uri.indexOf('*') === uri.length - 1 && !uri.slice(0, -1).includes('*')) return { uri: uri.slice(0, -1), match: 'prefix' };
  return { uri: uri.split('.').map((c) => (c === '*' ? '' : c)).join('.'), match: 'wildcard' };
}

class ConfigParser {
  private readonly c = new Checker();
  private readonly roleRefs: Array<{ role: string; path: string }> = [];

  constructor(private readonly baseDir: string) {}

  parse(raw: unknown, source?: string): JunctionConfig {
    const c = this.c;
    const root = c.object(raw, '', ['$schema', 'version', 'controller', 'workers']);
    let realms: RealmConfig[] = [];
    let listeners: ListenerConfig[] = [];
    if (root) {
      if (root['version'] !== 2) c.error('version', `must be 2 (Crossbar config format version 2), got ${JSON.stringify(root['version'])}`);
      if (root['controller'] !== undefined) c.object(root['controller'], 'controller', ['id']);
      const workers = c.array(root['workers'], 'workers');
      if (workers) {
        const routers = workers.map((w, i) => ({ w, i })).filter(({ w, i }) => {
          const type = c.isObject(w) ? w['type'] : undefined;
          if (type === 'router') return true;
          c.error(join(join('workers', i), 'type'), `worker type ${JSON.stringify(type)} is not supported: Junction runs one worker of type "router"`);
          return false;
        });
        if (routers.length === 0 && workers.length === 0) c.error('workers', 'must hold one worker of type "router"');
        if (routers.length > 1) c.error(join('workers', routers[1]!.i), 'only one router worker is supported');
        const first = routers[0];
        if (first) ({ realms, listeners } = this.router(first.w, join('workers', first.i)));
      }
    }
    const names = new Set(realms.flatMap((r) => r.roles.map((role) => role.name)).concat(['trusted']));
    for (const ref of this.roleRefs) {
      if (!names.has(ref.role)) c.error(ref.path, `role '${ref.role}' is not defined in any realm`);
    }
    if (c.issues.length > 0) throw new ConfigError(c.issues, source);
    return { source, router: { realms, listeners } };
  }

  private router(value: unknown, path: string): { realms: RealmConfig[]; listeners: ListenerConfig[] } {
    const c = this.c;
    const w = c.object(value, path, ['type', 'id', 'options', 'realms', 'transports']);
    if (!w) return { realms: [], listeners: [] };
    if (w['options'] !== undefined) c.object(w['options'], join(path, 'options'), ['title']);
    const realms = (c.array(w['realms'], join(path, 'realms')) ?? []).map((r, i) => this.realm(r, join(join(path, 'realms'), i)));
    const seen = new Set<string>();
    realms.forEach((r, i) => {
      if (seen.has(r.name)) c.error(join(join(join(path, 'realms'), i), 'name'), `realm '${r.name}' is defined twice`);
      seen.add(r.name);
    });
    const listeners = (c.array(w['transports'], join(path, 'transports')) ?? [])
      .map((t, i) => this.transport(t, join(join(path, 'transports'), i), i))
      .filter((l): l is ListenerConfig => l !== undefined);
    this.checkEndpointsUnique(listeners, join(path, 'transports'));
    return { realms, listeners };
  }

  // ---- realms ----

  private realm(value: unknown, path: string): RealmConfig {
    const c = this.c;
    const r = c.object(value, path, ['name', 'roles', 'store', 'options']) ?? {};
    const name = c.string(r['name'], join(path, 'name')) ?? '';
    if (name && !isValidUri(name)) c.error(join(path, 'name'), `'${name}' is not a valid realm URI`);
    const realm: RealmConfig = { name, roles: [] };
    const roles = c.array(r['roles'] ?? [], join(path, 'roles')) ?? [];
    const roleNames = new Set<string>();
    roles.forEach((role, i) => {
      const parsed = this.role(role, join(join(path, 'roles'), i));
      if (roleNames.has(parsed.name)) c.error(join(join(join(path, 'roles'), i), 'name'), `role '${parsed.name}' is defined twice in this realm`);
      roleNames.add(parsed.name);
      realm.roles.push(parsed);
    });
    if (r['store'] !== undefined) realm.store = this.store(r['store'], join(path, 'store'));
    if (r['options'] !== undefined) {
      const o = c.object(r['options'], join(path, 'options'), ['uri_check', 'enable_meta_api']);
      if (o) {
        realm.uriCheck = c.oneOf(o['uri_check'], join(join(path, 'options'), 'uri_check'), ['loose', 'strict'] as const, 'loose');
        realm.enableMetaApi = c.boolean(o['enable_meta_api'], join(join(path, 'options'), 'enable_meta_api'), true);
      }
    }
    return realm;
  }

  private role(value: unknown, path: string): RoleConfig {
    const c = this.c;
    const r = c.object(value, path, ['name', 'permissions', 'allow-by-default', 'authorizer']) ?? {};
    const name = c.string(r['name'], join(path, 'name')) ?? '';
    if (r['authorizer'] !== undefined) c.error(join(path, 'authorizer'), `dynamic authorization ${NOT_YET}; use permissions`);
    const permissions = (c.array(r['permissions'] ?? [], join(path, 'permissions')) ?? [])
      .map((p, i) => this.permission(p, join(join(path, 'permissions'), i)));
    // Crossbar: a role with no permissions may allow everything by default.
    if (c.boolean(r['allow-by-default'], join(path, 'allow-by-default'), false) && permissions.length === 0) {
      permissions.push({ uri: '', match: 'prefix', cache: true, allow: { call: true, register: true, publish: true, subscribe: true }, disclose: { caller: false, publisher: false } });
    }
    return { name, permissions };
  }

  private permission(value: unknown, path: string): PermissionConfig {
    const c = this.c;
    const p = c.object(value, path, ['uri', 'match', 'allow', 'disclose', 'cache', 'validate']) ?? {};
    if (p['validate'] !== undefined) c.error(join(path, 'validate'), `payload validation ${NOT_YET}`);
    const { uri, match } = this.uriAndMatch(p, path);
    const allow = c.object(p['allow'] ?? {}, join(path, 'allow'), ['call', 'register', 'publish', 'subscribe']) ?? {};
    const disclose = c.object(p['disclose'] ?? {}, join(path, 'disclose'), ['caller', 'publisher']) ?? {};
    const a = join(path, 'allow');
    const d = join(path, 'disclose');
    return {
      uri, match,
      allow: {
        call: c.boolean(allow['call'], join(a, 'call'), false),
        register: c.boolean(allow['register'], join(a, 'register'), false),
        publish: c.boolean(allow['publish'], join(a, 'publish'), false),
        subscribe: c.boolean(allow['subscribe'], join(a, 'subscribe'), false),
      },
      disclose: {
        caller: c.boolean(disclose['caller'], join(d, 'caller'), false),
        publisher: c.boolean(disclose['publisher'], join(d, 'publisher'), false),
      },
      cache: c.boolean(p['cache'], join(path, 'cache'), true),
    };
  }

  /** `uri` with `match`, or a starred `uri` without it. */
  private uriAndMatch(o: Obj, path: string): { uri: string; match: MatchPolicy } {
    const c = this.c;
    const raw = c.string(o['uri'], join(path, 'uri')) ?? '';
    let uri = raw;
    let match: MatchPolicy;
    if (o['match'] === undefined) ({ uri, match } = convertStarredUri(raw));
    else match = c.oneOf(o['match'], join(path, 'match'), MATCHES, 'exact')!;
    if (!(match === 'prefix' && uri === '') && !isValidPattern(uri, match)) {
      c.error(join(path, 'uri'), `'${raw}' is not a valid URI for match '${match}'`);
    }
    return { uri, match };
  }

  private store(value: unknown, path: string): RealmStoreConfig {
    const c = this.c;
    const s = c.object(value, path, ['type', 'limit', 'call-queue', 'event-history']) ?? {};
    c.oneOf(s['type'], join(path, 'type'), ['memory'] as const);
    const queuePath = join(path, 'call-queue');
    const historyPath = join(path, 'event-history');
    const callQueue: CallQueueConfig[] = (c.array(s['call-queue'] ?? [], queuePath) ?? []).map((e, i) => {
      const p = join(queuePath, i);
      const o = c.object(e, p, ['uri', 'match', 'limit', 'timeout']) ?? {};
      return {
        ...this.uriAndMatch(o, p),
        limit: c.integer(o['limit'], join(p, 'limit'), undefined, 0, 1_000_000) ?? 0,
        timeout: c.integer(o['timeout'], join(p, 'timeout'), 30_000, 1, 86_400_000)!,
      };
    });
    const limit = c.integer(s['limit'], join(path, 'limit'), 100, 0, 1_000_000)!;
    const eventHistory: EventHistoryConfig[] = (c.array(s['event-history'] ?? [], historyPath) ?? []).map((e, i) => {
      const p = join(historyPath, i);
      const o = c.object(e, p, ['uri', 'match', 'limit']) ?? {};
      return { ...this.uriAndMatch(o, p), limit: c.integer(o['limit'], join(p, 'limit'), limit, 0, 1_000_000)! };
    });
    return { type: 'memory', limit, callQueue, eventHistory };
  }

  // ---- transports ----

  private transport(value: unknown, path: string, index: number): ListenerConfig | undefined {
    const c = this.c;
    if (!c.isObject(value)) {
      c.error(path, 'must be an object');
      return undefined;
    }
    const kind = value['type'];
    const id = typeof value['id'] === 'string' ? value['id'] : `transport${index}`;
    const base = { id, websocket: {}, websocketAnyPath: false, static: {} };
    switch (kind) {
      case 'websocket': {
        const t = c.object(value, path, ['id', 'type', 'endpoint', 'serializers', 'options', 'auth', 'url', 'debug'])!;
        return { ...base, kind, endpoint: this.endpoint(t['endpoint'], join(path, 'endpoint')), websocket: { '/': this.service(t, path, 'websocket') }, websocketAnyPath: true };
      }
      case 'rawsocket': {
        const t = c.object(value, path, ['id', 'type', 'endpoint', 'serializers', 'options', 'auth', 'debug'])!;
        return { ...base, kind, endpoint: this.endpoint(t['endpoint'], join(path, 'endpoint')), rawsocket: this.service(t, path, 'rawsocket') };
      }
      case 'web': {
        const t = c.object(value, path, ['id', 'type', 'endpoint', 'paths'])!;
        return { ...base, kind, endpoint: this.endpoint(t['endpoint'], join(path, 'endpoint')), ...this.paths(t['paths'], join(path, 'paths')) };
      }
      case 'universal': {
        const t = c.object(value, path, ['id', 'type', 'endpoint', 'rawsocket', 'websocket', 'web', 'mqtt'])!;
        if (t['mqtt'] !== undefined) c.error(join(path, 'mqtt'), `MQTT ${NOT_YET}`);
        const listener: ListenerConfig = { ...base, kind, endpoint: this.endpoint(t['endpoint'], join(path, 'endpoint')) };
        if (t['rawsocket'] !== undefined) {
          const p = join(path, 'rawsocket');
          const r = c.object(t['rawsocket'], p, ['serializers', 'options', 'auth', 'debug']);
          if (r) listener.rawsocket = this.service(r, p, 'rawsocket');
        }
        if (t['websocket'] !== undefined) {
          const p = join(path, 'websocket');
          const map = c.object(t['websocket'], p, Object.keys(c.isObject(t['websocket']) ? t['websocket'] : {})) ?? {};
          for (const [key, svc] of Object.entries(map)) {
            const sp = join(p, key);
            const s = c.object(svc, sp, ['type', 'serializers', 'options', 'auth', 'url', 'debug']);
            if (!s) continue;
            if (s['type'] !== undefined && s['type'] !== 'websocket') c.error(join(sp, 'type'), 'must be "websocket"');
            listener.websocket[normalizePath(key)] = this.service(s, sp, 'websocket');
          }
        }
        if (t['web'] !== undefined) {
          const p = join(path, 'web');
          const web = c.object(t['web'], p, ['paths']);
          if (web) {
            const parsed = this.paths(web['paths'], join(p, 'paths'));
            Object.assign(listener.websocket, parsed.websocket);
            Object.assign(listener.static, parsed.static);
          }
        }
        if (!listener.rawsocket && Object.keys(listener.websocket).length === 0 && Object.keys(listener.static).length === 0) {
          c.error(path, 'a universal transport needs at least one of rawsocket, websocket or web');
        }
        return listener;
      }
      case 'mqtt':
        c.error(join(path, 'type'), `transport type "mqtt" ${NOT_YET}`);
        return undefined;
      default:
        c.error(join(path, 'type'), `must be one of websocket, rawsocket, universal, web; got ${JSON.stringify(kind)}`);
        return undefined;
    }
  }

  private paths(value: unknown, path: string): Pick<ListenerConfig, 'websocket' | 'static'> {
    const c = this.c;
    const out: Pick<ListenerConfig, 'websocket' | 'static'> = { websocket: {}, static: {} };
    if (!c.isObject(value)) {
      c.error(path, 'must be an object mapping URL paths to services');
      return out;
    }
    for (const [key, entry] of Object.entries(value)) {
      const p = join(path, key);
      const type = c.isObject(entry) ? entry['type'] : undefined;
      if (type === 'static') {
        const s = c.object(entry, p, ['type', 'directory']);
        const dir = s ? c.string(s['directory'], join(p, 'directory')) : undefined;
        if (dir !== undefined) out.static[normalizePath(key)] = { type: 'static', directory: this.file(dir) } satisfies StaticPathConfig;
      } else if (type === 'websocket') {
        const s = c.object(entry, p, ['type', 'serializers', 'options', 'auth', 'url', 'debug']);
        if (s) out.websocket[normalizePath(key)] = this.service(s, p, 'websocket');
      } else {
        c.error(join(p, 'type'), `web path type ${JSON.stringify(type)} ${NOT_YET} (supported: static, websocket)`);
      }
    }
    return out;
  }

  private service(t: Obj, path: string, kind: 'websocket' | 'rawsocket'): WampServiceConfig {
    const c = this.c;
    const serializers = (c.array(t['serializers'] ?? [...SERIALIZERS], join(path, 'serializers')) ?? [...SERIALIZERS])
      .map((s, i) => c.oneOf(s, join(join(path, 'serializers'), i), SERIALIZERS))
      .filter((s): s is SerializerName => s !== undefined);
    if (serializers.length === 0) c.error(join(path, 'serializers'), 'must name at least one serializer');
    const service: WampServiceConfig = { serializers, options: this.options(t['options'], join(path, 'options'), kind) };
    if (t['auth'] !== undefined) service.auth = this.auth(t['auth'], join(path, 'auth'));
    return service;
  }

  private options(value: unknown, path: string, kind: 'websocket' | 'rawsocket'): WampTransportOptions {
    const c = this.c;
    const d = DEFAULT_TRANSPORT_OPTIONS;
    if (value === undefined) return { ...d };
    const allowed = kind === 'websocket'
      ? ['max_message_size', 'auto_ping_interval', 'auto_ping_timeout', 'auto_ping_size', 'open_handshake_timeout', 'allowed_origins']
      : ['max_message_size', 'auto_ping_interval', 'auto_ping_timeout', 'open_handshake_timeout'];
    const o = c.object(value, path, allowed) ?? {};
    const origins = o['allowed_origins'] === undefined
      ? d.allowedOrigins
      : (c.array(o['allowed_origins'], join(path, 'allowed_origins')) ?? []).map((x, i) => c.string(x, join(join(path, 'allowed_origins'), i)) ?? '');
    return {
      maxMessageSize: c.integer(o['max_message_size'], join(path, 'max_message_size'), d.maxMessageSize, 512, kind === 'rawsocket' ? 2 ** 24 : 64 * 2 ** 20)!,
      autoPingInterval: c.integer(o['auto_ping_interval'], join(path, 'auto_ping_interval'), d.autoPingInterval, 0, 86_400_000)!,
      autoPingTimeout: c.integer(o['auto_ping_timeout'], join(path, 'auto_ping_timeout'), d.autoPingTimeout, 0, 86_400_000)!,
      autoPingSize: c.integer(o['auto_ping_size'], join(path, 'auto_ping_size'), d.autoPingSize, 0, 125)!,
      openHandshakeTimeout: c.integer(o['open_handshake_timeout'], join(path, 'open_handshake_timeout'), d.openHandshakeTimeout, 1, 600_000)!,
      allowedOrigins: origins,
    };
  }

  private auth(value: unknown, path: string): AuthConfig {
    const c = this.c;
    const known = ['anonymous', 'ticket', 'wampcra', 'cryptosign', 'scram', 'tls', 'cookie'];
    const a = c.object(value, path, known) ?? {};
    const out: AuthConfig = {};
    for (const method of ['wampcra', 'cryptosign', 'scram', 'tls', 'cookie']) {
      if (a[method] !== undefined) c.error(join(path, method), `authentication method '${method}' ${NOT_YET}`);
    }
    if (a['anonymous'] !== undefined) {
      const p = join(path, 'anonymous');
      const o = c.object(a['anonymous'], p, ['type', 'role', 'authid']);
      if (o) {
        this.staticOnly(o, p);
        const role = c.string(o['role'], join(p, 'role')) ?? '';
        this.roleRefs.push({ role, path: join(p, 'role') });
        out.anonymous = { type: 'static', role, authid: c.string(o['authid'], join(p, 'authid'), false) };
      }
    }
    if (a['ticket'] !== undefined) {
      const p = join(path, 'ticket');
      const o = c.object(a['ticket'], p, ['type', 'principals']);
      if (o) {
        this.staticOnly(o, p);
        const principals: Record<string, { ticket: string; role: string }> = {};
        const pp = join(p, 'principals');
        const map = c.object(o['principals'], pp, Object.keys(c.isObject(o['principals']) ? o['principals'] : {})) ?? {};
        for (const [authid, v] of Object.entries(map)) {
          const ap = join(pp, authid);
          const pr = c.object(v, ap, ['ticket', 'role']);
          if (!pr) continue;
          const role = c.string(pr['role'], join(ap, 'role')) ?? '';
          this.roleRefs.push({ role, path: join(ap, 'role') });
          principals[authid] = { ticket: c.string(pr['ticket'], join(ap, 'ticket')) ?? '', role };
        }
        out.ticket = { type: 'static', principals };
      }
    }
    return out;
  }

  private staticOnly(o: Obj, path: string): void {
    if (o['type'] === 'dynamic' || o['type'] === 'function') this.c.error(join(path, 'type'), `type '${String(o['type'])}' ${NOT_YET}; use "static"`);
    else this.c.oneOf(o['type'], join(path, 'type'), ['static'] as const);
  }

  private endpoint(value: unknown, path: string): EndpointConfig {
    const c = this.c;
    const type = c.isObject(value) ? value['type'] : undefined;
    if (type === 'unix') {
      const e = c.object(value, path, ['type', 'path', 'tls'])!;
      const endpoint: EndpointConfig = { type: 'unix', path: this.file(c.string(e['path'], join(path, 'path')) ?? '') };
      if (e['tls'] !== undefined) endpoint.tls = this.tls(e['tls'], join(path, 'tls'));
      return endpoint;
    }
    if (type !== 'tcp') {
      if (c.isObject(value)) c.error(join(path, 'type'), `must be "tcp" or "unix", got ${JSON.stringify(type)}`);
      else c.error(path, 'is required: an object with type "tcp" (port, interface) or "unix" (path)');
      return { type: 'tcp', port: 0 };
    }
    const e = c.object(value, path, ['type', 'port', 'interface', 'version', 'backlog', 'tls'])!;
    const endpoint: EndpointConfig = {
      type: 'tcp',
      port: c.integer(e['port'], join(path, 'port'), undefined, 0, 65535) ?? 0,
      // Crossbar listens on every interface unless told otherwise; so does Junction.
      interface: c.string(e['interface'], join(path, 'interface'), false) ?? (e['version'] === 6 ? '::' : '0.0.0.0'),
    };
    if (e['version'] !== undefined) endpoint.version = c.integer(e['version'], join(path, 'version'), 4, 4, 6) === 6 ? 6 : 4;
    if (e['backlog'] !== undefined) endpoint.backlog = c.integer(e['backlog'], join(path, 'backlog'), undefined, 1, 65535);
    if (e['tls'] !== undefined) endpoint.tls = this.tls(e['tls'], join(path, 'tls'));
    return endpoint;
  }

  /** TLS key, certificate and CA are file paths (relative to the config file), read here. */
  private tls(value: unknown, path: string): TlsConfig | undefined {
    const c = this.c;
    const t = c.object(value, path, ['key', 'certificate', 'ca']);
    if (!t) return undefined;
    const read = (key: string, required: boolean): string | undefined => {
      const file = c.string(t[key], join(path, key), required);
      if (file === undefined) return undefined;
      try {
        return readFileSync(this.file(file), 'utf8');
      } catch (err) {
        c.error(join(path, key), `cannot read ${this.file(file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        return undefined;
      }
    };
    const key = read('key', true);
    const certificate = read('certificate', true);
    const ca = read('ca', false);
    if (key === undefined || certificate === undefined) return undefined;
    return ca === undefined ? { key, certificate } : { key, certificate, ca };
  }

  private file(p: string): string {
    return isAbsolute(p) ? p : resolve(this.baseDir, p);
  }

  private checkEndpointsUnique(listeners: ListenerConfig[], path: string): void {
    const seen = new Map<string, number>();
    listeners.forEach((l, i) => {
      const e = l.endpoint;
      const key = e.type === 'unix' ? `unix:${e.path}` : e.port === 0 ? undefined : `tcp:${e.port}`;
      if (!key) return;
      if (seen.has(key)) this.c.error(join(join(path, i), 'endpoint'), `${key.replace(':', ' ')} is already used by transports[${seen.get(key)}]`);
      else seen.set(key, i);
    });
  }
}

function normalizePath(key: string): string {
  const p = key.startsWith('/') ? key : `/${key}`;
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/** Validates an already-parsed config document. `baseDir` resolves relative file paths. */
export function parseConfig(raw: unknown, source?: string, baseDir = process.cwd()): JunctionConfig {
  return new ConfigParser(baseDir).parse(raw, source);
}

/** Reads a JSON (.json) or YAML (.yaml/.yml) file and validates it. */
export async function loadConfigFile(path: string): Promise<JunctionConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: '', message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }], path);
  }
  let raw: unknown;
  try {
    raw = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ path: '', message: `not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}` }], path);
  }
  return parseConfig(raw, path, dirname(resolve(path)));
}

/** No config file: one universal listener on 127.0.0.1:8080, realm1, anonymous may do everything. */
export function defaultConfig(): JunctionConfig {
  const service: WampServiceConfig = { serializers: [...SERIALIZERS], options: { ...DEFAULT_TRANSPORT_OPTIONS } };
  return {
    router: {
      realms: [{
        name: 'realm1',
        roles: [{
          name: 'anonymous',
          permissions: [{ uri: '', match: 'prefix', cache: true, allow: { call: true, register: true, publish: true, subscribe: true }, disclose: { caller: false, publisher: false } }],
        }],
      }],
      listeners: [{
        id: 'default',
        kind: 'universal',
        endpoint: { type: 'tcp', port: 8080, interface: '127.0.0.1' },
        rawsocket: service,
        websocket: { '/ws': service },
        websocketAnyPath: false,
        static: {},
      }],
    },
  };
}
