// Typed, validated configuration: what `loadConfig` produces and what the rest of Junction consumes.
// Nothing at run time reads raw JSON/YAML again; every default is filled in here.
//
// The router part mirrors Crossbar.io's config format (version 2, one worker of type "router").
// Names are camelCase here; the file keys they come from are given in comments.

import type { MatchPolicy } from '../wamp/uri.js';

// The match policy is WAMP's (wamp/uri.ts); re-exported for the config loaders that name it here.
export type { MatchPolicy };
import type { PayloadType } from '../wamp/payload-validation.js';
export type SerializerName = 'json' | 'msgpack' | 'cbor' | 'ubjson';
/** What a transport does with a session whose send queue is over `max_send_queue` (`send_queue_policy`). */
export type SendQueuePolicy = 'drop-events' | 'disconnect';
export const SEND_QUEUE_POLICIES: readonly SendQueuePolicy[] = ['drop-events', 'disconnect'];

export interface PermissionConfig {
  uri: string;
  match: MatchPolicy;
  allow: { call: boolean; register: boolean; publish: boolean; subscribe: boolean };
  disclose: { caller: boolean; publisher: boolean };
  cache: boolean;
  /** `validate`: payload types (tables of the realm's `inventory`) the payloads must match. */
  validate?: PayloadValidationConfig;
}

/** Crossbar's `validate` keys and the PayloadValidationConfig member each sets. */
export const VALIDATE_KEYS = {
  call: 'call',
  call_result: 'callResult',
  call_result_progress: 'callResultProgress',
  call_error: 'callError',
  event: 'event',
} as const satisfies Record<string, keyof PayloadValidationConfig>;

/** A permission's `validate` (Crossbar's keys in camelCase); see wamp/payload-validation.ts. */
export interface PayloadValidationConfig {
  /** CALL args/kwargs; an invalid call is refused with wamp.error.invalid_argument. */
  readonly call?: PayloadType;
  /** YIELD args/kwargs (final result); an invalid one reaches the caller as wamp.error.invalid_argument. */
  readonly callResult?: PayloadType;
  /** Progressive YIELDs; an invalid one ends the call with wamp.error.invalid_argument. */
  readonly callResultProgress?: PayloadType;
  /** The callee's ERROR args/kwargs. */
  readonly callError?: PayloadType;
  /** PUBLISH args/kwargs; an invalid publication is not delivered. */
  readonly event?: PayloadType;
}

export interface RoleConfig {
  name: string;
  permissions: PermissionConfig[];
  /** URI of a procedure that decides each action (dynamic authorization); then `permissions` is empty. */
  authorizer?: string;
}

/** One entry of a realm's `store.call-queue`. */
export interface CallQueueConfig {
  uri: string;
  match: MatchPolicy;
  /** Most calls waiting at once per registration. */
  limit: number;
  /** ms a queued call may wait when it has no timeout of its own (`timeout` key, Junction extension). */
  timeout: number;
}

/** One entry of a realm's `store.event-history`. */
export interface EventHistoryConfig {
  uri: string;
  match: MatchPolicy;
  limit: number;
  /** Approximate payload bytes the entry keeps at most (`max_bytes`, Junction's); the oldest go
   *  first. The loader always sets it; absent = DEFAULT_HISTORY_MAX_BYTES. */
  maxBytes?: number;
}

/** How much the broker keeps of retained events (`store.retained`, Junction's). */
export interface RetainedLimits {
  /** Topics with a retained event, at most (`limit`). */
  maxTopics: number;
  /** Approximate bytes of all retained events together, at most (`max_bytes`). */
  maxBytes: number;
}

export interface RealmStoreConfig {
  type: 'memory';
  limit: number;
  callQueue: CallQueueConfig[];
  eventHistory: EventHistoryConfig[];
  /** The loader always sets it; absent = DEFAULT_RETAINED_LIMITS. */
  retained?: RetainedLimits;
}

/** 'crossbar': what Crossbar (Autobahn's router) sends, which clients written against it expect;
 *  'spec': the WAMP spec's text. */
export type WireDialect = 'crossbar' | 'spec';

// A realm's router links (`rlinks`, src/config/load-rlinks.ts, src/rlink/).
export type RLinkSerializer = 'json' | 'msgpack' | 'cbor' | 'ubjson';

export interface RLinkTransportConfig {
  type: 'websocket' | 'rawsocket';
  /** ws:// or wss:// URL (websocket); derived from `endpoint` when absent. */
  url?: string;
  host: string;
  port: number;
  tls: boolean;
  /** `endpoint.tls` as an object: PEM text of the CA(s) to trust (absent: Node's), a client certificate and key, the name to check. */
  tlsOptions?: RLinkTlsConfig;
  serializers: RLinkSerializer[];
  /** `options`: pings (ms; 0 = off), reconnect backoff and connect timeout (ms). Absent = DEFAULT_RLINK_TRANSPORT_OPTIONS. */
  options?: RLinkTransportOptions;
}

export interface RLinkTransportOptions {
  autoPingInterval: number;
  autoPingTimeout: number;
  retryInitial: number;
  retryMax: number;
  /** How long opening the connection, and then joining the remote realm, may take (absent: the default's). */
  connectTimeout?: number;
}

export const DEFAULT_RLINK_TRANSPORT_OPTIONS: RLinkTransportOptions = { autoPingInterval: 10_000, autoPingTimeout: 5000, retryInitial: 1000, retryMax: 30_000, connectTimeout: 10_000 };

