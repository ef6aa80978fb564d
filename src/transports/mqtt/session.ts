// An MQTT client's session, which is a WAMP session: it joins the realm through the router's one
// door (HELLO; username/password as a ticket), and it is the core's Transport for that session.
// MQTT packets become WAMP messages and back:
//   PUBLISH → PUBLISH (QoS 1/2 with acknowledge: PUBACK/PUBREC once the router accepted or refused)
//   SUBSCRIBE/UNSUBSCRIBE → SUBSCRIBE (get_retained)/UNSUBSCRIBE, answered with SUBACK/UNSUBACK
//   EVENT → PUBLISH at min(granted QoS, the publisher's `_mqtt_qos`), through the DeliveryQueue
// A persistent session (MQTT 3 clean=false, MQTT 5 session expiry > 0) outlives its connection:
// its WAMP session stays joined, QoS 1/2 messages wait in its DeliveryQueue, and the client picks it up
// again when it reconnects with the same client id and the same credentials' authid.

import * as mqttPacket from 'mqtt-packet';
import type { IConnectPacket, IPublishPacket, ISubscription, Packet } from 'mqtt-packet';
import * as M from '../../wamp/message.js';
import type { EncodingCache, SendQueueStats, SessionFactory, SessionHandle, Transport, TransportInfo } from '../../router/transport.js';
import type { MqttServiceConfig } from '../../config/types.js';
import type { MqttMapping } from '../../mqtt/mapping.js';
import type { RequestGateway } from '../../mqtt/rpc-gateway.js';
import { uriMatches } from '../../wamp/uri.js';
import type { ConnectionOwner, MqttConnection } from './connection.js';
import { DeliveryQueue, type DeliverySink } from './delivery-queue.js';
import { DEFERRED_WORK } from '../../router/sliced-work.js';
import { isMqttString, publishProperties } from '../../mqtt/properties.js';
import { clientPacketViolation } from './checks.js';
import { log } from '../../log.js';

/**
 * Topic filters one SUBSCRIBE may carry; the rest are refused (MQTT 5 reason 0x97 "quota
 * exceeded", MQTT 3 0x80). Each filter asks for retained events: with the filters done in slices
 * (DEFERRED_WORK) a full packet costs the other clients at most a few ms per event-loop turn.
 */
export const MAX_FILTERS_PER_SUBSCRIBE = 1000;

/**
 * Events held back while a SUBSCRIBE is answered (so that SUBACK goes first), at most; past it
 * they go out at once, before SUBACK, which MQTT allows.
 */
const MAX_HELD_EVENTS = 100;

/** MQTT 5 reason codes used here (MQTT 3 has fewer; see `v3Suback`). */
const RC = {
  success: 0x00,
  noSubscriptionExisted: 0x11,
  unspecified: 0x80,
  malformedPacket: 0x81,
  protocolError: 0x82,
  notAuthorized: 0x87,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  sharedNotSupported: 0x9e,
  adminAction: 0x98,
  sessionTakenOver: 0x8e,
  quotaExceeded: 0x97,
  serverShuttingDown: 0x8b,
} as const;

interface MqttSubscription {
  filter: string;
  qos: 0 | 1 | 2;
  uri: string;
  match: 'exact' | 'prefix' | 'wildcard';
  noLocal: boolean;
}

type Answer = (message: M.WampMessage) => void;

/** Packets a client may send while the router waits for a dynamic authorizer (then it is a flood). */
const MAX_PAUSED_PACKETS = 1000;

export interface OpenResult {
  ok: boolean;
  /** The ABORT reason when not ok. */
  reason?: string;
  message?: string;
}

export interface SessionRegistry {
  readonly config: MqttServiceConfig;
  readonly mapping: MqttMapping;
  readonly factory: SessionFactory;
  /** The session ended: forget its client id (if it still maps to it). */
  ended(session: MqttSession): void;
  /** A persistent session lost its connection and waits for its client. */
  wentOffline(session: MqttSession): void;
  /** What a session waiting for its client holds grew (or shrank) by `bytes`. */
  offlineBytesChanged(session: MqttSession, bytes: number): void;
  /** The listener's request/response gateway, when it has `rpc.from_mqtt` rules. */
  readonly rpc: RequestGateway | undefined;
}

