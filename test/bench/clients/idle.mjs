// Opens `count` idle sessions, 50 at a time: WAMP JSON HELLO, then wait for WELCOME (for the
// relay, plain WebSocket connections; mode 'mqtt': mqtt.js clients, CONNECT then CONNACK, clean
// sessions with a keep-alive longer than the measurement). Keeps them open until told to stop.
import mqtt from 'mqtt';
import { connect, close } from './raw.mjs';
import { serve } from './ipc.mjs';

const [url, mode, countArg] = process.argv.slice(2);
const count = Number(countArg);
const sockets = [];
const open = mode === 'mqtt'
  ? () => mqtt.connectAsync(url, { clean: true, keepalive: 600, reconnectPeriod: 0, connectTimeout: 30_000 })
  : () => connect(url, { wamp: mode !== 'relay' });
for (let i = 0; i < count; i += 50) {
  sockets.push(...await Promise.all(Array.from({ length: Math.min(50, count - i) }, open)));
}
const isOpen = mode === 'mqtt' ? (client) => client.connected : (ws) => ws.readyState === 1;
const shut = mode === 'mqtt' ? (client) => client.endAsync() : close;
serve({ count: () => ({ open: sockets.filter(isOpen).length }) }, () => Promise.all(sockets.map(shut)));
