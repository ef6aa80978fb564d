// The `serial` section of the config: defaults, and every error at its JSON path.
import { describe, it, expect } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { errorsOf } from '../../helpers/config.js';

const base = (serial: unknown) => ({
  version: 2,
  workers: [{ type: 'router', realms: [{ name: 'realm1', roles: [{ name: 'device', 'allow-by-default': true }] }], transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 8080 } }] }],
  serial,
});

describe('config: serial bridges', () => {
  it('reads ports, prefix, role and timings, with defaults', () => {
    const config = parseConfig(base([{ realm: 'realm1', role: 'device', ports: [{ path: '/dev/serial/by-id/usb-Arduino*' }, { path: '/dev/ttyUSB0', baud: 9600 }] }]));
    expect(config.serial).toEqual([{
      id: 'serial0', realm: 'realm1', role: 'device', prefix: 'devices', callTimeout: 10_000, reopenMin: 500, reopenMax: 30_000,
      ports: [{ path: '/dev/serial/by-id/usb-Arduino*', baudRate: 115200 }, { path: '/dev/ttyUSB0', baudRate: 9600 }],
    }]);
  });

  it('errors name their path', () => {
    expect(errorsOf(base([
      { realm: 'nowhere', role: 'ghost', prefix: 'bad prefix.', ports: [{ path: 'ttyACM0' }, { path: '/dev/*/tty', baud: 'fast' }], reopen_min: 1000, reopen_max: 500 },
      { id: 'serial0', realm: 'realm1', ports: [] },
    ]))).toEqual({
      'serial[0].realm': "realm 'nowhere' is not defined (realms: realm1)",
      'serial[0].role': "role 'ghost' is not defined in any realm",
      'serial[0].prefix': 'must be a URI such as "devices" or "home.sensors", got "bad prefix."',
      'serial[0].ports[0].path': 'must be an absolute device path (a /dev/serial/by-id name, or a glob in its last part such as /dev/ttyACM*), got "ttyACM0"',
      'serial[0].ports[1].path': 'may have * or ? in its last part only',
      'serial[0].ports[1].baud': 'must be a whole number, got "fast"',
      'serial[0].reopen_max': 'must be at least reopen_min (1000)',
      'serial[1].id': "serial bridge id 'serial0' is already used by serial[0]",
      'serial[1].ports': 'must not be empty',
    });
  });
});
