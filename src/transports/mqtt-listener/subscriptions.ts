// An MQTT client's subscriptions in the realm: each MQTT filter as the WAMP subscriptions of the
// client's MqttWampSession that it maps to (a filter may take two: `a/#` is the prefix `a.` and `a`
// itself, since MQTT's `#` matches its parent level; two filters may share one: `a/#` and `a` both
// take exact `a`, which stays subscribed until neither needs it), SUBSCRIBE and UNSUBSCRIBE answered with
// SUBACK and UNSUBACK, and the events that arrive while a SUBSCRIBE is answered held back, so that
// SUBACK goes out first. The MQTT 5 subscription options are kept per filter and applied when a
// message is delivered (wamp-session.ts): No Local, Retain As Published, the Subscription
// Identifier; Retain Handling decides whether the WAMP SUBSCRIBE asks for retained events.
// `$share/<group>/<filter>` filters join their group (shared-groups.ts). Filters whose first level
// is `$SYS` are the listener's `$SYS/` tree's (sys-topics.ts), not the realm's.

import type { ISubscribePacket, ISubscription } from 'mqtt-packet';
import * as M from '../../wamp/message.js';
import type { TransportInfo } from '../../core-boundary.js';
import type { MqttMapping } from '../../mqtt/mapping.js';
import { isReservedUri, uriMatches } from '../../wamp/uri.js';
import { DEFERRED_WORK } from '../../sliced-work.js';
import { REASON, reasonOf } from './reason-codes.js';
import { log } from '../../log.js';
import { parseShared, type ShareMember, type SharedGroup, type SharedGroups } from './shared-groups.js';
import { isSysTopic, isValidFilter, type SysSubscriber, type SysTopics } from './sys-topics.js';
import { topicMatches } from '../../mqtt/topic-match.js';
import type { SavedFilter } from './session-file.js';

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

/**
 * Can one topic match both MQTT filters (non-shared)? `+` matches any level, `#` the rest and its
 * parent level (`a/#` matches `a`). Used when filters change, never per message.
 */
export function filtersOverlap(f: string, g: string): boolean {
  const a = f.split('/');
  const b = g.split('/');
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] === '#' || b[i] === '#') return true;
    if (a[i] !== b[i] && a[i] !== '+' && b[i] !== '+') return false;
  }
  if (a.length === b.length) return true;
  const longer = a.length > b.length ? a : b;
  return longer.length === n + 1 && longer[n] === '#';
}

/** One WAMP subscription of the client's session: its pattern and the MQTT filters it serves. */
export interface WampSubscription {
  readonly uri: string;
  readonly match: 'exact' | 'prefix' | 'wildcard';
  readonly filters: MqttSubscription[];
}

/** One MQTT filter the client subscribed, with its options. */
export interface MqttSubscription {
  /** As the client sent it (`$share/<group>/` included). */
  readonly filter: string;
  readonly qos: 0 | 1 | 2;
  /** MQTT 5 No Local: the client's own messages are not delivered through it [MQTT-3.8.3-3]. */
  readonly noLocal: boolean;
  /** MQTT 5 Retain As Published: forwarded messages keep the publisher's retain flag [MQTT-3.3.1-13]. */
  readonly retainAsPublished: boolean;
  /** MQTT 5 Subscription Identifier of the SUBSCRIBE that made it (1 to 268,435,455). */
  readonly identifier: number | undefined;
  /** A shared subscription's group (`$share/<group>/<filter>`). */
  readonly group: SharedGroup | undefined;
  /** The filter's first level (after `$share/<group>/`) is `+` or `#`: it matches no `$` topic [MQTT-4.7.2-1] and none of the router's own (see hidden). */
  readonly wildcardFirst: boolean;
  /** Its WAMP subscription is broader than the filter (`+/b/#`, mapping.ts): messages are checked against `matches`. */
  readonly broader: boolean;
  /** The filter without `$share/<group>/`, as it matches topics. */
  readonly matches: string;
  /** Its WAMP subscriptions (IDs), one or two. */
  readonly ids: number[];
}

/** What the client's subscriptions that match a message ask for its one PUBLISH (see MqttSubscriptions.matching). */
export interface Matched {
  /** The highest QoS of the matching subscriptions; -1 when none matches. */
  qos: -1 | 0 | 1 | 2;
  /** Some matching subscription has Retain As Published. */
  retainAsPublished: boolean;
  /** Their subscription identifiers: none, one, or several. */
  identifiers: number | number[] | undefined;
}

/** How the client's subscriptions cover its own message: none, all with No Local, or some with it. */
export type NoLocalCover = 'none' | 'all' | 'some';

