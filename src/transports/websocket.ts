// WAMP over WebSocket (ws): one WAMP message per WebSocket message, text frames for JSON,
// binary frames for MessagePack and CBOR, the serializer chosen by subprotocol.

import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { WampServiceConfig } from '../config/types.js';
import type { SessionFactory, SessionHandle } from '../core-boundary.js';
import { serializerFromSubprotocol, subprotocolOf, type Serializer } from '../serializers/index.js';
import { KeepAlive } from './keepalive.js';
import { TurnShare } from './turn-share.js';
import { IncomingBudget } from './incoming-budget.js';
import { SocketTransport } from './socket-transport.js';
import { SendQueueTotal } from './send-queue-total.js';
import { describePeer } from './peer.js';
import { tlsSessionOf } from './tls-session.js';
import { rejectUpgrade } from './http.js';
import { log } from '../log.js';
import { DEFAULT_WEBSOCKET_OPTIONS, type WebSocketOptions } from '../config/types.js';
import { FrameLimit, sendFragmented } from './websocket-frames.js';
import { perMessageDeflate, CompressedCount } from './websocket-compression.js';
import { CookieStore, cookieValue } from './cookie-store.js';
import type { CookieTracking } from '../core-boundary.js';

const TEXT = { binary: false };
const BINARY = { binary: true };
/** WebSocket close codes (RFC 6455 7.4.1). */
const NORMAL_CLOSURE = 1000;
const GOING_AWAY = 1001;
const MESSAGE_TOO_BIG = 1009;
/** WAMP GOODBYE's message type. */
const GOODBYE = 6;
/** A WebSocket control frame carries at most 125 bytes. */
const MAX_PING_PAYLOAD = 125;

/**
 * Bytes ws holds of what the peer sent and ws has not yet delivered as a message: the unparsed
 * rest of the last chunks and the fragments of an unfinished message. ws keeps these in its
 * Receiver and does not publish them; read here only (an upgrade of ws is checked by the budget
 * tests, test/integration/budget.test.ts).
 */
type ReceiverState = { _bufferedBytes?: number; _messageLength?: number; _payloadLength?: number };
const receiverOf = (ws: WebSocket) => (ws as unknown as { _receiver?: ReceiverState })._receiver;

export function heldByReceiver(ws: WebSocket): number {
  const receiver = receiverOf(ws);
  return receiver ? (receiver._bufferedBytes ?? 0) + (receiver._messageLength ?? 0) : 0;
}

/** The payload length the frame being read announced (0 when none is). */
export function announcedByReceiver(ws: WebSocket): number {
  return receiverOf(ws)?._payloadLength ?? 0;
}

export class WebSocketTransport extends SocketTransport {
  protected declare session: SessionHandle;
  protected declare serializer: Serializer;
  protected readonly keepAlive: KeepAlive;
  /** A text frame for JSON, a binary frame for MessagePack and CBOR. */
  private readonly frame: { binary: boolean };
  /**
   * While the budget is spent, or this turn's share is used up: messages ws had already parsed from
   * the last chunk read, as (data, isBinary) pairs, handled as tokens refill and over the next turns
   * (TurnShare); reading is paused meanwhile.
   */
  private held: unknown[] | undefined;
  private heldNext = 0;
  private readonly share = new TurnShare();
  private readonly wsOptions: WebSocketOptions;
  /** Frame headers read beside ws, when max_frame_size is set. */
  private readonly frameLimit: FrameLimit | undefined;

