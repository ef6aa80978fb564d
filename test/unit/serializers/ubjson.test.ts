// The UBJSON codec against bytes py-ubjson 0.16.1 (Autobahn|Python's ubjson backend, Debian
// python3-ubjson) wrote, recorded below, and against hostile input.
import { describe, it, expect } from 'vitest';
import { decodeUbjson, encodeUbjson } from '../../../src/serializers/ubjson.js';

const hex = (h: string) => Buffer.from(h, 'hex');

// ubjson.dumpb(VALUE) and ubjson.dumpb(VALUE, container_count=True), from py-ubjson.
const VALUE = { a: [1, -1, 300, -40000, 2 ** 40, 2 ** 53, 1.5, true, null, 'grüße'], b: Buffer.from([0, 1, 0xfe, 0xff]), n: { x: {} } };
const PY_PLAIN = '7b5501615b550169ff49012c6cffff63c04c00000100000000004c0020000000000000443ff8000000000000545a5355076772c3bcc39f655d5501625b24552355040001feff55016e7b5501787b7d7d7d';
const PY_COUNTED = '7b2355035501615b23550a550169ff49012c6cffff63c04c00000100000000004c0020000000000000443ff8000000000000545a5355076772c3bcc39f655501625b24552355040001feff55016e7b2355015501787b235500';

describe('UBJSON', () => {
  it('writes what py-ubjson writes: smallest integer types, float64, strings, bytes as [$U#', () => {
    expect(encodeUbjson(VALUE).toString('hex')).toBe(PY_PLAIN);
  });

  it("reads py-ubjson's plain and counted containers, bytes as a Buffer", () => {
    for (const h of [PY_PLAIN, PY_COUNTED]) {
      const v = decodeUbjson(hex(h)) as typeof VALUE;
      expect(v).toEqual(VALUE);
      expect(Buffer.isBuffer(v.b)).toBe(true);
    }
  });

  it('reads char, float32, high-precision numbers, no-ops and typed containers', () => {
    expect(decodeUbjson(hex('4378'))).toBe('x'); // py-ubjson writes a one-character string as C
    expect(decodeUbjson(hex('48551631313830353931363230373137343131333033343234'))).toBe(2 ** 70); // 2**70 as H
    expect(decodeUbjson(hex('643fc00000'))).toBe(1.5); // d
    expect(decodeUbjson(Buffer.from('[N[$i#U\x03\x01\x02\x03N]', 'latin1'))).toEqual([[1, 2, 3]]);
    expect(decodeUbjson(Buffer.from('{$T#U\x02U\x01aU\x01b', 'latin1'))).toEqual({ a: true, b: true });
    expect(decodeUbjson(Buffer.from('{NU\x01aZ}', 'latin1'))).toEqual({ a: null });
  });

  it('round-trips a WAMP message with IDs up to 2^53, negatives, floats and nesting', () => {
    const msg = [48, 2 ** 53, { receive_progress: true }, 'com.example.add', [-(2 ** 40), 0.1, -2.5, 'x', [[[]]], { k: [null] }], { deep: { er: 1 } }];
    expect(decodeUbjson(encodeUbjson(msg))).toEqual(msg);
  });

  it('makes a "__proto__" key an own property, never the prototype', () => {
    const v = decodeUbjson(Buffer.from('{U\x09__proto__{U\x01xT}}', 'latin1')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect((v as { x?: unknown }).x).toBeUndefined();
  });

  it('refuses truncated input, trailing bytes, unknown markers, bad UTF-8, counts beyond the message, deep nesting', () => {
    const bad = [
      '', '5b', '5b55', '53550a6162', // truncated
      '5a5a', // bytes after the value
      '51', // unknown marker Q
      '5355 02 c328'.replace(/ /g, ''), // invalid UTF-8
      Buffer.from('[$Z#l\x7f\xff\xff\xff', 'latin1').toString('hex'), // 2^31 nulls from 9 bytes
      Buffer.from('[#I\x7f\xff', 'latin1').toString('hex'),
      Buffer.from('[$U', 'latin1').toString('hex'), // typed without a count
      Buffer.from('S\x69\xff', 'latin1').toString('hex'), // negative length
      '5b'.repeat(300) + '5d'.repeat(300), // nesting beyond the limit
    ];
    for (const h of bad) expect(() => decodeUbjson(hex(h)), h).toThrow();
  });
});
