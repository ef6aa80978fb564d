// An MQTT client's subscriptions in the realm: each MQTT filter as the WAMP subscriptions of the
// client's MqttWampSession that it maps to (a filter may take two: `a/#` is the prefix `a.` and `a`
// itself, since MQTT's `#` matches its parent level), SUBSCRIBE and UNSUBSCRIBE answered with
// SUBACK and UNSUBACK, and the events that arrive while a SUBSCRIBE is answered held back, so that
// SUBACK goes out first. Filters whose first level is `$SYS` are the listener's `$SYS/` tree's
// (sys-topics.ts), not the realm's.

import type { ISubscription } from 'mqtt-packet';
import * as M from '../../wamp/message.js';
import type { TransportInfo } from '../../core-boundary.js';
import type { MqttMapping } from '../../mqtt/mapping.js';
import { isReservedUri, uriMatches } from '../../wamp/uri.js';
import { DEFERRED_WORK } from '../../sliced-work.js';
import { REASON, reasonOf } from './reason-codes.js';
import { isSysTopic, isValidFilter, type SysSubscriber, type SysTopics } from './sys-topics.js';
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

/** One MQTT filter's WAMP subscription (a filter may take two: see subscribe). */
export interface MqttSubscription {
  filter: string;
  qos: 0 | 1 | 2;
  uri: string;
  match: 'exact' | 'prefix' | 'wildcard';
  noLocal: boolean;
  /** The filter's first level is `+` or `#`: it matches no `$` topic [MQTT-4.7.2-1] and none of the router's own (see delivers). */
  wildcardFirst: boolean;
}

/** The client's WAMP session (MqttWampSession), as its subscriptions use it. */
export interface SubscribingSession {
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

export class MqttSubscriptions {
  /** By WAMP subscription ID (what an EVENT names), and the IDs by MQTT filter. */
  readonly byId = new Map<number, MqttSubscription>();
  private readonly byFilter = new Map<string, number[]>();
  /** Events held back while a SUBSCRIBE is being answered, so SUBACK goes out first. */
  private events: M.WampMessage[] | undefined;
  /** Too many events came while subscribing: they go out at once until the SUBSCRIBEs are answered. */
  private heldOverflow = false;
  /** SUBSCRIBEs not yet answered. */
  private subscribing = 0;
  /** SUBSCRIBEs whose filters are still being worked on (DEFERRED_WORK); reading waits for them. */
  private deferredSubscribes = 0;

  constructor(private readonly session: SubscribingSession, private readonly mqtt: SubscriptionAnswers, private readonly mapping: MqttMapping, private readonly sys?: SysTopics) {}

  /** MQTT filters held in the realm (the `$SYS/` ones are the tree's to count). */
  get filterCount(): number {
    return this.byFilter.size;
  }

  /**
   * Does `sub` deliver the event on `uri` (MQTT `topic`)? Not when the filter starts with a wildcard
   * and the topic starts with `$` [MQTT-4.7.2-1], or is the router's own (`wamp.*` meta events,
   * `junction.*`): those, like `$` topics, reach only filters that name their first level.
   */
  delivers(sub: MqttSubscription, uri: string, topic: string): boolean {
    return !sub.wildcardFirst || (topic.charCodeAt(0) !== 0x24 && !isReservedUri(uri));
  }

  /** Holds an EVENT back while SUBSCRIBEs are answered (true), unless too many came already. */
  held(event: M.WampMessage): boolean {
    if (this.subscribing === 0 || this.heldOverflow) return false;
    (this.events ??= []).push(event);
    if (this.events.length > MAX_HELD_EVENTS) this.release(true);
    return true;
  }

  /** Does a subscription with No Local (MQTT 5) cover `uri`: then the client's own publication must not come back. */
  noLocalCovers(uri: string): boolean {
    for (const sub of this.byId.values()) {
      if (sub.noLocal && uriMatches(sub.uri, sub.match, uri)) return true;
    }
    return false;
  }

  /** Delivers the events held back during SUBSCRIBEs; `overflow`: more came than may be held. */
  private release(overflow: boolean): void {
    this.heldOverflow = overflow;
    const held = this.events;
    this.events = undefined;
    if (held) for (const event of held) this.session.deliver(event);
  }

  subscribe(messageId: number, subscriptions: ISubscription[]): void {
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
      if (s.topic.startsWith('$share/')) {
        codes[i] = REASON.sharedNotSupported;
        return done();
      }
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
      const targets = this.mapping.filterToSubscriptions(s.topic);
      if (!targets) {
        codes[i] = REASON.topicFilterInvalid;
        return done();
      }
      // A filter may take two WAMP subscriptions (`a/#` matches `a` too): the first decides the
      // answer; the second (the parent level) is added when allowed, and silently left out if not.
      for (const id of this.byFilter.get(s.topic) ?? []) this.byId.delete(id);
      const ids: number[] = [];
      this.byFilter.set(s.topic, ids);
      let left = targets.length;
      let failure: number | undefined;
      targets.forEach((target, t) => {
        const options: M.Dict = { get_retained: s.rh !== 2 };
        if (target.match !== 'exact') options['match'] = target.match;
        this.session.request([M.SUBSCRIBE, 0, options, target.uri], (answer) => {
          if (answer[0] === M.SUBSCRIBED) {
            const id = answer[2] as number;
            ids.push(id);
            const wildcardFirst = s.topic.charCodeAt(0) === 0x2b || s.topic.charCodeAt(0) === 0x23; // '+' or '#'
            this.byId.set(id, { filter: s.topic, qos, uri: target.uri, match: target.match, noLocal: s.nl === true, wildcardFirst });
          } else if (t === 0) {
            failure = reasonOf(answer[4] as string);
          }
          if (--left > 0) return;
          if (failure !== undefined) {
            // Refused: nothing of the filter may stay subscribed.
            for (const id of ids.splice(0)) {
              this.byId.delete(id);
              this.session.request([M.UNSUBSCRIBE, 0, id]);
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
      if (isSysTopic(filter)) {
        if (!this.sys?.unsubscribe(this.mqtt, filter)) codes[i] = REASON.noSubscriptionExisted;
        return done();
      }
      const ids = this.byFilter.get(filter);
      if (ids === undefined || ids.length === 0) {
        codes[i] = REASON.noSubscriptionExisted;
        return done();
      }
      this.byFilter.delete(filter);
      let left = ids.length;
      for (const id of ids) {
        this.byId.delete(id);
        this.session.request([M.UNSUBSCRIBE, 0, id], () => {
          if (--left === 0) done();
        });
      }
    });
  }
}
