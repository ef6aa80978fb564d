// The measured cases. Each drives one router with clients in separate processes and reads the
// router's CPU time (/proc/PID/stat) from the moment the load generator says 'measuring' to the
// moment it reports, so CPU per operation = router CPU time / operations completed in that window.
import { fileURLToPath } from 'node:url';
import { start, ask, stop } from './children.mjs';
import { cpuMs, cpuWithChildrenMs, rssKiB, sleep, SETTLE_MS } from './proc.mjs';
import { startRouter, stopRouter, startBareNode } from './routers.mjs';

/** Client settings for a run: `mode` is what J and F are driven with ('autobahn' or 'light'). */
export const settings = { mode: 'autobahn', durationMs: 3000, warmupMs: 500 };

const modeFor = (router) => (router.kind === 'R' ? 'relay' : settings.mode);
const path = (router, role) => (router.kind === 'R' ? `${router.url}${role}` : router.url);

/** CPU ms of each router so far: the one router's, or a fleet's (`pids`: router links). */
const routerCpusMs = (router) => (router.pids ?? [router.pid]).map(cpuMs);

/**
 * Sends 'go' to a load generator; resolves with its report and the router CPU ms in its window
 * (`cpus`: per router of a fleet, `cpu` their sum). `onMeasuring` runs when the window opens.
 */
async function measured(router, driver, onMeasuring) {
  let cpu0;
  const report = await ask(driver, 'go', {
    timeoutMs: settings.warmupMs + settings.durationMs + 15_000,
    onEvent: (m) => {
      if (m !== 'measuring') return;
      try { cpu0 = routerCpusMs(router); } catch { return; } // the router is gone: reported below
      onMeasuring?.();
    },
  });
  if (cpu0 === undefined) throw new Error('no router CPU reading when the window opened (router gone?)');
  const cpus = routerCpusMs(router).map((ms, i) => ms - cpu0[i]);
  return { ...report, cpu: cpus.reduce((a, b) => a + b, 0), cpus };
}

/** RPC: one caller keeping `outstanding` calls in flight against `callees` callee processes. */
export async function rpc(router, { outstanding, callees = 1, procedure = 'bench.echo', options = {}, mode = modeFor(router) }) {
  const procs = [];
  try {
    for (let i = 0; i < callees; i++) procs.push(await start('clients/callee.mjs', [path(router, 'callee'), mode, procedure, JSON.stringify(options)]));
    const caller = await startCaller(router.url, mode, procedure, outstanding);
    procs.push(caller);
    const r = await measured(router, caller);
    const counts = await Promise.all(procs.slice(0, callees).map((c) => ask(c, 'report')));
    if (r.done === 0) throw new Error(`no call completed (${r.failed} failed)${counts[0]?.refused ? `: ${counts[0].refused}` : ''}`);
    const shares = counts.map((c) => c.calls);
    const refused = counts.map((c) => c.refused).filter(Boolean);
    return {
      ...callFigures(r),
      shares,
      ...(callees > 1 ? { maxDeviation: maxDeviation(shares) } : {}),
      ...(refused.length ? { refused } : {}),
    };
  } finally {
    await stop(...procs);
  }
}

const startCaller = (url, mode, procedure, outstanding) =>
  start('clients/caller.mjs', [url, mode, procedure, String(outstanding), String(settings.durationMs), String(settings.warmupMs)]);

/** A caller's report over its window (and the router CPU in it) as the RPC figures. */
function callFigures(r) {
  return {
    perSec: (r.done / r.ms) * 1000,
    p50: r.p50,
    p99: r.p99,
    cpuPerOp: (r.cpu * 1000) / r.done, // µs of router CPU per call
    calls: r.done,
    failed: r.failed,
  };
}

/**
 * RPC from one caller on `url` (Autobahn|JS, or frame-level clients with --light) to a callee
 * already registered somewhere in `fleet` (router links: see fleet.mjs), with `outstanding` calls
 * in flight; the router CPU is the sum over the fleet's routers (and each one's, in the fleet's order).
 */
export async function callsFrom(fleet, url, { outstanding, procedure = 'bench.echo' }) {
  const caller = await startCaller(url, settings.mode, procedure, outstanding);
  try {
    const r = await measured(fleet, caller);
    if (r.done === 0) throw new Error(`no call completed (${r.failed} failed)`);
    return { ...callFigures(r), cpuPerOpByRouter: r.cpus.map((ms) => (ms * 1000) / r.done) };
  } finally {
    await stop(caller);
  }
}

