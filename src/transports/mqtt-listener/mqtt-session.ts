// One MQTT client's session on the listener, the MQTT protocol side: the packets the client sends
// (once checks.ts accepted them) and gets, the QoS flows (QoS 2 publications held until PUBREL;
// messages to the client through its DeliveryQueue under packet ids), CONNACK and session present,
// keep-alive, the will, and the limits the client is held to (its maximum packet size, packets sent
// while an authorizer decides, reading paused while a SUBSCRIBE is worked on), and MQTT 5 flow
// control: topic aliases both ways (topic-aliases.ts), Receive Maximum both ways (the client's
// bounds the DeliveryQueue; the router's, `max_inflight`, bounds the client's unacknowledged QoS 1/2
// PUBLISHes). What the packets
// mean in the realm (topics ↔ URIs, payloads, subscriptions) is the business of the client's
// MqttWampSession (wamp-session.ts), the WAMP session it is in the realm.
// A persistent session (MQTT 3 clean=false, MQTT 5 session expiry > 0) outlives its connection:
// its WAMP session stays joined, QoS 1/2 messages wait in its DeliveryQueue, and the client picks it
// up again when it reconnects with the same client id and the same credentials' authid. It ends
// when its expiry interval (CONNECT's, or the one the client's DISCONNECT set) has passed since
// its connection closed. An MQTT 5 will with a Will Delay Interval waits for the delay or the
// session's end, whichever comes first, and is dropped if the client comes back first.

import * as mqttPacket from 'mqtt-packet';
import type { IConnectPacket, IDisconnectPacket, IPublishPacket, Packet } from 'mqtt-packet';
import type { SendQueueStats } from '../../core-boundary.js';
import type { ConnectionOwner, MqttConnection } from './connection.js';
import { DeliveryQueue, type DeliveryLimits, type DeliverySink } from './delivery-queue.js';
import type { MqttServiceConfig } from '../../config/types.js';
import { MqttWampSession, type ListenerContext, type MqttSide, type OpenResult } from './wamp-session.js';
import { clientPacketViolation } from './checks.js';
import { InboundAliases, OutboundAliases, TOPIC_ALIAS_MAXIMUM } from './topic-aliases.js';
import { LongTimer } from './long-timer.js';
import { REASON, v3Suback } from './reason-codes.js';
import { isSysTopic } from './sys-topics.js';
import type { SavedIdentity, SavedSession } from './session-file.js';
import { log } from '../../log.js';

/** Packets a client may send while the router waits for a dynamic authorizer (then it is a flood). */
const MAX_PAUSED_PACKETS = 1000;

/**
 * The delivery queues' limits, one object per listener (not per session), made again when a reload
 * (SIGHUP) changed them in the config in place; a queue keeps the object it was made with.
 */
const deliveryLimits = new WeakMap<MqttServiceConfig, DeliveryLimits>();

function deliveryLimitsOf(config: MqttServiceConfig): DeliveryLimits {
  const cached = deliveryLimits.get(config);
  if (cached && cached.maxInflight === config.maxInflight && cached.maxWaiting === config.maxOfflineMessages && cached.maxBytes === config.maxOfflineBytes) return cached;
  const limits: DeliveryLimits = { maxInflight: config.maxInflight, maxWaiting: config.maxOfflineMessages, maxBytes: config.maxOfflineBytes };
  deliveryLimits.set(config, limits);
  return limits;
}

/** The listener (MqttService), as its sessions report to it. */
export interface SessionRegistry extends ListenerContext {
  /** The session ended: forget its client id (if it still maps to it). */
  ended(session: MqttSession): void;
  /** A persistent session lost its connection and waits for its client. */
  wentOffline(session: MqttSession): void;
  /** What a session waiting for its client holds grew (or shrank) by `bytes`. */
  offlineBytesChanged(session: MqttSession, bytes: number): void;
  /** How long a session outlives its connection when its client asks for `seconds` (0: not at all). */
  sessionExpiryMs(seconds: number): number;
  /** A persistent session changed (what the session file keeps). */
  changed(): void;
  /** The router shuts down: the sessions end next, and are kept as they are now. */
  shuttingDown(): void;
}

