// One MQTT network connection: bytes in and out (whole packets to mqtt-packet's parser, see
// packet-reader.ts; packets out through packet-bytes.ts), the
// CONNECT deadline, the client's keep-alive, the packet size limit and the bounded send queue (a
// client that stops reading loses QoS 0 messages past `max_send_queue`, and is dropped past twice
// that, as WAMP slow consumers are). What the packets mean is the MQTT session's business
// (mqtt-session.ts); a connection only carries them.

import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Packet } from 'mqtt-packet';
import { log } from '../../log.js';
import { SendQueueGuard, type SlowConsumerOwner } from '../limits.js';
import type { MqttServiceConfig } from '../../config/types.js';
import type { SendQueueStats, TransportInfo } from '../../core-boundary.js';
import { IncomingBudget, type IncomingHolder } from '../incoming-budget.js';
import { SendQueueTotal } from '../send-queue-total.js';
import { packetBytes } from './packet-bytes.js';
import { headerError, packetStart, parsePackets, parseSettings, type PacketSink, type PacketStart } from './packet-reader.js';
import * as keepAliveClock from './keep-alive.js';
import { holdWrites, type HeldWrites } from './turn-writes.js';
import { takeShare, type TurnCounted } from '../turn-share.js';
import { REASON } from './reason-codes.js';
import { MqttTraffic } from './sys-topics.js';
import { describePeer } from '../peer.js';

export interface ConnectionOwner {
  packet(connection: MqttConnection, packet: Packet): void;
  /** The connection is gone; `clean` = after the client's DISCONNECT (no will). */
  closed(connection: MqttConnection, clean: boolean): void;
  /** The client does not read fast enough (see SessionHandle.slowConsumer). */
  slowConsumer?(disconnecting: boolean): void;
  /** mqtt-packet could not parse what the client sent (absent: the connection is dropped). */
  malformed?(connection: MqttConnection, why: string): void;
}

/** What a connection reads and writes: a TCP or TLS socket, or a WebSocket's bytes (websocket-bytes.ts). */
export type ByteStream = Duplex & Pick<Socket, 'remoteAddress' | 'remoteFamily' | 'remotePort'> & { setNoDelay(noDelay: boolean): unknown };

/** What all connections of one MQTT service share: its limits, and counters of them all. */
export interface ConnectionContext {
  /** max_message_size: a packet announced longer ends the connection. */
  readonly maxPacketSize: number;
  /** open_handshake_timeout: CONNECT must come within it (0: no limit). */
  readonly connectTimeoutMs: number;
  readonly sendQueue: Pick<MqttServiceConfig, 'maxSendQueue' | 'sendQueuePolicy'>;
  /** Bytes a client may send before its CONNACK. */
  readonly maxUnauthenticatedBytes: number;
  /** Unfinished packets of all the node's connections (max_incoming_bytes). */
  readonly incoming: IncomingBudget;
  /** Bytes waiting to be written, all connections together (max_send_queue_total). */
  readonly sendQueues: SendQueueTotal;
  /** Packet and byte counts ($SYS/broker/messages/..., bytes/...). */
  readonly traffic: MqttTraffic;
}

/** A socket error listener without a closure per connection. */
function ignoreError(): void {}

// The socket's listeners are shared by all connections (`this` is the socket, which points to its
// connection): two closures and their context were ~160 bytes of every idle connection.
const CONNECTION = Symbol('mqtt connection');
type ConnectedStream = ByteStream & { [CONNECTION]: MqttConnection };

function onSocketData(this: ConnectedStream, chunk: Buffer): void {
  this[CONNECTION].onChunk(chunk);
}

function onSocketClose(this: ConnectedStream): void {
  this[CONNECTION].finish();
}

/** The bytes of a packet not yet whole (chunks as they came), their count, and the packet's size once known (-1 before). */
interface UnfinishedPacket {
  chunks: Buffer[];
  bytes: number;
  total: number;
}

