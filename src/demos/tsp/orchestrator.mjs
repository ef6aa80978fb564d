#!/usr/bin/env node
// The TSP orchestrator, an Autobahn|JS client like the workers. It registers
//
//   tsp.solve(instance, time_budget_s) → {instance, length, tour, optimum, gap, …}
//     with progressive results (call with receive_progress: each improvement is sent as found)
//   tsp.instances() → [{name, comment, n, optimum, coords}]
//
// and splits a run into rounds: each round calls `tsp.compute` once per free compute slot (the sum
// of the callees' concurrency, read from the meta API), all from the best tour so far, with the
// round's slice of one temperature schedule that runs from hot to cold over the time budget and an
// iteration budget sized from the measured routes/s. Calls beyond the free slots wait in the
// router's call queue (store.call-queue on "tsp."), never on a worker. A call whose worker is killed
// comes back as wamp.error.canceled and is sent again; the round completes on the other workers.
// Every round is published on `tsp.progress`.
//
//   node src/demos/tsp/orchestrator.mjs --url ws://router:8080/ws [--realm realm1] [--round-ms 250]
import autobahn from 'autobahn';
import { parseArgs } from 'node:util';
import { loadInstances, distanceMatrix, tourLength, isPermutation, nearestNeighbourTour } from './tsplib.mjs';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.TSP_ROUTER_URL ?? 'ws://127.0.0.1:8080/ws' },
    realm: { type: 'string', default: process.env.TSP_REALM ?? 'realm1' },
    'round-ms': { type: 'string', default: '250' },
    'max-budget': { type: 'string', default: '600' },
  },
});
const ROUND_MS = Math.max(20, Number(opts['round-ms']) || 250);
const MAX_BUDGET_S = Number(opts['max-budget']) || 600;
const RETRYABLE = new Set(['wamp.error.canceled', 'wamp.error.no_such_procedure', 'crossbar.error.max_concurrency_reached', 'wamp.error.timeout', 'wamp.error.no_available_callee']);

const instances = loadInstances();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let runs = 0;

/** xorshift32 for the start tour and the sub-searches' seeds. */
function rng(seed) {
  let s = (seed >>> 0) || 0x2545f491;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
}

/** Compute slots: the sum of tsp.compute's callees' concurrency (Junction's list_callees details). */
async function computeSlots(session) {
  try {
    const reg = await session.call('wamp.registration.lookup', ['tsp.compute']);
    if (reg === null || reg === undefined) return 0;
    const callees = await session.call('wamp.registration.list_callees', [reg], { details: true });
    return callees.reduce((sum, c) => sum + (c.concurrency ?? 1), 0);
  } catch {
    return 0;
  }
}