/** The terms a connection takes its session on (decided by the listener from CONNECT and its config). */
export interface AttachOptions {
  persistent: boolean;
  expiryMs: number;
  /** CONNACK's session present. */
  present: boolean;
  /** Seconds the connection may stay silent (0: no limit): the client's, or `max_keepalive`. */
  keepAlive: number;
  assignedId?: string;
  /** MQTT 5: the Session Expiry Interval CONNECT asked for (a DISCONNECT may not raise 0 [MQTT-3.14.2-2]). */
  sessionExpiry?: number;
  /** MQTT 5 CONNACK: the Session Expiry Interval granted, Server Keep Alive, Response Information. */
  grantedExpiry?: number;
  serverKeepAlive?: number;
  responseInformation?: string;
}

/**
 * What an MQTT 5 client's CONNECT set for its connection. MQTT 3 clients have none of it (the
 * defaults below apply), and most sensors speak MQTT 3.1.1: kept apart so that their sessions
 * have no room for it.
 */
interface Mqtt5Terms {
  /** The client's Receive Maximum (65,535 when it gave none), for the DeliveryQueue. */
  receiveMaximum: number;
  /** The largest packet the client accepts, when it said so. */
  maxPacket: number | undefined;
  /** Request Problem Information: reason strings and user properties only where the client wants them. */
  problemInformation: boolean;
  /** CONNECT's Session Expiry Interval in seconds (a DISCONNECT may not raise 0). */
  sessionExpiry: number;
  /** Topic aliases of the connection: the client's (made on first use), and ours when it allows them. */
  inboundAliases: InboundAliases | undefined;
  outboundAliases: OutboundAliases | undefined;
}

/** A persistent session whose connection is gone: when it ends, and a will waiting for its Will Delay Interval. */
interface Away {
  /** Date.now() when the connection closed. */
  since: number;
  expiryTimer: LongTimer;
  delayedWill?: IConnectPacket['will'];
  willTimer?: LongTimer;
}

/** QoS 2 messages from the client: received and not yet released (PUBREL) in this session, and in this connection (for Receive Maximum). */
interface InboundQos2 {
  received: Set<number>;
  unreleased: Set<number>;
}

// A session's fields are what every idle MQTT client holds (hundreds on a board): what only some
// clients use (MQTT 5 terms, QoS 2, a will's delay, time away) is in objects made for those.
export class MqttSession implements ConnectionOwner, DeliverySink, MqttSide {
  /** The same client as a WAMP session of the realm. */
  readonly wamp: MqttWampSession;
  /** Messages to the client (see `deliveries`), from the first one on. */
  private queue: DeliveryQueue | undefined;
  /** Survives its connection (see the file comment). */
  persistent = false;
  version: 3 | 4 | 5 = 4;
  /** opening: its CONNECT is being authenticated; open: the realm accepted it. */
  private state: 'opening' | 'open' | 'ended' = 'opening';
  private connection: MqttConnection | undefined;
  private terms: Mqtt5Terms | undefined;
  private will: IConnectPacket['will'];
  private away: Away | undefined;
  private expiryMs = 0;
  /** This connection's QoS 1 PUBLISHes not yet answered with PUBACK (with `qos2.unreleased`, what counts against the router's Receive Maximum). */
  private unansweredQos1 = 0;
  private qos2: InboundQos2 | undefined;
  /** Packets received while a dynamic authorizer decides on a request's response topic. */
  private paused: Packet[] | undefined;
  /** Reading stopped while a SUBSCRIBE's filters are worked on in later turns. */
  private readingPaused = false;
  /**
   * Where the client is while the session has no connection of its own: the connection whose
   * CONNECT is being authenticated (the join's log line names it) or the one that has just closed
   * (the leave's), or the peer a persistent session had (kept: a closed socket no longer tells).
   * Otherwise the peer is asked of the connection, not kept.
   */
  private detachedFrom: MqttConnection | string | undefined;

