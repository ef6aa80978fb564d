// CBOR (RFC 8949) as Autobahn|JS and Autobahn|Python read and write it.

import { addExtension, Encoder } from 'cbor-x';
import type { WampMessage } from '../wamp/message.js';
import type { Serializer } from './serializer.js';
import { forBinaryEncoding } from './wire-values.js';

// Plain maps, arrays and byte strings: no record extension, no tag on Uint8Arrays. 64-bit integers
// decode as numbers; variableMapSize writes the shortest map header.
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false, int64AsNumber: true } as ConstructorParameters<typeof Encoder>[0]);

// Bignums (tags 2 and 3, integers beyond 64 bits) would decode as BigInt, which nothing else in a
// message is and JSON cannot encode for other receivers: they become numbers, as with int64AsNumber
// and as JSON.parse does with big integers. (cbor-x keeps tag decoders process-wide.)
function bignum(bytes: Uint8Array): number {
  let value = 0;
  for (const b of bytes) value = value * 256 + b;
  return value;
}
addExtension({ tag: 2, decode: (bytes: Uint8Array) => bignum(bytes) } as unknown as Parameters<typeof addExtension>[0]);
addExtension({ tag: 3, decode: (bytes: Uint8Array) => -1 - bignum(bytes) } as unknown as Parameters<typeof addExtension>[0]);

export const cborSerializer: Serializer = {
  name: 'cbor',
  binary: true,
  rawSocketId: 3,
  encode(message: WampMessage): Buffer {
    return encoder.encode(forBinaryEncoding(message));
  },
  decode(data: Buffer): unknown {
    // Throws on truncated input and on bytes left over after the message.
    return encoder.decode(data);
  },
};
