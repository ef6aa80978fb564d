// `count` subscriber sessions in this process, each subscribed to `topic`. Reports the events
// they received in total, and delivery latency percentiles from every 16th event (EVENT args[0]
// is the publisher's send time; sampling keeps the relay's subscribers from parsing every frame).
// Every 2 ms it tells the runner how many events its slowest session has received
// ('delivered:N'), which the runner passes on to the publisher to pace it (see publisher.mjs).
// Modes 'mqtt' and 'mqtt1': mqtt.js sessions (`url` mqtt://…) subscribed to the MQTT topic (or
// filter) at QoS 0 / QoS 1 (mqtt.js acknowledges each delivery), payload {"args": [sendTime, …]}:
// the MQTT cases' subscribers, on Junction, mosquitto and aedes alike.
import mqtt from 'mqtt';
import { connect, request, close } from './raw.mjs';
import { open } from './autobahn.mjs';
import { serve, now, percentile } from './ipc.mjs';

const [url, mode, topic, countArg] = process.argv.slice(2);
const counts = [];
const latencies = [];
const closers = [];
let received = 0;

function sample(sent) {
  if (typeof sent === 'number') latencies.push((now() - sent) * 1000);
}

for (let i = 0; i < Number(countArg); i++) {
  counts.push(0);
  const got = () => { counts[i]++; return (++received & 15) === 0; };
  if (mode === 'autobahn') {
    const { session, close: bye } = await open(url);
    await session.subscribe(topic, (args) => { if (got()) sample(args?.[0]); });
    closers.push(bye);
  } else if (mode === 'mqtt' || mode === 'mqtt1') {
    const client = await mqtt.connectAsync(url, { clean: true, reconnectPeriod: 0, connectTimeout: 15_000 });
    client.on('error', (err) => { console.error(`subscriber: ${err.message}`); });
    client.on('message', (_topic, payload) => { if (got()) sample(JSON.parse(payload).args?.[0]); });
    await client.subscribeAsync(topic, { qos: mode === 'mqtt1' ? 1 : 0 });
    closers.push(() => client.endAsync());
  } else {
    const ws = await connect(url, { wamp: mode === 'light' });
    if (mode === 'light') await request(ws, [32, 1, {}, topic], [33, 8]);
    // EVENT [36, subscription, publication, details, args]; relay: the PUBLISH frame [16, id, {}, topic, args].
    ws.on('message', (d) => { if (got()) sample(JSON.parse(d)[4]?.[0]); });
    closers.push(() => close(ws));
  }
}

let told = -1;
setInterval(() => {
  const slowest = Math.min(...counts);
  if (slowest !== told) { told = slowest; process.send(`delivered:${slowest}`); }
}, 2);

serve({
  report() {
    const sorted = latencies.slice().sort((a, b) => a - b);
    return { received, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  },
  reset() { latencies.length = 0; },
}, () => Promise.all(closers.map((c) => c())));
