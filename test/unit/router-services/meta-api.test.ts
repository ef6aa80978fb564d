import { describe, it, expect } from 'vitest';
import { makeRouter, join, tick, allowAll, rawWire } from '../../helpers/core.js';

describe('meta API: sessions', () => {
  it('counts, lists and describes client sessions (not the router\'s own)', async () => {
    const router = makeRouter({ roles: [allowAll(), allowAll('sensor')] });
    const a = await join(router, 'anonymous', 'dash');
    const b = await join(router, 'sensor', 'temp-1');
    expect((await a.call('wamp.session.count')).args).toEqual([2]);
    expect((await a.call('wamp.session.count', [['sensor']])).args).toEqual([1]);
    expect(((await a.call('wamp.session.list')).args[0] as number[]).sort()).toEqual([a.id, b.id].sort());
    const details = (await a.call('wamp.session.get', [b.id])).args[0] as any;
    // Crossbar's SessionDetails, nothing more (Junction's queue figures are junction.session.get's).
    expect(Object.keys(details).sort()).toEqual(['authextra', 'authid', 'authmethod', 'authprovider', 'authrole', 'realm',
      'resumable', 'resume_token', 'resumed', 'serializer', 'session', 'transport']);
    expect(details).toMatchObject({ realm: 'realm1', session: b.id, authid: 'temp-1', authrole: 'sensor', serializer: 'native',
      transport: { channel_type: 'function', channel_framing: 'native', peer: expect.stringContaining('local:') } });
    const junction = (await a.call('junction.session.get', [b.id])).args[0] as any;
    expect(junction).toMatchObject({ session: b.id, transport: { type: 'local' }, junction: { pending_calls: 0, send_queue_bytes: 0 } });
    await expect(a.call('wamp.session.get', [12345])).rejects.toMatchObject({ uri: 'wamp.error.no_such_session' });
  });

  it('publishes on_join and on_leave, so a dashboard sees a sensor drop', async () => {
    const router = makeRouter();
    const dash = await join(router);
    const joins: any[] = []; const leaves: any[] = [];
    await dash.subscribe('wamp.session.on_join', (args) => joins.push(args[0]));
    await dash.subscribe('wamp.session.on_leave', (args) => leaves.push(args));
    const sensor = await join(router, 'anonymous', 'sensor-7');
    await tick(5);
    expect(joins).toEqual([expect.objectContaining({ session: sensor.id, authid: 'sensor-7' })]);
    await sensor.close();
    await tick(5);
    // Crossbar publishes the session ID only (a one-argument handler must not fail).
    expect(leaves).toEqual([[sensor.id]]);
  });

  it('gives wamp.session.get the very dict on_join carried', async () => {
    const router = makeRouter();
    const dash = await join(router);
    const joins: any[] = [];
    await dash.subscribe('wamp.session.on_join', (args) => joins.push(args[0]));
    const sensor = await join(router, 'anonymous', 'sensor-8');
    await tick(5);
    expect((await dash.call('wamp.session.get', [sensor.id])).args[0]).toEqual(joins[0]);
  });

  it("with options.wire 'spec': on_leave carries [session, authid, authrole], kill_by_authrole a count", async () => {
    const router = makeRouter({ wire: 'spec', roles: [allowAll(), allowAll('sensor')] });
    const dash = await join(router);
    const leaves: any[] = [];
    await dash.subscribe('wamp.session.on_leave', (args) => leaves.push(args));
    const sensor = await join(router, 'anonymous', 'sensor-7');
    const details = (await dash.call('wamp.session.get', [sensor.id])).args[0] as any;
    expect(details).toEqual({ session: sensor.id, authid: 'sensor-7', authrole: 'anonymous', authmethod: expect.any(String),
      authprovider: expect.any(String), transport: expect.objectContaining({ type: 'local' }) });
    await sensor.close();
    await tick(5);
    expect(leaves).toEqual([[sensor.id, 'sensor-7', 'anonymous']]);
    await join(router, 'sensor', 'x');
    await join(router, 'sensor', 'y');
    expect((await dash.call('wamp.session.kill_by_authrole', ['sensor'])).args).toEqual([2]);
  });

  it('kill takes reason and message positionally too (Crossbar: kill(session_id, reason, message)), and kill_by_authrole returns the IDs', async () => {
    const router = makeRouter({ roles: [allowAll(), allowAll('sensor')] });
    const admin = await join(router);
    const wire = rawWire(router);
    wire.send([1, 'realm1', { roles: { subscriber: {} } }]);
    const welcome = await wire.next();
    await admin.call('wamp.session.kill', [welcome![1], 'com.example.maintenance', 'back soon']);
    await wire.next(2);
    expect(wire.received[1]).toEqual([6, { message: 'back soon' }, 'com.example.maintenance']);
    const sensors = await Promise.all([join(router, 'sensor', 's1'), join(router, 'sensor', 's2')]);
    const killed = (await admin.call('wamp.session.kill_by_authrole', ['sensor', 'com.example.gone'])).args[0] as number[];
    expect(killed.sort()).toEqual(sensors.map((x) => x.id).sort());
    await expect(admin.call('wamp.session.kill', [admin.id + 1, 'not a uri!'])).rejects.toMatchObject({ uri: expect.stringMatching(/invalid_uri|no_such_session/) });
  });

  it('kills without a reason with wamp.close.normal (Crossbar), wamp.close.killed under the spec', async () => {
    for (const [wireOption, reason] of [[undefined, 'wamp.close.normal'], ['spec', 'wamp.close.killed']] as const) {
      const router = makeRouter({ wire: wireOption });
      const admin = await join(router);
      const wire = rawWire(router);
      wire.send([1, 'realm1', { roles: { subscriber: {} } }]);
      const welcome = await wire.next();
      await admin.call('wamp.session.kill', [welcome![1]]);
      await wire.next(2);
      expect(wire.received[1]?.[2]).toBe(reason);
    }
  });

  it('kills a session with GOODBYE, but not the caller itself', async () => {
    const router = makeRouter();
    const admin = await join(router);
    const victim = await join(router, 'anonymous', 'v');
    await expect(admin.call('wamp.session.kill', [admin.id])).rejects.toMatchObject({ uri: 'wamp.error.no_such_session' });
    await admin.call('wamp.session.kill', [victim.id], { message: 'bye' });
    await victim.closed;
    expect((await admin.call('wamp.session.count')).args).toEqual([1]);
    const others = await Promise.all([join(router, 'anonymous', 'x'), join(router, 'anonymous', 'x')]);
    const killed = (await admin.call('wamp.session.kill_by_authid', ['x'])).args[0] as number[];
    expect(killed.sort()).toEqual(others.map((o) => o.id).sort());
  });
});