/** The client's WAMP session (MqttWampSession), as its subscriptions use it. */
export interface SubscribingSession extends ShareMember {
  readonly info: TransportInfo;
  readonly clientId: string;
  /** A request to the router, and what to do with its answer. */
  request(message: M.WampMessage, answer?: (answer: M.WampMessage) => void): void;
  /** An event for the client (one held back, now). */
  deliver(event: M.WampMessage): void;
}

/** The MQTT protocol side (MqttSession), as the subscriptions answer the client. */
export interface SubscriptionAnswers extends SysSubscriber {
  readonly ended: boolean;
  suback(messageId: number, codes: number[]): void;
  unsuback(messageId: number, codes: number[]): void;
  /** A SUBSCRIBE's filters go on in later turns: the client's next packets wait (resumeReading). */
  pauseReading(): void;
  resumeReading(): void;
}

/**
 * What a client without subscriptions has, shared: `byId` and `byFilter` are made on the first
 * SUBSCRIBE (two empty Maps were ~400 bytes per idle connection). Never written to.
 */
const NO_IDS: ReadonlyMap<number, WampSubscription> = new Map();
const NO_FILTERS: ReadonlyMap<string, MqttSubscription> = new Map();

/** Reused by `matching` (delivery is synchronous, and callers read it at once): no object per message. */
const MATCHED: Matched = { qos: -1, retainAsPublished: false, identifiers: undefined };

export class MqttSubscriptions {
  /** The client's WAMP subscriptions by ID (what an EVENT names). */
  private ids = NO_IDS;
  /** The client's MQTT filters. */
  private byFilter = NO_FILTERS;
  /** Events held back while a SUBSCRIBE is being answered, so SUBACK goes out first. */
  private events: M.WampMessage[] | undefined;
  /** Too many events came while subscribing: they go out at once until the SUBSCRIBEs are answered. */
  private heldOverflow = false;
  /** SUBSCRIBEs not yet answered. */
  private subscribing = 0;
  /** SUBSCRIBEs whose filters are still being worked on (DEFERRED_WORK); reading waits for them. */
  private deferredSubscribes = 0;
  /**
   * Pairs of the client's non-shared filters that some topic matches both: while there are none
   * (the usual case), the filters an EVENT's WAMP subscription serves are all that match it.
   */
  private overlapping = 0;

  constructor(private readonly session: SubscribingSession, private readonly mqtt: SubscriptionAnswers, private readonly mapping: MqttMapping, private readonly groups: SharedGroups, private readonly sys?: SysTopics) {}

  /** MQTT filters held in the realm (the `$SYS/` ones are the tree's to count). */
  get filterCount(): number {
    return this.byFilter.size;
  }

  /** Holds an EVENT back while SUBSCRIBEs are answered (true), unless too many came already. */
  held(event: M.WampMessage): boolean {
    if (this.subscribing === 0 || this.heldOverflow) return false;
    (this.events ??= []).push(event);
    if (this.events.length > MAX_HELD_EVENTS) this.release(true);
    return true;
  }

  /** Does the filter match a message on `uri` (through one of its WAMP subscriptions)? */
  private covers(sub: MqttSubscription, uri: string): boolean {
    if (sub.broader) {
      const topic = this.mapping.uriToTopic(uri);
      if (topic === undefined || !topicMatches(sub.matches, topic)) return false;
    }
    for (const id of sub.ids) {
      const wamp = this.byId.get(id);
      if (wamp && uriMatches(wamp.uri, wamp.match, uri)) return true;
    }
    return false;
  }

  /**
   * How the client's subscriptions matching `uri` treat its own message there: all with No Local
   * (WAMP's exclude_me does it), some (the delivery leaves those out), or none. A shared
   * subscription never has No Local [MQTT-3.8.3-4].
   */
  noLocalCover(uri: string): NoLocalCover {
    let any = false;
    for (const sub of this.byFilter.values()) any ||= sub.noLocal;
    if (!any) return 'none'; // the usual case, without matching a single pattern
    let matching = 0;
    let noLocal = 0;
    for (const sub of this.byFilter.values()) {
      if (!this.covers(sub, uri)) continue;
      matching++;
      if (sub.noLocal) noLocal++;
    }
    return noLocal === 0 ? 'none' : noLocal === matching ? 'all' : 'some';
  }

