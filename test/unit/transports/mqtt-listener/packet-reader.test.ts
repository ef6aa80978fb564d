import { describe, it, expect } from 'vitest';
import * as mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import { headerError, packetStart, parsePackets, parseSettings } from '../../../../src/transports/mqtt-listener/packet-reader.js';

/** A sink collecting what the shared parser finds. */
function collector() {
  const packets: Packet[] = [];
  const errors: string[] = [];
  return { packets, errors, packetParsed: (p: Packet) => packets.push(p), parseFailed: (e: Error) => errors.push(e.message) };
}

describe('packet-reader: whole packets out of a connection\'s bytes', () => {
  it('reads a packet\'s size from its fixed header (1 to 4 length bytes), says when the header is not all in, and refuses a fifth length byte', () => {
    const small = mqttPacket.generate({ cmd: 'pingreq' });
    expect(packetStart(small, 0)).toEqual({ kind: 'known', remaining: 0, total: 2 });
    const big = mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(20_000), qos: 0, retain: false, dup: false });
    expect(packetStart(big, 0)).toEqual({ kind: 'known', remaining: big.length - 4, total: big.length });
    expect(packetStart(Buffer.concat([small, big.subarray(0, 3)]), 2)).toEqual({ kind: 'short' });
    expect(packetStart(Buffer.from('30ffffffff01', 'hex'), 0)).toEqual({ kind: 'malformed' });
  });

  it('[MQTT-2.2.2-2] names wrong flag bits from the first byte alone, with mqtt-packet\'s own words', () => {
    expect(headerError(0x82)).toBeUndefined(); // SUBSCRIBE, flags 0010
    expect(headerError(0x80)).toBe('Invalid header flag bits, must be 0x2 for subscribe packet');
    expect(headerError(0x36)).toBe('Packet must not have both QoS bits set to 1');
    expect(headerError(0x3b)).toBeUndefined(); // PUBLISH QoS 1, DUP and RETAIN
  });

  it('one parser serves every connection: each gets its own packets, read with its own protocol version', () => {
    const v5 = collector();
    const v4 = collector();
    const withProperties = mqttPacket.generate({ cmd: 'puback', messageId: 9, reasonCode: 0x10, properties: { reasonString: 'no one' } }, { protocolVersion: 5 });
    parsePackets(withProperties, parseSettings(5, false), v5);
    parsePackets(mqttPacket.generate({ cmd: 'puback', messageId: 3 }), parseSettings(4, false), v4);
    expect(v5.packets).toMatchObject([{ cmd: 'puback', messageId: 9, reasonCode: 0x10, properties: { reasonString: 'no one' } }]);
    expect(v4.packets).toMatchObject([{ cmd: 'puback', messageId: 3 }]);
    expect(parseSettings(5, false)).toBe(parseSettings(5, false));
  });

  it('a connection whose packet fails to parse leaves nothing behind for the next one (mqtt-packet keeps its read position after an error)', () => {
    const failing = collector();
    parsePackets(Buffer.from('3005001061626364', 'hex'), parseSettings(4, false), failing);
    expect(failing.errors).toHaveLength(1);
    const next = collector();
    parsePackets(Buffer.concat([mqttPacket.generate({ cmd: 'pingreq' }), mqttPacket.generate({ cmd: 'puback', messageId: 5 })]), parseSettings(4, false), next);
    expect(next.errors).toEqual([]);
    expect(next.packets).toMatchObject([{ cmd: 'pingreq' }, { cmd: 'puback', messageId: 5 }]);
  });
});
