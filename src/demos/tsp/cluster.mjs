// Starts the TSP demo's processes: a Junction router (dist/bin/junction.cjs with junction.yaml, its port
// adjusted), the orchestrator and compute workers, each its own process. Used by demo.mjs,
// benchmark.mjs and the tests.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = join(ROOT, 'dist/bin/junction.cjs');
export const WORKER = join(HERE, 'worker.mjs');
export const ORCHESTRATOR = join(HERE, 'orchestrator.mjs');

const children = new Set();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** junction.yaml with another port/interface and the page directory made absolute, in a temp dir. */
export function writeConfig({ port = 8080, iface = '127.0.0.1' } = {}) {
  const config = YAML.parse(readFileSync(join(HERE, 'junction.yaml'), 'utf8'));
  const transport = config.workers[0].transports[0];
  transport.endpoint.port = port;
  transport.endpoint.interface = iface;
  transport.web.paths.tsp.directory = join(HERE, 'web');
  const dir = mkdtempSync(join(tmpdir(), 'junction-tsp-'));
  const file = join(dir, 'junction.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return { file, dir };
}

/**
 * Spawns `node script args`, resolves once its output contains `ready` (a string). Output lines
 * go to `log(line)` when given. The handle's kill() sends SIGKILL, stop() SIGTERM and waits.
 */
export function startProcess(label, script, args, { ready, log, env } = {}) {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.add(child);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => { children.delete(child); resolve(code ?? signal); }));
  let output = '';
  const handle = {
    label,
    child,
    pid: child.pid,
    exited,
    get output() { return output; },
    kill() { child.kill('SIGKILL'); return exited; },
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} not ready after 20 s:\n${output}`)), 20_000);
    let buffered = '';
    const onData = (d) => {
      const text = d.toString();
      output += text;
      if (output.length > 200_000) output = output.slice(-100_000);
      if (log) {
        buffered += text;
        const lines = buffered.split('\n');
        buffered = lines.pop();
        for (const l of lines) log(`[${label}] ${l}`);
      }
      if (ready && output.includes(ready)) { clearTimeout(timer); resolve(handle); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then((code) => { clearTimeout(timer); reject(new Error(`${label} exited (${code}) before it was ready:\n${output}`)); });
    if (!ready) { clearTimeout(timer); resolve(handle); }
  });
}

function waitForPort(port, ms = 15_000) {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(); });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > until) reject(new Error(`nothing listens on port ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export async function startRouter({ port, iface, log } = {}) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  const { file, dir } = writeConfig({ port, iface });
  const router = await startProcess('router', CLI, ['start', '--config', file], { log });
  router.exited.then(() => rmSync(dir, { recursive: true, force: true }));
  await Promise.race([waitForPort(port), router.exited.then((c) => { throw new Error(`router exited (${c}):\n${router.output}`); })]);
  return router;
}

export function startWorker(url, { name, cores, log } = {}) {
  const args = ['--url', url];
  if (name) args.push('--name', name);
  if (cores) args.push('--cores', String(cores));
  return startProcess(`worker ${name ?? ''}`.trim(), WORKER, args, { ready: 'READY', log });
}

export function startOrchestrator(url, { log, roundMs } = {}) {
  const args = ['--url', url];
  if (roundMs) args.push('--round-ms', String(roundMs));
  return startProcess('orchestrator', ORCHESTRATOR, args, { ready: 'READY', log });
}

/** Router, orchestrator and `workers` compute workers with `cores` threads each. */
export async function startCluster({ port, workers = 2, cores = 1, log, roundMs } = {}) {
  port ??= await freePort();
  const url = `ws://127.0.0.1:${port}/ws`;
  const router = await startRouter({ port, log });
  const orchestrator = await startOrchestrator(url, { log, roundMs });
  const ws = await Promise.all(Array.from({ length: workers }, (_, i) => startWorker(url, { name: `worker-${i + 1}`, cores, log })));
  return {
    port, url, router, orchestrator, workers: ws,
    page: `http://127.0.0.1:${port}/tsp/`,
    async stop() {
      await Promise.all([...ws.map((w) => w.stop()), orchestrator.stop()]);
      await router.stop();
    },
  };
}
