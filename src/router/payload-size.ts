// About how much memory a message's payload (args, kwargs) holds, for the byte budgets of what the
// router keeps (retained events, event history): the bytes of its strings and binary values plus a
// fixed cost per value for the objects around them. An estimate, walked once when an event is
// kept, not an exact heap size.

/** Per value: its slot in an array or object and the object header, roughly. */
const VALUE_COST = 16;
/** Deeper than this, a value is counted as one slot (decoders bound the depth long before). */
const MAX_DEPTH = 64;

export function payloadBytes(value: unknown, depth = 0): number {
  if (typeof value === 'string') return VALUE_COST + value.length;
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return VALUE_COST;
  if (ArrayBuffer.isView(value)) return VALUE_COST + value.byteLength;
  let bytes = VALUE_COST;
  if (Array.isArray(value)) {
    for (const item of value) bytes += payloadBytes(item, depth + 1);
    return bytes;
  }
  for (const key in value) bytes += key.length + payloadBytes((value as Record<string, unknown>)[key], depth + 1);
  return bytes;
}
