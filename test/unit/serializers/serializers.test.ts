import { describe, it, expect } from 'vitest';
import {
  getSerializer, serializerFromSubprotocol, serializerFromRawSocketId, subprotocolOf, SERIALIZER_NAMES, type SerializerName,
} from '../../../src/serializers/index.js';
import { samples } from '../../helpers/testsuite.js';

const json = getSerializer('json');
const msgpack = getSerializer('msgpack');
const cbor = getSerializer('cbor');
const ubjson = getSerializer('ubjson');
const all = [json, msgpack, cbor, ubjson];

/** Every BigInt anywhere in a decoded value (there must be none). */
function bigints(value: unknown, path = '$'): string[] {
  if (typeof value === 'bigint') return [path];
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => bigints(v, `${path}.${k}`));
}

describe('serializers against the WAMP testsuite vectors', () => {
  const vectors = samples().filter((s) => s.serializers?.['json']?.[0]?.bytes_hex !== undefined);
  it('has vectors to check, binary payloads among them', () => {
    expect(vectors.length).toBeGreaterThan(20);
    expect(vectors.filter((s) => s.serializers!['json']![0]!.bytes!.includes('\\u0000')).length).toBeGreaterThan(0);
  });
  for (const sample of vectors) {
    const expected = json.decode(Buffer.from(sample.serializers!['json']![0]!.bytes_hex!, 'hex'));
    for (const name of ['json', 'msgpack', 'cbor', 'ubjson'] as const) {
      for (const [i, v] of (sample.serializers![name] ?? []).entries()) {
        // Autobahn|Python >= 26.6 writes BJData under the name ubjson: little-endian, so not UBJSON.
        if (v.note?.includes('BJData')) continue;
        it(`${sample.file} "${sample.description}": ${name} #${i} decodes to the JSON sample, without BigInt`, () => {
          const decoded = getSerializer(name).decode(Buffer.from(v.bytes_hex!, 'hex'));
          expect(decoded).toEqual(expected);
          expect(bigints(decoded)).toEqual([]);
          // And what we write for it reads back the same in every serializer.
          for (const s of all) expect(s.decode(s.encode(decoded as unknown[]))).toEqual(expected);
        });
      }
    }
  }

  it('decodes the binary convention of the JSON vectors to the same bytes MessagePack carries as bin', () => {
    const sample = vectors.find((s) => s.serializers!['json']![0]!.bytes!.includes('\\u0000'))!;
    const fromJson = json.decode(Buffer.from(sample.serializers!['json']![0]!.bytes_hex!, 'hex')) as unknown[];
    const fromMsgpack = msgpack.decode(Buffer.from(sample.serializers!['msgpack']![0]!.bytes_hex!, 'hex')) as unknown[];
    const bytes = fromJson.find((v) => v instanceof Uint8Array) as Uint8Array;
    expect(bytes).toBeInstanceOf(Buffer);
    expect(bytes.length).toBeGreaterThan(0);
    expect(fromMsgpack).toContainEqual(bytes);
  });
});

