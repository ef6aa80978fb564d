// WAMP over RawSocket (TCP, TLS or Unix sockets): a 4-byte handshake that picks the serializer and
// each side's maximum message length, then 4-byte-header frames (message, PING, PONG).

import type { Socket } from 'node:net';
import type { WampServiceConfig } from '../config/types.js';
import type { WampMessage } from '../wamp/message.js';
import type { EncodingCache, SessionFactory, SessionHandle, Transport, TransportInfo } from '../router/transport.js';
import { serializerFromRawSocketId, type Serializer } from '../serializers/index.js';
import { KeepAlive } from './keepalive.js';
import { encodeOnce, WriteBatcher } from './outbound.js';
import { describePeer } from './peer.js';
import { log } from '../log.js';

export const RAWSOCKET_MAGIC = 0x7f;

const FRAME_MESSAGE = 0;
const FRAME_PING = 1;
const FRAME_PONG = 2;

/** Handshake error codes (high nibble of the reply's second byte). */
const ERR_SERIALIZER_UNSUPPORTED = 1;
const ERR_RESERVED_BITS = 3;

/** The largest length exponent we announce: 2^(9+15) = 16 MiB. */
const MAX_LENGTH_EXPONENT = 15;

/** The length nibble announcing `bytes`: the smallest 2^(9+L) ≥ bytes, capped at 16 MiB. */
export function lengthExponent(bytes: number): number {
  let l = 0;
  while (l < MAX_LENGTH_EXPONENT && 2 ** (9 + l) < bytes) l++;
  return l;
}

/** Collects socket chunks and hands out exact byte ranges without re-concatenating on every chunk. */
class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  peek(index: number): number {
    for (const c of this.chunks) {
      if (index < c.length) return c[index]!;
      index -= c.length;
    }
    throw new RangeError('peek past end');
  }

  take(n: number): Buffer {
    this.length -= n;
    const first = this.chunks[0]!;
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const c = this.chunks[0]!;
      const want = n - offset;
      if (c.length <= want) {
        c.copy(out, offset);
        offset += c.length;
        this.chunks.shift();
      } else {
        c.copy(out, offset, 0, want);
        this.chunks[0] = c.subarray(want);
        offset += want;
      }
    }
    return out;
  }
}

export class RawSocketTransport implements Transport {
  info: TransportInfo;
  private readonly queue = new ByteQueue();
  private serializer: Serializer | undefined;
  private session: SessionHandle | undefined;
  /** Largest message the peer accepts (its handshake); ours comes from maxMessageSize. */
  private peerMaxLength = 0;
  private readonly maxLength: number;
  private readonly keepAlive: KeepAlive;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly batcher: WriteBatcher;

  constructor(
    private readonly socket: Socket,
    private readonly service: WampServiceConfig,
    private readonly factory: SessionFactory,
  ) {
    this.maxLength = Math.min(service.options.maxMessageSize, 2 ** 24);
    this.batcher = new WriteBatcher(socket);
    socket.setNoDelay?.(true);
    this.info = {
      type: 'rawsocket',
      serializer: '',
      peer: describePeer(socket),
      tls: (socket as Socket & { encrypted?: boolean }).encrypted === true,
    };
    this.keepAlive = new KeepAlive(service.options.autoPingInterval, service.options.autoPingTimeout,
      () => this.writeFrame(FRAME_PING, Buffer.alloc(0)), () => {
        log.info(`rawsocket ${this.info.peer}: no pong within ${service.options.autoPingTimeout} ms, dropping`);
        socket.destroy();
      });
    this.handshakeTimer = setTimeout(() => socket.destroy(), service.options.openHandshakeTimeout);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => log.debug(`rawsocket ${this.info.peer}: ${err.message}`));
    socket.on('close', () => this.onClose());
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.queue.push(chunk);
    if (!this.serializer && !this.handshake()) return;
    this.readFrames();
  }

  /** Returns true once the handshake is done (now or before). */
  private handshake(): boolean {
    if (this.queue.length < 4) return false;
    const hello = this.queue.take(4);
    clearTimeout(this.handshakeTimer);
    if (hello[0] !== RAWSOCKET_MAGIC) {
      this.socket.destroy();
      return false;
    }
    const serializerId = hello[1]! & 0x0f;
    const serializer = serializerFromRawSocketId(serializerId);
    if (hello[2] !== 0 || hello[3] !== 0) return this.refuseHandshake(ERR_RESERVED_BITS);
    if (!serializer || !this.service.serializers.includes(serializer.name)) return this.refuseHandshake(ERR_SERIALIZER_UNSUPPORTED);
    this.serializer = serializer;
    this.peerMaxLength = 2 ** (9 + (hello[1]! >> 4));
    this.info = { ...this.info, serializer: serializer.name };
    this.socket.write(Buffer.from([RAWSOCKET_MAGIC, (lengthExponent(this.maxLength) << 4) | serializerId, 0, 0]));
    this.session = this.factory.openSession(this, { auth: this.service.auth });
    this.keepAlive.start();
    return true;
  }

  private refuseHandshake(code: number): false {
    this.socket.end(Buffer.from([RAWSOCKET_MAGIC, code << 4, 0, 0]));
    this.closed = true;
    return false;
  }

  private readFrames(): void {
    while (!this.closed && this.queue.length >= 4) {
      const b0 = this.queue.peek(0);
      const length = (b0 & 0x08 ? 2 ** 24 : 0) + (this.queue.peek(1) << 16) + (this.queue.peek(2) << 8) + this.queue.peek(3);
      const type = b0 & 0x07;
      if ((b0 & 0xf0) !== 0 || type > FRAME_PONG) return this.fail(`invalid frame header 0x${b0.toString(16)}`);
      if (length > this.maxLength) return this.fail(`frame of ${length} bytes exceeds the ${this.maxLength} bytes announced`);
      if (this.queue.length < 4 + length) return;
      this.queue.take(4);
      const payload = length > 0 ? this.queue.take(length) : Buffer.alloc(0);
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

  /** Framing broken: nothing more can be read from this peer. */
  private fail(reason: string): void {
    log.warn(`rawsocket ${this.info.peer}: ${reason}; closing`);
    if (this.session) this.session.protocolError(reason);
    this.closed = true;
    this.socket.destroy();
  }

  private writeFrame(type: number, payload: Buffer): void {
    const n = payload.length;
    const header = Buffer.from([(n === 2 ** 24 ? 0x08 : 0) | type, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
    this.batcher.hold();
    this.socket.write(header);
    if (n > 0) this.socket.write(payload);
  }

  send(message: WampMessage, cache?: EncodingCache): boolean {
    if (this.closed || !this.serializer) return true;
    const encoded = encodeOnce(this.serializer, message, cache, this.info.peer);
    if (encoded === undefined || encoded.length > this.peerMaxLength) return false;
    this.writeFrame(FRAME_MESSAGE, encoded);
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.keepAlive.stop();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private onClose(): void {
    this.closed = true;
    clearTimeout(this.handshakeTimer);
    this.keepAlive.stop();
    this.session?.transportClosed();
  }
}
