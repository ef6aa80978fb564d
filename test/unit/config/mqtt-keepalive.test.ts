// `max_keepalive`, the MQTT listener's Server Keep Alive: read with its default, refused with the key's path.
import { describe, it, expect } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { errorsOf } from '../../helpers/config.js';

const base = (options: object) => ({
  version: 2,
  workers: [{ type: 'router', realms: [{ name: 'realm1', roles: [{ name: 'anonymous', 'allow-by-default': true }] }], transports: [{ type: 'mqtt', endpoint: { type: 'tcp', port: 1883 }, options: { realm: 'realm1', ...options } }] }],
});
const PATH = 'workers[0].transports[0].options.max_keepalive';

describe('config: mqtt options.max_keepalive', () => {
  it('defaults to 0 (the client decides) and reads seconds up to 65535', () => {
    expect(parseConfig(base({})).router.listeners[0]!.mqtt?.maxKeepalive).toBe(0);
    expect(parseConfig(base({ max_keepalive: 60 })).router.listeners[0]!.mqtt?.maxKeepalive).toBe(60);
    expect(parseConfig(base({ max_keepalive: 65_535 })).router.listeners[0]!.mqtt?.maxKeepalive).toBe(65_535);
  });

  it('refuses what MQTT\'s two-byte Keep Alive cannot say, naming the key path', () => {
    for (const bad of [-1, 65_536, 1.5, '60']) {
      const errors = errorsOf(base({ max_keepalive: bad }));
      expect(Object.keys(errors)).toEqual([PATH]);
    }
  });
});
