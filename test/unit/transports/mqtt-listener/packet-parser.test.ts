// The MQTT listener's packet parser, shared by the connections whose packets arrive whole
// (src/transports/mqtt-listener/packet-parser.ts): each connection's packets come out whole, in
// order, read with its own protocol version, however the chunks of several connections interleave.
// The bytes are mqtt-packet's generator's (the peers' encoding, not ours).
import { describe, it, expect } from 'vitest';
import * as mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import { freeParser, kept, type PacketParser, type PacketReader } from '../../../../src/transports/mqtt-listener/packet-parser.js';

/** A connection as the parser sees it, reading as MqttConnection.onData does. */
class Reader implements PacketReader {
  readonly packets: Packet[] = [];
  readonly errors: string[] = [];
  own: PacketParser | undefined;
  bridgeMode = false;
  onPacket: ((packet: Packet) => void) | undefined;

  constructor(public protocolVersion: number) {}

  read(chunk: Buffer): number {
    const parser = this.own ?? freeParser();
    const pending = parser.parse(this, chunk);
    this.own = kept(parser);
    return pending;
  }

  packetParsed(packet: Packet): void {
    if (packet.cmd === 'connect') this.protocolVersion = packet.protocolVersion ?? 4;
    this.packets.push(packet);
    this.onPacket?.(packet);
  }

  parseFailed(err: Error): void {
    this.errors.push(err.message);
  }
}

const bytes = (packet: Packet, protocolVersion = 4) => mqttPacket.generate(packet, { protocolVersion });
const publish = (topic: string, payload: string, properties?: Record<string, unknown>): Packet =>
  ({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, messageId: 7, retain: false, dup: false, ...(properties ? { properties } : {}) }) as Packet;
const seen = (reader: Reader) => reader.packets.map((p) => (p.cmd === 'publish' ? `${p.topic}=${p.payload.toString()}` : p.cmd));

describe('the shared MQTT packet parser', () => {
  it('a packet split across chunks comes out whole while other connections read whole packets in between', () => {
    const a = new Reader(4);
    const b = new Reader(4);
    const big = bytes(publish('a/long', 'x'.repeat(300)));
    expect(a.read(big.subarray(0, 100))).toBe(100 - 3); // held: all but the fixed header (type, 2-byte length)
    expect(a.own).toBeDefined(); // holds the first bytes: a parser of its own
    b.read(Buffer.concat([bytes(publish('b/1', 'one')), bytes({ cmd: 'pingreq' })]));
    expect(b.own).toBeUndefined();
    a.read(big.subarray(100, 200));
    b.read(bytes(publish('b/2', 'two')));
    expect(a.read(big.subarray(200))).toBe(0);
    expect(a.own).toBeUndefined(); // whole again: back to the shared parser
    expect(seen(a)).toEqual([`a/long=${'x'.repeat(300)}`]);
    expect(seen(b)).toEqual(['b/1=one', 'pingreq', 'b/2=two']);
    expect([a.errors, b.errors]).toEqual([[], []]);
  });

  it('each connection is read with its own protocol version: MQTT 5 properties for one, none for the other', () => {
    const v5 = new Reader(4);
    const v4 = new Reader(4);
    const connect = (protocolVersion: 4 | 5, clientId: string) => bytes({ cmd: 'connect', protocolId: 'MQTT', protocolVersion, clientId, clean: true, keepalive: 30 } as Packet, protocolVersion);
    // CONNECT and a PUBLISH with properties in one chunk: the PUBLISH is read as MQTT 5 already.
    v5.read(Buffer.concat([connect(5, 'five'), bytes(publish('t/5', 'p5', { contentType: 'text/plain' }), 5)]));
    v4.read(Buffer.concat([connect(4, 'four'), bytes(publish('t/4', 'p4'), 4)]));
    v5.read(bytes(publish('t/5b', 'q5', { userProperties: { k: 'v' } }), 5));
    v4.read(bytes(publish('t/4b', 'q4'), 4));
    expect(seen(v5)).toEqual(['connect', 't/5=p5', 't/5b=q5']);
    expect(seen(v4)).toEqual(['connect', 't/4=p4', 't/4b=q4']);
    expect(v5.packets.slice(1).map((p) => (p as { properties?: unknown }).properties)).toEqual([{ contentType: 'text/plain' }, { userProperties: { k: 'v' } }]);
    expect([v5.errors, v4.errors]).toEqual([[], []]);
  });

  it('a connection that reads while another one\'s packet is being handed on (in-memory streams) gets a parser of its own for that read', () => {
    const a = new Reader(4);
    const b = new Reader(4);
    a.onPacket = (packet) => {
      if (packet.cmd === 'publish') b.read(bytes(publish('b/inner', 'in')));
    };
    a.read(Buffer.concat([bytes(publish('a/1', 'one')), bytes(publish('a/2', 'two'))]));
    expect(seen(a)).toEqual(['a/1=one', 'a/2=two']);
    expect(seen(b)).toEqual(['b/inner=in', 'b/inner=in']);
  });

  it('a malformed packet fails its own connection only; the next connection\'s packets are read from a clean start', () => {
    const bad = new Reader(4);
    const good = new Reader(4);
    bad.read(Buffer.from([0x36, 0x02, 0x00, 0x00, 0xff])); // PUBLISH with both QoS bits set, then junk
    expect(bad.errors.length).toBe(1);
    good.read(bytes(publish('g/1', 'ok')));
    expect(seen(good)).toEqual(['g/1=ok']);
    expect(good.errors).toEqual([]);
  });
});