  /**
   * The client's non-shared subscriptions that match `uri` (of those `among`, when given), as one
   * PUBLISH: the highest QoS [MQTT-3.3.4-2] and every subscription identifier [MQTT-3.3.4-4];
   * `own`: the client published it, so subscriptions with No Local are left out [MQTT-3.8.3-3].
   * `hidden`: the topic is one a filter starting with a wildcard does not match (see `hidden`).
   * The result is reused.
   */
  matching(uri: string, topic: string, hidden: boolean, own: boolean, among?: MqttSubscription[]): Matched {
    const out = MATCHED;
    out.qos = -1;
    out.retainAsPublished = false;
    out.identifiers = undefined;
    for (const sub of among ?? this.byFilter.values()) {
      if (sub.group || (own && sub.noLocal) || (hidden && sub.wildcardFirst)) continue;
      if (among ? sub.broader && !topicMatches(sub.matches, topic) : !this.covers(sub, uri)) continue;
      if (sub.qos > out.qos) out.qos = sub.qos;
      if (sub.retainAsPublished) out.retainAsPublished = true;
      if (sub.identifier !== undefined) {
        const ids: Matched['identifiers'] = out.identifiers;
        if (ids === undefined) out.identifiers = sub.identifier;
        else if (typeof ids === 'number') out.identifiers = [ids, sub.identifier];
        else ids.push(sub.identifier);
      }
    }
    return out;
  }

  /** Some topic matches two of the client's (non-shared) filters: delivery must look at all of them. */
  get overlap(): boolean {
    return this.overlapping > 0;
  }

  /** The filters `sub` overlaps, not counting itself (see `overlapping`). */
  private overlapsOf(sub: MqttSubscription): number {
    if (sub.group) return 0;
    let count = 0;
    for (const other of this.byFilter.values()) {
      if (other !== sub && !other.group && filtersOverlap(other.filter, sub.filter)) count++;
    }
    return count;
  }

  /**
   * Is the message on `uri` (MQTT `topic`) out of reach of filters starting with a wildcard? A `$`
   * topic [MQTT-4.7.2-1], and the router's own (`wamp.*` meta events, `junction.*`): those reach
   * only filters that name their first level.
   */
  hidden(uri: string, topic: string): boolean {
    return topic.charCodeAt(0) === 0x24 || isReservedUri(uri);
  }

  /** The client's subscription in a group. */
  inGroup(group: SharedGroup): MqttSubscription | undefined {
    for (const sub of this.byFilter.values()) if (sub.group === group) return sub;
    return undefined;
  }

  /** The client lost its connection: its groups' messages go to connected members. */
  disconnected(): void {
    for (const sub of this.byFilter.values()) sub.group?.disconnected(this.session);
  }

  /** The session ends: it leaves its groups, handing them its messages. */
  leaveGroups(): void {
    for (const sub of this.byFilter.values()) sub.group?.leave(this.session);
  }

  /** Delivers the events held back during SUBSCRIBEs; `overflow`: more came than may be held. */
  private release(overflow: boolean): void {
    this.heldOverflow = overflow;
    const held = this.events;
    this.events = undefined;
    if (held) for (const event of held) this.session.deliver(event);
  }

  /** The filter now uses WAMP subscription `id`. */
  private attach(sub: MqttSubscription, id: number, uri: string, match: WampSubscription['match']): void {
    const wamp = this.ids.get(id);
    if (wamp) wamp.filters.push(sub);
    else this.writableIds().set(id, { uri, match, filters: [sub] });
  }

  /** The client's WAMP subscriptions by ID (what an EVENT names). */
  get byId(): ReadonlyMap<number, WampSubscription> {
    return this.ids;
  }

  private writableIds(): Map<number, WampSubscription> {
    if (this.ids === NO_IDS) this.ids = new Map();
    return this.ids as Map<number, WampSubscription>;
  }

  private writableFilters(): Map<string, MqttSubscription> {
    if (this.byFilter === NO_FILTERS) this.byFilter = new Map();
    return this.byFilter as Map<string, MqttSubscription>;
  }

  /** The filter no longer uses its WAMP subscriptions: those no other filter needs are unsubscribed; `done` once they are. */
  private detach(sub: MqttSubscription, done?: () => void): void {
    let left = 1;
    const one = () => {
      if (--left === 0) done?.();
    };
    for (const id of sub.ids) {
      const wamp = this.byId.get(id);
      if (!wamp) continue;
      const at = wamp.filters.indexOf(sub);
      if (at >= 0) wamp.filters.splice(at, 1);
      if (wamp.filters.length > 0) continue;
      (this.ids as Map<number, WampSubscription>).delete(id);
      left++;
      this.session.request([M.UNSUBSCRIBE, 0, id], one);
    }
    one();
  }

  /** The client's filters with their options, for the session file (`$SYS/` ones are not kept). */
  saved(): SavedFilter[] {
    return [...this.byFilter.values()].map((sub) => {
      const filter: SavedFilter = { filter: sub.filter, qos: sub.qos, noLocal: sub.noLocal, retainAsPublished: sub.retainAsPublished };
      if (sub.identifier !== undefined) filter.identifier = sub.identifier;
      return filter;
    });
  }

