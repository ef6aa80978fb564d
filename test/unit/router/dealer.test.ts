import { describe, it, expect } from 'vitest';
import { makeRouter, join, tick, rawWire, HELLO_ALL, allowAll } from '../../helpers/core.js';
import { ClientSession } from '../../../src/client/client-session.js';
import { WampError, Result } from '../../../src/client/client-session.js';

const deferred = () => {
  let resolve!: (v?: unknown) => void;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
};

describe('dealer: basic RPC', () => {
  it('routes CALL → INVOCATION → YIELD → RESULT with args and kwargs', async () => {
    const router = makeRouter();
    const [callee, caller] = await Promise.all([join(router), join(router)]);
    await callee.register('com.math.add', (args) => (args[0] as number) + (args[1] as number));
    await callee.register('com.echo', (args, kwargs) => new Result(args, kwargs));
    expect((await caller.call('com.math.add', [2, 3])).args).toEqual([5]);
    expect(await caller.call('com.echo', ['a'], { b: 1 })).toMatchObject({ args: ['a'], kwargs: { b: 1 } });
  });

  it('issue 19 #11: a payload is sized by its own keys: a dict whose prototype is a Buffer is routed, kept as a testament and retained, not an internal error', async () => {
    const router = makeRouter();
    const [callee, caller, watcher] = await Promise.all([join(router), join(router), join(router)]);
    await callee.register('com.echo', (args) => new Result(args));
    // What the meta API fuzz sent in-process: a dict whose '__proto__' key was assigned, so its
    // prototype is a Buffer, whose inherited getters throw when read on anything but a Buffer.
    const odd: Record<string, unknown> = { a: 1 };
    odd['__proto__'] = Buffer.from('abc');
    // In-process messages pass by reference: the same object comes back (toEqual cannot walk it).
    expect((await caller.call('com.echo', [odd])).args[0]).toBe(odd);
    await caller.publish('com.retained', [odd], {}, { retain: true, acknowledge: true });
    const gone: unknown[] = [];
    await watcher.subscribe('com.gone', (args) => gone.push(args[0]));
    await caller.call('wamp.session.add_testament', ['com.gone', [odd], {}]);
    await caller.close();
    await tick(5);
    expect(gone.length === 1 && gone[0] === odd).toBe(true);
    const retained: unknown[] = [];
    await watcher.subscribe('com.retained', (args) => retained.push(args[0]), { get_retained: true });
    await tick(5);
    expect(retained.length === 1 && retained[0] === odd).toBe(true);
  });

  it('forwards callee errors with URI and payload', async () => {
    const router = makeRouter();
    const [callee, caller] = await Promise.all([join(router), join(router)]);
    await callee.register('com.fail', () => { throw new WampError('com.error.bad', ['why'], { code: 7 }); });
    await expect(caller.call('com.fail')).rejects.toMatchObject({ uri: 'com.error.bad', args: ['why'], kwargs: { code: 7 } });
  });

  it('answers no_such_procedure, invalid_uri, and refuses duplicate or reserved registrations', async () => {
    const router = makeRouter();
    const [a, b] = await Promise.all([join(router), join(router)]);
    await expect(a.call('com.none')).rejects.toMatchObject({ uri: 'wamp.error.no_such_procedure' });
    await expect(a.call('com..bad')).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
    await a.register('com.p', () => 1);
    await expect(b.register('com.p', () => 2)).rejects.toMatchObject({ uri: 'wamp.error.procedure_already_exists' });
    await expect(a.register('com.p', () => 2)).rejects.toMatchObject({ uri: 'wamp.error.procedure_already_exists' });
    await expect(a.register('wamp.session.count', () => 0)).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
  });

  it('routes pattern registrations by precedence and tells the callee the procedure', async () => {
    const router = makeRouter();
    const [callee, caller] = await Promise.all([join(router), join(router)]);
    await callee.register('com.dev.', (_a, _k, ctx) => `prefix:${ctx.details['procedure']}`, { match: 'prefix' });
    await callee.register('com.dev..reset', (_a, _k, ctx) => `wild:${ctx.details['procedure']}`, { match: 'wildcard' });
    await callee.register('com.dev.lamp.reset', (_a, _k, ctx) => `exact:${ctx.details['procedure'] ?? '-'}`);
    expect((await caller.call('com.dev.lamp.reset')).args).toEqual(['exact:-']);
    expect((await caller.call('com.dev.fan.reset')).args).toEqual(['prefix:com.dev.fan.reset']);
    await callee.unregister((await callee.register('com.other.', () => 0, { match: 'prefix' })));
    // Remove the prefix: the wildcard now serves.
    const wildOnly = makeRouter();
    const [c2, k2] = await Promise.all([join(wildOnly), join(wildOnly)]);
    await c2.register('com.dev..reset', (_a, _k, ctx) => `wild:${ctx.details['procedure']}`, { match: 'wildcard' });
    expect((await k2.call('com.dev.fan.reset')).args).toEqual(['wild:com.dev.fan.reset']);
  });

  it('discloses the caller when its role says so (disclose.caller) or the caller asks (disclose_me)', async () => {
    const disclosing = allowAll('disclosed');
    disclosing.permissions[0]!.disclose = { caller: true, publisher: false };
    const router = makeRouter({ roles: [allowAll(), disclosing] });
    const [callee, caller, known] = await Promise.all([join(router), join(router, 'anonymous', 'cli'), join(router, 'disclosed', 'k')]);
    await callee.register('com.anon', (_a, _k, ctx) => new Result([], ctx.details));
    expect((await caller.call('com.anon')).kwargs['caller']).toBeUndefined();
    expect((await caller.call('com.anon', [], {}, { disclose_me: true })).kwargs).toMatchObject({ caller: caller.id, caller_authid: 'cli', caller_authrole: 'anonymous' });
    expect((await known.call('com.anon')).kwargs).toMatchObject({ caller: known.id, caller_authid: 'k', caller_authrole: 'disclosed' });
  });

  it("issue 19 #12: a callee's disclose_caller does not override the caller's role's disclose.caller: false", async () => {
    const router = makeRouter();
    const [callee, caller] = await Promise.all([join(router), join(router, 'anonymous', 'cli')]);
    await callee.register('com.who', (_a, _k, ctx) => new Result([], ctx.details), { disclose_caller: true });
    const details = (await caller.call('com.who')).kwargs;
    expect(details['caller']).toBeUndefined();
    expect(details['caller_authid']).toBeUndefined();
    expect(details['caller_authrole']).toBeUndefined();
    // The router's own procedures still learn who calls them (wamp.session.add_testament needs it).
    await caller.call('wamp.session.add_testament', ['com.gone', [], {}]);
    expect((await caller.call('wamp.session.flush_testaments')).args).toEqual([1]);
  });

  it('relays progressive results to a caller that asked for them', async () => {
    const router = makeRouter();
    const [callee, caller] = await Promise.all([join(router), join(router)]);
    await callee.register('com.count', async (args, _k, ctx) => {
      for (let i = 1; i <= (args[0] as number); i++) ctx.progress([i]);
      return 'done';
    });
    const seen: unknown[] = [];
    const result = await caller.call('com.count', [3], {}, { onProgress: (p) => seen.push(p.args[0]) });
    expect(seen).toEqual([1, 2, 3]);
    expect(result.args).toEqual(['done']);
  });

  it('times out a call in milliseconds with wamp.error.timeout and interrupts the callee', async () => {
    const router = makeRouter();
    const [callee, caller] = await Promise.all([join(router), join(router)]);
    let interrupted = false;
    await callee.register('com.slow', (_a, _k, ctx) => new Promise((resolve) => {
      ctx.signal.addEventListener('abort', () => { interrupted = true; resolve(0); });
    }));
    const started = Date.now();
    await expect(caller.call('com.slow', [], {}, { timeout: 80 })).rejects.toMatchObject({ uri: 'wamp.error.timeout' });
    expect(Date.now() - started).toBeLessThan(1000);
    await tick(10);
    expect(interrupted).toBe(true);
  });

  it('a timeout beyond what a timer can hold (2^32 ms) does not fire early', async () => {
    const router = makeRouter();
    const [callee, caller] = await Promise.all([join(router), join(router)]);
    await callee.register('com.late', async () => { await tick(50); return 'done'; });
    await expect(caller.call('com.late', [], {}, { timeout: 2 ** 32 })).resolves.toMatchObject({ args: ['done'] });
  });

  it('answers wamp.error.canceled to callers when their callee leaves mid-call', async () => {
    const router = makeRouter();
    const [callee, caller] = await Promise.all([join(router), join(router)]);
    const started = deferred();
    await callee.register('com.hang', () => { started.resolve(); return new Promise(() => {}); });
    const pending = caller.call('com.hang');
    await started.promise;
    await callee.close();
    await expect(pending).rejects.toMatchObject({ uri: 'wamp.error.canceled' });
  });
});

