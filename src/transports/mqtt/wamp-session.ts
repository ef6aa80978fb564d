// An MQTT client as a WAMP session of the realm: the mapping side of the client's MqttSession
// (mqtt-session.ts holds the MQTT protocol side). It joins the realm through the router's one door
// (HELLO; username/password as a ticket), it is the core's Transport for that session, and it says
// what the client's packets mean there, and what the realm's messages mean to the client:
//   PUBLISH → PUBLISH (QoS 1/2 with acknowledge: PUBACK/PUBREC once the router accepted or refused)
//   SUBSCRIBE/UNSUBSCRIBE → SUBSCRIBE (get_retained)/UNSUBSCRIBE, answered with SUBACK/UNSUBACK
//   EVENT → PUBLISH at min(granted QoS, the publisher's `_mqtt_qos`), handed to the MqttSession
// Topics and payloads are mapped by the listener's MqttMapping (src/mqtt/mapping.ts).

import type { IConnectPacket, IPublishPacket, ISubscription } from 'mqtt-packet';
import * as M from '../../wamp/message.js';
import type { EncodingCache, SendQueueStats, SessionFactory, SessionHandle, Transport, TransportInfo } from '../../router/transport.js';
import type { MqttServiceConfig } from '../../config/types.js';
import type { MqttMapping } from '../../mqtt/mapping.js';
import type { RequestGateway } from '../../mqtt/rpc-gateway.js';
import { addPublishOptions, isMqttString, publishProperties } from '../../mqtt/properties.js';
import { uriMatches } from '../../wamp/uri.js';
import { DEFERRED_WORK } from '../../router/sliced-work.js';
import { REASON } from './reason-codes.js';
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

/** Event warnings per MQTT session: one per interval, then a count (a publisher must not flood the log). */
const EVENT_WARNING_INTERVAL_MS = 10_000;

/** One MQTT filter's WAMP subscription (a filter may take two: see onSubscribe). */
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

/** What a client's WAMP session takes from its listener (MqttService). */
export interface ListenerContext {
  readonly config: MqttServiceConfig;
  readonly mapping: MqttMapping;
  readonly factory: SessionFactory;
  /** The listener's request/response gateway, when it has `rpc.from_mqtt` rules. */
  readonly rpc: RequestGateway | undefined;
}

/** The MQTT protocol side of the same client (MqttSession), as its WAMP session uses it. */
export interface MqttSide {
  /** 3 (MQTT 3.1), 4 (3.1.1) or 5. */
  readonly version: 3 | 4 | 5;
  readonly ended: boolean;
  /** The realm accepted the client (WELCOME). */
  joined(): void;
  end(): void;
  /** The router ended the session (kill, shutdown). */
  endedByRouter(shutdown: boolean): void;
  suback(messageId: number, codes: number[]): void;
  unsuback(messageId: number, codes: number[]): void;
  /** A SUBSCRIBE's filters go on in later turns: the client's next packets wait (resumeReading). */
  pauseReading(): void;
  resumeReading(): void;
  /** An event for the client, as the PUBLISH it gets (`uri` names it in warnings). */
  deliver(packet: IPublishPacket, uri: string): void;
  sendQueue(): SendQueueStats;
}

export class MqttWampSession implements Transport {
  readonly info: TransportInfo;
  authid = '';
  authrole = '';
  authmethod = '';
  private readonly handle: SessionHandle;
  /** Settles open(): WELCOME, ABORT, or the session ended first. */
  private opening: ((result: OpenResult) => void) | undefined;
  /** CONNECT's password, for a ticket CHALLENGE. */
  private password: string | undefined;
  /** Requests to the router by request ID, and what to do with their answers. */
  private requestId = 0;
  private readonly answers = new Map<number, Answer>();
  /** By WAMP subscription ID, and by MQTT filter. */
  private readonly bySubscription = new Map<number, MqttSubscription>();
  private readonly byFilter = new Map<string, number[]>();
  /** Events held back while a SUBSCRIBE is being answered, so SUBACK goes out first. */
  private heldEvents: M.WampMessage[] | undefined;
  /** Too many events came while subscribing: they go out at once until the SUBSCRIBEs are answered. */
  private heldOverflow = false;
  /** SUBSCRIBEs not yet answered. */
  private subscribing = 0;
  /** SUBSCRIBEs whose filters are still being worked on (DEFERRED_WORK); reading waits for them. */
  private deferredSubscribes = 0;
  /** Event warnings: when the last was logged, and how many were not since. */
  private lastEventWarning = 0;
  private eventWarningsSuppressed = 0;

