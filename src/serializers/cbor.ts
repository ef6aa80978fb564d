import { Encoder } from 'cbor-x';
import type { WampMessage } from '../wamp/message.js';
import type { Serializer } from './serializer.js';
import { widenIntegers } from './wide-integers.js';

// Plain CBOR (RFC 8949) maps and arrays, no record extension tags; 64-bit integers as numbers.
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, int64AsNumber: true, variableMapSize: true, tagUint8Array: false } as ConstructorParameters<typeof Encoder>[0]);

export const cborSerializer: Serializer = {
  name: 'cbor',
  binary: true,
  rawSocketId: 3,
  encode(message: WampMessage): Buffer {
    return encoder.encode(widenIntegers(message));
  },
  decode(data: Buffer): unknown {
    return encoder.decode(data);
  },
};
