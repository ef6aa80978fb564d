// How WAMP messages travel in the bodies of long-poll requests, by the protocol the client chose at
// /open: 'wamp.2.<serializer>' carries one message per body; 'wamp.2.<serializer>.batched' any
// number (JSON: each message followed by byte 0x18, which valid JSON text never contains raw;
// MessagePack, CBOR and UBJSON: each preceded by its length as a 4-byte big-endian number), as Autobahn's
// batched serializers frame them.

import { getSerializer, type Serializer, type SerializerName } from '../serializers/index.js';

const JSON_BATCH_END = 0x18;
const LENGTH_PREFIX = 4;

const MIME_TYPES: Readonly<Record<SerializerName, string>> = {
  json: 'application/json; charset=utf-8',
  msgpack: 'application/x-msgpack',
  cbor: 'application/cbor',
  ubjson: 'application/ubjson',
};

export interface LongPollFraming {
  /** As the client named it at /open, e.g. 'wamp.2.json' or 'wamp.2.msgpack.batched'. */
  readonly protocol: string;
  readonly serializer: Serializer;
  readonly batched: boolean;
  /** Content-Type of a receive answer. */
  readonly mimeType: string;
  /** Bytes one encoded message takes in a body (its frame included). */
  framedLength(encoded: Buffer): number;
  /** The body carrying these encoded messages (one when not batched). */
  body(encoded: Buffer[]): Buffer;
  /** The messages of a send body; throws when the body is not framed right. */
  split(body: Buffer): Buffer[];
}

/** The framing for a protocol the client offers, or undefined when it is none of ours. */
export function framingOf(protocol: string, serializers: readonly SerializerName[]): LongPollFraming | undefined {
  const m = /^wamp\.2\.(json|msgpack|cbor|ubjson)(\.batched)?$/.exec(protocol);
  if (!m || !serializers.includes(m[1] as SerializerName)) return undefined;
  const serializer = getSerializer(m[1] as SerializerName);
  const batched = m[2] !== undefined;
  const text = serializer.name === 'json';
  return {
    protocol,
    serializer,
    batched,
    mimeType: MIME_TYPES[serializer.name],
    framedLength: (encoded) => encoded.length + (batched ? (text ? 1 : LENGTH_PREFIX) : 0),
    body: (encoded) => {
      if (!batched) return encoded[0]!;
      const parts: Buffer[] = [];
      for (const e of encoded) {
        if (text) parts.push(e, Buffer.of(JSON_BATCH_END));
        else {
          const prefix = Buffer.alloc(LENGTH_PREFIX);
          prefix.writeUInt32BE(e.length);
          parts.push(prefix, e);
        }
      }
      return Buffer.concat(parts);
    },
    split: (body) => {
      if (!batched) return [body];
      return text ? splitText(body) : splitPrefixed(body);
    },
  };
}

/** The protocols a service speaks, for the error answer to an /open that offers none of them. */
export function protocolsOf(serializers: readonly SerializerName[]): string[] {
  return serializers.flatMap((s) => [`wamp.2.${s}`, `wamp.2.${s}.batched`]);
}

function splitText(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = body.indexOf(JSON_BATCH_END); i >= 0; i = body.indexOf(JSON_BATCH_END, start)) {
    out.push(body.subarray(start, i));
    start = i + 1;
  }
  if (start !== body.length) throw new Error('batched JSON: the last message does not end with byte 0x18');
  return out;
}

function splitPrefixed(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    if (at + LENGTH_PREFIX > body.length) throw new Error('batched body: a length prefix is cut short');
    const length = body.readUInt32BE(at);
    at += LENGTH_PREFIX;
    if (at + length > body.length) throw new Error(`batched body: a message announces ${length} bytes, fewer follow`);
    out.push(body.subarray(at, at + length));
    at += length;
  }
  return out;
}