export type RLinkBufferPolicy = 'latest' | 'all' | 'none';

/** What a link keeps of the events for the remote side while it is down (src/rlink/event-buffer.ts). */
export interface RLinkBufferConfig {
  policy: RLinkBufferPolicy;
  /** Most events kept ('all') or topics kept ('latest'). */
  limit: number;
  /** Absolute path: the buffer survives restarts. */
  file?: string;
  /** Per topic prefix; the longest matching prefix wins. */
  rules: Array<{ prefix: string; policy: RLinkBufferPolicy; limit: number }>;
}

export const DEFAULT_RLINK_BUFFER: RLinkBufferConfig = { policy: 'latest', limit: 1000, rules: [] };

export interface RLinkTlsConfig {
  ca?: string;
  certificate?: string;
  key?: string;
  /** Name the remote router's certificate must carry (`hostname`); default the host connected to. */
  servername?: string;
}

export interface RLinkConfig {
  id: string;
  /** The realm joined on the remote router. */
  realm: string;
  transport: RLinkTransportConfig;
  authid?: string;
  authrole?: string;
  /** WAMP-Ticket secret for the remote router. */
  ticket?: string;
  /** WAMP-Cryptosign: the Ed25519 private seed, 64 hex digits (`private_key`). */
  privateKey?: string;
  forwardLocalEvents: boolean;
  forwardRemoteEvents: boolean;
  forwardLocalInvocations: boolean;
  forwardRemoteInvocations: boolean;
  /** Sessions with these authids (resp. authroles) get no forwarded events. */
  excludeAuthid: string[];
  excludeAuthrole: string[];
  /** URIs (Crossbar starred form: 'a.b.*' a prefix) never forwarded in either direction. */
  excludeUri: string[];
  /** `buffer`; absent = DEFAULT_RLINK_BUFFER. */
  buffer?: RLinkBufferConfig;
}

export interface RealmConfig {
  name: string;
  roles: RoleConfig[];
  /** `inventory`: the payload types of its catalogs by qualified name (what a dynamic authorizer's `validate` names). */
  payloadTypes?: ReadonlyMap<string, PayloadType>;
  store?: RealmStoreConfig;
  /** `rlinks`: router-to-router links to remote routers (src/config/load-rlinks.ts, src/rlink/). */
  rlinks?: RLinkConfig[];
  /** URI checking for topics and procedures (`options.uri_check`); default 'loose'. */
  uriCheck?: 'loose' | 'strict';
  /** The wamp.* meta API (`options.enable_meta_api`); default true. */
  enableMetaApi?: boolean;
  /** Where Crossbar and the WAMP spec differ on the wire, whose choice the realm makes
   *  (`options.wire`, Junction's); default 'crossbar'. See src/router-services/wire-dialect.ts. */
  wire?: WireDialect;
  /** Most calls one session may have waiting for an answer (`options.max_pending_calls`); absent =
   *  DEFAULT_MAX_PENDING_CALLS. A CALL beyond it is answered junction.error.too_many_pending_calls. */
  maxPendingCalls?: number;
  /** Bytes of calls one session may have waiting for an answer (`options.max_pending_call_bytes`);
   *  absent = DEFAULT_MAX_PENDING_CALL_BYTES. Past it: junction.error.too_many_pending_calls. */
  maxPendingCallBytes?: number;
  /** The same for all sessions of the realm together (`options.max_pending_call_bytes_total`). */
  maxPendingCallBytesTotal?: number;
  /** Subscriptions one session may hold (`options.max_subscriptions`); absent = DEFAULT_MAX_SUBSCRIPTIONS.
   *  A SUBSCRIBE past it is answered junction.error.too_many_subscriptions. */
  maxSubscriptions?: number;
  /** Bytes all sessions' subscriptions in the realm may take together (`options.max_subscription_bytes`). */
  maxSubscriptionBytes?: number;
}

export interface TlsConfig {
  /** PEM contents (the loader reads the files named in the config). */
  key: string;
  certificate: string;
  ca?: string;
  /** OpenSSL cipher list (`ciphers`), checked by Node at load; absent = Node's default. */
  ciphers?: string;
  /** Diffie-Hellman parameters, PEM (`dhparam`, the file read at load); absent = none (ECDHE only). */
  dhparam?: string;
}

export type EndpointConfig =
  | { type: 'tcp'; port: number; portRange?: PortRange; interface?: string; version?: 4 | 6; backlog?: number; tls?: TlsConfig; maxConnections?: number; onion?: OnionServiceConfig }
  | { type: 'unix'; path: string; backlog?: number; tls?: TlsConfig; maxConnections?: number };
/** An `onion` endpoint (Crossbar's): a tcp endpoint on 127.0.0.1 that a Tor daemon, asked over its
 *  control port, publishes as an onion service (src/transports/onion-service.ts). */
export interface OnionServiceConfig {
  /** `port`: the onion service's virtual port, the one clients dial at <id>.onion. */
  virtualPort: number;
  /** `tor_control_endpoint`: where the Tor daemon's control port listens. */
  control: { type: 'tcp'; host: string; port: number } | { type: 'unix'; path: string };
  /** `private_key_file` (absolute): the service's key, written at the first start, read after. */
  privateKeyFile: string;
}
/** The key Tor's ADD_ONION takes ("ED25519-V3:" and the 64-byte expanded ed25519 secret key in
 *  base64, as Tor hands it out and private_key_file keeps it) from a file's text; undefined if none. */
