// The broker: subscriptions by match policy, and delivery of each publication to every eligible
// subscriber. An EVENT is built once per matching subscription and encoded once per serializer
// for all of that subscription's subscribers (the EncodingCache travels with it).

import { payloadProblem } from './payload-check.js';
import { forwardForOf } from './forward-for.js';
import { logRefusal } from './refusals.js';
import { INVALID_URI, type Authorizer, type Decision } from '../auth/authorizer.js';
import type { EventHistoryConfig, RetainedLimits } from '../config/types.js';
import * as M from '../wamp/message.js';
import { CLEAR_RETAINED } from '../wamp/message.js';
import { attachRawPayload, carriedPayload, decodePayload, rawPayloadOf, undecodedCopy } from '../wamp/raw-payload.js';
import type { PublishMessage, PublishOptions, SubscribeMessage, UnsubscribeMessage } from '../wamp/client-messages.js';
import { ErrorUri } from '../wamp/errors.js';
import { randomId, type IdSequence } from '../wamp/ids.js';
import { isReservedUri, isValidUri, reservedForPublishing, type MatchPolicy, type UriCheck } from '../wamp/uri.js';
import { PatternIndex } from '../wamp/pattern-index.js';
import type { EncodingCache } from '../core-boundary.js';
import type { SessionView } from './session-view.js';
import { EVENT_COST, EventStore, storedPayload, type StoredEvent } from './event-store.js';
import { approximateBytes } from './payload-size.js';
import { DEFERRED_WORK } from '../sliced-work.js';
import { RecentSet } from '../recent-set.js';
import { originOf } from '../wamp/origin.js';
import { log } from '../log.js';

/** Retained events sent with the SUBSCRIBED answer in the same turn, at most; more go in slices. */
const RETAINED_AT_ONCE = 200;
/**
 * Retained events waiting to go out in slices, all subscriptions together, at most: past it a new
 * subscription gets no retained events (logged), so SUBSCRIBEs faster than the slices cannot
 * pile up work and memory.
 */
export const MAX_PENDING_RETAINED = 500_000;
/** Origins remembered: far more than the events that can be on their way over a second, slower path. */
const RECENT_ORIGINS = 10_000;

export class Subscription {
  readonly created = new Date().toISOString();
  readonly subscribers = new Set<SessionView>();
  /**
   * Subscribers whose role allows the pattern only in part (a narrower permission inside it
   * denies): each event goes to them only if they may subscribe to its topic. Usually undefined.
   */
  perTopic: Set<SessionView> | undefined;
  constructor(readonly id: number, readonly uri: string, readonly match: MatchPolicy) {}
}

/**
 * Told about subscriptions as they change, after the fact (the meta API's events; see RealmObserver
 * in src/router/realm.ts). Must not call back into the broker synchronously.
 */
export interface BrokerObserver {
  subscriptionCreated(session: SessionView, subscription: Subscription): void;
  subscriberAdded(session: SessionView, subscription: Subscription): void;
  subscriberRemoved(session: SessionView, subscription: Subscription): void;
  subscriptionDeleted(session: SessionView, subscription: Subscription): void;
}

/** What the broker sees of its realm (src/router/realm.ts): read per message, since a reload may replace them. */
export interface BrokerRealm {
  readonly name: string;
  readonly authorizer: Authorizer;
  readonly uriCheck: UriCheck;
  readonly maxSubscriptions: number;
  readonly maxSubscriptionBytes: number;
  readonly observer: BrokerObserver | undefined;
}

const NO_DETAILS: M.Dict = Object.freeze({}) as M.Dict;

/** A SUBSCRIBE past the realm's `max_subscriptions` (per session) or `max_subscription_bytes` (in all). */
export const TOO_MANY_SUBSCRIPTIONS = 'junction.error.too_many_subscriptions';
/** What one session's subscription costs, estimated (measured: 200,000 subscriptions took 122 MB),
 *  plus its URI, kept in the subscription and in the pattern index. */
