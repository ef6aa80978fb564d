import { Packr } from 'msgpackr';
import type { WampMessage } from '../wamp/message.js';
import type { Serializer } from './serializer.js';
import { widenIntegers } from './wide-integers.js';

// Plain maps and arrays only (no records/structures extensions peers cannot read); 64-bit integers
// decode as numbers, never BigInt.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number', moreTypes: false });

export const msgpackSerializer: Serializer = {
  name: 'msgpack',
  binary: true,
  rawSocketId: 2,
  encode(message: WampMessage): Buffer {
    return packr.pack(widenIntegers(message));
  },
  decode(data: Buffer): unknown {
    return packr.unpack(data);
  },
};