export function onionKeyOf(text: string): string | undefined {
  const base64 = text.trim().replace(/^ED25519-V3:/, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || Buffer.from(base64, 'base64').length !== 64) return undefined;
  return `ED25519-V3:${base64}`;
}
/** `portrange: [first, last]` (Crossbar's): listen on the first free port of the range, both ends
 *  included; `path` is the key's path, for the start error when none is free. `port` is then 0. */
export interface PortRange { first: number; last: number; path: string }
// maxConnections (`max_connections`, Junction's own): most connections open at once on the
// endpoint; beyond it RawSocket gets handshake error 4 and HTTP/WebSocket a 503. Absent =
// DEFAULT_MAX_CONNECTIONS.

/** Authentication methods allowed on a transport (`auth` block). Each is `static` (principals in
 *  the config) or `dynamic` (a procedure, the authenticator, decides). */
export interface DynamicAuthConfig {
  type: 'dynamic';
  /** URI of the authenticator procedure, called as (realm, authid, details). */
  authenticator: string;
  /** Realm where the authenticator is registered (`authenticator-realm`); default: the realm joined. */
  authenticatorRealm?: string;
}
/** `realm` (Crossbar's key) on a static principal: the only realm it may join, and the realm a HELLO without one is given. */
export type AnonymousAuthConfig = { type: 'static'; role: string; authid?: string; realm?: string } | DynamicAuthConfig;
export type TicketAuthConfig = { type: 'static'; principals: Record<string, { ticket: string; role: string; realm?: string }> } | DynamicAuthConfig;
/** A WAMP-CRA user. With `salt`, `secret` is the derived key (base64 of PBKDF2), as in Crossbar. */
export interface WampcraUser {
  secret: string;
  role: string;
  salt?: string;
  iterations?: number;
  keylen?: number;
  realm?: string;
}
export type WampcraAuthConfig = { type: 'static'; users: Record<string, WampcraUser> } | DynamicAuthConfig;
export interface CryptosignPrincipal {
  /** Ed25519 public keys, 64 hex characters each (lowercase). */
  authorizedKeys: string[];
  role: string;
  realm?: string;
}
export type CryptosignAuthConfig = { type: 'static'; principals: Record<string, CryptosignPrincipal> } | DynamicAuthConfig;
/** What the router holds for a WAMP-SCRAM principal (src/auth/scram.ts): Crossbar's keys, decoded. */
export interface ScramCredential {
  kdf: 'argon2id-13' | 'pbkdf2';
  iterations: number;
  /** Argon2id memory cost, KiB (absent for PBKDF2). */
  memory?: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}
export interface ScramPrincipal extends ScramCredential {
  role: string;
  realm?: string;
}
export type ScramAuthConfig = { type: 'static'; principals: Record<string, ScramPrincipal> } | DynamicAuthConfig;
/** A TLS client-certificate principal: the certificate's SHA-1 fingerprint (`certificate-sha1`,
 *  uppercase hex with colons), or without one, a CA-verified certificate whose CN is the authid. */
export interface TlsPrincipal {
  certificateSha1?: string;
  role: string;
  realm?: string;
}
export type TlsAuthConfig = { type: 'static'; principals: Record<string, TlsPrincipal> } | DynamicAuthConfig;
export interface AuthConfig {
  anonymous?: AnonymousAuthConfig;
  ticket?: TicketAuthConfig;
  wampcra?: WampcraAuthConfig;
  cryptosign?: CryptosignAuthConfig;
  scram?: ScramAuthConfig;
  tls?: TlsAuthConfig;
  /** Crossbar's `cookie`: a client whose tracking cookie was authenticated before joins again by it. */
  cookie?: { type: 'static' };
}

/** Options shared by the WAMP transports (WebSocket `options`, RawSocket `options`). */
export interface WampTransportOptions {
  /** Largest message accepted, bytes (`max_message_size`). */
  maxMessageSize: number;
  /** ms between keep-alive pings; 0 = off (`auto_ping_interval`). */
  autoPingInterval: number;
  /** ms to wait for the pong before dropping the peer (`auto_ping_timeout`). */
  autoPingTimeout: number;
  /** bytes of ping payload (`auto_ping_size`, websocket only). */
  autoPingSize: number;
  /** ms a client may take to finish the opening handshake (`open_handshake_timeout`). */
  openHandshakeTimeout: number;
  /** Origins allowed for browser WebSocket connections; ['*'] = any (`allowed_origins`). */
  allowedOrigins: string[];
  /** Crossbar's WebSocket-only options (compression, frames, status page); absent on RawSocket. */
  websocket?: WebSocketOptions;
  /** Bytes waiting to be written to a peer before `sendQueuePolicy` applies (`max_send_queue`). */
  maxSendQueue: number;
  /** `send_queue_policy`: 'drop-events' drops EVENTs for the session while its queue is over the
   *  limit (any other message still goes, up to twice the limit, then the session is closed);
   *  'disconnect' closes the session as soon as its queue is over the limit. */
  sendQueuePolicy: SendQueuePolicy;
  /** Messages per second a peer may send (`max_messages_per_second`); 0 = no limit. Past it the
   *  transport stops reading the socket until the budget refills: nothing is lost. */
  maxMessagesPerSecond: number;
  /** Messages a peer may send at once before the rate applies (`max_messages_burst`); 0 = the rate. */
  maxMessagesBurst: number;
  /** Bytes a peer may send before its session is established (WELCOME), in all
   *  (`max_unauthenticated_bytes`); a message announced longer is refused at once. */
  maxUnauthenticatedBytes: number;
}

