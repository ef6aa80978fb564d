// An RPC caller keeping `outstanding` calls in flight. On 'go' it warms up, says 'measuring',
// counts completed calls and their latency for `durationMs`, then reports.
import { connect, percentile } from './conn.mjs';

const [url, mode, procedure, outstandingArg, durationArg, warmupArg] = process.argv.slice(2);
const outstanding = Number(outstandingArg);
const ws = await connect(url, { wamp: mode === 'wamp' });
const started = new Map();
let requestId = 0;
let counting = false;
let running = true;
let done = 0;
const latencies = [];
const payload = 'x'.repeat(32);

function fire() {
  const id = ++requestId;
  started.set(id, process.hrtime.bigint());
  ws.send(JSON.stringify([48, id, {}, procedure, [id, payload]]));
}

ws.on('message', (d) => {
  const m = JSON.parse(d);
  if (m[0] !== 50 && m[0] !== 8) return;
  const id = m[0] === 50 ? m[1] : m[2];
  const t0 = started.get(id);
  started.delete(id);
  if (counting && t0 !== undefined) {
    done++;
    latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  if (running) fire();
});

process.on('message', async (msg) => {
  if (msg === 'stop') process.exit(0);
  if (msg !== 'go') return;
  for (let i = 0; i < outstanding; i++) fire();
  await new Promise((r) => setTimeout(r, Number(warmupArg)));
  counting = true;
  const t0 = Date.now();
  process.send('measuring');
  await new Promise((r) => setTimeout(r, Number(durationArg)));
  counting = false;
  running = false;
  const ms = Date.now() - t0;
  latencies.sort((a, b) => a - b);
  process.send({ done, ms, p50: percentile(latencies, 50), p99: percentile(latencies, 99) });
});
process.send('ready');