describe('dealer: cancel modes (raw wire caller)', () => {
  async function setup(calleeCanCancel = true) {
    const router = makeRouter();
    const callee = rawWire(router);
    const roles = calleeCanCancel ? { callee: { features: { call_canceling: true } } } : { callee: {} };
    callee.send([1, 'realm1', { roles }]);
    await callee.next();
    callee.send([64, 1, {}, 'com.job']);
    const registered = await callee.next(2);
    const caller = rawWire(router);
    caller.send([1, 'realm1', HELLO_ALL]);
    await caller.next();
    caller.send([48, 7, {}, 'com.job', [1]]);
    const invocation = await callee.next(3);
    expect(invocation?.[0]).toBe(68);
    expect(invocation?.[2]).toBe(registered?.[2]);
    return { callee, caller, invocationId: invocation![1] as number };
  }

  it('skip: caller gets canceled at once, no INTERRUPT, the late YIELD is discarded', async () => {
    const { callee, caller, invocationId } = await setup();
    caller.send([49, 7, { mode: 'skip' }]);
    expect(await caller.next(2)).toEqual([8, 48, 7, {}, 'wamp.error.canceled', expect.any(Array)]);
    callee.send([70, invocationId, {}, ['late']]);
    await tick(20);
    expect(callee.received).toHaveLength(3);
    expect(caller.received).toHaveLength(2);
    expect(callee.closed).toBe(false);
  });

  it('killnowait: INTERRUPT to the callee and canceled to the caller at once', async () => {
    const { callee, caller, invocationId } = await setup();
    caller.send([49, 7, { mode: 'killnowait' }]);
    expect(await caller.next(2)).toEqual([8, 48, 7, {}, 'wamp.error.canceled', expect.any(Array)]);
    expect(await callee.next(4)).toEqual([69, invocationId, { mode: 'killnowait' }]);
  });

  it('kill: INTERRUPT, and the callee\'s answer is what the caller gets', async () => {
    const { callee, caller, invocationId } = await setup();
    caller.send([49, 7, { mode: 'kill' }]);
    expect(await callee.next(4)).toEqual([69, invocationId, { mode: 'kill' }]);
    await tick(10);
    expect(caller.received).toHaveLength(1);
    callee.send([8, 68, invocationId, {}, 'wamp.error.canceled', ['stopped']]);
    expect(await caller.next(2)).toEqual([8, 48, 7, {}, 'wamp.error.canceled', ['stopped']]);
  });

  it('a callee without call_canceling only ever gets skip', async () => {
    const { callee, caller } = await setup(false);
    caller.send([49, 7, { mode: 'kill' }]);
    expect((await caller.next(2))?.[4]).toBe('wamp.error.canceled');
    await tick(10);
    expect(callee.received).toHaveLength(3);
  });
});