export interface WampServiceConfig {
  serializers: SerializerName[];
  options: WampTransportOptions;
  /** Crossbar's cookie tracking (`cookie`, WebSocket only): src/config/load-cookie.ts. */
  cookie?: CookieConfig;
  /** Absent = anyone joins as role "anonymous" (Crossbar's behaviour with no auth block). */
  auth?: AuthConfig;
}

/** One entry of Crossbar's `payload_mapping`: how payloads under a WAMP URI prefix are read and written. */
export interface PayloadMappingRule {
  prefix: string;
  type: 'native' | 'passthrough' | 'dynamic';
  /** `dynamic` (the MQTT listener only): procedures that decode MQTT payloads and encode WAMP ones,
   *  called in `realm` (default the listener's) as a trusted session of the router. */
  encoder?: string;
  decoder?: string;
  realm?: string;
}

/** The built-in MQTT listener (`type: mqtt`, or `mqtt` inside a universal transport). */
export interface MqttServiceConfig {
  /** The realm MQTT clients join (`options.realm`). */
  realm: string;
  /** Prepended to every URI mapped from a topic (`options.topic_prefix`, Junction's), e.g. 'mqtt.'. */
  topicPrefix: string;
  /** Payload rules by WAMP URI prefix (`options.payload_mapping`), longest first at use. */
  payload: PayloadMappingRule[];
  /** QoS 1/2 messages waiting for one client, at most: while it is away (persistent session) or
   *  behind on acknowledgements (`max_offline_messages`); past it the oldest is dropped. */
  maxOfflineMessages: number;
  /** Bytes of QoS 1/2 messages one session holds for its client (in flight and waiting), at most
   *  (`max_offline_bytes`); past it the oldest waiting is dropped. */
  maxOfflineBytes: number;
  /** Bytes held by all the listener's persistent sessions whose client is away, at most
   *  (`max_offline_bytes_total`); past it the session away longest ends. */
  maxOfflineBytesTotal: number;
  /** Where the persistent sessions are kept across restarts and upgrades (`session_file`); absent: in memory only. */
  sessionFile?: string;
  /** Bytes waiting to be written to one client before `sendQueuePolicy` applies (`max_send_queue`),
   *  as for WAMP transports: QoS 0 messages are dropped past it. */
  maxSendQueue: number;
  /** `send_queue_policy`, as for WAMP transports ('drop-events': QoS 0 dropped, the connection
   *  closed past twice the limit; 'disconnect': closed at the limit). */
  sendQueuePolicy: SendQueuePolicy;
  /** ms a persistent session outlives its connection, at most (`session_expiry`; MQTT 5 clients may ask for less). */
  sessionExpiry: number;
  /** Seconds of keep-alive a client is held to at most (`max_keepalive`; 0 = whatever the client asks, none included). */
  maxKeepalive: number;
  /** QoS 1/2 messages sent to a client and not yet acknowledged, at most (`max_inflight`). */
  maxInflight: number;
  /** Largest packet accepted, bytes (`max_message_size`). */
  maxMessageSize: number;
  /** ms from TCP connect to CONNECT (`open_handshake_timeout`). */
  openHandshakeTimeout: number;
  /** Bytes a client may send until its CONNECT is accepted (CONNACK), in all (`max_unauthenticated_bytes`). */
  maxUnauthenticatedBytes: number;
  /** Seconds between refreshes of the `$SYS/` topics, as mosquitto's `sys_interval` (`sys_interval`); 0 = no `$SYS/` tree. */
  sysInterval: number;
  /** Absent: clients join as role `role` (as for WAMP transports). Only anonymous and ticket apply. */
  auth?: AuthConfig;
  /** Without `auth`: the role every client joins with (`options.role`, Crossbar's key); default 'anonymous'. */
  role?: string;
  /** MQTT 5 request/response ↔ WAMP RPC (`options.rpc`, Junction's). */
  rpc?: MqttRpcConfig;
}

export interface MqttRpcConfig {
  /** The role the gateway's session joins with (default 'trusted'). */
  role: string;
  /** WAMP procedures answered by MQTT 5 devices: a CALL becomes a request published on `topic`. */
  toMqtt: Array<{ procedure: string; topic: string; timeout: number }>;
  /** MQTT 5 clients call WAMP procedures: a request on `<topic>/a/b` calls `<procedure>a.b`. */
  fromMqtt: Array<{ topic: string; procedure: string }>;
}

export interface StaticPathConfig {
  type: 'static';
  /** Absolute directory path (resolved against the config file's directory by the loader). */
  directory: string;
  /** `options` (src/config/load-static.ts): listing, Cache-Control max-age, extra content types. */
  listDirectories?: boolean;
  cacheTimeout?: number;
  mimeTypes?: Record<string, string>;
  /** `options.default_file`, absolute: served (200) for a GET/HEAD of a name a directory of the path does not have (static-files.ts). */
  defaultFile?: string;
}

/** Junction's `dashboard` web path: the built-in status page (src/web/, served by src/transports/dashboard.ts). */
export interface DashboardPathConfig {
  type: 'dashboard';
  /** The built-in assets' directory (dist/web, or src/web when run from source); set by the loader. */
  directory: string;
  /** The realm the page joins (`realm`, default the first realm). */
  realm: string;
  /** The WebSocket path on this listener the page connects to (`websocket`, default its first one). */
  websocket?: string;
  /** First-boot setup file (`setup`, absolute): its credentials are revealed to the page for its
   *  setup code through junction.setup.reveal (src/board/setup-reveal.ts). */
  setup?: string;
}

