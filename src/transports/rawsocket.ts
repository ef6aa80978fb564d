// WAMP over RawSocket (TCP, TLS or Unix sockets): a 4-byte handshake that picks the serializer and
// each side's maximum message length, then 4-byte-header frames (message, PING, PONG).

import type { Socket } from 'node:net';
import type { WampServiceConfig } from '../config/types.js';
import type { SessionFactory } from '../core-boundary.js';
import { serializerFromRawSocketId } from '../serializers/index.js';
import { ByteQueue } from './byte-queue.js';
import { KeepAlive } from './keepalive.js';
import { TurnShare } from './turn-share.js';
import { IncomingBudget } from './incoming-budget.js';
import { SendQueueTotal } from './send-queue-total.js';
import { describePeer } from './peer.js';
import { tlsSessionOf } from './tls-session.js';
import { SocketTransport } from './socket-transport.js';
import { log } from '../log.js';

/** First byte of a RawSocket handshake; no HTTP request starts with it, so a port can serve both. */
export const RAWSOCKET_MAGIC = 0x7f;

export const FRAME_MESSAGE = 0;
export const FRAME_PING = 1;
export const FRAME_PONG = 2;

/** Handshake error codes (high nibble of the reply's second byte). */
export const ERR_SERIALIZER_UNSUPPORTED = 1;
export const ERR_RESERVED_BITS = 3;
export const ERR_MAX_CONNECTIONS = 4;

/** The largest frame payload: 2^24 bytes, which needs the header's X bit. */
export const MAX_FRAME_LENGTH = 2 ** 24;
/** On shutdown, how long the peer has to answer our last PING before the connection is reset anyway. */
const PONG_BEFORE_RESET_MS = 300;

/**
 * The length nibble to announce for `maxMessageSize`: the largest 2^(9+L) not above it, so the
 * configured limit holds (at least 512 bytes, which is L = 0, and at most 16 MiB, L = 15).
 */
export function lengthExponent(maxMessageSize: number): number {
  let l = 0;
  while (l < 15 && 2 ** (10 + l) <= maxMessageSize) l++;
  return l;
}

/** The 4-byte header of a frame of `length` bytes. */
export function frameHeader(type: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(4);
  // X bit (0x08 in the first byte) for exactly 2^24, whose 24 length bits are then zero.
  header.writeUInt32BE((length === MAX_FRAME_LENGTH ? 0x08 : 0) * 2 ** 24 + type * 2 ** 24 + (length & 0xffffff));
  return header;
}

/** A frame's type and payload length from its 4-byte header; undefined for a header no peer may send. */
export function readFrameHeader(header: number): { type: number; length: number } | undefined {
  const b0 = header >>> 24;
  const type = b0 & 0x07;
  if ((b0 & 0xf0) !== 0 || type > FRAME_PONG) return undefined;
  return { type, length: (b0 & 0x08 ? MAX_FRAME_LENGTH : 0) + (header & 0xffffff) };
}

export class RawSocketTransport extends SocketTransport {
  private readonly queue = new ByteQueue();
  /** Largest message we accept: exactly what our handshake reply announces. */
  private readonly maxLength: number;
  protected readonly keepAlive: KeepAlive;
  private handshakeTimer: NodeJS.Timeout | undefined;
  /** Set while reading is paused because the budget is spent. */
  private throttleTimer: NodeJS.Timeout | undefined;
  /** Reading is paused: the budget is spent, or this turn's share is used up (TurnShare). */
  private readingPaused = false;
  private readonly share = new TurnShare();
  /** Router shutdown: our last frame was a PING; what the peer sends is read only for its PONG. */
  private goingAway = false;

