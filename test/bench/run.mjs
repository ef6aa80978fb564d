// npm run bench: Junction side by side with a raw ws relay (the ceiling) and fox-wamp (a peer
// Node WAMP router), each in its own process, clients in separate processes, all on loopback.
// Figures: throughput, latency, the router's own CPU time per operation (from /proc, less noisy
// than throughput on a shared 2-core machine) and memory. Prints a table and the issues' targets.
//
//   node test/bench/run.mjs [--quick]
import { fork, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { cpuMs, rssKiB, sleep } from './proc.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..', '..');
const QUICK = process.argv.includes('--quick');
const DURATION = QUICK ? 1500 : 3000;
const WARMUP = QUICK ? 300 : 700;
const children = new Set();

function cleanup() { for (const c of children) c.kill('SIGKILL'); }
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** Forks a module with IPC; resolves once it says 'ready'. */
function start(module, args, timeoutMs = 30_000) {
  const child = fork(join(HERE, module), args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${module} not ready`)), timeoutMs);
    child.once('message', (m) => { if (m === 'ready') { clearTimeout(timer); resolve(child); } });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${module} exited ${code}`)); });
  });
}

function ask(child, question) {
  return new Promise((resolve) => {
    const on = (m) => { if (typeof m === 'object') { child.off('message', on); resolve(m); } };
    child.on('message', on);
    child.send(question);
  });
}

function stop(...list) { for (const c of list) { c.send?.('stop'); setTimeout(() => c.kill('SIGKILL'), 500).unref(); } }

async function waitForPort(port) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(true));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on ${port}`);
}

// ---- the three routers ----

function junctionConfig(port, withQueue) {
  const realm = {
    name: 'realm1',
    roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }] }],
  };
  if (withQueue) realm.store = { type: 'memory', 'call-queue': [{ uri: 'bench.', match: 'prefix', limit: 10000 }] };
  return { version: 2, workers: [{ type: 'router', realms: [realm], transports: [{ type: 'websocket', endpoint: { type: 'tcp', port, interface: '127.0.0.1' }, serializers: ['json', 'msgpack', 'cbor'] }] }] };
}

async function startRouter(kind, { withQueue = false } = {}) {
  const port = await freePort();
  let child;
  if (kind === 'J') {
    const dir = mkdtempSync(join(tmpdir(), 'junction-bench-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(junctionConfig(port, withQueue)));
    child = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'start', '--config', file], { stdio: 'ignore', env: { ...process.env, JUNCTION_LOG: 'warn' } });
    children.add(child);
    await waitForPort(port);
  } else {
    child = await start(kind === 'R' ? 'relay.mjs' : 'fox.mjs', [String(port)]);
  }
  await sleep(500);
  return { kind, port, pid: child.pid, child, url: `ws://127.0.0.1:${port}`, mode: kind === 'R' ? 'relay' : 'wamp' };
}

// ---- cases ----

/** Runs `fn` between two CPU readings of the router, started when the load says 'measuring'. */
async function measured(router, driver, collect) {
  let cpu0 = 0;
  driver.once('message', (m) => { if (m === 'measuring') cpu0 = cpuMs(router.pid); });
  const before = await collect?.('start');
  const result = await new Promise((resolve) => {
    const on = (m) => { if (typeof m === 'object') { driver.off('message', on); resolve(m); } };
    driver.on('message', on);
    driver.send('go');
  });
  const cpu = cpuMs(router.pid) - cpu0;
  const after = await collect?.('end');
  return { ...result, cpu, before, after };
}

async function rpc(router, { outstanding, callees = 1, calleeOptions = {} }) {
  const calleeUrl = router.mode === 'relay' ? `${router.url}/callee` : router.url;
  const calleeProcs = [];
  for (let i = 0; i < callees; i++) calleeProcs.push(await start('clients/callee.mjs', [calleeUrl, router.mode, 'bench.echo', JSON.stringify(calleeOptions)]));
  const caller = await start('clients/caller.mjs', [router.url, router.mode, 'bench.echo', String(outstanding), String(DURATION), String(WARMUP)]);
  const r = await measured(router, caller, async (when) => when === 'end' ? Promise.all(calleeProcs.map((c) => ask(c, 'report'))) : undefined);
  stop(caller, ...calleeProcs);
  await sleep(200);
  const shares = r.after.map((x) => x.calls);
  return { perSec: (r.done / r.ms) * 1000, p50: r.p50, p99: r.p99, cpuPerOp: (r.cpu * 1000) / r.done, shares };
}

