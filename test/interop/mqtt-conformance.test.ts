// MQTT conformance of the built-in listener with clients nobody here wrote: Eclipse Paho for Python
// (Debian python3-paho-mqtt, MQTT 3.1.1 and 5), Debian's mosquitto_pub/mosquitto_sub (-V 31, 311,
// 5) and MQTT.js. Each test is named after the normative rules it checks (MQTT 3.1.1 numbering;
// MQTT 5 states the same rules). What the listener does beyond (MQTT 5 flow, expiry, shared
// subscriptions, ...) is tested in the files of those features.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import mqtt, { type MqttClient, type IClientOptions, type Packet } from 'mqtt';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { paho, startPaho, type PahoStep, type PahoVersion } from '../helpers/paho.js';
import { until } from '../helpers/until.js';
import type { ListenerConfig, MqttServiceConfig, RoleConfig } from '../../src/config/types.js';
import { MQTT_DEFAULTS } from '../../src/config/load-mqtt.js';

/** Everything allowed but subscribing under `private/` (publishing there is allowed). */
const ROLE: RoleConfig = {
  ...allowAll(),
  permissions: [...allowAll().permissions, {
    uri: 'private.', match: 'prefix', cache: true,
    allow: { call: false, register: false, publish: true, subscribe: false },
    disclose: { caller: false, publisher: false },
  }],
};

const MQTT: MqttServiceConfig = { ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '', payload: [{ prefix: '', type: 'native' }] };

/** mosquitto's -V for MQTT.js's protocol numbers. */
const MOSQUITTO_V: Record<PahoVersion, string> = { 3: 'mqttv31', 4: 'mqttv311', 5: 'mqttv5' };
const NAME: Record<PahoVersion, string> = { 3: '3.1', 4: '3.1.1', 5: '5' };

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

/** mosquitto_pub -V `version`, one message (an empty one when `payload` is undefined). */
function mosquittoPub(port: number, version: PahoVersion, topic: string, payload: string | undefined, qos: 0 | 1 | 2, extra: string[] = []): Promise<string> {
  return run('mosquitto_pub', ['-p', String(port), '-V', MOSQUITTO_V[version], '-q', String(qos), '-t', topic, ...(payload === undefined ? ['-n'] : ['-m', payload]), ...extra]);
}

/**
 * mosquitto_sub -V `version` on `filter` until it has `count` messages (or `waitS` seconds pass):
 * `subscribed` resolves on its SUBACK (its debug output), `lines` with 'QoS retain topic payload'
 * per message.
 */
function mosquittoSub(port: number, version: PahoVersion, filter: string, qos: 0 | 1 | 2, count: number, extra: string[] = [], waitS = 10) {
  // stdbuf: line-buffered output, else the SUBACK line comes only when mosquitto_sub exits (a pipe is block-buffered).
  const child = spawn('stdbuf', ['-oL', 'mosquitto_sub', '-p', String(port), '-V', MOSQUITTO_V[version], '-q', String(qos), '-t', filter, '-C', String(count),
    '-W', String(waitS), '-d', '-F', 'MSG %q %r %t %p', ...extra]);
  let out = '';
  let onSubscribed: () => void = () => {};
  const subscribed = new Promise<void>((resolve) => { onSubscribed = resolve; });
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (/received SUBACK/.test(out)) onSubscribed();
  });
  const lines = new Promise<string[]>((resolve) => child.once('close', () => {
    onSubscribed();
    resolve(out.split('\n').filter((l) => l.startsWith('MSG ')).map((l) => l.slice(4)));
  }));
  return { child, subscribed, lines, output: () => out };
}

async function mqttJs(port: number, options: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
}

function inbox(client: MqttClient) {
  const got: Array<{ topic: string; payload: string; qos: number; retain: boolean }> = [];
  client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }));
  return got;
}

