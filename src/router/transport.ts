// The boundary between a transport (which owns a socket, or an in-process queue) and the router core.
// The core sees only `Transport`; a transport sees only `SessionHandle`.

import type { WampMessage } from '../wamp/message.js';
import type { AuthConfig } from '../config/types.js';

/**
 * One encoding of a message per serializer, shared by every receiver of that same message
 * (an EVENT fanned out to many subscribers). Keyed by serializer name; transports fill it lazily.
 */
export type EncodingCache = { [serializer: string]: Buffer | string | undefined };

export interface TransportInfo {
  /** 'websocket' | 'rawsocket' | 'local' */
  type: string;
  /** Serializer name in use ('json', 'msgpack', 'cbor'; 'native' for in-process). */
  serializer: string;
  /** e.g. 'tcp4:127.0.0.1:53122', 'unix', 'local:mqtt-bridge' */
  peer: string;
  /** WebSocket subprotocol, e.g. 'wamp.2.json' */
  protocol?: string;
  tls?: boolean;
}

export interface Transport {
  readonly info: TransportInfo;
  /**
   * Send one message. Returns false when the message was not sent because it exceeds what the peer
   * accepts (its announced max length), so the router can answer with payload_size_exceeded;
   * a closed transport drops the message and returns true.
   */
  send(message: WampMessage, cache?: EncodingCache): boolean;
  /** Close the connection once queued messages are flushed. Idempotent. */
  close(): void;
}

/** What the router hands back to a transport for each new connection. */
export interface SessionHandle {
  /** A decoded message from the peer (its shape is checked by the session, not the transport). */
  receive(message: unknown): void;
  /** The transport could not decode a frame, or the peer broke framing rules. */
  protocolError(reason: string): void;
  /** The connection is gone (closed by either side, or dropped). Idempotent. */
  transportClosed(): void;
}

export interface SessionOptions {
  /** Authentication methods this transport allows; absent = anonymous with role "anonymous". */
  auth?: AuthConfig;
  /** The router's own components (meta API): may register and publish under `wamp.*`. */
  internal?: boolean;
}

/** Implemented by the Router: every transport opens its sessions through this one door. */
export interface SessionFactory {
  openSession(transport: Transport, options?: SessionOptions): SessionHandle;
}
