// MessagePack (spec v5, str/bin distinct) as Autobahn|JS and Autobahn|Python read and write it.

import { Packr } from 'msgpackr';
import type { WampMessage } from '../wamp/message.js';
import type { Serializer } from './serializer.js';
import { forBinaryEncoding } from './wire-values.js';

// Plain maps and arrays only: no records/structures or other msgpackr extensions peers cannot read.
// 64-bit integers decode as numbers, never BigInt. variableMapSize writes fixmap for small dicts, as
// other MessagePack libraries do (measured no slower for usual messages).
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number', variableMapSize: true });

export const msgpackSerializer: Serializer = {
  name: 'msgpack',
  binary: true,
  rawSocketId: 2,
  encode(message: WampMessage): Buffer {
    return packr.pack(forBinaryEncoding(message));
  },
  decode(data: Buffer): unknown {
    // Throws on truncated input and on bytes left over after the message.
    return packr.unpack(data);
  },
};
