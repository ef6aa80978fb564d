// Opens `count` idle sessions, 50 at a time: WAMP JSON HELLO, then wait for WELCOME (for the
// relay, plain WebSocket connections). Keeps them open until told to stop.
import { connect, close } from './raw.mjs';
import { serve } from './ipc.mjs';

const [url, mode, countArg] = process.argv.slice(2);
const count = Number(countArg);
const sockets = [];
for (let i = 0; i < count; i += 50) {
  const batch = Array.from({ length: Math.min(50, count - i) }, () => connect(url, { wamp: mode !== 'relay' }));
  sockets.push(...await Promise.all(batch));
}
serve({ count: () => ({ open: sockets.filter((ws) => ws.readyState === 1).length }) }, () => Promise.all(sockets.map(close)));
