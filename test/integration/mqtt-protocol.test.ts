// What the MQTT listener does with packets a client must not send (src/transports/mqtt-listener/checks.ts):
// each case below was found by the MQTT fuzz suite (test/fuzz/mqtt.test.ts) or is one of its rules,
// written as the raw bytes that showed it. MQTT 5 hears the reason in a DISCONNECT, then the
// connection closes; MQTT 3.1.1 is closed.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { MqttWire } from '../helpers/mqtt-wire.js';
import { MQTT_DEFAULTS } from '../../src/config/load-mqtt.js';
import { MqttMapping } from '../../src/mqtt/mapping.js';

let node: TestNode;
let clientIds = 0;

beforeAll(async () => {
  node = await startTestNode({
    listener: { kind: 'mqtt', websocket: {}, rawsocket: undefined, mqtt: { ...MQTT_DEFAULTS, realm: 'realm1', topicPrefix: '', payload: [{ prefix: '', type: 'native' }] } },
  });
});
afterAll(async () => {
  await node?.stop();
});

async function connected(version: 4 | 5, clientId = `proto-${++clientIds}`): Promise<MqttWire> {
  const wire = await MqttWire.connected(node.port, version, { clientId });
  expect(wire.packets[0]).toMatchObject({ cmd: 'connack' });
  return wire;
}

/** Sends `bytes` after CONNECT; resolves with what the router sent before closing (or undefined if it stayed open). */
async function answerTo(version: 4 | 5, bytes: Buffer | Packet): Promise<Packet[] | undefined> {
  const wire = await connected(version);
  const from = wire.packets.length;
  if (Buffer.isBuffer(bytes)) wire.write(bytes);
  else wire.send(bytes);
  const closed = await wire.wait(() => wire.closed, 3000);
  wire.close();
  return closed ? wire.packets.slice(from) : undefined;
}

const disconnect = (reasonCode: number) => [expect.objectContaining({ cmd: 'disconnect', reasonCode })];

describe('MQTT protocol checks (found by the MQTT fuzz suite)', () => {
  it('an acknowledgement too short to hold a packet identifier ends the connection (it made the router send PUBREL with id -1)', async () => {
    expect(await answerTo(4, Buffer.from('5000', 'hex'))).toEqual([]);
    expect(await answerTo(5, Buffer.from('5000', 'hex'))).toEqual(disconnect(0x82));
    expect(await answerTo(5, Buffer.from('4000', 'hex'))).toEqual(disconnect(0x82));
  });

  it('a SUBSCRIBE or UNSUBSCRIBE without topic filters ends the connection (it was never answered)', async () => {
    expect(await answerTo(4, Buffer.from('82020001', 'hex'))).toEqual([]);
    expect(await answerTo(4, Buffer.from('a2020001', 'hex'))).toEqual([]);
    expect(await answerTo(5, Buffer.from('8203000100', 'hex'))).toEqual(disconnect(0x82));
    expect(await answerTo(5, Buffer.from('a203000100', 'hex'))).toEqual(disconnect(0x82));
  });

  it('U+0000 in a user property name is a malformed packet (0x81)', async () => {
    expect(await answerTo(5, { cmd: 'puback', messageId: 7, reasonCode: 0, properties: { userProperties: { 'a\u0000': 'b' } } })).toEqual(disconnect(0x81));
  });

  it('a PUBLISH topic with a wildcard, an empty one, an alias never set, a subscription identifier end the connection (they were answered 0x90 and kept)', async () => {
    const publish = (topic: string, properties?: Record<string, unknown>): Packet =>
      ({ cmd: 'publish', topic, payload: Buffer.from('1'), qos: 1, messageId: 1, retain: false, dup: false, ...(properties ? { properties } : {}) }) as Packet;
    expect(await answerTo(4, publish('fuzz/#'))).toEqual([]);
    expect(await answerTo(5, publish('fuzz/+'))).toEqual(disconnect(0x82));
    expect(await answerTo(5, publish('', { topicAlias: 1 }))).toEqual(disconnect(0x82));
    expect(await answerTo(5, publish('fuzz/a', { subscriptionIdentifier: 3 }))).toEqual(disconnect(0x82));
    expect(await answerTo(5, publish('fuzz/a', { responseTopic: 'reply/#' }))).toEqual(disconnect(0x82));
  });

  it('packets only a server sends, AUTH and a second CONNECT end the connection with 0x82', async () => {
    for (const packet of [
      { cmd: 'connack', reasonCode: 0, sessionPresent: false },
      { cmd: 'suback', messageId: 1, granted: [0] },
      { cmd: 'pingresp' },
      { cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'x' } },
      { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, keepalive: 0, clientId: 'again' },
    ] as Packet[]) {
      expect(await answerTo(5, packet), packet.cmd).toEqual(disconnect(0x82));
    }
  });

  it('a taken-over MQTT 5 connection hears DISCONNECT 0x8E before it closes (the socket used to close first)', async () => {
    const first = await connected(5, 'taken');
    const from = first.packets.length;
    const second = await connected(5, 'taken');
    expect(await first.wait(() => first.closed, 3000)).toBe(true);
    expect(first.packets.slice(from)).toEqual(disconnect(0x8e));
    second.close();
  });

  it('after all that the listener still serves: PINGREQ is answered', async () => {
    const wire = await connected(5);
    wire.send({ cmd: 'pingreq' });
    expect(await wire.next((p) => p.cmd === 'pingresp')).toBeDefined();
    wire.close();
  });
});