/** The SUBACK's codes as sent, failures included (MQTT.js rejects a subscribe with a failure). */
function subackCodes(client: MqttClient, filters: Record<string, { qos: 0 | 1 | 2 }>): Promise<number[]> {
  return new Promise((resolve) => {
    const onPacket = (packet: Packet) => {
      if (packet.cmd !== 'suback') return;
      client.off('packetreceive', onPacket);
      resolve(packet.granted as number[]);
    };
    client.on('packetreceive', onPacket);
    client.subscribe(filters, () => {});
  });
}

// Each test runs several client processes one after another: more than the default 20 s on a loaded machine.
describe('MQTT conformance with Paho, mosquitto_pub/sub and MQTT.js', { timeout: 45_000 }, () => {
  let node: TestNode;
  let port: number;

  beforeAll(async () => {
    const listener: Partial<ListenerConfig> = { mqtt: MQTT };
    node = await startTestNode({
      listener,
      realms: [{ name: 'realm1', roles: [ROLE], store: { type: 'memory', limit: 100, callQueue: [], eventHistory: [] } }],
    });
    port = node.port;
  });
  afterAll(async () => {
    await node?.stop();
  });

  for (const version of [4, 5] as const) {
    it(`[MQTT-3.2.2-1] [MQTT-3.2.2-2] [MQTT-3.2.2-3] CONNACK accepts (0) with session present 0 for a clean session or when none is stored, 1 when a stored session resumes (paho, MQTT ${NAME[version]})`, async () => {
      const id = `conf-sp-${version}`;
      const persistent = { op: 'connect', client: 'c', id, version, clean: false, ...(version === 5 ? { session_expiry: 300 } : {}) } as const;
      const out = await paho(port, [
        { op: 'connect', client: 'c', id, version, clean: true },
        { op: 'disconnect', client: 'c' },
        persistent, // nothing stored: the clean session above ended with its connection
        { op: 'subscribe', client: 'c', filters: [[`conf/sp/${version}`, 1]] },
        { op: 'disconnect', client: 'c' },
        persistent,
        { op: 'disconnect', client: 'c' },
        { op: 'connect', client: 'c', id, version, clean: true },
        { op: 'disconnect', client: 'c' },
      ]);
      expect(out.connacks('c')).toEqual([false, false, true, false].map((present) => ({ rc: 0, session_present: present })));
    });
  }

  it('[MQTT-3.3.4-1] [MQTT-3.8.4-6] QoS 0, 1 and 2 from mosquitto_pub -V 31/311/5 reach a paho subscriber granted QoS 2 at their own QoS, and an MQTT.js subscriber granted QoS 1 at the lower of the two', async () => {
    const js = await mqttJs(port, { clientId: 'conf-qos-js' });
    const jsInbox = inbox(js);
    await js.subscribeAsync('conf/qos/in/#', { qos: 1 });
    const versions = [3, 4, 5] as const;
    const sent = versions.flatMap((v) => ([0, 1, 2] as const).map((qos) => ({ v, qos, topic: `conf/qos/in/${v}/q${qos}` })));
    // Paho at 3.1.1 and at 5: Debian's paho 1.6.1 stopped reading (its network thread crashed) on an
    // MQTT 5 PUBREL carrying reason code 0 and an empty property length (legal, [MQTT-3.6.2-1]);
    // Junction now sends the short form, as mosquitto does.
    const sub = startPaho(port, [
      { op: 'connect', client: 's', version: 4 },
      { op: 'connect', client: 't', version: 5 },
      { op: 'subscribe', client: 's', filters: [['conf/qos/in/#', 2]] },
      { op: 'subscribe', client: 't', filters: [['conf/qos/in/#', 2]] },
      { op: 'ready' },
      { op: 'expect', client: 's', count: sent.length },
      { op: 'expect', client: 't', count: sent.length },
    ]);
    await sub.ready;
    for (const { v, qos, topic } of sent) await mosquittoPub(port, v, topic, `m${qos}`, qos);
    const out = await sub.result;
    for (const client of ['s', 't']) {
      expect(out.subacks(client)).toEqual([[2]]);
      expect(out.messages(client).map((m) => [m.topic, m.payload, m.qos])).toEqual(sent.map(({ topic, qos }) => [topic, `m${qos}`, qos]));
    }
    await until(() => jsInbox.length >= sent.length);
    expect(jsInbox.map((m) => [m.topic, m.qos])).toEqual(sent.map(({ topic, qos }) => [topic, Math.min(qos, 1)]));
    await js.endAsync();
  });

  for (const version of [3, 4, 5] as const) {
    it(`[MQTT-3.3.4-1] [MQTT-3.8.4-6] QoS 0, 1 and 2 from paho (MQTT 3.1.1 and 5) reach mosquitto_sub -V ${MOSQUITTO_V[version]} granted QoS 2 at their own QoS`, async () => {
      const filter = `conf/qos/out/${version}/#`;
      const sub = mosquittoSub(port, version, filter, 2, 6);
      await sub.subscribed;
      const steps = ([4, 5] as const).flatMap((pv) => [
        { op: 'connect', client: `p${pv}`, version: pv } as const,
        ...([0, 1, 2] as const).map((qos) => ({ op: 'publish', client: `p${pv}`, topic: `conf/qos/out/${version}/p${pv}`, payload: `q${qos}`, qos }) as const),
        { op: 'disconnect', client: `p${pv}` } as const,
      ]);
      await paho(port, steps);
      expect(await sub.lines).toEqual([4, 5].flatMap((pv) => [0, 1, 2].map((qos) => `${qos} 0 conf/qos/out/${version}/p${pv} q${qos}`)));
    });
  }

  it('[MQTT-3.3.1-5] [MQTT-3.3.1-6] [MQTT-3.3.1-7] [MQTT-3.3.1-8] a retained message is kept, replaced by the next one (QoS 0 too), and sent with RETAIN 1 to each new subscriber: mosquitto_sub -V 31/311/5', async () => {
    await paho(port, [
      { op: 'connect', client: 'p', version: 4 },
      { op: 'publish', client: 'p', topic: 'conf/ret/set', payload: 'first', qos: 1, retain: true },
      { op: 'publish', client: 'p', topic: 'conf/ret/set', payload: 'second', qos: 0, retain: true },
      { op: 'disconnect', client: 'p' },
    ]);
    for (const version of [3, 4, 5] as const) {
      const sub = mosquittoSub(port, version, 'conf/ret/#', 1, 1);
      // The QoS it was stored with (0), RETAIN 1.
      expect(await sub.lines).toEqual(['0 1 conf/ret/set second']);
    }
  });

  for (const version of [4, 5] as const) {
    it(`[MQTT-3.3.1-9] a retained message published while a subscription exists reaches that subscriber with RETAIN 0 (paho, MQTT ${NAME[version]})`, async () => {
      const topic = `conf/ret/live/${version}`;
      const out = await paho(port, [
        { op: 'connect', client: 's', version },
        { op: 'subscribe', client: 's', filters: [[topic, 1]] },
        { op: 'connect', client: 'p', version },
        { op: 'publish', client: 'p', topic, payload: 'now', qos: 1, retain: true },
        { op: 'expect', client: 's', count: 1 },
        { op: 'publish', client: 'p', topic, payload: '', qos: 1, retain: true }, // leave nothing retained
        { op: 'disconnect', client: 'p' },
        { op: 'disconnect', client: 's' },
      ]);
      expect(out.messages('s')[0]).toEqual({ topic, payload: 'now', qos: 1, retain: false });
    });
  }

  it('[MQTT-3.3.1-10] [MQTT-3.3.1-11] a retained message with an empty payload (mosquitto_pub -r -n) reaches current subscribers as usual and clears the retained one: a later paho subscriber gets nothing', async () => {
    const topic = 'conf/ret/clear';
    await mosquittoPub(port, 4, topic, 'kept', 1, ['-r']);
    const live = startPaho(port, [
      { op: 'connect', client: 's', version: 4 },
      { op: 'subscribe', client: 's', filters: [[topic, 1]] },
      { op: 'expect', client: 's', count: 1 },
      { op: 'ready' },
      { op: 'expect', client: 's', count: 2 },
      { op: 'disconnect', client: 's' },
    ]);
    await live.ready;
    await mosquittoPub(port, 5, topic, undefined, 1, ['-r']);
    expect((await live.result).messages('s')).toEqual([{ topic, payload: 'kept', qos: 1, retain: true }, { topic, payload: '', qos: 1, retain: false }]);
    // A marker retained beside it: once the marker is in, the cleared topic's turn has passed.
    await mosquittoPub(port, 5, `${topic}-marker`, 'marker', 1, ['-r']);
    const after = await paho(port, [
      { op: 'connect', client: 's', version: 5 },
      { op: 'subscribe', client: 's', filters: [[topic, 1], [`${topic}-marker`, 1]] },
      { op: 'expect', client: 's', count: 1 },
      { op: 'sleep', seconds: 0.3 },
      { op: 'disconnect', client: 's' },
    ]);
    expect(after.messages('s')).toEqual([{ topic: `${topic}-marker`, payload: 'marker', qos: 1, retain: true }]);
    await mosquittoPub(port, 5, `${topic}-marker`, undefined, 1, ['-r']);
  });

  for (const version of [4, 5] as const) {
    it(`[MQTT-3.1.2-8] [MQTT-3.14.4-3] the will is published when the connection drops without DISCONNECT, and discarded after a DISCONNECT (paho, MQTT ${NAME[version]})`, async () => {
      const will = (name: string) => ({ topic: `conf/will/${version}/${name}`, payload: `${name} gone`, qos: 1 as const });
      const out = await paho(port, [
        { op: 'connect', client: 'watcher', version },
        { op: 'subscribe', client: 'watcher', filters: [[`conf/will/${version}/#`, 1]] },
        { op: 'connect', client: 'polite', version, will: will('polite') },
        { op: 'connect', client: 'dropped', version, will: will('dropped') },
        { op: 'disconnect', client: 'polite' },
        { op: 'drop', client: 'dropped' },
        { op: 'expect', client: 'watcher', count: 1 },
        { op: 'sleep', seconds: 0.3 },
        { op: 'disconnect', client: 'watcher' },
      ]);
      expect(out.messages('watcher')).toEqual([{ ...will('dropped'), retain: false }]);
    });
  }

  it('[MQTT-3.1.2-8] the will of mosquitto_sub -V 31 killed (SIGKILL) reaches an MQTT.js subscriber; mosquitto_pub -V 31 ending with DISCONNECT leaves none', async () => {
    const js = await mqttJs(port, { clientId: 'conf-will-js' });
    const got = inbox(js);
    await js.subscribeAsync('conf/will/31/#', { qos: 1 });
    await mosquittoPub(port, 3, 'conf/other', 'x', 1, ['--will-topic', 'conf/will/31/pub', '--will-payload', 'pub gone']);
    const sub = mosquittoSub(port, 3, 'conf/nothing', 0, 1, ['--will-topic', 'conf/will/31/sub', '--will-payload', 'sub gone', '--will-qos', '1']);
    await sub.subscribed;
    sub.child.kill('SIGKILL');
    await until(() => got.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual([{ topic: 'conf/will/31/sub', payload: 'sub gone', qos: 1, retain: false }]);
    await js.endAsync();
  });

  for (const version of [4, 5] as const) {
    it(`[MQTT-3.10.4-1] [MQTT-3.10.4-2] [MQTT-3.10.4-4] UNSUBSCRIBE is acknowledged and ends that subscription, others stay (paho and MQTT.js, MQTT ${NAME[version]})`, async () => {
      const base = `conf/unsub/${version}`;
      const out = await paho(port, [
        { op: 'connect', client: 'c', version },
        { op: 'subscribe', client: 'c', filters: [[`${base}/#`, 1], [`${base}-marker`, 1]] },
        { op: 'publish', client: 'c', topic: `${base}/a`, payload: 'before', qos: 1 },
        { op: 'expect', client: 'c', count: 1 },
        { op: 'unsubscribe', client: 'c', filters: [`${base}/#`] },
        { op: 'publish', client: 'c', topic: `${base}/a`, payload: 'after', qos: 1 },
        { op: 'publish', client: 'c', topic: `${base}-marker`, payload: 'marker', qos: 1 },
        { op: 'expect', client: 'c', count: 2 },
        { op: 'disconnect', client: 'c' },
      ]);
      expect(out.events.filter((e) => e.event === 'unsuback')).toHaveLength(1);
      expect(out.messages('c').map((m) => m.payload)).toEqual(['before', 'marker']);

      const js = await mqttJs(port, { clientId: `conf-unsub-js-${version}`, protocolVersion: version });
      const got = inbox(js);
      await js.subscribeAsync({ [`${base}/js/#`]: { qos: 1 }, [`${base}-js-marker`]: { qos: 1 } });
      await js.publishAsync(`${base}/js/a`, 'before', { qos: 1 });
      await until(() => got.length >= 1);
      const unsuback = await js.unsubscribeAsync(`${base}/js/#`);
      expect(unsuback).toBeDefined();
      await js.publishAsync(`${base}/js/a`, 'after', { qos: 1 });
      await js.publishAsync(`${base}-js-marker`, 'marker', { qos: 1 });
      await until(() => got.length >= 2);
      expect(got.map((m) => m.payload)).toEqual(['before', 'marker']);
      await js.endAsync();
    });
  }

  for (const version of [4, 5] as const) {
    it(`[MQTT-3.1.2-24] a client silent for 1.5 × its keep-alive is disconnected as if the network failed (its will sent); one sending PINGREQ stays (paho, MQTT ${NAME[version]})`, async () => {
      const will = (name: string) => ({ topic: `conf/ka/${version}/${name}`, payload: name, qos: 1 as const });
      const out = await paho(port, [
        { op: 'connect', client: 'watcher', version },
        { op: 'subscribe', client: 'watcher', filters: [[`conf/ka/${version}/#`, 1]] },
        { op: 'connect', client: 'pinging', version, keepalive: 1, will: will('pinging') },
        { op: 'connect', client: 'silent', version, keepalive: 1, will: will('silent') },
        { op: 'go_silent', client: 'silent' },
        { op: 'await_close', client: 'silent', timeout: 10 },
        { op: 'expect', client: 'watcher', count: 1 },
        { op: 'sleep', seconds: 2 }, // the pinging client, past 3 × its keep-alive in all, is still there
        { op: 'disconnect', client: 'pinging' },
        { op: 'disconnect', client: 'watcher' },
      ]);
      expect(out.events.some((e) => e.event === 'closed_by_server' && e.client === 'silent')).toBe(true);
      expect(out.messages('watcher')).toEqual([{ ...will('silent'), retain: false }]);
    });
  }

  for (const version of [4, 5] as const) {
    it(`[MQTT-3.1.2-4] [MQTT-3.1.2-5] [MQTT-3.1.2-6] a persistent session gets the QoS 1 messages published while it was away, in order; a clean session starts empty (paho, MQTT ${NAME[version]})`, async () => {
      const id = `conf-persist-${version}`;
      const topic = `conf/persist/${version}`;
      const persistent = { op: 'connect', client: 'c', id, version, clean: false, ...(version === 5 ? { session_expiry: 300 } : {}) } as const;
      await paho(port, [
        { op: 'connect', client: 'c', id, version, clean: true },
        { op: 'disconnect', client: 'c' },
        persistent,
        { op: 'subscribe', client: 'c', filters: [[`${topic}/#`, 1]] },
        { op: 'disconnect', client: 'c' },
      ]);
      for (let i = 0; i < 3; i++) await mosquittoPub(port, version, `${topic}/n${i}`, `m${i}`, 1);
      const back = await paho(port, [persistent, { op: 'expect', client: 'c', count: 3 }, { op: 'disconnect', client: 'c' }]);
      expect(back.connacks('c')).toEqual([{ rc: 0, session_present: true }]);
      expect(back.messages('c')).toEqual([0, 1, 2].map((i) => ({ topic: `${topic}/n${i}`, payload: `m${i}`, qos: 1, retain: false })));

      await mosquittoPub(port, version, `${topic}/lost`, 'lost', 1);
      const clean = await paho(port, [
        { op: 'connect', client: 'c', id, version, clean: true },
        { op: 'connect', client: 'p', version },
        { op: 'publish', client: 'p', topic: `${topic}/later`, payload: 'later', qos: 1 },
        { op: 'sleep', seconds: 0.3 },
        { op: 'disconnect', client: 'c' },
        { op: 'disconnect', client: 'p' },
      ]);
      expect(clean.connacks('c')).toEqual([{ rc: 0, session_present: false }]);
      expect(clean.messages('c')).toEqual([]); // neither what was queued nor the old subscription
    });
  }

  for (const version of [3, 4, 5] as const) {
    it(`[MQTT-3.1.2-5] mosquitto_sub -V ${MOSQUITTO_V[version]} -c (persistent) gets the QoS 1 messages mosquitto_pub sent while it was away`, async () => {
      const id = `conf-msub-${version}`;
      const topic = `conf/persist/msub/${version}`;
      const persistent = ['-c', '-i', id, ...(version === 5 ? ['-x', '300'] : [])];
      await mosquittoSub(port, version, topic, 1, 1, [...persistent, '-E']).lines;
      for (let i = 0; i < 3; i++) await mosquittoPub(port, version, topic, `m${i}`, 1);
      const back = mosquittoSub(port, version, topic, 1, 3, persistent);
      expect(await back.lines).toEqual([0, 1, 2].map((i) => `1 0 ${topic} m${i}`));
      // Leave no session behind.
      await run('mosquitto_sub', ['-p', String(port), '-V', MOSQUITTO_V[version], '-i', id, '-t', topic, '-E']);
    });
  }

  // Junction sends one copy per matching subscription, each at its own QoS: MQTT allows several
  // copies as long as one respects the highest QoS granted ([MQTT-3.3.5-1]; MQTT 5 [MQTT-3.3.4-2]).
  const highest = (got: Array<{ qos: number }>) => Math.max(...got.map((m) => m.qos));

  it('[MQTT-3.3.5-1] overlapping subscriptions: a message matching three filters is delivered at the highest QoS granted of them (paho, MQTT 3.1.1)', async () => {
    const base = 'conf/overlap/paho';
    const out = await paho(port, [
      { op: 'connect', client: 'c', version: 4 },
      { op: 'subscribe', client: 'c', filters: [[`${base}/#`, 2], [`${base}/+`, 1], [`${base}/a`, 0]] },
      { op: 'publish', client: 'c', topic: `${base}/a`, payload: 'once', qos: 2 },
      { op: 'expect', client: 'c', count: 1 },
      { op: 'sleep', seconds: 0.3 },
      { op: 'disconnect', client: 'c' },
    ]);
    expect(out.subacks('c')).toEqual([[2, 1, 0]]);
    expect(highest(out.messages('c'))).toBe(2);
    expect(out.messages('c').every((m) => m.topic === `${base}/a` && m.payload === 'once')).toBe(true);
  });

  for (const version of [4, 5] as const) {
    it(`[MQTT-3.3.5-1] overlapping subscriptions: a QoS 2 message matching filters granted QoS 0 and 1 is delivered at QoS 1, never above (MQTT.js, MQTT ${NAME[version]})`, async () => {
      const base = `conf/overlap/js${version}`;
      const js = await mqttJs(port, { clientId: `conf-overlap-js-${version}`, protocolVersion: version });
      const got = inbox(js);
      await js.subscribeAsync({ [`${base}/+`]: { qos: 0 }, [`${base}/#`]: { qos: 1 } });
      await js.publishAsync(`${base}/b`, 'once', { qos: 2 });
      await until(() => got.some((m) => m.qos === 1));
      await new Promise((r) => setTimeout(r, 300));
      expect(highest(got)).toBe(1);
      expect(got.every((m) => m.topic === `${base}/b` && m.payload === 'once')).toBe(true);
      await js.endAsync();
    });
  }

  for (const version of [4, 5] as const) {
    it(`[MQTT-4.8.2-4] a shared subscription group losing a member mid-stream loses no QoS 1 message: what it had not acknowledged goes to the other member (paho, MQTT ${NAME[version]})`, async () => {
      const filter = `$share/workers/conf/shared/v${version}`;
      const topic = `conf/shared/v${version}`;
      const publish = (from: number, to: number): PahoStep[] =>
        Array.from({ length: to - from }, (_, i) => ({ op: 'publish', client: 'p', topic, payload: String(from + i), qos: 1 }) as PahoStep);
      const out = await paho(port, [
        { op: 'connect', client: 'a', version, id: `conf-shared-a-${version}` },
        { op: 'connect', client: 'b', version, id: `conf-shared-b-${version}` },
        { op: 'subscribe', client: 'a', filters: [[filter, 1]] },
        { op: 'subscribe', client: 'b', filters: [[filter, 1]] },
        { op: 'connect', client: 'p', version, id: `conf-shared-p-${version}` },
        ...publish(0, 100),
        // Member a stops reading mid-stream (its share of the next messages is never acknowledged),
        // then goes away without DISCONNECT.
        { op: 'go_silent', client: 'a' },
        ...publish(100, 200),
        { op: 'drop', client: 'a' },
        ...publish(200, 300),
        { op: 'sleep', seconds: 1 },
        { op: 'disconnect', client: 'b' },
        { op: 'disconnect', client: 'p' },
      ], 60_000);
      const a = out.messages('a').map((m) => Number(m.payload));
      const b = out.messages('b').map((m) => Number(m.payload));
      // Both took part (round-robin); what went to a while it was silent reached b after all; after
      // the drop b got everything; together they got every message (QoS 1: a repeat is allowed).
      expect(a.length).toBeGreaterThan(0);
      const silentShare = Array.from({ length: 100 }, (_, i) => 100 + i).filter((n) => !a.includes(n));
      expect(b.filter((n) => n >= 100 && n < 200).length).toBeGreaterThan(60);
      expect(silentShare.every((n) => b.includes(n))).toBe(true);
      expect(b.filter((n) => n >= 200).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => 200 + i));
      expect([...new Set([...a, ...b])].sort((x, y) => x - y)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    });
  }

  for (const version of [4, 5] as const) {
    const refused = version === 5 ? 0x87 : 0x80;
    it(`[MQTT-3.8.4-5] [MQTT-3.9.3-1] a refused filter gets 0x${refused.toString(16)} in the SUBACK, in its place among the others granted (paho, MQTT.js and mosquitto_sub, MQTT ${NAME[version]})`, async () => {
      const out = await paho(port, [
        { op: 'connect', client: 'c', version },
        { op: 'subscribe', client: 'c', filters: [['conf/refuse/a', 1], ['private/x', 1], ['conf/refuse/b', 2]] },
        { op: 'disconnect', client: 'c' },
      ]);
      expect(out.subacks('c')).toEqual([[1, refused, 2]]);

      const js = await mqttJs(port, { clientId: `conf-refuse-js-${version}`, protocolVersion: version });
      expect(await subackCodes(js, { 'private/y': { qos: 0 }, 'conf/refuse/c': { qos: 0 } })).toEqual([refused, 0]);
      await js.endAsync();

      const sub = mosquittoSub(port, version, 'private/z', 1, 1, ['-E']);
      await sub.lines;
      expect(sub.output()).toMatch(new RegExp(`Subscribed \\(mid: \\d+\\): ${refused}\\b`));
    });
  }
});
