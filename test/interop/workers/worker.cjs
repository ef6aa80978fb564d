// A microservice instance for scale-out tests: an Autobahn|JS callee in its own process.
// It registers one procedure with the given invoke policy and concurrency, and fails any call
// that would exceed that concurrency (so the router's limit is checked by the callee itself).
//
//   node worker.cjs <url> <realm> <procedure> <name> <invoke> <concurrency|0> <delayMs> <cpuMs>
//
// Prints "READY" once registered. Each call returns { worker, running, started, ended } (running:
// calls in progress including this one; started/ended: Date.now() around the work).
const autobahn = require('autobahn');

const [url, realm, procedure, name, invoke, concurrencyArg, delayArg, cpuArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const delayMs = Number(delayArg);
const cpuMs = Number(cpuArg);
let running = 0;

function burn(ms) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1);
  return x;
}

const connection = new autobahn.Connection({ url, realm, max_retries: 0 });
connection.onopen = (session) => {
  const options = { invoke };
  if (concurrency > 0) options.concurrency = concurrency;
  session.register(procedure, async () => {
    running++;
    const now = running;
    const started = Date.now();
    try {
      if (concurrency > 0 && now > concurrency) throw new autobahn.Error('test.error.overloaded', [name, now]);
      if (cpuMs > 0) burn(cpuMs);
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      return { worker: name, running: now, started, ended: Date.now() };
    } finally {
      running--;
    }
  }, options).then(
    () => process.stdout.write('READY\n'),
    (err) => { process.stderr.write(`register failed: ${JSON.stringify(err)}\n`); process.exit(2); },
  );
};
connection.onclose = () => { process.exit(0); };
connection.open();