async function pubsub(router, subscribers) {
  const subUrl = router.mode === 'relay' ? `${router.url}/sub` : router.url;
  const pubUrl = router.mode === 'relay' ? `${router.url}/pub` : router.url;
  const procs = Math.min(4, subscribers);
  const subs = [];
  for (let i = 0; i < procs; i++) {
    const n = Math.floor(subscribers / procs) + (i < subscribers % procs ? 1 : 0);
    subs.push(await start('clients/subscribers.mjs', [subUrl, router.mode, 'bench.topic', String(n)], 120_000));
  }
  const pub = await start('clients/publisher.mjs', [pubUrl, router.mode, 'bench.topic', '64', String(DURATION), String(WARMUP)]);
  const reports = () => Promise.all(subs.map((s) => ask(s, 'report')));
  let atStart = 0;
  pub.once('message', (m) => {
    if (m !== 'measuring') return;
    for (const s of subs) s.send('reset');
    reports().then((rs) => { atStart = rs.reduce((a, x) => a + x.received, 0); });
  });
  const r = await measured(router, pub);
  const final = await reports();
  const delivered = final.reduce((a, x) => a + x.received, 0) - atStart;
  stop(pub, ...subs);
  await sleep(300);
  return {
    perSec: (delivered / r.ms) * 1000,
    published: (r.published / r.ms) * 1000,
    cpuPerOp: (r.cpu * 1000) / delivered,
    // The worst subscriber process's percentiles.
    p50: Math.max(...final.map((x) => x.p50)),
    p99: Math.max(...final.map((x) => x.p99)),
  };
}

async function idleSessions(router, count) {
  const idle = await start('clients/idle.mjs', [router.url, router.mode, String(count)], 120_000);
  // Let the handshakes' garbage be collected before reading RSS.
  await sleep(3000);
  const rss = rssKiB(router.pid);
  stop(idle);
  await sleep(300);
  return rss;
}

async function bareNodeRss() {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)'], { stdio: 'ignore' });
  children.add(child);
  await sleep(800);
  const rss = rssKiB(child.pid);
  child.kill('SIGKILL');
  return rss;
}

// ---- main ----

const results = { J: {}, R: {}, F: {} };
const log = (s) => process.stderr.write(`${s}\n`);

/** Memory on a fresh router process: idle, then with `count` idle sessions. */
async function memory(kind, count) {
  const router = await startRouter(kind);
  await sleep(1000);
  const idle = rssKiB(router.pid);
  const rss = await idleSessions(router, count);
  router.child.kill('SIGKILL');
  await sleep(300);
  return { idle, rss, perSessionKiB: (rss - idle) / count };
}

async function runTarget(kind) {
  try {
    const m = await memory(kind, 1000);
    results[kind].idleRss = m.idle;
    results[kind].sessions1000 = m;
  } catch (err) {
    log(`${kind} memory failed: ${err.message}`);
  }
  let router;
  try {
    router = await startRouter(kind);
  } catch (err) {
    log(`${kind}: unavailable (${err.message})`);
    return;
  }
  const res = results[kind];
  const attempt = async (name, fn) => {
    // A peer router that crashed in an earlier case is restarted, and the crash reported.
    if (router.child.exitCode !== null || router.child.signalCode !== null) {
      log(`${kind}: the router process died; restarting it`);
      res.crashes = (res.crashes ?? 0) + 1;
      router = await startRouter(kind);
    }
    log(`${kind} ${name}…`);
    try { res[name] = await fn(); } catch (err) { log(`${kind} ${name} failed: ${err.message}`); res[name] = { error: err.message }; }
  };
  // Warm the router's JIT with a short untimed load, so the first case does not measure compilation.
  await rpc(router, { outstanding: 64 }).catch(() => {});
  await attempt('rpc1', () => rpc(router, { outstanding: 1 }));
  await attempt('rpc64', () => rpc(router, { outstanding: 64 }));
  if (kind !== 'R') await attempt('rr4', () => rpc(router, { outstanding: 64, callees: 4, calleeOptions: { invoke: 'roundrobin' } }));
  await attempt('pub1', () => pubsub(router, 1));
  await attempt('pub10', () => pubsub(router, 10));
  await attempt('pub100', () => pubsub(router, 100));
  if (!QUICK) await attempt('pub1000', () => pubsub(router, 1000));
  router.child.kill('SIGKILL');
  await sleep(300);
}