const SUBSCRIPTION_BYTES = 600;
const subscriptionCost = (uri: string) => SUBSCRIPTION_BYTES + 3 * uri.length;

/** PUBLISH options that restrict who receives the event (subscriber black/white listing). */
interface Eligibility {
  eligible?: number[];
  eligibleAuthid?: string[];
  eligibleAuthrole?: string[];
  exclude?: number[];
  excludeAuthid?: string[];
  excludeAuthrole?: string[];
}

function eligibilityOf(options: PublishOptions): Eligibility | undefined {
  const { eligible, eligible_authid, eligible_authrole, exclude, exclude_authid, exclude_authrole } = options;
  if (!eligible && !eligible_authid && !eligible_authrole && !exclude && !exclude_authid && !exclude_authrole) return undefined;
  return {
    eligible,
    eligibleAuthid: eligible_authid,
    eligibleAuthrole: eligible_authrole,
    exclude,
    excludeAuthid: exclude_authid,
    excludeAuthrole: exclude_authrole,
  };
}

/** Every whitelist present must admit the subscriber, and no blacklist may name it. */
function isEligible(s: SessionView, e: Eligibility): boolean {
  if (e.eligible && !e.eligible.includes(s.id)) return false;
  if (e.eligibleAuthid && !e.eligibleAuthid.includes(s.authid)) return false;
  if (e.eligibleAuthrole && !e.eligibleAuthrole.includes(s.authrole)) return false;
  if (e.exclude && e.exclude.includes(s.id)) return false;
  if (e.excludeAuthid && e.excludeAuthid.includes(s.authid)) return false;
  if (e.excludeAuthrole && e.excludeAuthrole.includes(s.authrole)) return false;
  return true;
}

export class Broker {
  // ---- the tables ----
  /** (topic pattern, match) -> subscription. */
  private readonly index = new PatternIndex<Subscription>();
  /** subscription ID -> subscription. */
  private readonly byId = new Map<number, Subscription>();
  /** subscriber session -> its subscriptions (`max_subscriptions` counts them). */
  private readonly bySubscriber = new Map<SessionView, Set<Subscription>>();
  /** What all subscriptions cost together (`max_subscription_bytes`). */
  private subscriptionBytes = 0;
  /** Reused on every publish; delivery is synchronous, so one scratch list is enough. */
  private readonly matches: Subscription[] = [];
  readonly store: EventStore;
  private sequence = 0;
  /**
   * While retained events go out in slices: when each retained topic was last published (in
   * `publishCount` ticks), so that a replay never sends an older retained event after the
   * subscriber got a newer publication live. Absent when no replay is running.
   */
  private lastPublished: Map<string, number> | undefined;
  private publishCount = 0;
  private replays = 0;
  private pendingRetained = 0;
  private pendingFullLogged = false;
  /** The `_origin`s of recent publications (router links: one event that came in over two paths is delivered once). */
  private readonly origins = new RecentSet(RECENT_ORIGINS);

  constructor(private readonly realm: BrokerRealm, private readonly ids: IdSequence, history: EventHistoryConfig[] = [], retained?: RetainedLimits) {
    this.store = new EventStore(history, retained, realm.name);
  }

  subscription(id: number): Subscription | undefined {
    return this.byId.get(id);
  }

  subscriptions(): IterableIterator<Subscription> {
    return this.byId.values();
  }

  lookup(topic: string, match: MatchPolicy): Subscription | undefined {
    return this.index.get(topic, match);
  }

  /** Every subscription an event on `topic` would reach. */
  matching(topic: string): Subscription[] {
    const out: Subscription[] = [];
    this.index.matchAll(topic, out);
    return out;
  }