  /** `saved`: who a session taken back from the session file belongs to (see restore()). */
  constructor(private readonly registry: SessionRegistry, readonly clientId: string, saved?: SavedIdentity) {
    this.wamp = new MqttWampSession(this, registry, saved);
  }

  /**
   * What the session file keeps of it: a persistent session's filters, messages and expiry
   * (undefined: nothing to keep). `shutdown`: a client still connected has its whole interval from
   * `now`; otherwise a connected client's session has no deadline yet.
   */
  saved(now: number, shutdown: boolean): SavedSession | undefined {
    if (!this.persistent || this.state !== 'open') return undefined;
    const { authid, authrole, authmethod } = this.wamp;
    const since = this.away?.since ?? (shutdown ? now : undefined);
    // A connected client's exchanges in flight last milliseconds: written at shutdown, not after
    // every PUBACK. A power cut loses them, as mosquitto loses what changed since its last save.
    const exchanges = since !== undefined;
    const saved: SavedSession = {
      clientId: this.clientId, identity: { authid, authrole, authmethod }, version: this.version, peer: this.peer,
      expiryMs: this.expiryMs,
      filters: this.wamp.subscriptionsIfAny?.saved() ?? [],
      messages: exchanges ? this.queue?.saved() ?? [] : [],
      qos2Received: exchanges ? [...(this.qos2?.received ?? [])] : [],
    };
    if (since !== undefined) saved.deadline = since + this.expiryMs;
    return saved;
  }

  /**
   * A session from the session file joins the realm again as who it was, its filters are subscribed
   * again (authorized now, as any SUBSCRIBE: one refused is dropped), and it waits for its client
   * until its deadline. False when the realm does not take it back.
   */
  async restore(saved: SavedSession): Promise<boolean> {
    this.version = saved.version;
    this.detachedFrom = saved.peer;
    const joined = await this.wamp.rejoin(saved.version);
    if (!joined.ok) {
      log.warn(`mqtt: saved session of '${saved.clientId}' not taken back: ${joined.reason}: ${joined.message}`);
      this.end();
      return false;
    }
    this.persistent = true;
    this.expiryMs = saved.expiryMs;
    if (saved.messages.length > 0) this.deliveries.restore(saved.messages);
    if (saved.qos2Received.length > 0) this.qos2 = { received: new Set(saved.qos2Received), unreleased: new Set() };
    // One SUBSCRIBE per subscription identifier, no retained messages (as a session present has none to get).
    const byIdentifier = new Map<number | undefined, SavedSession['filters']>();
    for (const f of saved.filters) byIdentifier.set(f.identifier, [...(byIdentifier.get(f.identifier) ?? []), f]);
    for (const [identifier, filters] of byIdentifier) {
      await new Promise<void>((resolve) => {
        restoring.set(this, (codes) => {
          codes.forEach((code, i) => {
            if (code >= 0x80) log.info(`mqtt: saved session of '${saved.clientId}': subscription to '${filters[i]!.filter.slice(0, 200)}' dropped: refused now (reason 0x${code.toString(16)}) for role '${this.wamp.authrole}'`);
          });
          resolve();
        });
        this.wamp.subscriptions.subscribe(0, filters.map((f) => ({ topic: f.filter, qos: f.qos, nl: f.noLocal, rap: f.retainAsPublished, rh: 2 })),
          identifier === undefined ? undefined : { subscriptionIdentifier: identifier });
      });
    }
    restoring.delete(this);
    const deadline = saved.deadline ?? Date.now() + saved.expiryMs;
    this.away = { since: deadline - saved.expiryMs, expiryTimer: new LongTimer(deadline - Date.now(), () => this.end()) };
    this.registry.wentOffline(this);
    return true;
  }

