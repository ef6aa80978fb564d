// `count` subscriber sessions in this process, each subscribed to `topic`; reports how many
// events they received in total (on 'report').
import { connect, request } from './conn.mjs';

const [url, mode, topic, countArg] = process.argv.slice(2);
const wamp = mode === 'wamp';
let received = 0;
const sockets = [];
for (let i = 0; i < Number(countArg); i++) {
  const ws = await connect(url, { wamp });
  if (wamp) await request(ws, [32, 1, {}, topic], [33, 8]);
  ws.on('message', () => { received++; });
  sockets.push(ws);
}
process.on('message', (msg) => {
  if (msg === 'report') process.send({ received });
  if (msg === 'stop') process.exit(0);
});
process.send('ready');
