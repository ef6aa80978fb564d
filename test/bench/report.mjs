// The printed report: one table of every case for J, R and F with the ratios J/R and J/F, then
// the issue's targets as PASS/FAIL lines (N/A when a figure is missing, e.g. Junction not built);
// the MQTT cases in a table of their own, Junction beside mosquitto and aedes with the ratios
// J/mosquitto and J/aedes (issue 15's MQTT targets among the PASS/FAIL lines).
import { NAMES } from './routers.mjs';

const fmt = (n, d = 0) => (typeof n !== 'number' || !Number.isFinite(n) ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : undefined);
const times = (x) => (x === undefined ? '—' : `${x.toFixed(2)}×`);
const pct = (x) => (x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);

export function table(results) {
  const rows = [];
  const row = (label, key, field, digits = 0) => {
    const [j, r, f] = ['J', 'R', 'F'].map((k) => results[k]?.[key]?.[field]);
    if ([j, r, f].every((v) => v === undefined) && ['J', 'R', 'F'].every((k) => !results[k]?.[key]?.error)) return;
    const cell = (k, v) => (results[k]?.[key]?.error ? 'error' : fmt(v, digits));
    rows.push([label, cell('J', j), cell('R', r), cell('F', f), times(ratio(j, r)), times(ratio(j, f))]);
  };
  for (const [key, label] of [['rpc1', 'RPC 1 outstanding'], ['rpc64', 'RPC 64 outstanding'], ['rpc64light', 'RPC 64 out., frame-level clients'], ['rr4', 'Roundrobin 4 callees, 64 out.']]) {
    row(`${label}: calls/s`, key, 'perSec');
    row(`${label}: p50 µs`, key, 'p50');
    row(`${label}: p99 µs`, key, 'p99');
    row(`${label}: router CPU µs/call`, key, 'cpuPerOp', 1);
  }
  for (const [key, label] of [['pub1', 'PubSub 1→1'], ['pub10', 'PubSub 1→10'], ['pub100', 'PubSub 1→100'], ['pub100light', 'PubSub 1→100, frame-level clients'], ['pub1000', 'PubSub 1→1000']]) {
    row(`${label}: events delivered/s`, key, 'perSec');
    row(`${label}: p99 delivery µs`, key, 'p99');
    row(`${label}: router CPU µs/event`, key, 'cpuPerOp', 2);
  }
  row('Idle RSS KiB', 'memory', 'idle');
  row('RSS with 1000 idle sessions KiB', 'memory', 'rss');
  row('KiB per idle session', 'memory', 'perSessionKiB', 2);

  return layout(['case', NAMES.J, NAMES.R, NAMES.F, 'J/R', 'J/F'], rows);
}

/** The MQTT cases: Junction's MQTT listener beside mosquitto and aedes, with the ratios J/M and J/A. */
export function mqttTable(results) {
  const rows = [];
  const KINDS = ['J', 'M', 'A'];
  const row = (label, key, field, digits) => {
    const [j, m, a] = KINDS.map((k) => results[k]?.[key]?.[field]);
    if ([j, m, a].every((v) => v === undefined) && KINDS.every((k) => !results[k]?.[key]?.error)) return; // not in this run
    const cell = (k, v) => (results[k]?.[key]?.error ? 'error' : fmt(v, digits));
    rows.push([label, cell('J', j), cell('M', m), cell('A', a), times(ratio(j, m)), times(ratio(j, a))]);
  };
  for (const [key, label, unit] of [
    ['mqtt0', 'QoS 0, 1→1', 'message'],
    ['mqtt1', 'QoS 1, 1→1, 64 unacked (subscriber QoS 0)', 'message'],
    ['mqtt11', 'QoS 1 both legs, 1→1, 64 unacked', 'message'],
    ['mqttFan10', 'QoS 0, 1→10 on `bench/+`', 'delivery'],
  ]) {
    row(`${label}: deliveries/s`, key, 'perSec', 0);
    row(`${label}: p50 delivery µs`, key, 'p50', 0);
    row(`${label}: p99 delivery µs`, key, 'p99', 0);
    row(`${label}: router CPU µs/${unit}`, key, 'cpuPerOp', 2);
  }
  const memory = KINDS.map((k) => results[k]?.mqttMemory).find((m) => m?.first);
  const [first, total] = memory ? [memory.first, memory.first + memory.more] : ['N', 'N + M'];
  row('Idle RSS KiB', 'mqttMemory', 'idle', 0);
  row(`RSS with ${first} idle MQTT connections KiB`, 'mqttMemory', 'rssFirst', 0);
  row(`RSS with ${total} idle MQTT connections KiB`, 'mqttMemory', 'rssMore', 0);
  row(`KiB per idle MQTT connection (${first} → ${total})`, 'mqttMemory', 'perConnectionKiB', 2);
  row(`  first ${first} connections: KiB each, one-time costs included`, 'mqttMemory', 'firstKiB', 2);
  const floor = results.N?.mqttMemory;
  if (floor) rows.push([`  Node's floor (a bare net server answering CONNACK, same V8 options): KiB per idle connection`, floor.error ? 'error' : fmt(floor.perConnectionKiB, 2), '', '', '', '']);
  const toWamp = results.J?.mqttToWamp;
  const wamp = results.J?.pub1;
  rows.push(['Junction, MQTT QoS 0 → WAMP subscriber: deliveries/s', toWamp?.error ? 'error' : fmt(toWamp?.perSec), '', '', '', '']);
  rows.push(['Junction, MQTT QoS 0 → WAMP subscriber: router CPU µs/message', toWamp?.error ? 'error' : fmt(toWamp?.cpuPerOp, 2), '', '', '', '']);
  rows.push(['Junction, WAMP → WAMP PubSub 1→1: router CPU µs/event', wamp?.error ? 'error' : fmt(wamp?.cpuPerOp, 2), '', '', '', '']);
  if (toWamp?.wampBeside) rows.push(['  the same, alternated with MQTT → WAMP on its router', fmt(toWamp.wampBeside.cpuPerOp, 2), '', '', '', '']);
  return layout(['case', NAMES.J, NAMES.M, NAMES.A, 'J/M', 'J/A'], rows);
}

