// A Junction from dist/ (the built library, as the CLI runs it) in a child process of its own, for
// the whole-router budget tests: it reports its listeners' ports once ready, then, on request over
// IPC, its resident memory (now and the highest seen) and its event loop's delay, measured inside
// the router's own process with perf_hooks.monitorEventLoopDelay.
//
//   node test/helpers/budget-router.mjs CONFIG_FILE      (started with an IPC channel: fork())

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

// The control: an idle thread of this same process measuring its own event loop. What it sees is
// what the machine's load alone costs (on a shared 2-core machine, often tens of ms); what the
// router's loop sees beyond it is the router's own doing.
const control = new Worker(`
  const { parentPort } = require('node:worker_threads');
  const { monitorEventLoopDelay } = require('node:perf_hooks');
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  parentPort.on('message', (m) => {
    if (m === 'reset') return h.reset();
    parentPort.postMessage({ p99: h.percentile(99), max: h.max });
  });
`, { eval: true });
control.unref();
const controlStats = () => new Promise((resolve) => {
  control.once('message', resolve);
  control.postMessage('stats');
});

const { loadConfigFile, startNode } = await import(new URL('../../dist/index.js', import.meta.url).href);
const config = await loadConfigFile(process.argv[2]);
const node = await startNode(config);

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
let maxRss = 0;
/** process.memoryUsage() when RSS was highest: where the memory was (heap, Buffers). */
let atMax = {};
const sampleRss = () => {
  const rss = process.memoryUsage.rss();
  if (rss <= maxRss) return;
  maxRss = rss;
  const m = process.memoryUsage();
  atMax = { heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
};
setInterval(sampleRss, 100).unref();

const ms = (ns) => Math.round(ns / 1e5) / 10;
process.on('message', async (request) => {
  if (request === 'stats') {
    sampleRss();
    const idle = await controlStats();
    process.send({
      controlP99: ms(idle.p99),
      controlMax: ms(idle.max),
      type: 'stats',
      rss: process.memoryUsage.rss(),
      maxRss,
      atMax,
      delayP99: ms(delay.percentile(99)),
      delayMax: ms(delay.max),
      connections: node.router.sessionCount,
    });
  } else if (request === 'reset') {
    delay.reset();
    control.postMessage('reset');
    maxRss = 0;
    sampleRss();
    process.send({ type: 'reset' });
  } else if (request === 'stop') {
    void node.stop().then(() => process.exit(0));
  }
});

process.send({
  type: 'ready',
  listeners: node.listeners.map((l) => ({ id: l.config.id, port: l.address().port })),
});
