// MQTT over WebSocket in the config: a web path (of a web transport, or of a universal transport's
// `web`) of `type: mqtt`, with the options and auth of an `mqtt` transport, checked by the same
// code, errors naming the key path.
import { describe, it, expect } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { MQTT_DEFAULTS } from '../../../src/config/load-mqtt.js';
import { errorsOf } from '../../helpers/config.js';

const ROLES = [{ name: 'anonymous', 'allow-by-default': true }, { name: 'sensor', 'allow-by-default': true }];
const config = (transport: object) => ({ version: 2, workers: [{ type: 'router', realms: [{ name: 'realm1', roles: ROLES }], transports: [transport] }] });
const web = (paths: object) => config({ type: 'web', endpoint: { type: 'tcp', port: 8080 }, paths });
const P = 'workers[0].transports[0].paths.mqtt';

describe('config: MQTT over WebSocket (a web path of type mqtt)', () => {
  it('a web transport path of type mqtt is an MQTT service at that URL path, with the MQTT defaults', () => {
    const listener = parseConfig(web({ mqtt: { type: 'mqtt', options: { realm: 'realm1', max_keepalive: 60 } } })).router.listeners[0]!;
    expect(Object.keys(listener.mqttWebsocket ?? {})).toEqual(['/mqtt']);
    expect(listener.mqttWebsocket!['/mqtt']).toMatchObject({ allowedOrigins: ['*'], service: { ...MQTT_DEFAULTS, realm: 'realm1', maxKeepalive: 60, topicPrefix: '', payload: [{ prefix: '', type: 'native' }] } });
    expect(listener.websocket).toEqual({});
    expect(listener.mqtt).toBeUndefined();
  });

  it("a universal transport's web paths take it too, beside a TCP mqtt item; the auth block is the MQTT transport's", () => {
    const listener = parseConfig(config({
      type: 'universal', endpoint: { type: 'tcp', port: 8080 },
      mqtt: { options: { realm: 'realm1' } },
      web: { paths: { mqtt: { type: 'mqtt', options: { realm: 'realm1' }, auth: { ticket: { type: 'static', principals: { s1: { ticket: 'x', role: 'sensor' } } } } } } },
    })).router.listeners[0]!;
    expect(listener.mqtt?.realm).toBe('realm1');
    expect(listener.mqttWebsocket!['/mqtt']!.service?.auth?.ticket).toBeDefined();
  });

  it('errors name the key path under paths.<name>, as for an mqtt transport', () => {
    expect(errorsOf(web({ mqtt: { type: 'mqtt' } }))).toEqual({ [`${P}.options`]: 'is required: at least { realm: <the realm MQTT clients join> }' });
    expect(Object.keys(errorsOf(web({ mqtt: { type: 'mqtt', options: { realm: 'nowhere' } } })))).toEqual([`${P}.options.realm`]);
    expect(Object.keys(errorsOf(web({ mqtt: { type: 'mqtt', options: { realm: 'realm1', max_keepalive: 70_000 } } })))).toEqual([`${P}.options.max_keepalive`]);
    expect(Object.keys(errorsOf(web({ mqtt: { type: 'mqtt', options: { realm: 'realm1', unknown_option: 1 } } })))).toEqual([`${P}.options.unknown_option`]);
    expect(Object.keys(errorsOf(web({ mqtt: { type: 'mqtt', options: { realm: 'realm1' }, endpoint: { type: 'tcp', port: 1883 } } })))).toEqual([`${P}.endpoint`]);
    const roleBesideAuth = web({ mqtt: { type: 'mqtt', options: { realm: 'realm1', role: 'sensor' }, auth: { anonymous: { type: 'static', role: 'sensor' } } } });
    expect(Object.keys(errorsOf(roleBesideAuth))).toEqual([`${P}.options.role`]);
    const wampcra = web({ mqtt: { type: 'mqtt', options: { realm: 'realm1' }, auth: { wampcra: { type: 'static', users: { a: { secret: 's', role: 'sensor' } } } } } });
    expect(errorsOf(wampcra)[`${P}.auth.wampcra`]).toMatch(/does not apply to MQTT/);
  });

  it('an mqtt path cannot share its URL path with a WAMP WebSocket path', () => {
    const errors = errorsOf(config({
      type: 'universal', endpoint: { type: 'tcp', port: 8080 },
      websocket: { mqtt: {} },
      web: { paths: { mqtt: { type: 'mqtt', options: { realm: 'realm1' } } } },
    }));
    expect(errors).toEqual({ 'workers[0].transports[0].web.paths.mqtt': 'path /mqtt is already served by this transport' });
  });

  it("`transport` makes the path share that transport's MQTT service instead of having its own", () => {
    const doc = {
      version: 2,
      workers: [{
        type: 'router', realms: [{ name: 'realm1', roles: ROLES }],
        transports: [
          { id: 'web', type: 'web', endpoint: { type: 'tcp', port: 8080 }, paths: { mqtt: { type: 'mqtt', transport: 'sensors' } } },
          { id: 'sensors', type: 'mqtt', endpoint: { type: 'tcp', port: 1883 }, options: { realm: 'realm1' } },
          { id: 'u', type: 'universal', endpoint: { type: 'tcp', port: 9000 }, mqtt: { options: { realm: 'realm1' } }, web: { paths: { mqtt: { type: 'mqtt', transport: 'u' } } } },
        ],
      }],
    };
    const [web, , universal] = parseConfig(doc).router.listeners;
    expect(web!.mqttWebsocket).toEqual({ '/mqtt': { transport: 'sensors', allowedOrigins: ['*'] } });
    expect(universal!.mqttWebsocket).toEqual({ '/mqtt': { transport: 'u', allowedOrigins: ['*'] } });
  });

  it('`transport` must name a transport with MQTT, and leaves options and auth to it', () => {
    const both = web({ mqtt: { type: 'mqtt', transport: 'transport0', options: { realm: 'realm1' }, auth: {} } });
    expect(errorsOf(both)).toMatchObject({
      [`${P}.options`]: expect.stringMatching(/comes from the transport this path shares/),
      [`${P}.auth`]: expect.stringMatching(/comes from the transport this path shares/),
      [`${P}.transport`]: "transport 'transport0' serves no MQTT: name an mqtt transport or a universal transport with an mqtt item (there is none)",
    });
    expect(errorsOf(web({ mqtt: { type: 'mqtt', transport: 'nowhere' } }))).toEqual({
      [`${P}.transport`]: "there is no transport 'nowhere': name an mqtt transport or a universal transport with an mqtt item (there is none)",
    });
  });

  it('allowed_origins: a non-empty list of origins (default any), on either kind of path', () => {
    const origins = ['https://app.example', 'http://*.lan'];
    const listener = parseConfig(web({ mqtt: { type: 'mqtt', options: { realm: 'realm1' }, allowed_origins: origins } })).router.listeners[0]!;
    expect(listener.mqttWebsocket!['/mqtt']!.allowedOrigins).toEqual(origins);
    expect(Object.keys(errorsOf(web({ mqtt: { type: 'mqtt', options: { realm: 'realm1' }, allowed_origins: [] } })))).toEqual([`${P}.allowed_origins`]);
    expect(Object.keys(errorsOf(web({ mqtt: { type: 'mqtt', options: { realm: 'realm1' }, allowed_origins: ['ok', 7] } })))).toEqual([`${P}.allowed_origins[1]`]);
  });
});
