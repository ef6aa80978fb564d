// An RPC callee: registers `procedure` (options as JSON) and echoes each call's args.
// In relay mode it answers every frame with a RESULT-shaped frame. Reports its call count.
import { connect } from './conn.mjs';

const [url, mode, procedure, optionsJson] = process.argv.slice(2);
const wamp = mode === 'wamp';
const ws = await connect(url, { wamp });
let calls = 0;
if (wamp) {
  ws.send(JSON.stringify([64, 1, JSON.parse(optionsJson || '{}'), procedure]));
  await new Promise((resolve) => ws.once('message', resolve));
}
ws.on('message', (d) => {
  const m = JSON.parse(d);
  if (wamp) {
    if (m[0] !== 68) return;
    calls++;
    ws.send(JSON.stringify([70, m[1], {}, m[4] ?? []]));
  } else {
    calls++;
    ws.send(JSON.stringify([50, m[1], {}, m[4] ?? []]));
  }
});
process.on('message', (msg) => {
  if (msg === 'report') process.send({ calls });
  if (msg === 'stop') process.exit(0);
});
process.send('ready');
