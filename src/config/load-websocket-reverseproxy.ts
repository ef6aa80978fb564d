// Crossbar's `websocket-reverseproxy` web path: `url` (announced, informational), `options` (the
// clients' side, a WebSocket path's options) and `backend`, a connecting WebSocket transport:
// `type: websocket`, `endpoint` (tcp `host`, `port`, `version`, `timeout` in seconds, `tls`; or
// unix `path`, `timeout`), `url` (the backend handshake's URL), `serializers`, `options`.
// Keys as Crossbar's checkconfig takes them; options that cannot apply to one side get a warning.

import type { WampTransportOptions, WebSocketBackendConfig, WebSocketReverseProxyPathConfig } from './types.js';
import { describe, join, type Checker, type Obj } from './check-values.js';
import type { LoadContext } from './load-context.js';
import { transportOptions, wsUrl } from './load-wamp-service.js';
import { pemFile } from './load-tls.js';

/** Crossbar's default connect timeout of a connecting endpoint, seconds. */
const DEFAULT_CONNECT_TIMEOUT_S = 10;

/** Options of the clients' side that cannot apply to a proxied connection, and why. */
const FRONTEND_WITHOUT_EFFECT: Readonly<Record<string, string>> = {
  require_websocket_subprotocol: 'the client\'s subprotocols go to the backend as offered, and the backend chooses',
  send_queue_policy: 'a proxied connection never drops messages: past max_send_queue the other side is read no further until the queue drains',
  max_messages_per_second: 'messages are relayed, not handled, here; limit the rate on the backend',
  max_messages_burst: 'messages are relayed, not handled, here; limit the rate on the backend',
  max_unauthenticated_bytes: 'sessions are the backend\'s; the proxy sees no authentication',
};

/** Options of the backend side that cannot apply to a connection the router opens, and why. */
const BACKEND_WITHOUT_EFFECT: Readonly<Record<string, string>> = {
  ...FRONTEND_WITHOUT_EFFECT,
  require_websocket_subprotocol: 'the backend chooses among the client\'s subprotocols',
  allowed_origins: 'the router sends no Origin to the backend',
  allow_null_origin: 'the router sends no Origin to the backend',
  enable_webstatus: 'the backend connection serves no HTTP',
  compression: 'the backend connection is not compressed',
  max_frame_size: 'the backend\'s messages are limited whole, by max_message_size',
};

export function parseWebSocketReverseProxy(ctx: LoadContext, entry: Obj, path: string): WebSocketReverseProxyPathConfig | undefined {
  const { c } = ctx;
  const s = c.object(entry, path, ['id', 'type', 'url', 'options', 'backend'])!;
  c.string(s['id'], join(path, 'id'), { required: false });
  // `url` announces the path's public URL (Crossbar's factory keeps it); nothing here builds on it.
  if (s['url'] !== undefined) wsUrl(c, s['url'], join(path, 'url'));
  const frontend = sideOptions(c, s['options'], join(path, 'options'), FRONTEND_WITHOUT_EFFECT);
  const backend = parseBackend(ctx, s['backend'], join(path, 'backend'));
  if (!backend) return undefined;
  return { type: 'websocket-reverseproxy', frontend, backend };
}

function parseBackend(ctx: LoadContext, value: unknown, path: string): WebSocketBackendConfig | undefined {
  const { c } = ctx;
  const b = c.object(value, path, ['id', 'type', 'endpoint', 'url', 'serializers', 'options']);
  if (!b) return undefined;
  c.string(b['id'], join(path, 'id'), { required: false });
  if (b['type'] !== undefined) c.oneOf(b['type'], join(path, 'type'), ['websocket'] as const);
  if (b['serializers'] !== undefined) {
    c.array(b['serializers'], join(path, 'serializers'));
    c.warn(join(path, 'serializers'), 'has no effect in Junction: messages pass unchanged, in the serializer of the subprotocol the backend chose from the client\'s offer');
  }
  const url = wsUrl(c, b['url'], join(path, 'url'));
  const options = sideOptions(c, b['options'], join(path, 'options'), BACKEND_WITHOUT_EFFECT);
  const endpoint = parseConnectingEndpoint(ctx, b['endpoint'], join(path, 'endpoint'));
  if (url === undefined || endpoint === undefined) return undefined;
  return { url, ...endpoint, options };
}