async function solve(session, args, kwargs, details) {
  const name = args?.[0] ?? kwargs?.instance;
  const budgetS = Number(args?.[1] ?? kwargs?.time_budget_s ?? 10);
  const inst = instances[name];
  if (!inst) throw new autobahn.Error('tsp.error.no_such_instance', [`no instance ${JSON.stringify(name)}; known: ${Object.keys(instances).join(', ')}`]);
  if (!(budgetS > 0 && budgetS <= MAX_BUDGET_S)) throw new autobahn.Error('tsp.error.invalid_argument', [`time_budget_s must be in (0, ${MAX_BUDGET_S}]`]);
  const roundMs = Number(kwargs?.round_ms) > 0 ? Math.max(20, Number(kwargs.round_ms)) : ROUND_MS;
  const run = `${process.pid}-${++runs}`;
  const random = rng(Number(kwargs?.seed) || Date.now());
  const n = inst.coords.length;
  const dist = distanceMatrix(inst.coords);
  const instance = { name: inst.name, coords: inst.coords };

  // The schedule: from t0 (a third of the mean nearest-neighbour edge; most worsening moves are
  // accepted) down to t1 (1% of it: only small ones), geometric over the whole budget.
  const mean = tourLength(nearestNeighbourTour(dist, n), dist, n) / n;
  const t0 = Number(kwargs?.t0) > 0 ? Number(kwargs.t0) : 0.3 * mean;
  const t1 = Number(kwargs?.t1) > 0 ? Number(kwargs.t1) : 0.01 * mean;
  const temperature = (f) => t0 * Math.pow(t1 / t0, Math.min(1, Math.max(0, f)));

  // A random start tour: the page shows the tour untangle from a scribble.
  let best = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) { const j = (random() * (i + 1)) | 0; [best[i], best[j]] = [best[j], best[i]]; }
  let bestLength = tourLength(best, dist, n);

  const started = performance.now();
  const deadline = started + budgetS * 1000;
  const elapsed = () => (performance.now() - started) / 1000;
  let rate = 2e6; // routes/s per slot, corrected after every round
  let slots = await computeSlots(session);
  let round = 0;
  let routes = 0;
  let callsMade = 0;
  let retries = 0;
  const overheads = [];
  const workersSeen = new Map(); // worker name → calls answered
  const improvements = [];

  const report = (kind) => {
    const e = elapsed();
    const msg = {
      run, kind, instance: inst.name, n, optimum: inst.optimum, length: bestLength, tour: best,
      gap: inst.optimum ? bestLength / inst.optimum - 1 : null, round, elapsed: e, budget: budgetS,
      routes, routes_per_s: e > 0 ? Math.round(routes / e) : 0, slots, workers: Object.fromEntries(workersSeen), retries,
    };
    session.publish('tsp.progress', [msg]);
    return msg;
  };
  const improved = () => {
    const msg = report('improved');
    improvements.push({ at: msg.elapsed, length: bestLength });
    if (details?.progress) details.progress([msg]);
  };

  /** One tsp.compute call, sent again when its worker went away or the queue was full. */
  const compute = async (job) => {
    for (;;) {
      callsMade++;
      try {
        const r = await session.call('tsp.compute', [], job, { timeout: Math.max(30_000, (job.iterations / rate) * 5000) });
        return r;
      } catch (err) {
        const uri = err?.error ?? String(err);
        if (!RETRYABLE.has(uri) || !session.isOpen) throw err;
        retries++;
        session.publish('tsp.progress', [{ run, kind: 'retry', instance: inst.name, error: uri, round, elapsed: elapsed() }]);
        if (uri !== 'wamp.error.canceled') await sleep(100);
      }
    }
  };

  report('started');
  while (session.isOpen) {
    const now = performance.now();
    const left = deadline - now;
    if (left < 15) break;
    if (slots === 0) {
      slots = await computeSlots(session);
      if (slots === 0) { await sleep(200); continue; }
    }
    round++;
    const ms = Math.min(roundMs, left - 5);
    const from = (now - started) / (budgetS * 1000);
    const to = (now - started + ms) / (budgetS * 1000);
    const iterations = Math.max(1000, Math.round(rate * ms / 1000));
    const jobs = Array.from({ length: slots }, () => ({
      instance, tour: best, t0: temperature(from), t1: temperature(to), iterations, seed: (random() * 2 ** 31) | 0,
    }));
    const nextSlots = computeSlots(session); // for the next round, read while this one runs
    const t = performance.now();
    const retriesBefore = retries;
    const results = await Promise.all(jobs.map(compute));
    const wall = performance.now() - t;
    let computeMs = 0;
    let roundRoutes = 0;
    let roundMsSum = 0;
    for (const r of results) {
      if (!isPermutation(r.tour, n) || tourLength(r.tour, dist, n) !== r.length) throw new autobahn.Error('tsp.error.bad_result', [`worker ${r.worker} returned an invalid tour`]);
      computeMs = Math.max(computeMs, r.ms);
      roundRoutes += r.routes;
      roundMsSum += r.ms;
      workersSeen.set(r.worker, (workersSeen.get(r.worker) ?? 0) + 1);
      if (r.length < bestLength) { bestLength = r.length; best = r.tour; }
    }
    routes += roundRoutes;
    if (roundMsSum > 0) rate = 0.5 * rate + 0.5 * (roundRoutes / (roundMsSum / 1000));
    if (retries === retriesBefore) overheads.push(wall - computeMs); // a call sent again makes a round longer by a whole sub-search
    slots = await nextSlots;
    const before = improvements.length ? improvements[improvements.length - 1].length : Infinity;
    if (bestLength < before) improved();
    else report('round');
  }
  const total = elapsed();
  const sorted = [...overheads].sort((a, b) => a - b);
  const result = {
    ...report('done'),
    rounds: round,
    calls: callsMade,
    elapsed: total,
    routes_per_s: Math.round(routes / total),
    overhead_ms: {
      mean: overheads.length ? overheads.reduce((a, b) => a + b, 0) / overheads.length : 0,
      median: sorted.length ? sorted[sorted.length >> 1] : 0,
      max: sorted.length ? sorted[sorted.length - 1] : 0,
    },
    improvements,
  };
  console.log(`run ${run}: ${inst.name} ${bestLength} (optimum ${inst.optimum}, gap ${((result.gap ?? 0) * 100).toFixed(2)}%) in ${total.toFixed(1)} s, ${round} rounds, ${result.routes_per_s} routes/s, workers ${JSON.stringify(result.workers)}, retries ${retries}`);
  return result;
}

const connection = new autobahn.Connection({ url: opts.url, realm: opts.realm, max_retries: -1, initial_retry_delay: 1, max_retry_delay: 5 });
connection.onopen = async (session) => {
  try {
    await session.register('tsp.solve', (args, kwargs, details) => solve(session, args, kwargs, details));
    await session.register('tsp.instances', () => Object.values(instances).map((i) => ({
      name: i.name, comment: i.comment, n: i.coords.length, optimum: i.optimum, coords: i.coords,
    })));
  } catch (err) {
    console.error(`orchestrator: cannot register: ${err.error ?? err}`);
    process.exit(1);
  }
  console.log(`READY orchestrator: tsp.solve and tsp.instances registered at ${opts.url}`);
};
connection.onclose = () => false;
connection.open();

const stop = () => { try { connection.close(); } catch { /* not open */ } process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
