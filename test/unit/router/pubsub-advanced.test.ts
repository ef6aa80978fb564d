import { MAX_ORIGIN_LENGTH } from '../../../src/wamp/origin.js';
import { describe, it, expect } from 'vitest';
import { makeRouter, join, tick, allowAll } from '../../helpers/core.js';
import { Router } from '../../../src/router/router.js';
import { InProcessServices } from '../../../src/router-services/in-process-services.js';

describe('event retention', () => {
  it('keeps the last event per topic and delivers it on get_retained, also to prefix and wildcard subscribers', async () => {
    const router = makeRouter();
    const [pub, s] = await Promise.all([join(router), join(router)]);
    await pub.publish('home.kitchen.temp', [20], {}, { retain: true, acknowledge: true });
    await pub.publish('home.kitchen.temp', [21], {}, { retain: true, acknowledge: true });
    await pub.publish('home.hall.temp', [18], {}, { retain: true, acknowledge: true });
    await pub.publish('home.kitchen.humidity', [40], {}, { acknowledge: true });
    const exact: any[] = []; const wild: any[] = []; const prefix: any[] = []; const none: any[] = [];
    await s.subscribe('home.kitchen.temp', (a, _k, d) => exact.push([a[0], d.retained]), { get_retained: true });
    await s.subscribe('home..temp', (a, _k, d) => wild.push([a[0], d.topic, d.retained]), { match: 'wildcard', get_retained: true });
    await s.subscribe('home.', (a, _k, d) => prefix.push([a[0], d.topic]), { match: 'prefix', get_retained: true });
    await s.subscribe('home.hall.temp', (a) => none.push(a[0]));
    await tick(5);
    expect(exact).toEqual([[21, true]]);
    expect(wild.sort()).toEqual([[18, 'home.hall.temp', true], [21, 'home.kitchen.temp', true]]);
    expect(prefix.sort()).toEqual([[18, 'home.hall.temp'], [21, 'home.kitchen.temp']]);
    expect(none).toEqual([]);
  });

  it('respects eligibility and authorization for retained events', async () => {
    const limited = { name: 'limited', permissions: [{ uri: 'home.', match: 'prefix' as const, cache: true, allow: { call: false, register: false, publish: false, subscribe: true }, disclose: { caller: false, publisher: false } }] };
    const router = makeRouter({ roles: [allowAll(), limited] });
    const pub = await join(router);
    await pub.publish('home.secret', [1], {}, { retain: true, acknowledge: true, eligible_authrole: ['anonymous'] });
    await pub.publish('office.temp', [2], {}, { retain: true, acknowledge: true });
    const s = await join(router, 'limited');
    const got: unknown[] = [];
    await s.subscribe('home.secret', (a) => got.push(a[0]), { get_retained: true });
    const admin = await join(router);
    const adminGot: unknown[] = [];
    // Everything, retained: meta events (wamp.*) flow here too and are not what this test counts.
    await admin.subscribe('', (a, _k, d) => { if (d.retained) adminGot.push(a[0]); }, { match: 'prefix', get_retained: true });
    await tick(5);
    expect(got).toEqual([]);
    expect(adminGot.sort()).toEqual([1, 2]);
  });
});

