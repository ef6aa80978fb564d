// npm run bench: Junction (J) side by side with a raw ws relay (R, the ceiling for a Node router)
// and fox-wamp (F, a peer Node WAMP router), each in its own process, clients in separate
// processes, all on loopback. Figures: throughput, latency, the router's own CPU time per
// operation (from /proc: the primary figure, as the shared 2-core machine makes throughput noisy)
// and memory. Then MQTT, side by side on Junction's built-in MQTT listener (J), mosquitto (M) and
// aedes (A) with the same mqtt.js clients: QoS 0 1→1, QoS 1 1→1 with 64 unacknowledged, QoS 0
// fan-out 1→10 on a `+` filter, memory per idle MQTT connection (RSS growth from 1000 to 4000 idle
// connections, see mqttMemory in cases.mjs); and on Junction alone an MQTT
// publisher to a WAMP subscriber (beside WAMP→WAMP PubSub 1→1). Then router links on Junction
// alone (fleet.mjs): RPC through one and two hops beside a direct call, and a link's memory cost on
// a board. Prints the tables and the issues' targets; writes .bench-out/latest.json.
//
//   node test/bench/run.mjs [--quick] [--light] [--only=J,R,F,M,A] [--cases=NAME,...]
//     --quick  1.5 s cases, no 1→1000 fan-out
//     --light  drive J and F with the frame-level clients (as R is) instead of Autobahn|JS
//     --only   a subset of the targets (M: mosquitto, A: aedes, for the MQTT cases only; J runs them too)
//     --cases  a subset of the cases, by the names in CASES and MQTT_CASES below, plus memory,
//              mqttMemory, queue, cold, telemetry, and the router links' rlink1, rlink2 (each with
//              the direct call beside it), rlinkMemory (e.g. --cases=pub1,mqtt0,mqtt1,mqttFan10,mqttToWamp)
//   JUNCTION_BENCH_CLI=path  bench another build of Junction's CLI than dist/bin/junction.cjs
//   JUNCTION_BENCH_CPU_PROFILE=dir  run Junction under V8's CPU profiler; a .cpuprofile per case
//     lands in dir (its figures are then inflated: profile, do not report them)
//   JUNCTION_BENCH_MOSQUITTO=path  another mosquitto than /usr/sbin/mosquitto (the MQTT cases
//     compare with it; when it is missing they run on Junction alone and say so)
//
// Exit code 0 whatever the targets say; 1 when a case crashed (threw, or its router process
// died); 2 when the whole run overran.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, killAll } from './children.mjs';
import { settings, rpc, pubsub, memory, queueCost, mqttPubsub, mqttToWamp, mqttMemory, telemetryCost } from './cases.mjs';
import { coldStart } from './cold-start.mjs';
import { startFleet, reachable, hopRpc, linkMemory, HOPS } from './fleet.mjs';
import { startRouter, stopRouter, mosquittoPath, NAMES } from './routers.mjs';
import { table, mqttTable, linksTable, targets } from './report.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const arg = (name) => process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
const QUICK = Boolean(arg('quick'));
const ONLY = (arg('only')?.split('=')[1] ?? 'J,R,F,M,A').split(',').filter((k) => k in NAMES);
const KINDS = ONLY.filter((k) => k === 'J' || k === 'R' || k === 'F'); // the WAMP routers: every case but the MQTT ones
const MQTT_KINDS = ONLY.filter((k) => k === 'J' || k === 'M' || k === 'A'); // J with its MQTT listener, mosquitto, aedes
const CASE_NAMES = arg('cases')?.split('=')[1]?.split(',');
const wanted = (name) => !CASE_NAMES || CASE_NAMES.includes(name);
Object.assign(settings, {
  mode: arg('light') ? 'light' : 'autobahn',
  durationMs: QUICK ? 1500 : 3000,
  warmupMs: QUICK ? 300 : 500,
});