  constructor(
    private readonly ws: WebSocket,
    serializer: Serializer,
    service: WampServiceConfig,
    factory: SessionFactory,
    request: IncomingMessage,
    incoming: IncomingBudget = new IncomingBudget(),
    sendQueues: SendQueueTotal = new SendQueueTotal(),
  ) {
    const socket = request.socket as Socket & { encrypted?: boolean };
    super(socket, service, incoming, sendQueues, {
      type: 'websocket',
      serializer: serializer.name,
      peer: describePeer(socket),
      protocol: ws.protocol,
      tls: socket.encrypted === true,
      tlsSession: tlsSessionOf(socket),
    });
    this.serializer = serializer;
    this.wsOptions = service.options.websocket ?? DEFAULT_WEBSOCKET_OPTIONS;
    const longestFrame = frameLimitOf(this.wsOptions, service.options.maxMessageSize);
    if (longestFrame > 0) this.frameLimit = new FrameLimit(longestFrame);
    this.frame = serializer.binary ? BINARY : TEXT;
    // Our own maxMessageSize stands for the peer's limit, which WebSocket does not announce.
    this.peerMaxLength = service.options.maxMessageSize;
    const { autoPingInterval, autoPingTimeout, autoPingSize } = service.options;
    const pingPayload = Buffer.alloc(Math.max(0, Math.min(autoPingSize, MAX_PING_PAYLOAD)));
    this.keepAlive = new KeepAlive(autoPingInterval, autoPingTimeout, () => ws.ping(pingPayload), () => {
      log.info(`websocket ${this.info.peer}: no pong within ${autoPingTimeout} ms, dropping`);
      ws.terminate();
    });
    this.session = factory.openSession(this, { auth: service.auth, openTimeoutMs: service.options.openHandshakeTimeout });
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('pong', () => this.keepAlive.alive());
    ws.on('error', (err) => {
      log.debug(`websocket ${this.info.peer}: ${err.message}`);
      // ws fails the connection with a close frame; fail_by_drop drops it instead.
      if (this.wsOptions.failByDrop) ws.terminate();
    });
    socket.on('data', (chunk: Buffer) => this.onSocketData(chunk));
    // Frame headers are read before ws parses the chunk, so an oversized frame's messages are never handled.
    const frameLimit = this.frameLimit;
    if (frameLimit) {
      socket.prependListener('data', (chunk: Buffer) => {
        const oversized = this.closed ? undefined : frameLimit.feed(chunk);
        if (oversized !== undefined) this.failFrameTooBig(oversized);
      });
    }
    ws.once('close', () => {
      this.closed = true;
      this.incoming.hold(this, 0);
      this.keepAlive.stop();
      this.session.transportClosed();
    });
    this.keepAlive.start();
  }

  /**
   * Counts what the peer sent before its session was established (the message size limit of ws is
   * per server, so a pre-authentication limit is kept here, on the bytes read), and reports what
   * ws holds of unfinished messages to the budget of all connections.
   */
  private onSocketData(chunk: Buffer): void {
    if (this.closed) return;
    if (this.unauthenticated) {
      const limit = this.service.options.maxUnauthenticatedBytes;
      // A frame announced longer is refused at once, as on RawSocket and MQTT.
      if (this.pastUnauthenticatedLimit(chunk.length) || announcedByReceiver(this.ws) > limit) {
        log.info(`websocket ${this.info.peer}: dropped: more than ${limit} bytes before the session was established (max_unauthenticated_bytes)`);
        this.dropForBudget();
        return;
      }
    }
    this.incoming.hold(this, heldByReceiver(this.ws));
  }

  /** A frame over max_frame_size (or max_message_size with fail_by_drop): the connection fails (1009, or dropped with fail_by_drop); what ws still parses is ignored. */
  private failFrameTooBig(length: number): void {
    log.info(`websocket ${this.info.peer}: a frame of ${length} bytes is over the limit (max_frame_size ${this.wsOptions.maxFrameSize}, max_message_size ${this.service.options.maxMessageSize})`);
    if (this.wsOptions.failByDrop) return this.dropSlowConsumer();
    this.closeGracefully(() => this.ws.close(MESSAGE_TOO_BIG, 'frame exceeds payload limit'), this.closeWaitMs());
  }

  /** close_handshake_timeout; 0 waits as long as ws itself does (30 s). */
  private closeWaitMs(): number {
    return this.wsOptions.closeHandshakeTimeout > 0 ? this.wsOptions.closeHandshakeTimeout : 30_000;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    if (this.held !== undefined) {
      this.held.push(data, isBinary);
      return;
    }
    if (!this.share.take(sizeOf(data))) {
      this.hold(data, isBinary);
      setImmediate(() => this.release());
      return;
    }
    if (this.budget !== undefined && !this.budget.take()) {
      this.hold(data, isBinary);
      setTimeout(() => this.release(), this.budget.waitMs());
      return;
    }
    this.handle(data, isBinary);
  }

