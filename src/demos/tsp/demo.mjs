#!/usr/bin/env node
// `npm run demo:tsp`: the router (src/demos/tsp/junction.yaml), the orchestrator and two compute
// workers, each its own process; prints the page's URL and stays up until Ctrl-C.
//
//   npm run demo:tsp -- [--port 8080] [--workers 2] [--cores N] [--public] [--quiet]
//
// --cores: compute threads per worker (default: this machine's cores divided among the workers,
// at least 1, as if each worker were its own board). --public listens on 0.0.0.0 so workers on
// other machines can join: node src/demos/tsp/worker.mjs --url ws://THIS-HOST:8080/ws
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { startRouter, startOrchestrator, startWorker } from './cluster.mjs';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    workers: { type: 'string', default: '2' },
    cores: { type: 'string' },
    public: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});
const port = Number(opts.port);
const count = Math.max(0, Number(opts.workers) | 0);
const cores = Number(opts.cores) || Math.max(1, Math.floor(availableParallelism() / Math.max(1, count)));
const log = opts.quiet ? undefined : (line) => console.log(line);
const url = `ws://127.0.0.1:${port}/ws`;

let parts = [];
let stopping = false;
async function stop() {
  stopping = true;
  await Promise.all(parts.filter((p) => p.label !== 'router').map((p) => p.stop()));
  await Promise.all(parts.filter((p) => p.label === 'router').map((p) => p.stop()));
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

try {
  const router = await startRouter({ port, iface: opts.public ? '0.0.0.0' : '127.0.0.1', log });
  parts.push(router);
  parts.push(await startOrchestrator(url, { log }));
  for (let i = 1; i <= count; i++) parts.push(await startWorker(url, { name: `worker-${i}`, cores, log }));
} catch (err) {
  console.error(`demo:tsp: ${err.message}`);
  await Promise.all(parts.map((p) => p.stop()));
  process.exit(1);
}
for (const p of parts) {
  p.exited.then((code) => { if (!stopping) console.error(`${p.label} exited (${code})`); });
}

console.log(`
TSP demo running: router, orchestrator, ${count} worker${count === 1 ? '' : 's'} × ${cores} core${cores === 1 ? '' : 's'}
  open   http://127.0.0.1:${port}/tsp/        (status dashboard: http://127.0.0.1:${port}/)
  more workers:  node src/demos/tsp/worker.mjs --url ${opts.public ? `ws://<this host>:${port}/ws` : url}
  Ctrl-C stops everything.
`);
