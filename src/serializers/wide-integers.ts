// msgpackr and cbor-x encode integers beyond 32 bits as float64 (they keep int64 for BigInt only).
// WAMP IDs reach 2^53 and payloads carry millisecond timestamps: peers such as Autobahn|Python
// must receive them as integers. This walk turns such numbers into BigInt, copying only the arrays
// and objects on the way to one (messages are shared with other receivers and must not change).

const INT32_MIN = -0x80000000;
const UINT32_MAX = 0xffffffff;

function isWideInteger(v: number): boolean {
  return (v > UINT32_MAX || v < INT32_MIN) && Number.isSafeInteger(v);
}

export function widenIntegers(value: unknown): unknown {
  if (typeof value === 'number') return isWideInteger(value) ? BigInt(value) : value;
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const w = widenIntegers(v);
      if (w !== v) {
        copy ??= value.slice();
        copy[i] = w;
      }
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  const obj = value as Record<string, unknown>;
  for (const key in obj) {
    const v = obj[key];
    const w = widenIntegers(v);
    if (w !== v) {
      copy ??= { ...obj };
      copy[key] = w;
    }
  }
  return copy ?? value;
}