  constructor(
    socket: Socket,
    service: WampServiceConfig,
    private readonly factory: SessionFactory,
    incoming: IncomingBudget = new IncomingBudget(),
    sendQueues: SendQueueTotal = new SendQueueTotal(),
  ) {
    super(socket, service, incoming, sendQueues, {
      type: 'rawsocket',
      serializer: '', // until the handshake picks one
      peer: describePeer(socket),
      tls: (socket as Socket & { encrypted?: boolean }).encrypted === true,
      tlsSession: tlsSessionOf(socket),
    });
    this.maxLength = 2 ** (9 + lengthExponent(service.options.maxMessageSize));
    const { autoPingInterval, autoPingTimeout, openHandshakeTimeout } = service.options;
    this.keepAlive = new KeepAlive(autoPingInterval, autoPingTimeout, () => this.writeFrame(FRAME_PING, PING_PAYLOAD), () => {
      log.info(`rawsocket ${this.info.peer}: no PONG within ${autoPingTimeout} ms, dropping`);
      socket.destroy();
    });
    this.handshakeTimer = setTimeout(() => {
      log.info(`rawsocket ${this.info.peer}: no handshake within ${openHandshakeTimeout} ms; dropped`);
      socket.destroy();
    }, openHandshakeTimeout);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => log.debug(`rawsocket ${this.info.peer}: ${err.message}`));
    socket.on('close', () => this.onClose());
  }

  private onData(chunk: Buffer): void {
    if (this.closed) {
      if (this.goingAway) this.awaitPong(chunk);
      return;
    }
    if (this.unauthenticated && this.pastUnauthenticatedLimit(chunk.length)) {
      return this.fail(`more than ${this.service.options.maxUnauthenticatedBytes} bytes before the session was established (max_unauthenticated_bytes)`);
    }
    this.queue.push(chunk);
    if (!this.serializer && !this.handshake()) return;
    if (!this.readingPaused) this.readFrames();
    this.incoming.hold(this, this.closed ? 0 : this.queue.length);
  }

  /** The message budget is spent: stop reading until it refills (the frames already in stay queued). */
  private throttle(): void {
    this.socket.pause();
    this.readingPaused = true;
    this.throttleTimer = setTimeout(() => this.unthrottle(), this.budget!.waitMs());
  }

  /** This turn handled its share of messages: the rest of the burst waits for the next turn. */
  private yieldTurn(): void {
    this.socket.pause();
    this.readingPaused = true;
    setImmediate(() => this.unthrottle());
  }

  private unthrottle(): void {
    this.throttleTimer = undefined;
    this.readingPaused = false;
    if (this.closed) return;
    // We stopped reading, not the peer: its pongs may wait behind the frames we hold back.
    this.keepAlive.alive();
    this.readFrames();
    this.incoming.hold(this, this.closed ? 0 : this.queue.length);
    if (!this.readingPaused && !this.closed) this.socket.resume();
  }

  /** Returns true once the handshake is done. */
  private handshake(): boolean {
    if (this.queue.length < 4) return false;
    const hello = this.queue.peekUInt32();
    this.queue.skip(4);
    clearTimeout(this.handshakeTimer);
    const magic = hello >>> 24;
    const lengthAndSerializer = (hello >>> 16) & 0xff;
    if (magic !== RAWSOCKET_MAGIC) {
      this.closed = true;
      this.socket.destroy();
      return false;
    }
    if ((hello & 0xffff) !== 0) return this.refuse(ERR_RESERVED_BITS);
    const serializerId = lengthAndSerializer & 0x0f;
    const serializer = serializerFromRawSocketId(serializerId);
    if (!serializer || !this.service.serializers.includes(serializer.name)) return this.refuse(ERR_SERIALIZER_UNSUPPORTED);
    this.serializer = serializer;
    this.peerMaxLength = 2 ** (9 + (lengthAndSerializer >> 4));
    this.info = { ...this.info, serializer: serializer.name };
    this.socket.write(Buffer.from([RAWSOCKET_MAGIC, (lengthExponent(this.maxLength) << 4) | serializerId, 0, 0]));
    this.session = this.factory.openSession(this, { auth: this.service.auth, openTimeoutMs: this.service.options.openHandshakeTimeout });
    this.keepAlive.start();
    return true;
  }

  /** Error reply (the low nibble 0 marks it), then close. */
  private refuse(code: number): false {
    this.closeGracefully(() => this.socket.end(Buffer.from([RAWSOCKET_MAGIC, code << 4, 0, 0])));
    return false;
  }

  private readFrames(): void {
    const queue = this.queue;
    while (!this.closed && queue.length >= 4) {
      const header = queue.peekUInt32();
      const frame = readFrameHeader(header);
      if (!frame) return this.fail(`invalid frame header 0x${(header >>> 24).toString(16)}`);
      const { type, length } = frame;
      // Checked on the header, before any of the payload is buffered.
      if (length > this.maxLength) return this.fail(`frame of ${length} bytes exceeds the ${this.maxLength} bytes announced`);
      if (length > this.service.options.maxUnauthenticatedBytes && this.unauthenticated) {
        return this.fail(`frame of ${length} bytes before the session was established (max_unauthenticated_bytes ${this.service.options.maxUnauthenticatedBytes})`);
      }
      if (queue.length < 4 + length) return;
      if (!this.share.take(length)) return this.yieldTurn();
      if (this.budget !== undefined && !this.budget.take()) return this.throttle();
      queue.skip(4);
      const payload = queue.take(length);
      if (type === FRAME_MESSAGE) this.onMessage(payload);
      else if (type === FRAME_PING) this.writeFrame(FRAME_PONG, payload);
      else this.keepAlive.alive();
    }
  }

  private onMessage(payload: Buffer): void {
    let message: unknown;
    try {
      message = this.serializer!.decode(payload);
    } catch (err) {
      this.session!.protocolError(`cannot decode ${this.serializer!.name} message: ${(err as Error).message}`);
      return;
    }
    this.session!.receive(message);
  }

  /** Framing broken: nothing more can be read. The session may still say ABORT before we close. */
  private fail(reason: string): void {
    // Before authentication this is anyone's doing, and a flood of it must not flood the log.
    (this.unauthenticated ? log.info : log.warn)(`rawsocket ${this.info.peer}: ${reason}; closing`);
    this.session?.protocolError(reason);
    this.close();
    // Nothing more is read (the rest would be read only to be discarded); the ABORT still goes out.
    this.socket.pause();
  }

  private writeFrame(type: number, payload: Buffer): void {
    this.batcher.hold();
    this.socket.write(frameHeader(type, payload.length));
    if (payload.length > 0) this.socket.write(payload);
  }

  protected writeMessage(encoded: Buffer): void {
    this.writeFrame(FRAME_MESSAGE, encoded);
  }

  /**
   * Dropped (a slow consumer, a budget, a failed handshake): with a reset where one can be sent,
   * since a client keeping its half open after a FIN (Autobahn|JS's Node client) would never
   * notice a plain close.
   */
  protected terminate(): void {
    resetOrDestroy(this.socket);
  }

  close(): void {
    this.closeGracefully(() => this.socket.end()); // after what is queued
  }

  /**
   * Router shutdown. The TCP close is RawSocket's only way to say it (no GOODBYE, see
   * Session.shutdown), and Autobahn|JS's Node client notices only some closes: it keeps its half
   * open after a FIN (allowHalfOpen), so the close must be a reset; and a reset that arrives while
   * bytes of ours still wait unread on its side is reported to it as a plain end of stream (libuv
   * reads what is there and takes the hang-up as EOF), which it never acts on either. So the last
   * frame we send is a PING: a client that reads it answers with a PONG, and a reset after that
   * PONG finds nothing unread; a client that reads it only after the reset fails to write the
   * PONG, which closes it. Any RawSocket peer answers a PING; one that does not is reset after
   * PONG_BEFORE_RESET_MS.
   */
  goAway(): void {
    if (this.closed) return;
    this.closed = true;
    this.keepAlive.stop();
    clearTimeout(this.throttleTimer);
    if (!this.serializer) return resetOrDestroy(this.socket); // no handshake yet: nothing was sent
    this.goingAway = true;
    this.writeFrame(FRAME_PING, PING_PAYLOAD);
    setTimeout(() => resetOrDestroy(this.socket), PONG_BEFORE_RESET_MS).unref();
    if (this.readingPaused) this.socket.resume(); // the PONG must be read
  }

  /** Going away: frames are skipped until the PONG to our last PING, which ends the connection. */
  private awaitPong(chunk: Buffer): void {
    const queue = this.queue;
    queue.push(chunk);
    while (queue.length >= 4) {
      const header = queue.peekUInt32();
      const b0 = header >>> 24;
      if ((b0 & 0x07) === FRAME_PONG) return resetOrDestroy(this.socket);
      const length = (b0 & 0x08 ? MAX_FRAME_LENGTH : 0) + (header & 0xffffff);
      if (queue.length < 4 + length) return; // at most one frame of the peer's, and for 300 ms
      queue.skip(4 + length);
    }
  }

  private onClose(): void {
    this.closed = true;
    this.incoming.hold(this, 0);
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.throttleTimer);
    this.keepAlive.stop();
    this.session?.transportClosed();
  }
}

/**
 * Our PINGs carry a payload: Autobahn|JS's Node client handles a frame's payload only once bytes of
 * it have arrived, so it answers a PING without one only when its next frame comes (an idle client:
 * never, and auto-ping would drop it).
 */
const PING_PAYLOAD = Buffer.from('junction');

/**
 * A TCP reset and the socket destroyed; a close where no reset can be sent: TLS and Unix sockets,
 * or one already ended (libuv refuses to reset a socket it shut down).
 */
export function resetOrDestroy(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.writableEnded) {
    socket.destroy();
    return;
  }
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