  /** What the session file keeps changed: filters, or messages while the client is away (see saved()). */
  private touched(): void {
    if (this.persistent) this.registry.changed();
  }

  /** Where the client connects from: its connection's peer, or where it was last (a persistent session waiting for it). */
  get peer(): string {
    if (this.connection?.open) return this.connection.peer;
    const from = this.detachedFrom;
    // A closed connection still knows its peer if it was asked while open (the join's log line).
    return typeof from === 'string' ? from : from ? from.peer : 'not connected';
  }

  // ---- opening: CONNECT → its WAMP session joins → CONNACK ----

  open(connect: IConnectPacket, connection: MqttConnection): Promise<OpenResult> {
    const version = connection.version;
    this.version = version;
    this.detachedFrom = connection;
    return this.wamp.open(connect, version);
  }

  joined(): void {
    this.state = 'open';
  }

  get ended(): boolean {
    return this.state === 'ended';
  }

  /** Takes the client's connection: CONNACK, keep-alive, will, and what waited for it. */
  attach(connection: MqttConnection, connect: IConnectPacket, options: AttachOptions): void {
    // Back before its will's delay passed: the will is not sent [MQTT-3.1.3-9].
    this.away?.expiryTimer.cancel();
    this.away?.willTimer?.cancel();
    this.away = undefined;
    this.connection = connection;
    this.version = connection.version;
    this.paused = undefined; // the previous connection's packets, if its request was being authorized
    connection.adopt(this);
    this.persistent = options.persistent;
    // Known only while the socket is open: kept for when the session waits for its client.
    this.detachedFrom = options.persistent ? connection.peer : undefined;
    this.expiryMs = options.expiryMs;
    this.will = connect.will;
    const v5 = this.version === 5 ? connect.properties ?? {} : undefined;
    // Aliases belong to one connection [MQTT-3.3.2-7]; so do the QoS 1/2 exchanges counted against
    // Receive Maximum (the client resends what was unanswered).
    this.terms = v5 && {
      receiveMaximum: v5.receiveMaximum ?? 65_535,
      maxPacket: v5.maximumPacketSize,
      problemInformation: v5.requestProblemInformation !== false,
      sessionExpiry: options.sessionExpiry ?? 0,
      inboundAliases: undefined,
      outboundAliases: v5.topicAliasMaximum ? new OutboundAliases(v5.topicAliasMaximum) : undefined,
    };
    this.unansweredQos1 = 0;
    this.qos2?.unreleased.clear();
    this.queue?.receiveMaximum(this.receiveMaximum);
    const connack: Packet = this.version === 5
      ? {
        cmd: 'connack', reasonCode: 0, sessionPresent: options.present,
        properties: {
          maximumPacketSize: this.registry.config.maxMessageSize,
          receiveMaximum: this.registry.config.maxInflight,
          topicAliasMaximum: TOPIC_ALIAS_MAXIMUM,
          retainAvailable: true, wildcardSubscriptionAvailable: true,
          sharedSubscriptionAvailable: true, subscriptionIdentifiersAvailable: true,
          ...(options.assignedId ? { assignedClientIdentifier: options.assignedId } : {}),
          ...(options.grantedExpiry !== undefined ? { sessionExpiryInterval: options.grantedExpiry } : {}),
          ...(options.serverKeepAlive !== undefined ? { serverKeepAlive: options.serverKeepAlive } : {}),
          ...(options.responseInformation !== undefined ? { responseInformation: options.responseInformation } : {}),
        },
      }
      : { cmd: 'connack', returnCode: 0, sessionPresent: options.present };
    connection.send(connack);
    connection.keepAlive(options.keepAlive);
    this.queue?.resume();
    this.registry.changed();
  }

  /**
   * QoS 1/2 messages to the client, in flight and waiting (also while it is away); QoS 0 ones pass
   * through. Made on the first message to the client (a publishing-only sensor gets none).
   */
  /** The connected client's Receive Maximum, for the queue. */
  private get receiveMaximum(): number {
    return this.terms?.receiveMaximum ?? 65_535;
  }

