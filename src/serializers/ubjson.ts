// UBJSON (Universal Binary JSON, draft 12) as Autobahn|Python's ubjson serializer (py-ubjson)
// reads and writes it: WebSocket subprotocol wamp.2.ubjson, RawSocket serializer id 4.
//
// No maintained npm library exists, so this is a compact codec of its own. Written: null Z, true T,
// false F, integers in the smallest of U i I l L (big-endian), other numbers D (float64), strings S,
// arrays [ ... ], objects { ... } (keys as length + UTF-8, no S marker), and binary (Buffer,
// Uint8Array) as the strongly typed array [$U#n, which py-ubjson reads back as bytes. Read: all of
// that, plus C (char), d (float32), H (high-precision number, as a number), the no-op N, and the
// optimized container forms ($type and #count) of arrays and objects.
//
// Bounds on hostile input: nesting depth (MAX_DEPTH), and a container's #count may not exceed the
// bytes left, so a few bytes cannot make the decoder allocate a huge array (typed containers of
// Z/T/F/N elements take no bytes per element).

import type { WampMessage } from '../wamp/message.js';
import type { Serializer } from './serializer.js';

const MAX_DEPTH = 256;
const utf8 = new TextDecoder('utf-8', { fatal: true });

// ---- encoding ----

class Writer {
  buf = Buffer.allocUnsafe(256);
  pos = 0;

  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
  marker(c: string): void {
    this.room(1);
    this.buf[this.pos++] = c.charCodeAt(0);
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  /** An integer in the smallest type that holds it, marker first. */
  int(v: number): void {
    this.room(9);
    const b = this.buf;
    if (v >= 0 && v <= 0xff) { b[this.pos++] = 0x55; b.writeUInt8(v, this.pos); this.pos += 1; } // U
    else if (v >= -0x80 && v <= 0x7f) { b[this.pos++] = 0x69; b.writeInt8(v, this.pos); this.pos += 1; } // i
    else if (v >= -0x8000 && v <= 0x7fff) { b[this.pos++] = 0x49; b.writeInt16BE(v, this.pos); this.pos += 2; } // I
    else if (v >= -0x80000000 && v <= 0x7fffffff) { b[this.pos++] = 0x6c; b.writeInt32BE(v, this.pos); this.pos += 4; } // l
    else { b[this.pos++] = 0x4c; b.writeBigInt64BE(BigInt(v), this.pos); this.pos += 8; } // L
  }
  float64(v: number): void {
    this.room(9);
    this.buf[this.pos++] = 0x44; // D
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }
  /** Length-prefixed UTF-8: a string after its S marker, or an object key. */
  text(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.int(bytes.length);
    this.bytes(bytes);
  }
}

const INT64_LIMIT = 2 ** 63;

function write(w: Writer, v: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new Error('UBJSON: nesting too deep');
  if (v === null || v === undefined) return w.marker('Z');
  switch (typeof v) {
    case 'boolean': return w.marker(v ? 'T' : 'F');
    case 'number':
      // Whole numbers within int64 as integers (WAMP IDs reach 2^53); the rest as float64.
      if (Number.isInteger(v) && v >= -INT64_LIMIT && v < INT64_LIMIT) return w.int(v);
      return w.float64(v);
    case 'bigint': return v >= -(2n ** 63n) && v < 2n ** 63n ? w.int(Number(v)) : w.float64(Number(v));
    case 'string':
      w.marker('S');
      return w.text(v);
    case 'object': {
      if (v instanceof Uint8Array) {
        w.marker('['); w.marker('$'); w.marker('U'); w.marker('#');
        w.int(v.length);
        return w.bytes(v);
      }
      if (Array.isArray(v)) {
        w.marker('[');
        for (const item of v) write(w, item, depth + 1);
        return w.marker(']');
      }
      w.marker('{');
      const obj = v as Record<string, unknown>;
      for (const key of Object.keys(obj)) {
        if (obj[key] === undefined) continue; // as JSON leaves such keys out
        w.text(key);
        write(w, obj[key], depth + 1);
      }
      return w.marker('}');
    }
    default:
      throw new Error(`UBJSON: cannot encode a ${typeof v}`);
  }
}

export function encodeUbjson(value: unknown): Buffer {
  const w = new Writer();
  write(w, value, 0);
  return w.buf.subarray(0, w.pos);
}

// ---- decoding ----

const M = (c: string) => c.charCodeAt(0);
const Z = M('Z'), N = M('N'), T = M('T'), F = M('F'), U = M('U'), I8 = M('i'), I16 = M('I'), I32 = M('l'), I64 = M('L');
const F32 = M('d'), F64 = M('D'), H = M('H'), C = M('C'), S = M('S'), ARR = M('['), ARR_END = M(']'), OBJ = M('{'), OBJ_END = M('}');
const TYPE = M('$'), COUNT = M('#');

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error('UBJSON: truncated');
  }
  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  peek(): number {
    this.need(1);
    return this.buf[this.pos]!;
  }
  /** A length or count: an integer marker and value, not negative. */
  length(): number {
    const n = this.scalar(this.byte());
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new Error('UBJSON: invalid length');
    return n;
  }
  text(): string {
    const n = this.length();
    this.need(n);
    const s = utf8.decode(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  /** The value of a marker that is not a container. */
  scalar(marker: number): unknown {
    const b = this.buf;
    let v: number;
    switch (marker) {
      case Z: return null;
      case T: return true;
      case F: return false;
      case U: this.need(1); v = b.readUInt8(this.pos); this.pos += 1; return v;
      case I8: this.need(1); v = b.readInt8(this.pos); this.pos += 1; return v;
      case I16: this.need(2); v = b.readInt16BE(this.pos); this.pos += 2; return v;
      case I32: this.need(4); v = b.readInt32BE(this.pos); this.pos += 4; return v;
      case I64: this.need(8); v = Number(b.readBigInt64BE(this.pos)); this.pos += 8; return v;
      case F32: this.need(4); v = b.readFloatBE(this.pos); this.pos += 4; return v;
      case F64: this.need(8); v = b.readDoubleBE(this.pos); this.pos += 8; return v;
      case C: this.need(1); v = b[this.pos++]!; if (v > 0x7f) throw new Error('UBJSON: char beyond ASCII'); return String.fromCharCode(v);
      case S: return this.text();
      case H: {
        const digits = this.text();
        const n = Number(digits);
        if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(digits) || Number.isNaN(n)) throw new Error('UBJSON: invalid high-precision number');
        return n;
      }
      default: throw new Error(`UBJSON: unknown marker 0x${marker.toString(16)}`);
    }
  }
  /** After [ or {: the optimized header ($type, #count), if any. */
  header(): { type?: number; count?: number } {
    let type: number | undefined;
    if (this.peek() === TYPE) {
      this.pos++;
      type = this.byte();
      if (type === N || type === ARR_END || type === OBJ_END || type === TYPE || type === COUNT) throw new Error('UBJSON: invalid container type');
      if (this.peek() !== COUNT) throw new Error('UBJSON: a typed container needs a count');
    }
    let count: number | undefined;
    if (this.peek() === COUNT) {
      this.pos++;
      count = this.length();
      if (count > this.buf.length - this.pos) throw new Error('UBJSON: container count beyond the message');
    }
    return { type, count };
  }
  value(marker: number, depth: number): unknown {
    if (marker === ARR) return this.array(depth + 1);
    if (marker === OBJ) return this.object(depth + 1);
    return this.scalar(marker);
  }
  /** The next value's marker, skipping no-ops. */
  marker(): number {
    let m = this.byte();
    while (m === N) m = this.byte();
    return m;
  }
  array(depth: number): unknown {
    if (depth > MAX_DEPTH) throw new Error('UBJSON: nesting too deep');
    const { type, count } = this.header();
    if (type === U && count !== undefined) {
      // Binary, as py-ubjson writes bytes.
      this.need(count);
      const out = Buffer.from(this.buf.subarray(this.pos, this.pos + count));
      this.pos += count;
      return out;
    }
    const out: unknown[] = [];
    if (count !== undefined) {
      for (let i = 0; i < count; i++) out.push(this.value(type ?? this.marker(), depth));
      return out;
    }
    for (let m = this.marker(); m !== ARR_END; m = this.marker()) out.push(this.value(m, depth));
    return out;
  }
  object(depth: number): unknown {
    if (depth > MAX_DEPTH) throw new Error('UBJSON: nesting too deep');
    const { type, count } = this.header();
    const out: Record<string, unknown> = {};
    const put = (key: string, v: unknown) => {
      // A key "__proto__" is an own property, as JSON.parse makes it, never the object's prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
    };
    if (count !== undefined) {
      for (let i = 0; i < count; i++) {
        const key = this.text();
        put(key, this.value(type ?? this.marker(), depth));
      }
      return out;
    }
    for (;;) {
      while (this.peek() === N) this.pos++;
      if (this.peek() === OBJ_END) { this.pos++; return out; }
      const key = this.text();
      put(key, this.value(this.marker(), depth));
    }
  }
}

export function decodeUbjson(data: Buffer): unknown {
  const r = new Reader(data);
  const v = r.value(r.marker(), 0);
  if (r.pos !== data.length) throw new Error('UBJSON: bytes after the message');
  return v;
}

export const ubjsonSerializer: Serializer = {
  name: 'ubjson',
  binary: true,
  rawSocketId: 4,
  encode(message: WampMessage): Buffer {
    return encodeUbjson(message);
  },
  decode(data: Buffer): unknown {
    return decodeUbjson(data);
  },
};
