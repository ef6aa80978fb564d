// The three targets, each in its own process so its pid is known for /proc readings:
//   J  Junction: `node dist/bin/junction.cjs start --config FILE` (Crossbar-format JSON), when built
//   R  the raw relay (relay.mjs): forwards frames unparsed, the ceiling for a Node router
//   F  fox-wamp (fox.mjs), a peer Node WAMP router, installed on first use into .bench-peers/
//   M  mosquitto (Debian's /usr/sbin/mosquitto) and
//   A  aedes (aedes.mjs, npm, installed on first use into .bench-peers/), the MQTT brokers the MQTT
//      cases compare Junction's built-in MQTT listener with; Junction runs those cases with an
//      `mqtt` transport added
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, connect as tcpConnect } from 'node:net';
import WebSocket from 'ws';
import { start, spawnTracked, spawnProgram, exited } from './children.mjs';
import { rssKiB, sleep, SETTLE_MS } from './proc.mjs';
import { ensurePeer, FOX_WAMP, AEDES } from './peers.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// JUNCTION_BENCH_CLI: another build of Junction's CLI to bench (default: this checkout's dist/bin/junction.cjs).
export const JUNCTION_CLI = process.env.JUNCTION_BENCH_CLI || join(ROOT, 'dist', 'bin', 'junction.cjs');
export const NAMES = { J: 'Junction', R: 'raw relay', F: 'fox-wamp', M: 'mosquitto', A: 'aedes', N: "Node's floor" };

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Junction's config; with `mqttPort`, plus a built-in MQTT listener (anonymous clients join realm1);
 * with `rlinks`, realm1's router links (entries as in the config file).
 */
export function junctionConfig(port, withQueue, mqttPort, telemetryCron, rlinks) {
  const realm = {
    name: 'realm1',
    roles: [{
      name: 'anonymous',
      permissions: [{
        uri: '', match: 'prefix',
        allow: { call: true, register: true, publish: true, subscribe: true },
        disclose: { caller: false, publisher: false },
        cache: true,
      }],
    }],
  };
  if (rlinks?.length) realm.rlinks = rlinks;
  if (withQueue) realm.store = { type: 'memory', 'call-queue': [{ uri: 'bench.', match: 'prefix', limit: 10000 }] };
  return {
    version: 2,
    ...(telemetryCron ? { telemetry: { realm: 'realm1', cron: telemetryCron } } : {}),
    workers: [{
      type: 'router',
      realms: [realm],
      transports: [
        // max_connections: the 1→1000 fan-out and the 1,000 idle sessions are over the default cap (500).
        { type: 'websocket', endpoint: { type: 'tcp', port, interface: '127.0.0.1', max_connections: 5000 }, serializers: ['json', 'msgpack', 'cbor'] },
        ...(mqttPort ? [{ type: 'mqtt', endpoint: { type: 'tcp', port: mqttPort, interface: '127.0.0.1', max_connections: 5000 }, options: { realm: 'realm1' } }] : []),
      ],
    }],
  };
}

/** mosquitto's path (JUNCTION_BENCH_MOSQUITTO=path to choose one), or undefined when it is not installed. */
export function mosquittoPath() {
  const chosen = process.env.JUNCTION_BENCH_MOSQUITTO;
  if (chosen) return existsSync(chosen) ? chosen : undefined;
  for (const dir of ['/usr/sbin', '/usr/local/sbin', ...(process.env.PATH ?? '').split(':')]) {
    if (dir && existsSync(join(dir, 'mosquitto'))) return join(dir, 'mosquitto');
  }
  return undefined;
}

/** Resolves once a TCP connection to 127.0.0.1:`port` opens; fails if `child` exits first. */
async function waitForTcp(port, child, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited(child)) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before listening: ${child.stderrTail?.trim() || 'no output'}`);
    const ok = await new Promise((resolve) => {
      const s = tcpConnect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/**
 * mosquitto on a free port with a generated config (anonymous, no persistence), as a router
 * object with `mqttUrl`. Throws when it is not installed or does not start.
 */
async function startMosquitto() {
  const file = mosquittoPath();
  if (!file) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  const port = await freePort();
  const config = join(mkdtempSync(join(tmpdir(), 'junction-bench-mosquitto-')), 'mosquitto.conf');
  writeFileSync(config, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', ''].join('\n'));
  const child = spawnProgram(file, ['-c', config]);
  try {
    await waitForTcp(port, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  await sleep(300);
  return { kind: 'M', port, mqttUrl: `mqtt://127.0.0.1:${port}`, pid: child.pid, child };
}

