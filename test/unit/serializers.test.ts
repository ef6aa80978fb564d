import { describe, it, expect } from 'vitest';
import { getSerializer, serializerFromSubprotocol, serializerFromRawSocketId } from '../../src/serializers/index.js';
import { samples } from '../helpers/testsuite.js';

const json = getSerializer('json');
const msgpack = getSerializer('msgpack');
const cbor = getSerializer('cbor');

describe('serializers against the WAMP testsuite vectors', () => {
  const vectors = samples().filter((s) => s.serializers?.['json']?.[0]?.bytes !== undefined);
  it('has vectors to check', () => expect(vectors.length).toBeGreaterThan(20));
  for (const sample of vectors) {
    const expected = json.decode(Buffer.from(sample.serializers!['json']![0]!.bytes!, 'utf8'));
    for (const name of ['msgpack', 'cbor'] as const) {
      for (const [i, v] of (sample.serializers![name] ?? []).entries()) {
        it(`${sample.file} "${sample.description}" — ${name} #${i} decodes to the JSON sample`, () => {
          expect(getSerializer(name).decode(Buffer.from(v.bytes_hex!, 'hex'))).toEqual(expected);
        });
      }
    }
  }
});

describe('serializer behaviour', () => {
  const message = [36, 5, 2 ** 53, { topic: 'a.b' }, ['grüße', 2 ** 40, -(2 ** 40), 1.5, true, null, Buffer.from([0, 1, 254, 255])], { k: [1, { n: 2 }] }];

  for (const s of [json, msgpack, cbor]) {
    it(`${s.name} round-trips IDs up to 2^53, large integers, floats, unicode and bytes`, () => {
      const back = s.decode(s.encode(message)) as unknown[];
      expect(back).toEqual(message);
      const bytes = (back[4] as unknown[])[6] as Uint8Array;
      expect(Buffer.from(bytes).equals(Buffer.from([0, 1, 254, 255]))).toBe(true);
    });
  }

  it('msgpack and cbor encode integers above 32 bits as integers, not floats', () => {
    // 0xcf/0xd3 = (u)int64 in MessagePack; 0x1b = uint64 in CBOR. A float64 would be 0xcb / 0xfb.
    expect([0xcf, 0xd3]).toContain(msgpack.encode([2 ** 40])[1]);
    expect(cbor.encode([2 ** 40])[1]).toBe(0x1b);
  });

  it('does not change a message it encodes (messages are shared between receivers)', () => {
    const m = [50, 1, {}, [2 ** 40]];
    msgpack.encode(m);
    cbor.encode(m);
    expect(m).toEqual([50, 1, {}, [2 ** 40]]);
    expect(typeof (m[3] as unknown[])[0]).toBe('number');
  });

  it('JSON uses the \\u0000+base64 convention for bytes', () => {
    const text = json.encode([1, Buffer.from('hi')]).toString();
    expect(text).toBe('[1,"\\u0000aGk="]');
    expect(json.decode(Buffer.from('[1,"\\u0000aGk="]'))).toEqual([1, Buffer.from('hi')]);
  });

  it('rejects malformed input', () => {
    expect(() => json.decode(Buffer.from('[1, 2'))).toThrow();
    expect(() => json.decode(Buffer.from([0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d]))).toThrow(); // invalid UTF-8
    expect(() => msgpack.decode(Buffer.from([0x93, 0x01]))).toThrow();
    expect(() => cbor.decode(Buffer.from([0x83, 0x01]))).toThrow();
  });

  it('maps subprotocols and RawSocket ids', () => {
    expect(serializerFromSubprotocol('wamp.2.cbor')).toBe(cbor);
    expect(serializerFromSubprotocol('wamp.2.ubjson')).toBeUndefined();
    expect(serializerFromRawSocketId(2)).toBe(msgpack);
    expect(serializerFromRawSocketId(4)).toBeUndefined();
  });
});
