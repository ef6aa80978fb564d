// The serializers Junction speaks, by config name, WebSocket subprotocol and RawSocket id.

import type { Serializer, SerializerName } from './serializer.js';
import { jsonSerializer } from './json.js';
import { msgpackSerializer } from './msgpack.js';
import { cborSerializer } from './cbor.js';
import { ubjsonSerializer } from './ubjson.js';

export type { Serializer, SerializerName } from './serializer.js';

export const SERIALIZER_NAMES: readonly SerializerName[] = ['json', 'msgpack', 'cbor', 'ubjson'];

// Maps, not object lookups: a name such as 'constructor' must not find Object.prototype's.
const BY_NAME = new Map<string, Serializer>([jsonSerializer, msgpackSerializer, cborSerializer, ubjsonSerializer].map((s) => [s.name, s]));
const BY_SUBPROTOCOL = new Map<string, Serializer>([...BY_NAME.values()].map((s) => [subprotocolOf(s.name), s]));
const BY_RAWSOCKET_ID = new Map<number, Serializer>([...BY_NAME.values()].map((s) => [s.rawSocketId, s]));

/** Throws for a name that is not a supported serializer (the config loader only lets those through). */
export function getSerializer(name: SerializerName): Serializer {
  const serializer = BY_NAME.get(name);
  if (!serializer) throw new Error(`unknown serializer '${String(name)}'`);
  return serializer;
}

/** 'json' → 'wamp.2.json'. */
export function subprotocolOf(name: SerializerName): string {
  return `wamp.2.${name}`;
}

/** 'wamp.2.json' → the JSON serializer; undefined for anything else (batched modes included). */
export function serializerFromSubprotocol(protocol: string): Serializer | undefined {
  return BY_SUBPROTOCOL.get(protocol);
}

/** RawSocket handshake serializer id (1 JSON, 2 MessagePack, 3 CBOR, 4 UBJSON) → serializer; undefined otherwise. */
export function serializerFromRawSocketId(id: number): Serializer | undefined {
  return BY_RAWSOCKET_ID.get(id);
}
