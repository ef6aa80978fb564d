// The running-service half of `boot-test.sh --upgrade`, run once the booted image answered a call:
//   node images/upgrade-check.mjs AGENT_SOCKET WAMP_PORT MQTT_PORT TICKET VERSION_N VERSION_N+1
// Connects clients from outside as an application would (Autobahn|JS subscriber and caller that
// retry forever; an MQTT client with a persistent session and a QoS 1 subscription), then has the
// guest's agent (images/upgrade/agent.sh) `dpkg -i` the package of version N+1, then of version N
// again (a downgrade). After each: the service runs the new version in a new process, config,
// credentials and state files are unchanged, every client is back on its own, and the MQTT client
// resumes its session (session present) and gets the QoS 1 message published for it while it was
// away, just before the install (the listener's session_file carried it over). Prints, per
// install, how long each client saw the router gone, and one JSON line; exits 1 on a failed check.
import { createConnection } from 'node:net';
import autobahn from 'autobahn';
import mqtt from 'mqtt';

const [agentSocket, wampPort, mqttPort, ticket, versionN, versionNext] = process.argv.slice(2);
// Autobahn|JS logs every lost connection and retry on stdout, where the result line goes.
const print = console.log;
console.log = () => {};
console.warn = () => {};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (...m) => console.error('[upgrade-check]', ...m);

/** The guest's agent: one command at a time, answered by lines ending in "agent: done rc=N". */
const agentLink = await new Promise((resolve, reject) => {
  const s = createConnection(agentSocket, () => resolve(s));
  s.on('error', reject);
});
let agentText = '';
let agentWaiter = null;
let agentShown = 0;
agentLink.on('data', (d) => {
  agentText += d;
  agentWaiter?.();
  // dpkg's lines as they come (install only).
  if (agentEcho) for (const line of agentText.slice(agentShown).split('\n').slice(0, -1)) say(`  ${line}`);
  agentShown = agentText.lastIndexOf('\n') + 1;
});
let agentEcho = false;
async function agent(command, timeoutMs = 600_000) {
  agentText = '';
  agentShown = 0;
  agentEcho = command.startsWith('install');
  agentLink.write(`${command}\n`);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const done = /agent: done rc=(\d+)\n/.exec(agentText);
    if (done) {
      const lines = agentText.slice(0, done.index).split('\n').filter(Boolean).map((l) => l.replace(/^agent: /, ''));
      return { rc: Number(done[1]), lines };
    }
    if (Date.now() > until) throw new Error(`agent: no answer to '${command}'`);
    await new Promise((r) => { agentWaiter = r; setTimeout(r, 500); });
  }
}
async function guestState() {
  const { lines } = await agent('state');
  const version = /^version .*?(\d+\.\d+\.\d+\S*)/.exec(lines[0] ?? '')?.[1];
  const mainPid = /MainPID=(\d+)/.exec(lines[1] ?? '')?.[1];
  const active = /ActiveState=(\S+)/.exec(lines[1] ?? '')?.[1];
  return { version, mainPid, active, files: lines.slice(2).join('\n') };
}

// ---- WAMP clients: retry forever, subscribe again on every join (README, "restart").
const wampOptions = {
  url: `ws://127.0.0.1:${wampPort}/ws`, realm: 'realm1', authmethods: ['ticket'], authid: 'tester',
  onchallenge: () => ticket, max_retries: -1, initial_retry_delay: 0.3, max_retry_delay: 1,
};
const since = Date.now();
const event = (what) => say(`+${((Date.now() - since) / 1000).toFixed(1)}s ${what}`);
const ticks = [];      // when the subscriber received an event
const answers = [];    // when the caller's call was answered
let caller = null;
const subscriber = new autobahn.Connection(wampOptions);
let subscribed = false;
subscriber.onopen = (session) => { event('subscriber joined'); subscribed = true; session.subscribe('upgrade.tick', () => ticks.push(Date.now())); };
subscriber.onclose = (reason) => { if (subscribed) event(`subscriber lost its session (${reason})`); subscribed = false; };
subscriber.open();
const callerConnection = new autobahn.Connection(wampOptions);
callerConnection.onopen = (session) => { event('caller joined'); caller = session; };
callerConnection.onclose = (reason) => { if (caller) event(`caller lost its session (${reason})`); caller = null; };
callerConnection.open();
let running = true;
const pulse = (async () => {
  while (running) {
    const session = caller;
    if (session) {
      try {
        // A call pending when the connection drops may never settle: give each 2 s.
        await Promise.race([session.call('wamp.session.count'), sleep(2000).then(() => { throw new Error('no answer'); })]);
        answers.push(Date.now());
        await Promise.race([session.publish('upgrade.tick', [], {}, { acknowledge: true }), sleep(2000)]);
      } catch { /* the router is going away: the next join goes on */ }
    }
    await sleep(100);
  }
})();

