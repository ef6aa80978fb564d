// Fuzzing the meta API and Junction's own procedures in-process: every wamp.session.*,
// wamp.registration.*, wamp.subscription.* procedure and the junction.* ones (setup reveal, MQTT
// bridge meta, board telemetry) called with valid, mutated and random arguments and options, aimed
// at real sessions, registrations and subscriptions (victims that are killed and come back), and
// testaments added with random publish options and published as the fuzzing sessions leave. Every
// call must be answered (a result or an ERROR other than an internal error), nothing may be thrown
// out of the router, and a bystander in another realm keeps calling and receiving events.
//
// Replay: JUNCTION_FUZZ_SEED=<printed seed>; scale: JUNCTION_FUZZ_INPUTS=N (5% of N calls, at least 2000).

import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { Router } from '../../src/router/router.js';
import { InProcessServices } from '../../src/router-services/in-process-services.js';
import { ClientSession, type Payload } from '../../src/client/client-session.js';
import type { PermissionConfig, RealmConfig } from '../../src/config/types.js';
import { SetupReveal, SETUP_REVEAL } from '../../src/board/setup-reveal.js';
import { NODE_INTERVAL_MS } from '../../src/board/reveal-limiter.js';
import { BridgeMetaApi } from '../../src/mqtt/bridge/meta.js';
import { Telemetry } from '../../src/board/telemetry.js';
import { log } from '../../src/log.js';
import { Rng, FUZZ_SEED, FUZZ_INPUTS, hostileValue, randomString, ALL_VALUES } from './gen.js';
import { FUZZ_REALM, Failures, show, watchUncaught, Counts } from './harness.js';
import { captureStderr } from '../helpers/capture-log.js';

const CALLS = Math.max(2000, Math.round(FUZZ_INPUTS * 0.05));
/** Calls in flight at once from the fuzzing session. */
const PARALLEL = 8;
/** A fuzzing session leaves (its testaments are published) after this many calls. */
const SESSION_CALLS = 150;
const ANSWER_WITHIN_MS = 5000;
const BOARD = 'fuzzboard';

const allowAll = (name: string) => ({
  name,
  permissions: [{
    uri: '', match: 'prefix', cache: true,
    allow: { call: true, register: true, publish: true, subscribe: true },
    disclose: { caller: false, publisher: false },
  } satisfies PermissionConfig],
});

/** The realm under fuzz: everything allowed (kills included), history kept, a call queue. */
const META_REALM: RealmConfig = {
  name: 'meta',
  roles: [allowAll('meta-fuzzer'), allowAll('victim')],
  store: {
    type: 'memory', limit: 100,
    callQueue: [{ uri: 'victim.', match: 'prefix', limit: 10, timeout: 500 }],
    eventHistory: [{ uri: 'victim.', match: 'prefix', limit: 50 }, { uri: '', match: 'prefix', limit: 20 }],
  },
};

/** What the fuzzer aims at: IDs and names that exist right now (read from the realm itself). */
interface Known {
  sessions: number[];
  registrations: number[];
  subscriptions: number[];
  authids: string[];
  uris: string[];
}

const PUBLISH_OPTION_KEYS = ['acknowledge', 'exclude_me', 'disclose_me', 'retain', 'exclude', 'eligible', 'exclude_authid',
  'exclude_authrole', 'eligible_authid', 'eligible_authrole', 'forward_for', 'enc_algo', 'ppt_scheme', '_custom_attr', '_clear_retained'];
const OPTION_KEYS = ['reason', 'message', 'scope', 'publish_options', 'details', 'limit', 'topic', 'match', 'procedure', 'session'];

function pickOr<T>(rng: Rng, items: T[], other: () => T): T {
  return items.length > 0 && rng.chance(0.8) ? rng.pick(items) : other();
}