export class MqttSession implements Transport, ConnectionOwner, DeliverySink {
  readonly info: TransportInfo;
  authid = '';
  authrole = '';
  authmethod = '';
  /** Survives its connection (see the file comment). */
  persistent = false;
  private readonly handle: SessionHandle;
  private connection: MqttConnection | undefined;
  private version: 3 | 4 | 5 = 4;
  private state: 'opening' | 'open' | 'ended' = 'opening';
  private opening: ((result: OpenResult) => void) | undefined;
  private password: string | undefined;
  private requestId = 0;
  private readonly answers = new Map<number, Answer>();
  /** By WAMP subscription ID, and by MQTT filter. */
  private readonly bySubscription = new Map<number, MqttSubscription>();
  private readonly byFilter = new Map<string, number[]>();
  /** QoS 2 messages received and not yet released (PUBREL) by the client. */
  private readonly incomingQos2 = new Set<number>();
  private will: IConnectPacket['will'];
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiryMs = 0;
  /** Events held back while a SUBSCRIBE is being answered, so SUBACK goes out first. */
  private held: M.WampMessage[] | undefined;
  /** Too many events came while subscribing: they go out at once until the SUBSCRIBEs are answered. */
  private heldOverflow = false;
  private subscribing = 0;
  /** SUBSCRIBEs whose filters are still being worked on (DEFERRED_WORK); reading waits for them. */
  private deferredSubscribes = 0;
  private readingPaused = false;
  /** The largest packet the (MQTT 5) client accepts, when it said so in CONNECT. */
  private clientMaxPacket: number | undefined;
  /** Event warnings: when the last was logged, and how many were not since. */
  private lastEventWarning = 0;
  private eventWarningsSuppressed = 0;
  /** Packets received while a dynamic authorizer decides on a request's response topic. */
  private paused: Packet[] | undefined;
  readonly deliveries: DeliveryQueue;

  constructor(private readonly registry: SessionRegistry, readonly clientId: string, peer: string) {
    this.info = { type: 'mqtt', serializer: 'mqtt', peer };
    const { config } = registry;
    this.deliveries = new DeliveryQueue(this, { maxInflight: config.maxInflight, maxWaiting: config.maxOfflineMessages, maxBytes: config.maxOfflineBytes });
    this.handle = registry.factory.openSession(this, config.auth ? { auth: config.auth }
      : config.role ? { auth: { anonymous: { type: 'static', role: config.role } } } : {});
  }

  // ---- opening: CONNECT → HELLO → WELCOME / ABORT ----

  open(connect: IConnectPacket, version: 3 | 4 | 5): Promise<OpenResult> {
    this.version = version;
    const details: M.Dict = {
      roles: { publisher: {}, subscriber: {} },
      authextra: { mqtt: { client_id: this.clientId, protocol_version: version } },
    };
    // Without an auth block a user name proves nothing: everyone joins anonymously (as Crossbar).
    if (connect.username !== undefined && this.registry.config.auth) {
      details['authmethods'] = ['ticket'];
      details['authid'] = connect.username;
      this.password = connect.password?.toString('utf8') ?? '';
    } else {
      details['authmethods'] = ['anonymous'];
      details['authid'] = this.clientId;
    }
    return new Promise((resolve) => {
      this.opening = resolve;
      this.handle.receive([M.HELLO, this.registry.config.realm, details]);
    });
  }

  /**
   * Who may pick this session up again: the same authid; for anonymous clients (whose authids are
   * made up per connection) any anonymous client of the same role — the client id is then the only
   * identity, as in any MQTT broker without authentication.
   */
  get owner(): string {
    return this.authmethod === 'anonymous' ? `anonymous:${this.authrole}` : `authid:${this.authid}`;
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
    disconnect(connection, this.version, RC.sessionTakenOver, 'taken over by a new connection with the same client id');
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
    this.handle.transportClosed();
    this.opening?.({ ok: false, reason: 'wamp.error.canceled', message: 'connection closed while opening' });
    this.opening = undefined;
  }

  // ---- DeliverySink ----

  get connected(): boolean {
    return this.connection?.open === true;
  }

  write(packet: Packet): void {
    this.connection?.send(packet);
  }

