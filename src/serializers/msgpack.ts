// MessagePack (spec v5, str/bin distinct) as Autobahn|JS and Autobahn|Python read and write it.

import { createRequire } from 'node:module';
import type { Packr } from 'msgpackr';
import type { WampMessage } from '../wamp/message.js';
import type { Serializer } from './serializer.js';
import { forBinaryEncoding } from './wire-values.js';

// Plain maps and arrays only: no records/structures or other msgpackr extensions peers cannot read.
// 64-bit integers decode as numbers, never BigInt. variableMapSize writes fixmap for small dicts, as
// other MessagePack libraries do (measured no slower for usual messages).
// Loaded on first use: a router whose clients all speak JSON never carries msgpackr in memory.
const requireLazily = createRequire(import.meta.url);
let packr: Packr | undefined;
function codec(): Packr {
  if (packr) return packr;
  const { Packr: PackrClass } = requireLazily('msgpackr') as typeof import('msgpackr');
  packr = new PackrClass({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number', variableMapSize: true });
  return packr;
}

export const msgpackSerializer: Serializer = {
  name: 'msgpack',
  binary: true,
  rawSocketId: 2,
  encode(message: WampMessage): Buffer {
    return codec().pack(forBinaryEncoding(message));
  },
  decode(data: Buffer): unknown {
    // Throws on truncated input and on bytes left over after the message.
    return codec().unpack(data);
  },
};