/** A plausible value for each kind of argument, sometimes hostile. */
function valueFor(rng: Rng, kind: string, k: Known): unknown {
  if (rng.chance(0.12)) return hostileValue(rng, ALL_VALUES);
  switch (kind) {
    case 'session': return pickOr(rng, k.sessions, () => rng.pick([0, -1, 2 ** 53, 2 ** 53 + 1, 1.5, rng.int(2 ** 31)]));
    case 'registration': return pickOr(rng, k.registrations, () => rng.int(1000));
    case 'subscription': return pickOr(rng, k.subscriptions, () => rng.int(1000));
    case 'authid': return pickOr(rng, k.authids, () => randomString(rng, 8));
    case 'role': return rng.pick(['victim', 'meta-fuzzer', 'nobody', 'trusted', '']);
    case 'uri': return pickOr(rng, k.uris, () => rng.pick(['victim.', 'victim.t', 'wamp.session.count', 'junction.setup.reveal', '', 'a..b', randomString(rng, 12)]));
    case 'topic': return rng.pick(['victim.will', `victim.will.${rng.int(5)}`, 'victim.t', 'wamp.x', 'junction.board.x.load', '', 'a b', randomString(rng, 10)]);
    case 'reason': return rng.pick(['wamp.close.killed', 'com.fuzz.reason', 'not a uri', '', undefined]);
    case 'match': return rng.pick(['exact', 'prefix', 'wildcard', 'regex', '', undefined]);
    case 'scope': return rng.pick(['destroyed', 'detached', 'later', undefined]);
    default: return hostileValue(rng, ALL_VALUES);
  }
}

/** PUBLISH options for a testament: the right types mostly, the wrong ones often. */
function publishOptions(rng: Rng, k: Known): unknown {
  if (rng.chance(0.1)) return hostileValue(rng, ALL_VALUES);
  const o: Record<string, unknown> = {};
  for (let n = rng.int(4); n > 0; n--) {
    const key = rng.pick(PUBLISH_OPTION_KEYS);
    const right = rng.chance(0.6);
    switch (key) {
      case 'exclude': case 'eligible':
        o[key] = right ? k.sessions.slice(0, rng.int(3)) : rng.pick([5, 'x', [1.5], [-1], [null], {}]);
        break;
      case 'exclude_authid': case 'eligible_authid': case 'exclude_authrole': case 'eligible_authrole':
        o[key] = right ? [valueFor(rng, 'authid', k)].filter((v) => typeof v === 'string') : rng.pick([1, 'x', [1], [{}], null]);
        break;
      case 'forward_for':
        o[key] = right ? [{ session: 1, authid: 'a', authrole: 'r' }] : rng.pick([[1], 'x', {}]);
        break;
      default:
        o[key] = right && !key.startsWith('_') && key !== 'enc_algo' && key !== 'ppt_scheme' ? rng.chance(0.5) : hostileValue(rng, ALL_VALUES);
    }
  }
  return o;
}

/** [procedure, positional argument kinds, keyword argument kinds] of every target. */
const TARGETS: Array<[string, string[], string[]]> = [
  ['wamp.session.count', ['roles'], []],
  ['wamp.session.list', ['roles'], []],
  ['wamp.session.get', ['session'], []],
  ['junction.session.get', ['session'], []],
  ['wamp.session.kill_by_authid', ['authid', 'reason', 'message'], []],
  ['wamp.session.kill', ['session'], ['reason', 'message']],
  ['wamp.session.kill_by_authid', ['authid'], ['reason', 'message']],
  ['wamp.session.kill_by_authrole', ['role'], ['reason', 'message']],
  ['wamp.session.kill_all', [], ['reason', 'message']],
  ['wamp.session.add_testament', ['topic', 'args', 'kwargs'], ['publish_options', 'scope']],
  ['wamp.session.flush_testaments', [], ['scope']],
  ['wamp.registration.list', [], []],
  ['wamp.registration.lookup', ['uri', 'lookup_options'], []],
  ['wamp.registration.match', ['uri'], []],
  ['wamp.registration.get', ['registration'], []],
  ['junction.registration.get', ['registration'], []],
  ['junction.registration.set_concurrency', ['registration', 'limit'], []],
  ['wamp.registration.list_callees', ['registration'], ['details']],
  ['wamp.registration.count_callees', ['registration'], []],
  ['wamp.registration.remove_callee', ['registration', 'session'], ['reason']],
  ['wamp.subscription.list', [], []],
  ['wamp.subscription.lookup', ['uri', 'lookup_options'], []],
  ['wamp.subscription.match', ['uri'], []],
  ['wamp.subscription.get', ['subscription'], []],
  ['wamp.subscription.list_subscribers', ['subscription'], []],
  ['wamp.subscription.count_subscribers', ['subscription'], []],
  ['wamp.subscription.remove_subscriber', ['subscription', 'session'], ['reason']],
  ['wamp.subscription.get_events', ['subscription'], ['limit', 'topic']],
  ['junction.setup.reveal', ['code'], []],
  ['junction.bridge.mqtt.list', [], []],
  ['junction.bridge.mqtt.get', ['id'], []],
  [`junction.board.${BOARD}.info`, [], []],
  ['junction.serial.none.devices', [], []],
];
/** Picked more often than the others: the leaving path must be exercised. */
const ADD_TESTAMENT = TARGETS.find(([procedure]) => procedure === 'wamp.session.add_testament')!;