  private hold(data: RawData, isBinary: boolean): void {
    this.held = [data, isBinary];
    this.heldNext = 0;
    this.ws.pause();
  }

  /** Handles held messages as the budget and each turn's share allow; reading resumes once none is left. */
  private release(): void {
    const held = this.held!;
    // We stopped reading, not the peer: its pongs may wait behind the messages we hold back.
    this.keepAlive.alive();
    while (this.heldNext < held.length) {
      if (this.closed) return;
      if (!this.share.take(sizeOf(held[this.heldNext] as RawData))) {
        setImmediate(() => this.release());
        return;
      }
      if (this.budget !== undefined && !this.budget.take()) {
        setTimeout(() => this.release(), this.budget.waitMs());
        return;
      }
      const i = this.heldNext;
      this.heldNext += 2;
      this.handle(held[i] as RawData, held[i + 1] as boolean);
    }
    this.held = undefined;
    if (!this.closed) this.ws.resume();
  }

  private handle(data: RawData, isBinary: boolean): void {
    let message: unknown;
    try {
      // binaryType 'nodebuffer' (the default): one Buffer per message. ws has already checked a
      // text frame's UTF-8; a JSON message in a binary frame is checked by the serializer.
      message = this.serializer.decode(data as Buffer, !isBinary);
    } catch (err) {
      this.session.protocolError(`cannot decode ${this.serializer.name} message: ${(err as Error).message}`);
      return;
    }
    if (this.info.cookie && isLogout(message)) this.info.cookie.logout();
    this.session.receive(message);
  }

  protected writeMessage(encoded: Buffer): void {
    this.batcher.hold();
    const fragment = this.wsOptions.autoFragmentSize;
    if (fragment > 0 && encoded.length > fragment) sendFragmented(this.ws, encoded, this.frame.binary, fragment);
    else this.ws.send(encoded, this.frame);
  }

  protected terminate(): void {
    this.ws.terminate();
  }

  close(): void {
    this.closeGracefully(() => this.ws.close(NORMAL_CLOSURE), this.closeWaitMs());
  }

  /** Router shutdown: 1001 "going away", which browsers and Autobahn report as a clean close they retry after. */
  goAway(): void {
    this.closeGracefully(() => this.ws.close(GOING_AWAY, 'router restarting'), this.closeWaitMs());
  }
}

/** GOODBYE with Crossbar's `wamp.close.logout`: the client logs out, and its cookie no longer authenticates. */
function isLogout(message: unknown): boolean {
  return Array.isArray(message) && message[0] === GOODBYE && message[2] === 'wamp.close.logout';
}

/**
 * The frame length the transport checks itself: max_frame_size, and with fail_by_drop also
 * max_message_size (ws would answer a frame over it with a close frame before any drop); 0 = none.
 */
function frameLimitOf(o: WebSocketOptions, maxMessageSize: number): number {
  const limits = [o.maxFrameSize, o.failByDrop ? maxMessageSize : 0].filter((n) => n > 0);
  return limits.length > 0 ? Math.min(...limits) : 0;
}

/** Accepts WebSocket upgrades for one WAMP service (one path, or any path). */
export class WebSocketService {
  private readonly wss: WebSocketServer;
  /** undefined = any origin. */
  private readonly origins: RegExp[] | undefined;
  private readonly wsOptions: WebSocketOptions;
  /** Connections using permessage-deflate, within its max_connections. */
  private readonly compressed: CompressedCount | undefined;
  /** Cookie tracking (`cookie`), and the cookie of each upgrade under way. */
  private readonly cookies: CookieStore | undefined;
  private readonly setCookie = new WeakMap<IncomingMessage, string>();