  get deliveries(): DeliveryQueue {
    if (!this.queue) {
      this.queue = new DeliveryQueue(this, deliveryLimitsOf(this.registry.config));
      this.queue.receiveMaximum(this.receiveMaximum);
    }
    return this.queue;
  }

  /** Bytes the client's messages hold (its DeliveryQueue's). */
  get queuedBytes(): number {
    return this.queue?.bytes ?? 0;
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
    // A will still waiting for its delay goes out now: the session ends first.
    const will = this.away?.delayedWill;
    this.away?.willTimer?.cancel();
    this.away?.expiryTimer.cancel();
    this.away = undefined;
    if (will && this.state === 'open') this.wamp.publishWill(will);
    this.state = 'ended';
    this.registry.ended(this);
    this.touched();
    const connection = this.connection;
    this.connection = undefined;
    connection?.close();
    this.wamp.subscriptionsIfAny?.leaveGroups();
    this.wamp.left();
  }

  /** The router stops: the session file keeps the sessions as they are, then this one ends (the connection just closes, as mosquitto's does). */
  goingAway(): void {
    this.registry.shuttingDown();
    this.end();
  }

  /** The router ended the session (kill, shutdown): MQTT 5 clients hear why; no will. */
  endedByRouter(shutdown: boolean): void {
    if (this.connection && this.version === 5) {
      this.connection.send({ cmd: 'disconnect', reasonCode: shutdown ? REASON.serverShuttingDown : REASON.adminAction });
    }
    this.will = undefined;
    if (this.away) {
      this.away.willTimer?.cancel();
      this.away.delayedWill = undefined;
    }
    this.end();
  }

  // ---- DeliverySink ----

  get connected(): boolean {
    return this.connection?.open === true;
  }

  write(packet: Packet): void {
    const connection = this.connection;
    if (!connection) return;
    const aliases = this.terms?.outboundAliases;
    if (aliases && packet.cmd === 'publish') aliases.send(packet, connection);
    else connection.send(packet);
  }

  takeBack(pick: (packet: IPublishPacket, sent: boolean) => boolean): IPublishPacket[] {
    if (!this.queue) return [];
    const before = this.deliveries.bytes;
    const taken = this.deliveries.takeBack(pick);
    if (!this.connected && taken.length > 0) {
      this.touched();
      this.registry.offlineBytesChanged(this, this.deliveries.bytes - before);
    }
    return taken;
  }

  // ---- the send queue (socket backlog) and what was lost ----