  constructor(private readonly mqtt: MqttSide, private readonly listener: ListenerContext, readonly clientId: string, peer: string) {
    this.info = { type: 'mqtt', serializer: 'mqtt', peer };
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
        if (this.subscribing > 0 && !this.heldOverflow) {
          (this.heldEvents ??= []).push(message);
          if (this.heldEvents.length > MAX_HELD_EVENTS) this.releaseHeld(true);
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

  private request(message: M.WampMessage, answer?: Answer): void {
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
    options['exclude_me'] = this.noLocalCovers(uri);
    addPublishOptions(options, retain, payload, properties);
    const { args, kwargs } = this.listener.mapping.decode(uri, payload);
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

  // ---- SUBSCRIBE and UNSUBSCRIBE: MQTT filters as WAMP subscriptions ----

  /** Delivers the events held back during SUBSCRIBEs; `overflow`: more came than may be held. */
  private releaseHeld(overflow: boolean): void {
    this.heldOverflow = overflow;
    const held = this.heldEvents;
    this.heldEvents = undefined;
    if (held) for (const event of held) this.deliver(event);
  }

  subscribe(messageId: number, subscriptions: ISubscription[]): void {
    const codes: number[] = new Array(subscriptions.length).fill(REASON.unspecified);
    let outstanding = subscriptions.length;
    this.subscribing++;
    const done = () => {
      if (--outstanding > 0) return;
      this.mqtt.suback(messageId, codes);
      if (--this.subscribing === 0) this.releaseHeld(false);
    };
    const accepted = Math.min(subscriptions.length, MAX_FILTERS_PER_SUBSCRIBE);
    if (accepted < subscriptions.length) {
      log.info(`mqtt ${this.info.peer} (${this.clientId}): SUBSCRIBE with ${subscriptions.length} filters; the ${subscriptions.length - accepted} past ${MAX_FILTERS_PER_SUBSCRIBE} refused`);
    }
    const subscribeOne = (s: ISubscription, i: number) => {
      if (s.topic.startsWith('$share/')) {
        codes[i] = REASON.sharedNotSupported;
        return done();
      }
      const targets = this.listener.mapping.filterToSubscriptions(s.topic);
      if (!targets) {
        codes[i] = REASON.topicFilterInvalid;
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
      codes[i] = REASON.quotaExceeded;
      done();
    }
    const finished = () => {
      if (--this.deferredSubscribes === 0) this.mqtt.resumeReading();
    };
    this.deferredSubscribes++;
    if (!DEFERRED_WORK.run(accepted, (i) => subscribeOne(subscriptions[i]!, i), () => this.mqtt.ended, finished)) {
      // The rest waits for later turns: so do the client's next packets (no pile of SUBSCRIBEs).
      this.mqtt.pauseReading();
    }
  }

  unsubscribe(messageId: number, filters: string[]): void {
    const codes: number[] = new Array(filters.length).fill(REASON.success);
    let outstanding = filters.length;
    const done = () => {
      if (--outstanding > 0) return;
      this.mqtt.unsuback(messageId, codes);
    };
    filters.forEach((filter, i) => {
      const ids = this.byFilter.get(filter);
      if (ids === undefined || ids.length === 0) {
        codes[i] = REASON.noSubscriptionExisted;
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
  private deliver(event: M.WampMessage, cache?: EncodingCache): void {
    const sub = this.bySubscription.get(event[1] as number);
    if (!sub) return;
    const details = event[3] as M.Dict;
    const uri = typeof details['topic'] === 'string' ? details['topic'] : sub.uri;
    const mapping = this.listener.mapping;
    const topic = mapping.uriToTopic(uri);
    if (topic === undefined || !isMqttString(topic)) return;
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

/** A WAMP error URI as an MQTT 5 reason code. */
function reasonOf(error: string): number {
  return error === 'wamp.error.not_authorized' ? REASON.notAuthorized : error === 'wamp.error.invalid_uri' ? REASON.topicNameInvalid : REASON.unspecified;
}
