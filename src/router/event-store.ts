// What the broker remembers of past publications: the retained event of each topic
// (PUBLISH retain=true, delivered on SUBSCRIBE get_retained=true) and the event history that the
// realm's `store.event-history` entries ask for (wamp.subscription.get_events). Both are bounded in
// count and in bytes (the payload's estimate, `approximateBytes`), so publishers cannot fill the board.

import { DEFAULT_HISTORY_MAX_BYTES, DEFAULT_RETAINED_LIMITS, type EventHistoryConfig, type RetainedLimits } from '../config/types.js';
import type { Dict } from '../wamp/message.js';
import { decodedTail } from '../wamp/raw-payload.js';
import { uriMatches, type MatchPolicy } from '../wamp/uri.js';
import { log } from '../log.js';
import { PatternIndex } from '../wamp/pattern-index.js';
import { TopicTree } from './topic-tree.js';

/** One remembered publication. Payload is kept by reference: the router never mutates it. */
export interface StoredEvent {
  /** Order of publication within the realm (timestamps tie within a millisecond). */
  seq: number;
  publication: number;
  topic: string;
  /** ISO-8601 time of publication. */
  timestamp: string;
  args: unknown[] | undefined;
  kwargs: Dict | undefined;
  /**
   * The PUBLISH, when its payload is still the bytes an MQTT client sent (wamp/raw-payload.ts): then
   * `args` and `kwargs` are unset, and `storedPayload` decodes it for each WAMP reader.
   */
  raw?: unknown[];
  /** The publisher, disclosed or not; disclosure is decided when the event is delivered. */
  publisher: { session: number; authid: string; authrole: string };
  disclosed: boolean;
  /** The PUBLISH options (for eligibility filters). */
  options: Dict;
  /** What keeping it costs, about (topic, payload and the record): `approximateBytes` + topic + EVENT_COST. */
  bytes: number;
}

/** A stored event's Arguments|list and ArgumentsKw|dict, decoded now when it was kept as bytes. */
export function storedPayload(e: StoredEvent): { args: unknown[] | undefined; kwargs: Dict | undefined } {
  if (e.raw === undefined) return e;
  const [args, kwargs] = decodedTail(e.raw) as [unknown[] | undefined, Dict | undefined];
  return { args, kwargs };
}

/** A stored event's own cost beside its topic and payload (the record, its options, the timestamp). */
export const EVENT_COST = 200;

/** The newest events of one history rule: at most `limit` of them and `maxBytes` in all. */
class HistoryBuffer {
  private events: StoredEvent[] = [];
  /** Index of the oldest event kept (older ones are dropped by moving it, not by shift()). */
  private head = 0;
  private bytes = 0;
  private readonly maxBytes: number;
  constructor(readonly rule: EventHistoryConfig) {
    this.maxBytes = rule.maxBytes ?? DEFAULT_HISTORY_MAX_BYTES;
  }
  add(event: StoredEvent): void {
    if (this.rule.limit <= 0 || event.bytes > this.maxBytes) return;
    this.events.push(event);
    this.bytes += event.bytes;
    while (this.events.length - this.head > this.rule.limit || this.bytes > this.maxBytes) {
      this.bytes -= this.events[this.head]!.bytes;
      this.events[this.head++] = undefined as unknown as StoredEvent; // collectable now
    }
    if (this.head > 64 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
  }
  /** Oldest first. */
  all(): StoredEvent[] {
    return this.events.slice(this.head);
  }
}

/** Session-ID filters make an event private to its moment: it is not kept in history (spec). */
function hasSessionFilters(options: Dict): boolean {
  return options['exclude'] !== undefined || options['eligible'] !== undefined;
}

/** An MQTT message whose Message Expiry Interval passed is retained no longer (`_mqtt_expires_at`: mqtt/properties.ts). */
function expired(event: StoredEvent, now: number): boolean {
  const at = event.options['_mqtt_expires_at'];
  return typeof at === 'number' && at <= now;
}

export class EventStore {
  /** Retained events by topic, and the same in a tree for pattern subscriptions. */
  private readonly retained = new Map<string, StoredEvent>();
  private readonly retainedTree = new TopicTree<StoredEvent>();
  private retainedBytes = 0;
  /** A retained event was refused for lack of room and that was logged; re-armed when room is back. */
  private fullLogged = false;
  private readonly history = new PatternIndex<HistoryBuffer>();
  private readonly matches: HistoryBuffer[] = [];