  /** `decision`: the authorizer's, obtained by the session (URI validity included). */
  subscribe(session: SessionView, msg: SubscribeMessage, decision: Decision): void {
    const requestId = msg[1];
    const options = msg[2];
    const topic = msg[3];
    const match = options.match ?? 'exact';
    if (decision === INVALID_URI) {
      return this.error(session, M.SUBSCRIBE, requestId, ErrorUri.invalidUri, `invalid topic URI '${topic}' for match '${match}'`);
    }
    if (!decision.allow) {
      logRefusal(session, 'subscribe to', topic);
      return this.error(session, M.SUBSCRIBE, requestId, ErrorUri.notAuthorized, `session is not authorized to subscribe to '${topic}'`);
    }
    let sub = this.index.get(topic, match);
    let subscribed = this.bySubscriber.get(session);
    if (!subscribed) this.bySubscriber.set(session, (subscribed = new Set()));
    if (!sub?.subscribers.has(session)) {
      const realm = this.realm;
      if (subscribed.size >= realm.maxSubscriptions) {
        return this.error(session, M.SUBSCRIBE, requestId, TOO_MANY_SUBSCRIPTIONS,
          `this session already has ${subscribed.size} subscriptions (max_subscriptions ${realm.maxSubscriptions})`);
      }
      if (this.subscriptionBytes + subscriptionCost(topic) > realm.maxSubscriptionBytes) {
        return this.error(session, M.SUBSCRIBE, requestId, TOO_MANY_SUBSCRIPTIONS,
          `the realm's subscriptions would take more than max_subscription_bytes (${realm.maxSubscriptionBytes} bytes)`);
      }
      this.subscriptionBytes += subscriptionCost(topic);
    }
    const created = !sub;
    if (!sub) {
      sub = new Subscription(this.ids.next(), topic, match);
      this.index.set(topic, match, sub);
      this.byId.set(sub.id, sub);
    }
    // A repeated SUBSCRIBE returns the existing subscription, as the spec asks.
    const added = !sub.subscribers.has(session);
    sub.subscribers.add(session);
    if (decision.partial) (sub.perTopic ??= new Set()).add(session);
    else sub.perTopic?.delete(session);
    subscribed.add(sub);
    session.send([M.SUBSCRIBED, requestId, sub.id]);
    const observer = this.realm.observer;
    if (observer) {
      if (created) observer.subscriptionCreated(session, sub);
      if (added) observer.subscriberAdded(session, sub);
    }
    if (options.get_retained === true) this.sendRetained(session, sub, decision);
  }

  /**
   * Retained events under the subscription's pattern that this subscriber may see. Many of them
   * (a wildcard over thousands of topics) go out over several event-loop turns (DEFERRED_WORK), so
   * one SUBSCRIBE cannot stall the router; a topic published again meanwhile is skipped (the
   * subscriber got the newer publication live).
   */
  private sendRetained(session: SessionView, sub: Subscription, subscribed: Decision): void {
    const events = this.store.retainedFor(sub.uri, sub.match);
    if (events.length <= RETAINED_AT_ONCE) {
      for (const e of events) this.sendRetainedEvent(session, sub, subscribed, e);
      return;
    }
    if (this.pendingRetained + events.length > MAX_PENDING_RETAINED) {
      if (!this.pendingFullLogged) {
        this.pendingFullLogged = true;
        log.warn(`realm '${this.realm.name}': more than ${MAX_PENDING_RETAINED} retained events waiting to go out; subscription ${sub.id} ('${sub.uri}') of session ${session.id} gets none`);
      }
      return;
    }
    this.pendingRetained += events.length;
    this.replays++;
    const lastPublished = (this.lastPublished ??= new Map());
    const since = this.publishCount;
    DEFERRED_WORK.run(events.length, (i) => {
      const e = events[i]!;
      if ((lastPublished.get(e.topic) ?? 0) <= since) this.sendRetainedEvent(session, sub, subscribed, e);
    }, () => !sub.subscribers.has(session), () => {
      this.pendingRetained -= events.length;
      if (--this.replays === 0) {
        this.lastPublished = undefined;
        this.pendingFullLogged = false;
      }
    });
  }

