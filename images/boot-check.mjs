// Checks a booted Junction image from outside, through forwarded ports (used by images/boot-test.sh).
//   node images/boot-check.mjs --wamp 18080 --mqtt 11883 --since <epoch ms> [--ticket T --authid A] [--timeout 600]
// With a ticket: waits until a WAMP call (wamp.session.count) is answered, subscribes to a topic,
// publishes to it over MQTT with mosquitto_pub (QoS 1, same credentials) and waits for the event;
// then checks that anonymous WAMP and MQTT clients are refused.
// Without a ticket (generated-credentials image): waits until the router answers a HELLO and checks
// that anonymous WAMP and MQTT clients are refused.
// Prints one JSON line with the times, measured from --since (the moment qemu was started).
import { joinRealm } from './wamp-join.mjs';
import { spawn } from 'node:child_process';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : 'true']);
  return acc;
}, []));
const wampPort = Number(args.wamp ?? 18080);
const mqttPort = Number(args.mqtt ?? 11883);
const since = Number(args.since ?? Date.now());
const timeoutMs = Number(args.timeout ?? 600) * 1000;
const realm = args.realm ?? 'realm1';
const ticket = args.ticket;
const authid = args.authid ?? 'tester';
const topic = args.topic ?? 'boot/test';
const join = (auth) => joinRealm({ port: wampPort, realm, auth });
const log = (...m) => console.error(`[boot-check +${((Date.now() - since) / 1000).toFixed(1)}s]`, ...m);

function mosquittoPub(withAuth) {
  return new Promise((resolve) => {
    const a = ['-h', '127.0.0.1', '-p', String(mqttPort), '-t', topic, '-m', '{"args":["hello from mqtt"]}', '-q', '1', '-i', `boot-check-${withAuth ? 'auth' : 'anon'}`];
    if (withAuth) a.push('-u', authid, '-P', ticket);
    const p = spawn('mosquitto_pub', a, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => p.kill(), 15_000);
    p.on('close', (code) => { clearTimeout(t); resolve({ code, err: err.trim() }); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const result = { mode: ticket ? 'ticket' : 'generated' };
let session;
for (;;) {
  if (Date.now() - since > timeoutMs) { result.error = 'timed out waiting for the router'; console.log(JSON.stringify(result)); process.exit(1); }
  try {
    if (ticket) {
      session = await join({ authid, ticket });
      const count = await session.call('wamp.session.count');
      result.first_call_answered_s = (Date.now() - since) / 1000;
      result.session_count = count[0];
      log('WAMP call answered:', JSON.stringify(count));
    } else {
      await join(null);
      result.error = 'an anonymous client was let in';
      console.log(JSON.stringify(result)); process.exit(1);
    }
    break;
  } catch (e) {
    if (!ticket && e.abort) { result.first_answer_s = (Date.now() - since) / 1000; result.anonymous_wamp = `refused (${e.abort})`; log('anonymous HELLO refused:', e.abort); break; }
    if (e.abort) { result.error = `login refused: ${e.abort}`; console.log(JSON.stringify(result)); process.exit(1); }
    await sleep(1000);
  }
}

let ok = true;
if (ticket) {
  const got = new Promise((resolve) => session.subscribe(topic.replaceAll('/', '.'), (a) => resolve(a)));
  await sleep(300);
  const pub = await mosquittoPub(true);
  result.mqtt_publish = pub.code === 0 ? 'acknowledged (QoS 1)' : `failed: ${pub.err}`;
  const event = await Promise.race([got, sleep(10_000).then(() => null)]);
  result.mqtt_to_wamp_event = event ? JSON.stringify(event) : 'not received';
  result.first_mqtt_publish_s = (Date.now() - since) / 1000;
  ok = pub.code === 0 && event !== null;
  session.close();
  try { await join(null); result.anonymous_wamp = 'ADMITTED'; ok = false; } catch (e) { result.anonymous_wamp = `refused (${e.abort ?? e.message})`; }
}
const anon = await mosquittoPub(false);
result.anonymous_mqtt = anon.code === 0 ? 'ADMITTED' : `refused (${anon.err || `exit ${anon.code}`})`;
if (anon.code === 0) ok = false;
console.log(JSON.stringify(result));
process.exit(ok ? 0 : 1);
