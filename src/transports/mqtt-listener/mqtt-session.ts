// One MQTT client's session on the listener, the MQTT protocol side: the packets the client sends
// (once checks.ts accepted them) and gets, the QoS flows (QoS 2 publications held until PUBREL;
// messages to the client through its DeliveryQueue under packet ids), CONNACK and session present,
// keep-alive, the will, and the limits the client is held to (its maximum packet size, packets sent
// while an authorizer decides, reading paused while a SUBSCRIBE is worked on). What the packets
// mean in the realm (topics ↔ URIs, payloads, subscriptions) is the business of the client's
// MqttWampSession (wamp-session.ts), the WAMP session it is in the realm.
// A persistent session (MQTT 3 clean=false, MQTT 5 session expiry > 0) outlives its connection:
// its WAMP session stays joined, QoS 1/2 messages wait in its DeliveryQueue, and the client picks it
// up again when it reconnects with the same client id and the same credentials' authid.

import * as mqttPacket from 'mqtt-packet';
import type { IConnectPacket, IPublishPacket, Packet } from 'mqtt-packet';
import type { SendQueueStats } from '../../core-boundary.js';
import type { ConnectionOwner, MqttConnection } from './connection.js';
import { DeliveryQueue, type DeliverySink } from './delivery-queue.js';
import { MqttWampSession, type ListenerContext, type MqttSide, type OpenResult } from './wamp-session.js';
import { clientPacketViolation } from './checks.js';
import { REASON, v3Suback } from './reason-codes.js';
import { isSysTopic } from './sys-topics.js';
import { log } from '../../log.js';

/** Packets a client may send while the router waits for a dynamic authorizer (then it is a flood). */
const MAX_PAUSED_PACKETS = 1000;

/** The listener (MqttService), as its sessions report to it. */
export interface SessionRegistry extends ListenerContext {
  /** The session ended: forget its client id (if it still maps to it). */
  ended(session: MqttSession): void;
  /** A persistent session lost its connection and waits for its client. */
  wentOffline(session: MqttSession): void;
  /** What a session waiting for its client holds grew (or shrank) by `bytes`. */
  offlineBytesChanged(session: MqttSession, bytes: number): void;
}

export class MqttSession implements ConnectionOwner, DeliverySink, MqttSide {
  /** The same client as a WAMP session of the realm. */
  readonly wamp: MqttWampSession;
  /** QoS 1/2 messages to the client, in flight and waiting (also while it is away). */
  readonly deliveries: DeliveryQueue;
  /** Survives its connection (see the file comment). */
  persistent = false;
  version: 3 | 4 | 5 = 4;
  /** opening: its CONNECT is being authenticated; open: the realm accepted it. */
  private state: 'opening' | 'open' | 'ended' = 'opening';
  private connection: MqttConnection | undefined;
  /** QoS 2 messages received and not yet released (PUBREL) by the client. */
  private readonly incomingQos2 = new Set<number>();
  private will: IConnectPacket['will'];
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiryMs = 0;
  /** The largest packet the (MQTT 5) client accepts, when it said so in CONNECT. */
  private clientMaxPacket: number | undefined;
  /** Packets received while a dynamic authorizer decides on a request's response topic. */
  private paused: Packet[] | undefined;
  /** Reading stopped while a SUBSCRIBE's filters are worked on in later turns. */
  private readingPaused = false;

  constructor(private readonly registry: SessionRegistry, readonly clientId: string, peer: string) {
    const { config } = registry;
    this.deliveries = new DeliveryQueue(this, { maxInflight: config.maxInflight, maxWaiting: config.maxOfflineMessages, maxBytes: config.maxOfflineBytes });
    this.wamp = new MqttWampSession(this, registry, clientId, peer);
  }

  // ---- opening: CONNECT → its WAMP session joins → CONNACK ----

  open(connect: IConnectPacket, version: 3 | 4 | 5): Promise<OpenResult> {
    this.version = version;
    return this.wamp.open(connect, version);
  }

  joined(): void {
    this.state = 'open';
  }

  get ended(): boolean {
    return this.state === 'ended';
  }

