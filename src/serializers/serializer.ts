import type { WampMessage } from '../wamp/message.js';

export type SerializerName = 'json' | 'msgpack' | 'cbor' | 'ubjson';

/** Encodes and decodes whole WAMP messages. Implementations must throw on malformed input. */
export interface Serializer {
  readonly name: SerializerName;
  /** true: binary WebSocket frames; false: text frames (JSON). */
  readonly binary: boolean;
  /** RawSocket serializer id (1 JSON, 2 MessagePack, 3 CBOR, 4 UBJSON). */
  readonly rawSocketId: number;
  encode(message: WampMessage): Buffer;
  /**
   * `utf8Checked`: the transport already validated the bytes as UTF-8 (WebSocket text frames), so
   * a text serializer need not do it again.
   */
  decode(data: Buffer, utf8Checked?: boolean): unknown;
}