  private sendRetainedEvent(session: SessionView, sub: Subscription, subscribed: Decision, e: StoredEvent): void {
    const decision = e.topic === sub.uri && !subscribed.partial ? subscribed : this.realm.authorizer.authorize(session.authrole, 'subscribe', e.topic);
    if (!decision.allow) return;
    const eligibility = eligibilityOf(e.options);
    if (eligibility && !isEligible(session, eligibility)) return;
    const details: M.Dict = { ...customAttributes(e.options), retained: true };
    if (sub.match !== 'exact') details['topic'] = e.topic;
    if (e.disclosed) {
      details['publisher'] = e.publisher.session;
      details['publisher_authid'] = e.publisher.authid;
      details['publisher_authrole'] = e.publisher.authrole;
    }
    const event: M.WampMessage = [M.EVENT, sub.id, e.publication, details];
    const raw = e.raw && carriedPayload(e.raw);
    if (raw && session.readsRawPayloads === true) {
      attachRawPayload(event, raw); // an MQTT client gets the bytes as they were published
    } else {
      const { args, kwargs } = storedPayload(e);
      if (args !== undefined || kwargs !== undefined) event.push(args ?? []);
      if (kwargs !== undefined) event.push(kwargs);
    }
    session.send(event);
  }

  unsubscribe(session: SessionView, msg: UnsubscribeMessage): void {
    const requestId = msg[1];
    const subscriptionId = msg[2];
    const sub = this.byId.get(subscriptionId);
    if (!sub || !sub.subscribers.has(session)) {
      return this.error(session, M.UNSUBSCRIBE, requestId, ErrorUri.noSuchSubscription, `no subscription ${subscriptionId} for this session`);
    }
    this.drop(session, sub);
    session.send([M.UNSUBSCRIBED, requestId]);
  }

  /** `decision`: the authorizer's, obtained by the session (URI validity included). */
  publish(session: SessionView, msg: PublishMessage, decision: Decision): void {
    const requestId = msg[1];
    const options = msg[2];
    const topic = msg[3];
    const acknowledge = options.acknowledge === true;
    if (decision === INVALID_URI) {
      if (acknowledge) this.error(session, M.PUBLISH, requestId, ErrorUri.invalidUri, `invalid topic URI '${topic}'`);
      return;
    }
    const reserved = session.privileged ? undefined : reservedForPublishing(topic);
    if (reserved) {
      logRefusal(session, 'publish to', topic, `the ${reserved} namespace is reserved for the router`);
      if (acknowledge) this.error(session, M.PUBLISH, requestId, ErrorUri.invalidUri, `'${topic}': the ${reserved} namespace is reserved for the router`);
      return;
    }
    if (!decision.allow) {
      logRefusal(session, 'publish to', topic);
      if (acknowledge) this.error(session, M.PUBLISH, requestId, ErrorUri.notAuthorized, `session is not authorized to publish to '${topic}'`);
      return;
    }
    const problem = decision.validate?.event && payloadProblem(decision.validate.event, msg, 4, options);
    if (problem) {
      // Not delivered, stored or retained; the publisher hears of it only if it asked for an acknowledgement (as Crossbar).
      if (acknowledge) this.error(session, M.PUBLISH, requestId, ErrorUri.invalidArgument, `publish to topic URI '${topic}' with invalid application payload: ${problem}`);
      return;
    }
    const publicationId = randomId();
    // Router links name the event they pass on (_origin): a realm delivers each origin once.
    const origin = originOf(options);
    if (origin !== undefined && this.origins.seenBefore(origin)) {
      // The same event over another path of router links: delivered already.
      if (acknowledge) session.send([M.PUBLISHED, requestId, publicationId]);
      return;
    }
    const disclose = decision.disclose || options.disclose_me === true;
    this.dispatch(session, publicationId, topic, options, msg, disclose);
    if (options[CLEAR_RETAINED] === true) this.store.forgetRetained(topic);
    // The stored record (its timestamp, its payload's size) only for what a store keeps.
    if (options.retain === true || this.store.keepsHistoryOf(topic, options)) this.remember(session, publicationId, topic, options, msg, disclose);
    if (acknowledge) session.send([M.PUBLISHED, requestId, publicationId]);
  }