  constructor(
    private readonly service: WampServiceConfig,
    private readonly factory: SessionFactory,
    private readonly incoming: IncomingBudget = new IncomingBudget(),
    private readonly sendQueues: SendQueueTotal = new SendQueueTotal(),
  ) {
    this.wsOptions = service.options.websocket ?? DEFAULT_WEBSOCKET_OPTIONS;
    const deflate = this.wsOptions.deflate;
    if (deflate) this.compressed = new CompressedCount(deflate.maxConnections);
    this.wss = new WebSocketServer({
      noServer: true,
      // Also bounds what an inflated message may grow to.
      maxPayload: service.options.maxMessageSize,
      // Off unless `compression` asks for it: it costs a small board memory per connection (README).
      perMessageDeflate: deflate ? perMessageDeflate(deflate) : false,
      handleProtocols: (protocols) => this.pickProtocol(protocols) ?? false,
    });
    if (service.cookie) {
      this.cookies = new CookieStore(service.cookie);
      this.wss.on('headers', (headers, request) => {
        const value = this.setCookie.get(request);
        if (value !== undefined) headers.push(`Set-Cookie: ${value}`);
      });
    }
    const allowed = service.options.allowedOrigins;
    this.origins = allowed.includes('*') ? undefined : allowed.map(originPattern);
  }

  /** The first subprotocol in the client's list that this service speaks. */
  private pickProtocol(offered: Iterable<string>): string | undefined {
    for (const p of offered) {
      const s = serializerFromSubprotocol(p);
      if (s !== undefined && this.service.serializers.includes(s.name)) return p;
    }
    return undefined;
  }

  /** An HTTP upgrade request for this service: refused (403/400) or turned into a WAMP session. */
  handleUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    // Browsers always send Origin; other clients need not, and are not restricted by it.
    const origin = request.headers.origin;
    if (originRefused(this.origins, origin, this.wsOptions.allowNullOrigin)) {
      return rejectUpgrade(socket, 403, `origin ${origin} is not allowed`);
    }
    const header = request.headers['sec-websocket-protocol'];
    const offered = (header ?? '').split(',').map((p) => p.trim());
    // require_websocket_subprotocol false: a client naming none speaks wamp.2.json (as Crossbar assumes).
    const fallback = header === undefined && !this.wsOptions.requireSubprotocol && this.service.serializers.includes('json') ? 'wamp.2.json' : undefined;
    const protocol = this.pickProtocol(offered) ?? fallback;
    if (!protocol) {
      const supported = this.service.serializers.map(subprotocolOf).join(', ');
      return rejectUpgrade(socket, 400, `no supported WAMP subprotocol offered (supported: ${supported})`);
    }
    const serializer = serializerFromSubprotocol(protocol)!;
    this.compressed?.beforeUpgrade(request);
    const cookie = this.trackCookie(request);
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      this.compressed?.opened(ws);
      const transport = new WebSocketTransport(ws, serializer, this.service, this.factory, request, this.incoming, this.sendQueues);
      if (cookie) {
        // Read at HELLO, which comes later. Another connection's logout closes this one.
        const { tracking, detach } = this.cookies!.forConnection(cookie, () => ws.close(1000, 'wamp.close.logout'));
        transport.info.cookie = tracking;
        ws.once('close', detach);
      }
    });
  }

  /** The client's known cookie, or a new one set on the upgrade response; undefined without cookie tracking. */
  private trackCookie(request: IncomingMessage): CookieTracking | undefined {
    if (!this.cookies) return undefined;
    const value = cookieValue(request.headers.cookie, this.service.cookie!.name);
    const known = value === undefined ? undefined : this.cookies.find(value);
    if (known) return known;
    const { tracking, header } = this.cookies.create();
    this.setCookie.set(request, header);
    return tracking;
  }

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    this.cookies?.close();
  }
}

/** Whether a browser's Origin is refused by allowed_origins (`origins`, undefined = any) and allow_null_origin; a request without Origin never is. */
export function originRefused(origins: RegExp[] | undefined, origin: string | undefined, allowNullOrigin: boolean): boolean {
  if (!origins || origin === undefined || (origin === 'null' && allowNullOrigin)) return false;
  return !origins.some((r) => r.test(origin));
}

/** Crossbar's allowed_origins entries: exact origins, '*' matching any run of characters. */
export function originPattern(origin: string): RegExp {
  const escaped = origin.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}

/** A message's size as ws hands it over (one Buffer with the default binaryType). */
function sizeOf(data: RawData): number {
  if (Buffer.isBuffer(data)) return data.length;
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data.byteLength;
}
