// The three targets, each in its own process so its pid is known for /proc readings:
//   J  Junction: `node dist/cli.js start --config FILE` (Crossbar-format JSON), when built
//   R  the raw relay (relay.mjs): forwards frames unparsed, the ceiling for a Node router
//   F  fox-wamp (fox.mjs), a peer Node WAMP router
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import WebSocket from 'ws';
import { start, spawnTracked, exited } from './children.mjs';
import { rssKiB, sleep, SETTLE_MS } from './proc.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// JUNCTION_BENCH_CLI: another build of Junction's CLI to bench (default: this checkout's dist/cli.js).
export const JUNCTION_CLI = process.env.JUNCTION_BENCH_CLI || join(ROOT, 'dist', 'cli.js');
export const NAMES = { J: 'Junction', R: 'raw relay', F: 'fox-wamp' };

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function junctionConfig(port, withQueue) {
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
  if (withQueue) realm.store = { type: 'memory', 'call-queue': [{ uri: 'bench.', match: 'prefix', limit: 10000 }] };
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [realm],
      transports: [{ type: 'websocket', endpoint: { type: 'tcp', port, interface: '127.0.0.1' }, serializers: ['json', 'msgpack', 'cbor'] }],
    }],
  };
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

export async function startRouter(kind, { withQueue = false } = {}) {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}/`;
  let child;
  if (kind === 'J') {
    if (!existsSync(JUNCTION_CLI)) throw new Error(`${JUNCTION_CLI} not found (npm run build)`);
    const file = join(mkdtempSync(join(tmpdir(), 'junction-bench-')), 'config.json');
    writeFileSync(file, JSON.stringify(junctionConfig(port, withQueue)));
    child = spawnTracked([JUNCTION_CLI, 'start', '--config', file], { ...process.env, JUNCTION_LOG: 'warn' });
  } else {
    child = await start(kind === 'R' ? 'relay.mjs' : 'fox.mjs', [String(port)]);
  }
  try {
    await waitForWebSocket(url, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  await sleep(300); // let start-up work (JIT, GC) settle before anything is measured
  return { kind, port, url, pid: child.pid, child };
}

export function stopRouter(router) {
  if (exited(router.child)) return Promise.resolve();
  return new Promise((resolve) => { router.child.once('exit', resolve); router.child.kill('SIGKILL'); });
}

/** RSS of a bare `node -e "setInterval(()=>{},1e9)"`, the floor for any Node process. */
export async function bareNodeRss() {
  const child = spawnTracked(['-e', 'setInterval(() => {}, 1e9)']);
  await sleep(SETTLE_MS);
  const rss = rssKiB(child.pid);
  child.kill('SIGKILL');
  return rss;
}