describe('serializer behaviour', () => {
  const message = [36, 5, 2 ** 53, { topic: 'a.b' }, ['grüße', 2 ** 40, -(2 ** 40), 1.5, true, null, Buffer.from([0, 1, 254, 255])], { k: [1, { n: 2 }] }];

  for (const s of all) {
    it(`${s.name} round-trips IDs up to 2^53, large integers, floats, unicode and bytes`, () => {
      const back = s.decode(s.encode(message)) as unknown[];
      expect(back).toEqual(message);
      const bytes = (back[4] as unknown[])[6] as Uint8Array;
      expect(bytes).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(bytes).equals(Buffer.from([0, 1, 254, 255]))).toBe(true);
    });

    it(`${s.name} encodes a plain Uint8Array (not a Buffer) as bytes, empty or nested, and only the view's bytes`, () => {
      const backing = new Uint8Array([9, 1, 2, 3, 9]);
      const m = [50, 1, {}, [new Uint8Array(0), backing.subarray(1, 4)], { deep: { x: [new Uint8Array([7])] } }];
      const back = s.decode(s.encode(m)) as unknown[];
      const args = back[3] as Uint8Array[];
      expect(args[0]).toBeInstanceOf(Uint8Array);
      expect([...args[0]!]).toEqual([]);
      expect([...args[1]!]).toEqual([1, 2, 3]);
      expect([...((back[4] as { deep: { x: Uint8Array[] } }).deep.x[0]!)]).toEqual([7]);
    });

    it(`${s.name} leaves out undefined dict values and turns undefined array slots into null, like JSON`, () => {
      const m = [8, 48, 1, { a: undefined, b: 1 }, 'wamp.error.x', [undefined, 2]];
      expect(s.decode(s.encode(m))).toEqual([8, 48, 1, { b: 1 }, 'wamp.error.x', [null, 2]]);
    });

    it(`${s.name} throws on truncated input`, () => {
      const whole = s.encode([1, 'realm1', { roles: { caller: {} } }]);
      expect(() => s.decode(whole.subarray(0, whole.length - 3))).toThrow();
    });
  }

  it('msgpack and cbor encode integers above 32 bits as integers, not floats', () => {
    // 0xcf/0xd3 = (u)int64 in MessagePack; 0x1b = uint64, 0x3b = negative int64 in CBOR. A float64 would be 0xcb / 0xfb.
    expect([0xcf, 0xd3]).toContain(msgpack.encode([2 ** 40])[1]);
    expect([0xcf, 0xd3]).toContain(msgpack.encode([-(2 ** 40)])[1]);
    expect(cbor.encode([2 ** 40])[1]).toBe(0x1b);
    expect(cbor.encode([-(2 ** 40)])[1]).toBe(0x3b);
    // Non-integers stay floats.
    expect(msgpack.encode([2 ** 40 + 0.5])[1]).toBe(0xcb);
  });

  it('msgpack and cbor decode 64-bit integers as numbers, never BigInt (CBOR bignums included)', () => {
    expect(msgpack.decode(Buffer.from('91cf0000010000000000', 'hex'))).toEqual([2 ** 40]);
    expect(msgpack.decode(Buffer.from('91d3ffffff0000000000', 'hex'))).toEqual([-(2 ** 40)]);
    expect(typeof (msgpack.decode(Buffer.from('91cfffffffffffffffff', 'hex')) as unknown[])[0]).toBe('number');
    expect(cbor.decode(Buffer.from('811b0000010000000000', 'hex'))).toEqual([2 ** 40]);
    expect(cbor.decode(Buffer.from('813b000000ffffffffff', 'hex'))).toEqual([-(2 ** 40)]);
    // Tag 2 / tag 3: 2^64 and -1 - 2^64.
    expect(cbor.decode(Buffer.from('81c249010000000000000000', 'hex'))).toEqual([2 ** 64]);
    expect(cbor.decode(Buffer.from('81c349010000000000000000', 'hex'))).toEqual([-1 - 2 ** 64]);
  });

  it('does not change a message it encodes (messages are shared between receivers)', () => {
    const inner = { a: undefined, n: 2 ** 40 };
    const m = [50, 1, {}, [2 ** 40, undefined], inner];
    for (const s of all) s.encode(m);
    expect(m).toEqual([50, 1, {}, [2 ** 40, undefined], { a: undefined, n: 2 ** 40 }]);
    expect(m[4]).toBe(inner);
    expect('a' in inner).toBe(true);
    expect(typeof (m[3] as unknown[])[0]).toBe('number');
  });

  it('msgpack writes dicts as maps (fixmap for small ones), str and bin distinctly', () => {
    const bytes = msgpack.encode([{ a: 'x' }, Buffer.from([1])]);
    // 0x92 array(2), 0x81 fixmap(1), 0xa1 'a', 0xa1 'x', 0xc4 0x01 bin8(1)
    expect(bytes.toString('hex')).toBe('9281a161a178c40101');
  });

  it('cbor writes dicts as maps and bytes as plain byte strings, with no tags', () => {
    const bytes = cbor.encode([{ a: 'x' }, Buffer.from([1]), new Uint8Array([2])]);
    // 0x83 array(3), 0xa1 map(1), 0x61 'a', 0x61 'x', 0x41 0x01 bytes(1), 0x41 0x02 bytes(1)
    expect(bytes.toString('hex')).toBe('83a161616178410141 02'.replace(' ', ''));
  });

  it('JSON uses the \\u0000+base64 convention for bytes, both ways', () => {
    expect(json.encode([1, Buffer.from('hi')]).toString()).toBe('[1,"\\u0000aGk="]');
    expect(json.encode([1, new Uint8Array(0)]).toString()).toBe('[1,"\\u0000"]');
    const back = json.decode(Buffer.from('[1,"\\u0000aGk=",{"k":"\\u0000"}]')) as unknown[];
    expect(back).toEqual([1, Buffer.from('hi'), { k: Buffer.alloc(0) }]);
    expect(back[1]).toBeInstanceOf(Buffer);
  });

  it('JSON converts only strings that start with NUL', () => {
    expect(json.decode(Buffer.from('[1,"a\\u0000b","\\\\u0000aGk="]'))).toEqual([1, 'a\u0000b', '\\u0000aGk=']);
    expect(json.encode([1, 'a\u0000b']).toString()).toBe('[1,"a\\u0000b"]');
  });

  it('rejects malformed input', () => {
    expect(() => json.decode(Buffer.from('[1, 2'))).toThrow();
    expect(() => json.decode(Buffer.from('[1] x'))).toThrow();
    expect(() => json.decode(Buffer.from([0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d]))).toThrow(); // invalid UTF-8
    expect(() => json.decode(Buffer.from([0x5b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x5d]))).toThrow(); // UTF-16 surrogate in UTF-8
    expect(() => msgpack.decode(Buffer.from([0x93, 0x01]))).toThrow();
    expect(() => msgpack.decode(Buffer.from([0x91, 0x01, 0x02]))).toThrow(); // bytes left over
    expect(() => cbor.decode(Buffer.from([0x83, 0x01]))).toThrow();
    expect(() => cbor.decode(Buffer.from([0x81, 0x01, 0x02]))).toThrow();
  });

  it('maps names, subprotocols and RawSocket ids, and nothing else', () => {
    expect(SERIALIZER_NAMES).toEqual(['json', 'msgpack', 'cbor', 'ubjson']);
    for (const name of SERIALIZER_NAMES) {
      const s = getSerializer(name);
      expect(s.name).toBe(name);
      expect(serializerFromSubprotocol(subprotocolOf(name))).toBe(s);
      expect(serializerFromRawSocketId(s.rawSocketId)).toBe(s);
    }
    expect([json.rawSocketId, msgpack.rawSocketId, cbor.rawSocketId, ubjson.rawSocketId]).toEqual([1, 2, 3, 4]);
    expect([json.binary, msgpack.binary, cbor.binary, ubjson.binary]).toEqual([false, true, true, true]);
    expect(subprotocolOf('ubjson')).toBe('wamp.2.ubjson');
    for (const p of ['wamp.2.flatbuffers', 'wamp.2.json.batched', 'wamp.2.constructor', 'wamp.2.__proto__', 'json', '']) {
      expect(serializerFromSubprotocol(p)).toBeUndefined();
    }
    for (const id of [0, 5, 15]) expect(serializerFromRawSocketId(id)).toBeUndefined();
    expect(() => getSerializer('flatbuffers' as SerializerName)).toThrow(/unknown serializer/);
    expect(() => getSerializer('toString' as SerializerName)).toThrow(/unknown serializer/);
  });
});
