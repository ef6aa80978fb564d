// A publisher paced by two windows:
//  - at most `window` publications unacknowledged (WAMP acknowledge:true → PUBLISHED; the relay
//    sends a 1-byte ack frame), so it never outruns what the router accepts;
//  - at most DELIVERIES_AHEAD deliveries (publications × `subscribers`) ahead of the slowest
//    subscriber session, whose count the runner forwards ('delivered:N'). PUBLISHED only says
//    the router took the event: with subscribers slower than the router (fan-out),
//    acknowledgements alone let the router's outbound buffers grow for the whole case, and the
//    figures would measure buffering. With both, every router gets the same bounded backlog (so
//    the router CPU spent in the window matches the events delivered in it) and the case runs
//    at the rate the whole chain sustains.
// Each event's args[0] is its send time, for the subscribers' delivery latency.
// Modes 'mqtt0' and 'mqtt1' publish with mqtt.js at QoS 0 / 1 (`url` mqtt://…) the payload
// {"args": [sendTime, payload]}, which Junction's MQTT listener maps to the same args. QoS 1: at
// most `window` PUBACKs outstanding; QoS 0 has no acknowledgement, so only the deliveries-ahead
// bound (the optional last argument, default DELIVERIES_AHEAD) paces it.
import mqtt from 'mqtt';
import { connect, close } from './raw.mjs';
import { open } from './autobahn.mjs';
import { serve, now, measuringWindow } from './ipc.mjs';

const [url, mode, topic, windowArg, subscribersArg, durationArg, warmupArg, aheadArg] = process.argv.slice(2);
const WINDOW = Number(windowArg);
const DELIVERIES_AHEAD = Number(aheadArg) || 8192;
const MAX_AHEAD = Math.max(1, Math.floor(DELIVERIES_AHEAD / Number(subscribersArg))); // publications
const STALL_MS = 250; // a router that drops events must not stop the case: go on after this
const payload = 'x'.repeat(32);
let running = false;
let counting = false;
let published = 0; // acknowledged in the measuring window
let sent = 0;
let unacknowledged = 0;
let delivered = 0; // by the slowest subscriber session, plus what stalls wrote off
let reported = 0;
let writtenOff = 0;
let lastProgress = Date.now();
let stalls = 0;

const ahead = () => sent - delivered >= MAX_AHEAD;

function pump() {
  while (running && unacknowledged < WINDOW && !ahead()) {
    unacknowledged++;
    sent++;
    publish();
  }
}

function acknowledged() {
  unacknowledged--;
  if (counting) published++;
  pump();
}

process.on('message', (m) => {
  if (typeof m !== 'string' || !m.startsWith('delivered:')) return;
  reported = Number(m.slice(10));
  delivered = reported + writtenOff;
  lastProgress = Date.now();
  pump();
});

let publish;
let shutdown;
if (mode === 'autobahn') {
  const { session, close: bye } = await open(url);
  publish = () => session.publish(topic, [now(), payload], {}, { acknowledge: true }).then(acknowledged, acknowledged);
  shutdown = bye;
} else if (mode === 'mqtt0' || mode === 'mqtt1') {
  const client = await mqtt.connectAsync(url, { clean: true, reconnectPeriod: 0, connectTimeout: 15_000 });
  client.on('error', (err) => { console.error(`publisher: ${err.message}`); });
  const message = () => JSON.stringify({ args: [now(), payload] });
  if (mode === 'mqtt1') {
    publish = () => client.publish(topic, message(), { qos: 1 }, acknowledged);
  } else {
    // Written (or buffered) at once: counted as acknowledged without a callback, so that the loop
    // in pump() does not recurse through mqtt.js's synchronous QoS 0 callback.
    publish = () => { client.publish(topic, message(), { qos: 0 }); unacknowledged--; if (counting) published++; };
  }
  shutdown = () => client.endAsync();
} else {
  const ws = await connect(url, { wamp: mode === 'light' });
  let requestId = 0;
  publish = () => ws.send(JSON.stringify([16, ++requestId, { acknowledge: true }, topic, [now(), payload]]));
  ws.on('message', (d) => { if (mode !== 'light' || JSON.parse(d)[0] === 17) acknowledged(); });
  shutdown = () => close(ws);
}

const stallCheck = setInterval(() => {
  if (!running || !ahead() || Date.now() - lastProgress < STALL_MS) return;
  stalls++;
  writtenOff = sent - reported; // count everything outstanding as lost, and go on
  delivered = sent;
  lastProgress = Date.now();
  pump();
}, 50);

serve({
  async go() {
    running = true;
    pump();
    const ms = await measuringWindow(Number(warmupArg), Number(durationArg), (on) => { counting = on; });
    running = false;
    clearInterval(stallCheck);
    return { published, ms, stalls };
  },
}, async () => { running = false; await shutdown(); });