describe('dealer: shared registrations', () => {
  it('spreads 400 roundrobin calls over 4 callees, 100 each', async () => {
    const router = makeRouter();
    const callees = await Promise.all([0, 1, 2, 3].map(() => join(router)));
    const counts = [0, 0, 0, 0];
    for (const [i, c] of callees.entries()) await c.register('com.rr', () => ++counts[i]!, { invoke: 'roundrobin' });
    const caller = await join(router);
    await Promise.all(Array.from({ length: 400 }, () => caller.call('com.rr')));
    expect(counts).toEqual([100, 100, 100, 100]);
  });

  it('refuses a different policy and a second single', async () => {
    const router = makeRouter();
    const [a, b, c] = await Promise.all([join(router), join(router), join(router)]);
    await a.register('com.rr', () => 0, { invoke: 'roundrobin' });
    await expect(b.register('com.rr', () => 0)).rejects.toMatchObject({ uri: 'wamp.error.procedure_exists_with_different_invocation_policy' });
    await expect(b.register('com.rr', () => 0, { invoke: 'random' })).rejects.toMatchObject({ uri: 'wamp.error.procedure_exists_with_different_invocation_policy' });
    await b.register('com.rr', () => 0, { invoke: 'roundrobin' });
    await c.register('com.single', () => 0);
    await expect(a.register('com.single', () => 0, { invoke: 'single' })).rejects.toMatchObject({ uri: 'wamp.error.procedure_already_exists' });
  });

  it('first/last pick the oldest/newest callee; first fails over to the standby', async () => {
    const router = makeRouter();
    const [primary, standby, caller] = await Promise.all([join(router), join(router), join(router)]);
    await primary.register('dev.read', () => 'primary', { invoke: 'first' });
    await standby.register('dev.read', () => 'standby', { invoke: 'first' });
    await primary.register('dev.newest', () => 'primary', { invoke: 'last' });
    await standby.register('dev.newest', () => 'standby', { invoke: 'last' });
    expect((await caller.call('dev.read')).args).toEqual(['primary']);
    expect((await caller.call('dev.newest')).args).toEqual(['standby']);
    await primary.close();
    expect((await caller.call('dev.read')).args).toEqual(['standby']);
  });

  it('random spreads over all callees', async () => {
    const router = makeRouter();
    const callees = await Promise.all([0, 1, 2].map(() => join(router)));
    const counts = [0, 0, 0];
    for (const [i, c] of callees.entries()) await c.register('com.rnd', () => ++counts[i]!, { invoke: 'random' });
    const caller = await join(router);
    await Promise.all(Array.from({ length: 300 }, () => caller.call('com.rnd')));
    for (const n of counts) expect(n).toBeGreaterThan(50);
  });

  it('force_reregister replaces a stale registration', async () => {
    const router = makeRouter();
    const [stale, fresh, caller] = await Promise.all([join(router), join(router), join(router)]);
    await stale.register('dev.lamp.on', () => 'stale');
    await fresh.register('dev.lamp.on', () => 'fresh', { force_reregister: true });
    expect((await caller.call('dev.lamp.on')).args).toEqual(['fresh']);
  });
});

