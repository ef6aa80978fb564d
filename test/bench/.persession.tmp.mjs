import { loadConfigFile, releaseConfigParser } from '/work/main/dist/config/load.js';
import { startNode } from '/work/main/dist/node.js';
import { WebSocket } from 'ws';
import { connect } from 'node:net';
const c = await loadConfigFile('/tmp/jb.json'); releaseConfigParser();
const node = await startNode(c);
const port = node.listeners[0].address().port;
const mode = process.argv[2];
const gc = globalThis.gc;
const settle = async () => { for (let i = 0; i < 5; i++) { gc(); await new Promise((r) => setTimeout(r, 200)); } };
await settle();
const before = process.memoryUsage();
const N = 1000; const keep = [];
for (let i = 0; i < N; i++) {
  if (mode === 'ws') {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, 'wamp.2.json');
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify([1, 'realm1', { roles: { caller: {}, subscriber: {} } }]));
    await new Promise((r) => ws.once('message', r));
    keep.push(ws);
  } else {
    const s = connect(port, '127.0.0.1'); await new Promise((r) => s.once('connect', r));
    s.write(Buffer.from([0x7f, 0xf1, 0, 0]));
    await new Promise((r) => s.once('data', r));
    const hello = Buffer.from(JSON.stringify([1, 'realm1', { roles: { caller: {}, subscriber: {} } }]));
    const h = Buffer.alloc(4); h.writeUInt32BE(hello.length); h[0] = 0;
    s.write(Buffer.concat([h, hello])); await new Promise((r) => s.once('data', r)); keep.push(s);
  }
}
await settle();
const after = process.memoryUsage();
// Both ends live in this process: the client side is measured alone to subtract it.
console.log(mode, 'heapUsed/session (both ends) KiB', ((after.heapUsed - before.heapUsed) / N / 1024).toFixed(2), 'external', ((after.external - before.external) / N / 1024).toFixed(2), 'rss', ((after.rss - before.rss) / N / 1024).toFixed(2));
process.exit(0);