/** An address (prefix = all its bits) or a network; host bits beyond the prefix do not count. */
export interface IpNetwork { address: string; prefix: number; family: 'ipv4' | 'ipv6' }

/** A web path of `type: publisher`, `caller` or `webhook`: Crossbar's HTTP bridge services
 *  (src/http-bridge/, read by src/config/load-http-bridge.ts). Limits are already resolved. */
export interface HttpBridgePathConfig {
  type: 'publisher' | 'caller' | 'webhook';
  realm: string;
  role: string;
  /** Signed requests only (`options.key` and `options.secret`, both or neither). */
  key?: string;
  secret?: string;
  /** Bytes of body accepted (`post_body_limit`; Crossbar's 0, unlimited, is 1 MiB here). */
  postBodyLimit: number;
  /** Seconds a request's `timestamp` may differ from now (`timestamp_delta_limit`, 0 = any). */
  timestampDeltaLimit: number;
  /** Client addresses allowed (`require_ip`: addresses and networks); absent = any. */
  requireIp?: IpNetwork[];
  requireTls: boolean;
  debug: boolean;
  /** Requests in progress at once; more are answered 503 (`max_concurrent_requests`, Junction's own). */
  maxConcurrentRequests: number;
  /** webhook: the topic, the bodies of its answers, GitHub's shared secret. */
  topic?: string;
  successResponse?: string;
  errorResponse?: string;
  githubSecret?: string;
}

// Web paths that answer HTTP by themselves (src/config/load-web-services.ts, src/transports/web-services.ts).
/** `type: json`: one JSON value, serialized at load. */
export interface JsonPathConfig {
  type: 'json';
  /** The response body: `value` as JSON (pretty unless `options.prettify` is false). */
  body: string;
  /** `options.allow_cross_origin`: CORS headers for any origin. */
  allowCrossOrigin: boolean;
  /** `options.discourage_caching`: headers that keep caches from storing the answer. */
  discourageCaching: boolean;
}

/** `type: redirect`: every GET/HEAD on the path answers 302 to `url`. */
export interface RedirectPathConfig {
  type: 'redirect';
  url: string;
}

/** `type: reverseproxy`: requests below the path are forwarded to http://host:port/path/... */
export interface ReverseProxyPathConfig {
  type: 'reverseproxy';
  host: string;
  /** `port` (default 80). */
  port: number;
  /** `path` (default ""): the base path on the backend, without a trailing '/'. */
  path: string;
  /** Junction's `timeout` (ms, default 30000): longest a request may take, end to end. */
  timeout: number;
  /** Junction's `max_request_body` (bytes, default 16 MiB): larger request bodies get 413. */
  maxRequestBody: number;
}

/** `type: nodeinfo`: a small HTML page about this router (version, start time, PID, the client's address). */
export interface NodeInfoPathConfig {
  type: 'nodeinfo';
}

/** `type: websocket-reverseproxy`: src/config/load-websocket-reverseproxy.ts. */
export interface WebSocketReverseProxyPathConfig {
  type: 'websocket-reverseproxy';
  /** The path's `options`, for the clients' connections (a WebSocket path's options). */
  frontend: WampTransportOptions;
  backend: WebSocketBackendConfig;
}

/** A `websocket-reverseproxy` path's `backend`: the WebSocket server each client connection is forwarded to. */
export interface WebSocketBackendConfig {
  /** `url`: the ws:// or wss:// URL of the backend's opening handshake (its Host header and path). */
  url: string;
  /** `endpoint`: where to connect (the URL's host is not dialled). */
  endpoint: { type: 'tcp'; host: string; port: number; version?: 4 | 6 } | { type: 'unix'; path: string };
  /** `endpoint.tls`: TLS to the backend; `servername` from `hostname`, PEM text of `ca_certificates` (absent: Node's trusted CAs), `certificate`, `key`. */
  tls?: { servername: string; ca?: string[]; certificate?: string; key?: string };
  /** `endpoint.timeout` in ms (Crossbar's seconds × 1000, default 10 s): connect and opening handshake together. */
  connectTimeout: number;
  /** `options`: the backend connection's (max_message_size, auto ping, close handshake, max_send_queue…). */
  options: WampTransportOptions;
}

/** A `path` entry's own URL when nothing in its `paths` answers HTTP there (no "/" entry, or a WebSocket one): 404 there and below, as Crossbar answers. */
export interface NotFoundPathConfig {
  type: 'notfound';
}

export type WebServicePathConfig = JsonPathConfig | RedirectPathConfig | ReverseProxyPathConfig | NodeInfoPathConfig | NotFoundPathConfig | WebSocketReverseProxyPathConfig;

/** A web path of `type: mqtt`: MQTT over WebSocket, with an MQTT service of its own or another transport's. */
export interface MqttWebSocketPathConfig {
  /** The path's own MQTT service (`options`, `auth`: an `mqtt` transport's); absent when it shares `transport`'s. */
  service?: MqttServiceConfig;
  /** The id of the transport whose MQTT service it serves (`transport`): its clients, sessions and `$SYS/` figures. */
  transport?: string;
  /** Origins of the web pages that may connect (`allowed_origins`, as a WAMP WebSocket's: `*` any run of characters). */
  allowedOrigins: string[];
}