describe('event history', () => {
  const withHistory = () => new Router([{
    name: 'realm1', roles: [allowAll()],
    store: { type: 'memory', limit: 100, callQueue: [], eventHistory: [{ uri: 'log.', match: 'prefix', limit: 3 }] },
  }], new InProcessServices());

  it('returns the last N events newest first, for exact and pattern subscriptions', async () => {
    const router = withHistory();
    const [pub, reader] = await Promise.all([join(router), join(router)]);
    for (let i = 1; i <= 5; i++) await pub.publish(i % 2 ? 'log.a' : 'log.b', [i], {}, { acknowledge: true });
    await pub.publish('log.a', [99], {}, { acknowledge: true, exclude: [reader.id] });
    const exactSub = await reader.subscribe('log.a', () => {});
    const prefixSub = await reader.subscribe('log.', () => {}, { match: 'prefix' });
    const exact = (await reader.call('wamp.subscription.get_events', [exactSub], { limit: 10 })).args[0] as any[];
    expect(exact.map((e) => e.args[0])).toEqual([5, 3]);
    const pattern = (await reader.call('wamp.subscription.get_events', [prefixSub], { limit: 2 })).args[0] as any[];
    expect(pattern.map((e) => [e.topic, e.args[0]])).toEqual([['log.a', 5], ['log.b', 4]]);
    const other = await reader.subscribe('metrics.cpu', () => {});
    await expect(reader.call('wamp.subscription.get_events', [other])).rejects.toMatchObject({ uri: 'wamp.error.history_unavailable' });
  });

  it('issue 20 #8: get_events(id, limit) honours the positional limit, as Crossbar takes it', async () => {
    const router = withHistory();
    const [pub, reader] = await Promise.all([join(router), join(router)]);
    for (let i = 1; i <= 3; i++) await pub.publish('log.a', [i], {}, { acknowledge: true });
    const sub = await reader.subscribe('log.a', () => {});
    const events = async (args: unknown[], kwargs?: Record<string, unknown>) =>
      ((await reader.call('wamp.subscription.get_events', args, kwargs)).args[0] as any[]).map((e) => e.args[0]);
    expect(await events([sub, 1])).toEqual([3]);
    expect(await events([sub, 2])).toEqual([3, 2]);
    expect(await events([sub])).toEqual([3, 2, 1]);
    expect(await events([sub], { limit: 1 })).toEqual([3]);
    // Crossbar's record of an event (time_ns, realm, publisher fields), its publisher disclosed or not.
    await pub.publish('log.a', [4], {}, { acknowledge: true, disclose_me: true });
    const [disclosed, hidden] = (await reader.call('wamp.subscription.get_events', [sub, 2])).args[0] as any[];
    expect(disclosed).toMatchObject({ realm: 'realm1', session_id: pub.id, publication: expect.any(Number), topic: 'log.a', args: [4], kwargs: {} });
    expect(hidden).toMatchObject({ realm: 'realm1', session_id: null, authid: null, authrole: null, args: [3] });
    expect(Math.abs(disclosed.time_ns / 1e6 - Date.now())).toBeLessThan(60_000);
    for (const bad of [0, -1, 1.5, 'ten']) {
      await expect(reader.call('wamp.subscription.get_events', [sub, bad])).rejects.toMatchObject({ uri: 'wamp.error.invalid_argument' });
    }
  });
});

describe('subscription meta API', () => {
  it('lists, looks up, matches and describes subscriptions and their subscribers', async () => {
    const router = makeRouter();
    const [a, b, admin] = await Promise.all([join(router), join(router), join(router)]);
    const created: any[] = [];
    await admin.subscribe('wamp.subscription.on_create', (args) => created.push(args[1]));
    const exact = await a.subscribe('t.x', () => {});
    await b.subscribe('t.x', () => {});
    const prefix = await b.subscribe('t.', () => {}, { match: 'prefix' });
    await tick(5);
    expect(created.map((c) => c.uri)).toEqual(['t.x', 't.']);
    expect((await admin.call('wamp.subscription.list')).args[0]).toMatchObject({ exact: [exact], prefix: [prefix], wildcard: [] });
    expect((await admin.call('wamp.subscription.lookup', ['t.', { match: 'prefix' }])).args).toEqual([prefix]);
    expect(((await admin.call('wamp.subscription.match', ['t.x'])).args[0] as number[]).sort()).toEqual([exact, prefix].sort());
    expect((await admin.call('wamp.subscription.count_subscribers', [exact])).args).toEqual([2]);
    expect(((await admin.call('wamp.subscription.list_subscribers', [exact])).args[0] as number[]).sort()).toEqual([a.id, b.id].sort());
    expect((await admin.call('wamp.subscription.get', [exact])).args[0]).toMatchObject({ id: exact, uri: 't.x', match: 'exact' });
    await admin.call('wamp.subscription.remove_subscriber', [exact, a.id]);
    expect((await admin.call('wamp.subscription.count_subscribers', [exact])).args).toEqual([1]);
    await expect(admin.call('wamp.subscription.get', [424242])).rejects.toMatchObject({ uri: 'wamp.error.no_such_subscription' });
  });
});