/** Issue 15's MQTT targets, as { name, verdict, detail } like targets()'s. */
function mqttTargets({ J, M, A, N }, check) {
  const cpu = (r, key) => r?.[key]?.cpuPerOp;
  const pair = (key) => [ratio(cpu(J, key), cpu(A, key)), ratio(cpu(J, key), cpu(M, key))];
  const us = (v) => `${fmt(v, 2)} µs`;
  const [q0a, q0m] = pair('mqtt0');
  const q0 = q0a === undefined || q0m === undefined ? undefined : { q0a, q0m };
  check('MQTT QoS 0 1→1: J CPU/message ≤ aedes\' and ≤ 2× mosquitto\'s', q0, (x) => x.q0a <= 1 && x.q0m <= 2,
    `J ${us(cpu(J, 'mqtt0'))}, aedes ${us(cpu(A, 'mqtt0'))}, mosquitto ${us(cpu(M, 'mqtt0'))}: ${times(q0a)} aedes, ${times(q0m)} mosquitto`);
  const [q1a, q1m] = pair('mqtt1');
  check('MQTT QoS 1 1→1 (64 unacked): J CPU/message ≤ aedes\'', q1a, (x) => x <= 1,
    `J ${us(cpu(J, 'mqtt1'))}, aedes ${us(cpu(A, 'mqtt1'))}: ${times(q1a)} (mosquitto ${us(cpu(M, 'mqtt1'))}: ${times(q1m)})`);
  const [fa, fm] = pair('mqttFan10');
  check('MQTT QoS 0 fan-out 1→10 on `+`: J CPU/delivery ≤ 1.5× mosquitto\'s', fm, (x) => x <= 1.5,
    `J ${us(cpu(J, 'mqttFan10'))}, mosquitto ${us(cpu(M, 'mqttFan10'))}: ${times(fm)} (aedes ${us(cpu(A, 'mqttFan10'))}: ${times(fa)})`);
  // WAMP → WAMP as measured beside it (alternated rounds, same router), else the PubSub 1→1 case's.
  const wampCpu = J?.mqttToWamp?.wampBeside?.cpuPerOp ?? cpu(J, 'pub1');
  const toWamp = ratio(cpu(J, 'mqttToWamp'), wampCpu);
  const rounds = J?.mqttToWamp?.rounds ? `, medians of ${J.mqttToWamp.rounds.length} alternated rounds` : '';
  check('MQTT → WAMP subscriber: J CPU/message ≤ WAMP → WAMP PubSub 1→1', toWamp, (x) => x <= 1,
    `${us(cpu(J, 'mqttToWamp'))} / ${us(wampCpu)} = ${times(toWamp)}${rounds}`);
  const perConnection = J?.mqttMemory?.perConnectionKiB;
  const span = J?.mqttMemory?.first ? ` (RSS growth from ${J.mqttMemory.first} to ${J.mqttMemory.first + J.mqttMemory.more} idle connections)` : '';
  check(`≤ 2 KiB per idle MQTT connection${span}`, perConnection, (x) => x <= 2,
    `${fmt(perConnection, 2)} KiB (mosquitto ${fmt(M?.mqttMemory?.perConnectionKiB, 2)} KiB, aedes ${fmt(A?.mqttMemory?.perConnectionKiB, 2)} KiB, Node's floor ${fmt(N?.mqttMemory?.perConnectionKiB, 2)} KiB)${memoryRounds(J, M, A, N)}`);
}

