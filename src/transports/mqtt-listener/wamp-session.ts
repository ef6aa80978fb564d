// An MQTT client as a WAMP session of the realm: the mapping side of the client's MqttSession
// (mqtt-session.ts holds the MQTT protocol side). It joins the realm through the router's one door
// (HELLO; username/password as a ticket), it is the core's Transport for that session, and it says
// what the client's packets mean there, and what the realm's messages mean to the client:
//   PUBLISH → PUBLISH (QoS 1/2 with acknowledge: PUBACK/PUBREC once the router accepted or refused)
//   SUBSCRIBE/UNSUBSCRIBE → SUBSCRIBE (get_retained)/UNSUBSCRIBE, answered with SUBACK/UNSUBACK
//     (the filters' subscriptions: subscriptions.ts)
//   EVENT → PUBLISH at min(granted QoS, the publisher's `_mqtt_qos`), handed to the MqttSession
// Topics and payloads are mapped by the listener's MqttMapping (src/mqtt/mapping.ts).

import type { IConnectPacket, IPublishPacket } from 'mqtt-packet';
import * as M from '../../wamp/message.js';
import type { EncodingCache, SendQueueStats, SessionFactory, SessionHandle, Transport, TransportInfo } from '../../core-boundary.js';
import type { MqttServiceConfig } from '../../config/types.js';
import type { MqttMapping } from '../../mqtt/mapping.js';
import type { RequestGateway } from '../../mqtt/rpc-gateway.js';
import { addPublishOptions, isMqttString, publishProperties } from '../../mqtt/properties.js';
import { REASON, reasonOf } from './reason-codes.js';
import { MqttSubscriptions, type SubscriptionAnswers } from './subscriptions.js';
import type { SysTopics } from './sys-topics.js';
import { log } from '../../log.js';

/** Event warnings per MQTT session: one per interval, then a count (a publisher must not flood the log). */
const EVENT_WARNING_INTERVAL_MS = 10_000;

type Answer = (message: M.WampMessage) => void;

export interface OpenResult {
  ok: boolean;
  /** The ABORT reason when not ok. */
  reason?: string;
  message?: string;
}

/** What a client's WAMP session takes from its listener (MqttService). */
export interface ListenerContext {
  readonly config: MqttServiceConfig;
  readonly mapping: MqttMapping;
  readonly factory: SessionFactory;
  /** The listener's request/response gateway, when it has `rpc.from_mqtt` rules. */
  readonly rpc: RequestGateway | undefined;
  /** The listener's `$SYS/` tree, which serves the filters starting with `$SYS`. */
  readonly sys?: SysTopics;
}

/** The MQTT protocol side of the same client (MqttSession), as its WAMP session uses it. */
export interface MqttSide extends SubscriptionAnswers {
  /** 3 (MQTT 3.1), 4 (3.1.1) or 5. */
  readonly version: 3 | 4 | 5;
  /** The realm accepted the client (WELCOME). */
  joined(): void;
  end(): void;
  /** The router ended the session (kill, shutdown). */
  endedByRouter(shutdown: boolean): void;
  /** An event for the client, as the PUBLISH it gets (`uri` names it in warnings). */
  deliver(packet: IPublishPacket, uri: string): void;
  sendQueue(): SendQueueStats;
}

export class MqttWampSession implements Transport {
  readonly info: TransportInfo;
  authid = '';
  authrole = '';
  authmethod = '';
  /** The client's MQTT filters as WAMP subscriptions of this session. */
  readonly subscriptions: MqttSubscriptions;
  private readonly handle: SessionHandle;
  /** Settles open(): WELCOME, ABORT, or the session ended first. */
  private opening: ((result: OpenResult) => void) | undefined;
  /** CONNECT's password, for a ticket CHALLENGE. */
  private password: string | undefined;
  /** Requests to the router by request ID, and what to do with their answers. */
  private requestId = 0;
  private readonly answers = new Map<number, Answer>();
  /** Event warnings: when the last was logged, and how many were not since. */
  private lastEventWarning = 0;
  private eventWarningsSuppressed = 0;

