// Session lifecycle and protocol violations, over a raw in-process wire (no sockets).
import { describe, it, expect } from 'vitest';
import { makeRouter, rawWire, HELLO_ALL, join } from '../../helpers/core.js';

describe('session opening and closing', () => {
  it('WELCOMEs a HELLO with the roles and features the router implements', async () => {
    const wire = rawWire(makeRouter());
    wire.send([1, 'realm1', HELLO_ALL]);
    const welcome = await wire.next();
    expect(welcome?.[0]).toBe(2);
    const details = welcome![2] as any;
    expect(welcome![1]).toBeGreaterThanOrEqual(1);
    expect(details.authrole).toBe('anonymous');
    expect(details.authmethod).toBe('anonymous');
    expect(details.roles.broker.features.pattern_based_subscription).toBe(true);
    expect(details.roles.dealer.features.shared_registration).toBe(true);
    expect(details.roles.dealer.features.call_canceling).toBe(true);
    // Not implemented here, so not announced.
    expect(details.roles.broker.features.sharded_subscription).toBeUndefined();
    expect(details.roles.dealer.features.progressive_call_invocations).toBeUndefined();
  });

  it('ABORTs a HELLO for an unknown realm with no_such_realm and an invalid realm with invalid_uri', async () => {
    const a = rawWire(makeRouter());
    a.send([1, 'nope', HELLO_ALL]);
    expect(await a.next()).toEqual([3, expect.any(Object), 'wamp.error.no_such_realm']);
    const b = rawWire(makeRouter());
    b.send([1, 'bad realm', HELLO_ALL]);
    expect((await b.next())?.[2]).toBe('wamp.error.invalid_uri');
  });

  it('answers GOODBYE with wamp.close.normal as Crossbar does, goodbye_and_out under options.wire spec', async () => {
    const wire = rawWire(makeRouter());
    wire.send([1, 'realm1', HELLO_ALL]);
    await wire.next();
    wire.send([6, {}, 'wamp.close.close_realm']);
    expect(await wire.next()).toEqual([6, {}, 'wamp.close.normal']);
    const spec = rawWire(makeRouter({ wire: 'spec' }));
    spec.send([1, 'realm1', HELLO_ALL]);
    await spec.next();
    spec.send([6, {}, 'wamp.close.close_realm']);
    expect(await spec.next()).toEqual([6, {}, 'wamp.close.goodbye_and_out']);
  });

  const violations: Array<[string, unknown[], unknown[]]> = [
    ['a message before HELLO', [], [32, 1, {}, 'a.b']],
    ['a second HELLO', [[1, 'realm1', HELLO_ALL]], [1, 'realm1', HELLO_ALL]],
    ['an unknown message type', [[1, 'realm1', HELLO_ALL]], [99, 1]],
    ['an empty message', [[1, 'realm1', HELLO_ALL]], []],
    ['a non-array message', [[1, 'realm1', HELLO_ALL]], { a: 1 }],
    ['a router-only message', [[1, 'realm1', HELLO_ALL]], [36, 1, 2, {}]],
    ['a wrong option type', [[1, 'realm1', HELLO_ALL]], [16, 1, { acknowledge: 'x' }, 'a.b']],
    ['a bad match value', [[1, 'realm1', HELLO_ALL]], [32, 1, { match: 'invalid' }, 'a.b']],
    ['exclude of strings', [[1, 'realm1', HELLO_ALL]], [16, 1, { exclude: ['a'] }, 'a.b']],
    ['a request ID of 0', [[1, 'realm1', HELLO_ALL]], [32, 0, {}, 'a.b']],
    ['a request ID above 2^53', [[1, 'realm1', HELLO_ALL]], [32, 2 ** 53 + 2, {}, 'a.b']],
    ['ERROR with request type CALL', [[1, 'realm1', HELLO_ALL]], [8, 48, 1, {}, 'a.b']],
    ['YIELD for an invocation never sent', [[1, 'realm1', HELLO_ALL]], [70, 5, {}]],
    ['args that are not a list', [[1, 'realm1', HELLO_ALL]], [48, 1, {}, 'a.b', { x: 1 }]],
    ['GOODBYE before WELCOME', [], [6, {}, 'wamp.close.close_realm']],
    ['HELLO without roles', [], [1, 'realm1', {}]],
  ];
  for (const [what, before, bad] of violations) {
    it(`ABORTs with protocol_violation on ${what}, and closes`, async () => {
      const wire = rawWire(makeRouter());
      for (const m of before) {
        wire.send(m);
        await wire.next();
      }
      const n = wire.received.length;
      wire.send(bad);
      const abort = await wire.next(n + 1);
      expect(abort?.[0]).toBe(3);
      expect(abort?.[2]).toBe('wamp.error.protocol_violation');
      expect(typeof (abort?.[1] as any).message).toBe('string');
      await wire.next(n + 2);
      expect(wire.closed).toBe(true);
    });
  }

  it('a violating session loses its registrations; other sessions are untouched', async () => {
    const router = makeRouter();
    const wire = rawWire(router);
    wire.send([1, 'realm1', HELLO_ALL]);
    await wire.next();
    wire.send([64, 1, {}, 'com.svc.p']);
    expect((await wire.next(2))?.[0]).toBe(65);
    const other = await join(router);
    wire.send([99]);
    await wire.next(3);
    await expect(other.call('com.svc.p')).rejects.toMatchObject({ uri: 'wamp.error.no_such_procedure' });
    // The bystander can still use the router.
    await other.register('com.svc.p', () => 42);
    expect((await other.call('com.svc.p')).args).toEqual([42]);
  });

  it('issue 20 #1: shutdown ends every session, joined or opening, by closing its connection: no GOODBYE or ABORT, which clients take as final', async () => {
    const router = makeRouter();
    const joined = rawWire(router);
    joined.send([1, 'realm1', HELLO_ALL]);
    await joined.next();
    const opening = rawWire(router); // connected, no HELLO yet
    await router.shutdown(500);
    expect(joined.closed).toBe(true);
    expect(joined.received.map((m) => m[0])).toEqual([2]); // WELCOME only
    expect(opening.closed).toBe(true);
    expect(opening.received).toEqual([]);
    expect(router.sessionCount).toBe(0);
  });
});
