// Config keys for limits and back-pressure (issue 5, item 4): a transport's `max_send_queue`,
// `send_queue_policy`, `max_messages_per_second`, `max_messages_burst`; an endpoint's
// `max_connections`; a realm's `max_pending_calls`. Defaults, parsed values, and every error at its path.
import { describe, it, expect } from 'vitest';
import { parseConfig, defaultConfig } from '../../../src/config/load.js';
import { DEFAULT_TRANSPORT_OPTIONS, DEFAULT_MAX_PENDING_CALLS } from '../../../src/config/types.js';
import { Realm } from '../../../src/router/realm.js';
import { IdSequence } from '../../../src/wamp/ids.js';
import { errorsOf } from '../../helpers/config.js';

type Raw = any;

function minimal(transport: Raw = { type: 'websocket', endpoint: { type: 'tcp', port: 8080 } }, realmOptions?: Raw): Raw {
  const realm: Raw = { name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true } }] }] };
  if (realmOptions !== undefined) realm.options = realmOptions;
  return { version: 2, workers: [{ type: 'router', realms: [realm], transports: [transport] }] };
}

const warningsOf = (raw: unknown) => Object.fromEntries((parseConfig(raw).warnings ?? []).map((w) => [w.path, w.message]));

const T0 = 'workers[0].transports[0]';
const R0 = 'workers[0].realms[0]';

describe('limits: defaults', () => {
  it('a transport bounds its send queue at 4 MiB, drops events past it, and has no rate limit', () => {
    expect(DEFAULT_TRANSPORT_OPTIONS).toMatchObject({ maxSendQueue: 4 * 1024 * 1024, sendQueuePolicy: 'drop-events', maxMessagesPerSecond: 0, maxMessagesBurst: 0 });
    const l = parseConfig(minimal()).router.listeners[0]!;
    expect(l.websocket['/']!.options).toEqual(DEFAULT_TRANSPORT_OPTIONS);
    expect(l.endpoint.maxConnections).toBeUndefined();
    const d = defaultConfig().router.listeners[0]!;
    expect(d.rawsocket!.options.maxSendQueue).toBe(4 * 1024 * 1024);
    expect(d.websocket['/ws']!.options.sendQueuePolicy).toBe('drop-events');
  });

  it('a realm without max_pending_calls allows 1000 pending calls per session', () => {
    const realm = parseConfig(minimal()).router.realms[0]!;
    expect(realm.maxPendingCalls).toBeUndefined();
    expect(DEFAULT_MAX_PENDING_CALLS).toBe(1000);
    expect(new Realm(realm, new IdSequence()).maxPendingCalls).toBe(1000);
  });
});

describe('limits: parsed values', () => {
  it('WebSocket, RawSocket and universal sub-transports take the limit options', () => {
    const opts = { max_send_queue: 65536, send_queue_policy: 'disconnect', max_messages_per_second: 200, max_messages_burst: 50 };
    const want = { maxSendQueue: 65536, sendQueuePolicy: 'disconnect', maxMessagesPerSecond: 200, maxMessagesBurst: 50 };
    const ws = parseConfig(minimal({ type: 'websocket', endpoint: { type: 'tcp', port: 8080 }, options: opts })).router.listeners[0]!;
    expect(ws.websocket['/']!.options).toMatchObject(want);
    const raw = parseConfig(minimal({ type: 'rawsocket', endpoint: { type: 'tcp', port: 8080 }, options: { ...opts, max_message_size: 4096 } })).router.listeners[0]!;
    expect(raw.rawsocket!.options).toMatchObject({ ...want, maxMessageSize: 4096 });
    const uni = parseConfig(minimal({
      type: 'universal', endpoint: { type: 'tcp', port: 8080, max_connections: 500 },
      rawsocket: { options: { send_queue_policy: 'drop-events', max_send_queue: 1024 } },
      websocket: { ws: { options: opts } },
    })).router.listeners[0]!;
    expect(uni.endpoint.maxConnections).toBe(500);
    expect(uni.rawsocket!.options).toMatchObject({ maxSendQueue: 1024, sendQueuePolicy: 'drop-events', maxMessagesPerSecond: 0 });
    expect(uni.websocket['/ws']!.options).toMatchObject(want);
  });

  it('max_connections on TCP and Unix endpoints; max_pending_calls in realm options', () => {
    const unix = parseConfig(minimal({ type: 'rawsocket', endpoint: { type: 'unix', path: '/tmp/junction-limits.sock', max_connections: 3 } }));
    expect(unix.router.listeners[0]!.endpoint).toEqual({ type: 'unix', path: '/tmp/junction-limits.sock', maxConnections: 3 });
    const realm = parseConfig(minimal(undefined, { max_pending_calls: 25 })).router.realms[0]!;
    expect(realm.maxPendingCalls).toBe(25);
    expect(new Realm(realm, new IdSequence()).maxPendingCalls).toBe(25);
  });
});

describe('limits: errors name their path', () => {
  it('refuses bad send queue and rate values, each at its key', () => {
    const raw = minimal({
      type: 'websocket', endpoint: { type: 'tcp', port: 8080 },
      options: { max_send_queue: 100, send_queue_policy: 'drop', max_messages_per_second: -1, max_messages_burst: 'many' },
    });
    const o = `${T0}.options`;
    expect(errorsOf(raw)).toEqual({
      [`${o}.max_send_queue`]: `must be between 1024 and ${1024 ** 3}, got 100`,
      [`${o}.send_queue_policy`]: 'must be one of "drop-events", "disconnect", got "drop"',
      [`${o}.max_messages_per_second`]: 'must be between 0 and 1000000, got -1',
      [`${o}.max_messages_burst`]: 'must be a whole number, got "many"',
    });
  });

  it('RawSocket options are checked the same way, and unknown keys are still refused', () => {
    const raw = minimal({ type: 'rawsocket', endpoint: { type: 'tcp', port: 8080 }, options: { max_send_queue: 1.5, send_queue_policys: 'disconnect' } });
    const errors = errorsOf(raw);
    expect(Object.keys(errors).sort()).toEqual([`${T0}.options.max_send_queue`, `${T0}.options.send_queue_policys`]);
    expect(errors[`${T0}.options.max_send_queue`]).toBe('must be a whole number, got number 1.5');
    expect(errors[`${T0}.options.send_queue_policys`]).toMatch(/^unknown key 'send_queue_policys'/);
  });

  it('refuses max_connections and max_pending_calls below 1 or not whole numbers', () => {
    expect(errorsOf(minimal({ type: 'websocket', endpoint: { type: 'tcp', port: 8080, max_connections: 0 } }))).toEqual({
      [`${T0}.endpoint.max_connections`]: 'must be between 1 and 1000000, got 0',
    });
    expect(errorsOf(minimal({ type: 'rawsocket', endpoint: { type: 'unix', path: '/tmp/x.sock', max_connections: 'lots' } }))).toEqual({
      [`${T0}.endpoint.max_connections`]: 'must be a whole number, got "lots"',
    });
    expect(errorsOf(minimal(undefined, { max_pending_calls: 0 }))).toEqual({
      [`${R0}.options.max_pending_calls`]: 'must be between 1 and 1000000, got 0',
    });
  });

  it('warns that max_messages_burst does nothing without max_messages_per_second', () => {
    const raw = minimal({ type: 'websocket', endpoint: { type: 'tcp', port: 8080 }, options: { max_messages_burst: 10 } });
    expect(warningsOf(raw)).toEqual({ [`${T0}.options.max_messages_burst`]: 'has no effect without max_messages_per_second' });
  });
});