  /**
   * Publishes on behalf of a session that is leaving (testaments): authorized with its role, never
   * acknowledged, and not delivered back to it.
   */
  publishFrom(session: SessionView, topic: string, options: PublishOptions, args: unknown[] | undefined, kwargs: M.Dict | undefined): boolean {
    if (!isValidUri(topic, this.realm.uriCheck) || isReservedUri(topic)) return false;
    const decision = this.realm.authorizer.authorize(session.authrole, 'publish', topic);
    if (!decision.allow) return false;
    const msg: PublishMessage = [M.PUBLISH, 0, options, topic];
    if (args !== undefined || kwargs !== undefined) msg.push(args ?? []);
    if (kwargs !== undefined) msg.push(kwargs);
    if (decision.validate?.event && payloadProblem(decision.validate.event, msg, 4, options)) return false;
    const publicationId = randomId();
    const disclose = decision.disclose || options.disclose_me === true;
    this.dispatch(session, publicationId, topic, options, msg, disclose);
    if (options.retain === true || this.store.keepsHistoryOf(topic, options)) this.remember(session, publicationId, topic, options, msg, disclose);
    return true;
  }

  private remember(session: SessionView, publication: number, topic: string, options: PublishOptions, msg: PublishMessage, disclosed: boolean): void {
    // An MQTT payload is kept as its bytes (decoded on its way or not), decoded for each WAMP
    // reader, sent as it came to MQTT readers.
    const payload = carriedPayload(msg);
    const raw = payload && (payload.decoded ? undecodedCopy(msg, payload) : msg);
    // Kept as they came (a transparent payload is one opaque item in the args place).
    const args = raw ? undefined : (msg[4] as unknown[] | undefined);
    const kwargs = raw ? undefined : (msg[5] as M.Dict | undefined);
    const event: StoredEvent = {
      seq: ++this.sequence,
      publication,
      topic,
      timestamp: new Date().toISOString(),
      args,
      kwargs,
      publisher: { session: session.id, authid: session.authid, authrole: session.authrole },
      disclosed,
      options,
      bytes: EVENT_COST + topic.length + (payload ? payload.bytes.byteLength : 0) + (args === undefined ? 0 : approximateBytes(args)) + (kwargs === undefined ? 0 : approximateBytes(kwargs)),
    };
    if (raw) event.raw = raw;
    if (options.retain === true) this.store.retain(event);
    this.store.record(event);
  }