/** A WebSocket side's `options` as a WebSocket path reads them, with one warning per key that cannot apply here. */
function sideOptions(c: Checker, value: unknown, path: string, withoutEffect: Readonly<Record<string, string>>): WampTransportOptions {
  const options = transportOptions(c, value, path, 'websocket');
  if (c.isObject(value)) {
    for (const [key, why] of Object.entries(withoutEffect)) {
      if (value[key] !== undefined) c.warn(join(path, key), `has no effect on a websocket-reverseproxy path: ${why}`);
    }
  }
  return options;
}

/** Crossbar's connecting endpoint: tcp (`host`, `port`, `version`, `timeout`, `tls`) or unix (`path`, `timeout`). */
function parseConnectingEndpoint(ctx: LoadContext, value: unknown, path: string): Pick<WebSocketBackendConfig, 'endpoint' | 'tls' | 'connectTimeout'> | undefined {
  const { c } = ctx;
  if (!c.isObject(value)) {
    c.error(path, value === undefined ? 'is required: an object with type "tcp" (host, port) or "unix" (path)' : `must be an object, got ${describe(value)}`);
    return undefined;
  }
  const type = value['type'];
  const timeout = () => c.integer(value['timeout'], join(path, 'timeout'), DEFAULT_CONNECT_TIMEOUT_S, 0, 600)!;
  if (type === 'unix') {
    const e = c.object(value, path, ['type', 'path', 'timeout'])!;
    const socketPath = c.string(e['path'], join(path, 'path'));
    const connectTimeout = timeout() * 1000;
    return socketPath === undefined ? undefined : { endpoint: { type: 'unix', path: ctx.file(socketPath) }, connectTimeout };
  }
  if (type !== 'tcp') {
    if (type === undefined) c.error(join(path, 'type'), 'is required ("tcp" or "unix")');
    else if (type === 'twisted' || type === 'tor') c.error(join(path, 'type'), `endpoint type "${type}" is not supported by Junction (use "tcp" or "unix")`);
    else c.error(join(path, 'type'), `must be "tcp" or "unix", got ${describe(type)}`);
    return undefined;
  }
  const e = c.object(value, path, ['type', 'host', 'port', 'version', 'timeout', 'tls'])!;
  const host = c.string(e['host'], join(path, 'host'));
  const port = c.integer(e['port'], join(path, 'port'), undefined, 1, 65535);
  const version = e['version'] === undefined ? undefined : c.oneOf(e['version'], join(path, 'version'), [4, 6] as const);
  const connectTimeout = timeout() * 1000;
  const tls = e['tls'] === undefined ? undefined : parseClientTls(ctx, e['tls'], join(path, 'tls'));
  if (host === undefined || port === undefined) return undefined;
  const out: ReturnType<typeof parseConnectingEndpoint> = { endpoint: { type: 'tcp', host, port }, connectTimeout };
  if (version !== undefined) (out.endpoint as { version?: 4 | 6 }).version = version;
  if (tls) out.tls = tls;
  return out;
}

/** A connecting endpoint's `tls`, as Crossbar's: `hostname` (required), `ca_certificates`, `certificate` with `key`. */
function parseClientTls(ctx: LoadContext, value: unknown, path: string): WebSocketBackendConfig['tls'] {
  const { c } = ctx;
  const t = c.object(value, path, ['hostname', 'ca_certificates', 'certificate', 'key']);
  if (!t) return undefined;
  const servername = c.string(t['hostname'], join(path, 'hostname'));
  const list = c.array(t['ca_certificates'], join(path, 'ca_certificates'), { nonEmpty: true });
  const ca = list?.map((f, i) => pemFile(c, f, join(join(path, 'ca_certificates'), i), ctx)).filter((p): p is string => p !== undefined);
  const certificate = t['certificate'] === undefined ? undefined : pemFile(c, t['certificate'], join(path, 'certificate'), ctx);
  const key = t['key'] === undefined ? undefined : pemFile(c, t['key'], join(path, 'key'), ctx);
  if ((t['certificate'] === undefined) !== (t['key'] === undefined)) {
    const missing = t['certificate'] === undefined ? 'certificate' : 'key';
    c.error(join(path, missing), `is required with ${missing === 'key' ? 'certificate' : 'key'} (a client certificate needs both)`);
  }
  if (servername === undefined) return undefined;
  return { servername, ...(ca ? { ca } : {}), ...(certificate ? { certificate } : {}), ...(key ? { key } : {}) };
}
