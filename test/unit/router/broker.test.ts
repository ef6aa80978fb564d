import { describe, it, expect } from 'vitest';
import { makeRouter, join, tick, allowAll } from '../../helpers/core.js';

function collector() {
  const events: Array<{ args: unknown[]; kwargs: any; details: any }> = [];
  return { events, handler: (args: unknown[], kwargs: any, details: any) => events.push({ args, kwargs, details }) };
}

describe('broker', () => {
  it('delivers to subscribers but not the publisher (exclude_me default), and acknowledges', async () => {
    const router = makeRouter();
    const [pub, a, b] = await Promise.all([join(router), join(router), join(router)]);
    const ca = collector(); const cb = collector(); const cp = collector();
    const sa = await a.subscribe('com.t', ca.handler);
    const sb = await b.subscribe('com.t', cb.handler);
    expect(sa).toBe(sb); // one subscription ID per (topic, match)
    await pub.subscribe('com.t', cp.handler);
    const pubId = await pub.publish('com.t', [1], { k: 'v' }, { acknowledge: true });
    await tick();
    expect(ca.events).toEqual([{ args: [1], kwargs: { k: 'v' }, details: { publication: pubId } }]);
    expect(cb.events).toHaveLength(1);
    expect(cp.events).toHaveLength(0);
    await pub.publish('com.t', [2], {}, { acknowledge: true, exclude_me: false });
    await tick();
    expect(cp.events).toHaveLength(1);
  });

  it('a repeated SUBSCRIBE returns the same ID and delivers once', async () => {
    const router = makeRouter();
    const [pub, s] = await Promise.all([join(router), join(router)]);
    const c = collector();
    const id1 = await s.subscribe('com.t', c.handler);
    const id2 = await s.subscribe('com.t', () => {});
    expect(id2).toBe(id1);
    await pub.publish('com.t', [], {}, { acknowledge: true });
    await tick();
    expect(c.events).toHaveLength(1);
  });

  it('prefix and wildcard subscriptions get one EVENT each, with the concrete topic', async () => {
    const router = makeRouter();
    const [pub, s] = await Promise.all([join(router), join(router)]);
    const exact = collector(); const prefix = collector(); const wild = collector();
    await s.subscribe('sensors.kitchen.temp', exact.handler);
    await s.subscribe('sensors.', prefix.handler, { match: 'prefix' });
    await s.subscribe('sensors..temp', wild.handler, { match: 'wildcard' });
    await pub.publish('sensors.kitchen.temp', [21.5], {}, { acknowledge: true });
    await pub.publish('sensors.kitchen.humidity', [40], {}, { acknowledge: true });
    await tick();
    expect(exact.events.map((e) => e.args)).toEqual([[21.5]]);
    expect(exact.events[0]!.details.topic).toBeUndefined();
    expect(prefix.events.map((e) => e.details.topic)).toEqual(['sensors.kitchen.temp', 'sensors.kitchen.humidity']);
    expect(wild.events.map((e) => e.details.topic)).toEqual(['sensors.kitchen.temp']);
    // Same publication ID on every subscription.
    expect(prefix.events[0]!.details.publication).toBe(exact.events[0]!.details.publication);
  });

  it('applies eligible/exclude filters: eligible sets intersect, exclusion wins', async () => {
    const router = makeRouter({ roles: [allowAll(), allowAll('dashboard')] });
    const pub = await join(router);
    const a = await join(router, 'anonymous', 'alice');
    const b = await join(router, 'dashboard', 'bob');
    const c = await join(router, 'dashboard', 'carol');
    const [ca, cb, cc] = [collector(), collector(), collector()];
    await a.subscribe('t.x', ca.handler); await b.subscribe('t.x', cb.handler); await c.subscribe('t.x', cc.handler);
    await pub.publish('t.x', [1], {}, { acknowledge: true, exclude_authrole: ['anonymous'] });
    await pub.publish('t.x', [2], {}, { acknowledge: true, eligible_authrole: ['dashboard'], exclude: [c.id] });
    await pub.publish('t.x', [3], {}, { acknowledge: true, eligible: [a.id, b.id], eligible_authid: ['bob', 'carol'] });
    await pub.publish('t.x', [4], {}, { acknowledge: true, exclude_authid: ['alice', 'carol'] });
    await tick();
    expect(ca.events.map((e) => e.args[0])).toEqual([]);
    expect(cb.events.map((e) => e.args[0])).toEqual([1, 2, 3, 4]);
    expect(cc.events.map((e) => e.args[0])).toEqual([1]);
  });

  it('discloses the publisher when asked', async () => {
    const router = makeRouter();
    const [pub, s] = await Promise.all([join(router, 'anonymous', 'p1'), join(router)]);
    const c = collector();
    await s.subscribe('t.d', c.handler);
    await pub.publish('t.d', [], {}, { acknowledge: true, disclose_me: true });
    await tick();
    expect(c.events[0]!.details).toMatchObject({ publisher: pub.id, publisher_authid: 'p1', publisher_authrole: 'anonymous' });
  });

  it('refuses unauthorized, invalid and reserved topics with the spec URIs', async () => {
    const readOnly = { name: 'reader', permissions: [{ uri: 'pub.', match: 'prefix' as const, cache: true, allow: { call: false, register: false, publish: false, subscribe: true }, disclose: { caller: false, publisher: false } }] };
    const router = makeRouter({ roles: [allowAll(), readOnly] });
    const reader = await join(router, 'reader');
    const other = await join(router);
    await expect(reader.publish('pub.x', [], {}, { acknowledge: true })).rejects.toMatchObject({ uri: 'wamp.error.not_authorized' });
    await expect(reader.subscribe('priv.x', () => {})).rejects.toMatchObject({ uri: 'wamp.error.not_authorized' });
    await expect(other.publish('bad..uri', [], {}, { acknowledge: true })).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
    await expect(other.publish('wamp.session.on_join', [], {}, { acknowledge: true })).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
    await expect(other.subscribe('a b', () => {})).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
    // Unacknowledged bad publishes get no answer at all, and the session keeps working.
    await other.publish('bad..uri');
    expect(await other.subscribe('pub.ok', () => {})).toBeGreaterThan(0);
  });

  it('UNSUBSCRIBE stops delivery; an unknown subscription gets no_such_subscription', async () => {
    const router = makeRouter();
    const [pub, s] = await Promise.all([join(router), join(router)]);
    const c = collector();
    const id = await s.subscribe('t.u', c.handler);
    await s.unsubscribe(id);
    await pub.publish('t.u', [], {}, { acknowledge: true });
    await tick();
    expect(c.events).toHaveLength(0);
    await expect(s.unsubscribe(id)).rejects.toMatchObject({ uri: 'wamp.error.no_such_subscription' });
  });
});
