// Opens `count` sessions (WAMP: HELLO/WELCOME; relay: plain connections) and keeps them idle.
import { connect } from './conn.mjs';

const [url, mode, countArg] = process.argv.slice(2);
const sockets = [];
const count = Number(countArg);
for (let i = 0; i < count; i += 50) {
  sockets.push(...await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => connect(url, { wamp: mode === 'wamp' }))));
}
process.on('message', (msg) => { if (msg === 'stop') process.exit(0); });
process.send('ready');