describe('dealer: concurrency and queueing', () => {
  async function busyCallee(router: ReturnType<typeof makeRouter>, concurrency: number, ms = 30) {
    const callee = await join(router);
    const stats = { running: 0, max: 0, served: 0 };
    await callee.register('com.job', async () => {
      stats.running++;
      stats.max = Math.max(stats.max, stats.running);
      await tick(ms);
      stats.running--;
      return ++stats.served;
    }, { concurrency });
    return { callee, stats };
  }

  it('concurrency 2, 5 simultaneous calls, no queue: 2 results and 3 max_concurrency_reached', async () => {
    const router = makeRouter();
    const { stats } = await busyCallee(router, 2);
    const caller = await join(router);
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => caller.call('com.job')));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(2);
    const refused = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
    expect(refused.map((r) => r.reason.uri)).toEqual(Array(3).fill('crossbar.error.max_concurrency_reached'));
    expect(stats.max).toBe(2);
  });

  it('with a queue of 10: all 5 answered, never more than 2 running', async () => {
    const router = makeRouter({ callQueue: [{ uri: 'com.', match: 'prefix', limit: 10, timeout: 30000 }] });
    const { stats } = await busyCallee(router, 2);
    const caller = await join(router);
    const results = await Promise.all(Array.from({ length: 5 }, () => caller.call('com.job')));
    expect(results).toHaveLength(5);
    expect(stats.max).toBe(2);
    expect(stats.served).toBe(5);
  });

  it('a full queue refuses with a message saying so', async () => {
    const router = makeRouter({ callQueue: [{ uri: 'com.job', match: 'exact', limit: 2, timeout: 30000 }] });
    await busyCallee(router, 1);
    const caller = await join(router);
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => caller.call('com.job')));
    const refused = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    expect(refused).toHaveLength(2);
    expect(refused[0]!.reason.uri).toBe('crossbar.error.max_concurrency_reached');
    expect(refused[0]!.reason.message).toMatch(/queue is full/);
  });

  it('a queued call times out from its arrival, and can be canceled while queued', async () => {
    const router = makeRouter({ callQueue: [{ uri: 'com.job', match: 'exact', limit: 10, timeout: 30000 }] });
    await busyCallee(router, 1, 300);
    const caller = await join(router);
    const first = caller.call('com.job');
    await expect(caller.call('com.job', [], {}, { timeout: 50 })).rejects.toMatchObject({ uri: 'wamp.error.timeout' });
    const queued = caller.call('com.job');
    const queuedId = caller.lastRequestId;
    caller.cancel(queuedId, 'skip');
    await expect(queued).rejects.toMatchObject({ uri: 'wamp.error.canceled' });
    expect((await first).args).toEqual([1]);
  });

  it('a callee killed mid-call: its callers get canceled, queued calls move to the other callee', async () => {
    const router = makeRouter({ callQueue: [{ uri: 'com.', match: 'prefix', limit: 10, timeout: 30000 }] });
    const doomed = await join(router);
    const survivor = await join(router);
    let doomedStarted = 0;
    const survivorServed: number[] = [];
    await doomed.register('com.work', () => { doomedStarted++; return new Promise(() => {}); }, { invoke: 'roundrobin', concurrency: 1 });
    await survivor.register('com.work', async (args) => { await tick(20); survivorServed.push(args[0] as number); return args[0]; }, { invoke: 'roundrobin', concurrency: 1 });
    const caller = await join(router);
    const calls = Array.from({ length: 6 }, (_, i) => caller.call('com.work', [i]));
    await tick(5);
    expect(doomedStarted).toBe(1);
    await doomed.close();
    const outcomes = await Promise.allSettled(calls);
    const canceled = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
    expect(canceled.map((c) => c.reason.uri)).toEqual(['wamp.error.canceled']);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5);
    expect(survivorServed).toHaveLength(5);
  });

  it('queued calls wait for a returning callee no longer than the queue entry timeout', async () => {
    const router = makeRouter({ callQueue: [{ uri: 'com.', match: 'prefix', limit: 10, timeout: 100 }] });
    const { callee } = await busyCallee(router, 1, 50);
    const caller = await join(router);
    const first = caller.call('com.job');
    const waiting = caller.call('com.job');
    await tick(5);
    await callee.close();
    await expect(first).rejects.toMatchObject({ uri: 'wamp.error.canceled' });
    await expect(waiting).rejects.toMatchObject({ uri: 'wamp.error.timeout' });
    // The registration is gone once nothing waits on it.
    await expect(caller.call('com.job')).rejects.toMatchObject({ uri: 'wamp.error.no_such_procedure' });
  });

  it('a callee that returns in time picks up calls queued while it was away', async () => {
    const router = makeRouter({ callQueue: [{ uri: 'com.', match: 'prefix', limit: 10, timeout: 2000 }] });
    const { callee } = await busyCallee(router, 1, 50);
    const caller = await join(router);
    const first = caller.call('com.job');
    const waiting = caller.call('com.job');
    await tick(5);
    await callee.close();
    await expect(first).rejects.toMatchObject({ uri: 'wamp.error.canceled' });
    const back = await join(router);
    await back.register('com.job', () => 'back', { concurrency: 1 });
    expect((await waiting).args).toEqual(['back']);
  });

  it('a canceled or timed-out call frees its slot when the callee answers late (no leak)', async () => {
    const router = makeRouter();
    const callee = await join(router);
    const gates: Array<() => void> = [];
    await callee.register('com.gate', () => new Promise((r) => gates.push(() => r('ok'))), { concurrency: 1 });
    const caller = await join(router);
    // The local client answers the INTERRUPT at once, which frees the slot.
    await expect(caller.call('com.gate', [], {}, { timeout: 30 })).rejects.toMatchObject({ uri: 'wamp.error.timeout' });
    await tick(10);
    const next = caller.call('com.gate');
    await tick(10);
    gates.at(-1)!();
    expect((await next).args).toEqual(['ok']);
  });
});

