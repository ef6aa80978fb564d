// Autobahn|JS's Node RawSocket client in a process of its own (so a test can stop and continue it
// with SIGSTOP/SIGCONT, as a busy or descheduled client is): subscribes to a topic and prints one
// JSON line per thing it sees — joined, subscribed, event, closed — retrying forever.
//
//   node autobahn-rawsocket-subscriber.cjs PORT TOPIC
const autobahn = require('autobahn');

const [port, topic] = process.argv.slice(2);
const say = (what) => process.stdout.write(`${JSON.stringify(what)}\n`);
const connection = new autobahn.Connection({
  transports: [{ type: 'rawsocket', host: '127.0.0.1', port: Number(port) }],
  realm: 'realm1',
  max_retries: -1,
  initial_retry_delay: 0.2,
});
connection.onopen = (session) => {
  say({ joined: true });
  session.subscribe(topic, (args) => say({ event: args[0] })).then(() => say({ subscribed: true }));
};
connection.onclose = (reason) => {
  say({ closed: reason });
};
connection.open();
