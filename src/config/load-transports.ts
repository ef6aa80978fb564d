// A router worker's `transports`: each listener by type (websocket, rawsocket, web, universal, mqtt)
// with its endpoint (load-endpoint.ts) and what it serves (load-wamp-service.ts, load-web.ts,
// load-mqtt.ts); then across listeners, that no two share an id, a port or a Unix socket.

import type { EndpointConfig, ListenerConfig } from './types.js';
import { describe, join, type Checker, type Obj } from './check-values.js';
import { warnHarmlessKeys } from './python-only.js';
import type { LoadContext } from './load-context.js';
import { endpointsClash, parseEndpoint } from './load-endpoint.js';
import { parseMqttService } from './load-mqtt.js';
import { parseWampService } from './load-wamp-service.js';
import { normalizeWebPath, parseWebPaths, webPathKey } from './load-web.js';
import { parseTestee } from './load-testee.js';

/** A web transport's `options` (Twisted's site settings): each accepted with a warning of what Junction does. */
function webTransportOptions(c: Checker, value: unknown, path: string): void {
  if (value === undefined) return;
  const known = warnHarmlessKeys(c, value, path, {
    access_log: 'ignored: Junction logs no HTTP access lines (its log has sessions and refusals)',
    display_tracebacks: 'ignored: Junction never shows stack traces to HTTP clients',
    hsts: 'ignored: Junction sends no Strict-Transport-Security header; set it in a TLS-terminating proxy if you need it',
    hsts_max_age: 'ignored (see hsts)',
    client_timeout: "ignored: Junction's open_handshake_timeout and Node's request timeouts bound idle HTTP clients",
  });
  c.object(value, path, known);
}

/** The `transports` list at `path`: every listener that could be read, checked against the others. */
export function parseTransports(ctx: LoadContext, value: unknown, path: string): ListenerConfig[] {
  const entries = (ctx.c.array(value, path, { required: true, nonEmpty: true }) ?? [])
    .map((t, i) => ({ i, listener: parseTransport(ctx, t, join(path, i), i) }))
    .filter((e): e is { i: number; listener: ListenerConfig } => e.listener !== undefined);
  checkListenersDistinct(ctx, entries, path);
  for (const e of entries) warnTlsAuthWithoutCa(ctx, e.listener, join(path, e.i));
  return entries.map((e) => e.listener);
}

/**
 * `tls` authentication logs in by the client's certificate, which a client only sends when the
 * endpoint asks for one: with its `tls.ca` (or `ca_certificates`). Without, the method never succeeds.
 */
function warnTlsAuthWithoutCa(ctx: LoadContext, listener: ListenerConfig, path: string): void {
  if (listener.endpoint.tls?.ca !== undefined) return;
  const services = [listener.rawsocket, ...Object.values(listener.websocket), ...Object.values(listener.longpoll ?? {}), listener.mqtt];
  if (!services.some((s) => s?.auth?.tls !== undefined)) return;
  ctx.c.warn(join(join(path, 'endpoint'), 'tls'), listener.endpoint.tls
    ? 'has no `ca` (or `ca_certificates`): clients are not asked for a certificate, so nobody can log in with the `tls` auth method'
    : 'is missing: `tls` authentication needs a TLS endpoint with a `ca` (clients log in with their certificate)');
}

/** The transport types a config may name, for the error that lists them. */
const TRANSPORT_TYPES = '"websocket", "rawsocket", "universal", "web", "mqtt", "websocket.testee", "stream.testee"';

function parseTransport(ctx: LoadContext, value: unknown, path: string, index: number): ListenerConfig | undefined {
  const { c } = ctx;
  if (!c.isObject(value)) {
    c.error(path, `must be an object, got ${describe(value)}`);
    return undefined;
  }
  const kind = value['type'];
  const id = c.string(value['id'], join(path, 'id'), { required: false }) ?? `transport${index}`;
  const base = { id, websocket: {}, websocketAnyPath: false, static: {} };
  switch (kind) {
    case 'websocket': {
      const t = c.object(value, path, ['id', 'type', 'endpoint', 'serializers', 'options', 'auth', 'url', 'debug', 'cookie'])!;
      return {
        ...base, kind, websocketAnyPath: true,
        endpoint: parseEndpoint(c, t['endpoint'], join(path, 'endpoint'), ctx),
        websocket: { '/': parseWampService(ctx, t, path, 'websocket') },
      };
    }
    case 'rawsocket': {
      const t = c.object(value, path, ['id', 'type', 'endpoint', 'serializers', 'options', 'max_message_size', 'auth', 'debug'])!;
      return {
        ...base, kind,
        endpoint: parseEndpoint(c, t['endpoint'], join(path, 'endpoint'), ctx),
        rawsocket: parseWampService(ctx, t, path, 'rawsocket'),
      };
    }
    case 'web': {
      const t = c.object(value, path, ['id', 'type', 'endpoint', 'paths', 'options'])!;
      webTransportOptions(c, t['options'], join(path, 'options'));
      const listener: ListenerConfig = { ...base, kind, endpoint: parseEndpoint(c, t['endpoint'], join(path, 'endpoint'), ctx) };
      parseWebPaths(ctx, t['paths'], join(path, 'paths'), listener);
      return listener;
    }
    case 'universal':
      return universal(ctx, value, path, base);
    case 'websocket.testee':
    case 'stream.testee':
      return parseTestee(ctx, value, path, base, kind);
    case 'mqtt': {
      const t = c.object(value, path, ['id', 'type', 'endpoint', 'options', 'auth', 'debug'])!;
      c.boolean(t['debug'], join(path, 'debug'), false);
      return { ...base, kind, endpoint: parseEndpoint(c, t['endpoint'], join(path, 'endpoint'), ctx), mqtt: parseMqttService(c, t, path, ctx) };
    }
    default: {
      const typePath = join(path, 'type');
      if (kind === undefined) c.error(typePath, `is required (one of ${TRANSPORT_TYPES})`);
      else if (kind === 'flashpolicy') c.warn(typePath, 'Flash policy transports served browsers\' Flash plugin, which no browser runs any more: not started');
      else c.error(typePath, `must be one of ${TRANSPORT_TYPES}, got ${describe(kind)}`);
      return undefined;
    }
  }
}