describe('testaments', () => {
  it('publishes a testament when the session ends, and not after it was flushed', async () => {
    const router = makeRouter();
    const dash = await join(router);
    const wills: unknown[] = [];
    await dash.subscribe('devices.gone', (args) => wills.push(args[0]));
    const sensor = await join(router);
    await sensor.call('wamp.session.add_testament', ['devices.gone', ['sensor-1'], {}]);
    const other = await join(router);
    await other.call('wamp.session.add_testament', ['devices.gone', ['sensor-2'], {}], { scope: 'detached' });
    expect((await other.call('wamp.session.flush_testaments', [], { scope: 'detached' })).args).toEqual([1]);
    await sensor.close();
    await other.close();
    await tick(5);
    expect(wills).toEqual(['sensor-1']);
  });

  it('refuses an invalid scope and a reserved topic', async () => {
    const router = makeRouter();
    const s = await join(router);
    await expect(s.call('wamp.session.add_testament', ['a.b', [], {}], { scope: 'later' })).rejects.toMatchObject({ uri: 'wamp.error.testament_error' });
    await expect(s.call('wamp.session.add_testament', ['wamp.x', [], {}])).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
    await expect(s.call('wamp.session.add_testament', ['junction.session.on_slow_consumer', [], {}])).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
  });

  it('issue 19 #1: publish_options of the wrong type are refused at add_testament with invalid_argument, and leaving never throws', async () => {
    const uncaught: unknown[] = [];
    const onError = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onError);
    process.on('unhandledRejection', onError);
    try {
      const router = makeRouter();
      const dash = await join(router);
      const wills: unknown[] = [];
      await dash.subscribe('devices.gone', (args) => wills.push(args[0]));
      const bad = [
        { eligible: 5 }, { exclude_authid: 1 }, { exclude: 'x' }, { eligible_authrole: [1] }, { retain: 'yes' },
        { disclose_me: 0 }, { forward_for: [1] }, { enc_algo: 'cryptobox' }, { ppt_scheme: 'x' },
      ];
      const sensor = await join(router);
      for (const publish_options of bad) {
        await expect(sensor.call('wamp.session.add_testament', ['devices.gone', ['never'], {}], { publish_options }), JSON.stringify(publish_options))
          .rejects.toMatchObject({ uri: 'wamp.error.invalid_argument' });
      }
      for (const publish_options of [5, 'x', [1]]) {
        await expect(sensor.call('wamp.session.add_testament', ['devices.gone', [], {}], { publish_options })).rejects.toMatchObject({ uri: 'wamp.error.invalid_argument' });
      }
      // Valid options still work: a whitelist that admits the dashboard.
      await sensor.call('wamp.session.add_testament', ['devices.gone', ['sensor-1'], {}], { publish_options: { eligible: [dash.id], retain: true } });
      await sensor.close();
      await tick(10);
      expect(wills).toEqual(['sensor-1']);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    }
  });

  it('issue 19 #1: a testament that still fails to publish is logged; the others go out and the router stays up', async () => {
    const router = makeRouter();
    const dash = await join(router);
    const wills: unknown[] = [];
    await dash.subscribe('devices.gone', (args) => wills.push(args[0]));
    const sensor = await join(router);
    await sensor.call('wamp.session.add_testament', ['devices.gone', ['first'], {}]);
    await sensor.call('wamp.session.add_testament', ['devices.gone', ['second'], {}]);
    // Defence in depth: a testament whose options escaped the check (a future bug) must not throw out of the leave.
    const session = router.realm('realm1')!.sessions.get(sensor.id)!;
    session.testaments.destroyed[0]!.options = { eligible: 5, exclude_authid: 1 };
    await sensor.close();
    await tick(10);
    expect(wills).toEqual(['second']);
    const fresh = await join(router);
    expect((await fresh.call('wamp.session.count')).args).toEqual([2]);
  });
});

