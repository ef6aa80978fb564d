// What WAMP over a stream socket does the same on WebSocket and RawSocket: the send path (encode
// once, bound the send queue, batch writes), dropping a slow consumer, a graceful close, the
// keep-alive and the per-connection budgets. The subclasses frame messages and read them.

import type { Socket } from 'node:net';
import type { WampServiceConfig } from '../config/types.js';
import type { WampMessage } from '../wamp/message.js';
import type { EncodingCache, SendQueueStats, SessionHandle, Transport, TransportInfo } from '../core-boundary.js';
import type { Serializer } from '../serializers/index.js';
import type { KeepAlive } from './keepalive.js';
import { encodeOnce, WriteBatcher } from './outbound.js';
import { MessageBudget, SendQueueGuard } from './limits.js';
import type { IncomingBudget, IncomingHolder } from './incoming-budget.js';
import type { SendQueueTotal } from './send-queue-total.js';

/** How long a connection we end may take to close before it is dropped. */
const CLOSE_GRACE_MS = 2000;

export abstract class SocketTransport implements Transport, IncomingHolder {
  info: TransportInfo;
  heldBytes = 0;
  /** The peer's session: from the start on WebSocket, once the handshake is done on RawSocket. */
  protected session: SessionHandle | undefined;
  /** Chosen by the WebSocket subprotocol, or by the RawSocket handshake. */
  protected serializer: Serializer | undefined;
  /** Largest message the peer accepts (RawSocket: from its handshake; WebSocket: our own limit). */
  protected peerMaxLength = 0;
  /** No more reading or sending: closing, closed, or dropped. */
  protected closed = false;
  /** Pings the peer and drops it when it stops answering; built by the subclass, which knows its ping. */
  protected abstract readonly keepAlive: KeepAlive;
  protected readonly batcher: WriteBatcher;
  /** Incoming message budget (max_messages_per_second); undefined = no limit. */
  protected readonly budget: MessageBudget | undefined;
  private readonly guard: SendQueueGuard;
  /** Bytes read off the socket before the session was established (max_unauthenticated_bytes). */
  private unauthenticatedBytes = 0;

  constructor(
    protected readonly socket: Socket,
    protected readonly service: WampServiceConfig,
    protected readonly incoming: IncomingBudget,
    sendQueues: SendQueueTotal,
    info: TransportInfo,
  ) {
    socket.setNoDelay?.(true);
    this.info = info;
    this.guard = new SendQueueGuard(service.options, this, sendQueues);
    this.guard.watch(socket);
    this.batcher = new WriteBatcher(socket, this.guard);
    this.budget = MessageBudget.of(service.options);
  }

  /** Writes one encoded message, framed, through the batcher. */
  protected abstract writeMessage(encoded: Buffer): void;
  /** Ends the connection now, unflushed. */
  protected abstract terminate(): void;

  get unauthenticated(): boolean {
    return this.session?.established !== true;
  }

  get description(): string {
    return `${this.info.type} ${this.info.peer}`;
  }

  /** Counts bytes read before the session is established: true once they are past max_unauthenticated_bytes. */
  protected pastUnauthenticatedLimit(bytes: number): boolean {
    this.unauthenticatedBytes += bytes;
    return this.unauthenticatedBytes > this.service.options.maxUnauthenticatedBytes;
  }

  send(message: WampMessage, cache?: EncodingCache): boolean {
    const serializer = this.serializer;
    if (this.closed || serializer === undefined || this.socket.destroyed) return true;
    const backlog = this.socket.writableLength;
    if (backlog > this.guard.threshold && this.guard.over(message[0] as number, backlog, this.session)) return true;
    const encoded = encodeOnce(serializer, message, cache, this.info.peer);
    if (encoded === undefined || encoded.length > this.peerMaxLength) return false;
    this.writeMessage(encoded);
    return true;
  }

  /** The send queue is over its limit and the policy says go (SendQueueGuard). */
  dropSlowConsumer(): void {
    this.closed = true;
    this.keepAlive.stop();
    this.terminate();
  }

  /** The peer sends more than the router will hold (IncomingBudget): ended at once, unflushed, as a slow consumer is. */
  dropForBudget(): void {
    this.dropSlowConsumer();
  }

  sendQueue(): SendQueueStats {
    return this.guard.stats(this.socket.writableLength);
  }

  sendBacklogged(): boolean {
    return this.socket.writableLength > this.guard.limit;
  }

  abstract close(): void;

  /** Ends the connection politely (`end`: a close frame, a FIN), and drops it if that takes longer than `graceMs`. */
  protected closeGracefully(end: () => void, graceMs = CLOSE_GRACE_MS): void {
    if (this.closed) return;
    this.closed = true;
    this.keepAlive.stop();
    end();
    setTimeout(() => this.terminate(), graceMs).unref();
  }
}
