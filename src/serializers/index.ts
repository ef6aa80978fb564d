import type { Serializer, SerializerName } from './serializer.js';
import { jsonSerializer } from './json.js';
import { msgpackSerializer } from './msgpack.js';
import { cborSerializer } from './cbor.js';

export type { Serializer, SerializerName } from './serializer.js';

const BY_NAME: Record<SerializerName, Serializer> = { json: jsonSerializer, msgpack: msgpackSerializer, cbor: cborSerializer };

export const SERIALIZER_NAMES: readonly SerializerName[] = ['json', 'msgpack', 'cbor'];

export function getSerializer(name: SerializerName): Serializer {
  return BY_NAME[name];
}

/** 'wamp.2.json' → the JSON serializer; undefined for anything else. */
export function serializerFromSubprotocol(protocol: string): Serializer | undefined {
  if (!protocol.startsWith('wamp.2.')) return undefined;
  return BY_NAME[protocol.slice(7) as SerializerName];
}

export function serializerFromRawSocketId(id: number): Serializer | undefined {
  return SERIALIZER_NAMES.map((n) => BY_NAME[n]).find((s) => s.rawSocketId === id);
}
