// CBOR (RFC 8949) as Autobahn|JS and Autobahn|Python read and write it.

import { createRequire } from 'node:module';
import type { Encoder } from 'cbor-x';
import type { WampMessage } from '../wamp/message.js';
import type { Serializer } from './serializer.js';
import { forBinaryEncoding } from './wire-values.js';

// Loaded on first use: a router whose clients all speak JSON never carries cbor-x in memory.
const requireLazily = createRequire(import.meta.url);
let encoder: Encoder | undefined;

// Bignums (tags 2 and 3, integers beyond 64 bits) would decode as BigInt, which nothing else in a
// message is and JSON cannot encode for other receivers: they become numbers, as with int64AsNumber
// and as JSON.parse does with big integers. (cbor-x keeps tag decoders process-wide.)
function bignum(bytes: Uint8Array): number {
  let value = 0;
  for (const b of bytes) value = value * 256 + b;
  return value;
}

function codec(): Encoder {
  if (encoder) return encoder;
  const cbor = requireLazily('cbor-x') as typeof import('cbor-x');
  type Extension = Parameters<typeof cbor.addExtension>[0];
  cbor.addExtension({ tag: 2, decode: (bytes: Uint8Array) => bignum(bytes) } as unknown as Extension);
  cbor.addExtension({ tag: 3, decode: (bytes: Uint8Array) => -1 - bignum(bytes) } as unknown as Extension);
  // Shared references (tags 28 and 29) build aliased or cyclic values, which no other serializer can
  // write and no WAMP message needs (found by test/fuzz): a message that uses them does not decode.
  for (const tag of [28, 29]) {
    cbor.addExtension({ tag, decode: () => { throw new Error(`CBOR tag ${tag} (shared reference) is not supported`); } } as unknown as Extension);
  }
  // Plain maps, arrays and byte strings: no record extension, no tag on Uint8Arrays. 64-bit integers
  // decode as numbers; variableMapSize writes the shortest map header.
  encoder = new cbor.Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false, int64AsNumber: true } as ConstructorParameters<typeof cbor.Encoder>[0]);
  return encoder;
}

export const cborSerializer: Serializer = {
  name: 'cbor',
  binary: true,
  rawSocketId: 3,
  encode(message: WampMessage): Buffer {
    return codec().encode(forBinaryEncoding(message));
  },
  decode(data: Buffer): unknown {
    // Throws on truncated input and on bytes left over after the message.
    return codec().decode(data);
  },
};
