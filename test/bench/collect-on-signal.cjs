// Preloaded (node --expose-gc --require) into the Node brokers of the memory cases, never into
// Junction otherwise: on SIGUSR2 the process runs full garbage collections that also compact the
// heap (as V8's memory reducer does when it runs), so that its RSS is read once it holds what is
// live, whether or not V8 had chosen to collect after the last connects.
const v8 = require('node:v8');

process.on('SIGUSR2', () => {
  v8.setFlagsFromString('--compact-on-every-full-gc');
  globalThis.gc();
  globalThis.gc(); // what the first one's finalizers let go
});
