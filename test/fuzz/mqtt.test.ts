// Fuzzing the router's MQTT listener, MQTT 3.1.1 and 5: packets of every type a client sends (and
// those only a server sends), with every property, valid then mutated as objects and as bytes,
// truncated, oversized, and random bytes after a valid CONNECT (mqtt-gen.ts). Every input gets what
// the spec asks: a malformed packet or a protocol error closes the connection (MQTT 5, once CONNACK
// is out: a DISCONNECT with a reason code ≥ 0x80 first), an acceptable one is answered (PUBACK, PUBREC, PUBCOMP,
// SUBACK, UNSUBACK, PINGRESP) and the connection answers a PINGREQ probe. Throughout, an MQTT.js
// client and a WAMP session exchange messages both ways and a WAMP bystander calls and publishes:
// each must get every message. At the end the router takes fresh MQTT clients.
//
// Replay: JUNCTION_FUZZ_SEED=<printed seed>; scale: JUNCTION_FUZZ_INPUTS=N (1% of N per version, at least 1000).

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import mqtt from 'mqtt';
import type { IConnectPacket, Packet } from 'mqtt-packet';
import { startNode, type JunctionNode } from '../../src/node.js';
import type { ListenerConfig, MqttServiceConfig } from '../../src/config/types.js';
import { DEFAULT_TRANSPORT_OPTIONS } from '../../src/config/types.js';
import { MQTT_DEFAULTS } from '../../src/config/load-mqtt.js';
import { log } from '../../src/log.js';
import { ClientSession, Result } from '../../src/client/client-session.js';
import { tick } from '../helpers/core.js';
import { Rng, FUZZ_SEED, FUZZ_INPUTS } from './gen.js';
import { FUZZ_REALM, Failures, watchUncaught, Counts } from './harness.js';
import { captureStderr } from '../helpers/capture-log.js';
import { Bystander } from './bystander.js';
import { MqttBystander } from './mqtt-bystander.js';
import { MqttWire } from '../helpers/mqtt-wire.js';
import { makeMqttInput, judge, validConnect, type MqttInput, type MqttVersion, type Verdict } from './mqtt-gen.js';