/** Largest |share / even share − 1| over the callees, as a fraction. */
function maxDeviation(shares) {
  const even = shares.reduce((a, b) => a + b, 0) / shares.length;
  return even === 0 ? 1 : Math.max(...shares.map((s) => Math.abs(s / even - 1)));
}

/** PubSub: one publisher (window of 64 acknowledged publications) to `n` subscriber sessions in up to 4 processes. */
export function pubsub(router, n, mode = modeFor(router)) {
  return delivery(router, n, {
    subscriber: [path(router, 'sub'), mode, 'bench.topic'],
    publisher: [path(router, 'pub'), mode, 'bench.topic', '64'],
  });
}

// In flight between the MQTT publisher and its subscribers at most (QoS 0 has no other bound;
// QoS 1 also keeps at most 64 PUBACKs outstanding): a bounded backlog, as in the WAMP cases.
const MQTT_AHEAD = 1024;

/**
 * MQTT → MQTT on Junction's MQTT listener, mosquitto or aedes alike: an mqtt.js publisher on
 * `bench/x` at QoS `qos` (0, or 1 with 64 PUBACKs outstanding) to `subscribers` mqtt.js
 * subscribers on `filter`, subscribed at QoS `subQos` (default 0, as issue 15's figures were
 * taken: the publisher's leg is what QoS 1 costs there; 1 acknowledges both legs).
 */
export function mqttPubsub(router, { qos, subQos = 0, subscribers = 1, filter = 'bench/x' }) {
  return delivery(router, subscribers, {
    subscriber: [router.mqttUrl, subQos === 1 ? 'mqtt1' : 'mqtt', filter],
    publisher: [router.mqttUrl, `mqtt${qos}`, 'bench/x', '64'],
    ahead: MQTT_AHEAD,
  });
}

/** Junction only: the same QoS 0 publisher through the MQTT listener to one WAMP subscriber of `bench.x`. */
export function mqttToWamp(router) {
  return delivery(router, 1, {
    subscriber: [router.url, settings.mode, 'bench.x'],
    publisher: [router.mqttUrl, 'mqtt0', 'bench/x', '64'],
    ahead: MQTT_AHEAD,
  });
}

/**
 * One publisher to `n` subscriber sessions in up to 4 processes: `subscriber` is subscribers.mjs's
 * arguments but the count, `publisher` publisher.mjs's up to the window; `ahead` its deliveries-ahead bound.
 */
async function delivery(router, n, { subscriber, publisher, ahead }) {
  const subs = [];
  let pub;
  try {
    const nProcs = Math.min(4, n);
    for (let i = 0; i < nProcs; i++) {
      const count = Math.floor(n / nProcs) + (i < n % nProcs ? 1 : 0);
      subs.push(await start('clients/subscribers.mjs', [...subscriber, String(count)], 120_000));
    }
    // The slowest subscriber session's count, passed on to pace the publisher (see publisher.mjs).
    const slowest = subs.map(() => 0);
    subs.forEach((s, i) => s.on('message', (m) => {
      if (typeof m !== 'string' || !m.startsWith('delivered:')) return;
      slowest[i] = Number(m.slice(10));
      if (pub?.connected) pub.send(`delivered:${Math.min(...slowest)}`);
    }));
    pub = await start('clients/publisher.mjs', [...publisher, String(n), String(settings.durationMs), String(settings.warmupMs), ...(ahead ? [String(ahead)] : [])]);
    const reports = () => Promise.all(subs.map((s) => ask(s, 'report')));
    // Events delivered in the window: the subscribers' count at its end minus a snapshot taken
    // when it opened (both one IPC round trip late, which cancels out).
    let atStart;
    const r = await measured(router, pub, () => {
      for (const s of subs) s.send('reset'); // latency samples from the window only
      atStart = reports().then((rs) => rs.reduce((a, x) => a + x.received, 0));
      atStart.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
    });
    const base = await atStart;
    const final = await reports();
    const delivered = final.reduce((a, x) => a + x.received, 0) - base;
    if (delivered <= 0) throw new Error(`no event delivered (${r.published} published)`);
    return {
      perSec: (delivered / r.ms) * 1000,
      publishedPerSec: (r.published / r.ms) * 1000,
      cpuPerOp: (r.cpu * 1000) / delivered, // µs of router CPU per delivered event
      delivered,
      stalls: r.stalls, // times the publisher gave up waiting for a delivery (events lost?)
      // Delivery latency: the worst subscriber process's percentiles.
      p50: Math.max(...final.map((x) => x.p50)),
      p99: Math.max(...final.map((x) => x.p99)),
    };
  } finally {
    await stop(...(pub ? [pub] : []));
    await drained(subs);
    await stop(...subs);
  }
}

