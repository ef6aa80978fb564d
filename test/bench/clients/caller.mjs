// An RPC caller keeping `outstanding` calls in flight, each with a small payload [i, 'x'×32].
// On 'go' it warms up, says 'measuring', counts completed calls and their latency for
// `durationMs`, then reports. Modes as in callee.mjs.
import { connect, close } from './raw.mjs';
import { open } from './autobahn.mjs';
import { serve, percentile, sleep, measuringWindow } from './ipc.mjs';

const [url, mode, procedure, outstandingArg, durationArg, warmupArg] = process.argv.slice(2);
const payload = 'x'.repeat(32);
let counting = false;
let running = true;
let done = 0;
let failed = 0;
const latencies = [];

function completed(t0, ok) {
  if (counting) {
    if (ok) { done++; latencies.push(Number(process.hrtime.bigint() - t0) / 1000); } else failed++;
  }
  if (running) fire();
}

let fire;
let shutdown;
if (mode === 'autobahn') {
  const { session, close: bye } = await open(url);
  let i = 0;
  fire = () => {
    const t0 = process.hrtime.bigint();
    session.call(procedure, [++i, payload]).then(() => completed(t0, true), () => completed(t0, false));
  };
  shutdown = bye;
} else {
  // One frame per call; the answer (RESULT, or ERROR in WAMP) carries the request id.
  const ws = await connect(url, { wamp: mode === 'light' });
  const started = new Map();
  let requestId = 0;
  fire = () => {
    const id = ++requestId;
    started.set(id, process.hrtime.bigint());
    ws.send(JSON.stringify([48, id, {}, procedure, [id, payload]]));
  };
  ws.on('message', (d) => {
    const m = JSON.parse(d);
    if (m[0] !== 50 && m[0] !== 8) return;
    const id = m[0] === 50 ? m[1] : m[2];
    const t0 = started.get(id);
    if (t0 === undefined) return;
    started.delete(id);
    completed(t0, m[0] === 50);
  });
  shutdown = () => close(ws);
}

serve({
  async go() {
    for (let i = 0; i < Number(outstandingArg); i++) fire();
    const ms = await measuringWindow(Number(warmupArg), Number(durationArg), (on) => { counting = on; });
    running = false;
    latencies.sort((a, b) => a - b);
    return { done, failed, ms, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  },
}, async () => { running = false; await sleep(200); await shutdown(); });
