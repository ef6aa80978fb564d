// JSON with WAMP's binary convention: bytes travel as the string "\u0000" + base64, both ways.

import type { WampMessage } from '../wamp/message.js';
import type { Serializer } from './serializer.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** A string starting with NUL, as JSON text: the only way binary appears in a message. */
const BINARY_STRING_START = '"\\u0000';

function reviveBinary(_key: string, value: unknown): unknown {
  return typeof value === 'string' && value.charCodeAt(0) === 0 ? Buffer.from(value.slice(1), 'base64') : value;
}

/** Runs with `this` = the holder, whose raw value has not been through Buffer#toJSON yet. */
function replaceBinary(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (raw instanceof Uint8Array) return '\u0000' + Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  return value;
}

/**
 * Whether a Uint8Array (Buffer included) is anywhere in the value. A replacer function turns V8's
 * fast JSON.stringify into a slow one (2-3× on typical messages), so it is used only when this says
 * so. Why a walk and not a look at the text: Buffers do show (their toJSON gives
 * {"type":"Buffer","data":[…]}), but a plain Uint8Array from an in-process client serializes as
 * {"0":…} and an empty one as {}, which nothing in the text tells from a dict. Measured: ~5% of the
 * encode for usual messages, ~9% for large payloads.
 */
function containsBytes(value: object): boolean {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'object' && v !== null && containsBytes(v)) return true;
    }
    return false;
  }
  if (value instanceof Uint8Array) return true;
  const obj = value as Record<string, unknown>;
  for (const key in obj) {
    const v = obj[key];
    if (typeof v === 'object' && v !== null && containsBytes(v)) return true;
  }
  return false;
}

export const jsonSerializer: Serializer = {
  name: 'json',
  binary: false,
  rawSocketId: 1,
  encode(message: WampMessage): Buffer {
    const text = containsBytes(message) ? JSON.stringify(message, replaceBinary) : JSON.stringify(message);
    return Buffer.from(text, 'utf8');
  },
  decode(data: Buffer, utf8Checked = false): unknown {
    // Invalid UTF-8 throws here (fatal decoder) rather than turning into U+FFFD.
    const text = utf8Checked ? data.toString('utf8') : utf8.decode(data);
    // The reviver runs a function per value: only when a binary string may be there. A string
    // search on the text is cheaper than Buffer#includes (measured).
    return text.includes(BINARY_STRING_START) ? JSON.parse(text, reviveBinary) : JSON.parse(text);
  },
};
