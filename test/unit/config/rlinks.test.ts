// A realm's `rlinks` (router-to-router links) in Crossbar's shape: defaults, and errors by key path.
import { describe, it, expect, afterEach } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { errorsOf } from '../../helpers/config.js';

function withLinks(rlinks: unknown) {
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [{ name: 'realm1', roles: [{ name: 'anonymous', 'allow-by-default': true }], rlinks }],
      transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 8080 } }],
    }],
  };
}
const linksOf = (rlinks: unknown) => parseConfig(withLinks(rlinks)).router.realms[0]!.rlinks!;
const P = 'workers[0].realms[0].rlinks[0]';

afterEach(() => { delete process.env['JUNCTION_TEST_HUB_TICKET']; });

describe('realm rlinks', () => {
  it("takes Crossbar's shape: every forward_* defaults to true, the excludes to none", () => {
    const [link] = linksOf([{ id: 'to-hub', realm: 'fleet', transport: { type: 'websocket', url: 'ws://hub.local:8080/ws' } }]);
    expect(link).toEqual({
      id: 'to-hub', realm: 'fleet',
      transport: { type: 'websocket', url: 'ws://hub.local:8080/ws', host: 'hub.local', port: 8080, tls: false, serializers: ['json'] },
      forwardLocalEvents: true, forwardRemoteEvents: true, forwardLocalInvocations: true, forwardRemoteInvocations: true,
      excludeAuthid: [], excludeAuthrole: [], excludeUri: [],
    });
  });

  it('reads an endpoint, serializers, authid/authrole, a ticket from the environment and the forward flags', () => {
    process.env['JUNCTION_TEST_HUB_TICKET'] = 's3cret';
    const [link] = linksOf([{
      realm: 'fleet', authid: 'board-1', authrole: 'board', ticket: '${JUNCTION_TEST_HUB_TICKET}',
      transport: { type: 'websocket', endpoint: { type: 'tcp', host: '10.0.0.1', port: 9000, tls: true }, serializers: ['cbor', 'json'] },
      forward_remote_events: false, forward_local_invocations: false, exclude_authid: ['bob'], exclude_uri: ['sys.*'],
    }]);
    expect(link).toMatchObject({
      id: 'rlink1', authid: 'board-1', authrole: 'board', ticket: 's3cret',
      transport: { type: 'websocket', url: 'wss://10.0.0.1:9000/', host: '10.0.0.1', port: 9000, tls: true, serializers: ['cbor', 'json'] },
      forwardLocalEvents: true, forwardRemoteEvents: false, forwardLocalInvocations: false, forwardRemoteInvocations: true,
      excludeAuthid: ['bob'], excludeUri: ['sys.*'],
    });
  });

  it('names the key path of what is wrong', () => {
    expect(errorsOf(withLinks([{ transport: { type: 'websocket', url: 'http://x' } }]))).toMatchObject({
      [`${P}.realm`]: 'is required',
      [`${P}.transport.url`]: expect.stringContaining('ws:// or wss://'),
    });
    expect(errorsOf(withLinks([{ realm: 'r', transport: { type: 'rawsocket' }, forward_local_events: 'yes', private_key: 'abc' }]))).toMatchObject({
      [`${P}.transport`]: expect.stringContaining('endpoint'),
      [`${P}.transport.type`]: expect.stringContaining('not supported by Junction yet'),
      [`${P}.forward_local_events`]: expect.any(String),
      [`${P}.private_key`]: expect.stringContaining('64 hex digits'),
    });
    expect(errorsOf(withLinks([{ realm: 'r', transport: { type: 'websocket', url: 'ws://h:1' }, private_key: 'ab'.repeat(32) }]))).toMatchObject({
      [`${P}.private_key`]: expect.stringContaining('cryptosign log-in is not supported by Junction yet'),
    });
    expect(errorsOf(withLinks([{ realm: 'r', transport: { type: 'udp', url: 'ws://h:1' } }, { id: 'rlink1', realm: 'r', transport: { type: 'websocket', url: 'ws://h:1' } }]))).toMatchObject({
      [`${P}.transport.type`]: expect.stringContaining('"websocket", "rawsocket"'),
      'workers[0].realms[0].rlinks[1].id': expect.stringContaining('already defined'),
    });
  });

  it('reads the store-and-forward buffer and the auto-ping and backoff options', () => {
    const [link] = linksOf([{
      realm: 'fleet',
      transport: { type: 'websocket', url: 'ws://hub:8080/ws', options: { auto_ping_interval: 1000, auto_ping_timeout: 500, retry_initial: 200, retry_max: 5000 } },
      buffer: { policy: 'all', limit: 50, file: '/var/lib/junction/hub.buf', rules: [{ prefix: 'telemetry.', limit: 5000 }, { prefix: 'debug.', policy: 'none' }] },
    }]);
    expect(link!.transport.options).toEqual({ autoPingInterval: 1000, autoPingTimeout: 500, retryInitial: 200, retryMax: 5000 });
    expect(link!.buffer).toEqual({
      policy: 'all', limit: 50, file: '/var/lib/junction/hub.buf',
      rules: [{ prefix: 'telemetry.', policy: 'all', limit: 5000 }, { prefix: 'debug.', policy: 'none', limit: 50 }],
    });
    const [defaults] = linksOf([{ realm: 'fleet', transport: { type: 'websocket', url: 'ws://hub:8080/ws', options: {} }, buffer: {} }]);
    expect(defaults!.transport.options).toEqual({ autoPingInterval: 10000, autoPingTimeout: 5000, retryInitial: 1000, retryMax: 30000 });
    expect(defaults!.buffer).toEqual({ policy: 'latest', limit: 1000, rules: [] });
  });

  it('names the key path of a wrong buffer or transport option', () => {
    expect(errorsOf(withLinks([{
      realm: 'r',
      transport: { type: 'websocket', url: 'ws://h:1', options: { auto_ping_interval: -1, retry_initial: 5000, retry_max: 100, max_frame: 1 } },
      buffer: { policy: 'oldest', limit: 0, file: 7, rules: [{ prefix: 'a.', policy: 'all' }, { prefix: 'a.', limit: 'x' }, { policy: 'none' }] },
    }]))).toMatchObject({
      [`${P}.transport.options.auto_ping_interval`]: expect.stringContaining('between 0 and'),
      [`${P}.transport.options.retry_max`]: expect.stringContaining('at least retry_initial'),
      [`${P}.transport.options.max_frame`]: expect.stringContaining("unknown key"),
      [`${P}.buffer.policy`]: expect.stringContaining('"latest", "all", "none"'),
      [`${P}.buffer.limit`]: expect.stringContaining('between 1 and'),
      [`${P}.buffer.file`]: expect.any(String),
      [`${P}.buffer.rules[1].prefix`]: expect.stringContaining('already has a rule'),
      [`${P}.buffer.rules[1].limit`]: expect.stringContaining('whole number'),
      [`${P}.buffer.rules[2].prefix`]: 'is required',
    });
  });
});