/** ', medians of N rounds (J a, b, c; ...)' when the memory case ran in rounds. */
function memoryRounds(...brokers) {
  const named = [['J', brokers[0]], ['mosquitto', brokers[1]], ['aedes', brokers[2]], ["Node's floor", brokers[3]]].filter(([, r]) => r?.mqttMemory?.rounds?.length > 1);
  if (named.length === 0) return '';
  const each = named.map(([name, r]) => `${name} ${r.mqttMemory.rounds.map((x) => fmt(x, 2)).join(', ')}`);
  return `; medians of ${named[0][1].mqttMemory.rounds.length} rounds (${each.join('; ')})`;
}

/**
 * Router links (Junction alone): RPC through one and two hops beside the direct call, with the
 * ratios to it, and a link's memory cost on a board; [] when none of these cases ran.
 */
export function linksTable(J) {
  const rows = [];
  const HOPS = ['rlinkDirect', 'rlink1', 'rlink2'];
  if (HOPS.every((k) => J?.[k] === undefined) && J?.rlinkMemory === undefined) return rows;
  const row = (label, load, field, digits) => {
    const [d, one, two] = HOPS.map((k) => J?.[k]?.[load]?.[field]);
    const cell = (k, v) => (J?.[k]?.error ? 'error' : fmt(v, digits));
    rows.push([label, cell('rlinkDirect', d), cell('rlink1', one), cell('rlink2', two), times(ratio(one, d)), times(ratio(two, d))]);
  };
  if (HOPS.some((k) => J?.[k] !== undefined)) {
    for (const [load, label] of [['one', 'RPC 1 outstanding'], ['many', 'RPC 64 outstanding']]) {
      row(`${label}: calls/s`, load, 'perSec', 0);
      row(`${label}: p50 µs`, load, 'p50', 0);
      row(`${label}: p99 µs`, load, 'p99', 0);
      row(`${label}: routers' CPU µs/call`, load, 'cpuPerOp', 1);
      ['hub', 'board A', 'board B'].forEach((router, i) => {
        const [d, one, two] = HOPS.map((k) => J?.[k]?.[load]?.cpuPerOpByRouter?.[i]);
        rows.push([`  of which ${router}`, fmt(d, 1), fmt(one, 1), fmt(two, 1), '', '']);
      });
    }
  }
  const m = J?.rlinkMemory;
  if (m) {
    const most = m.error ? 'N' : m.more + 1;
    const only = (label, v, digits) => rows.push([label, m.error ? 'error' : fmt(v, digits), '', '', '', '']);
    only('Board RSS, no link KiB', m.none, 0);
    only('Board RSS, 1 idle link KiB', m.one, 0);
    only(`Board RSS, ${most} idle links KiB`, m.many, 0);
    const medianOf = (xs, digits) => (xs?.length > 1 ? `; median of ${xs.map((x) => fmt(x, digits)).join(', ')}` : '');
    only(`  first link: KiB, one-time costs included (0 → 1${medianOf(m.firstRounds, 0)})`, m.firstKiB, 0);
    only(`  KiB per further link (1 → ${most}${medianOf(m.rounds, 1)})`, m.perLinkKiB, 1);
  }
  return layout(['case', 'direct', '1 hop', '2 hops', '1 hop/direct', '2 hops/direct'], rows);
}