describe('dealer: slots held until the callee answers', () => {
  it('after a timeout the slot stays taken until the late YIELD, which frees it and is discarded', async () => {
    const router = makeRouter();
    const callee = rawWire(router);
    callee.send([1, 'realm1', { roles: { callee: { features: { call_canceling: true } } } }]);
    await callee.next();
    callee.send([64, 1, { concurrency: 1 }, 'com.one']);
    await callee.next(2);
    const caller = rawWire(router);
    caller.send([1, 'realm1', HELLO_ALL]);
    await caller.next();
    caller.send([48, 1, { timeout: 20 }, 'com.one']);
    const invocation = await callee.next(3);
    expect((await caller.next(2))?.[4]).toBe('wamp.error.timeout');
    expect(await callee.next(4)).toEqual([69, invocation![1], { mode: 'killnowait' }]);
    // The callee ignored the interrupt and is still busy: no slot.
    caller.send([48, 2, {}, 'com.one']);
    expect((await caller.next(3))?.[4]).toBe('crossbar.error.max_concurrency_reached');
    // Its late answer is discarded (the caller hears nothing more) but frees the slot.
    callee.send([70, invocation![1], {}, ['late']]);
    caller.send([48, 3, {}, 'com.one']);
    const next = await callee.next(5);
    expect(next?.[0]).toBe(68);
    callee.send([70, next![1], {}, ['fresh']]);
    expect(await caller.next(4)).toEqual([50, 3, {}, ['fresh']]);
  });
});