const MAX_PACKET = 64 * 1024;
const PER_VERSION = Math.max(1000, Math.round(FUZZ_INPUTS * 0.01));
const WORKERS = 6;
const BYSTANDER = { username: 'bystander', password: 'bystander-secret' };
/** Packets only a server sends: anything else from the router is a bug. */
const FROM_SERVER = new Set(['connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'suback', 'unsuback', 'pingresp', 'disconnect', 'auth']);

const mqttService = (): MqttServiceConfig => ({
  ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '', payload: [{ prefix: '', type: 'native' }],
  maxMessageSize: MAX_PACKET, openHandshakeTimeout: 2000,
  auth: { anonymous: { type: 'static', role: 'fuzzer' }, ticket: { type: 'static', principals: { [BYSTANDER.username]: { ticket: BYSTANDER.password, role: 'bystander' } } } },
  // Requests on fuzz/rpc/... (with a response topic) become calls of fuzz.rpc.* (served below).
  rpc: { role: 'trusted', toMqtt: [], fromMqtt: [{ topic: 'fuzz/rpc', procedure: 'fuzz.rpc.' }] },
});

let node: JunctionNode;
let mqttPort = 0;
let bystanderUrl = '';
let bystander: Bystander;
let mqttBystander: MqttBystander;
let rpcCallee: ClientSession;
const rng = new Rng(FUZZ_SEED ^ 0x3171);
const counts = new Counts();
const failures = new Failures();
let uncaught: ReturnType<typeof watchUncaught>;
let stderr: ReturnType<typeof captureStderr>;
const started = Date.now();

beforeAll(async () => {
  console.log(`fuzz mqtt: JUNCTION_FUZZ_SEED=${FUZZ_SEED}, ${PER_VERSION} inputs per protocol version`);
  uncaught = watchUncaught();
  stderr = captureStderr(/cannot encode/);
  log.setLevel('warn');
  const portOf = (i: number) => {
    const a = node.listeners[i]!.address();
    return typeof a === 'object' && a ? a.port : 0;
  };
  const fuzzListener: ListenerConfig = {
    id: 'fuzz-mqtt', kind: 'mqtt', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
    mqtt: mqttService(), websocket: {}, websocketAnyPath: false, static: {},
  };
  const bystanderListener: ListenerConfig = {
    id: 'bystander', kind: 'websocket', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
    websocket: { '/': { serializers: ['json'], options: { ...DEFAULT_TRANSPORT_OPTIONS }, auth: { anonymous: { type: 'static', role: 'bystander' } } } },
    websocketAnyPath: true, static: {},
  };
  node = await startNode({ router: { realms: [FUZZ_REALM], listeners: [fuzzListener, bystanderListener] } });
  mqttPort = portOf(0);
  bystanderUrl = `ws://127.0.0.1:${portOf(1)}/`;
  bystander = await Bystander.start(bystanderUrl);
  rpcCallee = await ClientSession.connect(node.router, { realm: 'realm1', role: 'fuzzer', authid: 'fuzz-rpc-callee' });
  await rpcCallee.register('fuzz.rpc.echo', (args, kwargs) => new Result(args, kwargs));
  mqttBystander = await MqttBystander.start(mqttPort, bystanderUrl, BYSTANDER);
});

afterAll(async () => {
  await node?.stop();
  uncaught?.stop();
  stderr?.restore();
  log.setLevel('info');
});

const show = (b: Buffer) => (b.length > 80 ? `${b.subarray(0, 80).toString('hex')}…(${b.length} bytes)` : b.toString('hex'));
const brief = (packets: Packet[]) => JSON.stringify(packets.map((p) => ({ cmd: p.cmd, ...('reasonCode' in p ? { reasonCode: p.reasonCode } : {}), ...('returnCode' in p ? { returnCode: p.returnCode } : {}) }))).slice(0, 300);

/** The answers an acceptable packet must get, as predicates over what the router sends. */
function answerTo(p: Packet, v: MqttVersion): ((x: Packet) => boolean) | undefined {
  const id = (p as { messageId?: number }).messageId;
  switch (p.cmd) {
    case 'publish':
      if (p.qos === 1) return (x) => x.cmd === 'puback' && x.messageId === id;
      if (p.qos === 2) return (x) => x.cmd === 'pubrec' && x.messageId === id;
      return undefined;
    case 'pubrel': return (x) => x.cmd === 'pubcomp' && x.messageId === id;
    case 'subscribe': return (x) => x.cmd === 'suback' && x.messageId === id && x.granted.length === p.subscriptions.length;
    case 'unsubscribe': return (x) => x.cmd === 'unsuback' && x.messageId === id && (v === 4 || (x.granted?.length ?? 0) === p.unsubscriptions.length);
    default: return undefined;
  }
}

/** Sends one input and checks the router's answer; returns whether the client is connected after it, or undefined when the connection is done. */
async function runInput(wire: MqttWire, v: MqttVersion, input: MqttInput, verdict: Verdict, connected: boolean, where: string): Promise<boolean | undefined> {
  const from = wire.packets.length;
  const since = () => wire.packets.slice(from);
  wire.write(input.bytes);
  if (input.endAfter || verdict.kind === 'incomplete') wire.socket.end();
  if (verdict.kind !== 'answer') {
    if (!(await wire.wait(() => wire.closed, 8000))) {
      failures.add(`${where}: expected the connection to close (${verdict.kind === 'close' ? verdict.why : verdict.kind}); still open, got ${brief(since())}`, show(input.bytes));
      return undefined;
    }
    // MQTT 5: a router that says why says it with a reason code ≥ 0x80 (DISCONNECT, or CONNACK to a first packet).
    const said = since().filter((x) => x.cmd === 'disconnect' || x.cmd === 'connack') as Array<{ reasonCode?: number; cmd: string }>;
    if (v === 5 && verdict.kind === 'close' && said.some((x) => (x.reasonCode ?? 0) < 0x80)) {
      failures.add(`${where}: closed (${verdict.why}) after ${brief(since())}: a reason code below 0x80`, show(input.bytes));
    }
    // Once CONNACK is out, MQTT 5 is told why (a packet over the size limit may still be cut off
    // while it arrives, before it could be read).
    if (v === 5 && connected && verdict.kind === 'close' && !verdict.why.startsWith('larger than') && !said.some((x) => x.cmd === 'disconnect')) {
      failures.add(`${where}: closed (${verdict.why}) without DISCONNECT; got ${brief(since())}`, show(input.bytes));
    }
    if (verdict.kind === 'client-ended' && said.some((x) => x.cmd === 'disconnect')) failures.add(`${where}: answered the client's DISCONNECT with ${brief(since())}`, show(input.bytes));
    return undefined;
  }
  let packets = verdict.packets;
  if (!connected) {
    // The first packet is a CONNECT: CONNACK (accepted or refused) or a close.
    await wire.wait(() => wire.closed || since().some((x) => x.cmd === 'connack'), 8000);
    const connack = since().find((x) => x.cmd === 'connack') as { reasonCode?: number; returnCode?: number } | undefined;
    if (!connack) {
      if (!wire.closed) failures.add(`${where}: CONNECT neither answered nor closed`, show(input.bytes));
      return undefined;
    }
    if ((connack.reasonCode ?? connack.returnCode ?? 0) !== 0) {
      if (!(await wire.wait(() => wire.closed, 8000))) failures.add(`${where}: a refused CONNECT left the connection open`, show(input.bytes));
      return undefined;
    }
    packets = packets.slice(1);
  }
  for (const p of packets) {
    const answer = answerTo(p, v);
    if (!answer) continue;
    if (!(await wire.wait(() => wire.closed || since().some(answer), 8000)) || !since().some(answer)) {
      failures.add(`${where}: ${p.cmd} left unanswered${wire.closed ? ' (closed)' : ''}; got ${brief(since())}`, show(input.bytes));
      return undefined;
    }
  }
  // The probe: the connection still answers.
  const pings = packets.filter((p) => p.cmd === 'pingreq').length + 1;
  wire.send({ cmd: 'pingreq' });
  const ok = await wire.wait(() => wire.closed || since().filter((x) => x.cmd === 'pingresp').length >= pings, 8000);
  if (!ok || wire.closed) {
    failures.add(`${where}: the connection no longer answers after an acceptable input${wire.closed ? ' (closed)' : ''}; got ${brief(since())}`, show(input.bytes));
    return undefined;
  }
  return true;
}

async function fuzzVersion(v: MqttVersion, total: number): Promise<void> {
  const name = `mqtt v${v === 4 ? '3.1.1' : '5'}`;
  let issued = 0;
  const worker = async (r: Rng) => {
    while (issued < total && failures.list.length < 25) {
      const wire = await MqttWire.open(mqttPort, v);
      let connected: boolean | undefined = false;
      let connectExpiry = 0;
      let connectProperties: IConnectPacket['properties'];
      if (r.chance(0.85)) {
        const connect = validConnect(r, v) as IConnectPacket;
        connectExpiry = connect.properties?.sessionExpiryInterval ?? 0;
        connectProperties = connect.properties;
        wire.send(connect);
        const connack = await wire.next((p) => p.cmd === 'connack', 0, 8000) as { reasonCode?: number; returnCode?: number } | undefined;
        if (!connack) {
          failures.add(`${name}: a valid CONNECT got no CONNACK: ${brief(wire.packets)}`);
          wire.close();
          return;
        }
        connected = (connack.reasonCode ?? connack.returnCode ?? 0) === 0 ? true : undefined;
      }
      const messageIds: number[] = [];
      const earlier: string[] = [];
      for (let k = 0; k < 12 && connected !== undefined && issued < total; k++) {
        const input = makeMqttInput(r, v, connected, messageIds);
        const judged = judge(input.bytes, v, connected, MAX_PACKET, connectExpiry);
        // A client that goes away after its input: the router closes whatever it was.
        const verdict: Verdict = input.endAfter && judged.kind === 'answer' ? { kind: 'incomplete', packets: judged.packets } : judged;
        const n = issued++;
        counts.add(`mqtt/${name} → ${verdict.kind}`);
        const from = wire.packets.length;
        const state = connected ? `connected, CONNECT ${JSON.stringify(connectProperties ?? {})}, after ${earlier.join(' / ') || 'nothing'}` : 'first packet';
        earlier.push(`${input.label} ${show(input.bytes).slice(0, 60)}`);
        const wasConnected = connected;
        connected = await runInput(wire, v, input, verdict, connected, `${name} input #${n} (${input.label}, ${state})`);
        // A CONNECT that came as a fuzzed first packet: its session expiry is what the router holds later DISCONNECTs to.
        const first = judged.kind === 'answer' ? judged.packets[0] : undefined;
        if (!wasConnected && connected && first?.cmd === 'connect') {
          connectProperties = (first as IConnectPacket).properties;
          connectExpiry = connectProperties?.sessionExpiryInterval ?? 0;
        }
        for (const p of wire.packets.slice(from)) {
          if (!FROM_SERVER.has(p.cmd)) failures.add(`${name}: the router sent a ${p.cmd}`);
          if (p.cmd === 'publish' && p.messageId && messageIds.length < 16) messageIds.push(p.messageId);
        }
      }
      if (wire.parseErrors.length > 0) failures.add(`${name}: the router sent bytes mqtt-packet cannot parse: ${wire.parseErrors[0]}`);
      wire.close();
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, () => worker(rng.fork())));
}

describe('fuzz: MQTT packets', () => {
  for (const v of [4, 5] as const) {
    it(`MQTT ${v === 4 ? '3.1.1' : '5'}: ${PER_VERSION} valid, mutated, damaged, truncated, oversized and random inputs`, async () => {
      await fuzzVersion(v, PER_VERSION);
      expect(failures.list, failures.report()).toEqual([]);
    }, 180_000);
  }

  it('WAMP → MQTT: hostile _mqtt_* attributes and URIs that are no topic names never reach MQTT clients as corrupt frames; MQTT.js, mosquitto_sub and a raw reader get every deliverable event', async () => {
    const r = rng.fork();
    const total = Math.max(300, Math.round(PER_VERSION / 5));
    const big = 'x'.repeat(70_000);
    const values: Record<string, unknown[]> = {
      _mqtt_response_topic: ['reply/to', '', 'a/#', 'a/+/b', 'a\u0000b', big, 5, {}, null, ['a']],
      _mqtt_correlation_data: ['c-1', '', Buffer.from([0, 1, 255]), Buffer.alloc(70_000), 5, {}, [1]],
      _mqtt_content_type: ['text/plain', '', 'a\u0000', big, 7, ['a'], true],
      _mqtt_user_properties: [{ a: 'b' }, { a: ['b', 'c'] }, { a: 5 }, { 'a\u0000': 'b' }, { a: 'b\u0000' }, 'text', [1], { big }, {}, null],
      _mqtt_qos: [0, 1, 2, 3, -1, '1', 1.5],
    };
    const publisher = await ClientSession.connect(node.router, { realm: 'realm1', role: 'fuzzer', authid: 'fuzz-wamp-publisher' });
    const js5 = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 5, clientId: 'out-js5', reconnectPeriod: 0 });
    const js4 = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 4, clientId: 'out-js4', reconnectPeriod: 0 });
    const seen = { js5: new Set<number>(), js4: new Set<number>() };
    js5.on('message', (_t, payload) => seen.js5.add(Number(payload.toString())));
    js4.on('message', (_t, payload) => seen.js4.add(Number(payload.toString())));
    await Promise.all([js5.subscribeAsync('fuzz/out/#', { qos: 1 }), js4.subscribeAsync('fuzz/out/#', { qos: 1 })]);
    const raw = await MqttWire.connected(mqttPort, 5, { clientId: 'out-raw' });
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'fuzz/out/#', qos: 0 }] });
    await raw.next((p) => p.cmd === 'suback');
    const deliverable: number[] = [];
    for (let n = 1; n <= total; n++) {
      const uri = r.chance(0.8) ? `fuzz.out.n${n}` : `fuzz.out.${r.pick(['a+b', 'a\u0000b', 'a/b', '+'])}`;
      if (uri === `fuzz.out.n${n}`) deliverable.push(n);
      const options: Record<string, unknown> = { acknowledge: true };
      for (const [name, pool] of Object.entries(values)) if (r.chance(0.4)) options[name] = r.pick(pool);
      await publisher.publish(uri, [n], {}, options);
      counts.add('mqtt/WAMP → MQTT publications');
    }
    const sub = spawn('mosquitto_sub', ['-p', String(mqttPort), '-V', 'mqttv5', '-i', 'out-mosquitto', '-c', '-x', '600', '-q', '1', '-t', 'fuzz/out/#', '-C', String(deliverable.length), '-W', '30']);
    // mosquitto_sub joins late: the same publications again, now that it listens.
    let lines = 0;
    sub.stdout.on('data', (d: Buffer) => (lines += d.toString().split('\n').filter(Boolean).length));
    const exited = new Promise<number | null>((resolve) => sub.once('close', resolve));
    await tick(300);
    const again = [...deliverable];
    for (const n of again) await publisher.publish(`fuzz.out.n${n}`, [n], {}, { acknowledge: true, _mqtt_content_type: r.pick(values['_mqtt_content_type']!), _mqtt_user_properties: r.pick(values['_mqtt_user_properties']!) });
    expect(await exited, 'mosquitto_sub got every deliverable event and exited 0').toBe(0);
    expect(lines).toBe(deliverable.length);
    const everyOne = (set: Set<number>) => deliverable.every((n) => set.has(n));
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => { if (everyOne(seen.js5) && everyOne(seen.js4)) { clearInterval(poll); resolve(); } }, 20);
      setTimeout(() => { clearInterval(poll); resolve(); }, 10_000);
    });
    expect(deliverable.filter((n) => !seen.js5.has(n)), 'missing at MQTT.js v5').toEqual([]);
    expect(deliverable.filter((n) => !seen.js4.has(n)), 'missing at MQTT.js v3.1.1').toEqual([]);
    expect([...seen.js5].filter((n) => !deliverable.includes(n)), 'undeliverable ones at MQTT.js v5').toEqual([]);
    expect(await raw.wait(() => raw.packets.filter((p) => p.cmd === 'publish').length >= 2 * deliverable.length, 10_000)).toBe(true);
    expect(raw.parseErrors).toEqual([]);
    expect(raw.closed || !js5.connected || !js4.connected).toBe(false);
    raw.close();
    await Promise.all([js5.endAsync(), js4.endAsync(), publisher.close()]);
  }, 120_000);

  it('ends well: fresh MQTT.js clients (3.1.1 and 5) are served, both bystanders got every message, nothing uncaught', async () => {
    for (const protocolVersion of [4, 5] as const) {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion, clientId: `fresh-${protocolVersion}`, reconnectPeriod: 0 });
      const got = new Promise<string>((resolve) => client.on('message', (_t, payload) => resolve(payload.toString())));
      await client.subscribeAsync('fuzz/fresh', { qos: 1 });
      await client.publishAsync('fuzz/fresh', 'fresh', { qos: 1 });
      expect(await got).toBe('fresh');
      await client.endAsync();
    }
    await Promise.all([bystander.stop(), mqttBystander.stop()]);
    const seconds = (Date.now() - started) / 1000;
    console.log(`${counts.table('fuzz mqtt: inputs per protocol version')}\n  ${seconds.toFixed(1)} s; bystander: ${bystander.calls} calls (${bystander.results} answered), ${bystander.events} events; ` +
      `MQTT bystander: ${mqttBystander.sent} sent, ${mqttBystander.up} MQTT→WAMP, ${mqttBystander.down} WAMP→MQTT; router log: ${stderr.counts.get('WARN') ?? 0} warnings, ${stderr.counts.get('ERROR') ?? 0} errors`);
    expect(bystander.errors).toEqual([]);
    expect(bystander.results).toBe(bystander.calls);
    expect(mqttBystander.errors).toEqual([]);
    expect(mqttBystander.up).toBe(mqttBystander.sent);
    expect(mqttBystander.down).toBe(mqttBystander.sent);
    expect(mqttBystander.sent).toBeGreaterThan(10);
    expect(uncaught.errors).toEqual([]);
    expect(stderr.lines.filter((l) => / ERROR /.test(l))).toEqual([]);
    expect(failures.list, failures.report()).toEqual([]);
  }, 60_000);
});
