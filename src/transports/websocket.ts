// WAMP over WebSocket (ws): one WAMP message per WebSocket message, text frames for JSON,
// binary frames for MessagePack and CBOR, the serializer chosen by subprotocol.

import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { WampServiceConfig } from '../config/types.js';
import type { WampMessage } from '../wamp/message.js';
import type { EncodingCache, SendQueueStats, SessionFactory, SessionHandle, Transport, TransportInfo } from '../router/transport.js';
import { serializerFromSubprotocol, subprotocolOf, type Serializer } from '../serializers/index.js';
import { KeepAlive } from './keepalive.js';
import { encodeOnce, WriteBatcher } from './outbound.js';
import { MessageBudget, MESSAGES_PER_TURN, SendQueueGuard } from './limits.js';
import { IncomingBudget, type IncomingHolder } from './incoming-budget.js';
import { SendQueueTotal } from './send-queue-total.js';
import { describePeer } from './peer.js';
import { rejectUpgrade } from './http.js';
import { log } from '../log.js';

const TEXT = { binary: false };
const BINARY = { binary: true };
/** How long a close handshake may take before the socket is dropped. */
const CLOSE_GRACE_MS = 2000;
/** WebSocket close codes (RFC 6455 7.4.1). */
const NORMAL_CLOSURE = 1000;
const GOING_AWAY = 1001;
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

function heldByReceiver(ws: WebSocket): number {
  const receiver = receiverOf(ws);
  return receiver ? (receiver._bufferedBytes ?? 0) + (receiver._messageLength ?? 0) : 0;
}

/** The payload length the frame being read announced (0 when none is). */
function announcedByReceiver(ws: WebSocket): number {
  return receiverOf(ws)?._payloadLength ?? 0;
}

