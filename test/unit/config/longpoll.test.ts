// A web path of type longpoll in the config: Crossbar's keys (`options`: request_timeout,
// session_timeout, queue_limit_bytes, queue_limit_messages, debug, debug_transport_id; seconds as
// in Crossbar), Junction's `auth`, max_message_size, max_transports and allowed_origins; errors
// name the key path.
import { describe, it, expect } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { LONGPOLL_DEFAULTS } from '../../../src/config/load-longpoll.js';
import { errorsOf, issuesOf, routerWithTransport } from '../../helpers/config.js';

const config = (transport: object) => routerWithTransport(transport, ['anonymous', 'user']);
const web = (paths: object) => config({ type: 'web', endpoint: { type: 'tcp', port: 8080 }, paths });
const P = 'workers[0].transports[0].paths.lp';

describe('config: long-poll web path', () => {
  it("Crossbar's example (type only) is a long-poll service at /lp with Crossbar's defaults", () => {
    const listener = parseConfig(web({ ws: { type: 'websocket' }, lp: { type: 'longpoll' } })).router.listeners[0]!;
    expect(listener.longpoll).toEqual({ '/lp': { ...LONGPOLL_DEFAULTS } });
    expect(LONGPOLL_DEFAULTS).toMatchObject({ requestTimeout: 10_000, sessionTimeout: 30_000, queueLimitBytes: 131_072, queueLimitMessages: 100, debug: false, maxTransports: 100 });
  });

  it('every option of Crossbar\'s docs is taken, timeouts in seconds; a universal transport\'s web paths take it too', () => {
    const options = { request_timeout: 0, session_timeout: 5, queue_limit_bytes: 4096, queue_limit_messages: 0, debug: true, max_message_size: 65536, max_transports: 7, allowed_origins: ['https://*.example.com'] };
    const lp = parseConfig(web({ lp: { type: 'longpoll', id: 'lp1', options } })).router.listeners[0]!.longpoll!['/lp'];
    expect(lp).toEqual({ ...LONGPOLL_DEFAULTS, requestTimeout: 0, sessionTimeout: 5000, queueLimitBytes: 4096, queueLimitMessages: 0, debug: true, maxMessageSize: 65536, maxTransports: 7, allowedOrigins: ['https://*.example.com'] });
    const universal = parseConfig(config({ type: 'universal', endpoint: { type: 'tcp', port: 8080 }, web: { paths: { lp: { type: 'longpoll' } } } }));
    expect(Object.keys(universal.router.listeners[0]!.longpoll!)).toEqual(['/lp']);
  });

  it('an auth block (Junction\'s) is the WebSocket one; without it, clients are anonymous', () => {
    const auth = { ticket: { type: 'static', principals: { alice: { ticket: 'secret', role: 'user' } } } };
    const lp = parseConfig(web({ lp: { type: 'longpoll', auth } })).router.listeners[0]!.longpoll!['/lp']!;
    expect(lp.auth?.ticket).toEqual({ type: 'static', principals: { alice: { ticket: 'secret', role: 'user' } } });
    expect(errorsOf(web({ lp: { type: 'longpoll', auth: { ticket: { type: 'static', principals: { bob: { ticket: 'x', role: 'nobody' } } } } } })))
      .toEqual({ [`${P}.auth.ticket.principals.bob.role`]: "role 'nobody' is not defined in any realm" });
  });

  it('debug_transport_id and queue_limit_bytes 0 are taken with a warning saying what Junction does', () => {
    const { warnings, router } = parseConfig(web({ lp: { type: 'longpoll', options: { debug_transport_id: 'kjmd3sBLOUnb3Fyr', queue_limit_bytes: 0 } } }));
    expect(router.listeners[0]!.longpoll!['/lp']).toMatchObject({ debugTransportId: 'kjmd3sBLOUnb3Fyr', queueLimitBytes: 4 * 1024 * 1024 });
    expect(warnings?.map((w) => w.path).sort()).toEqual([`${P}.options.debug_transport_id`, `${P}.options.queue_limit_bytes`]);
  });

  it('errors name the key path', () => {
    expect(errorsOf(web({ lp: { type: 'longpoll', options: { request_timeout: '10' } } }))).toEqual({ [`${P}.options.request_timeout`]: 'must be a whole number, got "10"' });
    expect(errorsOf(web({ lp: { type: 'longpoll', options: { session_timeout: -1 } } }))).toEqual({ [`${P}.options.session_timeout`]: 'must be between 0 and 86400, got -1' });
    expect(Object.keys(errorsOf(web({ lp: { type: 'longpoll', options: { queue_limit_messages: 1.5, debug: 'yes' } } }))).sort())
      .toEqual([`${P}.options.debug`, `${P}.options.queue_limit_messages`]);
    expect(Object.keys(errorsOf(web({ lp: { type: 'longpoll', options: { frobnicate: 1 } } })))).toEqual([`${P}.options.frobnicate`]);
    expect(Object.keys(errorsOf(web({ lp: { type: 'longpoll', options: { allowed_origins: [] } } })))).toEqual([`${P}.options.allowed_origins`]);
    expect(Object.keys(errorsOf(web({ lp: { type: 'longpoll', serializers: ['json'] } })))).toEqual([`${P}.serializers`]);
    expect(Object.keys(errorsOf(web({ lp: { type: 'longpoll' }, lp2: { type: 'longpoll', options: { max_transports: 0 } } })))).toEqual([`workers[0].transports[0].paths.lp2.options.max_transports`]);
    expect(issuesOf(web({ lp: { type: 'longpoll' } }))).toEqual([]);
  });
});
