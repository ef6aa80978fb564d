// One MQTT network connection: bytes in and out through mqtt-packet's parser and generator, the
// CONNECT deadline, the client's keep-alive, the packet size limit and the bounded send queue (a
// client that stops reading loses QoS 0 messages past `max_send_queue`, and is dropped past twice
// that, as WAMP slow consumers are). What the packets mean is the MQTT session's business
// (mqtt-session.ts); a connection only carries them.

import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import * as mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import { log } from '../../log.js';
import { SendQueueGuard, type SlowConsumerOwner } from '../limits.js';
import type { MqttServiceConfig } from '../../config/types.js';
import type { SendQueueStats, TransportInfo } from '../../core-boundary.js';
import { IncomingBudget, type IncomingHolder } from '../incoming-budget.js';
import { SendQueueTotal } from '../send-queue-total.js';
import { packetBytes } from './packet-bytes.js';
import * as keepAliveClock from './keep-alive.js';
import { holdWrites, type HeldWrites } from './turn-writes.js';
import { REASON } from './reason-codes.js';
import { MqttTraffic } from './sys-topics.js';

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

/** What mqtt-packet's parser knows of the packet it is reading: its announced length (-1 until known). */
type ParserState = { packet: { length: number } };

/** A socket error listener without a closure per connection. */
function ignoreError(): void {}

export class MqttConnection implements SlowConsumerOwner, IncomingHolder, keepAliveClock.KeptAlive, HeldWrites {
  readonly peer: string;
  /** 3 (MQTT 3.1), 4 (3.1.1) or 5, known from CONNECT on. */
  version: 3 | 4 | 5 = 4;
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 });
  /** The client's keep-alive in seconds (0: none), and as the keep-alive clock counts it (keep-alive.ts). */
  private keepAliveSeconds = 0;
  keepAliveTicks = 0;
  lastRead = 0;
  private connectTimer: NodeJS.Timeout | undefined;
  private ended = false;
  private cleanEnd = false;
  /** Packets written in one event-loop turn (PUBACKs for a burst of QoS 1 publishes) leave in one write (turn-writes.ts). */
  corked = false;
  private readonly guard: SendQueueGuard;
  /** Until CONNACK: bytes read so far, held to `maxUnauthenticatedBytes` (a CONNECT announced longer is refused at once). */
  unauthenticated = true;
  private unauthenticatedBytes = 0;
  heldBytes = 0;

  constructor(
    readonly socket: ByteStream,
    private owner: ConnectionOwner,
    private readonly maxPacketSize: number,
    connectTimeoutMs: number,
    sendQueue: Pick<MqttServiceConfig, 'maxSendQueue' | 'sendQueuePolicy'>,
    private readonly maxUnauthenticatedBytes = Infinity,
    private readonly incoming: IncomingBudget = new IncomingBudget(),
    sendQueues: SendQueueTotal = new SendQueueTotal(),
    /** The listener's packet and byte counts ($SYS/broker/messages/..., bytes/...). */
    private readonly traffic: MqttTraffic = new MqttTraffic(),
  ) {
    // Joined rather than a template: one flat string, not a tree of pieces kept for the connection's life.
    this.peer = socket.remoteAddress ? [socket.remoteFamily === 'IPv6' ? 'tcp6:' : 'tcp4:', socket.remoteAddress, ':', socket.remotePort].join('') : 'unix';
    this.guard = new SendQueueGuard(sendQueue, this, sendQueues);
    this.guard.watch(socket);
    socket.setNoDelay(true);
    this.parser.on('packet', (p: Packet) => this.onPacket(p));
    this.parser.on('error', (err: Error) => (this.owner.malformed ? this.owner.malformed(this, err.message) : this.fail(`malformed packet: ${err.message}`)));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.finish());
    socket.on('error', ignoreError); // 'close' follows, and ends the connection
    if (connectTimeoutMs > 0) {
      this.connectTimer = setTimeout(() => this.fail(`no CONNECT within ${connectTimeoutMs} ms`), connectTimeoutMs);
    }
  }

  /** Hands the connection to another owner (its MQTT session, once CONNECT is accepted). */
  adopt(owner: ConnectionOwner): void {
    this.owner = owner;
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
    if (backlog > this.guard.threshold && this.guard.overLimit(droppable, backlog, this.owner)) return false;
    try {
      const pieces = packetBytes(packet, this.version);
      holdWrites(this);
      const traffic = this.traffic;
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
    this.guard.record(this.socket.writableLength);
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
    return this.guard.stats(this.socket.writableLength);
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

  private onData(chunk: Buffer): void {
    this.lastRead = keepAliveClock.now();
    this.traffic.bytesReceived += chunk.length;
    if (this.unauthenticated) {
      this.unauthenticatedBytes += chunk.length;
      if (this.unauthenticatedBytes > this.maxUnauthenticatedBytes) {
        return this.fail(`more than ${this.maxUnauthenticatedBytes} bytes before CONNACK (max_unauthenticated_bytes)`);
      }
    }
    // The parser buffers a packet until it is whole: a client announcing a huge one is cut off
    // before it can fill the router's memory.
    const pending = this.parser.parse(chunk);
    if (pending > this.maxPacketSize + 5) this.fail(`packet larger than ${this.maxPacketSize} bytes`);
    const announced = (this.parser as unknown as ParserState).packet.length;
    if (this.unauthenticated && announced > this.maxUnauthenticatedBytes) {
      this.fail(`a packet of ${announced} bytes before CONNACK (max_unauthenticated_bytes ${this.maxUnauthenticatedBytes})`);
    }
    this.incoming.hold(this, this.ended ? 0 : pending);
  }

  private onPacket(packet: Packet): void {
    if (this.ended) return;
    this.traffic.messagesReceived++;
    if (packet.cmd === 'connect' && packet.protocolVersion) {
      this.version = packet.protocolVersion;
      // Later packets of an MQTT 5 client carry properties: parse them as such.
      (this.parser as unknown as { settings: { protocolVersion: number } }).settings.protocolVersion = packet.protocolVersion;
    }
    try {
      this.owner.packet(this, packet);
    } catch (err) {
      log.error(`mqtt ${this.peer}: internal error handling ${packet.cmd}: ${(err as Error).stack}`);
      this.fail('internal error');
    }
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.incoming.hold(this, 0);
    if (this.connectTimer) clearTimeout(this.connectTimer);
    if (this.keepAliveSeconds > 0) keepAliveClock.unwatch(this);
    this.owner.closed(this, this.cleanEnd);
  }
}
