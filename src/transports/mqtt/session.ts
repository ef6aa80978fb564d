// An MQTT client's session, which is a WAMP session: it joins the realm through the router's one
// door (HELLO; username/password as a ticket), and it is the core's Transport for that session.
// MQTT packets become WAMP messages and back:
//   PUBLISH → PUBLISH (QoS 1/2 with acknowledge: PUBACK/PUBREC once the router accepted or refused)
//   SUBSCRIBE/UNSUBSCRIBE → SUBSCRIBE (get_retained)/UNSUBSCRIBE, answered with SUBACK/UNSUBACK
//   EVENT → PUBLISH at min(granted QoS, the publisher's `_mqtt_qos`), through the Outbox
// A persistent session (MQTT 3 clean=false, MQTT 5 session expiry > 0) outlives its connection:
// its WAMP session stays joined, QoS 1/2 messages wait in the Outbox, and the client picks it up
// again when it reconnects with the same client id and the same credentials' authid.

import type { IConnectPacket, IPublishPacket, ISubscription, Packet } from 'mqtt-packet';
import * as M from '../../wamp/message.js';
import type { EncodingCache, SessionFactory, SessionHandle, Transport, TransportInfo } from '../../router/transport.js';
import type { MqttServiceConfig } from '../../config/types.js';
import type { MqttMapping } from '../../mqtt/mapping.js';
import { uriMatches } from '../../wamp/uri.js';
import { CLEAR_RETAINED } from '../../router/broker.js';
import type { ConnectionOwner, MqttConnection } from './connection.js';
import { Outbox, type OutboxSink } from './outbox.js';
import { log } from '../../log.js';

/** MQTT 5 reason codes used here (MQTT 3 has fewer; see `v3Suback`). */
const RC = {
  success: 0x00,
  noSubscriptionExisted: 0x11,
  unspecified: 0x80,
  notAuthorized: 0x87,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  sharedNotSupported: 0x9e,
  adminAction: 0x98,
  sessionTakenOver: 0x8e,
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
}

export class MqttSession implements Transport, ConnectionOwner, OutboxSink {
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
  private subscribing = 0;
  readonly outbox: Outbox;

  constructor(private readonly registry: SessionRegistry, readonly clientId: string, peer: string) {
    this.info = { type: 'mqtt', serializer: 'mqtt', peer };
    const { config } = registry;
    this.outbox = new Outbox(this, config.maxInflight, config.maxOfflineMessages);
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
    connection.adopt(this);
    this.persistent = options.persistent;
    this.expiryMs = options.expiryMs;
    this.will = connect.will;
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
    this.outbox.resume();
  }

  /** Another connection with the same client id took over (MQTT 5: DISCONNECT 0x8E first). */
  takenOver(): void {
    const connection = this.connection;
    if (!connection) return;
    if (this.version === 5) connection.send({ cmd: 'disconnect', reasonCode: RC.sessionTakenOver });
    connection.fail('taken over by a new connection with the same client id');
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

  // ---- OutboxSink ----

  get connected(): boolean {
    return this.connection?.open === true;
  }

  write(packet: Packet): void {
    this.connection?.send(packet);
  }

  // ---- ConnectionOwner: packets from the client ----

  packet(connection: MqttConnection, packet: Packet): void {
    if (connection !== this.connection) return;
    switch (packet.cmd) {
      case 'publish': return this.onPublish(packet);
      case 'puback': return this.outbox.acknowledged(packet.messageId!);
      case 'pubrec': return this.outbox.received(packet.messageId!);
      case 'pubcomp': return this.outbox.acknowledged(packet.messageId!);
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
        connection.fail(`unexpected ${packet.cmd} packet`);
    }
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
        if (this.subscribing > 0) (this.held ??= []).push(message);
        else this.deliver(message, cache);
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
      log.info(`mqtt ${this.info.peer} (${this.clientId}): topic '${packet.topic}' cannot be a WAMP URI; dropped`);
      return ack(RC.topicNameInvalid);
    }
    if (qos === 2) this.incomingQos2.add(messageId!);
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const message = this.publishMessage(uri, packet.topic, qos, packet.retain, payload, packet.properties);
    if (qos === 0) return this.request(message);
    message[2] = { ...(message[2] as M.Dict), acknowledge: true };
    this.request(message, (answer) => ack(answer[0] === M.PUBLISHED ? RC.success : reasonOf(answer[4] as string)));
  }

