#!/usr/bin/env node
// The TSP compute service: an ordinary Autobahn|JS client. It connects out to the router (nothing
// listens here), registers `tsp.compute` as a shared registration (invoke roundrobin, concurrency =
// its compute threads, one per core by default) and runs each call's simulated-annealing
// sub-search on a free thread. Every second it publishes its CPU load and routes/s on
// `tsp.worker.status`. Start any number of them, on any machine that can reach the router:
//
//   node src/demos/tsp/worker.mjs --url ws://router:8080/ws [--realm realm1] [--cores N] [--name NAME]
//
// tsp.compute(kwargs): instance {name, coords: [[x, y], …]}, tour (a permutation of 0…n-1),
// t0 and t1 (start and end temperature, cooled geometrically), iterations, seed →
// {tour, length, routes, accepted, improvements, ms, worker}.
import autobahn from 'autobahn';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.TSP_ROUTER_URL ?? 'ws://127.0.0.1:8080/ws' },
    realm: { type: 'string', default: process.env.TSP_REALM ?? 'realm1' },
    cores: { type: 'string', default: String(os.availableParallelism?.() ?? os.cpus().length) },
    name: { type: 'string', default: `${os.hostname()}-${process.pid}` },
  },
});
const cores = Math.max(1, Number.parseInt(opts.cores, 10) || 1);
const name = opts.name;
const MAX_CITIES = 5000;
const MAX_ITERATIONS = 2e9;

// ---- compute threads ---------------------------------------------------------------------------

const threads = Array.from({ length: cores }, () => {
  const counter = new SharedArrayBuffer(4);
  const thread = new Worker(new URL('./compute-thread.mjs', import.meta.url), { workerData: { counter } });
  thread.unref();
  return { thread, counter: new Int32Array(counter), busy: false };
});
const waiting = []; // jobs when every thread is busy (the router's concurrency limit normally prevents it)
const pending = new Map();
let nextJob = 1;
for (const t of threads) {
  t.thread.on('message', ({ id, result, error }) => {
    const p = pending.get(id);
    pending.delete(id);
    t.busy = false;
    if (waiting.length) start(t, waiting.shift());
    if (error) p.reject(new autobahn.Error('tsp.error.invalid_argument', [error]));
    else p.resolve(result);
  });
  t.thread.on('error', (err) => { console.error(`[${name}] compute thread failed: ${err.stack ?? err}`); process.exit(1); });
}
function start(t, job) {
  t.busy = true;
  t.thread.postMessage({ id: job.id, job: job.job });
}
function runJob(job) {
  return new Promise((resolve, reject) => {
    const id = nextJob++;
    pending.set(id, { resolve, reject });
    const free = threads.find((t) => !t.busy);
    if (free) start(free, { id, job });
    else waiting.push({ id, job });
  });
}

function invalid(message) {
  return new autobahn.Error('tsp.error.invalid_argument', [message]);
}

/** Checks a call's arguments before they reach a thread. */
function jobFrom(args, kwargs) {
  const k = kwargs && Object.keys(kwargs).length ? kwargs : args?.[0];
  if (!k || typeof k !== 'object') throw invalid('expected keyword arguments {instance, tour, t0, t1, iterations, seed}');
  const { instance, tour, t0, t1, iterations, seed = 1 } = k;
  if (!instance || !Array.isArray(instance.coords) || instance.coords.length < 5 || instance.coords.length > MAX_CITIES
    || !instance.coords.every((c) => Array.isArray(c) && c.length === 2 && c.every(Number.isFinite))) {
    throw invalid(`instance must be {name, coords: [[x, y], …]} with 5 to ${MAX_CITIES} cities`);
  }
  if (!Array.isArray(tour) || tour.length !== instance.coords.length) throw invalid('tour must list every city once');
  if (!(Number(t0) > 0) || !(Number(t1) > 0)) throw invalid('t0 and t1 must be positive');
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) throw invalid(`iterations must be a whole number from 1 to ${MAX_ITERATIONS}`);
  return { instance: { name: String(instance.name ?? ''), coords: instance.coords }, tour, t0: Number(t0), t1: Number(t1), iterations, seed: Number(seed) | 0 };
}

// ---- status: CPU load and routes/s every second --------------------------------------------------

let calls = 0;
let routesTotal = 0;
let lastCpu = process.cpuUsage();
let lastAt = performance.now();
function sample() {
  const now = performance.now();
  const cpu = process.cpuUsage();
  const wallUs = (now - lastAt) * 1000;
  const cpuUs = cpu.user - lastCpu.user + cpu.system - lastCpu.system;
  let routes = 0;
  for (const t of threads) routes += Atomics.exchange(t.counter, 0, 0);
  routesTotal += routes;
  const status = {
    worker: name,
    host: os.hostname(),
    pid: process.pid,
    cores,
    busy: threads.filter((t) => t.busy).length,
    load: Math.min(100, Math.round((cpuUs / (wallUs * cores)) * 1000) / 10), // % of its cores
    routes_per_s: Math.round(routes / ((now - lastAt) / 1000)),
    routes: routesTotal,
    calls,
    at: Date.now(),
  };
  lastCpu = cpu;
  lastAt = now;
  return status;
}

// ---- WAMP ---------------------------------------------------------------------------------------

const connection = new autobahn.Connection({
  url: opts.url,
  realm: opts.realm,
  max_retries: -1, // keep trying while the router is away
  initial_retry_delay: 1,
  max_retry_delay: 5,
});
let session = null;
let ticker = null;

connection.onopen = async (s) => {
  session = s;
  try {
    await s.register('tsp.compute', async (args, kwargs) => {
      const job = jobFrom(args, kwargs);
      calls++;
      const result = await runJob(job);
      return { ...result, worker: name };
    }, { invoke: 'roundrobin', concurrency: cores });
  } catch (err) {
    console.error(`[${name}] cannot register tsp.compute: ${err.error ?? err}`);
    process.exit(1);
  }
  sample();
  clearInterval(ticker);
  ticker = setInterval(() => {
    if (session?.isOpen) session.publish('tsp.worker.status', [sample()]);
  }, 1000);
  console.log(`READY ${name}: tsp.compute registered (roundrobin, concurrency ${cores}) at ${opts.url}`);
};
connection.onclose = (reason, details) => {
  session = null;
  clearInterval(ticker);
  if (!details?.will_retry && reason !== 'closed') console.error(`[${name}] connection ${reason}, giving up`);
  return false;
};
connection.open();

function shutdown() {
  clearInterval(ticker);
  const done = () => process.exit(0);
  if (session?.isOpen) {
    session.publish('tsp.worker.status', [{ ...sample(), gone: true }], {}, { acknowledge: true }).then(done, done);
    setTimeout(done, 500).unref();
  } else done();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