function argumentFor(rng: Rng, kind: string, k: Known): unknown {
  switch (kind) {
    case 'roles': return rng.chance(0.5) ? undefined : [valueFor(rng, 'role', k)];
    case 'args': return rng.chance(0.7) ? [rng.int(100), randomString(rng, 5)] : hostileValue(rng, ALL_VALUES);
    case 'kwargs': return rng.chance(0.7) ? { who: randomString(rng, 4) } : hostileValue(rng, ALL_VALUES);
    case 'lookup_options': return rng.chance(0.7) ? { match: valueFor(rng, 'match', k) } : hostileValue(rng, ALL_VALUES);
    case 'code': return rng.pick(['ABCD-1234', 'WRONG-0000', '', 7]);
    case 'id': return rng.pick(['cloud', 'none', 3]);
    case 'publish_options': return publishOptions(rng, k);
    case 'details': return rng.chance(0.5);
    case 'limit': return rng.pick([1, 5, 0, -1, 1e9, 2 ** 53, NaN, 'x']);
    case 'message': return rng.chance(0.7) ? 'bye' : hostileValue(rng, ALL_VALUES);
    default: return valueFor(rng, kind, k);
  }
}

/** A call for `target`: well formed, then damaged in one way or another. */
function callFor(rng: Rng, target: [string, string[], string[]], k: Known): { args: unknown[]; kwargs: Record<string, unknown>; mutation: string } {
  const [, argKinds, kwKinds] = target;
  let args: unknown[] = argKinds.map((kind) => argumentFor(rng, kind, k));
  while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
  args = args.map((a) => (a === undefined ? null : a));
  const kwargs: Record<string, unknown> = {};
  for (const kind of kwKinds) if (rng.chance(0.7)) kwargs[kind] = argumentFor(rng, kind, k);
  let mutation = 'none';
  if (rng.chance(0.5)) {
    switch (rng.int(6)) {
      case 0:
        if (args.length > 0) args[rng.int(args.length)] = hostileValue(rng, ALL_VALUES);
        mutation = 'arg';
        break;
      case 1: {
        const keys = Object.keys(kwargs);
        if (keys.length > 0) kwargs[rng.pick(keys)] = hostileValue(rng, ALL_VALUES);
        mutation = 'kwarg';
        break;
      }
      case 2:
        kwargs[rng.chance(0.5) ? rng.pick(OPTION_KEYS) : randomString(rng, 6)] = hostileValue(rng, ALL_VALUES);
        mutation = 'extra-kwarg';
        break;
      case 3:
        args = args.slice(0, rng.int(args.length + 1));
        mutation = 'truncate';
        break;
      case 4:
        for (let n = 1 + rng.int(3); n > 0; n--) args.push(hostileValue(rng, ALL_VALUES));
        mutation = 'extend';
        break;
      default:
        args = Array.from({ length: rng.int(4) }, () => hostileValue(rng, ALL_VALUES));
        mutation = 'random';
    }
  }
  return { args, kwargs, mutation };
}

/** Victims: sessions with registrations and subscriptions for the meta API to find and remove; they come back when killed. */
class Victims {
  private readonly sessions = new Set<ClientSession>();
  private joined = 0;
  private watcher: ClientSession | undefined;
  /** Events a watcher got on `victim.will*`: testaments that were published. */
  testaments = 0;
  constructor(private readonly router: Router) {}

  async refill(count = 3): Promise<void> {
    if (!this.watcher) {
      const w = (this.watcher = await ClientSession.connect(this.router, { realm: 'meta', role: 'victim', authid: 'watcher' }));
      void w.closed.then(() => { if (this.watcher === w) this.watcher = undefined; });
      await w.subscribe('victim.will', () => { this.testaments++; }, { match: 'prefix' }).catch(() => undefined);
    }
    while (this.sessions.size < count) {
      const n = ++this.joined;
      const s = await ClientSession.connect(this.router, { realm: 'meta', role: 'victim', authid: `victim-${n % 4}` });
      this.sessions.add(s);
      void s.closed.then(() => this.sessions.delete(s));
      const tolerate = (p: Promise<unknown>) => p.catch(() => undefined); // killed meanwhile
      await tolerate(s.register('victim.p', () => n, { invoke: 'roundrobin', concurrency: 2 }));
      await tolerate(s.register(`victim.own.${n}`, (args) => args));
      await tolerate(s.register('victim.pre.', () => 'pre', { match: 'prefix', invoke: 'random' }));
      await tolerate(s.subscribe('victim.t', () => {}));
      await tolerate(s.subscribe('victim.', () => {}, { match: 'prefix' }));
      await tolerate(s.subscribe('victim..x', () => {}, { match: 'wildcard' }));
      await tolerate(s.publish(`victim.t`, [n], {}, { retain: true, acknowledge: true }));
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.sessions, ...(this.watcher ? [this.watcher] : [])].map((s) => s.close()));
  }
}

