// One WAMP-over-long-poll transport (one client's session): what the router sends waits in a queue
// until the client's next receive request takes it; what the client sends arrives in send requests.
// The queue is bounded (queue_limit_bytes, queue_limit_messages: past either, the session ends, the
// meaning Crossbar documents for them); a client that stops asking ends its session after
// session_timeout, as a lost connection does (its testaments fire).

import type { ServerResponse } from 'node:http';
import type { WampMessage } from '../wamp/message.js';
import type { EncodingCache, SendQueueStats, SessionFactory, SessionHandle, Transport, TransportInfo } from '../core-boundary.js';
import type { LongPollPathConfig } from '../config/types.js';
import type { LongPollFraming } from './longpoll-framing.js';
import { encodeOnce } from './outbound.js';
import { log } from '../log.js';

/** After the router closed the session: how long its last messages (GOODBYE, ABORT) wait for the client's receive and /close. */
const CLOSE_GRACE_MS = 5000;

export class LongPollTransport implements Transport {
  readonly info: TransportInfo;
  private readonly session: SessionHandle;
  private readonly queue: Buffer[] = [];
  /** Bytes in `queue`, frames included. */
  private queuedBytes = 0;
  /** The receive request held open until a message is queued or request_timeout passes. */
  private poll: ServerResponse | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  /** Runs while no receive request is held: session_timeout of inactivity. */
  private idleTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  /** 'closing': the router closed it, its last messages still wait for the client. */
  private state: 'open' | 'closing' | 'ended' = 'open';
  private overLimit = false;

  constructor(
    readonly id: string,
    private readonly framing: LongPollFraming,
    private readonly config: LongPollPathConfig,
    factory: SessionFactory,
    peer: string,
    /** Called once when the transport ends: the service forgets its id. */
    private readonly onEnded: (transport: LongPollTransport) => void,
  ) {
    this.info = { type: 'longpoll', serializer: framing.serializer.name, peer, protocol: framing.protocol };
    this.armIdle();
    this.session = factory.openSession(this, { auth: config.auth, openTimeoutMs: config.openHandshakeTimeout });
  }

  /** Until WELCOME: such clients' unfinished requests are dropped first when the router holds too much. */
  get unauthenticated(): boolean {
    return this.session?.established !== true;
  }

  get ended(): boolean {
    return this.state === 'ended';
  }

  private debug(text: string): void {
    if (this.config.debug) log.info(`longpoll ${this.id} (${this.info.peer}): ${text}`);
  }

  // ---- the router's side (Transport) ----

  send(message: WampMessage, cache?: EncodingCache): boolean {
    if (this.state !== 'open') return true;
    const encoded = encodeOnce(this.framing.serializer, message, cache, this.info.peer);
    if (encoded === undefined || encoded.length > this.config.maxMessageSize) return false;
    const bytes = this.framing.framedLength(encoded);
    const { queueLimitBytes, queueLimitMessages } = this.config;
    if (this.queuedBytes + bytes > queueLimitBytes || (queueLimitMessages > 0 && this.queue.length >= queueLimitMessages)) {
      log.info(`longpoll ${this.id} (${this.info.peer}): send queue over its limit (${this.queue.length} messages, ${this.queuedBytes} bytes; ` +
        `queue_limit_messages ${queueLimitMessages}, queue_limit_bytes ${queueLimitBytes}): session ended`);
      this.overLimit = true;
      this.state = 'closing';
      this.session.slowConsumer?.(true);
      // Not from within the router's send: the session is told it is gone on the next turn.
      setImmediate(() => this.end());
      return true;
    }
    this.queue.push(encoded);
    this.queuedBytes += bytes;
    this.flush();
    return true;
  }

  /** The router is done with the session: its last messages wait a little for the client to fetch them. */
  close(): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.closeTimer = setTimeout(() => this.end(), CLOSE_GRACE_MS);
    this.closeTimer.unref();
  }

  sendQueue(): SendQueueStats {
    return {
      bytes: this.queuedBytes, limit: this.config.queueLimitBytes, policy: 'disconnect',
      droppedEvents: 0, slow: this.overLimit, disconnected: this.overLimit,
    };
  }

  sendBacklogged(): boolean {
    return this.queuedBytes > this.config.queueLimitBytes / 2;
  }

  // ---- the client's side (its HTTP requests) ----

  /** A send request's body: its messages go to the session. Throws when it cannot be decoded (the service answers 400). */
  deliver(body: Buffer): void {
    this.touch();
    if (this.state !== 'open') return;
    const messages = this.framing.split(body).map((m) => this.framing.serializer.decode(m));
    this.debug(`received ${messages.length} message(s)`);
    for (const m of messages) {
      if (this.state !== 'open') break;
      this.session.receive(m);
    }
  }

  /** A receive request: answered at once when messages wait, else held. */
  receive(res: ServerResponse): void {
    this.touch();
    // One receive at a time: an earlier one still held is answered empty.
    if (this.poll) this.answerPoll(undefined);
    this.poll = res;
    this.disarmIdle();
    res.once('close', () => {
      if (this.poll !== res) return;
      // The client gave up on it (its own timeout, or the page went away).
      this.poll = undefined;
      clearTimeout(this.pollTimer);
      this.armIdle();
    });
    if (this.queue.length > 0) return this.flush();
    // The router closed the session and the client has everything: nothing more will come.
    if (this.state === 'closing') return this.end();
    if (this.config.requestTimeout > 0) this.pollTimer = setTimeout(() => this.answerPoll(undefined), this.config.requestTimeout);
  }

  /** The client's /close: the session ends (a lost connection to the router, if the session was still open). */
  clientClose(): void {
    this.debug('closed by the client');
    this.end();
  }

  /** Ends the transport now: the held receive is answered empty, the session is told, the id forgotten. */
  end(): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    clearTimeout(this.closeTimer);
    this.disarmIdle();
    if (this.poll) this.answerPoll(undefined);
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.onEnded(this);
    this.session.transportClosed();
  }

  private flush(): void {
    if (!this.poll || this.queue.length === 0) return;
    const taken = this.framing.batched ? this.queue.splice(0) : this.queue.splice(0, 1);
    for (const e of taken) this.queuedBytes -= this.framing.framedLength(e);
    this.debug(`sending ${taken.length} message(s)`);
    this.answerPoll(this.framing.body(taken));
  }

  /** Answers the held receive request: 200 with the messages, or 204 when there are none. */
  private answerPoll(body: Buffer | undefined): void {
    const res = this.poll!;
    this.poll = undefined;
    clearTimeout(this.pollTimer);
    if (body === undefined) {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(200, { 'Content-Type': this.framing.mimeType, 'Content-Length': body.length });
      res.end(body);
    }
    if (this.state !== 'ended') this.armIdle();
  }

  /** Any request from the client: it is still there. */
  private touch(): void {
    if (this.idleTimer !== undefined) this.armIdle();
  }

  private armIdle(): void {
    this.disarmIdle();
    if (this.config.sessionTimeout === 0 || this.state === 'ended') return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      log.info(`longpoll ${this.id} (${this.info.peer}): no request for ${this.config.sessionTimeout / 1000} s (session_timeout): session ended`);
      this.end();
    }, this.config.sessionTimeout);
    this.idleTimer.unref();
  }

  private disarmIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}