export class MqttConnection implements SlowConsumerOwner, IncomingHolder, keepAliveClock.KeptAlive, HeldWrites, PacketSink, TurnCounted {
  /** 3 (MQTT 3.1), 4 (3.1.1) or 5, known from CONNECT on. */
  version: 3 | 4 | 5 = 4;
  /** How its packets are parsed: 3.1.1 until CONNECT says otherwise. */
  private settings = parseSettings(4, false);
  /** Made while a packet arrives in pieces (an idle connection has none). */
  private unfinished: UnfinishedPacket | undefined;
  /** The client's keep-alive in seconds (0: none), and as the keep-alive clock counts it (keep-alive.ts). */
  private keepAliveSeconds = 0;
  keepAliveTicks = 0;
  lastRead = 0;
  private connectTimer: NodeJS.Timeout | undefined;
  private ended = false;
  /** This connection's share of the event loop's turn (turn-share.ts), kept here rather than in an object of its own. */
  shareTurn = -1;
  shareMessages = 0;
  shareBytes = 0;
  private cleanEnd = false;
  /** Packets written in one event-loop turn (PUBACKs for a burst of QoS 1 publishes) leave in one write (turn-writes.ts). */
  corked = false;
  /** A 'drain' listener is waiting for the backlog to leave (an idle connection has none). */
  private drainAwaited = false;
  /** Made once writes wait for the client (an idle connection has none): see `sendGuard`. */
  private guard: SendQueueGuard | undefined;
  /** Until CONNACK: bytes read so far, held to `maxUnauthenticatedBytes` (a CONNECT announced longer is refused at once). */
  unauthenticated = true;
  private unauthenticatedBytes = 0;
  heldBytes = 0;

  constructor(
    readonly socket: ByteStream,
    private owner: ConnectionOwner,
    private readonly context: ConnectionContext,
  ) {
    (socket as ConnectedStream)[CONNECTION] = this;
    // No guard.watch: 'drain' is listened to only while writes wait (uncorked), and the
    // connection's own 'close' listener releases the guard (three 'close' listeners on a socket
    // cost an array of 19 slots, two one of 2).
    socket.setNoDelay(true);
    socket.on('data', onSocketData);
    socket.on('close', onSocketClose);
    // 'close' follows an error, and ends the connection. A listener's socket has its error listener already.
    if (socket.listenerCount('error') === 0) socket.on('error', ignoreError);
    const connectTimeoutMs = context.connectTimeoutMs;
    if (connectTimeoutMs > 0) {
      this.connectTimer = setTimeout(() => this.fail(`no CONNECT within ${connectTimeoutMs} ms`), connectTimeoutMs);
    }
  }

  /** The send queue's bookkeeping, made the first time writes wait for the client. */
  private sendGuard(): SendQueueGuard {
    return (this.guard ??= new SendQueueGuard(this.context.sendQueue, this, this.context.sendQueues));
  }

  /** Hands the connection to another owner (its MQTT session, once CONNECT is accepted). */
  adopt(owner: ConnectionOwner): void {
    this.owner = owner;
  }

  /**
   * 'tcp4:127.0.0.1:53122', for logs and the session's transport details: asked of the socket each
   * time, not kept (Node keeps its address once asked): an idle sensor that nobody looks at holds
   * neither. Not known any more once the socket has closed: a session that outlives its
   * connection keeps it (see MqttSession.attach).
   */
  get peer(): string {
    return this.socket.remoteAddress ? describePeer(this.socket) : this.ended ? 'closed' : 'unix';
  }

  /** For slow-consumer log lines only: made when one is written. */
  get info(): TransportInfo {
    return { type: 'mqtt', serializer: 'mqtt', peer: this.peer };
  }

  get open(): boolean {
    return !this.ended;
  }

  /** Bytes written but not yet taken by the kernel: a slow reader's backlog. */
  get backlog(): number {
    return this.socket.writableLength;
  }

  /** Writes the packet; false when it was not (connection gone, QoS 0 dropped by a full send queue, not encodable). */
  send(packet: Packet): boolean {
    if (this.ended || this.socket.destroyed) return false;
    const backlog = this.socket.writableLength;
    const droppable = packet.cmd === 'publish' && packet.qos === 0;
    const threshold = this.guard ? this.guard.threshold : this.context.sendQueue.maxSendQueue;
    if (backlog > threshold && this.sendGuard().overLimit(droppable, backlog, this.owner)) return false;
    try {
      const pieces = packetBytes(packet, this.version);
      holdWrites(this);
      const traffic = this.context.traffic;
      traffic.messagesSent++;
      for (const bytes of pieces) {
        traffic.bytesSent += bytes.length;
        this.socket.write(bytes);
      }
      return true;
    } catch (err) {
      log.warn(`mqtt ${this.peer}: cannot encode ${packet.cmd}: ${(err as Error).message}`);
      return false;
    }
  }