  constructor(rules: EventHistoryConfig[], private readonly limits: RetainedLimits = DEFAULT_RETAINED_LIMITS, private readonly realm = '') {
    for (const rule of rules) this.history.set(rule.uri, rule.match, new HistoryBuffer(rule));
  }

  /** Topics with a retained event, and their bytes. */
  get retainedUsage(): { topics: number; bytes: number } {
    return { topics: this.retained.size, bytes: this.retainedBytes };
  }

  /**
   * Keeps the topic's retained event, replacing the one before. A full store (`store.retained`
   * limit or max_bytes) refuses it, as a broker with a quota does: what is retained stays, a new
   * topic is not retained, and a topic whose new event does not fit loses its old one (it is no
   * longer its latest). The publication itself is delivered either way. False when refused.
   */
  retain(event: StoredEvent): boolean {
    const old = this.retained.get(event.topic);
    const bytes = this.retainedBytes - (old?.bytes ?? 0) + event.bytes;
    if ((!old && this.retained.size >= this.limits.maxTopics) || bytes > this.limits.maxBytes) {
      if (old) this.forgetRetained(event.topic);
      if (!this.fullLogged) {
        this.fullLogged = true;
        log.warn(`realm '${this.realm}': retained events full (${this.retained.size} topics of ${this.limits.maxTopics}, ${this.retainedBytes} bytes of ${this.limits.maxBytes}, store.retained); '${event.topic}' and further events are not retained until room is made`);
      }
      return false;
    }
    this.retained.set(event.topic, event);
    this.retainedTree.set(event.topic, event);
    this.retainedBytes = bytes;
    return true;
  }

  forgetRetained(topic: string): void {
    const old = this.retained.get(topic);
    if (!old) return;
    this.retained.delete(topic);
    this.retainedTree.delete(topic);
    this.retainedBytes -= old.bytes;
    if (this.retained.size < this.limits.maxTopics * 0.9 && this.retainedBytes < this.limits.maxBytes * 0.9) this.fullLogged = false;
  }

  /** The topic's retained event, if any. */
  retainedEvent(topic: string): StoredEvent | undefined {
    return this.retained.get(topic);
  }

  /** Retained events whose topic falls under a subscription's pattern, oldest retained first; expired ones are forgotten. */
  retainedFor(pattern: string, match: MatchPolicy): StoredEvent[] {
    const now = Date.now();
    if (match === 'exact') {
      const e = this.retained.get(pattern);
      if (e && expired(e, now)) this.forgetRetained(pattern);
      else if (e) return [e];
      return [];
    }
    const out: StoredEvent[] = [];
    this.retainedTree.collect(pattern, match, out);
    let kept = 0;
    for (const e of out) {
      if (expired(e, now)) this.forgetRetained(e.topic);
      else out[kept++] = e;
    }
    out.length = kept;
    return out.length > 1 ? out.sort((a, b) => a.seq - b.seq) : out;
  }

  /** Whether a publication on `topic` with these options goes into an event history. */
  keepsHistoryOf(topic: string, options: Dict): boolean {
    if (this.history.size === 0 || hasSessionFilters(options)) return false;
    this.history.matchAll(topic, this.matches);
    const any = this.matches.length > 0;
    this.matches.length = 0;
    return any;
  }

  record(event: StoredEvent): void {
    if (hasSessionFilters(event.options)) return;
    this.history.matchAll(event.topic, this.matches);
    for (const buffer of this.matches) buffer.add(event);
    this.matches.length = 0;
  }

  /** History events under a subscription's pattern, newest first, without duplicates. */
  historyFor(pattern: string, match: MatchPolicy): StoredEvent[] | undefined {
    const seen = new Set<number>();
    const out: StoredEvent[] = [];
    let covered = false;
    for (const buffer of this.history.values()) {
      for (const e of buffer.all()) {
        if (!uriMatches(pattern, match, e.topic)) continue;
        covered = true;
        if (seen.has(e.publication)) continue;
        seen.add(e.publication);
        out.push(e);
      }
      // A history rule that could hold this subscription's events counts even while empty.
      if (!covered && (buffer.rule.match === match && buffer.rule.uri === pattern)) covered = true;
      if (!covered && match === 'exact' && uriMatches(buffer.rule.uri, buffer.rule.match, pattern)) covered = true;
    }
    if (!covered) return undefined;
    return out.sort((a, b) => b.seq - a.seq);
  }
}
