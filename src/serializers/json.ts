// JSON with WAMP's binary convention: bytes travel as a string "\u0000" + base64.

import type { WampMessage } from '../wamp/message.js';
import type { Serializer } from './serializer.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** The JSON text of an escaped NUL, which starts every binary string. */
const ESCAPED_NUL = Buffer.from('"\\u0000');
/** What JSON.stringify makes of a Buffer (through Buffer#toJSON): the sign a message holds bytes. */
const BUFFER_MARK = '{"type":"Buffer","data":[';

function reviveBinary(_key: string, value: unknown): unknown {
  return typeof value === 'string' && value.charCodeAt(0) === 0 ? Buffer.from(value.slice(1), 'base64') : value;
}

/** Runs with `this` = the holder, whose raw value has not been through toJSON yet. */
function replaceBinary(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (raw instanceof Uint8Array) return '\u0000' + Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  return value;
}

export const jsonSerializer: Serializer = {
  name: 'json',
  binary: false,
  rawSocketId: 1,
  encode(message: WampMessage): Buffer {
    let text = JSON.stringify(message);
    // Fast path for the usual message without bytes; a Buffer shows up as its toJSON form.
    if (text.includes(BUFFER_MARK)) text = JSON.stringify(message, replaceBinary);
    return Buffer.from(text, 'utf8');
  },
  decode(data: Buffer, utf8Checked = false): unknown {
    const text = utf8Checked ? data.toString('utf8') : utf8.decode(data);
    return data.includes(ESCAPED_NUL) ? JSON.parse(text, reviveBinary) : JSON.parse(text);
  },
};
