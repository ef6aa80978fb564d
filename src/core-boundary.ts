// The boundary between a transport (which owns a socket, or an in-process queue) and the router core,
// in neither: transports, in-process clients and the core all import it, and it imports only wamp/
// and the settings' types.
// The core sees only `Transport`; a transport sees only `SessionHandle`.

import type { Dict, WampMessage } from './wamp/message.js';
import type { AuthConfig, SendQueuePolicy } from './config/types.js';

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
  /** TLS connections: the client certificate and channel bindings (src/transports/tls-session.ts). */
  tlsSession?: TlsSession;
  /** WebSocket cookie tracking (Crossbar's `cookie`): the client's cookie and what it was authenticated as. */
  cookie?: CookieTracking;
}

export type ChannelBindingType = 'tls-unique' | 'tls-exporter';

/** What authentication may ask of a TLS connection. */
export interface TlsSession {
  /** The client's certificate, if it presented one that verified against the listener's CA. */
  clientCertificate(): ClientCertificate | undefined;
  /** The 32-byte channel ID of this connection, or undefined where the binding is not defined (TLS version). */
  channelBinding(type: ChannelBindingType): Buffer | undefined;
}

/** A client certificate as Crossbar hands it to authenticators (`transport.client_cert`). */
export interface ClientCertificate {
  md5: string;
  sha1: string;
  sha256: string;
  expired: boolean;
  serial: string;
  not_before: string;
  not_after: string;
  subject: Record<string, string>;
  issuer: Record<string, string>;
}

/** An identity a tracking cookie was authenticated as, on `realm`. */
export interface CookieIdentity {
  realm: string;
  authid: string;
  authrole: string;
  authmethod: string;
  authextra?: Dict;
}

/** The tracking cookie of one WebSocket connection (src/transports/cookie-store.ts). */
export interface CookieTracking {
  /** The cookie's value (Crossbar's cbtid). */
  readonly id: string;
  /** What the cookie was last authenticated as, if anything. */
  identity(): CookieIdentity | undefined;
  /** Records a successful authentication (undefined: forget it). */
  remember(identity: CookieIdentity | undefined): void;
  /** The client logged out (GOODBYE `wamp.close.logout`): the identity is forgotten, the cookie's other connections closed. */
  logout(): void;
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
  /**
   * The router is stopping (SIGTERM, `systemctl restart`): close the way clients read as "come back
   * later" — no WAMP GOODBYE or ABORT, which Autobahn|JS takes as final; WebSocket close 1001
   * "going away". Absent: `close()` does that already (RawSocket, MQTT: the connection just closes).
   */
  goAway?(): void;
  /** The outbound queue and what it cost this peer; absent for transports without one (in-process). */
  sendQueue?(): SendQueueStats;
  /**
   * True while more than `max_send_queue` bytes wait to be written to the peer: the dealer then
   * treats the peer as a busy callee instead of piling invocations on it (which would close it).
   */
  sendBacklogged?(): boolean;
  /**
   * Sends an EVENT whose payload is still the bytes an MQTT client published (src/wamp/raw-payload.ts)
   * as those bytes, so the broker need not decode it for this peer (the MQTT listener's sessions).
   */
  readonly readsRawPayloads?: boolean;
}

/**
 * A network transport bounds what waits to be written to its peer (`max_send_queue`). While the
 * queue is over the limit, EVENTs to the peer are dropped (`drop-events`), or the session is closed
 * (`disconnect`, and `drop-events` when other messages would pile up past twice the limit).
 */
export interface SendQueueStats {
  /** Bytes accepted for sending and not yet written to the socket. */
  bytes: number;
  limit: number;
  policy: SendQueuePolicy;
  /** EVENTs not sent to this peer because its queue was over the limit. */
  droppedEvents: number;
  /** The queue went over the limit at least once. */
  slow: boolean;
  /** The session was closed for being too slow. */
  disconnected: boolean;
}

/** What the router hands back to a transport for each new connection. */
export interface SessionHandle {
  /** WELCOME was sent: until then a transport holds its peer to `max_unauthenticated_bytes`. */
  readonly established: boolean;
  /** Who the realm welcomed the peer as (empty strings until WELCOME). */
  readonly authid: string;
  readonly authrole: string;
  readonly authmethod: string;
  /** A decoded message from the peer (its shape is checked by the session, not the transport). */
  receive(message: unknown): void;
  /** The transport could not decode a frame, or the peer broke framing rules. */
  protocolError(reason: string): void;
  /** The connection is gone (closed by either side, or dropped). Idempotent. */
  transportClosed(): void;
  /**
   * The peer does not read fast enough: its send queue went over the limit for the first time
   * (`disconnecting` false: events are being dropped), or the transport is closing it for that
   * (`disconnecting` true; transportClosed follows). Informational: the transport acts by itself.
   */
  slowConsumer?(disconnecting: boolean): void;
  /** May the session do `action` on `uri`: the decision its own request would get (see Session). */
  authorize(action: 'call' | 'register' | 'publish' | 'subscribe', uri: string): boolean | Promise<boolean>;
}

export interface SessionOptions {
  /** Authentication methods this transport allows; absent = anonymous with role "anonymous". */
  auth?: AuthConfig;
  /**
   * ms a client may take to open its session (HELLO, and AUTHENTICATE when challenged) once the
   * transport is up; time the router itself spends (authenticators, the failed-login throttle)
   * does not count. 0 or absent: no limit (in-process sessions).
   */
  openTimeoutMs?: number;
  /** The router's own services (meta API, service caller): hidden from the meta API; privileged too. */
  internal?: boolean;
  /**
   * The router's own components (bridge and board procedures, setup reveal): may register and
   * publish in the reserved namespaces (`wamp.*`, `junction.*`), and are listed like any session.
   */
  privileged?: boolean;
}

/** Implemented by the Router: every transport opens its sessions through this one door. */
export interface SessionFactory {
  openSession(transport: Transport, options?: SessionOptions): SessionHandle;
  /** Retained events the realm keeps (the MQTT listener's $SYS/broker/retained messages/count); undefined for no such realm. */
  retainedCount?(realm: string): number | undefined;
}
