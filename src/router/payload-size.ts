// What a decoded message costs the router while it keeps it: an estimate in bytes, close to its
// encoded size (strings by length, binary by byteLength, 8 per number, a few per container), for
// byte budgets such as pending calls, retained events and event history. It walks the value without allocating; what lies deeper than
// MAX_DEPTH counts as one container (decoders bound nesting; the message size bounds the rest).

const MAX_DEPTH = 64;
const CONTAINER = 8;

export function approximateBytes(value: unknown, depth = 0): number {
  switch (typeof value) {
    case 'string':
      return value.length + 2;
    case 'number':
    case 'bigint':
      return 8;
    case 'boolean':
      return 4;
    case 'object': {
      if (value === null) return 4;
      if (ArrayBuffer.isView(value)) return value.byteLength;
      if (value instanceof ArrayBuffer) return value.byteLength;
      if (depth >= MAX_DEPTH) return CONTAINER;
      let bytes = CONTAINER;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) bytes += approximateBytes(value[i], depth + 1) + 1;
      } else {
        // Own keys only, as an encoder writes them: for...in also walks the prototype, whose
        // getters may throw on this object (an in-process dict whose '__proto__' was assigned a Buffer).
        for (const key in value) {
          if (Object.hasOwn(value, key)) bytes += key.length + 3 + approximateBytes((value as Record<string, unknown>)[key], depth + 1);
        }
      }
      return bytes;
    }
    default:
      return 4;
  }
}
