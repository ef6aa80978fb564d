// Per-connection limits of the network transports: a bounded outbound queue (a slow consumer
// costs the router at most about `max_send_queue` bytes, or twice that for messages that may not
// be dropped; slow consumers together about `max_send_queue_total`, see send-queue-total.ts) and a
// message-rate budget for what a peer sends (a token bucket: past it the transport stops reading
// the socket, so the peer slows itself down and nothing is lost).

import type { Writable } from 'node:stream';
import type { WampTransportOptions, SendQueuePolicy } from '../config/types.js';
import type { SendQueueStats, SessionHandle, TransportInfo } from '../core-boundary.js';
import { log } from '../log.js';
import { SendQueueTotal, SLOW_BACKLOG } from './send-queue-total.js';
import { EVENT } from '../wamp/message.js';

/** The transport a guard works for (a method, not a closure: nothing allocated per connection). */
export interface SlowConsumerOwner {
  readonly info: TransportInfo;
  /** Ends the connection now, without flushing (the peer does not read). */
  dropSlowConsumer(): void;
}

/** Told when its peer becomes a slow consumer (the router's session, through its handle). */
type SlowConsumerListener = Pick<SessionHandle, 'slowConsumer'>;

/**
 * The decision a transport's send path asks for when the socket's backlog is over `threshold`. The
 * common case (a connection that keeps up) is one comparison in the transport, no call here. The
 * guard also keeps its connection's share of the router-wide total (max_send_queue_total) current.
 */
export class SendQueueGuard {
  readonly limit: number;
  readonly policy: SendQueuePolicy;
  /** Non-events still go while the backlog is under this; past it the session is closed. */
  private readonly hardLimit: number;
  /**
   * The send path calls `over` past this backlog: `limit`, or 0 while the connection is slow (more
   * than SLOW_BACKLOG stayed queued after its last writes left), so that each event to it is
   * checked against the total of all connections.
   */
  threshold: number;
  /** This connection's bytes in `total`, as last recorded. */
  private recorded = 0;
  private released = false;
  droppedEvents = 0;
  slow = false;
  disconnected = false;

  /** `options`: a WAMP transport's, or an MQTT listener's (the same two keys). `total`: all connections' send queues. */
  constructor(
    options: Pick<WampTransportOptions, 'maxSendQueue' | 'sendQueuePolicy'>,
    private readonly owner: SlowConsumerOwner,
    private readonly total: SendQueueTotal = new SendQueueTotal(),
  ) {
    this.limit = options.maxSendQueue;
    this.threshold = this.limit;
    this.policy = options.sendQueuePolicy;
    this.hardLimit = options.sendQueuePolicy === 'drop-events' ? 2 * options.maxSendQueue : options.maxSendQueue;
  }

  /** Keeps this connection's share of the total current as `socket` drains, and gives it back on close. */
  watch(socket: Writable): void {
    socket.on('drain', () => this.record(socket.writableLength));
    // `on`, not `once`: 'close' comes once, and `once` wraps the listener (~100 bytes per connection).
    socket.on('close', () => this.release());
  }

  /** The connection is gone: its share of the total is given back (for owners that watch 'close' themselves). */
  release(): void {
    this.record(0);
    this.released = true;
  }

  /**
   * The socket's backlog is `bytes` now: called by the WriteBatcher once a turn's writes left, by
   * `over`, and on drain and close.
   */
  record(bytes: number): void {
    if (this.released) return;
    this.total.bytes += bytes - this.recorded;
    this.recorded = bytes;
    this.threshold = bytes > SLOW_BACKLOG ? 0 : this.limit;
  }

  /**
   * The backlog is over `threshold`: true when `type` must not be sent (an EVENT dropped, or the
   * session being closed), false when it still goes.
   */
  over(type: number, backlog: number, session: SlowConsumerListener | undefined): boolean {
    return this.overLimit(type === EVENT, backlog, session);
  }

  /** As `over`, for a message that may be dropped (an EVENT, an MQTT QoS 0 PUBLISH) or not. */
  overLimit(droppable: boolean, backlog: number, session: SlowConsumerListener | undefined): boolean {
    if (this.disconnected) return true;
    this.record(backlog);
    const overOwn = backlog > this.limit;
    // Under its own limit, a slow connection loses only events, and only while the total is over.
    if (!overOwn && !(droppable && this.total.over)) return false;
    const why = overOwn
      ? `max_send_queue ${this.limit}`
      : `all connections' send queues hold ${this.total.bytes} bytes, max_send_queue_total ${this.total.limit}`;
    if (this.policy === 'drop-events') {
      if (droppable) {
        this.droppedEvents++;
        if (!this.slow) {
          this.slow = true;
          log.warn(`${this.owner.info.type} ${this.owner.info.peer}: slow consumer: ${backlog} bytes waiting (${why}); dropping events for it`);
          session?.slowConsumer?.(false);
        }
        return true;
      }
      if (backlog <= this.hardLimit) return false;
    }
    this.slow = true;
    this.disconnected = true;
    log.warn(`${this.owner.info.type} ${this.owner.info.peer}: slow consumer: ${backlog} bytes waiting (${why}, send_queue_policy ${this.policy}); closing the session`);
    session?.slowConsumer?.(true);
    this.owner.dropSlowConsumer();
    return true;
  }

  stats(bytes: number): SendQueueStats {
    return { bytes, limit: this.limit, policy: this.policy, droppedEvents: this.droppedEvents, slow: this.slow, disconnected: this.disconnected };
  }
}

/**
 * A token bucket for incoming messages: `rate` per second, at most `burst` at once. `take()` spends
 * one token; when none is left the transport pauses reading for `waitMs()`.
 */
export class MessageBudget {
  private tokens: number;
  private last: number;
  private readonly burst: number;

  constructor(private readonly rate: number, burst: number) {
    this.burst = burst > 0 ? burst : rate;
    this.tokens = this.burst;
    this.last = performance.now();
  }

  /** The budget for `options`, or undefined when there is no rate limit. */
  static of(options: WampTransportOptions): MessageBudget | undefined {
    return options.maxMessagesPerSecond > 0 ? new MessageBudget(options.maxMessagesPerSecond, options.maxMessagesBurst) : undefined;
  }

  take(): boolean {
    if (this.tokens < 1) {
      // Refilled only when empty: the clock is read once per refill, not once per message.
      const now = performance.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
      if (this.tokens < 1) return false;
    }
    this.tokens--;
    return true;
  }

  /** ms until the next token. */
  waitMs(): number {
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.rate));
  }
}