  private publishMessage(uri: string, topic: string, qos: number, retain: boolean, payload: Buffer, properties?: IPublishPacket['properties']): M.WampMessage {
    const options: M.Dict = { _mqtt_topic: topic, _mqtt_qos: qos };
    // MQTT delivers a message to its own publisher when subscribed, unless that subscription said
    // No Local (MQTT 5); WAMP can only exclude the publisher from all its subscriptions at once.
    options['exclude_me'] = this.noLocalCovers(uri);
    if (retain) {
      if (payload.length === 0) options[CLEAR_RETAINED] = true;
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

  private onSubscribe(messageId: number, subscriptions: ISubscription[]): void {
    const codes: number[] = new Array(subscriptions.length).fill(RC.unspecified);
    let outstanding = subscriptions.length;
    this.subscribing++;
    const done = () => {
      if (--outstanding > 0) return;
      this.connection?.send({ cmd: 'suback', messageId, granted: this.version === 5 ? codes : codes.map(v3Suback) });
      if (--this.subscribing === 0 && this.held) {
        const held = this.held;
        this.held = undefined;
        for (const event of held) this.deliver(event);
      }
    };
    subscriptions.forEach((s, i) => {
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
    });
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

  /** `cache`: the broker's per-subscription encodings; the MQTT payload is made once for all its MQTT subscribers. */
  private deliver(event: M.WampMessage, cache?: EncodingCache): void {
    const sub = this.bySubscription.get(event[1] as number);
    if (!sub) return;
    const details = event[3] as M.Dict;
    const uri = typeof details['topic'] === 'string' ? details['topic'] : sub.uri;
    const topic = this.registry.mapping.uriToTopic(uri);
    if (topic === undefined) return;
    const key = this.registry.mapping.cacheKey;
    const cached = cache?.[key];
    const payload = cached instanceof Buffer ? cached : this.registry.mapping.encode(uri, event[4] as unknown[] | undefined, event[5] as M.Dict | undefined);
    if (cache && payload) cache[key] = payload;
    if (payload === undefined) {
      log.warn(`mqtt ${this.info.peer} (${this.clientId}): an event on '${uri}' cannot be written as an MQTT payload; not sent`);
      return;
    }
    const origin = details['_mqtt_qos'];
    const qos = Math.min(sub.qos, origin === 0 || origin === 1 || origin === 2 ? origin : 2) as 0 | 1 | 2;
    const packet: IPublishPacket = { cmd: 'publish', topic, payload, qos, retain: details['retained'] === true, dup: false };
    if (this.version === 5) {
      const properties: NonNullable<IPublishPacket['properties']> = {};
      const responseTopic = details['_mqtt_response_topic'];
      const correlation = details['_mqtt_correlation_data'];
      if (typeof responseTopic === 'string') properties.responseTopic = responseTopic;
      if (correlation instanceof Uint8Array) properties.correlationData = Buffer.from(correlation);
      else if (typeof correlation === 'string') properties.correlationData = Buffer.from(correlation, 'utf8');
      if (typeof details['_mqtt_content_type'] === 'string') properties.contentType = details['_mqtt_content_type'];
      const user = details['_mqtt_user_properties'];
      if (typeof user === 'object' && user !== null && !Array.isArray(user)) properties.userProperties = user as Record<string, string>;
      if (Object.keys(properties).length > 0) packet.properties = properties;
    }
    this.outbox.push(packet);
  }
}

/** A WAMP error URI as an MQTT 5 reason code. */
function reasonOf(error: string): number {
  return error === 'wamp.error.not_authorized' ? RC.notAuthorized : error === 'wamp.error.invalid_uri' ? RC.topicNameInvalid : RC.unspecified;
}

/** MQTT 3 SUBACK knows only granted QoS 0–2 and failure 0x80. */
function v3Suback(code: number): number {
  return code <= 2 ? code : 0x80;
}
