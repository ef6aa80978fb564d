// What MessagePack and CBOR need done to a message before msgpackr / cbor-x see it:
// - Integers beyond 32 bits: both libraries write them as float64 (they keep int64 for BigInt only).
//   WAMP IDs reach 2^53 and payloads carry millisecond timestamps, and peers such as Autobahn|Python
//   must receive them as integers, so such numbers become BigInt here.
// - undefined: msgpackr writes an extension type and cbor-x CBOR's `undefined`, neither of which
//   Autobahn reads back as nil. It gets JSON's treatment instead: a key holding it is left out, an
//   array slot becomes null (the router builds dicts with optional fields left undefined).
// Messages are shared with other receivers and must not change, so the walk copies only the arrays
// and objects on the way to a value it replaces; the usual message comes back as is, uncopied.

const INT32_MIN = -0x80000000;
const UINT32_MAX = 0xffffffff;

export function forBinaryEncoding(value: unknown): unknown {
  if (typeof value === 'number') {
    return (value > UINT32_MAX || value < INT32_MIN) && Number.isSafeInteger(value) ? BigInt(value) : value;
  }
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const w = v === undefined ? null : forBinaryEncoding(v);
      if (w !== v) {
        copy ??= value.slice();
        copy[i] = w;
      }
    }
    return copy ?? value;
  }
  const obj = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in obj) {
    const v = obj[key];
    if (v === undefined) {
      copy ??= { ...obj };
      delete copy[key];
      continue;
    }
    const w = forBinaryEncoding(v);
    if (w !== v) {
      copy ??= { ...obj };
      copy[key] = w;
    }
  }
  return copy ?? value;
}
