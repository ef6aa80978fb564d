// An MQTT client as a WAMP session of the realm: the mapping side of the client's MqttSession
// (mqtt-session.ts holds the MQTT protocol side). It joins the realm through the router's one door
// (HELLO; username/password as a ticket), it is the core's Transport for that session, and it says
// what the client's packets mean there, and what the realm's messages mean to the client:
//   PUBLISH → PUBLISH (QoS 1/2 with acknowledge: PUBACK/PUBREC once the router accepted or refused)
//   SUBSCRIBE/UNSUBSCRIBE → SUBSCRIBE (get_retained)/UNSUBSCRIBE, answered with SUBACK/UNSUBACK
//     (the filters' subscriptions: subscriptions.ts)
//   EVENT → PUBLISH at min(granted QoS, the publisher's `_mqtt_qos`), handed to the MqttSession:
//     one PUBLISH per publication however many of the client's subscriptions match, at the
//     highest of their QoS and with all their subscription identifiers (the broker sends one
//     EVENT per matching WAMP subscription: the later ones of a publication are dropped); a
//     shared subscription's EVENT goes to its group (shared-groups.ts), which picks the member.
//     Not at all once its Message Expiry Interval passed (mqtt/properties.ts).
// Topics and payloads are mapped by the listener's MqttMapping (src/mqtt/mapping.ts).

import { randomBytes } from 'node:crypto';
import type { IConnectPacket, IPublishPacket } from 'mqtt-packet';
import * as M from '../../wamp/message.js';
import type { EncodingCache, SendQueueStats, SessionFactory, SessionHandle, SessionOptions, Transport, TransportInfo } from '../../core-boundary.js';
import type { MqttServiceConfig } from '../../config/types.js';
import type { MqttMapping, Payload, PayloadRule } from '../../mqtt/mapping.js';
import type { RequestGateway } from '../../mqtt/rpc-gateway.js';
import { addPublishOptions, expiryLeft, isMqttString, publishProperties } from '../../mqtt/properties.js';
import { REASON, reasonOf } from './reason-codes.js';
import { payloadToKeep } from './packet-reader.js';
import { InOrder } from './in-order.js';
import type { PayloadCodecs } from '../../mqtt/payload-codec.js';
import { MqttSubscriptions, type SubscriptionAnswers } from './subscriptions.js';
import { SHARE_GROUP, type ShareMember, type SharedGroup, type SharedGroups, type SharedPacket } from './shared-groups.js';
import type { SysTopics } from './sys-topics.js';
import { topicMatches } from '../../mqtt/topic-match.js';
import { attachRawPayload, rawBytesOf, type RawPayload } from '../../wamp/raw-payload.js';
import type { SavedIdentity } from './session-file.js';
import { log } from '../../log.js';

/** A WAMP ERROR as one line: its URI, and its first argument when that is a message. */
function errorText(error: M.WampMessage): string {
  const args = error[5];
  const message = Array.isArray(args) && typeof args[0] === 'string' ? `: ${args[0]}` : '';
  return `${String(error[4])}${message}`;
}

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
  /** The listener's shared subscription groups. */
  readonly groups: SharedGroups;
  /** The listener's `$SYS/` tree, which serves the filters starting with `$SYS`. */
  readonly sys?: SysTopics;
  /** The procedures of its `dynamic` payload rules, when it has any. */
  readonly codecs?: PayloadCodecs;
}

/** The MQTT protocol side of the same client (MqttSession), as its WAMP session uses it. */
export interface MqttSide extends SubscriptionAnswers {
  /** 3 (MQTT 3.1), 4 (3.1.1) or 5. */
  readonly version: 3 | 4 | 5;
  readonly clientId: string;
  /** Where the client connects from (see MqttConnection.peer). */
  readonly peer: string;
  /** The realm accepted the client (WELCOME). */
  joined(): void;
  end(): void;
  /** The router ended the session (kill, shutdown). */
  endedByRouter(shutdown: boolean): void;
  /** The router stops (Transport.goAway). */
  goingAway(): void;
  /** An event for the client, as the PUBLISH it gets (`uri` names it in warnings). */
  deliver(packet: IPublishPacket, uri: string): void;
  sendQueue(): SendQueueStats;
  /** The client is connected. */
  readonly connected: boolean;
  /** Takes back queued messages (see DeliveryQueue.takeBack). */
  takeBack(pick: (packet: IPublishPacket, sent: boolean) => boolean): IPublishPacket[];
}