function universal(ctx: LoadContext, value: Obj, path: string, base: Pick<ListenerConfig, 'id' | 'websocket' | 'websocketAnyPath' | 'static'>): ListenerConfig {
  const { c } = ctx;
  const t = c.object(value, path, ['id', 'type', 'endpoint', 'rawsocket', 'websocket', 'web', 'mqtt'])!;
  const listener: ListenerConfig = { ...base, kind: 'universal', endpoint: parseEndpoint(c, t['endpoint'], join(path, 'endpoint'), ctx) };
  const ownEndpoint = "a universal transport's sub-items share its endpoint; remove this one";

  if (t['rawsocket'] !== undefined) {
    const p = join(path, 'rawsocket');
    const r = c.object(t['rawsocket'], p, ['id', 'type', 'serializers', 'options', 'max_message_size', 'auth', 'debug'], { endpoint: ownEndpoint });
    if (r) {
      c.string(r['id'], join(p, 'id'), { required: false });
      if (r['type'] !== undefined) c.oneOf(r['type'], join(p, 'type'), ['rawsocket'] as const);
      listener.rawsocket = parseWampService(ctx, r, p, 'rawsocket');
    }
  }
  if (t['websocket'] !== undefined) {
    const p = join(path, 'websocket');
    for (const [key, svc] of Object.entries(c.map(t['websocket'], p) ?? {})) {
      const sp = join(p, key);
      if (!webPathKey(c, key, sp)) continue;
      const s = c.object(svc, sp, ['id', 'type', 'serializers', 'options', 'auth', 'url', 'debug', 'cookie'], {
        endpoint: ownEndpoint,
      });
      if (!s) continue;
      c.string(s['id'], join(sp, 'id'), { required: false });
      if (s['type'] !== undefined) c.oneOf(s['type'], join(sp, 'type'), ['websocket'] as const);
      listener.websocket[normalizeWebPath(key)] = parseWampService(ctx, s, sp, 'websocket');
    }
  }
  if (t['web'] !== undefined) {
    const p = join(path, 'web');
    const web = c.object(t['web'], p, ['paths', 'options'], {
      endpoint: ownEndpoint,
    });
    if (web) webTransportOptions(c, web['options'], join(p, 'options'));
    if (web) parseWebPaths(ctx, web['paths'], join(p, 'paths'), listener);
  }
  if (t['mqtt'] !== undefined) {
    const p = join(path, 'mqtt');
    const m = c.object(t['mqtt'], p, ['id', 'type', 'options', 'auth', 'debug'], { endpoint: ownEndpoint });
    if (m) {
      if (m['type'] !== undefined) c.oneOf(m['type'], join(p, 'type'), ['mqtt'] as const);
      c.boolean(m['debug'], join(p, 'debug'), false);
      listener.mqtt = parseMqttService(c, m, p, ctx);
    }
  }
  const served = [listener.websocket, listener.static, listener.mqttWebsocket ?? {}, listener.longpoll ?? {}].some((paths) => Object.keys(paths).length > 0);
  if (!listener.rawsocket && !listener.mqtt && !served) {
    c.error(path, 'a universal transport needs at least one of rawsocket, websocket, web or mqtt');
  }
  return listener;
}

function checkListenersDistinct(ctx: LoadContext, entries: Array<{ i: number; listener: ListenerConfig }>, path: string): void {
  const ids = new Map<string, number>();
  const endpoints: Array<{ i: number; endpoint: EndpointConfig }> = [];
  for (const { i, listener } of entries) {
    const first = ids.get(listener.id);
    if (first !== undefined) ctx.c.error(join(join(path, i), 'id'), `transport id '${listener.id}' is already used by ${join(path, first)}`);
    else ids.set(listener.id, i);

    const e = listener.endpoint;
    const clash = endpoints.find(({ endpoint: o }) => endpointsClash(e, o));
    if (clash) {
      const what = e.type === 'unix' ? `Unix socket ${e.path}` : `TCP port ${e.port}`;
      ctx.c.error(join(join(path, i), 'endpoint'), `${what} is already used by ${join(path, clash.i)}`);
    } else {
      endpoints.push({ i, endpoint: e });
    }
  }
}
