// A transport's `endpoint`: where it listens, a TCP port (interface, IP version, backlog) or a Unix
// socket, with optional `tls` (load-tls.ts) and Junction's `max_connections`.

import { isIP } from 'node:net';
import type { EndpointConfig } from './types.js';
import { describe, join, type Checker, type Obj } from './check-values.js';
import { warnHarmlessKeys } from './python-only.js';
import { parseTls, type FileResolver } from './load-tls.js';
import { parsePortRange } from './load-port-range.js';
import { twistedEndpoint } from './load-twisted-endpoint.js';
import { parseOnionEndpoint } from './load-onion-endpoint.js';

/** Longest Unix socket path Linux accepts (sun_path is 108 bytes including the NUL). */
const MAX_UNIX_PATH = 107;

export function parseEndpoint(c: Checker, value: unknown, path: string, files: FileResolver): EndpointConfig {
  const fallback: EndpointConfig = { type: 'tcp', port: 0 };
  if (!c.isObject(value)) {
    c.error(path, value === undefined
      ? 'is required: an object with type "tcp" (port, interface) or "unix" (path)'
      : `must be an object, got ${describe(value)}`);
    return fallback;
  }
  const type = value['type'];
  if (type === 'twisted') {
    // Read as the tcp or unix endpoint it describes; what is wrong is named under server_string.
    const described = twistedEndpoint(c, value, path);
    return described ? parseEndpoint(c, described, join(path, 'server_string'), files) : fallback;
  }
  if (type === 'onion') return parseOnionEndpoint(c, value, path, files);
  if (type === 'unix') {
    const e = c.object(value, path, ['type', 'path', 'backlog', 'tls', 'max_connections'])!;
    const p = c.string(e['path'], join(path, 'path'));
    const abs = p === undefined ? '' : files.file(p);
    if (Buffer.byteLength(abs) > MAX_UNIX_PATH) c.error(join(path, 'path'), `${abs} is too long for a Unix socket (at most ${MAX_UNIX_PATH} bytes)`);
    const endpoint: EndpointConfig = { type: 'unix', path: abs };
    backlog(c, e, path, endpoint);
    if (e['tls'] !== undefined) {
      const tls = parseTls(c, e['tls'], join(path, 'tls'), files);
      if (tls) endpoint.tls = tls;
    }
    maxConnections(c, e, path, endpoint);
    return endpoint;
  }
  if (type !== 'tcp') {
    const typePath = join(path, 'type');
    if (type === undefined) c.error(typePath, 'is required ("tcp" or "unix")');
    else c.error(typePath, `must be "tcp", "unix", "twisted" or "onion", got ${describe(type)}`);
    return fallback;
  }
  const harmless = warnHarmlessKeys(c, value, path, {
    shared: 'ignored: one Junction process owns the port (no workers to share it with)',
  });
  const e = c.object(value, path, ['type', 'port', 'portrange', 'interface', 'version', 'backlog', 'tls', 'max_connections', 'user_timeout', ...harmless])!;
  const portRange = parsePortRange(c, e, path);
  userTimeout(c, e, path);
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
    port: e['portrange'] !== undefined ? 0 : c.integer(portFromEnvironment(c, e['port'], join(path, 'port')), join(path, 'port'), undefined, 0, 65535) ?? 0,
    // Crossbar listens on every interface unless told otherwise; so does Junction.
    interface: iface ?? (version === 6 ? '::' : '0.0.0.0'),
  };
  if (version !== undefined) endpoint.version = version;
  if (portRange) endpoint.portRange = portRange;
  backlog(c, e, path, endpoint);
  if (e['tls'] !== undefined) {
    const tls = parseTls(c, e['tls'], join(path, 'tls'), files);
    if (tls) endpoint.tls = tls;
  }
  maxConnections(c, e, path, endpoint);
  return endpoint;
}

/**
 * Crossbar's `"port": "$NAME"`: the port is read from the environment variable NAME (a unit's
 * `Environment=PORT=8080`, a container's variables). Anything else is returned for the usual checks.
 */
function portFromEnvironment(c: Checker, value: unknown, path: string): unknown {
  if (typeof value !== 'string' || !value.startsWith('$')) return value;
  const name = value.slice(1);
  const text = process.env[name];
  if (text === undefined) {
    c.error(path, `reads the environment variable ${name}, which is not set`);
    return 0;
  }
  if (!/^\d+$/.test(text.trim())) {
    c.error(path, `reads the environment variable ${name}, which holds ${describe(text)}, not a port number`);
    return 0;
  }
  return Number(text.trim());
}

/** `backlog`: the length of the queue of connections not yet accepted (listen()'s); absent = Node's 511. */
function backlog(c: Checker, e: Obj, path: string, endpoint: EndpointConfig): void {
  if (e['backlog'] === undefined) return;
  const n = c.integer(e['backlog'], join(path, 'backlog'), undefined, 1, 65535);
  if (n !== undefined) endpoint.backlog = n;
}

/**
 * `user_timeout` (Crossbar's, milliseconds): TCP_USER_TIMEOUT on the listening socket, how long sent
 * data may stay unacknowledged before the kernel drops the connection. Node.js offers no setsockopt,
 * so Junction cannot set it: checked as Crossbar does, and a warning names what finds dead peers here.
 */
function userTimeout(c: Checker, e: Obj, path: string): void {
  if (e['user_timeout'] === undefined) return;
  const p = join(path, 'user_timeout');
  const ms = c.integer(e['user_timeout'], p, undefined, 0, 65535);
  if (ms === undefined) return;
  c.warn(p, `Node.js cannot set TCP_USER_TIMEOUT: ignored. Junction finds dead peers with the transport's options.auto_ping_interval and options.auto_ping_timeout (WebSocket and RawSocket; MQTT clients by their keep-alive)`);
}

/** `max_connections` (Junction's own): connections open at once on the endpoint; absent = no limit. */
function maxConnections(c: Checker, e: Obj, path: string, endpoint: EndpointConfig): void {
  if (e['max_connections'] === undefined) return;
  const max = c.integer(e['max_connections'], join(path, 'max_connections'), undefined, 1, 1_000_000);
  if (max !== undefined) endpoint.maxConnections = max;
}

/** Whether two listeners' endpoints would take the same port or socket (port 0 and port ranges never clash). */
export function endpointsClash(e: EndpointConfig, o: EndpointConfig): boolean {
  if (e.type === 'unix' || o.type === 'unix') return e.type === 'unix' && o.type === 'unix' && e.path !== '' && e.path === o.path;
  if (e.port === 0 || e.port !== o.port) return false;
  return e.interface === o.interface || isWildcardInterface(e.interface) || isWildcardInterface(o.interface);
}

function isWildcardInterface(iface: string | undefined): boolean {
  return iface === undefined || iface === '0.0.0.0' || iface === '::';
}