/** A web path of `type: longpoll`: WAMP over HTTP long-poll (src/config/load-longpoll.ts). */
export interface LongPollPathConfig {
  /** ms a receive request is held when nothing is queued (`request_timeout`, seconds in the file); 0 = no limit. */
  requestTimeout: number;
  /** ms a transport may go without a request, and without a receive request held, before its session ends (`session_timeout`); 0 = never. */
  sessionTimeout: number;
  /** Bytes of messages waiting for the client's next receive, at most (`queue_limit_bytes`); past it the session ends. */
  queueLimitBytes: number;
  /** Messages waiting for the client's next receive, at most (`queue_limit_messages`); 0 = no count limit. */
  queueLimitMessages: number;
  /** Logs each transport's requests (`debug`). */
  debug: boolean;
  /** Every transport gets this id instead of a random one (`debug_transport_id`): one transport at a time. */
  debugTransportId?: string;
  /** Largest message, and largest request body, accepted (`options.max_message_size`, Junction's). */
  maxMessageSize: number;
  /** Long-poll transports open at once on this path, at most (`options.max_transports`, Junction's); past it /open gets 503. */
  maxTransports: number;
  /** ms a client may take to open its session (HELLO) once the transport is open: as a WebSocket's default. */
  openHandshakeTimeout: number;
  /** Origins of the web pages that may use it (`options.allowed_origins`, Junction's, as a WebSocket path's); ['*'] = any. */
  allowedOrigins: string[];
  /** Absent: clients join as role 'anonymous'. */
  auth?: AuthConfig;
}

/**
 * One listening socket. Crossbar's four WAMP transport types all become one of these:
 * - `websocket`: `websocket` = { '/': service } with `websocketAnyPath` = true
 * - `rawsocket`: only `rawsocket`
 * - `web`: `websocket`, `static` and `mqttWebsocket` from `paths`
 * - `universal`: any of the three, and `mqtt`
 * Paths are normalised to start with '/', e.g. 'ws' → '/ws'; Crossbar's root path '/' stays '/'.
 */
export interface ListenerConfig {
  /** `id` from the file, or `transport<N>` (N = index in `transports`). */
  id: string;
  /** The Crossbar transport type it came from, for logs. */
  kind: 'websocket' | 'rawsocket' | 'web' | 'universal' | 'mqtt' | 'websocket.testee' | 'stream.testee';
  endpoint: EndpointConfig;
  /** Crossbar's testee transports (load-testee.ts): an echo server instead of WAMP. */
  testee?: TesteeConfig;
  rawsocket?: WampServiceConfig;
  websocket: Record<string, WampServiceConfig>;
  /** MQTT clients: an `mqtt` transport, or a universal transport's `mqtt` item (first byte 0x10). */
  mqtt?: MqttServiceConfig;
  /** MQTT over WebSocket by URL path: web paths of `type: mqtt` (subprotocol `mqtt`). */
  mqttWebsocket?: Record<string, MqttWebSocketPathConfig>;
  /** WAMP over HTTP long-poll by URL path: web paths of `type: longpoll` (load-longpoll.ts). */
  longpoll?: Record<string, LongPollPathConfig>;
  /** A plain `websocket` transport answers WebSocket upgrades on any path. */
  websocketAnyPath: boolean;
  /** What HttpSite serves by path prefix: files, the dashboard, web services, HTTP bridge services. */
  static: Record<string, StaticPathConfig | DashboardPathConfig | WebServicePathConfig | HttpBridgePathConfig>;
}

/** `websocket.testee`: every WebSocket message echoed as it came (with the service's `options`);
 *  `stream.testee`: every byte echoed. For the Autobahn|Testsuite, as Crossbar's. */
export type TesteeConfig = { kind: 'websocket'; options: WampTransportOptions } | { kind: 'stream' };

export interface RouterConfig {
  realms: RealmConfig[];
  listeners: ListenerConfig[];
  /** Bytes of unfinished incoming messages all connections together may make the router hold
   *  (the router worker's `options.max_incoming_bytes`); absent = DEFAULT_MAX_INCOMING_BYTES. */
  maxIncomingBytes?: number;
  /** Bytes waiting to be written to all connections together before events to the slow ones are
   *  dropped (the router worker's `options.max_send_queue_total`); absent = DEFAULT_MAX_SEND_QUEUE_TOTAL. */
  maxSendQueueTotal?: number;
}

/** A problem found in a config file, with the JSON path of the key at fault, e.g.
 *  `workers[0].transports[1].endpoint.port` ('' = the whole document). */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** A bridge's TLS settings toward its broker (`tls`; mqtts:// only). PEM contents, read at load. */
export interface MqttBridgeTlsConfig {
  ca?: string;
  certificate?: string;
  key?: string;
  /** Check the broker's certificate (`reject_unauthorized`, default true). */
  rejectUnauthorized: boolean;
  /** Name checked in the broker's certificate (`servername`), default the URL's host. */
  servername?: string;
}