/** Junction with and without concurrency counting + a configured queue, alternated twice to average out drift. */
async function runQueueCost() {
  const plain = await startRouter('J');
  const queued = await startRouter('J', { withQueue: true });
  await rpc(plain, { outstanding: 64 });
  await rpc(queued, { outstanding: 64, calleeOptions: { concurrency: 1000 } });
  const a = [], b = [];
  for (let i = 0; i < 2; i++) {
    a.push(await rpc(plain, { outstanding: 64 }));
    b.push(await rpc(queued, { outstanding: 64, calleeOptions: { concurrency: 1000 } }));
  }
  plain.child.kill('SIGKILL');
  queued.child.kill('SIGKILL');
  const mean = (xs, f) => xs.reduce((s, x) => s + x[f], 0) / xs.length;
  const A = { perSec: mean(a, 'perSec'), cpuPerOp: mean(a, 'cpuPerOp') };
  const B = { perSec: mean(b, 'perSec'), cpuPerOp: mean(b, 'cpuPerOp') };
  return { plain: A, counted: B, cost: 1 - B.perSec / A.perSec, cpuRatio: B.cpuPerOp / A.cpuPerOp };
}

const fmt = (n, d = 0) => (n === undefined || Number.isNaN(n) ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : '—');

async function main() {
  log(`bench: ${QUICK ? 'quick' : 'full'} run, ${DURATION} ms per case`);
  const bare = await bareNodeRss();
  for (const kind of ['J', 'R', 'F']) await runTarget(kind);
  log('J concurrency + queue cost…');
  let queueCost;
  try { queueCost = await runQueueCost(); } catch (err) { log(`queue cost failed: ${err.message}`); }

  const rows = [];
  const row = (label, key, field, digits = 0) => {
    const [j, r, f] = ['J', 'R', 'F'].map((k) => results[k][key]?.[field]);
    rows.push([label, fmt(j, digits), fmt(r, digits), fmt(f, digits), ratio(j, r), ratio(j, f)]);
  };
  row('RPC 1 outstanding: calls/s', 'rpc1', 'perSec');
  row('RPC 1 outstanding: p50 µs', 'rpc1', 'p50');
  row('RPC 1 outstanding: p99 µs', 'rpc1', 'p99');
  row('RPC 1 outstanding: router CPU µs/call', 'rpc1', 'cpuPerOp', 1);
  row('RPC 64 outstanding: calls/s', 'rpc64', 'perSec');
  row('RPC 64 outstanding: p50 µs', 'rpc64', 'p50');
  row('RPC 64 outstanding: p99 µs', 'rpc64', 'p99');
  row('RPC 64 outstanding: router CPU µs/call', 'rpc64', 'cpuPerOp', 1);
  row('Roundrobin 4 callees: calls/s', 'rr4', 'perSec');
  row('Roundrobin 4 callees: router CPU µs/call', 'rr4', 'cpuPerOp', 1);
  for (const n of [1, 10, 100, 1000]) {
    if (!results.J[`pub${n}`] && !results.R[`pub${n}`]) continue;
    row(`PubSub 1→${n}: events delivered/s`, `pub${n}`, 'perSec');
    row(`PubSub 1→${n}: p99 delivery µs`, `pub${n}`, 'p99');
    row(`PubSub 1→${n}: router CPU µs/delivery`, `pub${n}`, 'cpuPerOp', 2);
  }
  rows.push(['Idle RSS KiB', fmt(results.J.idleRss), fmt(results.R.idleRss), fmt(results.F.idleRss), ratio(results.J.idleRss, results.R.idleRss), ratio(results.J.idleRss, results.F.idleRss)]);
  row('RSS with 1000 idle sessions KiB', 'sessions1000', 'rss');
  row('KiB per idle session', 'sessions1000', 'perSessionKiB', 2);

  const header = ['case', 'Junction', 'raw relay', 'fox-wamp', 'J/relay', 'J/fox'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  console.log(`\nbare node RSS: ${fmt(bare)} KiB\n`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));

  const spread = results.J.rr4?.shares;
  if (spread) {
    const total = spread.reduce((a, b) => a + b, 0);
    results.J.rr4.maxDeviation = Math.max(...spread.map((s) => Math.abs(s / (total / spread.length) - 1)));
    console.log(`\nroundrobin shares (Junction): ${spread.join(' / ')}`);
    if (results.F.rr4?.shares) console.log(`roundrobin shares (fox-wamp): ${results.F.rr4.shares.join(' / ')}`);
  }
  for (const k of ['J', 'R', 'F']) if (results[k].crashes) console.log(`${{ J: 'Junction', R: 'raw relay', F: 'fox-wamp' }[k]} crashed ${results[k].crashes}× during the run and was restarted`);
  if (queueCost) console.log(`concurrency + queue bookkeeping: ${fmt(queueCost.plain.perSec)} → ${fmt(queueCost.counted.perSec)} calls/s (${(queueCost.cost * 100).toFixed(1)}% cost), CPU/call ×${queueCost.cpuRatio.toFixed(2)}`);

  const J = results.J, R = results.R, F = results.F;
  const check = (name, ok, detail) => console.log(`${ok === undefined ? 'N/A ' : ok ? 'PASS' : 'FAIL'}  ${name}: ${detail}`);
  console.log('\ntargets');
  check('RPC 64 CPU/call ≤ 1.3× relay', J.rpc64?.cpuPerOp && R.rpc64?.cpuPerOp ? J.rpc64.cpuPerOp <= 1.3 * R.rpc64.cpuPerOp : undefined, `${ratio(J.rpc64?.cpuPerOp, R.rpc64?.cpuPerOp)}×`);
  check('RPC 64 calls/s ≥ 75% of relay', J.rpc64?.perSec && R.rpc64?.perSec ? J.rpc64.perSec >= 0.75 * R.rpc64.perSec : undefined, `${ratio(J.rpc64?.perSec, R.rpc64?.perSec)}×`);
  check('PubSub 1→10 CPU/delivery ≤ 0.5× fox-wamp', J.pub10?.cpuPerOp && F.pub10?.cpuPerOp ? J.pub10.cpuPerOp <= 0.5 * F.pub10.cpuPerOp : undefined, `${ratio(J.pub10?.cpuPerOp, F.pub10?.cpuPerOp)}×`);
  check('PubSub 1→100 CPU/delivery ≤ 0.3× fox-wamp', J.pub100?.cpuPerOp && F.pub100?.cpuPerOp ? J.pub100.cpuPerOp <= 0.3 * F.pub100.cpuPerOp : undefined, `${ratio(J.pub100?.cpuPerOp, F.pub100?.cpuPerOp)}×`);
  check('PubSub 1→100 deliveries/s ≥ 60% of relay broadcast', J.pub100?.perSec && R.pub100?.perSec ? J.pub100.perSec >= 0.6 * R.pub100.perSec : undefined, `${ratio(J.pub100?.perSec, R.pub100?.perSec)}×`);
  check('Roundrobin spread within ±1%', J.rr4?.maxDeviation !== undefined ? J.rr4.maxDeviation <= 0.01 : undefined, `max deviation ${((J.rr4?.maxDeviation ?? NaN) * 100).toFixed(2)}%`);
  check('Roundrobin throughput within 10% of single callee', J.rr4?.perSec && J.rpc64?.perSec ? J.rr4.perSec >= 0.9 * J.rpc64.perSec : undefined, `${ratio(J.rr4?.perSec, J.rpc64?.perSec)}×`);
  // Judged on router CPU per call, which the machine's noise moves less than throughput.
  check('Concurrency + queue cost ≤ 10%', queueCost ? queueCost.cpuRatio <= 1.1 : undefined, queueCost ? `CPU/call ×${queueCost.cpuRatio.toFixed(2)}, throughput ${(queueCost.cost * 100).toFixed(1)}% lower` : '—');
  check('Idle RSS ≤ 1.3× bare node', J.idleRss ? J.idleRss <= 1.3 * bare : undefined, `${ratio(J.idleRss, bare)}×`);
  check('≤ 3 KiB per idle session at 1000', J.sessions1000?.perSessionKiB !== undefined ? J.sessions1000.perSessionKiB <= 3 : undefined, `${fmt(J.sessions1000?.perSessionKiB, 2)} KiB`);

  mkdirSync(join(ROOT, '.bench-out'), { recursive: true });
  writeFileSync(join(ROOT, '.bench-out', 'latest.json'), JSON.stringify({ date: new Date().toISOString(), quick: QUICK, bare, results, queueCost }, null, 2));
}

main().then(() => { cleanup(); process.exit(0); }, (err) => { console.error(err); cleanup(); process.exit(1); });
