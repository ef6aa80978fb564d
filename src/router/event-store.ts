// What the broker remembers of past publications: the retained event of each topic
// (PUBLISH retain=true, delivered on SUBSCRIBE get_retained=true) and the event history that the
// realm's `store.event-history` entries ask for (wamp.subscription.get_events).

import type { EventHistoryConfig, MatchPolicy } from '../config/types.js';
import type { Dict } from '../wamp/message.js';
import { uriMatches } from '../wamp/uri.js';
import { PatternIndex } from './pattern-index.js';

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
  /** The publisher, disclosed or not; disclosure is decided when the event is delivered. */
  publisher: { session: number; authid: string; authrole: string };
  disclosed: boolean;
  /** The PUBLISH options (for eligibility filters). */
  options: Dict;
}

/** A fixed-size ring of the newest events. */
class HistoryBuffer {
  private readonly events: StoredEvent[] = [];
  private next = 0;
  constructor(readonly rule: EventHistoryConfig) {}
  add(event: StoredEvent): void {
    if (this.rule.limit <= 0) return;
    if (this.events.length < this.rule.limit) this.events.push(event);
    else this.events[this.next] = event;
    this.next = (this.next + 1) % this.rule.limit;
  }
  /** Oldest first. */
  all(): StoredEvent[] {
    return this.events.length < this.rule.limit ? this.events.slice() : [...this.events.slice(this.next), ...this.events.slice(0, this.next)];
  }
}

/** Session-ID filters make an event private to its moment: it is not kept in history (spec). */
function hasSessionFilters(options: Dict): boolean {
  return options['exclude'] !== undefined || options['eligible'] !== undefined;
}

/** Retained events kept at most; past it the least recently retained topic is forgotten. */
export const MAX_RETAINED_TOPICS = 10_000;

export class EventStore {
  /** Insertion-ordered: re-retaining a topic moves it to the end, so the first key is the oldest. */
  private readonly retained = new Map<string, StoredEvent>();
  private readonly history = new PatternIndex<HistoryBuffer>();
  private readonly matches: HistoryBuffer[] = [];

  constructor(rules: EventHistoryConfig[]) {
    for (const rule of rules) this.history.set(rule.uri, rule.match, new HistoryBuffer(rule));
  }

  get keepsHistory(): boolean {
    return this.history.size > 0;
  }

  retain(event: StoredEvent): void {
    // Bounded: a client retaining on ever-new topics must not grow the router without limit.
    this.retained.delete(event.topic);
    this.retained.set(event.topic, event);
    if (this.retained.size > MAX_RETAINED_TOPICS) this.retained.delete(this.retained.keys().next().value!);
  }

  /** Retained events whose topic falls under a subscription's pattern. */
  forgetRetained(topic: string): void {
    this.retained.delete(topic);
  }

  retainedFor(pattern: string, match: MatchPolicy): StoredEvent[] {
    if (match === 'exact') {
      const e = this.retained.get(pattern);
      return e ? [e] : [];
    }
    const out: StoredEvent[] = [];
    for (const e of this.retained.values()) if (uriMatches(pattern, match, e.topic)) out.push(e);
    return out;
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