  sendQueue(): SendQueueStats {
    const { config } = this.registry;
    const socket = this.connection?.sendQueue();
    const stats = socket ?? { bytes: 0, limit: config.maxSendQueue, policy: config.sendQueuePolicy, droppedEvents: 0, slow: false, disconnected: false };
    return { ...stats, droppedEvents: stats.droppedEvents + (this.queue?.dropped ?? 0) };
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
    const violation = clientPacketViolation(packet, this.registry.config.maxMessageSize, TOPIC_ALIAS_MAXIMUM);
    if (violation) return this.violation(violation.reasonCode, violation.why);
    switch (packet.cmd) {
      case 'publish': return this.onPublish(packet);
      case 'puback': return this.queue?.acknowledged(packet.messageId!);
      // A PUBREC with a failure code ends the exchange: no PUBREL [MQTT-3.3.4-9 counts it as answered].
      case 'pubrec': return (packet.reasonCode ?? 0) >= 0x80 ? this.deliveries.acknowledged(packet.messageId!) : this.deliveries.received(packet.messageId!);
      case 'pubcomp': return this.queue?.acknowledged(packet.messageId!);
      case 'pubrel':
        this.qos2?.received.delete(packet.messageId!);
        this.qos2?.unreleased.delete(packet.messageId!);
        connection.send({ cmd: 'pubcomp', messageId: packet.messageId! });
        return;
      case 'subscribe': return this.wamp.subscriptions.subscribe(packet.messageId!, packet.subscriptions, packet.properties);
      case 'unsubscribe': return this.wamp.subscriptions.unsubscribe(packet.messageId!, packet.unsubscriptions);
      case 'pingreq':
        connection.send({ cmd: 'pingresp' });
        return;
      case 'disconnect': return this.onDisconnect(connection, packet);
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

  /** The client's DISCONNECT: it may set a new session expiry, and (MQTT 5 reason 0x04) still want its will. */
  private onDisconnect(connection: MqttConnection, packet: IDisconnectPacket): void {
    const seconds = packet.properties?.sessionExpiryInterval;
    if (seconds !== undefined && this.version === 5) {
      // Not a valid DISCONNECT: it ends as a protocol error, will included.
      if (seconds > 0 && (this.terms?.sessionExpiry ?? 0) === 0) return this.violation(REASON.protocolError, 'a DISCONNECT setting a session expiry after a CONNECT without one [MQTT-3.14.2-2]');
      this.expiryMs = this.registry.sessionExpiryMs(seconds);
      this.persistent = this.expiryMs > 0;
      if (this.persistent && typeof this.detachedFrom !== 'string') this.detachedFrom = connection.peer;
    }
    // Reason 0x04 "disconnect with will message"; any other clean DISCONNECT drops the will.
    if (packet.reasonCode !== 0x04) this.will = undefined;
    connection.disconnected();
  }

  /** The connection is gone: the will (unless a DISCONNECT dropped it), then the session ends or waits for its client. */
  closed(connection: MqttConnection): void {
    if (connection !== this.connection) return;
    this.connection = undefined;
    if (typeof this.detachedFrom !== 'string') this.detachedFrom = connection;
    const will = this.will;
    this.will = undefined;
    if (this.state !== 'open') return;
    if (!this.persistent) {
      if (will) this.wamp.publishWill(will);
      return this.end();
    }
    this.away = { since: Date.now(), expiryTimer: new LongTimer(this.expiryMs, () => this.end()) };
    this.registry.changed();
    if (will) this.sendWill(will, this.away);
    this.wamp.subscriptionsIfAny?.disconnected();
    this.registry.wentOffline(this);
  }

  /** A persistent session's will: at once, or after its Will Delay Interval. */
  private sendWill(will: NonNullable<IConnectPacket['will']>, away: Away): void {
    const delay = this.version === 5 ? will.properties?.willDelayInterval ?? 0 : 0;
    if (delay === 0) return this.wamp.publishWill(will);
    away.delayedWill = will;
    away.willTimer = new LongTimer(delay * 1000, () => {
      away.delayedWill = undefined;
      away.willTimer = undefined;
      this.wamp.publishWill(will);
    });
  }

  private onPublish(packet: IPublishPacket): void {
    const connection = this.connection!;
    const { qos, messageId } = packet;
    const ack = (reasonCode: number, why?: string) => {
      if (qos === 0) return;
      if (qos === 1 && this.connection === connection) this.unansweredQos1--;
      const cmd = qos === 1 ? 'puback' : 'pubrec';
      if (this.version !== 5) {
        connection.send({ cmd, messageId });
        return;
      }
      // A refused QoS 2 message ends its exchange at PUBREC: the client sends no PUBREL and may use the id again.
      if (qos === 2 && reasonCode >= 0x80) {
        this.qos2?.received.delete(messageId!);
        this.qos2?.unreleased.delete(messageId!);
      }
      // [MQTT-3.1.2-29]: a client that asked for no problem information gets no reason string here.
      const properties = why !== undefined && reasonCode >= 0x80 && this.terms?.problemInformation !== false ? { reasonString: reasonStringOf(why) } : undefined;
      connection.send(properties ? { cmd, messageId, reasonCode, properties } : { cmd, messageId, reasonCode });
    };
    if (qos === 2 && this.qos2?.received.has(messageId!)) return ack(REASON.success); // a resend: published already
    if (qos === 1) this.unansweredQos1++;
    if (qos > 0 && this.version === 5 && this.unansweredQos1 + (this.qos2?.unreleased.size ?? 0) + (qos === 2 ? 1 : 0) > this.registry.config.maxInflight) {
      return this.violation(REASON.receiveMaximumExceeded, `more than Receive Maximum (${this.registry.config.maxInflight}) QoS 1/2 PUBLISHes unanswered`);
    }
    const alias = packet.properties?.topicAlias;
    // An MQTT 3 client's PUBLISH has no properties, hence no alias.
    if (alias !== undefined && this.terms && (this.terms.inboundAliases ??= new InboundAliases()).resolve(packet, alias) === undefined) {
      return this.violation(REASON.protocolError, `topic alias ${alias} used before it was set`);
    }
    if (isSysTopic(packet.topic)) return ack(REASON.notAuthorized); // the listener's own $SYS/ tree (sys-topics.ts)
    const uri = this.wamp.uriOf(packet.topic, 'topic');
    if (uri === undefined) return ack(REASON.topicNameInvalid, 'the topic cannot be a WAMP URI');
    const responseTopic = packet.properties?.responseTopic;
    if (responseTopic === undefined) return this.publish(packet, uri, ack);
    // A request: whoever answers it (the rpc gateway as its own role, a bridge) publishes on the
    // response topic for the requester, so the requester must be allowed to publish there itself.
    const responseUri = this.wamp.uriOf(responseTopic, 'response topic');
    if (responseUri === undefined) return ack(REASON.topicNameInvalid, 'the response topic cannot be a WAMP URI');
    // A refusal is logged by the router session, as any other.
    const decided = (allowed: boolean) => (allowed ? this.publish(packet, uri, ack) : ack(REASON.notAuthorized, 'not authorized to publish on the response topic'));
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

  private publish(packet: IPublishPacket, uri: string, ack: (reasonCode: number, why?: string) => void): void {
    if (packet.qos === 2) {
      const qos2 = (this.qos2 ??= { received: new Set(), unreleased: new Set() });
      qos2.received.add(packet.messageId!);
      qos2.unreleased.add(packet.messageId!);
    }
    this.wamp.publish(packet, uri, ack);
  }

  // ---- packets to the client ----

  suback(messageId: number, codes: number[]): void {
    const restored = restoring.get(this);
    if (restored) return restored(codes);
    this.touched();
    this.connection?.send({ cmd: 'suback', messageId, granted: this.version === 5 ? codes : codes.map(v3Suback) });
  }

  unsuback(messageId: number, codes: number[]): void {
    this.touched();
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
    const maxPacket = this.terms?.maxPacket;
    if (maxPacket !== undefined && packetSize(packet, maxPacket) > maxPacket) {
      // [MQTT-3.1.2-24]: never sent. A client that got it would disconnect, and a persistent
      // session would get it again on every reconnect.
      this.wamp.warnEvent(`an event on '${uri.slice(0, 200)}' is larger than the client's maximum packet size (${maxPacket} bytes); not sent`);
      return;
    }
    if (this.connected) return this.deliveries.push(packet);
    const before = this.deliveries.bytes;
    this.deliveries.push(packet);
    if (packet.qos > 0) this.touched();
    if (this.deliveries.bytes !== before) this.registry.offlineBytesChanged(this, this.deliveries.bytes - before);
  }
}

/** Sessions taken back from the session file, while their filters are subscribed again: their SUBACK codes. */
const restoring = new WeakMap<MqttSession, (codes: number[]) => void>();

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

/** A Reason String MQTT can carry (no U+0000, well within 65,535 bytes). */
function reasonStringOf(why: string): string {
  return why.slice(0, 1000).replaceAll('\u0000', '');
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