// ---- MQTT: a persistent session (clean=false) with a QoS 1 subscription, and a publisher.
const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
const mqttAuth = { username: 'tester', password: ticket, reconnectPeriod: 300, connectTimeout: 5000, protocolVersion: 4 };
const mqttReceived = [];
function mqttSubscriber() {
  return within('the MQTT client connects', 60_000, new Promise((resolve, reject) => {
    const c = mqtt.connect(mqttUrl, { ...mqttAuth, clientId: 'upgrade-sub', clean: false });
    c.on('message', (_topic, payload) => mqttReceived.push({ at: Date.now(), text: String(payload) }));
    c.once('connect', (connack) => {
      if (connack.sessionPresent) return resolve({ client: c, sessionPresent: true });
      c.subscribe('upgrade/mqtt', { qos: 1 }, (err) => (err ? reject(err) : resolve({ client: c, sessionPresent: false })));
    });
    c.once('error', reject);
  }));
}
/** `promise`, or a failure naming `what` after `ms`. */
function within(what, ms, promise) {
  return Promise.race([promise, sleep(ms).then(() => { throw new Error(`not within ${ms / 1000} s: ${what}`); })]);
}
const publisher = mqtt.connect(mqttUrl, { ...mqttAuth, clientId: 'upgrade-pub', clean: true });
const mqttPublish = (text) => within(`the QoS 1 publish of '${text}' is acknowledged`, 60_000,
  new Promise((resolve, reject) => publisher.publish('upgrade/mqtt', text, { qos: 1 }, (e) => (e ? reject(e) : resolve()))));
async function until(what, check, ms = 120_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${ms / 1000} s: ${what}`);
    await sleep(100);
  }
}
/** The longest time between two successive entries of `times` within [from, to]. */
function longestGap(times, from, to) {
  const inside = [from, ...times.filter((t) => t > from && t < to), to];
  let gap = 0;
  for (let i = 1; i < inside.length; i++) gap = Math.max(gap, inside[i] - inside[i - 1]);
  return gap / 1000;
}

// The persistent MQTT sessions' file changes with what it keeps (the message queued while the client
// was away): it must be there after each install, not unchanged.
const SESSION_FILE = '/var/lib/junction/mqtt-sessions.json';
const keptUnchanged = (files) => files.split('\n').filter((line) => !line.includes(SESSION_FILE)).join('\n'); // and its .tmp, if a write was under way

const result = { installs: [] };
let ok = true;
const check = (name, pass, detail) => { if (!pass) { ok = false; say(`FAILED: ${name}`, detail ?? ''); } return pass; };
try {
  await until('the WAMP clients joined and an event came back', () => ticks.length > 3 && answers.length > 3);
  let sub = await mqttSubscriber();
  const before = await guestState();
  check(`version ${versionN} installed at first`, before.version === versionN, before.version);
  say(`running ${before.version}, pid ${before.mainPid}; clients connected`);
  let previous = before;
  for (const [file, expected] of [[`junction_${versionNext}_arm64.deb`, versionNext], [`junction_${versionN}_arm64.deb`, versionN]]) {
    const step = { install: file };
    // The MQTT client goes offline; a QoS 1 message is published for it meanwhile.
    await new Promise((r) => sub.client.end(false, r));
    const offlineText = `while offline, before ${file}`;
    await mqttPublish(offlineText);
    const started = Date.now();
    event(`dpkg -i ${file}`);
    const install = await agent(`install ${file}`);
    step.dpkg_s = (Date.now() - started) / 1000;
    check(`dpkg -i ${file}`, install.rc === 0, install.lines.slice(-5).join('\n'));
    event(`dpkg -i returned ${install.rc}`);
    const after = await guestState();
    step.version = after.version;
    check(`${file}: the service runs version ${expected}`, after.version === expected && after.active === 'active', `${after.version} ${after.active}`);
    check(`${file}: the service was restarted`, after.mainPid !== previous.mainPid && after.mainPid !== '0', `${previous.mainPid} -> ${after.mainPid}`);
    check(`${file}: config, credentials and state files unchanged`, keptUnchanged(after.files) === keptUnchanged(before.files), `before:\n${before.files}\nafter:\n${after.files}`);
    check(`${file}: the MQTT session file is there`, after.files.includes(` ${SESSION_FILE}`), after.files);
    // The WAMP clients come back by themselves.
    const lastTick = ticks.length;
    await until(`${file}: the subscriber receives again`, () => ticks.length > lastTick + 3 && answers.at(-1) > started);
    const back = Date.now();
    event('the WAMP clients are back');
    step.wamp_caller_longest_gap_s = longestGap(answers, started, back);
    step.wamp_subscriber_longest_gap_s = longestGap(ticks, started, back);
    // The MQTT client reconnects with its session; then a live message must arrive.
    const offlineBefore = mqttReceived.length;
    sub = await mqttSubscriber();
    step.mqtt_session_present = sub.sessionPresent;
    event(`the MQTT client is back (session present: ${sub.sessionPresent})`);
    await sleep(3000);
    step.mqtt_offline_message = mqttReceived.slice(offlineBefore).some((m) => m.text === offlineText) ? 'delivered' : 'lost';
    check(`${file}: the MQTT client resumes its persistent session (CONNACK session present)`, sub.sessionPresent === true);
    check(`${file}: the QoS 1 message published while the MQTT client was away is delivered after the restart`, step.mqtt_offline_message === 'delivered');
    const liveText = `live, after ${file}`;
    await mqttPublish(liveText);
    await until(`${file}: the MQTT client receives a message published after the restart`, () => mqttReceived.some((m) => m.text === liveText), 15_000);
    say(`${file}: ${JSON.stringify(step)}`);
    result.installs.push(step);
    previous = after;
  }
} catch (e) {
  ok = false; result.error = String(e?.message ?? e);
}
if (!ok) {
  const { lines } = await agent('journal', 30_000).catch(() => ({ lines: ['(no answer)'] }));
  say(`the service's journal:\n${lines.join('\n')}`);
}
running = false;
await pulse;
result.ok = ok;
print(JSON.stringify(result));
process.exit(ok ? 0 : 1);
