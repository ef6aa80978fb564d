// Crossbar's `onion` endpoint: {type: "onion", port, tor_control_endpoint, private_key_file}. Junction
// listens on 127.0.0.1 (a port the OS picks) and asks the Tor daemon at tor_control_endpoint to
// publish it as an onion service on the virtual `port` (src/transports/onion-service.ts).

import { readFileSync } from 'node:fs';
import { onionKeyOf, type EndpointConfig, type OnionServiceConfig } from './types.js';
import { describe, join, type Checker } from './check-values.js';
import type { FileResolver } from './load-tls.js';

export function parseOnionEndpoint(c: Checker, value: Record<string, unknown>, path: string, files: FileResolver): EndpointConfig {
  const e = c.object(value, path, ['type', 'port', 'tor_control_endpoint', 'private_key_file', 'max_connections'])!;
  const virtualPort = c.integer(e['port'], join(path, 'port'), undefined, 1, 65535) ?? 1;
  const control = torControlEndpoint(c, e['tor_control_endpoint'], join(path, 'tor_control_endpoint'), files);
  const keyPath = join(path, 'private_key_file');
  const keyName = c.string(e['private_key_file'], keyPath);
  const privateKeyFile = keyName === undefined ? '' : files.file(keyName);
  if (privateKeyFile !== '') checkSavedKey(c, privateKeyFile, keyPath);
  const onion: OnionServiceConfig = { virtualPort, control, privateKeyFile };
  // The local side: loopback only, so the service is reached through Tor (or by this board itself).
  const endpoint: EndpointConfig = { type: 'tcp', port: 0, interface: '127.0.0.1', onion };
  if (e['max_connections'] !== undefined) {
    const max = c.integer(e['max_connections'], join(path, 'max_connections'), undefined, 1, 1_000_000);
    if (max !== undefined) endpoint.maxConnections = max;
  }
  return endpoint;
}

/** Crossbar's connecting endpoint to Tor's control port: {type: "tcp", host, port} or {type: "unix", path}. */
function torControlEndpoint(c: Checker, value: unknown, path: string, files: FileResolver): OnionServiceConfig['control'] {
  const fallback: OnionServiceConfig['control'] = { type: 'tcp', host: '127.0.0.1', port: 9051 };
  if (!c.isObject(value)) {
    c.error(path, value === undefined
      ? 'is required: where the Tor daemon\'s control port listens, {"type": "tcp", "host": "127.0.0.1", "port": 9051} or {"type": "unix", "path": "/run/tor/control"}'
      : `must be an object, got ${describe(value)}`);
    return fallback;
  }
  const type = value['type'];
  if (type === 'unix') {
    const e = c.object(value, path, ['type', 'path'])!;
    const p = c.string(e['path'], join(path, 'path'));
    return p === undefined ? fallback : { type: 'unix', path: files.file(p) };
  }
  if (type === 'tcp') {
    const e = c.object(value, path, ['type', 'host', 'port'])!;
    const host = c.string(e['host'], join(path, 'host'), { required: false }) ?? '127.0.0.1';
    const port = c.integer(e['port'], join(path, 'port'), undefined, 1, 65535) ?? 9051;
    return { type: 'tcp', host, port };
  }
  c.error(join(path, 'type'), type === undefined ? 'is required ("tcp" or "unix")' : `must be "tcp" or "unix", got ${describe(type)}`);
  return fallback;
}

/** A key file already there must hold a key Tor takes; a missing one is made at the first start. */
function checkSavedKey(c: Checker, file: string, path: string): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') c.error(path, `cannot read ${file}: ${(err as Error).message}`);
    return;
  }
  if (onionKeyOf(text) === undefined) {
    c.error(path, `${file} does not hold an onion service key ("ED25519-V3:" and 64 bytes in base64, as Tor gives it): remove the file to have a new key (and a new .onion address) made`);
  }
}