describe('meta API: registrations and visible load', () => {
  it('reports registrations, their callees, concurrency, in-flight counts and queue depth', async () => {
    const router = makeRouter({ callQueue: [{ uri: 'svc.', match: 'prefix', limit: 5, timeout: 30000 }] });
    const [w1, w2, admin] = await Promise.all([join(router), join(router), join(router)]);
    const release: Array<() => void> = [];
    const slow = () => new Promise((r) => release.push(() => r(1)));
    await w1.register('svc.solve', slow, { invoke: 'roundrobin', concurrency: 1 });
    await w2.register('svc.solve', slow, { invoke: 'roundrobin', concurrency: 2 });
    const regId = (await admin.call('wamp.registration.lookup', ['svc.solve'])).args[0] as number;
    expect(regId).toBeGreaterThan(0);
    expect((await admin.call('wamp.registration.match', ['svc.solve'])).args).toEqual([regId]);
    expect((await admin.call('wamp.registration.list')).args[0]).toEqual({ exact: [regId], prefix: [], wildcard: [] });
    const pending = Array.from({ length: 5 }, () => admin.call('svc.solve'));
    await tick(10);
    // Crossbar's RegistrationDetails exactly; the load is junction.registration.get's.
    expect((await admin.call('wamp.registration.get', [regId])).args[0]).toEqual({
      id: regId, created: expect.any(String), uri: 'svc.solve', match: 'exact', invoke: 'roundrobin' });
    expect((await admin.call('wamp.registration.list', [w1.id])).args[0]).toEqual({ exact: [regId], prefix: [], wildcard: [] });
    expect((await admin.call('wamp.registration.list', [admin.id])).args[0]).toEqual({ exact: [], prefix: [], wildcard: [] });
    const load = (await admin.call('junction.registration.get', [regId])).args[0] as any;
    expect(load).toMatchObject({ id: regId, uri: 'svc.solve', match: 'exact', invoke: 'roundrobin', queued: 2 });
    expect(load.callees).toEqual([
      { session: w1.id, concurrency: 1, inflight: 1 },
      { session: w2.id, concurrency: 2, inflight: 2 },
    ]);
    expect((await admin.call('wamp.registration.list_callees', [regId])).args[0]).toEqual([w1.id, w2.id]);
    expect((await admin.call('wamp.registration.count_callees', [regId])).args).toEqual([2]);
    while (release.length) { release.shift()!(); await tick(5); }
    await Promise.all(pending);
    await expect(admin.call('wamp.registration.get', [999999])).rejects.toMatchObject({ uri: 'wamp.error.no_such_registration' });
  });

  it("junction.registration.set_concurrency changes the calling callee's own limit in place: queued calls take the new slots", async () => {
    const router = makeRouter({ callQueue: [{ uri: 'svc.', match: 'prefix', limit: 5, timeout: 30000 }] });
    const [primary, standby, admin] = await Promise.all([join(router), join(router), join(router)]);
    let running = 0;
    const release: Array<() => void> = [];
    const slow = () => { running++; return new Promise((r) => release.push(() => r('primary'))); };
    await primary.register('svc.solve', slow, { invoke: 'first', concurrency: 1 });
    await standby.register('svc.solve', () => 'standby', { invoke: 'first' });
    const regId = (await admin.call('wamp.registration.lookup', ['svc.solve'])).args[0] as number;
    const pending = Array.from({ length: 3 }, () => admin.call('svc.solve'));
    await tick(10);
    expect(running).toBe(1);
    await primary.call('junction.registration.set_concurrency', [regId, 3]);
    await tick(10);
    expect(running).toBe(3); // the queued two went to the primary, still first in line
    const load = (await admin.call('junction.registration.get', [regId])).args[0] as any;
    expect(load.callees).toEqual([
      { session: primary.id, concurrency: 3, inflight: 3 },
      { session: standby.id, concurrency: null, inflight: 0 },
    ]);
    await primary.call('junction.registration.set_concurrency', [regId, null]);
    expect(((await admin.call('junction.registration.get', [regId])).args[0] as any).callees[0].concurrency).toBeNull();
    while (release.length) release.shift()!();
    expect((await Promise.all(pending)).map((p) => p.args[0])).toEqual(['primary', 'primary', 'primary']);
    await expect(admin.call('junction.registration.set_concurrency', [regId, 2])).rejects.toMatchObject({ uri: 'wamp.error.no_such_registration' });
    await expect(primary.call('junction.registration.set_concurrency', [regId, -1])).rejects.toMatchObject({ uri: 'wamp.error.invalid_argument' });
    await expect(primary.call('junction.registration.set_concurrency', [regId, 1.5])).rejects.toMatchObject({ uri: 'wamp.error.invalid_argument' });
  });

  it('tells subscribers when a registration saturates and when its queue fills', async () => {
    const router = makeRouter({ callQueue: [{ uri: 'svc.', match: 'prefix', limit: 1, timeout: 30000 }] });
    const [worker, admin] = await Promise.all([join(router), join(router)]);
    const saturated: any[] = []; const full: any[] = [];
    await admin.subscribe('junction.registration.on_saturated', (args) => saturated.push(args[1]));
    await admin.subscribe('junction.registration.on_queue_full', (args) => full.push(args[1]));
    const release: Array<() => void> = [];
    await worker.register('svc.job', () => new Promise((r) => release.push(() => r(1))), { concurrency: 1 });
    const calls = Array.from({ length: 4 }, () => admin.call('svc.job').catch((e) => e.uri));
    await tick(10);
    expect(saturated).toHaveLength(1);
    expect(saturated[0]).toMatchObject({ uri: 'svc.job', callees: [{ inflight: 1, concurrency: 1 }] });
    expect(full).toHaveLength(1);
    expect(full[0]).toMatchObject({ uri: 'svc.job', limit: 1, queued: 1 });
    while (release.length) { release.shift()!(); await tick(5); }
    const outcomes = await Promise.all(calls);
    expect(outcomes.filter((o) => o === 'crossbar.error.max_concurrency_reached')).toHaveLength(2);
  });

  it('publishes registration lifecycle events in order, none for wamp.* procedures', async () => {
    const router = makeRouter();
    const [watcher, svc] = await Promise.all([join(router), join(router)]);
    const seen: string[] = [];
    for (const t of ['on_create', 'on_register', 'on_unregister', 'on_delete']) {
      await watcher.subscribe(`wamp.registration.${t}`, (args) => seen.push(`${t}:${typeof args[1] === 'object' ? (args[1] as any).uri : args[1]}`));
    }
    const id = await svc.register('svc.x', () => 1);
    await svc.unregister(id);
    await tick(5);
    expect(seen).toEqual(['on_create:svc.x', `on_register:${id}`, `on_unregister:${id}`, `on_delete:${id}`]);
  });
});