/** One bridge to an external MQTT broker (`bridges.mqtt[i]`, Junction's own section). */
export interface MqttBridgeConfig {
  /** Names the bridge in logs and in junction.bridge.mqtt.* (`id`). */
  id: string;
  /** The realm the bridge's WAMP session joins (`realm`), and its `role` (default 'trusted') and `authid`. */
  realm: string;
  role: string;
  authid: string;
  /**
   * mqtt:// or mqtts:// (`url`: one URL, or a list of a broker cluster's nodes, tried in order and
   * failed over between); never empty.
   */
  urls: string[];
  clientId: string;
  username?: string;
  password?: string;
  /** 5 (default; subscriptions use No Local) or 4 (MQTT 3.1.1). */
  protocolVersion: 4 | 5;
  /** Seconds (`keepalive`). */
  keepalive: number;
  tls?: MqttBridgeTlsConfig;
  /** ms: first retry after a lost or failed connection, doubling up to `maxDelay` (`reconnect`). */
  reconnect: { initialDelay: number; maxDelay: number };
  /** ms to wait for CONNACK (`connect_timeout`). */
  connectTimeout: number;
  /** The topic ↔ URI mapping (`topic_prefix`, `payload_mapping`), as for the MQTT listener. */
  topicPrefix: string;
  payload: PayloadMappingRule[];
  /** MQTT filters subscribed on the broker; messages are published into WAMP (`to_wamp`). */
  toWamp: Array<{ filter: string; qos: 0 | 1 | 2 }>;
  /** WAMP subscriptions whose events are published to the broker (`to_mqtt`). */
  toMqtt: Array<{ uri: string; match: MatchPolicy; qos: 0 | 1 | 2; retain: boolean }>;
  /** QoS 1/2 messages toward the broker not yet acknowledged, at most (`max_buffered`); more are dropped and counted. */
  maxBuffered: number;
  /** Absolute path of the file that keeps them across a restart (`buffer_file`). */
  bufferFile?: string;
  /** QoS 1/2 messages sent and not yet acknowledged by the broker, at most (`max_inflight`). */
  maxInflight: number;
}

export interface BridgeConfig {
  mqtt: MqttBridgeConfig[];
}

export interface JunctionConfig {
  /** The file it was loaded from; undefined for the embedded default. */
  source?: string;
  router: RouterConfig;
  /** Junction's `serial` section: serial bridges; absent when the file has none. */
  serial?: SerialBridgeConfig[];
  /** Junction's `bridges` section (beside Crossbar's keys); absent when the file has none. */
  bridges?: BridgeConfig;
  /** Junction's `telemetry` section: the board's health on a schedule; absent (off) when the file has none. */
  telemetry?: TelemetryConfig;
  /** Junction's `schedules` section: timed publishes and calls; absent when the file has none. */
  schedules?: ScheduleConfig[];
  /** Things the loader accepted but that have no effect, or look wrong without being errors (e.g.
   *  Crossbar's WebSocket `compression` option). Absent when there are none; worth logging at start. */
  warnings?: ConfigIssue[];
}

/** Cookie tracking of a WebSocket service (Crossbar's `cookie` block). */
export interface CookieConfig {
  /** Cookie name (`name`, default 'cbtid'). */
  name: string;
  /** Characters of a new cookie's value (`length`, default 24). */
  length: number;
  /** Seconds a cookie lives (`max_age`, default 604800: one week). */
  maxAge: number;
  /** `store`: 'memory' (default), or 'file' with `filename` (resolved against the config's directory). */
  store: { type: 'memory' } | { type: 'file'; filename: string };
  /** Cookies kept at most (`store.max_cookies`, Junction's, default 10000): past it the oldest is dropped. */
  maxCookies: number;
}

// Crossbar's WebSocket-only options (parsed in load-websocket-options.ts).

/** permessage-deflate as ws negotiates it (RFC 7692); what a compressed connection may cost is bounded here. */
export interface DeflateOptions {
  /** Ask the client not to keep its compression context between messages (`request_no_context_takeover`). */
  requestNoContextTakeover: boolean;
  /** Ask the client to compress with at most this window (`request_max_window_bits`); 0 = do not ask. */
  requestMaxWindowBits: number;
  /** The router drops its compression context after each message (`no_context_takeover`). */
  noContextTakeover: boolean;
  /** The router's compression window, 8..15 bits (`max_window_bits`). */
  maxWindowBits: number;
  /** zlib memLevel of the router's compressor, 1..9 (`memory_level`). */
  memoryLevel: number;
  /** Messages shorter than this many bytes go uncompressed (`threshold`, Junction's). */
  threshold: number;
  /** Connections of this service that may use compression at once; later ones are served uncompressed (`max_connections`, Junction's). */
  maxConnections: number;
}

export interface WebSocketOptions {
  /** undefined = no permessage-deflate (Crossbar's default: compression only when configured). */
  deflate?: DeflateOptions;
  /** Largest frame payload accepted, bytes; 0 = no limit but max_message_size (`max_frame_size`). */
  maxFrameSize: number;
  /** Outgoing messages longer than this are sent in frames of this size; 0 = one frame (`auto_fragment_size`). */
  autoFragmentSize: number;
  /** A connection failed by the router is dropped at once instead of closed with a close frame (`fail_by_drop`). */
  failByDrop: boolean;
  /** ms the router waits for the peer's close frame before dropping the connection (`close_handshake_timeout`). */
  closeHandshakeTimeout: number;
  /** A browser's `Origin: null` (file://, sandboxed pages) is let in whatever allowed_origins says (`allow_null_origin`). */
  allowNullOrigin: boolean;
  /** A client offering no subprotocol is refused; false: it speaks wamp.2.json (`require_websocket_subprotocol`). */
  requireSubprotocol: boolean;
  /** A plain HTTP GET on the WebSocket path gets a short status page (`enable_webstatus`). */
  webStatus: boolean;
}

