// Crossbar's HTTP bridge services in the config: web paths of type publisher, caller and webhook,
// with Crossbar's keys and limits; errors name the key path.
import { describe, it, expect } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_TIMESTAMP_DELTA_LIMIT, MAX_POST_BODY, parseNetwork } from '../../../src/config/load-http-bridge.js';
import { errorsOf } from '../../helpers/config.js';

const ROLES = [{ name: 'anonymous', 'allow-by-default': true }, { name: 'pusher', 'allow-by-default': true }];
const config = (transport: object) => ({ version: 2, workers: [{ type: 'router', realms: [{ name: 'realm1', roles: ROLES }], transports: [transport] }] });
const web = (paths: object) => config({ type: 'web', endpoint: { type: 'tcp', port: 8080 }, paths });
const P = 'workers[0].transports[0].paths.push';

describe('config: HTTP bridge services (web paths of type publisher, caller, webhook)', () => {
  it("Crossbar's documented publisher config is read, with its defaults", () => {
    const doc = web({ push: { type: 'publisher', realm: 'realm1', role: 'anonymous', options: {
      key: 'foobar', secret: 'secret', post_body_limit: 8192, timestamp_delta_limit: 10, require_ip: ['192.168.1.1/255.255.255.0', '127.0.0.1'], require_tls: false,
    } } });
    const listener = parseConfig(doc).router.listeners[0]!;
    expect(listener.static['/push']).toEqual({
      type: 'publisher', realm: 'realm1', role: 'anonymous', key: 'foobar', secret: 'secret', postBodyLimit: 8192, timestampDeltaLimit: 10,
      requireIp: [{ address: '192.168.1.1', prefix: 24, family: 'ipv4' }, { address: '127.0.0.1', prefix: 32, family: 'ipv4' }],
      requireTls: false, debug: false, maxConcurrentRequests: DEFAULT_MAX_CONCURRENT_REQUESTS,
    });
    const caller = parseConfig(web({ call: { type: 'caller', realm: 'realm1', role: 'anonymous' } })).router.listeners[0]!.static['/call'];
    expect(caller).toEqual({ type: 'caller', realm: 'realm1', role: 'anonymous', postBodyLimit: MAX_POST_BODY, timestampDeltaLimit: DEFAULT_TIMESTAMP_DELTA_LIMIT, requireTls: false, debug: false, maxConcurrentRequests: 16 });
  });

  it("a universal transport's web paths and the root path take them too", () => {
    const doc = config({ type: 'universal', endpoint: { type: 'tcp', port: 8080 }, web: { paths: { '/': { type: 'caller', realm: 'realm1', role: 'pusher' } } } });
    expect(parseConfig(doc).router.listeners[0]!.static['/']).toMatchObject({ type: 'caller', role: 'pusher' });
  });

  it("a webhook's topic and answers; its options are required", () => {
    const hook = parseConfig(web({ hook: { type: 'webhook', realm: 'realm1', role: 'anonymous', options: { topic: 'com.myapp.topic1', success_response: 'thanks', github_secret: 's3' } } }));
    expect(hook.router.listeners[0]!.static['/hook']).toMatchObject({ type: 'webhook', topic: 'com.myapp.topic1', successResponse: 'thanks', githubSecret: 's3' });
    // Crossbar's documented example.
    const documented = parseConfig(web({ webhook: { type: 'webhook', realm: 'realm1', role: 'anonymous', options: { topic: 'com.myapp.topic1', success_response: '' } } }));
    expect(documented.router.listeners[0]!.static['/webhook']).toMatchObject({ topic: 'com.myapp.topic1', successResponse: '' });
    expect(errorsOf(web({ hook: { type: 'webhook', realm: 'realm1', role: 'anonymous' } }))).toEqual({ 'workers[0].transports[0].paths.hook.options': 'is required' });
    expect(errorsOf(web({ hook: { type: 'webhook', realm: 'realm1', role: 'anonymous', options: {} } }))).toEqual({ 'workers[0].transports[0].paths.hook.options.topic': 'is required' });
  });

  it('errors name the key path', () => {
    const bad = (options: object) => Object.keys(errorsOf(web({ push: { type: 'publisher', realm: 'realm1', role: 'anonymous', options } })));
    expect(bad({ post_body_limit: 2 ** 20 + 1 })).toEqual([`${P}.options.post_body_limit`]);
    expect(bad({ post_body_limit: -1 })).toEqual([`${P}.options.post_body_limit`]);
    expect(bad({ timestamp_delta_limit: 86401 })).toEqual([`${P}.options.timestamp_delta_limit`]);
    expect(bad({ require_ip: ['10.0.0.0/8', 'not-an-ip'] })).toEqual([`${P}.options.require_ip[1]`]);
    expect(bad({ require_ip: '127.0.0.1' })).toEqual([`${P}.options.require_ip`]);
    expect(bad({ require_tls: 'yes' })).toEqual([`${P}.options.require_tls`]);
    expect(bad({ key: 'k' })).toEqual([`${P}.options.secret`]);
    expect(bad({ secret: 's' })).toEqual([`${P}.options.key`]);
    expect(bad({ topic: 'x' })).toEqual([`${P}.options.topic`]); // webhook's only
    expect(bad({ max_concurrent_requests: 0 })).toEqual([`${P}.options.max_concurrent_requests`]);
    expect(Object.keys(errorsOf(web({ push: { type: 'publisher', realm: 'realm1' } })))).toEqual([`${P}.role`]);
    expect(Object.keys(errorsOf(web({ push: { type: 'publisher', realm: 'nowhere', role: 'anonymous' } })))).toEqual([`${P}.realm`]);
    expect(Object.keys(errorsOf(web({ push: { type: 'publisher', realm: 'realm1', role: 'nobody' } })))).toEqual([`${P}.role`]);
    expect(Object.keys(errorsOf(web({ push: { type: 'publisher', realm: 'realm1', role: 'anonymous', auth: {} } })))).toEqual([`${P}.auth`]);
  });

  it('post_body_limit 0 (unlimited in Crossbar) is accepted with a warning naming the 1 MiB cap', () => {
    const loaded = parseConfig(web({ push: { type: 'publisher', realm: 'realm1', role: 'anonymous', options: { post_body_limit: 0 } } }));
    expect(loaded.router.listeners[0]!.static['/push']).toMatchObject({ postBodyLimit: MAX_POST_BODY });
    expect(loaded.warnings).toEqual([{ path: `${P}.options.post_body_limit`, message: expect.stringContaining(String(MAX_POST_BODY)) }]);
  });

  it('a bridge path cannot share its URL path with another service', () => {
    const doc = config({ type: 'universal', endpoint: { type: 'tcp', port: 8080 }, websocket: { push: {} }, web: { paths: { push: { type: 'publisher', realm: 'realm1', role: 'anonymous' } } } });
    expect(errorsOf(doc)).toEqual({ 'workers[0].transports[0].web.paths.push': 'path /push is already served by this transport' });
  });

  it('require_ip takes addresses, prefix lengths and netmasks, IPv4 and IPv6', () => {
    expect(parseNetwork('10.1.2.3/8')).toEqual({ address: '10.1.2.3', prefix: 8, family: 'ipv4' });
    expect(parseNetwork('192.168.1.1/255.255.255.0')).toEqual({ address: '192.168.1.1', prefix: 24, family: 'ipv4' });
    expect(parseNetwork('fd00::/8')).toEqual({ address: 'fd00::', prefix: 8, family: 'ipv6' });
    expect(parseNetwork('::1')).toEqual({ address: '::1', prefix: 128, family: 'ipv6' });
    for (const bad of ['10.0.0.0/33', '10.0.0.0/255.0.255.0', 'example.com', '10.0.0.0/8/8', 'fd00::/255.0.0.0']) expect(parseNetwork(bad)).toBeUndefined();
  });
});
