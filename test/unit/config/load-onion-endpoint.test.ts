// Crossbar's `onion` endpoint: read as a 127.0.0.1 listener with the Tor control address, the virtual
// port and the key file; bad values are errors naming their key path.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../src/config/load.js';
import { errorsOf, routerWithTransport } from '../../helpers/config.js';

const dir = mkdtempSync(join(tmpdir(), 'junction-onion-config-'));

function onion(endpoint: object): object {
  return routerWithTransport({ type: 'websocket', endpoint: { type: 'onion', ...endpoint } });
}

describe('endpoint type onion', () => {
  it('listens on 127.0.0.1 (a port the OS picks) and keeps the onion settings, paths resolved against the config', () => {
    const config = parseConfig(onion({ port: 80, private_key_file: 'keys/onion.key', tor_control_endpoint: { type: 'unix', path: 'tor/control' } }), undefined, dir);
    expect(config.router.listeners[0]!.endpoint).toEqual({
      type: 'tcp', port: 0, interface: '127.0.0.1',
      onion: { virtualPort: 80, privateKeyFile: join(dir, 'keys/onion.key'), control: { type: 'unix', path: join(dir, 'tor/control') } },
    });
    const tcp = parseConfig(onion({ port: 8080, private_key_file: '/k', tor_control_endpoint: { type: 'tcp', port: 9051 } }), undefined, dir);
    expect(tcp.router.listeners[0]!.endpoint).toMatchObject({ onion: { virtualPort: 8080, control: { type: 'tcp', host: '127.0.0.1', port: 9051 } } });
  });

  it('bad values are errors naming their path', () => {
    const e = 'workers[0].transports[0].endpoint';
    expect(errorsOf(onion({ port: 0, private_key_file: 3, tor_control_endpoint: { type: 'tcp', host: 'localhost', port: 'x', tls: true } }), dir)).toEqual({
      [`${e}.port`]: 'must be between 1 and 65535, got 0',
      [`${e}.private_key_file`]: 'must be a string, got number 3',
      [`${e}.tor_control_endpoint.port`]: 'must be a whole number, got "x"',
      [`${e}.tor_control_endpoint.tls`]: "unknown key 'tls' (supported: type, host, port)",
    });
    expect(errorsOf(onion({ port: 80, private_key_file: 'k', tor_control_endpoint: { type: 'unix' }, interface: '0.0.0.0' }), dir)).toEqual({
      [`${e}.interface`]: "unknown key 'interface' (supported: type, port, tor_control_endpoint, private_key_file, max_connections)",
      [`${e}.tor_control_endpoint.path`]: 'is required',
    });
  });

  it('a key file already there must hold an ED25519-V3 key', () => {
    writeFileSync(join(dir, 'bad.key'), 'RSA1024:abc\n');
    writeFileSync(join(dir, 'good.key'), `ED25519-V3:${Buffer.alloc(64, 7).toString('base64')}\n`);
    const control = { type: 'tcp', port: 9051 };
    expect(errorsOf(onion({ port: 80, private_key_file: 'bad.key', tor_control_endpoint: control }), dir)).toEqual({
      'workers[0].transports[0].endpoint.private_key_file': `${join(dir, 'bad.key')} does not hold an onion service key ("ED25519-V3:" and 64 bytes in base64, as Tor gives it): remove the file to have a new key (and a new .onion address) made`,
    });
    expect(errorsOf(onion({ port: 80, private_key_file: 'good.key', tor_control_endpoint: control }), dir)).toEqual({});
  });
});