describe('bounded state', () => {
  it('refuses more than 100 testaments per scope', async () => {
    const router = makeRouter();
    const s = await join(router);
    for (let i = 0; i < 100; i++) await s.call('wamp.session.add_testament', ['a.b', [i], {}]);
    await expect(s.call('wamp.session.add_testament', ['a.b', [], {}])).rejects.toMatchObject({ uri: 'wamp.error.testament_error' });
  });
});

describe('publications with an _origin (router links)', () => {
  it('delivers an origin once: the same event that came in over a second path of links is dropped', async () => {
    const router = makeRouter();
    const [linkA, linkB, s] = await Promise.all([join(router), join(router), join(router)]);
    const got: unknown[][] = [];
    await s.subscribe('fleet.news', (a, _k, d) => got.push([a[0], d['_origin']]));
    await linkA.publish('fleet.news', ['first path'], {}, { _origin: 'n1:7', acknowledge: true });
    // Acknowledged as published (it was, once), not delivered again.
    expect(await linkB.publish('fleet.news', ['second path'], {}, { _origin: 'n1:7', acknowledge: true })).toEqual(expect.any(Number));
    await linkB.publish('fleet.news', ['another event'], {}, { _origin: 'n1:8', acknowledge: true });
    await linkB.publish('fleet.news', ['no origin'], {}, { acknowledge: true });
    await linkB.publish('fleet.news', ['no origin'], {}, { acknowledge: true });
    await tick(5);
    expect(got).toEqual([['first path', 'n1:7'], ['another event', 'n1:8'], ['no origin', undefined], ['no origin', undefined]]);
  });

  it('remembers only short origins: a client cannot make the broker hold long strings (a longer _origin is an ordinary custom attribute)', async () => {
    const router = makeRouter();
    const [publisher, s] = await Promise.all([join(router), join(router)]);
    const got: unknown[] = [];
    await s.subscribe('fleet.news', (a) => got.push(a[0]));
    const long = `n1:${'7'.repeat(MAX_ORIGIN_LENGTH)}`;
    await publisher.publish('fleet.news', ['long 1'], {}, { _origin: long, acknowledge: true });
    await publisher.publish('fleet.news', ['long 2'], {}, { _origin: long, acknowledge: true });
    await tick(5);
    expect(got).toEqual(['long 1', 'long 2']);
  });

  it('names the realm in WELCOME (_node): one random name per realm and router', async () => {
    const one = makeRouter();
    const other = makeRouter();
    const [a, b, c] = await Promise.all([join(one), join(one), join(other)]);
    expect(a.welcome['_node']).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(b.welcome['_node']).toBe(a.welcome['_node']);
    expect(c.welcome['_node']).not.toBe(a.welcome['_node']);
  });
});

describe('late events (router links)', () => {
  it("carries a PUBLISH's _late and _published_at into the EVENT details, and refuses them of the wrong type", async () => {
    const router = makeRouter();
    const [pub, s] = await Promise.all([join(router), join(router)]);
    const got: unknown[] = [];
    await s.subscribe('fleet.temp', (a, _k, d) => got.push([a[0], d['_late'], d['_published_at']]));
    await pub.publish('fleet.temp', [20], {}, { _late: true, _published_at: '2026-12-03T18:00:00.000Z', acknowledge: true });
    await pub.publish('fleet.temp', [21], {}, { acknowledge: true });
    await tick(5);
    expect(got).toEqual([[20, true, '2026-12-03T18:00:00.000Z'], [21, undefined, undefined]]);
    const bad = await join(router);
    await expect(bad.publish('fleet.temp', [22], {}, { _late: 'yes', acknowledge: true })).rejects.toThrow();
    const bad2 = await join(router);
    await expect(bad2.publish('fleet.temp', [23], {}, { _published_at: 5, acknowledge: true })).rejects.toThrow();
    await tick(5);
    expect(got).toHaveLength(2);
  });
});