  // ---- Transport: the send queue (socket backlog) and what was lost ----

  sendQueue(): SendQueueStats {
    const { config } = this.registry;
    const socket = this.connection?.sendQueue();
    const stats = socket ?? { bytes: 0, limit: config.maxSendQueue, policy: config.sendQueuePolicy, droppedEvents: 0, slow: false, disconnected: false };
    return { ...stats, droppedEvents: stats.droppedEvents + this.deliveries.dropped };
  }

  slowConsumer(disconnecting: boolean): void {
    this.handle.slowConsumer?.(disconnecting);
  }

  // ---- ConnectionOwner: packets from the client ----

  packet(connection: MqttConnection, packet: Packet): void {
    if (connection !== this.connection) return;
    if (this.paused) {
      if (this.paused.length >= MAX_PAUSED_PACKETS) return this.violation(RC.quotaExceeded, `more than ${MAX_PAUSED_PACKETS} packets sent while the authorizer was deciding`);
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
      case 'subscribe': return this.onSubscribe(packet.messageId!, packet.subscriptions);
      case 'unsubscribe': return this.onUnsubscribe(packet.messageId!, packet.unsubscriptions);
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
        this.violation(RC.protocolError, `unexpected ${packet.cmd} packet`);
    }
  }

  /** mqtt-packet could not parse a packet (its connection is ours: CONNACK went out, so MQTT 5 may say so). */
  malformed(connection: MqttConnection, why: string): void {
    if (connection === this.connection) this.violation(RC.malformedPacket, `malformed packet: ${why}`);
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

  // ---- Transport: messages from the router ----

  send(message: M.WampMessage, cache?: EncodingCache): boolean {
    switch (message[0]) {
      case M.EVENT:
        if (this.subscribing > 0 && !this.heldOverflow) {
          (this.held ??= []).push(message);
          if (this.held.length > MAX_HELD_EVENTS) this.releaseHeld(true);
        } else {
          this.deliver(message, cache);
        }
        return true;
      case M.PUBLISHED:
      case M.SUBSCRIBED:
      case M.UNSUBSCRIBED:
      case M.ERROR: {
        const answer = this.answers.get(message[message[0] === M.ERROR ? 2 : 1] as number);
        if (answer) {
          this.answers.delete(message[message[0] === M.ERROR ? 2 : 1] as number);
          answer(message);
        }
        return true;
      }
      case M.WELCOME: {
        const details = message[2] as M.Dict;
        this.authid = String(details['authid']);
        this.authrole = String(details['authrole']);
        this.authmethod = String(details['authmethod']);
        this.state = 'open';
        this.opening?.({ ok: true });
        this.opening = undefined;
        return true;
      }
      case M.CHALLENGE:
        // Only a ticket challenge can be answered from CONNECT's password.
        queueMicrotask(() => this.handle.receive(message[1] === 'ticket' && this.password !== undefined
          ? [M.AUTHENTICATE, this.password, {}]
          : [M.ABORT, {}, 'wamp.error.authentication_failed']));
        return true;
      case M.ABORT:
        this.opening?.({ ok: false, reason: message[2] as string, message: String((message[1] as M.Dict)['message'] ?? '') });
        this.opening = undefined;
        return true;
      case M.GOODBYE:
        // The router ends the session (kill, shutdown): answer, then tell the client.
        queueMicrotask(() => {
          this.handle.receive([M.GOODBYE, {}, 'wamp.close.goodbye_and_out']);
          if (this.connection && this.version === 5) {
            const shutdown = message[2] === 'wamp.close.system_shutdown';
            this.connection.send({ cmd: 'disconnect', reasonCode: shutdown ? RC.serverShuttingDown : RC.adminAction });
          }
          this.will = undefined;
          this.end();
        });
        return true;
      default:
        return true;
    }
  }

  /**
   * Also the router's shutdown (it has no goAway): the connection just closes, as mosquitto's does.
   * A DISCONNECT 0x8B "server shutting down" would make mosquitto_sub 2.0 (MQTT 5) exit for good.
   */
  close(): void {
    this.end();
  }

  // ---- client → WAMP ----

  private request(message: M.WampMessage, answer?: Answer): void {
    const id = ++this.requestId;
    message[1] = id;
    if (answer) this.answers.set(id, answer);
    this.handle.receive(message);
  }

  private onPublish(packet: IPublishPacket): void {
    const connection = this.connection!;
    const { qos, messageId } = packet;
    const ack = (reasonCode: number) => {
      if (qos === 0) return;
      const cmd = qos === 1 ? 'puback' : 'pubrec';
      connection.send(this.version === 5 ? { cmd, messageId, reasonCode } : { cmd, messageId });
    };
    if (qos === 2 && this.incomingQos2.has(messageId!)) return ack(RC.success); // a resend: published already
    const uri = this.registry.mapping.topicToUri(packet.topic);
    if (uri === undefined) {
      log.info(`mqtt ${this.info.peer} (${this.clientId}): topic '${packet.topic.slice(0, 200)}' cannot be a WAMP URI; dropped`);
      return ack(RC.topicNameInvalid);
    }
    const responseTopic = packet.properties?.responseTopic;
    if (responseTopic === undefined) return this.publish(packet, uri, ack);
    // A request: whoever answers it (the rpc gateway as its own role, a bridge) publishes on the
    // response topic for the requester, so the requester must be allowed to publish there itself.
    const responseUri = this.registry.mapping.topicToUri(responseTopic);
    if (responseUri === undefined) {
      log.info(`mqtt ${this.info.peer} (${this.clientId}): response topic '${responseTopic.slice(0, 200)}' cannot be a WAMP URI; dropped`);
      return ack(RC.topicNameInvalid);
    }
    // A refusal is logged by the router session, as any other.
    const decided = (allowed: boolean) => (allowed ? this.publish(packet, uri, ack) : ack(RC.notAuthorized));
    const allowed = this.handle.authorize('publish', responseUri);
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

  /** The PUBLISH as a WAMP PUBLISH; a request the rpc gateway serves goes to it once the router accepted it. */
  private publish(packet: IPublishPacket, uri: string, ack: (reasonCode: number) => void): void {
    const { qos, messageId } = packet;
    if (qos === 2) this.incomingQos2.add(messageId!);
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const message = this.publishMessage(uri, packet.topic, qos, packet.retain, payload, packet.properties);
    const rpc = packet.properties?.responseTopic !== undefined ? this.registry.rpc : undefined;
    const request = rpc?.serves(uri) ? rpc : undefined;
    if (qos === 0 && !request) return this.request(message);
    message[2] = { ...(message[2] as M.Dict), acknowledge: true };
    this.request(message, (answer) => {
      const accepted = answer[0] === M.PUBLISHED;
      ack(accepted ? RC.success : reasonOf(answer[4] as string));
      if (accepted && request) request.fromMqtt(uri, message[4] as unknown[] | undefined, message[5] as M.Dict | undefined, packet.properties!.responseTopic!, packet.properties!.correlationData);
    });
  }

  private publishMessage(uri: string, topic: string, qos: number, retain: boolean, payload: Buffer, properties?: IPublishPacket['properties']): M.WampMessage {
    const options: M.Dict = { _mqtt_topic: topic, _mqtt_qos: qos };
    // MQTT delivers a message to its own publisher when subscribed, unless that subscription said
    // No Local (MQTT 5); WAMP can only exclude the publisher from all its subscriptions at once.
    options['exclude_me'] = this.noLocalCovers(uri);
    if (retain) {
      if (payload.length === 0) options[M.CLEAR_RETAINED] = true;
      else options['retain'] = true;
    }
    if (properties?.responseTopic !== undefined) options['_mqtt_response_topic'] = properties.responseTopic;
    if (properties?.correlationData !== undefined) options['_mqtt_correlation_data'] = properties.correlationData;
    if (properties?.contentType !== undefined) options['_mqtt_content_type'] = properties.contentType;
    if (properties?.userProperties !== undefined) options['_mqtt_user_properties'] = properties.userProperties;
    const { args, kwargs } = this.registry.mapping.decode(uri, payload);
    const message: M.WampMessage = [M.PUBLISH, 0, options, uri];
    if (args !== undefined || kwargs !== undefined) message.push(args ?? []);
    if (kwargs !== undefined) message.push(kwargs);
    return message;
  }

  private noLocalCovers(uri: string): boolean {
    for (const sub of this.bySubscription.values()) {
      if (sub.noLocal && uriMatches(sub.uri, sub.match, uri)) return true;
    }
    return false;
  }

  private publishWill(): void {
    const will = this.will;
    this.will = undefined;
    if (!will || this.state !== 'open') return;
    const uri = this.registry.mapping.topicToUri(will.topic);
    if (uri === undefined) return;
    const payload = typeof will.payload === 'string' ? Buffer.from(will.payload) : will.payload;
    this.request(this.publishMessage(uri, will.topic, will.qos ?? 0, will.retain ?? false, payload, will.properties));
  }

  /** Delivers the events held back during SUBSCRIBEs; `overflow`: more came than may be held. */
  private releaseHeld(overflow: boolean): void {
    this.heldOverflow = overflow;
    const held = this.held;
    this.held = undefined;
    if (held) for (const event of held) this.deliver(event);
  }

  private onSubscribe(messageId: number, subscriptions: ISubscription[]): void {
    const codes: number[] = new Array(subscriptions.length).fill(RC.unspecified);
    let outstanding = subscriptions.length;
    this.subscribing++;
    const done = () => {
      if (--outstanding > 0) return;
      this.connection?.send({ cmd: 'suback', messageId, granted: this.version === 5 ? codes : codes.map(v3Suback) });
      if (--this.subscribing === 0) this.releaseHeld(false);
    };
    const accepted = Math.min(subscriptions.length, MAX_FILTERS_PER_SUBSCRIBE);
    if (accepted < subscriptions.length) {
      log.info(`mqtt ${this.info.peer} (${this.clientId}): SUBSCRIBE with ${subscriptions.length} filters; the ${subscriptions.length - accepted} past ${MAX_FILTERS_PER_SUBSCRIBE} refused`);
    }
    const subscribeOne = (s: ISubscription, i: number) => {
      if (s.topic.startsWith('$share/')) {
        codes[i] = RC.sharedNotSupported;
        return done();
      }
      const targets = this.registry.mapping.filterToSubscriptions(s.topic);
      if (!targets) {
        codes[i] = RC.topicFilterInvalid;
        return done();
      }
      const qos = Math.min(s.qos, 2) as 0 | 1 | 2;
      // A filter may take two WAMP subscriptions (`a/#` matches `a` too): the first decides the
      // answer; the second (the parent level) is added when allowed, and silently left out if not.
      for (const id of this.byFilter.get(s.topic) ?? []) this.bySubscription.delete(id);
      const ids: number[] = [];
      this.byFilter.set(s.topic, ids);
      let left = targets.length;
      let failure: number | undefined;
      targets.forEach((target, t) => {
        const options: M.Dict = { get_retained: s.rh !== 2 };
        if (target.match !== 'exact') options['match'] = target.match;
        this.request([M.SUBSCRIBE, 0, options, target.uri], (answer) => {
          if (answer[0] === M.SUBSCRIBED) {
            const id = answer[2] as number;
            ids.push(id);
            this.bySubscription.set(id, { filter: s.topic, qos, uri: target.uri, match: target.match, noLocal: s.nl === true });
          } else if (t === 0) {
            failure = reasonOf(answer[4] as string);
          }
          if (--left > 0) return;
          if (failure !== undefined) {
            // Refused: nothing of the filter may stay subscribed.
            for (const id of ids.splice(0)) {
              this.bySubscription.delete(id);
              this.request([M.UNSUBSCRIBE, 0, id]);
            }
            this.byFilter.delete(s.topic);
          }
          codes[i] = failure ?? qos;
          done();
        });
      });
    };
    for (let i = accepted; i < subscriptions.length; i++) {
      codes[i] = RC.quotaExceeded;
      done();
    }
    const finished = () => {
      if (--this.deferredSubscribes > 0 || !this.readingPaused) return;
      this.readingPaused = false;
      this.connection?.resumeReading();
    };
    this.deferredSubscribes++;
    if (!DEFERRED_WORK.run(accepted, (i) => subscribeOne(subscriptions[i]!, i), () => this.state === 'ended', finished) && !this.readingPaused) {
      // The rest waits for later turns: so do the client's next packets (no pile of SUBSCRIBEs).
      this.readingPaused = true;
      this.connection?.pauseReading();
    }
  }

  private onUnsubscribe(messageId: number, filters: string[]): void {
    const codes: number[] = new Array(filters.length).fill(RC.success);
    let outstanding = filters.length;
    const done = () => {
      if (--outstanding > 0) return;
      this.connection?.send(this.version === 5 ? { cmd: 'unsuback', messageId, granted: codes } : { cmd: 'unsuback', messageId, granted: [] });
    };
    filters.forEach((filter, i) => {
      const ids = this.byFilter.get(filter);
      if (ids === undefined || ids.length === 0) {
        codes[i] = RC.noSubscriptionExisted;
        return done();
      }
      this.byFilter.delete(filter);
      let left = ids.length;
      for (const id of ids) {
        this.bySubscription.delete(id);
        this.request([M.UNSUBSCRIBE, 0, id], () => {
          if (--left === 0) done();
        });
      }
    });
  }

  // ---- WAMP → client ----

  /** A warning about an event this client cannot get as it is: at most one per interval per session. */
  private warnEvent(message: string): void {
    const now = Date.now();
    if (now - this.lastEventWarning < EVENT_WARNING_INTERVAL_MS) {
      this.eventWarningsSuppressed++;
      return;
    }
    const more = this.eventWarningsSuppressed > 0 ? ` (${this.eventWarningsSuppressed} more such events since the last warning)` : '';
    this.lastEventWarning = now;
    this.eventWarningsSuppressed = 0;
    log.warn(`mqtt ${this.info.peer} (${this.clientId}): ${message}${more}`);
  }

  /** `cache`: the broker's per-subscription encodings; the MQTT payload is made once for all its MQTT subscribers. */
  private deliver(event: M.WampMessage, cache?: EncodingCache): void {
    const sub = this.bySubscription.get(event[1] as number);
    if (!sub) return;
    const details = event[3] as M.Dict;
    const uri = typeof details['topic'] === 'string' ? details['topic'] : sub.uri;
    const topic = this.registry.mapping.uriToTopic(uri);
    if (topic === undefined || !isMqttString(topic)) return;
    const key = this.registry.mapping.cacheKey;
    const cached = cache?.[key];
    const payload = cached instanceof Buffer ? cached : this.registry.mapping.encode(uri, event[4] as unknown[] | undefined, event[5] as M.Dict | undefined);
    if (cache && payload) cache[key] = payload;
    if (payload === undefined) {
      this.warnEvent(`an event on '${uri.slice(0, 200)}' cannot be written as an MQTT payload; not sent`);
      return;
    }
    const origin = details['_mqtt_qos'];
    const qos = Math.min(sub.qos, origin === 0 || origin === 1 || origin === 2 ? origin : 2) as 0 | 1 | 2;
    const packet: IPublishPacket = { cmd: 'publish', topic, payload, qos, retain: details['retained'] === true, dup: false };
    if (this.version === 5) {
      const { properties, dropped } = publishProperties(details);
      if (dropped.length > 0) this.warnEvent(`an event on '${uri.slice(0, 200)}' has a ${dropped.join(', ')} MQTT cannot carry; sent without`);
      if (Object.keys(properties).length > 0) packet.properties = properties;
    }
    if (this.clientMaxPacket !== undefined && packetSize(packet, this.clientMaxPacket) > this.clientMaxPacket) {
      // [MQTT-3.1.2-24]: never sent. A client that got it would disconnect, and a persistent
      // session would get it again on every reconnect.
      this.warnEvent(`an event on '${uri.slice(0, 200)}' is larger than the client's maximum packet size (${this.clientMaxPacket} bytes); not sent`);
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

/** Event warnings per MQTT session: one per interval, then a count (a publisher must not flood the log). */
const EVENT_WARNING_INTERVAL_MS = 10_000;

/** A WAMP error URI as an MQTT 5 reason code. */
function reasonOf(error: string): number {
  return error === 'wamp.error.not_authorized' ? RC.notAuthorized : error === 'wamp.error.invalid_uri' ? RC.topicNameInvalid : RC.unspecified;
}

/** MQTT 3 SUBACK knows only granted QoS 0–2 and failure 0x80. */
function v3Suback(code: number): number {
  return code <= 2 ? code : 0x80;
}