/** The option marking a client's own publication when only some of its matching subscriptions have No Local. */
const NO_LOCAL_MARK = '_mqtt_no_local';

/**
 * The session options of a listener's clients, one object per listener (not per session), made
 * again when a reload (SIGHUP) changed the config's `auth` or `role` in place.
 */
const sessionOptions = new WeakMap<MqttServiceConfig, { from: Pick<MqttServiceConfig, 'auth' | 'role'>; options: SessionOptions }>();

function sessionOptionsOf(config: MqttServiceConfig): SessionOptions {
  const cached = sessionOptions.get(config);
  if (cached && cached.from.auth === config.auth && cached.from.role === config.role) return cached.options;
  const options: SessionOptions = config.auth ? { auth: config.auth } : config.role ? { auth: { anonymous: { type: 'static', role: config.role } } } : {};
  sessionOptions.set(config, { from: { auth: config.auth, role: config.role }, options });
  return options;
}

/**
 * How sessions taken back from a session file authenticated before the restart: they join again
 * as that authid and role (the static anonymous path in-process sessions use), and keep the
 * method for `owner`. A WeakMap, not a field: most sessions were never saved.
 */
const savedMethods = new WeakMap<MqttWampSession, string>();

/** An MQTT payload as it came, decoded by the listener's mapping when a WAMP receiver needs it. */
class MqttPayload implements RawPayload {
  decoded = false;

  constructor(private readonly mapping: MqttMapping, private readonly uri: string, readonly bytes: Buffer) {}

  decodeInto(publish: unknown[]): void {
    const { args, kwargs } = this.mapping.decode(this.uri, this.bytes);
    if (args !== undefined || kwargs !== undefined) publish.push(args ?? []);
    if (kwargs !== undefined) publish.push(kwargs);
  }
}

/** An MQTT payload a `dynamic` rule's decoder made WAMP arguments of: MQTT subscribers still get the bytes as they came. */
class CodecDecodedPayload implements RawPayload {
  decoded = true;

  constructor(readonly bytes: Buffer, private readonly payload: Payload) {}

  decodeInto(publish: unknown[]): void {
    const { args, kwargs } = this.payload;
    if (args !== undefined || kwargs !== undefined) publish.push(args ?? []);
    if (kwargs !== undefined) publish.push(kwargs);
  }
}

/**
 * Messages of one client (and events to it) waiting behind a `dynamic` codec's call, at most, and
 * the bytes of the client's messages (payload and topic): past either they are dropped, with a
 * warning (a QoS 1/2 message with PUBACK 0x97). A codec answers within CODEC_TIMEOUT_MS or fails.
 */
const MAX_WAITING_FOR_CODEC = 1000;
const MAX_BYTES_WAITING_FOR_CODEC = 4 * 1024 * 1024;

/** About what a publication's args or kwargs hold: the strings and bytes in them, one level deep (where a large payload is). */
function roughSize(value: unknown): number {
  if (value === undefined || value === null) return 0;
  const items = Array.isArray(value) ? value : typeof value === 'object' && !(value instanceof Uint8Array) ? Object.values(value) : [value];
  let size = 16;
  for (const item of items) size += typeof item === 'string' ? item.length : item instanceof Uint8Array ? item.byteLength : 16;
  return size;
}

/** A publication's payload as a `dynamic` rule's encoder made it: one call for all its MQTT subscribers. */
const encodedByCodec = new WeakMap<object, Promise<Buffer>>();

/** A session's opening: how to settle open() (WELCOME, ABORT, or the session ended first), and CONNECT's password for a ticket CHALLENGE. */
interface Opening {
  settle(result: OpenResult): void;
  password: string | undefined;
}

/** Event warnings of a session: when the last was logged, and how many were not since. */
interface EventWarnings {
  last: number;
  suppressed: number;
}

