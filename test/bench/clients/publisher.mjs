// A publisher keeping `window` publications unacknowledged (PUBLISHED, or the relay's ack
// frame), so it runs as fast as the router accepts without filling buffers without bound.
import { connect } from './conn.mjs';

const [url, mode, topic, windowArg, durationArg, warmupArg] = process.argv.slice(2);
const wamp = mode === 'wamp';
const ws = await connect(url, { wamp });
let requestId = 0;
let running = true;
let counting = false;
let published = 0;
const payload = 'x'.repeat(32);

// The send time travels in the event (a wall clock with µs resolution, shared by the processes
// on this machine), so subscribers can measure delivery latency.
const now = () => performance.timeOrigin + performance.now();

function publish() {
  const id = ++requestId;
  ws.send(JSON.stringify([16, id, { acknowledge: true }, topic, [now(), payload]]));
}
ws.on('message', (d) => {
  if (wamp && JSON.parse(d)[0] !== 17) return;
  if (counting) published++;
  if (running) publish();
});
process.on('message', async (msg) => {
  if (msg === 'stop') process.exit(0);
  if (msg !== 'go') return;
  for (let i = 0; i < Number(windowArg); i++) publish();
  await new Promise((r) => setTimeout(r, Number(warmupArg)));
  counting = true;
  const t0 = Date.now();
  process.send('measuring');
  await new Promise((r) => setTimeout(r, Number(durationArg)));
  counting = false;
  running = false;
  process.send({ published, ms: Date.now() - t0 });
});
process.send('ready');