/** Resolves once a WebSocket (wamp.2.json) connection to `url` opens; fails if `child` exits first. */
async function waitForWebSocket(url, child, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited(child)) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before listening: ${child.stderrTail?.trim() || 'no output'}`);
    const ok = await new Promise((resolve) => {
      const ws = new WebSocket(url, 'wamp.2.json', { handshakeTimeout: 1000 });
      ws.once('open', () => { ws.terminate(); resolve(true); });
      ws.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`no WebSocket on ${url} within ${timeoutMs} ms`);
}

/** aedes in a forked process on a free port, as a router object with `mqttUrl`. */
async function startAedes(nodeArgs) {
  ensurePeer(AEDES);
  const port = await freePort();
  const child = await start('aedes.mjs', [String(port)], undefined, nodeArgs);
  await sleep(300);
  return { kind: 'A', port, mqttUrl: `mqtt://127.0.0.1:${port}`, pid: child.pid, child };
}

/** node-floor.mjs (memory case only): a bare Node TCP server answering CONNACK, as a router object with `mqttUrl`. */
async function startNodeFloor(nodeArgs) {
  const port = await freePort();
  const child = await start('node-floor.mjs', [String(port)], undefined, nodeArgs);
  await sleep(300);
  return { kind: 'N', port, mqttUrl: `mqtt://127.0.0.1:${port}`, pid: child.pid, child };
}

/**
 * Starts router `kind` (see NAMES). `nodeArgs`: node options for a Node router's process (J, A),
 * e.g. the V8 options of the MQTT memory case; mosquitto takes none. `rlinks`: Junction's router links.
 */
export async function startRouter(kind, { withQueue = false, mqtt = false, telemetryCron, nodeArgs = [], rlinks } = {}) {
  if (kind === 'M') return startMosquitto();
  if (kind === 'A') return startAedes(nodeArgs);
  if (kind === 'N') return startNodeFloor(nodeArgs);
  const port = await freePort();
  const mqttPort = kind === 'J' && mqtt ? await freePort() : undefined;
  const url = `ws://127.0.0.1:${port}/`;
  let child;
  if (kind === 'J') {
    if (!existsSync(JUNCTION_CLI)) throw new Error(`${JUNCTION_CLI} not found (npm run build)`);
    const file = join(mkdtempSync(join(tmpdir(), 'junction-bench-')), 'config.json');
    writeFileSync(file, JSON.stringify(junctionConfig(port, withQueue, mqttPort, telemetryCron, rlinks)));
    child = spawnTracked([...nodeArgs, ...CPU_PROFILE_ARGS, JUNCTION_CLI, 'start', '--config', file], { ...process.env, JUNCTION_LOG: 'warn' });
  } else {
    if (kind === 'F') ensurePeer(FOX_WAMP);
    child = await start(kind === 'R' ? 'relay.mjs' : 'fox.mjs', [String(port)]);
  }
  try {
    await waitForWebSocket(url, child);
    if (mqttPort) await waitForTcp(mqttPort, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  await sleep(300); // let start-up work (JIT, GC) settle before anything is measured
  return { kind, port, url, pid: child.pid, child, ...(mqttPort ? { mqttUrl: `mqtt://127.0.0.1:${mqttPort}` } : {}) };
}

/** JUNCTION_BENCH_CPU_PROFILE=dir: Junction runs under V8's profiler and is stopped with SIGTERM, so that it writes its profile there. */
const PROFILE_DIR = process.env.JUNCTION_BENCH_CPU_PROFILE;
const CPU_PROFILE_ARGS = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];

export function stopRouter(router) {
  if (exited(router.child)) return Promise.resolve();
  return new Promise((resolve) => { router.child.once('exit', resolve); router.child.kill(PROFILE_DIR ? 'SIGTERM' : 'SIGKILL'); });
}

/**
 * A bare `node -e "setInterval(()=>{},1e9)"`, the floor for any Node process. Started beside each
 * router whose memory is measured and read at the same moment, so both see the same page cache
 * and machine load (a bare node's RSS moves by ±1 MB from one minute to the next here).
 */
export function startBareNode() {
  const child = spawnTracked(['-e', 'setInterval(() => {}, 1e9)']);
  return { pid: child.pid, stop: () => child.kill('SIGKILL') };
}