// Fields of this class are what every idle MQTT client holds (hundreds per board): what only some
// clients use (a dynamic codec, No Local, warnings) is made on first use, and what the client's
// MqttSession or WAMP session already holds is asked of them.
export class MqttWampSession implements Transport, ShareMember {
  /** The client's MQTT filters as WAMP subscriptions of this session (see `subscriptions`). */
  private subs: MqttSubscriptions | undefined;
  private readonly handle: SessionHandle;
  /** Until WELCOME or ABORT (the password is not kept past them). */
  private opening: Opening | undefined;
  /** Requests to the router by request ID, and what to do with their answers. */
  private requestId = 0;
  /** Made on the first request that waits for an answer (an idle client makes none). */
  private answers: Map<number, Answer> | undefined;
  /** The publication delivered last: the EVENTs of it for the client's other subscriptions are dropped. */
  private lastPublication: unknown;
  /** Made on the first warning about an event. */
  private warnings: EventWarnings | undefined;
  /** Marks this client's own publications (NO_LOCAL_MARK), made when first needed. */
  private ownMark: string | undefined;
  /** The client's messages, and the events to it, in order while a `dynamic` codec call waits; made when first needed. */
  private publishOrder: InOrder | undefined;
  private deliveryOrder: InOrder | undefined;

  /** `saved`: a session from the session file, joining again as who it was (rejoin()). */
  constructor(private readonly mqtt: MqttSide, private readonly listener: ListenerContext, saved?: SavedIdentity) {
    const options: SessionOptions = saved ? { auth: { anonymous: { type: 'static', role: saved.authrole, authid: saved.authid } } } : sessionOptionsOf(listener.config);
    this.handle = listener.factory.openSession(this, options);
    if (saved) savedMethods.set(this, saved.authmethod);
  }

  /** EVENTs whose MQTT payload was not decoded go to this client as those bytes (sendPublish). */
  get readsRawPayloads(): true {
    return true;
  }

  get clientId(): string {
    return this.mqtt.clientId;
  }

  private get peer(): string {
    return this.mqtt.peer;
  }

  /** Who the realm welcomed the client as (empty until WELCOME). */
  get authid(): string {
    return this.handle.authid;
  }

  get authrole(): string {
    return this.handle.authrole;
  }

  get authmethod(): string {
    return savedMethods.get(this) ?? this.handle.authmethod;
  }

  /** Made when asked for (authentication, meta API, log lines): an idle client does not keep one. */
  get info(): TransportInfo {
    return { type: 'mqtt', serializer: 'mqtt', peer: this.peer };
  }

  /** The client's MQTT filters as WAMP subscriptions of this session, made on first use (a publishing-only sensor has none). */
  get subscriptions(): MqttSubscriptions {
    return (this.subs ??= new MqttSubscriptions(this, this.mqtt, this.listener.mapping, this.listener.groups, this.listener.sys));
  }

  /** The same, when the client ever subscribed (undefined: it never did). */
  get subscriptionsIfAny(): MqttSubscriptions | undefined {
    return this.subs;
  }

  // ---- joining and leaving: CONNECT → HELLO → WELCOME / ABORT ----

  open(connect: IConnectPacket, version: 3 | 4 | 5): Promise<OpenResult> {
    const details: M.Dict = {
      roles: { publisher: {}, subscriber: {} },
      authextra: { mqtt: { client_id: this.clientId, protocol_version: version } },
    };
    let password: string | undefined;
    // Without an auth block a user name proves nothing: everyone joins anonymously (as Crossbar).
    if (connect.username !== undefined && this.listener.config.auth) {
      details['authmethods'] = ['ticket'];
      details['authid'] = connect.username;
      password = connect.password?.toString('utf8') ?? '';
    } else {
      details['authmethods'] = ['anonymous'];
      details['authid'] = this.clientId;
    }
    return this.hello(details, password);
  }

  /** A saved session joins again (its identity was given to the constructor); authorization applies as to any session. */
  rejoin(version: 3 | 4 | 5): Promise<OpenResult> {
    return this.hello({
      roles: { publisher: {}, subscriber: {} },
      authextra: { mqtt: { client_id: this.clientId, protocol_version: version } },
      authmethods: ['anonymous'],
    }, undefined);
  }

