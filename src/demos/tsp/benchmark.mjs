#!/usr/bin/env node
// The TSP demo checked and measured (README "TSP scaling demo"; needs `npm run build`):
//  1. quality: each TSPLIB instance solved within a time budget (default 10 s) by the orchestrator
//     and two workers; a table of instance, optimum, found, gap, workers;
//  2. scaling: routes/s of a run with 1 worker and with 2 workers (one core each), the ratio, and
//     the orchestrator's overhead per round (round wall time minus its longest sub-search);
//  3. failover: a worker killed (SIGKILL) mid-run and a new one started; the run completes.
//
//   node src/demos/tsp/benchmark.mjs [--budget 10] [--scale-budget 5] [--repeat 3] [--only quality,scaling,failover] [--json FILE]
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { freePort, startRouter, startOrchestrator, startWorker } from './cluster.mjs';
import { loadInstances, nearestNeighbourTour, distanceMatrix } from './tsplib.mjs';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

const { values: opts } = parseArgs({
  options: {
    budget: { type: 'string', default: '10' },
    'scale-budget': { type: 'string', default: '5' },
    only: { type: 'string', default: 'quality,scaling,failover' },
    repeat: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const BUDGET = Number(opts.budget);
const SCALE_BUDGET = Number(opts['scale-budget']);
const REPEAT = Math.max(1, Number(opts.repeat) | 0);
const parts = new Set(opts.only.split(','));
const TARGETS = { berlin52: 0.05, eil51: 0.05, kroA100: 0.08 };
const out = { machine: { cores: availableParallelism(), node: process.version } };

const port = await freePort();
const url = `ws://127.0.0.1:${port}/ws`;
const router = await startRouter({ port });
const orchestrator = await startOrchestrator(url);
const conn = new autobahn.Connection({ url, realm: 'realm1', max_retries: 0 });
const session = await new Promise((resolve) => { conn.onopen = resolve; conn.open(); });
let workers = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function withWorkers(count, cores, fn) {
  workers = await Promise.all(Array.from({ length: count }, (_, i) => startWorker(url, { name: `w${i + 1}`, cores })));
  await sleep(300);
  try {
    return await fn();
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    workers = [];
    await sleep(300);
  }
}
const solve = (instance, budget, kwargs = {}) => session.call('tsp.solve', [instance, budget], kwargs);
const pct = (x) => `${(x * 100).toFixed(2)}%`;
const fmt = (n) => n.toLocaleString('en-US');

const pick = (r) => ({ routes_per_s: r.routes_per_s, rounds: r.rounds, overhead_ms: r.overhead_ms, slots: r.slots, gap: r.gap });

/** routes/s of the bare annealing loop on `threads` threads of this process for about `ms`. */
async function bareRate(threads, ms) {
  const inst = loadInstances().kroA100;
  const tour = nearestNeighbourTour(distanceMatrix(inst.coords), inst.coords.length);
  const job = { instance: { name: inst.name, coords: inst.coords }, tour, t0: 50, t1: 5, iterations: 0, seed: 1 };
  const ts = Array.from({ length: threads }, () => new Worker(new URL('./compute-thread.mjs', import.meta.url), { workerData: { counter: new SharedArrayBuffer(4) } }));
  const run = (t, iterations) => new Promise((resolve) => { t.once('message', (m) => resolve(m.result)); t.postMessage({ id: 1, job: { ...job, iterations } }); });
  await Promise.all(ts.map((t) => run(t, 200_000))); // warm up
  const started = performance.now();
  const results = await Promise.all(ts.map((t) => run(t, Math.round(15e6 * ms / 1000))));
  const wall = (performance.now() - started) / 1000;
  await Promise.all(ts.map((t) => t.terminate()));
  return Math.round(results.reduce((a, r) => a + r.routes, 0) / wall);
}

function table(rows, headers) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => '| ' + r.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |';
  return [line(headers), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

try {
  if (parts.has('quality')) {
    console.log(`\n## Quality: ${BUDGET} s per instance, 2 workers × 1 core\n`);
    const rows = [];
    out.quality = [];
    await withWorkers(2, 1, async () => {
      for (const name of ['berlin52', 'eil51', 'kroA100']) {
        const r = await solve(name, BUDGET);
        const ok = r.gap <= TARGETS[name];
        out.quality.push({ instance: name, optimum: r.optimum, found: r.length, gap: r.gap, workers: r.workers, rounds: r.rounds, routes_per_s: r.routes_per_s, elapsed: r.elapsed, first_at_optimum: r.improvements.find((i) => i.length === r.optimum)?.at ?? null });
        rows.push([name, r.optimum, r.length, pct(r.gap), Object.keys(r.workers).length, r.rounds, r.elapsed.toFixed(2) + ' s',
          r.length === r.optimum ? `${r.improvements.find((i) => i.length === r.optimum).at.toFixed(1)} s` : '-',
          `${ok ? 'PASS' : 'FAIL'} (≤ ${pct(TARGETS[name])})`]);
      }
    });
    console.log(table(rows, ['instance', 'optimum', 'found', 'gap', 'workers', 'rounds', 'time', 'optimum reached at', 'target']));
  }

  if (parts.has('scaling')) {
    // The machine may be shared: each repetition also measures the bare annealing loop on 1 and 2
    // threads of this process (no router) before and after the 2-worker run; only repetitions in
    // which the bare loop had two free cores count toward the verdict.
    console.log(`\n## Scaling: kroA100, ${SCALE_BUDGET} s per run, routes/s end to end (work done / wall time), ${REPEAT} repetitions\n`);
    const rows = [];
    out.scaling = { runs: [] };
    for (let rep = 1; rep <= REPEAT; rep++) {
      const bare1 = await bareRate(1, 1500);
      const j1 = await withWorkers(1, 1, () => solve('kroA100', SCALE_BUDGET));
      const bare2 = await bareRate(2, 1500);
      const j2 = await withWorkers(2, 1, () => solve('kroA100', SCALE_BUDGET));
      const bare2after = await bareRate(2, 1500);
      // Two free cores around the 2-worker run: the bare loop scaled before and after it.
      const quiet = Math.min(bare2, bare2after) / bare1 >= 1.8;
      out.scaling.runs.push({ bare1, bare2, bare2after, quiet, j1: pick(j1), j2: pick(j2) });
      rows.push([rep, fmt(bare1), `${fmt(bare2)} / ${fmt(bare2after)}`, `${(bare2 / bare1).toFixed(2)}× / ${(bare2after / bare1).toFixed(2)}×`,
        fmt(j1.routes_per_s), fmt(j2.routes_per_s), (j2.routes_per_s / j1.routes_per_s).toFixed(2) + '×',
        `${(100 * (j2.routes_per_s / j1.routes_per_s) / ((bare2 + bare2after) / 2 / bare1)).toFixed(0)}%`,
        j1.overhead_ms.mean.toFixed(2), j2.overhead_ms.mean.toFixed(2), quiet ? 'yes' : 'no: other load']);
    }
    const j12 = await withWorkers(1, 2, () => solve('kroA100', SCALE_BUDGET));
    out.scaling.one_worker_two_cores = pick(j12);
    console.log(table(rows, ['rep', 'bare 1 thread', 'bare 2 threads before / after', 'bare ratio', 'Junction 1 worker', 'Junction 2 workers', 'ratio', 'ratio / bare ratio', 'overhead/round 1w ms', '2w ms', 'two free cores']));
    const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const quiet = out.scaling.runs.filter((r) => r.quiet);
    const ratio = quiet.length ? med(quiet.map((r) => r.j2.routes_per_s / r.j1.routes_per_s)) : null;
    out.scaling.ratio = ratio;
    console.log(`\n1 worker × 2 cores (two threads in one process): ${fmt(j12.routes_per_s)} routes/s, overhead/round ${j12.overhead_ms.mean.toFixed(2)} ms`);
    console.log(ratio === null
      ? '2 workers / 1 worker: no repetition had two free cores (other load on the machine); run again when it is idle'
      : `2 workers / 1 worker (median of the ${quiet.length} repetition(s) with two free cores): ${ratio.toFixed(2)}× — ${ratio >= 1.7 ? 'PASS' : 'FAIL'} (target ≥ 1.7×)`);

    console.log('\nOverhead per round against round length (2 workers × 1 core, kroA100):\n');
    const orows = [];
    out.overhead = [];
    await withWorkers(2, 1, async () => {
      for (const roundMs of [50, 100, 250, 500]) {
        const r = await solve('kroA100', 5, { round_ms: roundMs });
        const share = (r.overhead_ms.mean * r.rounds) / (r.elapsed * 1000);
        out.overhead.push({ round_ms: roundMs, rounds: r.rounds, ...r.overhead_ms, share, routes_per_s: r.routes_per_s });
        orows.push([roundMs, r.rounds, r.overhead_ms.mean.toFixed(2), r.overhead_ms.median.toFixed(2), pct(share), fmt(r.routes_per_s)]);
      }
    });
    console.log(table(orows, ['round ms', 'rounds', 'overhead mean ms', 'median ms', 'share of wall time', 'routes/s']));
  }

  if (parts.has('failover')) {
    console.log('\n## Failover: kroA100 for 10 s on 2 workers; w1 killed (SIGKILL) at 3 s, w1b started at 5 s\n');
    const retries = [];
    const sub = await session.subscribe('tsp.progress', ([m]) => { if (m.kind === 'retry') retries.push(m); });
    await withWorkers(2, 1, async () => {
      const run = solve('kroA100', 10);
      await sleep(3000);
      const killedAt = Date.now();
      await workers[0].kill();
      await sleep(2000);
      workers.push(await startWorker(url, { name: 'w1b', cores: 1 }));
      const r = await run;
      out.failover = { length: r.length, gap: r.gap, workers: r.workers, retries: r.retries, errors: retries.map((m) => m.error), elapsed: r.elapsed, rounds: r.rounds, killed_after_ms: killedAt };
      console.log(`completed in ${r.elapsed.toFixed(2)} s, ${r.rounds} rounds: ${r.length} (gap ${pct(r.gap)}); calls answered per worker ${JSON.stringify(r.workers)}; ` +
        `${r.retries} call(s) sent again after ${[...new Set(retries.map((m) => m.error))].join(', ') || 'nothing'}`);
    });
    await session.unsubscribe(sub);
  }
} finally {
  if (opts.json) writeFileSync(opts.json, JSON.stringify(out, null, 2));
  conn.close();
  await Promise.all(workers.map((w) => w.stop()));
  await orchestrator.stop();
  await router.stop();
}
