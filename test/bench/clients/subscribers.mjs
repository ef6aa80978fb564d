// `count` subscriber sessions in this process, each subscribed to `topic`; reports how many
// events they received in total (on 'report').
import { connect, request, percentile } from './conn.mjs';

const [url, mode, topic, countArg] = process.argv.slice(2);
const wamp = mode === 'wamp';
let received = 0;
const sockets = [];
// Latency of every 16th event (EVENT args[0] is the publisher's send time), to keep parsing cheap.
const latencies = [];
const now = () => performance.timeOrigin + performance.now();
for (let i = 0; i < Number(countArg); i++) {
  const ws = await connect(url, { wamp });
  if (wamp) await request(ws, [32, 1, {}, topic], [33, 8]);
  ws.on('message', (d) => {
    if ((++received & 15) !== 0) return;
    const m = JSON.parse(d);
    const sent = wamp ? m[4]?.[0] : m[4]?.[0];
    if (typeof sent === 'number') latencies.push((now() - sent) * 1000);
  });
  sockets.push(ws);
}
process.on('message', (msg) => {
  if (msg === 'report') {
    const sorted = latencies.slice().sort((a, b) => a - b);
    process.send({ received, p50: percentile(sorted, 50), p99: percentile(sorted, 99) });
  }
  if (msg === 'reset') latencies.length = 0;
  if (msg === 'stop') process.exit(0);
});
process.send('ready');