/**
 * Waits (at most 15 s) until the subscribers' count stops growing: the events still queued in the
 * router reach them before they close, so no router writes to a vanishing socket.
 */
async function drained(subs) {
  let last = -1;
  for (let i = 0; i < 50; i++) {
    const total = await Promise.all(subs.map((s) => ask(s, 'report')))
      .then((rs) => rs.reduce((a, x) => a + x.received, 0), () => last);
    if (total === last) return;
    last = total;
    await sleep(300);
  }
}

/**
 * RSS on a fresh router: idle (beside a bare node started with it and read at the same moment),
 * then with `count` idle sessions (HELLO/WELCOME; relay: plain connections).
 */
export async function memory(kind, count) {
  const bareNode = startBareNode();
  const router = await startRouter(kind);
  let idle;
  let bareIdle;
  try {
    await sleep(SETTLE_MS);
    idle = rssKiB(router.pid);
    bareIdle = rssKiB(bareNode.pid);
    bareNode.stop();
    const client = await start('clients/idle.mjs', [router.url, kind === 'R' ? 'relay' : 'light', String(count)], 120_000);
    try {
      const { open } = await ask(client, 'count');
      if (open !== count) throw new Error(`only ${open} of ${count} sessions open`);
      await sleep(SETTLE_MS); // let the handshakes' garbage be collected before reading RSS
      const rss = rssKiB(router.pid);
      return { idle, bareIdle, rss, sessions: count, perSessionKiB: (rss - idle) / count };
    } finally {
      await stop(client);
    }
  } finally {
    bareNode.stop();
    await stopRouter(router);
  }
}

/**
 * V8 options for the Node brokers (J, A) in mqttMemory, the same for both. The young generation
 * (scratch space for short-lived objects, 1 to 16 MB per semi-space as V8 sees fit) is held at
 * 1 MB: it is a fixed cost however many connections are open, but a burst of connects grows it and
 * only V8's memory reducer shrinks it back, at a moment of its choosing, which moved a reading by up
 * to 40 MB. The memory reducer (the collection V8 runs by itself once a process is idle, which also
 * gives back the pages a burst left pooled) starts 1 s instead of 8 s after the last collection.
 * collect-on-signal.cjs lets settledRssKiB ask for a full collection (see there). What each
 * connection holds is left as it is.
 */
export const MEMORY_NODE_ARGS = ['--min-semi-space-size=1', '--max-semi-space-size=1', '--gc-memory-reducer-start-delay-ms=1000',
  '--expose-gc', '--require', fileURLToPath(new URL('collect-on-signal.cjs', import.meta.url))];
/** ms from the last connect to an RSS reading: the memory reducer ran 8 to 15 s after it here. */
const REDUCED_MS = 20_000;

/**
 * An idle broker's RSS once it holds only what is live: 15 s after the last connect, a Node broker
 * (started with MEMORY_NODE_ARGS; `collect`) runs a full compacting collection, then the lowest of
 * readings every 500 ms over 5 s. Without it, what V8 had chosen to collect and compact by itself
 * after the connects decided the reading: the same build read from 1.4 to 4.1 KiB per MQTT
 * connection round to round. mosquitto frees as it goes and is read alike, without the signal
 * (SIGUSR2 has a use of its own there).
 */
export async function settledRssKiB(pid, collect = true) {
  await sleep(REDUCED_MS - 5000);
  if (collect) process.kill(pid, 'SIGUSR2');
  let lowest = rssKiB(pid);
  for (let i = 0; i < 10; i++) {
    await sleep(500);
    lowest = Math.min(lowest, rssKiB(pid));
  }
  return lowest;
}