  private hello(details: M.Dict, password: string | undefined): Promise<OpenResult> {
    return new Promise((settle) => {
      this.opening = { settle, password };
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
    this.opening?.settle({ ok: false, reason: 'wamp.error.canceled', message: 'connection closed while opening' });
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
        const answer = this.answers?.get(message[message[0] === M.ERROR ? 2 : 1] as number);
        if (answer) {
          this.answers!.delete(message[message[0] === M.ERROR ? 2 : 1] as number);
          answer(message);
        }
        return true;
      }
      case M.WELCOME: {
        this.mqtt.joined();
        this.opening?.settle({ ok: true });
        this.opening = undefined;
        return true;
      }
      case M.CHALLENGE: {
        // Only a ticket challenge can be answered from CONNECT's password.
        const password = this.opening?.password;
        queueMicrotask(() => this.handle.receive(message[1] === 'ticket' && password !== undefined
          ? [M.AUTHENTICATE, password, {}]
          : [M.ABORT, {}, 'wamp.error.authentication_failed']));
        return true;
      }
      case M.ABORT:
        this.opening?.settle({ ok: false, reason: message[2] as string, message: String((message[1] as M.Dict)['message'] ?? '') });
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

  close(): void {
    this.mqtt.end();
  }

  /**
   * The router's shutdown: the connection just closes, as mosquitto's does (a DISCONNECT 0x8B
   * "server shutting down" would make mosquitto_sub 2.0 (MQTT 5) exit for good).
   */
  goAway(): void {
    this.mqtt.goingAway();
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
    if (uri === undefined) log.info(`mqtt ${this.peer} (${this.clientId}): ${what} '${topic.slice(0, 200)}' cannot be a WAMP URI; dropped`);
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
    if (answer) (this.answers ??= new Map()).set(id, answer);
    this.handle.receive(message);
  }

  /** The PUBLISH as a WAMP PUBLISH; a request the rpc gateway serves goes to it once the router accepted it. */
  publish(packet: IPublishPacket, uri: string, ack: (reasonCode: number, why?: string) => void): void {
    const rule = this.listener.codecs ? this.listener.mapping.dynamicRule(uri) : undefined;
    if (rule?.decoder === undefined && this.publishOrder?.busy !== true) return this.publishDecoded(packet, uri, ack);
    this.publishOrder ??= new InOrder();
    const bytes = packet.payload.length + packet.topic.length;
    if (this.publishOrder.waiting >= MAX_WAITING_FOR_CODEC || this.publishOrder.bytes + bytes > MAX_BYTES_WAITING_FOR_CODEC) {
      this.warnEvent(`a message on '${packet.topic.slice(0, 200)}' was dropped: too many of the client's messages wait for a payload codec (at most ${MAX_WAITING_FOR_CODEC}, ${MAX_BYTES_WAITING_FOR_CODEC} bytes)`);
      if (packet.qos !== 0) ack(REASON.quotaExceeded, 'too many messages wait for the payload codec');
      return;
    }
    this.publishOrder.run(() => (rule?.decoder === undefined ? this.publishDecoded(packet, uri, ack) : this.decodeThenPublish(packet, uri, ack, rule)), bytes);
  }

  /** A PUBLISH under a `dynamic` rule: its decoder makes the WAMP arguments; a failure costs this message, with a warning. */
  private async decodeThenPublish(packet: IPublishPacket, uri: string, ack: (reasonCode: number, why?: string) => void, rule: PayloadRule): Promise<void> {
    const bytes = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    let decoded: Payload;
    try {
      decoded = await this.listener.codecs!.decode(rule, uri, packet.topic, bytes);
    } catch (err) {
      this.warnEvent(`a message on '${packet.topic.slice(0, 200)}' was dropped: its decoder '${rule.decoder}' failed: ${(err as Error).message}`);
      if (packet.qos !== 0) ack(REASON.unspecified, `the payload decoder failed: ${(err as Error).message}`);
      return;
    }
    this.publishDecoded(packet, uri, ack, decoded);
  }

  /** `decoded`: the WAMP arguments a `dynamic` rule's decoder made of the payload. */
  private publishDecoded(packet: IPublishPacket, uri: string, ack: (reasonCode: number, why?: string) => void, decoded?: Payload): void {
    const { qos } = packet;
    const bytes = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    // Retained, or queued for QoS 1/2 subscribers that are away or slow: kept, so its own bytes.
    const payload = packet.retain || qos !== 0 ? payloadToKeep(bytes) : bytes;
    const rpc = packet.properties?.responseTopic !== undefined ? this.listener.rpc : undefined;
    const request = rpc?.serves(uri) ? rpc : undefined;
    const acknowledge = qos !== 0 || request !== undefined;
    // The rpc gateway reads the request's payload: decoded at once.
    const message = this.publishMessage(uri, packet.topic, qos, packet.retain, payload, packet.properties, acknowledge, request !== undefined, decoded);
    if (!acknowledge) return this.request(message);
    this.request(message, (answer) => {
      const accepted = answer[0] === M.PUBLISHED;
      // Refused: the WAMP error (and its message) becomes the MQTT 5 reason string.
      ack(accepted ? REASON.success : reasonOf(answer[4] as string), accepted ? undefined : errorText(answer));
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

  private publishMessage(uri: string, topic: string, qos: number, retain: boolean, payload: Buffer, properties?: IPublishPacket['properties'], acknowledge = false, decodeNow = false, decoded?: Payload): M.WampMessage {
    // Built once, acknowledge included (a copy per QoS 1 message to add it showed in the bench).
    const options: M.Dict = acknowledge ? { _mqtt_topic: topic, _mqtt_qos: qos, acknowledge } : { _mqtt_topic: topic, _mqtt_qos: qos };
    // MQTT delivers a message to its own publisher when subscribed, unless the subscription said
    // No Local (MQTT 5) [MQTT-3.8.3-3]. WAMP's exclude_me leaves out all of the publisher's
    // subscriptions at once: when only some have No Local, the message comes back marked as the
    // client's own, and the delivery leaves those out.
    const noLocal = this.subs?.noLocalCover(uri) ?? 'none';
    options['exclude_me'] = noLocal === 'all';
    if (noLocal === 'some') options[NO_LOCAL_MARK] = (this.ownMark ??= randomBytes(12).toString('base64url'));
    // The retain flag as published, for subscribers with Retain As Published [MQTT-3.3.1-13].
    if (retain) options['_mqtt_retain'] = true;
    addPublishOptions(options, retain, payload, properties);
    const message: M.WampMessage = [M.PUBLISH, 0, options, uri];
    // Decoded only if a WAMP receiver needs it (src/wamp/raw-payload.ts): MQTT subscribers get these bytes.
    if (decoded) {
      const raw = new CodecDecodedPayload(payload, decoded);
      raw.decodeInto(message);
      attachRawPayload(message, raw);
      return message;
    }
    const raw = new MqttPayload(this.listener.mapping, uri, payload);
    if (decodeNow) raw.decodeInto(message);
    else attachRawPayload(message, raw);
    return message;
  }

  // ---- WAMP → client ----

  /** A warning about an event this client cannot get as it is: at most one per interval per session. */
  warnEvent(message: string): void {
    const now = Date.now();
    const warnings = (this.warnings ??= { last: 0, suppressed: 0 });
    if (now - warnings.last < EVENT_WARNING_INTERVAL_MS) {
      warnings.suppressed++;
      return;
    }
    const more = warnings.suppressed > 0 ? ` (${warnings.suppressed} more such events since the last warning)` : '';
    warnings.last = now;
    warnings.suppressed = 0;
    log.warn(`mqtt ${this.peer} (${this.clientId}): ${message}${more}`);
  }

  /** `cache`: the broker's per-subscription encodings; the MQTT payload is made once for all its MQTT subscribers. */
  deliver(event: M.WampMessage, cache?: EncodingCache): void {
    const wamp = this.subscriptions.byId.get(event[1] as number);
    if (!wamp) return;
    const details = event[3] as M.Dict;
    const retained = details['retained'] === true;
    // The filters this WAMP subscription serves: shared ones hand the message to their group
    // (which picks the member), the others make one PUBLISH to this client.
    const uri = typeof details['topic'] === 'string' ? details['topic'] : wamp.uri;
    const topic = this.listener.mapping.uriToTopic(uri);
    if (topic === undefined || !isMqttString(topic)) return;
    let plain = false;
    for (const sub of wamp.filters) {
      if (!sub.group) plain = true;
      else if (!retained && (!sub.broader || topicMatches(sub.matches, topic))) sub.group.route(event, cache);
    }
    if (!plain) return;
    const subscriptions = this.subscriptions;
    const hidden = subscriptions.hidden(uri, topic);
    if (retained) {
      // Sent as the subscription was made: its filters' QoS and identifiers, RETAIN set.
      const matched = subscriptions.matching(uri, topic, hidden, false, wamp.filters);
      if (matched.qos >= 0) this.sendPublish(event, cache, uri, topic, matched.qos as 0 | 1 | 2, matched.identifiers, true);
      return;
    }
    if (event[2] === this.lastPublication) return;
    this.lastPublication = event[2];
    const own = this.ownMark !== undefined && details[NO_LOCAL_MARK] === this.ownMark;
    // While no two of the client's filters overlap (the usual case), those this WAMP subscription
    // serves are the ones that match, without testing each pattern.
    const matched = subscriptions.matching(uri, topic, hidden, own, subscriptions.overlap ? undefined : wamp.filters);
    const qos = matched.qos;
    if (qos < 0) return;
    // Retain As Published [MQTT-3.3.1-12] [MQTT-3.3.1-13]; without it the flag is cleared.
    this.sendPublish(event, cache, uri, topic, qos as 0 | 1 | 2, matched.identifiers, matched.retainAsPublished && details['_mqtt_retain'] === true);
  }

  /** ShareMember: a message of a group this client is a member of. */
  receive(group: SharedGroup, event: M.WampMessage, cache: EncodingCache | undefined): void {
    const sub = this.subscriptions.inGroup(group);
    if (!sub) return;
    const details = event[3] as M.Dict;
    const uri = typeof details['topic'] === 'string' ? details['topic'] : this.subscriptions.byId.get(event[1] as number)?.uri;
    const topic = uri === undefined ? undefined : this.listener.mapping.uriToTopic(uri);
    if (uri === undefined || topic === undefined || !isMqttString(topic)) return;
    if (sub.wildcardFirst && this.subscriptions.hidden(uri, topic)) return;
    this.sendPublish(event, cache, uri, topic, sub.qos, sub.identifier, sub.retainAsPublished && details['_mqtt_retain'] === true, group);
  }

  /** ShareMember: a message of the group another member gave back, as this client's subscription asks. */
  receiveGiven(group: SharedGroup, packet: IPublishPacket): void {
    const sub = this.subscriptions.inGroup(group);
    if (!sub) return;
    const properties = { ...packet.properties };
    delete properties.subscriptionIdentifier;
    if (sub.identifier !== undefined && this.mqtt.version === 5) properties.subscriptionIdentifier = sub.identifier;
    const given: SharedPacket = { cmd: 'publish', topic: packet.topic, payload: packet.payload, qos: Math.min(packet.qos, sub.qos) as 0 | 1 | 2, retain: packet.retain, dup: false };
    if (this.mqtt.version === 5 && Object.keys(properties).length > 0) given.properties = properties;
    given[SHARE_GROUP] = group;
    this.mqtt.deliver(given, packet.topic);
  }

  /** ShareMember: QoS 1 messages of the group not acknowledged, QoS 2 ones not yet sent [MQTT-4.8.2-4]. */
  giveBack(group: SharedGroup): IPublishPacket[] {
    return this.mqtt.takeBack((packet, sent) => (packet as SharedPacket)[SHARE_GROUP] === group && (packet.qos === 1 || !sent));
  }

  get connected(): boolean {
    return this.mqtt.connected;
  }

  /** The event as a PUBLISH to the client; under a `dynamic` rule once its encoder made the payload. */
  private sendPublish(event: M.WampMessage, cache: EncodingCache | undefined, uri: string, topic: string, qos: 0 | 1 | 2, identifiers: number | number[] | undefined, retain: boolean, group?: SharedGroup): void {
    // An event from MQTT goes out as the bytes it came with; one from WAMP is encoded for MQTT.
    const rule = this.listener.codecs && rawBytesOf(event) === undefined ? this.listener.mapping.dynamicRule(uri) : undefined;
    if (rule?.encoder === undefined && this.deliveryOrder?.busy !== true) return this.writePublish(event, cache, uri, topic, qos, identifiers, retain, group);
    this.deliveryOrder ??= new InOrder();
    const bytes = roughSize(event[4]) + roughSize(event[5]) + uri.length;
    if (this.deliveryOrder.waiting >= MAX_WAITING_FOR_CODEC || this.deliveryOrder.bytes + bytes > MAX_BYTES_WAITING_FOR_CODEC) {
      this.warnEvent(`an event on '${uri.slice(0, 200)}' was not sent: too many events to this client wait for a payload codec (at most ${MAX_WAITING_FOR_CODEC}, ${MAX_BYTES_WAITING_FOR_CODEC} bytes)`);
      return;
    }
    this.deliveryOrder.run(async () => {
      if (rule?.encoder === undefined) return this.writePublish(event, cache, uri, topic, qos, identifiers, retain, group);
      // Keyed by the publication's args, which the events of all its subscriptions share.
      const key = (event[4] as object | undefined) ?? event;
      let encoding = encodedByCodec.get(key);
      if (!encoding) {
        encoding = this.listener.codecs!.encode(rule, topic, uri, event[4] as unknown[] | undefined, event[5] as M.Dict | undefined);
        encodedByCodec.set(key, encoding);
      }
      let payload: Buffer;
      try {
        payload = await encoding;
      } catch (err) {
        this.warnEvent(`an event on '${uri.slice(0, 200)}' was not sent: its encoder '${rule.encoder}' failed: ${(err as Error).message}`);
        return;
      }
      this.writePublish(event, cache, uri, topic, qos, identifiers, retain, group, payload);
    }, bytes);
  }

  /** `encoded`: the payload a `dynamic` rule's encoder made. */
  private writePublish(event: M.WampMessage, cache: EncodingCache | undefined, uri: string, topic: string, qos: 0 | 1 | 2, identifiers: number | number[] | undefined, retain: boolean, group?: SharedGroup, encoded?: Buffer): void {
    const details = event[3] as M.Dict;
    const mapping = this.listener.mapping;
    const key = mapping.cacheKey;
    const cached = cache?.[key];
    const payload = encoded ?? (cached instanceof Buffer ? cached
      : (rawBytesOf(event) as Buffer | undefined) ?? mapping.encode(uri, event[4] as unknown[] | undefined, event[5] as M.Dict | undefined));
    if (cache && payload && !encoded) cache[key] = payload;
    if (payload === undefined) {
      this.warnEvent(`an event on '${uri.slice(0, 200)}' cannot be written as an MQTT payload; not sent`);
      return;
    }
    const origin = details['_mqtt_qos'];
    const packet: SharedPacket = { cmd: 'publish', topic, payload, qos: Math.min(qos, origin === 0 || origin === 1 || origin === 2 ? origin : 2) as 0 | 1 | 2, retain, dup: false };
    if (this.mqtt.version === 5) {
      const { properties, dropped, expired } = publishProperties(details);
      if (expired) return; // [MQTT-3.3.2-5]
      if (dropped.length > 0) this.warnEvent(`an event on '${uri.slice(0, 200)}' has a ${dropped.join(', ')} MQTT cannot carry; sent without`);
      if (identifiers !== undefined) properties.subscriptionIdentifier = identifiers;
      if (Object.keys(properties).length > 0) packet.properties = properties;
    } else {
      const left = expiryLeft(details);
      if (left === 0) return;
      // Not written to MQTT 3 clients: for the DeliveryQueue, which drops it once passed.
      if (left !== undefined) packet.properties = { messageExpiryInterval: left };
    }
    if (group) packet[SHARE_GROUP] = group;
    this.mqtt.deliver(packet, uri);
  }
}