  /** Delivers one publication to every matching subscription. `msg` supplies the payload tail. */
  private dispatch(publisher: SessionView, publicationId: number, topic: string, options: PublishOptions, msg: PublishMessage, disclose: boolean): void {
    if (this.lastPublished && this.store.retainedEvent(topic)) this.lastPublished.set(topic, ++this.publishCount);
    const matches = this.matches;
    this.index.matchAll(topic, matches);
    if (matches.length === 0) return;
    const excludeMe = options.exclude_me !== false;
    const eligibility = eligibilityOf(options);
    const publisherDetails = disclose
      ? { publisher: publisher.id, publisher_authid: publisher.authid, publisher_authrole: publisher.authrole }
      : undefined;
    const custom = customAttributes(options);
    const base = publisherDetails && custom ? { ...publisherDetails, ...custom } : (publisherDetails ?? custom);
    // An MQTT payload: MQTT subscribers get its bytes as they came; not decoded yet, it stays so
    // while only MQTT sessions receive it.
    const raw = carriedPayload(msg);
    try {
      for (const sub of matches) {
        let details: M.Dict = NO_DETAILS;
        if (sub.match !== 'exact') details = base ? { ...base, topic } : { topic };
        else if (base) details = base;
        let event = eventOf(sub.id, publicationId, details, msg);
        // Decoded or not, the event carries the bytes: an MQTT subscriber sends them as they came.
        if (raw) attachRawPayload(event, raw);
        const cache: EncodingCache | undefined = sub.subscribers.size > 1 ? {} : undefined;
        for (const subscriber of sub.subscribers) {
          if (subscriber === publisher && excludeMe) continue;
          if (eligibility && !isEligible(subscriber, eligibility)) continue;
          if (sub.perTopic?.has(subscriber) && !this.realm.authorizer.authorize(subscriber.authrole, 'subscribe', topic).allow) continue;
          if (raw && !raw.decoded && subscriber.readsRawPayloads !== true) {
            decodePayload(msg);
            event = eventOf(sub.id, publicationId, details, msg); // from here on with the payload
            attachRawPayload(event, raw);
          }
          subscriber.send(event, cache);
        }
      }
    } finally {
      matches.length = 0;
    }
  }

  removeSession(session: SessionView): void {
    const subscribed = this.bySubscriber.get(session);
    if (!subscribed) return;
    for (const sub of subscribed) this.drop(session, sub);
    this.bySubscriber.delete(session);
  }

  /** Meta API remove_subscriber: UNSUBSCRIBED revocation when the client announced it can hear it. */
  removeSubscriber(sub: Subscription, session: SessionView, reason?: string): void {
    if (!sub.subscribers.has(session)) return;
    this.drop(session, sub);
    if (session.supportsSubscriptionRevocation) {
      session.send([M.UNSUBSCRIBED, 0, reason ? { subscription: sub.id, reason } : { subscription: sub.id }]);
    }
  }

  private drop(session: SessionView, sub: Subscription): void {
    if (sub.subscribers.delete(session)) this.subscriptionBytes -= subscriptionCost(sub.uri);
    sub.perTopic?.delete(session);
    this.bySubscriber.get(session)?.delete(sub);
    this.realm.observer?.subscriberRemoved(session, sub);
    if (sub.subscribers.size === 0) {
      this.index.delete(sub.uri, sub.match);
      this.byId.delete(sub.id);
      this.realm.observer?.subscriptionDeleted(session, sub);
    }
  }

  private error(session: SessionView, type: number, requestId: number, uri: string, message: string): void {
    session.send([M.ERROR, type, requestId, {}, uri, [message]]);
  }
}

/** The EVENT of a publication for one subscription: `msg` supplies the payload tail. */
function eventOf(subscription: number, publication: number, details: M.Dict, msg: PublishMessage): M.WampMessage {
  return msg.length === 4
    ? [M.EVENT, subscription, publication, details]
    : msg.length === 5
      ? [M.EVENT, subscription, publication, details, msg[4]]
      : [M.EVENT, subscription, publication, details, msg[4], msg[5]];
}

const CUSTOM_ATTRIBUTE = /^_[a-z0-9_]{3,}$/;

/**
 * The spec's custom attributes (`_name`) of a PUBLISH, forwarded in EVENT details so that a
 * subscriber learns, e.g., which MQTT topic and QoS a bridged message came with. Undefined when
 * there are none (the usual case: no object made).
 */
function customAttributes(options: M.Dict): M.Dict | undefined {
  let custom: M.Dict | undefined;
  // A router link's forwarding marks (Crossbar: PUBLISH options.forward_for shows in EVENT details).
  const forwardFor = forwardForOf(options);
  if (forwardFor) custom = { forward_for: forwardFor };
  for (const key in options) {
    if (key.charCodeAt(0) !== 95 || key === CLEAR_RETAINED || !CUSTOM_ATTRIBUTE.test(key)) continue;
    (custom ??= {})[key] = options[key];
  }
  return custom;
}