function layout(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

/** Each target as { name, verdict: 'PASS' | 'FAIL' | 'N/A', detail }. */
export function targets({ results: { J, R, F, M, A, N }, queue, clients, cold, telemetry }) {
  const list = [];
  const check = (name, value, ok, detail) => list.push({ name, verdict: value === undefined ? 'N/A' : ok(value) ? 'PASS' : 'FAIL', detail });

  const cpu64 = ratio(J.rpc64?.cpuPerOp, R.rpc64?.cpuPerOp);
  const driven = `(J driven by ${clients}, R by frame-level clients)`;
  check('RPC 64 outstanding: J CPU/call ≤ 1.3× R CPU/round trip', cpu64, (x) => x <= 1.3, `${times(cpu64)} ${driven}`);
  const tput64 = ratio(J.rpc64?.perSec, R.rpc64?.perSec);
  check('RPC 64 outstanding: J calls/s ≥ 75% of R round trips/s', tput64, (x) => x >= 0.75, `${pct(tput64)} ${driven}`);
  // The same two with the same frame-level clients on J as on R (when J ran with Autobahn|JS).
  const cpuLight = ratio(J.rpc64light?.cpuPerOp, R.rpc64?.cpuPerOp);
  const tputLight = ratio(J.rpc64light?.perSec, R.rpc64?.perSec);
  if (J.rpc64light || !J.rpc64) {
    check('RPC 64 outstanding, same frame-level clients as R: J CPU/call ≤ 1.3× R', cpuLight, (x) => x <= 1.3, times(cpuLight));
    check('RPC 64 outstanding, same frame-level clients as R: J calls/s ≥ 75% of R', tputLight, (x) => x >= 0.75, pct(tputLight));
  }
  const pub10 = ratio(J.pub10?.cpuPerOp, F.pub10?.cpuPerOp);
  check('PubSub 1→10: J CPU/delivered event ≤ 0.5× F', pub10, (x) => x <= 0.5, times(pub10));
  const pub100 = ratio(J.pub100?.cpuPerOp, F.pub100?.cpuPerOp);
  check('PubSub 1→100: J CPU/delivered event ≤ 0.3× F', pub100, (x) => x <= 0.3, times(pub100));
  const pub100r = ratio(J.pub100?.perSec, R.pub100?.perSec);
  check('PubSub 1→100: J deliveries/s ≥ 60% of R broadcast', pub100r, (x) => x >= 0.6, `${pct(pub100r)} ${driven}`);
  if (J.pub100light || !J.pub100) {
    const light = ratio(J.pub100light?.perSec, R.pub100?.perSec);
    check('PubSub 1→100, same frame-level clients as R: J deliveries/s ≥ 60% of R', light, (x) => x >= 0.6, pct(light));
  }

  const dev = J.rr4?.maxDeviation;
  check('Roundrobin 4 callees: each share within ±1% of even', dev, (x) => x <= 0.01,
    `max deviation ${pct(dev)}${J.rr4?.shares ? ` (${J.rr4.shares.join(' / ')})` : ''}`);
  const rr = ratio(J.rr4?.perSec, J.rpc64?.perSec);
  const rrRelay = ratio(R.rr4?.perSec, R.rpc64?.perSec);
  check('Roundrobin 4 callees: throughput within 10% of single callee', rr, (x) => x >= 0.9,
    `${pct(rr)} of single-callee calls/s; router CPU/call ${times(ratio(J.rr4?.cpuPerOp, J.rpc64?.cpuPerOp))}; the relay, same 4 callee processes: ${pct(rrRelay)}`);

  // Judged on router CPU per call, the figure the shared 2-core machine's noise moves least;
  // a throughput difference of a few % is within run-to-run noise here.
  check('Concurrency counting + call queue: ≤ 10% cost (router CPU/call)', queue?.cpuRatio, (x) => x <= 1.1,
    queue ? `CPU/call ${times(queue.cpuRatio)}; calls/s ${fmt(queue.plain.perSec)} → ${fmt(queue.counted.perSec)} (${pct(queue.throughputCost)} cost)` : '—');

  // With the relay's figures for scale: a ws server that keeps no session state at all.
  const idle = ratio(J.memory?.idle, J.memory?.bareIdle);
  check('Idle RSS ≤ 1.3× bare node', idle, (x) => x <= 1.3,
    `${fmt(J.memory?.idle)} KiB / ${fmt(J.memory?.bareIdle)} KiB (a bare node read beside it) = ${times(idle)} (the relay: ${times(ratio(R.memory?.idle, R.memory?.bareIdle))})`);
  const perSession = J.memory?.perSessionKiB;
  check('≤ 3 KiB per idle session at 1000 sessions', perSession, (x) => x <= 3,
    `${fmt(perSession, 2)} KiB (the relay, per bare ws connection: ${fmt(R.memory?.perSessionKiB, 2)} KiB)`);
  const start = cold ? cold.junctionMs / cold.bareMs : undefined;
  check('Cold start to first answered call ≤ 2× a bare node -e start', start, (x) => x <= 2,
    cold ? `${cold.junctionMs.toFixed(0)} ms / ${cold.bareMs.toFixed(0)} ms = ${times(start)}` : '');
  mqttTargets({ J, M, A, N }, check);
  if (telemetry) {
    check('Board telemetry < 1% of one core at the default interval (5 s)', telemetry.shareAtDefault, (x) => x < 0.01,
      `${telemetry.perSampleMs.toFixed(2)} ms CPU per sample = ${(telemetry.shareAtDefault * 100).toFixed(3)}% of one core`);
  }
  return list;
}