  /** HeldWrites: the turn's writes left; what the kernel did not take is this connection's backlog. */
  uncorked(): void {
    const backlog = this.socket.writableLength;
    if (backlog === 0 && !this.guard) return;
    this.sendGuard().record(backlog);
    if (backlog > 0 && !this.drainAwaited) {
      this.drainAwaited = true;
      this.socket.once('drain', () => {
        this.drainAwaited = false;
        this.guard?.record(this.socket.writableLength);
      });
    }
  }

  /** The send queue is over its hard limit: drop the client now. The socket's close event ends the
   *  connection (later, not inside the broker's delivery that found it slow). */
  dropSlowConsumer(): void {
    this.socket.destroy();
  }

  /** Stops reading the client while work it asked for goes on in slices (its SUBSCRIBE), and goes on. */
  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  sendQueue(): SendQueueStats {
    return this.sendGuard().stats(this.socket.writableLength);
  }

  /** After CONNECT: the client's keep-alive (seconds; 0 = none) — 1.5 times it without a packet ends the connection. */
  keepAlive(seconds: number): void {
    this.unauthenticated = false; // CONNECT accepted: its session is established
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    if (seconds > 0 && !this.ended) {
      this.keepAliveSeconds = seconds;
      this.keepAliveTicks = keepAliveClock.allowedTicks(seconds);
      keepAliveClock.watch(this);
    }
  }