describe('reserved namespaces', () => {
  it('issue 19 #12: junction.* is reserved like wamp.*: a client cannot register, force_reregister or capture it by pattern, nor publish there', async () => {
    const router = makeRouter();
    await router.ready;
    // The router's own component (as src/board/setup-reveal.ts joins) serves junction.setup.reveal.
    const component = await ClientSession.connect(router, { realm: 'realm1', role: 'trusted', authid: 'junction-setup', privileged: true });
    await component.register('junction.setup.reveal', () => 'the real one');
    const [client, user] = await Promise.all([join(router), join(router)]);
    for (const [uri, options] of [
      ['junction.setup.reveal', {}], ['junction.setup.reveal', { force_reregister: true }], ['junction.bridge.mqtt.list', {}],
      ['junction.', { match: 'prefix' }], ['junction..list', { match: 'wildcard' }],
    ] as const) {
      await expect(client.register(uri, () => 'forged', options), `${uri} ${JSON.stringify(options)}`).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
    }
    expect((await user.call('junction.setup.reveal')).args).toEqual(['the real one']);
    // Catch-all patterns a role may legitimately hold do not answer for the router's procedures,
    // even those the router does not serve here (no MQTT bridge configured).
    await client.register('', () => 'forged', { match: 'prefix' });
    await client.register('junc', () => 'forged', { match: 'prefix' });
    await client.register('.bridge.mqtt.list', () => 'forged', { match: 'wildcard' });
    await expect(user.call('junction.bridge.mqtt.list')).rejects.toMatchObject({ uri: 'wamp.error.no_such_procedure' });
    await expect(user.call('wamp.no.such')).rejects.toMatchObject({ uri: 'wamp.error.no_such_procedure' });
    expect((await user.call('com.any')).args).toEqual(['forged']);
    // Meta events cannot be forged either.
    await expect(client.publish('junction.session.on_slow_consumer', [1], {}, { acknowledge: true })).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
    await expect(client.publish('junction.board.pi.load', [1], {}, { acknowledge: true })).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
    // Except where MQTT devices answer the request/response gateway.
    await client.publish('junction.rpc.mqtt.0123abcd', [1], {}, { acknowledge: true });
  });
});