// The whole run stops by itself: a case that hangs past every per-step timeout still ends here.
// The router-link cases added ~3 min (1 with --quick) to a run that took up to 9 (5).
const WATCHDOG_MIN = QUICK ? 6 : 12;
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${WATCHDOG_MIN} min; stopping`);
  killAll();
  process.exit(2);
}, WATCHDOG_MIN * 60_000);

const log = (s) => process.stderr.write(`${s}\n`);
const results = { J: {}, R: {}, F: {}, M: {}, A: {}, N: {} };
const crashes = []; // cases that threw: make the exit code non-zero
const routers = {}; // kind → the running router

function crashed(kind, name, err) {
  log(`${kind} ${name} failed: ${err.message}`);
  results[kind][name] = { error: err.message };
  crashes.push(`${kind} ${name}: ${err.message}`);
}

function died(kind) {
  const { exitCode, signalCode } = routers[kind].child;
  log(`${NAMES[kind]}: the router process died (${exitCode ?? signalCode}); restarting it`);
  results[kind].routerDeaths = (results[kind].routerDeaths ?? 0) + 1;
  crashes.push(`${kind}: the router process died (${exitCode ?? signalCode})`);
}

/** Runs one case on one router; a router that died earlier is reported and restarted first. */
async function attempt(kind, name, fn, options = {}) {
  try {
    if (exited(routers[kind].child)) {
      died(kind);
      routers[kind] = await startRouter(kind, options);
    }
    log(`${kind} ${name}…`);
    return await fn(routers[kind]);
  } catch (err) {
    crashed(kind, name, err);
    return undefined;
  }
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Several rounds of one case as one result: each figure's median, and the rounds themselves. */
function merged(rounds) {
  if (rounds.length === 1) return rounds[0];
  const out = { ...rounds[0] };
  for (const key of ['perSec', 'p50', 'p99', 'cpuPerOp']) out[key] = median(rounds.map((r) => r[key]));
  out.rounds = rounds.map(({ perSec, cpuPerOp }) => ({ perSec, cpuPerOp }));
  return out;
}

// Cases with the frame-level clients R is driven with, on J and F when they otherwise run with
// Autobahn|JS: like-for-like comparisons with R, where Autobahn|JS's own cost (its processes
// share the 2 cores with the router) is left out.
const lightToo = (kind) => settings.mode === 'autobahn' && kind !== 'R';

// Each case runs on J, R and F in turn, seconds apart, so that the shared machine's drift hits
// the three alike (rather than all of J's cases, then all of R's). The case the RPC targets are
// judged on runs in 3 such rounds (full run), and each figure is the median of its rounds.
const CASES = [
  ['rpc1', (r) => rpc(r, { outstanding: 1 })],
  ['rpc64', (r) => rpc(r, { outstanding: 64 }), undefined, QUICK ? 1 : 3],
  ['rpc64light', (r) => rpc(r, { outstanding: 64, mode: 'light' }), lightToo],
  ['rr4', (r) => rpc(r, { outstanding: 64, callees: 4, procedure: 'bench.rr', options: { invoke: 'roundrobin' } })],
  ['pub1', (r) => pubsub(r, 1)],
  ['pub10', (r) => pubsub(r, 10)],
  ['pub100', (r) => pubsub(r, 100)],
  ['pub100light', (r) => pubsub(r, 100, 'light'), lightToo],
  ...(QUICK ? [] : [['pub1000', (r) => pubsub(r, 1000)]]),
];

async function runCases() {
  const cases = CASES.filter(([name]) => wanted(name));
  if (!cases.length && !wanted('memory')) return;
  for (const kind of KINDS) {
    try {
      routers[kind] = await startRouter(kind);
    } catch (err) {
      results[kind].unavailable = err.message;
      log(`${NAMES[kind]}: unavailable (${err.message})`);
      if (kind !== 'J') crashes.push(`${kind} start: ${err.message}`); // J may simply be unfinished
    }
  }
  const live = KINDS.filter((k) => routers[k]);
  try {
    // An untimed round first, so the first case does not measure a router's JIT warming up.
    if (cases.length) for (const kind of live) await rpc(routers[kind], { outstanding: 64 }).catch(() => {});
    for (const [name, fn, applies = () => true, rounds = 1] of cases) {
      const got = Object.fromEntries(live.map((kind) => [kind, []]));
      for (let i = 0; i < rounds; i++) {
        for (const kind of live) {
          if (!applies(kind) || results[kind][name]?.error) continue; // a crashed case is not retried
          const r = await attempt(kind, name, fn);
          if (r) got[kind].push(r);
        }
      }
      for (const kind of live) if (got[kind].length && !results[kind][name]?.error) results[kind][name] = merged(got[kind]);
    }
    for (const kind of live) if (exited(routers[kind].child)) died(kind);
  } finally {
    for (const kind of live) await stopRouter(routers[kind]);
  }
  // Memory on a fresh router process each, side by side (RSS does not depend on the CPU the
  // others take, each has its own bare node to compare with, and their settling waits overlap:
  // one after the other they took ~1 min of the 9).
  if (!wanted('memory')) return;
  log(`${live.join(', ')} memory…`);
  await Promise.all(live.map((kind) => memory(kind, 1000).then(
    (m) => { results[kind].memory = m; },
    (err) => crashed(kind, 'memory', err),
  )));
}

// The MQTT cases, each on J (with its MQTT listener), mosquitto and aedes in turn, every broker in
// its own process started for these cases only (so the MQTT listener is not in the other cases'
// Junction, nor in its memory figures). The last one is Junction's alone.
const MQTT_CASES = [
  ['mqtt0', (r) => mqttPubsub(r, { qos: 0 })],
  ['mqtt1', (r) => mqttPubsub(r, { qos: 1 })],
  ['mqtt11', (r) => mqttPubsub(r, { qos: 1, subQos: 1 })],
  ['mqttFan10', (r) => mqttPubsub(r, { qos: 0, subscribers: 10, filter: 'bench/+' })],
  ['mqttToWamp', besideWampToWamp, (kind) => kind === 'J'],
];

/**
 * MQTT → WAMP, and WAMP → WAMP PubSub 1→1 on the same router beside it, alternated for 3 rounds
 * (1 with --quick), each figure the median of its rounds: the target compares the two, and two
 * single runs minutes apart differed by up to 40% on this shared machine for the same build.
 */
async function besideWampToWamp(router) {
  const mqtt = [];
  const wamp = [];
  for (let i = 0; i < (QUICK ? 1 : 3); i++) {
    mqtt.push(await mqttToWamp(router));
    wamp.push(await pubsub(router, 1));
  }
  return { ...merged(mqtt), wampBeside: merged(wamp) };
}
/**
 * mqttMemory: the connections paying the one-time costs, then those whose RSS growth is the figure
 * (see cases.mjs). 3000 more: over 2000, a reading's noise (free space left in V8's heap by the
 * first burst, which the next connections fill before RSS grows) moved the figure by ±1 KiB.
 */
const MQTT_CONNECTIONS = { first: 1000, more: 3000 };

async function runMqtt() {
  const cases = MQTT_CASES.filter(([name]) => wanted(name));
  if (!cases.length && !wanted('mqttMemory')) return;
  for (const kind of MQTT_KINDS) {
    if (kind === 'M' && !mosquittoPath()) {
      results.M.skipped = 'mosquitto is not installed (apt-get install mosquitto)';
      log(`mosquitto: MQTT cases skipped (${results.M.skipped})`);
      continue;
    }
    if (kind === 'J' && results.J.unavailable) continue;
    if (cases.length === 0) continue; // the memory case starts its own
    try {
      routers[kind] = await startRouter(kind, { mqtt: true });
    } catch (err) {
      results[kind][kind === 'J' ? 'mqttUnavailable' : 'unavailable'] = err.message;
      log(`${NAMES[kind]} with MQTT: unavailable (${err.message})`);
      crashes.push(`${kind} MQTT start: ${err.message}`);
    }
  }
  const live = MQTT_KINDS.filter((k) => routers[k]);
  try {
    for (const [name, fn, applies = () => true] of cases) {
      for (const kind of live) {
        if (!applies(kind)) continue;
        const r = await attempt(kind, name, fn, { mqtt: true });
        if (r) results[kind][name] = r;
      }
    }
    for (const kind of live) if (exited(routers[kind].child)) died(kind);
  } finally {
    for (const kind of live) await stopRouter(routers[kind]);
  }
  // Memory per idle MQTT connection: a fresh broker each, the three side by side (RSS does not
  // depend on the CPU the others take, and their settling waits overlap).
  if (!wanted('mqttMemory')) return;
  const measured = MQTT_KINDS.filter((k) => !results[k].skipped && !results[k].unavailable && !results[k].mqttUnavailable);
  // Beside Junction, Node's own floor per idle connection (node-floor.mjs), read the same way.
  if (measured.includes('J')) measured.push('N');
  // Rounds, each figure the median: even with a full collection before each reading (settledRssKiB),
  // rounds of the same build differ by some 0.3 KiB per connection (the heap's pages as laid out).
  const rounds = QUICK ? 1 : 3;
  const got = Object.fromEntries(measured.map((kind) => [kind, []]));
  for (let round = 1; round <= rounds; round++) {
    log(`${measured.join(', ')} MQTT memory (round ${round} of ${rounds})…`);
    await Promise.all(measured.map((kind) => mqttMemory(kind, MQTT_CONNECTIONS.first, MQTT_CONNECTIONS.more).then(
      (m) => { got[kind].push(m); },
      (err) => crashed(kind, 'mqttMemory', err),
    )));
  }
  for (const kind of measured) if (got[kind].length) results[kind].mqttMemory = medianMemory(got[kind]);
}

/** Memory rounds as one: the round with the median figure (`key`), and every round's figure. */
function medianMemory(rounds, key = 'perConnectionKiB') {
  const byFigure = rounds.slice().sort((a, b) => a[key] - b[key]);
  return { ...byFigure[Math.floor(byFigure.length / 2)], rounds: rounds.map((r) => r[key]) };
}

/** The router-link RPC cases `names` on a started fleet; a case that fails is not measured again. */
async function linkedRpc(fleet, names, rounds) {
  const live = () => names.filter((name) => !results.J[name]?.error);
  try {
    for (const name of names) await reachable(fleet.urls[HOPS[name]]).catch((err) => crashed('J', name, err));
    for (const name of live()) await hopRpc(fleet, name, 64).catch(() => {}); // untimed: JIT warm-up
    for (const [outstanding, key] of [[1, 'one'], [64, 'many']]) {
      const got = Object.fromEntries(names.map((name) => [name, []]));
      for (let i = 0; i < rounds; i++) {
        for (const name of live()) {
          if (fleet.gone()) throw new Error('a router of the fleet died');
          log(`J ${name}, ${outstanding} outstanding…`);
          await hopRpc(fleet, name, outstanding).then((r) => got[name].push(r), (err) => crashed('J', name, err));
        }
      }
      for (const name of live()) {
        if (!got[name].length) continue;
        const byRouter = got[name][0].cpuPerOpByRouter.map((_, i) => median(got[name].map((r) => r.cpuPerOpByRouter[i])));
        (results.J[name] ??= {})[key] = { ...merged(got[name]), cpuPerOpByRouter: byRouter };
      }
    }
  } catch (err) {
    for (const name of live()) crashed('J', name, err);
  }
}

/** Idle links beyond the first on the memory case's busiest board. */
const MORE_LINKS = 100;

/**
 * Router links (see fleet.mjs), on Junction alone: RPC through one hop (rlink1) and two hops
 * (rlink2), each beside the direct call (rlinkDirect, measured whenever either is asked for), with 1
 * and with 64 calls outstanding; the three alternated in 3 rounds (1 with --quick), each figure the
 * median of its rounds, so that the machine's drift hits them alike. Then a link's memory cost on a
 * board (rlinkMemory), 3 rounds (1 with --quick) of fresh routers, the median round.
 */
async function runLinks() {
  if (!KINDS.includes('J') || results.J.unavailable) return;
  const names = Object.keys(HOPS).filter((name) => wanted(name) || (name === 'rlinkDirect' && (wanted('rlink1') || wanted('rlink2'))));
  const rounds = QUICK ? 1 : 3;
  if (names.length) {
    log('J router links: a hub and two boards…');
    await startFleet().then(
      (fleet) => linkedRpc(fleet, names, rounds).finally(fleet.stop),
      (err) => names.forEach((name) => crashed('J', name, err)),
    );
  }
  if (!wanted('rlinkMemory')) return;
  const got = [];
  for (let round = 1; round <= rounds; round++) {
    log(`J router link memory (round ${round} of ${rounds})…`);
    try {
      got.push(await linkMemory(MORE_LINKS));
    } catch (err) {
      crashed('J', 'rlinkMemory', err);
      return;
    }
  }
  // The first link's figure is one board against another (each process's RSS moves by some 100 KiB):
  // its own median, with every round's.
  const first = got.map((r) => r.firstKiB);
  results.J.rlinkMemory = { ...medianMemory(got, 'perLinkKiB'), firstKiB: median(first), firstRounds: first };
}

/** A measurement of Junction alone; undefined (and a crash line) when it fails. */
async function junctionOnly(name, measure) {
  if (!KINDS.includes('J') || results.J.unavailable) return undefined;
  log(`J ${name}…`);
  try {
    return await measure();
  } catch (err) {
    log(`${name} failed: ${err.message}`);
    crashes.push(`J ${name}: ${err.message}`);
    return undefined;
  }
}

async function main() {
  const client = settings.mode === 'autobahn' ? 'Autobahn|JS' : 'frame-level clients';
  log(`bench: ${QUICK ? 'quick' : 'full'} run, ${settings.durationMs} ms per case after ${settings.warmupMs} ms warm-up; J and F driven by ${client}`);
  await runCases();
  for (const kind of KINDS) delete routers[kind];
  await runMqtt();
  if (settings.mode === 'autobahn') { // R has only frame-level clients: its figures stand for both
    if (results.R.rpc64) results.R.rpc64light = results.R.rpc64;
    if (results.R.pub100) results.R.pub100light = results.R.pub100;
  }
  await runLinks();
  const queue = wanted('queue') ? await junctionOnly('concurrency + queue cost', queueCost) : undefined;
  const cold = wanted('cold') ? await junctionOnly('cold start', () => coldStart(QUICK ? 3 : 5)) : undefined;
  const telemetry = QUICK || !wanted('telemetry') ? undefined : await junctionOnly('telemetry cost', () => telemetryCost());

  console.log(`\nclients: ${client} for Junction and fox-wamp, raw ws frames for the relay; JSON over WebSocket`);
  console.log(`${settings.durationMs} ms per case; router CPU from /proc/PID/stat; memory beside a bare node started with each router\n`);
  if (KINDS.length) for (const line of table(results)) console.log(line);
  if (MQTT_KINDS.length) {
    console.log(`\nMQTT: mqtt.js publisher → mqtt.js subscribers (separate processes, ${settings.durationMs} ms per case), router CPU from /proc; Junction's MQTT → WAMP subscriber (${client})\n`);
    for (const line of mqttTable(results)) console.log(line);
  }
  const links = linksTable(results.J);
  if (links.length) {
    console.log(`\nRouter links, Junction alone: a hub and boards A and B, each its own process, each board linked to the hub; one callee (${client}) on B, the caller (${client}) on B (direct), on the hub (1 hop) or on A (2 hops), ${settings.durationMs} ms per case, routers' CPU = the 3 routers' sum from /proc${results.J.rlinkMemory ? `; memory: fresh boards side by side with no link, 1 and ${MORE_LINKS + 1} idle links to one idle hub` : ''}\n`);
    for (const line of links) console.log(line);
  }
  console.log('');
  for (const kind of ONLY) {
    const r = results[kind];
    if (r.unavailable) console.log(`${NAMES[kind]}: unavailable — ${r.unavailable}`);
    if (r.skipped) console.log(`${NAMES[kind]}: MQTT cases skipped — ${r.skipped}`);
    if (r.mqttUnavailable) console.log(`${NAMES[kind]} with an MQTT listener: unavailable — ${r.mqttUnavailable}`);
    if (r.rr4?.shares) console.log(`${NAMES[kind]} roundrobin shares: ${r.rr4.shares.join(' / ')}${r.rr4.refused ? `; refused: ${r.rr4.refused.join('; ')}` : ''}`);
    if (r.routerDeaths) console.log(`${NAMES[kind]}: the router process died ${r.routerDeaths}× during the run (restarted)`);
    for (const [name, v] of Object.entries(r)) {
      if (v?.error) console.log(`${NAMES[kind]} ${name}: error — ${v.error}`);
      if (v?.stalls) console.log(`${NAMES[kind]} ${name}: the publisher stopped waiting for a delivery ${v.stalls}× (events lost?)`);
    }
  }
  if (cold) console.log(`\ncold start (median of ${cold.rounds}): Junction spawn → first answered call ${cold.junctionMs.toFixed(0)} ms; bare \`node -e\` spawn → first output ${cold.bareMs.toFixed(0)} ms`);
  if (telemetry) console.log(`board telemetry, one sample per second for ${telemetry.seconds} s: ${telemetry.perSampleMs.toFixed(2)} ms CPU per sample (Junction with it ${telemetry.samplingMs.toFixed(0)} ms, without ${telemetry.plainMs.toFixed(0)} ms, side by side)`);
  const verdicts = targets({ results, queue, clients: client, cold, telemetry });
  console.log('\ntargets');
  for (const t of verdicts) console.log(`${t.verdict.padEnd(4)}  ${t.name}: ${t.detail}`);

  mkdirSync(join(ROOT, '.bench-out'), { recursive: true });
  const out = { date: new Date().toISOString(), quick: QUICK, ...settings, results, queue, cold, telemetry, targets: verdicts, crashes };
  writeFileSync(join(ROOT, '.bench-out', 'latest.json'), `${JSON.stringify(out, null, 2)}\n`);
  if (crashes.length) console.log(`\n${crashes.length} case(s) crashed:\n  ${crashes.join('\n  ')}`);
  return crashes.length ? 1 : 0;
}

main().then(
  (code) => { clearTimeout(watchdog); killAll(); process.exit(code); },
  (err) => { console.error(err); killAll(); process.exit(1); },
);