// The listener cuts each connection's bytes into whole packets itself and hands them to one
// mqtt-packet parser shared by all connections (packet-reader.ts).
describe('MQTT packets as they arrive: split, joined, and beside a failing client', () => {
  const publish = (id: number, version: 4 | 5) => mqttPacket.generate(
    { cmd: 'publish', topic: 'frame/t', payload: Buffer.alloc(300, id), qos: 1, messageId: id, retain: false, dup: false }, { protocolVersion: version });

  it('packets sent one byte at a time, and many in one write, are each answered once, in order', async () => {
    for (const version of [4, 5] as const) {
      const wire = await connected(version);
      const from = wire.packets.length;
      const bytes = Buffer.concat([publish(1, version), publish(2, version), mqttPacket.generate({ cmd: 'pingreq' })]);
      for (const byte of bytes) {
        wire.write(Buffer.from([byte]));
        await new Promise((r) => setImmediate(r));
      }
      wire.write(Buffer.concat([publish(3, version), publish(4, version), publish(5, version), mqttPacket.generate({ cmd: 'pingreq' })]));
      expect(await wire.wait(() => wire.packets.filter((p) => p.cmd === 'pingresp').length === 2, 3000)).toBe(true);
      expect(wire.packets.slice(from).map((p) => (p.cmd === 'puback' ? p.messageId : p.cmd))).toEqual([1, 2, 'pingresp', 3, 4, 5, 'pingresp']);
      wire.close();
    }
  });

  it('a client whose packet fails to parse does not disturb another client halfway through a packet (a failed parser was reused: clients went unanswered under the fuzz)', async () => {
    const patient = await connected(4);
    const from = patient.packets.length;
    const half = publish(7, 4);
    patient.write(half.subarray(0, 150));
    // A PUBLISH whose topic runs past its end fails in the middle of the parser's reading.
    expect(await answerTo(4, Buffer.from('3005001061626364', 'hex'))).toEqual([]);
    expect(await answerTo(5, Buffer.from('3005001061626364', 'hex'))).toEqual(disconnect(0x81));
    patient.write(half.subarray(150));
    patient.send({ cmd: 'pingreq' });
    expect(await patient.next((p) => p.cmd === 'pingresp', from, 3000)).toBeDefined();
    expect(patient.packets.slice(from).map((p) => p.cmd)).toEqual(['puback', 'pingresp']);
    patient.close();
  });

  it('[MQTT-2.2.2-2] wrong flag bits close the connection as soon as the first byte is in, before the packet is whole', async () => {
    // A SUBSCRIBE (flags must be 0010) with flags 0000, announcing 74 bytes of which 6 come.
    expect(await answerTo(4, Buffer.from('804a6a38569215a0', 'hex'))).toEqual([]);
    expect(await answerTo(5, Buffer.from('804a6a38569215a0', 'hex'))).toEqual(disconnect(0x81));
  });

  it('a packet announced over max_message_size ends the connection at its header (MQTT 5: DISCONNECT 0x95), however slowly its bytes would come', async () => {
    // Remaining length 0x7fffffff-ish: 4 length bytes, nothing after.
    expect(await answerTo(4, Buffer.from('30ffffff7f', 'hex'))).toEqual([]);
    expect(await answerTo(5, Buffer.from('30ffffff7f', 'hex'))).toEqual(disconnect(0x95));
    // A fifth length byte is a malformed remaining length.
    expect(await answerTo(5, Buffer.from('30ffffffff01', 'hex'))).toEqual(disconnect(0x81));
  });
});

describe('MQTT CONNECT checks (found by the MQTT fuzz suite)', () => {
  it('a will whose topic or response topic holds a wildcard is refused (MQTT 5: CONNACK 0x82; 3.1.1: closed): its event reached subscribers with a response topic they cannot use', async () => {
    const will = (topic: string, responseTopic?: string) => ({ topic, payload: Buffer.from('gone'), qos: 0 as const, retain: false, ...(responseTopic ? { properties: { responseTopic } } : {}) });
    for (const [version, w] of [[5, will('status/#')], [5, will('status/x', 'reply/+')], [4, will('status/+')]] as const) {
      const wire = await MqttWire.open(node.port, version);
      wire.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clean: true, keepalive: 0, clientId: `will-${++clientIds}`, will: w } as Packet);
      expect(await wire.wait(() => wire.closed, 3000)).toBe(true);
      expect(wire.packets, JSON.stringify(w)).toEqual(version === 5 ? [expect.objectContaining({ cmd: 'connack', reasonCode: 0x82 })] : []);
    }
  });
});

describe('topic mapping: what cannot be an MQTT topic name never becomes one', () => {
  it('issue 19 #9: URIs holding U+0000, + or # have no topic; topics and filters holding U+0000 have no URI', () => {
    const mapping = new MqttMapping({ topicPrefix: '', payload: [] });
    for (const uri of ['sensors.a\u0000b', 'sensors.+', 'sensors.a+b', 'sensors.#', 'a/b']) expect(mapping.uriToTopic(uri), JSON.stringify(uri)).toBeUndefined();
    expect(mapping.uriToTopic('sensors.ü.temp')).toBe('sensors/ü/temp');
    expect(mapping.topicToUri('sensors/a\u0000b')).toBeUndefined();
    expect(mapping.filterToSubscription('sensors/\u0000/#')).toBeUndefined();
  });
});