  /** Takes the client's connection: CONNACK, keep-alive, will, and what waited for it. */
  attach(connection: MqttConnection, connect: IConnectPacket, options: { persistent: boolean; expiryMs: number; present: boolean; assignedId?: string }): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.connection = connection;
    this.version = connection.version;
    this.paused = undefined; // the previous connection's packets, if its request was being authorized
    connection.adopt(this);
    this.persistent = options.persistent;
    this.expiryMs = options.expiryMs;
    this.will = connect.will;
    this.clientMaxPacket = this.version === 5 ? connect.properties?.maximumPacketSize : undefined;
    const connack: Packet = this.version === 5
      ? {
        cmd: 'connack', reasonCode: 0, sessionPresent: options.present,
        properties: {
          maximumPacketSize: this.registry.config.maxMessageSize,
          retainAvailable: true, wildcardSubscriptionAvailable: true,
          sharedSubscriptionAvailable: false, subscriptionIdentifiersAvailable: false,
          ...(options.assignedId ? { assignedClientIdentifier: options.assignedId } : {}),
          ...(options.persistent ? { sessionExpiryInterval: Math.floor(options.expiryMs / 1000) } : {}),
        },
      }
      : { cmd: 'connack', returnCode: 0, sessionPresent: options.present };
    connection.send(connack);
    connection.keepAlive(connect.keepalive ?? 0);
    this.deliveries.resume();
  }

  /** Another connection with the same client id took over (MQTT 5: DISCONNECT 0x8E first). */
  takenOver(): void {
    const connection = this.connection;
    if (!connection) return;
    disconnect(connection, this.version, REASON.sessionTakenOver, 'taken over by a new connection with the same client id');
  }

  /** Ends the session: its WAMP session leaves the realm; its connection, if any, closes. */
  end(): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.registry.ended(this);
    const connection = this.connection;
    this.connection = undefined;
    connection?.close();
    this.wamp.left();
  }

  /** The router ended the session (kill, shutdown): MQTT 5 clients hear why; no will. */
  endedByRouter(shutdown: boolean): void {
    if (this.connection && this.version === 5) {
      this.connection.send({ cmd: 'disconnect', reasonCode: shutdown ? REASON.serverShuttingDown : REASON.adminAction });
    }
    this.will = undefined;
    this.end();
  }

  // ---- DeliverySink ----

  get connected(): boolean {
    return this.connection?.open === true;
  }

  write(packet: Packet): void {
    this.connection?.send(packet);
  }

  // ---- the send queue (socket backlog) and what was lost ----

  sendQueue(): SendQueueStats {
    const { config } = this.registry;
    const socket = this.connection?.sendQueue();
    const stats = socket ?? { bytes: 0, limit: config.maxSendQueue, policy: config.sendQueuePolicy, droppedEvents: 0, slow: false, disconnected: false };
    return { ...stats, droppedEvents: stats.droppedEvents + this.deliveries.dropped };
  }

  slowConsumer(disconnecting: boolean): void {
    this.wamp.slowConsumer(disconnecting);
  }

  // ---- ConnectionOwner: packets from the client ----

  packet(connection: MqttConnection, packet: Packet): void {
    if (connection !== this.connection) return;
    if (this.paused) {
      if (this.paused.length >= MAX_PAUSED_PACKETS) return this.violation(REASON.quotaExceeded, `more than ${MAX_PAUSED_PACKETS} packets sent while the authorizer was deciding`);
      this.paused.push(packet);
      return;
    }
    const violation = clientPacketViolation(packet, this.registry.config.maxMessageSize);
    if (violation) return this.violation(violation.reasonCode, violation.why);
    switch (packet.cmd) {
      case 'publish': return this.onPublish(packet);
      case 'puback': return this.deliveries.acknowledged(packet.messageId!);
      case 'pubrec': return this.deliveries.received(packet.messageId!);
      case 'pubcomp': return this.deliveries.acknowledged(packet.messageId!);
      case 'pubrel':
        this.incomingQos2.delete(packet.messageId!);
        connection.send({ cmd: 'pubcomp', messageId: packet.messageId! });
        return;
      case 'subscribe': return this.wamp.subscriptions.subscribe(packet.messageId!, packet.subscriptions);
      case 'unsubscribe': return this.wamp.subscriptions.unsubscribe(packet.messageId!, packet.unsubscriptions);
      case 'pingreq':
        connection.send({ cmd: 'pingresp' });
        return;
      case 'disconnect':
        // MQTT 5 reason 0x04: "disconnect with will message".
        if (packet.reasonCode === 0x04) this.publishWill();
        this.will = undefined;
        connection.disconnected();
        return;
      default:
        this.violation(REASON.protocolError, `unexpected ${packet.cmd} packet`);
    }
  }

  /** mqtt-packet could not parse a packet (its connection is ours: CONNACK went out, so MQTT 5 may say so). */
  malformed(connection: MqttConnection, why: string): void {
    if (connection === this.connection) this.violation(REASON.malformedPacket, `malformed packet: ${why}`);
    else connection.fail(`malformed packet: ${why}`);
  }

  /** A malformed packet or a protocol error: MQTT 5 says which with DISCONNECT, then the connection closes. */
  private violation(reasonCode: number, why: string): void {
    if (this.connection) disconnect(this.connection, this.version, reasonCode, why);
  }

  closed(connection: MqttConnection, clean: boolean): void {
    if (connection !== this.connection) return;
    this.connection = undefined;
    if (!clean) this.publishWill();
    this.will = undefined;
    if (this.state !== 'open') return;
    if (!this.persistent) return this.end();
    this.expiryTimer = setTimeout(() => this.end(), this.expiryMs);
    this.expiryTimer.unref?.();
    this.registry.wentOffline(this);
  }

  private onPublish(packet: IPublishPacket): void {
    const connection = this.connection!;
    const { qos, messageId } = packet;
    const ack = (reasonCode: number) => {
      if (qos === 0) return;
      const cmd = qos === 1 ? 'puback' : 'pubrec';
      connection.send(this.version === 5 ? { cmd, messageId, reasonCode } : { cmd, messageId });
    };
    if (qos === 2 && this.incomingQos2.has(messageId!)) return ack(REASON.success); // a resend: published already
    if (isSysTopic(packet.topic)) return ack(REASON.notAuthorized); // the listener's own $SYS/ tree (sys-topics.ts)
    const uri = this.wamp.uriOf(packet.topic, 'topic');
    if (uri === undefined) return ack(REASON.topicNameInvalid);
    const responseTopic = packet.properties?.responseTopic;
    if (responseTopic === undefined) return this.publish(packet, uri, ack);
    // A request: whoever answers it (the rpc gateway as its own role, a bridge) publishes on the
    // response topic for the requester, so the requester must be allowed to publish there itself.
    const responseUri = this.wamp.uriOf(responseTopic, 'response topic');
    if (responseUri === undefined) return ack(REASON.topicNameInvalid);
    // A refusal is logged by the router session, as any other.
    const decided = (allowed: boolean) => (allowed ? this.publish(packet, uri, ack) : ack(REASON.notAuthorized));
    const allowed = this.wamp.mayPublish(responseUri);
    if (!(allowed instanceof Promise)) return decided(allowed);
    // A dynamic authorizer decides: what the client sends meanwhile waits, in order.
    const paused: Packet[] = [];
    this.paused = paused;
    void allowed.then((ok) => {
      if (this.paused !== paused) return; // a new connection took over meanwhile
      this.paused = undefined;
      if (this.connection !== connection) return;
      decided(ok);
      for (let i = 0; i < paused.length; i++) {
        this.packet(connection, paused[i]!);
        if (this.paused) {
          (this.paused as Packet[]).push(...paused.slice(i + 1));
          break;
        }
      }
    });
  }

  private publish(packet: IPublishPacket, uri: string, ack: (reasonCode: number) => void): void {
    if (packet.qos === 2) this.incomingQos2.add(packet.messageId!);
    this.wamp.publish(packet, uri, ack);
  }

  private publishWill(): void {
    const will = this.will;
    this.will = undefined;
    if (!will || this.state !== 'open') return;
    this.wamp.publishWill(will);
  }

  // ---- packets to the client ----

  suback(messageId: number, codes: number[]): void {
    this.connection?.send({ cmd: 'suback', messageId, granted: this.version === 5 ? codes : codes.map(v3Suback) });
  }

  unsuback(messageId: number, codes: number[]): void {
    this.connection?.send(this.version === 5 ? { cmd: 'unsuback', messageId, granted: codes } : { cmd: 'unsuback', messageId, granted: [] });
  }

  pauseReading(): void {
    if (this.readingPaused) return;
    this.readingPaused = true;
    this.connection?.pauseReading();
  }

  resumeReading(): void {
    if (!this.readingPaused) return;
    this.readingPaused = false;
    this.connection?.resumeReading();
  }

  /** An event as a PUBLISH: through the DeliveryQueue, which keeps QoS 1/2 ones while the client is away. */
  deliver(packet: IPublishPacket, uri: string): void {
    if (this.clientMaxPacket !== undefined && packetSize(packet, this.clientMaxPacket) > this.clientMaxPacket) {
      // [MQTT-3.1.2-24]: never sent. A client that got it would disconnect, and a persistent
      // session would get it again on every reconnect.
      this.wamp.warnEvent(`an event on '${uri.slice(0, 200)}' is larger than the client's maximum packet size (${this.clientMaxPacket} bytes); not sent`);
      return;
    }
    if (this.connected) return this.deliveries.push(packet);
    const before = this.deliveries.bytes;
    this.deliveries.push(packet);
    if (this.deliveries.bytes !== before) this.registry.offlineBytesChanged(this, this.deliveries.bytes - before);
  }
}

