// An RPC callee: registers `procedure` (options as JSON) and answers each call with its args.
// Modes: 'autobahn' (Autobahn|JS), 'light' (hand-built WAMP frames), 'relay' (no WAMP: every
// frame is a CALL-shaped frame, answered with a RESULT-shaped one). Reports its call count.
import { connect, close } from './raw.mjs';
import { open, autobahn } from './autobahn.mjs';
import { serve } from './ipc.mjs';

const [url, mode, procedure, optionsJson] = process.argv.slice(2);
const options = JSON.parse(optionsJson || '{}');
let calls = 0;
let refused;
let shutdown;

if (mode === 'autobahn') {
  const { session, close: bye } = await open(url);
  // A refused registration (e.g. a router without shared registrations) is reported, not fatal.
  await session.register(procedure, (args) => { calls++; return new autobahn.Result(args); }, options)
    .catch((err) => { refused = `${err.error ?? err.message ?? err} ${JSON.stringify(err.args ?? [])}`; });
  shutdown = bye;
} else {
  const ws = await connect(url, { wamp: mode === 'light' });
  if (mode === 'light') {
    ws.send(JSON.stringify([64, 1, options, procedure]));
    const answer = await new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(d))));
    if (answer[0] !== 65) refused = JSON.stringify(answer);
  }
  // INVOCATION [68, request, registration, details, args] → YIELD; relay: CALL [48, request, {}, uri, args] → RESULT.
  const reply = mode === 'light' ? 70 : 50;
  ws.on('message', (d) => {
    const m = JSON.parse(d);
    if (mode === 'light' && m[0] !== 68) return;
    calls++;
    ws.send(JSON.stringify([reply, m[1], {}, m[4] ?? []]));
  });
  shutdown = () => close(ws);
}

serve({ report: () => ({ calls, refused }) }, shutdown);