export const DEFAULT_WEBSOCKET_OPTIONS: WebSocketOptions = {
  maxFrameSize: 0,
  autoFragmentSize: 0,
  failByDrop: false,
  closeHandshakeTimeout: 1000,
  allowNullOrigin: true,
  requireSubprotocol: true,
  webStatus: true,
};

/** Junction's bounds when `deflate` leaves them out: about 90 KiB per compressed connection (README). */
export const DEFAULT_DEFLATE: DeflateOptions = {
  requestNoContextTakeover: false,
  requestMaxWindowBits: 0,
  noContextTakeover: false,
  maxWindowBits: 13,
  memoryLevel: 5,
  threshold: 64,
  maxConnections: 100,
};

export const DEFAULT_TRANSPORT_OPTIONS: WampTransportOptions = {
  maxMessageSize: 1024 * 1024,
  autoPingInterval: 0,
  autoPingTimeout: 0,
  autoPingSize: 4,
  openHandshakeTimeout: 10_000,
  allowedOrigins: ['*'],
  maxSendQueue: 4 * 1024 * 1024,
  sendQueuePolicy: 'drop-events',
  maxMessagesPerSecond: 0,
  maxMessagesBurst: 0,
  maxUnauthenticatedBytes: 64 * 1024,
};

/** `store.retained` when a realm does not set it. */
export const DEFAULT_RETAINED_LIMITS: RetainedLimits = { maxTopics: 10_000, maxBytes: 16 * 1024 * 1024 };

/** An `event-history` entry's `max_bytes` when it does not set one. */
export const DEFAULT_HISTORY_MAX_BYTES = 1024 * 1024;

// The memory budget's defaults: together they keep the whole router well under 200 MB on a board
// whose unit has MemoryMax=256M, whatever peers send (test/integration/budget-process.test.ts floods every one).

/** Pending calls per session when the realm does not set `max_pending_calls`. */
export const DEFAULT_MAX_PENDING_CALLS = 1000;
/** Bytes of pending calls per session (`max_pending_call_bytes`). */
export const DEFAULT_MAX_PENDING_CALL_BYTES = 4 * 1024 * 1024;
/** Bytes of pending calls per realm (`max_pending_call_bytes_total`). */
export const DEFAULT_MAX_PENDING_CALL_BYTES_TOTAL = 16 * 1024 * 1024;
/**
 * Subscriptions per session (`max_subscriptions`). A share of the realm's byte budget, not the
 * memory bound itself (max_subscription_bytes is): high enough for an MQTT client's largest
 * SUBSCRIBE (1,000 filters, each `a/#` taking two WAMP subscriptions) and a dashboard of sensors.
 */
export const DEFAULT_MAX_SUBSCRIPTIONS = 10_000;
/** Bytes of subscriptions per realm (`max_subscription_bytes`). */
export const DEFAULT_MAX_SUBSCRIPTION_BYTES = 16 * 1024 * 1024;
/** Connections per listener (`endpoint.max_connections`). */
export const DEFAULT_MAX_CONNECTIONS = 500;
/** Bytes of unfinished incoming messages, all connections together (`options.max_incoming_bytes`). */
export const DEFAULT_MAX_INCOMING_BYTES = 8 * 1024 * 1024;
/** Bytes waiting to be written, all connections' send queues together (`options.max_send_queue_total`). */
export const DEFAULT_MAX_SEND_QUEUE_TOTAL = 32 * 1024 * 1024;

/** One serial bridge (`serial[i]`, Junction's own section): boards on serial ports as WAMP sessions. */
export interface SerialBridgeConfig {
  id: string;
  realm: string;
  /** Role of each board's session (default 'trusted'). */
  role: string;
  /** Readings go to `<prefix>.<device>.<topic>`, procedures are `<prefix>.<procedure>`. */
  prefix: string;
  /** Device paths (a /dev/serial/by-id name, or a glob in the last part) and their baud rates. */
  ports: Array<{ path: string; baudRate: number }>;
  /** ms a board has to answer a call. */
  callTimeout: number;
  /** Backoff between attempts to (re)open a port: from reopenMin ms doubling to reopenMax ms. */
  reopenMin: number;
  reopenMax: number;
}

/** Junction's `telemetry` section (src/board/telemetry.ts). */
export interface TelemetryConfig {
  /** The realm the telemetry session joins (default: the first realm), its role (default 'trusted') and authid. */
  realm: string;
  role: string;
  authid: string;
  /** The board's name in the URIs `junction.board.<board>.load` and `.info` (default: the hostname, sanitized). */
  board: string;
  /** node-cron expression (six fields: with seconds) of the samples; default every 5 s. */
  cron: string;
}

export type ScheduleAction =
  | { type: 'publish'; topic: string; args: unknown[]; kwargs: Record<string, unknown>; options: Record<string, unknown> }
  | { type: 'call'; procedure: string; args: unknown[]; kwargs: Record<string, unknown>; /** ms, 0 = none */ timeout: number };

/** One entry of Junction's `schedules` section (src/board/schedules.ts). */
export interface ScheduleConfig {
  /** Shown in the log; default `schedules[i]`. */
  name: string;
  /** node-cron expression (five fields, or six with seconds first). */
  cron: string;
  /** IANA time zone of the expression (default: the board's local time). */
  timezone?: string;
  /** The realm the job runs in (default: the first realm), as a session with this role (default 'trusted'). */
  realm: string;
  role: string;
  action: ScheduleAction;
}