/**
 * Memory per idle MQTT connection of a fresh broker (Junction with its MQTT listener, mosquitto or
 * aedes): the marginal cost, i.e. the RSS growth from `first` to `first + more` idle connections
 * (clean sessions, no subscription) divided by `more`, each RSS read once the broker is idle.
 *
 * Why not RSS growth from an idle broker to `first` connections (what this case measured first, 12 s
 * after the connects: Junction 33.6 KiB, aedes 38.8, mosquitto 0.71 per connection): for the Node
 * brokers that figure was mostly one-time costs spread over the connections: mqtt-packet's 65,536
 * cached number Buffers (~6 MB, made on the first packet written), the code the first connections
 * compile, V8's young generation grown by the burst of connects, and pages not yet given back
 * (whether V8's memory reducer had run by the time RSS was read moved a reading by up to 40 MB).
 * The first `first` connections pay those; the next `more` pay what 1000 more idle sensors really
 * cost a board. It is kept (`firstKiB`), labelled as what it is. mosquitto frees as it goes; the
 * Node brokers run with MEMORY_NODE_ARGS.
 */
export async function mqttMemory(kind, first, more) {
  const router = await startRouter(kind, { mqtt: true, nodeArgs: MEMORY_NODE_ARGS });
  const clients = [];
  const connect = async (count) => {
    const client = await start('clients/idle.mjs', [router.mqttUrl, 'mqtt', String(count)], 120_000);
    clients.push(client);
    const { open } = await ask(client, 'count');
    if (open !== count) throw new Error(`only ${open} of ${count} MQTT connections open`);
    return settledRssKiB(router.pid, kind !== 'M');
  };
  try {
    await sleep(SETTLE_MS);
    const idle = rssKiB(router.pid);
    const rssFirst = await connect(first);
    const rssMore = await connect(more);
    return {
      idle, rssFirst, rssMore, first, more,
      firstKiB: (rssFirst - idle) / first,
      perConnectionKiB: (rssMore - rssFirst) / more,
    };
  } finally {
    await stop(...clients);
    await stopRouter(router);
  }
}

/**
 * Junction's cost of concurrency counting + a configured call queue: the 64-outstanding case on a
 * plain realm vs a realm with a call-queue entry and a callee registering {concurrency: 1000}
 * (never reached with 64 in flight, so only the bookkeeping is measured). Alternated, after one
 * untimed round each, and averaged, so drift of the shared machine hits both alike.
 */
export async function queueCost(rounds = 2) {
  const plain = await startRouter('J');
  let queued;
  try {
    queued = await startRouter('J', { withQueue: true });
    const counted = { outstanding: 64, options: { concurrency: 1000 } };
    await rpc(plain, { outstanding: 64 });
    await rpc(queued, counted);
    const a = [];
    const b = [];
    for (let i = 0; i < rounds; i++) {
      a.push(await rpc(plain, { outstanding: 64 }));
      b.push(await rpc(queued, counted));
    }
    const mean = (xs, f) => xs.reduce((s, x) => s + x[f], 0) / xs.length;
    const A = { perSec: mean(a, 'perSec'), cpuPerOp: mean(a, 'cpuPerOp') };
    const B = { perSec: mean(b, 'perSec'), cpuPerOp: mean(b, 'cpuPerOp') };
    return { plain: A, counted: B, throughputCost: 1 - B.perSec / A.perSec, cpuRatio: B.cpuPerOp / A.cpuPerOp };
  } finally {
    await stopRouter(plain);
    if (queued) await stopRouter(queued);
  }
}

/**
 * Board telemetry's CPU cost (issue: under 1% of one core): two idle Junction processes side by
 * side, one sampling every second, one without telemetry; the difference of their CPU time
 * (including child processes systeminformation may run) over the same window, per sample, and as
 * a share of one core at the default interval of one sample per 5 s.
 */
export async function telemetryCost(seconds = 20) {
  const [plain, sampling] = await Promise.all([startRouter('J'), startRouter('J', { telemetryCron: '* * * * * *' })]);
  try {
    await sleep(3000); // start-up and the first samples (one-off probes) out of the window
    const before = [cpuWithChildrenMs(plain.pid), cpuWithChildrenMs(sampling.pid)];
    await sleep(seconds * 1000);
    const plainMs = cpuWithChildrenMs(plain.pid) - before[0];
    const samplingMs = cpuWithChildrenMs(sampling.pid) - before[1];
    const perSampleMs = Math.max(0, samplingMs - plainMs) / seconds;
    return { seconds, plainMs, samplingMs, perSampleMs, shareAtDefault: perSampleMs / 5000 };
  } finally {
    await Promise.all([stopRouter(plain), stopRouter(sampling)]);
  }
}