export class WebSocketTransport implements Transport, IncomingHolder {
  readonly info: TransportInfo;
  private readonly session: SessionHandle;
  private readonly keepAlive: KeepAlive;
  private closed = false;
  private readonly batcher: WriteBatcher;
  private readonly socket: Socket;
  private readonly guard: SendQueueGuard;
  /** Incoming message budget (max_messages_per_second); undefined = no limit. */
  private readonly budget: MessageBudget | undefined;
  /**
   * While the budget is spent, or this turn's share of messages is handled: messages ws had already
   * parsed from the last chunk read, as (data, isBinary) pairs, handled as tokens refill and over
   * the next turns (MESSAGES_PER_TURN); reading is paused meanwhile.
   */
  private held: unknown[] | undefined;
  private heldNext = 0;
  /** Messages handled since the last chunk arrived. */
  private turnMessages = 0;
  /** Bytes read off the socket before the session was established (max_unauthenticated_bytes). */
  private unauthenticatedBytes = 0;
  heldBytes = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly serializer: Serializer,
    private readonly service: WampServiceConfig,
    factory: SessionFactory,
    request: IncomingMessage,
    private readonly incoming: IncomingBudget = new IncomingBudget(),
    sendQueues: SendQueueTotal = new SendQueueTotal(),
  ) {
    const socket = request.socket as Socket & { encrypted?: boolean };
    socket.setNoDelay(true);
    this.socket = socket;
    this.guard = new SendQueueGuard(service.options, this, sendQueues);
    this.guard.watch(socket);
    this.batcher = new WriteBatcher(socket, this.guard);
    this.budget = MessageBudget.of(service.options);
    this.info = {
      type: 'websocket',
      serializer: serializer.name,
      peer: describePeer(socket),
      protocol: ws.protocol,
      tls: socket.encrypted === true,
    };
    const { autoPingInterval, autoPingTimeout, autoPingSize } = service.options;
    const pingPayload = Buffer.alloc(Math.max(0, Math.min(autoPingSize, MAX_PING_PAYLOAD)));
    this.keepAlive = new KeepAlive(autoPingInterval, autoPingTimeout, () => ws.ping(pingPayload), () => {
      log.info(`websocket ${this.info.peer}: no pong within ${autoPingTimeout} ms, dropping`);
      ws.terminate();
    });
    this.session = factory.openSession(this, { auth: service.auth, openTimeoutMs: service.options.openHandshakeTimeout });
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('pong', () => this.keepAlive.alive());
    ws.on('error', (err) => log.debug(`websocket ${this.info.peer}: ${err.message}`));
    // Before ws parses a chunk (which may hold hundreds of messages), and after.
    socket.prependListener('data', () => {
      this.turnMessages = 0;
    });
    socket.on('data', (chunk: Buffer) => this.onSocketData(chunk));
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
      this.unauthenticatedBytes += chunk.length;
      const limit = this.service.options.maxUnauthenticatedBytes;
      // A frame announced longer is refused at once, as on RawSocket and MQTT.
      if (this.unauthenticatedBytes > limit || announcedByReceiver(this.ws) > limit) {
        log.info(`websocket ${this.info.peer}: dropped: more than ${limit} bytes before the session was established (max_unauthenticated_bytes)`);
        this.dropForBudget();
        return;
      }
    }
    this.incoming.hold(this, heldByReceiver(this.ws));
  }

  get unauthenticated(): boolean {
    return !this.session.established;
  }

  get description(): string {
    return `websocket ${this.info.peer}`;
  }

  /** The peer sends more than the router will hold: ended at once, unflushed, as a slow consumer is. */
  dropForBudget(): void {
    this.dropSlowConsumer();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.held !== undefined) {
      this.held.push(data, isBinary);
      return;
    }
    if (++this.turnMessages > MESSAGES_PER_TURN) {
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

  /** Handles held messages as the budget allows, MESSAGES_PER_TURN per turn; reading resumes once none is left. */
  private release(): void {
    const held = this.held!;
    // We stopped reading, not the peer: its pongs may wait behind the messages we hold back.
    this.keepAlive.alive();
    let handled = 0;
    while (this.heldNext < held.length) {
      if (this.closed) return;
      if (++handled > MESSAGES_PER_TURN) {
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
    this.session.receive(message);
  }

  send(message: WampMessage, cache?: EncodingCache): boolean {
    if (this.closed) return true;
    const backlog = this.socket.writableLength;
    if (backlog > this.guard.threshold && this.guard.over(message[0] as number, backlog, this.session)) return true;
    const encoded = encodeOnce(this.serializer, message, cache, this.info.peer);
    // Our own maxMessageSize stands for the peer's limit, which WebSocket does not announce.
    if (encoded === undefined || encoded.length > this.service.options.maxMessageSize) return false;
    this.batcher.hold();
    this.ws.send(encoded, this.serializer.binary ? BINARY : TEXT);
    return true;
  }

  /** The send queue is over its limit and the policy says go (SendQueueGuard). */
  dropSlowConsumer(): void {
    this.closed = true;
    this.keepAlive.stop();
    this.ws.terminate();
  }

  sendQueue(): SendQueueStats {
    return this.guard.stats(this.socket.writableLength);
  }

  sendBacklogged(): boolean {
    return this.socket.writableLength > this.guard.limit;
  }

  close(): void {
    this.closeWith(NORMAL_CLOSURE);
  }

  /** Router shutdown: 1001 "going away", which browsers and Autobahn report as a clean close they retry after. */
  goAway(): void {
    this.closeWith(GOING_AWAY, 'router restarting');
  }

  private closeWith(code: number, reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.keepAlive.stop();
    this.ws.close(code, reason);
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
  }
}

/** Accepts WebSocket upgrades for one WAMP service (one path, or any path). */
export class WebSocketService {
  private readonly wss: WebSocketServer;
  /** undefined = any origin. */
  private readonly origins: RegExp[] | undefined;

  constructor(
    private readonly service: WampServiceConfig,
    private readonly factory: SessionFactory,
    private readonly incoming: IncomingBudget = new IncomingBudget(),
    private readonly sendQueues: SendQueueTotal = new SendQueueTotal(),
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: service.options.maxMessageSize,
      // Compression costs a small board more CPU and memory per connection than it saves.
      perMessageDeflate: false,
      handleProtocols: (protocols) => this.pickProtocol(protocols) ?? false,
    });
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
    if (this.origins && origin !== undefined && !this.origins.some((r) => r.test(origin))) {
      return rejectUpgrade(socket, 403, `origin ${origin} is not allowed`);
    }
    const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const protocol = this.pickProtocol(offered);
    if (!protocol) {
      const supported = this.service.serializers.map(subprotocolOf).join(', ');
      return rejectUpgrade(socket, 400, `no supported WAMP subprotocol offered (supported: ${supported})`);
    }
    const serializer = serializerFromSubprotocol(protocol)!;
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      new WebSocketTransport(ws, serializer, this.service, this.factory, request, this.incoming, this.sendQueues);
    });
  }

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }
}

/** Crossbar's allowed_origins entries: exact origins, '*' matching any run of characters. */
function originPattern(origin: string): RegExp {
  const escaped = origin.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}