  subscribe(messageId: number, subscriptions: ISubscription[], properties?: ISubscribePacket['properties']): void {
    const identifier = properties?.subscriptionIdentifier;
    const codes: number[] = new Array(subscriptions.length).fill(REASON.unspecified);
    let outstanding = subscriptions.length;
    this.subscribing++;
    /** `$SYS/` filters whose retained messages follow SUBACK. */
    const sysRetained: string[] = [];
    const done = () => {
      if (--outstanding > 0) return;
      this.mqtt.suback(messageId, codes);
      for (const filter of sysRetained) this.sys?.sendRetained(this.mqtt, filter);
      if (--this.subscribing === 0) this.release(false);
    };
    const accepted = Math.min(subscriptions.length, MAX_FILTERS_PER_SUBSCRIBE);
    if (accepted < subscriptions.length) {
      log.info(`mqtt ${this.session.info.peer} (${this.session.clientId}): SUBSCRIBE with ${subscriptions.length} filters; the ${subscriptions.length - accepted} past ${MAX_FILTERS_PER_SUBSCRIBE} refused`);
    }
    const subscribeOne = (s: ISubscription, i: number) => {
      const qos = Math.min(s.qos, 2) as 0 | 1 | 2;
      if (isSysTopic(s.topic)) {
        if (!this.sys || !isValidFilter(s.topic)) {
          codes[i] = REASON.topicFilterInvalid;
          return done();
        }
        this.sys.subscribe(this.mqtt, s.topic, s.rap === true);
        if (s.rh !== 2) sysRetained.push(s.topic);
        codes[i] = qos;
        return done();
      }
      const shared = parseShared(s.topic);
      const targets = shared === 'invalid' ? undefined : this.mapping.filterToSubscriptions(shared ? shared.filter : s.topic);
      if (!targets || shared === 'invalid') {
        codes[i] = REASON.topicFilterInvalid;
        return done();
      }
      const group = shared ? this.groups.group(shared.group, shared.filter) : undefined;
      const first = (shared ? shared.filter : s.topic).charCodeAt(0);
      const wildcardFirst = first === 0x2b || first === 0x23; // '+' or '#'
      const matches = shared ? shared.filter : s.topic;
      const broader = targets.some((target) => target.broader === true);
      const sub: MqttSubscription = { filter: s.topic, qos, noLocal: s.nl === true, retainAsPublished: s.rap === true, identifier, group, wildcardFirst, broader, matches, ids: [] };
      // Retain Handling [MQTT-3.3.1-9] [MQTT-3.3.1-10] [MQTT-3.3.1-11]: 0 retained messages on every
      // SUBSCRIBE, 1 only when the subscription is new, 2 never; a shared subscription gets none.
      const retained = !group && (s.rh === 1 ? !this.byFilter.has(s.topic) : s.rh !== 2);
      // A filter may take two WAMP subscriptions (`a/#` matches `a` too): the first decides the
      // answer; the second (the parent level) is added when allowed, and silently left out if not.
      let left = targets.length;
      let failure: number | undefined;
      targets.forEach((target, t) => {
        const options: M.Dict = { get_retained: retained };
        if (target.match !== 'exact') options['match'] = target.match;
        this.session.request([M.SUBSCRIBE, 0, options, target.uri], (answer) => {
          if (answer[0] === M.SUBSCRIBED) {
            const id = answer[2] as number;
            sub.ids.push(id);
            this.attach(sub, id, target.uri, target.match);
          } else if (t === 0) {
            failure = reasonOf(answer[4] as string);
          }
          if (--left > 0) return;
          if (failure !== undefined) {
            // Refused: nothing of the filter may stay subscribed (an earlier subscription of it stays).
            this.detach(sub);
            if (group && group.members.length === 0) this.groups.forget(group);
          } else {
            // The same filter again replaces its subscription [MQTT-3.8.4-3].
            const previous = this.byFilter.get(s.topic);
            if (previous) this.overlapping -= this.overlapsOf(previous);
            this.writableFilters().set(s.topic, sub);
            this.overlapping += this.overlapsOf(sub);
            if (previous) this.detach(previous);
            group?.join(this.session);
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
      if (isSysTopic(filter)) {
        if (!this.sys?.unsubscribe(this.mqtt, filter)) codes[i] = REASON.noSubscriptionExisted;
        return done();
      }
      const sub = this.byFilter.get(filter);
      if (sub === undefined) {
        codes[i] = REASON.noSubscriptionExisted;
        return done();
      }
      this.overlapping -= this.overlapsOf(sub);
      (this.byFilter as Map<string, MqttSubscription>).delete(filter);
      this.detach(sub, done);
      sub.group?.leave(this.session);
    });
  }
}