function known(router: Router): Known {
  const realm = router.realm('meta')!;
  const sessions = [...realm.sessions.values()];
  return {
    sessions: sessions.map((s) => s.id),
    registrations: [...realm.dealer.registrations()].map((r) => r.id),
    subscriptions: [...realm.broker.subscriptions()].map((s) => s.id),
    authids: [...new Set(sessions.map((s) => s.authid))],
    uris: [...realm.dealer.registrations()].map((r) => r.uri).concat([...realm.broker.subscriptions()].map((s) => s.uri)),
  };
}

/**
 * The call's answer, or 'unanswered' after ANSWER_WITHIN_MS. A setup code attempt past the node's
 * burst waits for the backstop by design (src/board/reveal-limiter.ts: one attempt per
 * NODE_INTERVAL_MS for the whole node), so it is given that much longer.
 */
function answered(p: Promise<Payload>, procedure: string): Promise<{ ok: true } | { ok: false; uri: string } | 'unanswered'> {
  const within = procedure === SETUP_REVEAL ? NODE_INTERVAL_MS + ANSWER_WITHIN_MS : ANSWER_WITHIN_MS;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('unanswered'), within);
    p.then(
      () => { clearTimeout(timer); resolve({ ok: true }); },
      (err: { uri?: string; message?: string }) => { clearTimeout(timer); resolve({ ok: false, uri: err.uri ?? `(no uri) ${err.message}` }); },
    );
  });
}