  constructor(private readonly mqtt: MqttSide, private readonly listener: ListenerContext, readonly clientId: string, peer: string) {
    this.info = { type: 'mqtt', serializer: 'mqtt', peer };
    this.subscriptions = new MqttSubscriptions(this, mqtt, listener.mapping, listener.sys);
    const { config } = listener;
    this.handle = listener.factory.openSession(this, config.auth ? { auth: config.auth }
      : config.role ? { auth: { anonymous: { type: 'static', role: config.role } } } : {});
  }

  // ---- joining and leaving: CONNECT → HELLO → WELCOME / ABORT ----

  open(connect: IConnectPacket, version: 3 | 4 | 5): Promise<OpenResult> {
    const details: M.Dict = {
      roles: { publisher: {}, subscriber: {} },
      authextra: { mqtt: { client_id: this.clientId, protocol_version: version } },
    };
    // Without an auth block a user name proves nothing: everyone joins anonymously (as Crossbar).
    if (connect.username !== undefined && this.listener.config.auth) {
      details['authmethods'] = ['ticket'];
      details['authid'] = connect.username;
      this.password = connect.password?.toString('utf8') ?? '';
    } else {
      details['authmethods'] = ['anonymous'];
      details['authid'] = this.clientId;
    }
    return new Promise((resolve) => {
      this.opening = resolve;
      this.handle.receive([M.HELLO, this.listener.config.realm, details]);
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

  /** The MqttSession ended: the WAMP session leaves the realm. */
  left(): void {
    this.handle.transportClosed();
    this.opening?.({ ok: false, reason: 'wamp.error.canceled', message: 'connection closed while opening' });
    this.opening = undefined;
  }

  // ---- Transport: messages from the router ----

  send(message: M.WampMessage, cache?: EncodingCache): boolean {
    switch (message[0]) {
      case M.EVENT:
        if (!this.subscriptions.held(message)) this.deliver(message, cache);
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
        this.mqtt.joined();
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
          this.mqtt.endedByRouter(message[2] === 'wamp.close.system_shutdown');
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
    this.mqtt.end();
  }

  /** Transport: the send queue (socket backlog) and what was lost, which the MqttSession knows. */
  sendQueue(): SendQueueStats {
    return this.mqtt.sendQueue();
  }

  /** The client does not read fast enough (see SessionHandle.slowConsumer). */
  slowConsumer(disconnecting: boolean): void {
    this.handle.slowConsumer?.(disconnecting);
  }

  // ---- client → WAMP ----

  /** The WAMP URI of a topic (or response topic) the client sent; undefined, and logged, when it cannot be one. */
  uriOf(topic: string, what: 'topic' | 'response topic'): string | undefined {
    const uri = this.listener.mapping.topicToUri(topic);
    if (uri === undefined) log.info(`mqtt ${this.info.peer} (${this.clientId}): ${what} '${topic.slice(0, 200)}' cannot be a WAMP URI; dropped`);
    return uri;
  }

  /** May the client publish on `uri`: asked of a request's response topic, since whoever answers publishes there for it. */
  mayPublish(uri: string): boolean | Promise<boolean> {
    return this.handle.authorize('publish', uri);
  }

  /** A request to the router (its request ID set here), and what to do with its answer. */
  request(message: M.WampMessage, answer?: Answer): void {
    const id = ++this.requestId;
    message[1] = id;
    if (answer) this.answers.set(id, answer);
    this.handle.receive(message);
  }

  /** The PUBLISH as a WAMP PUBLISH; a request the rpc gateway serves goes to it once the router accepted it. */
  publish(packet: IPublishPacket, uri: string, ack: (reasonCode: number) => void): void {
    const { qos } = packet;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const message = this.publishMessage(uri, packet.topic, qos, packet.retain, payload, packet.properties);
    const rpc = packet.properties?.responseTopic !== undefined ? this.listener.rpc : undefined;
    const request = rpc?.serves(uri) ? rpc : undefined;
    if (qos === 0 && !request) return this.request(message);
    message[2] = { ...(message[2] as M.Dict), acknowledge: true };
    this.request(message, (answer) => {
      const accepted = answer[0] === M.PUBLISHED;
      ack(accepted ? REASON.success : reasonOf(answer[4] as string));
      if (accepted && request) request.fromMqtt(uri, message[4] as unknown[] | undefined, message[5] as M.Dict | undefined, packet.properties!.responseTopic!, packet.properties!.correlationData);
    });
  }

  /** The client's will, published as the client would have published it. */
  publishWill(will: NonNullable<IConnectPacket['will']>): void {
    const uri = this.listener.mapping.topicToUri(will.topic);
    if (uri === undefined) return;
    const payload = typeof will.payload === 'string' ? Buffer.from(will.payload) : will.payload;
    this.request(this.publishMessage(uri, will.topic, will.qos ?? 0, will.retain ?? false, payload, will.properties));
  }

  private publishMessage(uri: string, topic: string, qos: number, retain: boolean, payload: Buffer, properties?: IPublishPacket['properties']): M.WampMessage {
    const options: M.Dict = { _mqtt_topic: topic, _mqtt_qos: qos };
    // MQTT delivers a message to its own publisher when subscribed, unless that subscription said
    // No Local (MQTT 5); WAMP can only exclude the publisher from all its subscriptions at once.
    options['exclude_me'] = this.subscriptions.noLocalCovers(uri);
    addPublishOptions(options, retain, payload, properties);
    const { args, kwargs } = this.listener.mapping.decode(uri, payload);
    const message: M.WampMessage = [M.PUBLISH, 0, options, uri];
    if (args !== undefined || kwargs !== undefined) message.push(args ?? []);
    if (kwargs !== undefined) message.push(kwargs);
    return message;
  }

  // ---- WAMP → client ----

  /** A warning about an event this client cannot get as it is: at most one per interval per session. */
  warnEvent(message: string): void {
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
  deliver(event: M.WampMessage, cache?: EncodingCache): void {
    const sub = this.subscriptions.byId.get(event[1] as number);
    if (!sub) return;
    const details = event[3] as M.Dict;
    const uri = typeof details['topic'] === 'string' ? details['topic'] : sub.uri;
    const mapping = this.listener.mapping;
    const topic = mapping.uriToTopic(uri);
    if (topic === undefined || !isMqttString(topic) || !this.subscriptions.delivers(sub, uri, topic)) return;
    const key = mapping.cacheKey;
    const cached = cache?.[key];
    const payload = cached instanceof Buffer ? cached : mapping.encode(uri, event[4] as unknown[] | undefined, event[5] as M.Dict | undefined);
    if (cache && payload) cache[key] = payload;
    if (payload === undefined) {
      this.warnEvent(`an event on '${uri.slice(0, 200)}' cannot be written as an MQTT payload; not sent`);
      return;
    }
    const origin = details['_mqtt_qos'];
    const qos = Math.min(sub.qos, origin === 0 || origin === 1 || origin === 2 ? origin : 2) as 0 | 1 | 2;
    const packet: IPublishPacket = { cmd: 'publish', topic, payload, qos, retain: details['retained'] === true, dup: false };
    if (this.mqtt.version === 5) {
      const { properties, dropped } = publishProperties(details);
      if (dropped.length > 0) this.warnEvent(`an event on '${uri.slice(0, 200)}' has a ${dropped.join(', ')} MQTT cannot carry; sent without`);
      if (Object.keys(properties).length > 0) packet.properties = properties;
    }
    this.mqtt.deliver(packet, uri);
  }
}