/**
 * Ends a connection from the server's side, unclean (the will is published): MQTT 5 hears why in a
 * DISCONNECT, which must leave before the socket closes; a peer that does not close its side is
 * dropped a moment later.
 */
function disconnect(connection: MqttConnection, version: 3 | 4 | 5, reasonCode: number, why: string): void {
  if (version !== 5) return connection.fail(why);
  log.info(`mqtt ${connection.peer}: closed: ${why} (DISCONNECT 0x${reasonCode.toString(16)})`);
  connection.send({ cmd: 'disconnect', reasonCode });
  connection.close();
  setTimeout(() => connection.socket.destroy(), 1000).unref();
}

/** The PUBLISH's size on the wire (a packet identifier counted for QoS 1/2). */
function packetSize(packet: IPublishPacket, limit: number): number {
  // Most events are far below the client's limit: only those near it are encoded to be measured.
  const properties = packet.properties ? JSON.stringify(packet.properties).length * 3 : 0;
  const rough = 16 + Buffer.byteLength(packet.topic) + (packet.payload as Buffer).length + properties;
  if (rough < limit) return rough;
  try {
    return mqttPacket.generate(packet.qos > 0 ? { ...packet, messageId: 1 } : packet, { protocolVersion: 5 }).length;
  } catch {
    return Infinity; // cannot be written at all
  }
}
