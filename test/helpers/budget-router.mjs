// A Junction from dist/ (the built library, as the CLI runs it) in a child process of its own, for
// the whole-router budget tests: it reports its listeners' ports once ready, then, on request over
// IPC, its resident memory (now and the highest seen) and its event loop's delay, measured inside
// the router's own process with perf_hooks.monitorEventLoopDelay.
//
//   node test/helpers/budget-router.mjs CONFIG_FILE      (started with an IPC channel: fork())

import { monitorEventLoopDelay } from 'node:perf_hooks';

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
process.on('message', (request) => {
  if (request === 'stats') {
    sampleRss();
    process.send({
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