describe('fuzz: meta API and junction.* procedures (in-process)', () => {
  it(`answers ${CALLS} random and mutated meta API calls and testaments while a bystander keeps working`, { timeout: 120_000 }, async () => {
    console.log(`fuzz meta API: JUNCTION_FUZZ_SEED=${FUZZ_SEED} JUNCTION_FUZZ_INPUTS=${FUZZ_INPUTS}`);
    const rng = new Rng(FUZZ_SEED ^ 0x3e7a);
    const counts = new Counts();
    const mutations = new Counts();
    const failures = new Failures();
    const uncaught = watchUncaught();
    const stderr = captureStderr(/testament|internal error/);
    log.setLevel('warn');
    const dir = mkdtempSync(joinPath(tmpdir(), 'junction-meta-fuzz-'));
    const router = new Router([FUZZ_REALM, META_REALM], new InProcessServices());
    const components: Array<{ stop(): Promise<void> }> = [];
    try {
      await router.ready;
      // The router's own junction.* procedures, as src/node.ts starts them.
      const setupFile = joinPath(dir, 'setup.json');
      writeFileSync(setupFile, JSON.stringify({ setup_code: 'ABCD-1234', admin: { authid: 'admin', ticket: 't' }, created: '2026-01-01T00:00:00Z' }));
      const reveal = new SetupReveal('meta', setupFile);
      await reveal.start(router);
      const bridges = new BridgeMetaApi('meta', []);
      await bridges.start(router);
      const telemetry = new Telemetry({ realm: 'meta', role: 'trusted', authid: 'junction-telemetry', board: BOARD, cron: '0 0 0 1 1 *' }, router);
      await telemetry.start();
      components.push(reveal, bridges, telemetry);

      // The bystander, in realm1: one session serves and subscribes, the other calls and publishes.
      const callee = await ClientSession.connect(router, { realm: 'realm1', role: 'bystander', name: 'bystander-callee' });
      const caller = await ClientSession.connect(router, { realm: 'realm1', role: 'bystander', name: 'bystander-caller' });
      await callee.register('bystander.echo', (args) => args[0]);
      const seen = new Set<number>();
      await callee.subscribe('bystander.tick', (_a, kwargs) => { if (typeof kwargs['seq'] === 'number') seen.add(kwargs['seq']); });
      let bystanderCalls = 0;
      const bystanderErrors: string[] = [];

      const victims = new Victims(router);
      await victims.refill();
      let fuzzer: ClientSession | undefined;
      let fuzzerCalls = 0;
      let sessionsLeft = 0;
      const started = Date.now();
      for (let i = 0; i < CALLS && failures.list.length < 25; i += PARALLEL) {
        if (!fuzzer || fuzzerCalls >= SESSION_CALLS) {
          // Leaving publishes the testaments the session added, with whatever options got through.
          if (fuzzer) { await fuzzer.close(); sessionsLeft++; }
          fuzzer = await ClientSession.connect(router, { realm: 'meta', role: 'meta-fuzzer', authid: `fuzzer-${rng.int(3)}` });
          fuzzerCalls = 0;
        }
        await victims.refill();
        const k = known(router);
        const batch = Array.from({ length: Math.min(PARALLEL, CALLS - i) }, () => {
          const target = rng.chance(0.25) ? ADD_TESTAMENT : rng.pick(TARGETS); // testaments get extra attention
          const { args, kwargs, mutation } = callFor(rng, target, k);
          counts.add(target[0]);
          mutations.add(mutation);
          // CALL options of the right types (wrong ones are protocol violations, core.test.ts's business).
          const options: Record<string, unknown> = {};
          if (rng.chance(0.2)) options['timeout'] = rng.int(3000);
          if (rng.chance(0.2)) options['disclose_me'] = rng.chance(0.5);
          if (rng.chance(0.1)) options['onProgress'] = () => {};
          return answered(fuzzer!.call(target[0], args, kwargs, options), target[0]).then((a) => ({ a, target: target[0], args, kwargs, mutation }));
        });
        for (const { a, target, args, kwargs, mutation } of await Promise.all(batch)) {
          const where = `${target} (mutation ${mutation})`;
          if (a === 'unanswered') failures.add(`${where}: no answer in time`, { args, kwargs });
          else if (!a.ok && (a.uri.startsWith('junction.error.internal') || a.uri.startsWith('(no uri)'))) failures.add(`${where}: ${a.uri}`, { args, kwargs });
        }
        fuzzerCalls += PARALLEL;

        if (i % (PARALLEL * 12) === 0) {
          const seq = i;
          try {
            const r = await caller.call('bystander.echo', [seq]);
            if (r.args[0] !== seq) bystanderErrors.push(`echo ${seq} came back as ${show(r.args)}`);
            await caller.publish('bystander.tick', [], { seq }, { acknowledge: true });
            await new Promise<void>((r2) => setImmediate(r2));
            if (!seen.has(seq)) bystanderErrors.push(`event ${seq} not delivered`);
            bystanderCalls++;
          } catch (err) {
            bystanderErrors.push(`bystander at call ${i}: ${(err as Error).message}`);
          }
        }
      }
      await fuzzer?.close();
      sessionsLeft++;
      const seconds = (Date.now() - started) / 1000;

      // The router is up: a fresh session in each realm is served, and the meta API still answers.
      const fresh = await ClientSession.connect(router, { realm: 'realm1', role: 'bystander', name: 'fresh' });
      expect((await fresh.call('bystander.echo', ['fresh'])).args).toEqual(['fresh']);
      const admin = await ClientSession.connect(router, { realm: 'meta', role: 'meta-fuzzer', authid: 'admin' });
      expect(typeof (await admin.call('wamp.session.count')).args[0]).toBe('number');
      await Promise.all([fresh.close(), admin.close(), victims.close()]);

      console.log(`${counts.table('fuzz meta API: calls per procedure')}\n  ${seconds.toFixed(1)} s; ${sessionsLeft} fuzzing sessions left with their testaments; ` +
        `${victims.testaments} testaments received; bystander: ${bystanderCalls} rounds; router log: ${stderr.counts.get('WARN') ?? 0} warnings, ${stderr.counts.get('ERROR') ?? 0} errors\n${mutations.table('  mutations')}`);
      expect(failures.list, failures.report()).toEqual([]);
      expect(uncaught.errors).toEqual([]);
      expect(bystanderErrors).toEqual([]);
      expect(bystanderCalls).toBeGreaterThan(0);
      expect(victims.testaments).toBeGreaterThan(0); // the leaving path was exercised
      // A testament that could not be published, or any internal error, is a router bug.
      expect(stderr.lines.filter((l) => /internal error|not published/.test(l))).toEqual([]);
    } finally {
      await Promise.allSettled(components.map((c) => c.stop()));
      await router.shutdown(200);
      uncaught.stop();
      stderr.restore();
      log.setLevel('info');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