  /** Silent for 1.5 × keep-alive: closed as if the network had failed (the will is published); MQTT 5 hears 0x8D first. */
  keepAliveExpired(): void {
    const seconds = this.keepAliveSeconds;
    const why = `no packet within 1.5 × keep-alive (${seconds} s)`;
    if (this.version !== 5) return this.fail(why);
    log.info(`mqtt ${this.peer}: closed: ${why} (DISCONNECT 0x8d)`);
    this.send({ cmd: 'disconnect', reasonCode: REASON.keepAliveTimeout });
    this.close();
    // A peer that does not close its side is dropped a moment later.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Ends the connection (no will unless the session decides otherwise). */
  close(): void {
    if (this.ended) return;
    this.socket.end();
    this.finish();
  }

  /** Protocol error or timeout: drop the connection (an unclean end: the will is published). */
  fail(reason: string): void {
    if (this.ended) return;
    log.info(`mqtt ${this.peer}: closed: ${reason}`);
    this.socket.destroy();
    this.finish();
  }

  /** The client sent DISCONNECT: close, and mark the end as clean. */
  disconnected(): void {
    this.cleanEnd = true;
    this.close();
  }

  get description(): string {
    return `mqtt ${this.peer}`;
  }

  /** Unfinished packets hold more than max_incoming_bytes, all connections together (IncomingBudget). */
  dropForBudget(): void {
    this.fail('unfinished packets of all connections hold more than max_incoming_bytes');
  }

  /**
   * A chunk read, then its share of the turn counted: past it, reading stops until the next turn
   * (TurnShare), so that a client streaming large PUBLISHes cannot keep the loop to itself. Only on
   * TCP sockets, whose unread bytes wait in the kernel (MQTT over WebSocket is paced by its own
   * connection).
   */
  onChunk(chunk: Buffer): void {
    this.onData(chunk);
    if (takeShare(this, chunk.length) || this.ended || !(this.socket instanceof Socket)) return;
    this.socket.pause();
    setImmediate(() => {
      if (!this.ended) this.socket.resume();
    });
  }

  private onData(chunk: Buffer): void {
    this.lastRead = keepAliveClock.now();
    this.context.traffic.bytesReceived += chunk.length;
    if (this.unauthenticated) {
      this.unauthenticatedBytes += chunk.length;
      if (this.unauthenticatedBytes > this.context.maxUnauthenticatedBytes) {
        return this.fail(`more than ${this.context.maxUnauthenticatedBytes} bytes before CONNACK (max_unauthenticated_bytes)`);
      }
    }
    let bytes = chunk;
    const unfinished = this.unfinished;
    if (unfinished) {
      const missing = unfinished.total - unfinished.bytes;
      if (unfinished.total >= 0 && chunk.length < missing) {
        // A large packet comes in many chunks: they are joined once, when it is whole.
        unfinished.chunks.push(chunk);
        unfinished.bytes += chunk.length;
        this.context.incoming.hold(this, unfinished.bytes);
        return;
      }
      this.unfinished = undefined;
      if (unfinished.total >= 0) {
        // Joined to its exact size: its payload, which a retained message or a queue may keep for
        // long, then holds no more memory than it counts (the chunk's further packets would
        // double it: a 64 KiB message's chunk brings the start of the next one).
        unfinished.chunks.push(chunk.subarray(0, missing));
        this.readPackets(Buffer.concat(unfinished.chunks, unfinished.total));
        if (this.ended || chunk.length === missing) return;
        bytes = chunk.subarray(missing);
      } else {
        // The header itself was cut (a few bytes kept): joined with the chunk.
        bytes = Buffer.concat([...unfinished.chunks, chunk], unfinished.bytes + chunk.length);
      }
    }
    this.readPackets(bytes);
  }

  /** Parses the whole packets at the start of `bytes` and keeps the rest; a packet announced over a limit ends the connection. */
  private readPackets(bytes: Buffer): void {
    let end = 0;
    let start: PacketStart | undefined;
    let overLimit = false;
    while (end < bytes.length) {
      start = packetStart(bytes, end);
      if (start.kind !== 'known') break;
      // A client announcing a huge packet is cut off before it can fill the router's memory.
      overLimit = start.remaining > this.context.maxPacketSize || (this.unauthenticated && start.remaining > this.context.maxUnauthenticatedBytes);
      if (overLimit || end + start.total > bytes.length) break;
      end += start.total;
    }
    if (end > 0) parsePackets(end === bytes.length ? bytes : bytes.subarray(0, end), this.settings, this);
    if (this.ended || end === bytes.length) return this.context.incoming.hold(this, 0);
    if (start?.kind === 'malformed') return this.parseFailed(new Error('Invalid variable byte integer'));
    if (start?.kind === 'known' && overLimit) return this.tooLarge(start.remaining);
    const badHeader = headerError(bytes[end]);
    if (badHeader) return this.parseFailed(new Error(badHeader));
    // Kept as a copy: the chunk it ends may be far larger than what is left of it.
    const rest = Buffer.from(bytes.subarray(end));
    this.unfinished = { chunks: [rest], bytes: rest.length, total: start?.kind === 'known' ? start.total : -1 };
    this.context.incoming.hold(this, rest.length);
  }

  /** A packet announced longer than max_message_size (or, before CONNACK, max_unauthenticated_bytes). */
  private tooLarge(length: number): void {
    if (this.unauthenticated && length > this.context.maxUnauthenticatedBytes) {
      return this.fail(`a packet of ${length} bytes before CONNACK (max_unauthenticated_bytes ${this.context.maxUnauthenticatedBytes})`);
    }
    const why = `a packet of ${length} bytes (max_message_size ${this.context.maxPacketSize})`;
    if (this.version !== 5 || this.unauthenticated) return this.fail(why);
    // [MQTT-3.2.2-15]: an MQTT 5 client hears why (0x95) before the connection closes.
    log.info(`mqtt ${this.peer}: closed: ${why} (DISCONNECT 0x95)`);
    this.send({ cmd: 'disconnect', reasonCode: REASON.packetTooLarge });
    this.close();
  }

  // ---- PacketSink: what the parser finds in the client's packets ----

  parseFailed(err: Error): void {
    if (this.owner.malformed) this.owner.malformed(this, err.message);
    else this.fail(`malformed packet: ${err.message}`);
  }

  packetParsed(packet: Packet): void {
    if (this.ended) return;
    this.context.traffic.messagesReceived++;
    if (packet.cmd === 'connect' && packet.protocolVersion) {
      this.version = packet.protocolVersion;
      // Later packets of an MQTT 5 client carry properties, a bridge's SUBSCRIBE options its flags.
      this.settings = parseSettings(packet.protocolVersion, (packet as { bridgeMode?: boolean }).bridgeMode === true);
    }
    try {
      this.owner.packet(this, packet);
    } catch (err) {
      log.error(`mqtt ${this.peer}: internal error handling ${packet.cmd}: ${(err as Error).stack}`);
      this.fail('internal error');
    }
  }

  /** The socket closed, or the connection was ended: tells its owner, once. */
  finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.unfinished = undefined;
    this.guard?.release();
    this.context.incoming.hold(this, 0);
    if (this.connectTimer) clearTimeout(this.connectTimer);
    if (this.keepAliveSeconds > 0) keepAliveClock.unwatch(this);
    this.owner.closed(this, this.cleanEnd);
  }
}
