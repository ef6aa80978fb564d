// A router link's store-and-forward buffer: the events for the remote side that arrive while the
// link is down, kept by the `buffer` policy of their topic (the longest matching rule prefix, else
// the link's own policy): 'latest' keeps the newest event of each topic, 'all' every event up to its
// limit (the oldest dropped first), 'none' nothing. Sent in their original order when the link is
// back. Each event is held encoded (MessagePack: binary payloads stay binary, and its size is
// known), so the buffer is bounded in bytes too and its file (buffer-file.ts) holds the entries as
// they are.

import type { RLinkBufferConfig, RLinkBufferPolicy } from '../config/types.js';
import { getSerializer } from '../serializers/index.js';
import type { Dict, WampMessage } from '../wamp/message.js';

/** Most bytes of encoded events one link keeps, whatever the limits say (the oldest go first). */
export const MAX_BUFFER_BYTES = 8 * 1024 * 1024;

export interface BufferedEvent {
  topic: string;
  args: unknown[];
  kwargs: Dict;
  /** The PUBLISH options for the remote side (forward_for, exclusions). */
  options: Dict;
  /** ISO-8601 time of the original publication. */
  publishedAt: string;
}

interface Entry { topic: string; rule: Rule; bytes: Buffer }

interface Rule {
  prefix: string;
  policy: RLinkBufferPolicy;
  limit: number;
  /** 'latest': topic → its entry's sequence number, oldest first. 'all': sequence numbers, oldest first. */
  latest: Map<string, number>;
  all: Set<number>;
}

const codec = getSerializer('msgpack');

export class EventBuffer {
  /** Entries by sequence number, in the order they arrived (Map keeps insertion order). */
  private readonly entries = new Map<number, Entry>();
  private readonly rules: Rule[];
  private readonly fallback: Rule;
  private nextSeq = 1;
  private bytes = 0;
  /** Events dropped to make room ('all' past its limit, or past MAX_BUFFER_BYTES). */
  dropped = 0;

  constructor(config: RLinkBufferConfig, private readonly onChange: () => void = () => {}) {
    const rule = (prefix: string, policy: RLinkBufferPolicy, limit: number): Rule => ({ prefix, policy, limit, latest: new Map(), all: new Set() });
    this.fallback = rule('', config.policy, config.limit);
    // Longest prefix first: the first match is the one that wins.
    this.rules = config.rules.map((r) => rule(r.prefix, r.policy, r.limit)).sort((a, b) => b.prefix.length - a.prefix.length);
  }

  get size(): number {
    return this.entries.size;
  }

  add(event: BufferedEvent): void {
    const rule = this.ruleOf(event.topic);
    if (rule.policy === 'none') return;
    const bytes = codec.encode([event.topic, event.args, event.kwargs, event.options, event.publishedAt] as unknown as WampMessage);
    this.append(rule, event.topic, bytes);
    this.onChange();
  }

  /** Every event, oldest first; the buffer is empty afterwards. */
  take(): BufferedEvent[] {
    const out: BufferedEvent[] = [];
    for (const entry of this.entries.values()) {
      const event = decodeEvent(entry.bytes);
      if (event) out.push(event);
    }
    if (this.entries.size === 0) return out;
    this.entries.clear();
    for (const r of [this.fallback, ...this.rules]) {
      r.latest.clear();
      r.all.clear();
    }
    this.bytes = 0;
    this.onChange();
    return out;
  }

  /** The oldest `max` events with their sequence numbers; they stay in the buffer until `forget`. */
  peek(max: number): Array<{ seq: number; event: BufferedEvent }> {
    const out: Array<{ seq: number; event: BufferedEvent }> = [];
    for (const [seq, entry] of this.entries) {
      if (out.length >= max) break;
      const event = decodeEvent(entry.bytes);
      if (event) out.push({ seq, event });
      else this.remove(seq);
    }
    return out;
  }

  /** Removes events that were sent (those replaced or dropped meanwhile are gone already). */
  forget(seqs: readonly number[]): void {
    let changed = false;
    for (const seq of seqs) changed = this.remove(seq) || changed;
    if (changed) this.onChange();
  }

  /** The events as encoded entries, oldest first (what a buffer file holds). */
  encodedEntries(): Buffer[] {
    return [...this.entries.values()].map((e) => e.bytes);
  }

  /** Adds the encoded entries of a buffer file (this link's policies apply to them again). Throws when one is not an event. */
  restore(entries: unknown[]): void {
    for (const item of entries) {
      if (!(item instanceof Uint8Array)) throw new Error('an entry is not an encoded event');
      const bytes = Buffer.from(item);
      const event = decodeEvent(bytes);
      if (!event) throw new Error('an entry is not an event');
      const rule = this.ruleOf(event.topic);
      if (rule.policy !== 'none') this.append(rule, event.topic, bytes);
    }
  }

  private ruleOf(topic: string): Rule {
    for (const r of this.rules) if (topic.startsWith(r.prefix)) return r;
    return this.fallback;
  }

  private append(rule: Rule, topic: string, bytes: Buffer): void {
    const seq = this.nextSeq++;
    if (rule.policy === 'latest') {
      const previous = rule.latest.get(topic);
      if (previous !== undefined) this.remove(previous);
      else if (rule.latest.size >= rule.limit) this.drop(rule.latest.values().next().value as number);
      rule.latest.set(topic, seq);
    } else {
      if (rule.all.size >= rule.limit) this.drop(rule.all.values().next().value as number);
      rule.all.add(seq);
    }
    this.entries.set(seq, { topic, rule, bytes });
    this.bytes += bytes.length;
    while (this.bytes > MAX_BUFFER_BYTES && this.entries.size > 1) this.drop(this.entries.keys().next().value as number);
  }

  private drop(seq: number): void {
    if (this.remove(seq)) this.dropped++;
  }

  private remove(seq: number): boolean {
    const entry = this.entries.get(seq);
    if (!entry) return false;
    this.entries.delete(seq);
    this.bytes -= entry.bytes.length;
    if (entry.rule.latest.get(entry.topic) === seq) entry.rule.latest.delete(entry.topic);
    entry.rule.all.delete(seq);
    return true;
  }
}

function decodeEvent(bytes: Buffer): BufferedEvent | undefined {
  const v = codec.decode(bytes) as unknown[];
  if (!Array.isArray(v) || typeof v[0] !== 'string' || !Array.isArray(v[1]) || !isDict(v[2]) || !isDict(v[3]) || typeof v[4] !== 'string') return undefined;
  return { topic: v[0], args: v[1], kwargs: v[2], options: v[3], publishedAt: v[4] };
}

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
