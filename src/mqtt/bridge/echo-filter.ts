// MQTT 3.1.1 has no No Local: a broker sends the bridge's own publications back to it when one of
// its `to_wamp` filters matches. The bridge remembers what it published on such topics (topic and a
// hash of the payload, for a while) and drops the copy that comes back, so nothing bridged to MQTT
// returns to WAMP. MQTT 5 bridges subscribe with No Local and need none of this.

import { createHash } from 'node:crypto';
import { topicMatches } from '../topic-match.js';

const TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

export class EchoFilter {
  /** key → expiry times of the copies still expected, oldest first. Map order = insertion order. */
  private readonly expected = new Map<string, number[]>();
  private count = 0;

  constructor(private readonly filters: string[]) {}

  /** The bridge publishes `payload` on `topic`: expect it back if a filter of ours matches. */
  published(topic: string, payload: Buffer, now = Date.now()): void {
    if (!this.filters.some((f) => topicMatches(f, topic))) return;
    this.expire(now);
    if (this.count >= MAX_ENTRIES) this.dropOldest();
    const key = keyOf(topic, payload);
    const list = this.expected.get(key);
    if (list) list.push(now + TTL_MS);
    else this.expected.set(key, [now + TTL_MS]);
    this.count++;
  }

  /** A message arrived from the broker: true when it is our own coming back (then forgotten). */
  isEcho(topic: string, payload: Buffer, now = Date.now()): boolean {
    if (this.count === 0) return false;
    const key = keyOf(topic, payload);
    const list = this.expected.get(key);
    if (!list) return false;
    while (list.length > 0 && list[0]! < now) {
      list.shift();
      this.count--;
    }
    if (list.length === 0) {
      this.expected.delete(key);
      return false;
    }
    list.shift();
    this.count--;
    if (list.length === 0) this.expected.delete(key);
    return true;
  }

  private expire(now: number): void {
    for (const [key, list] of this.expected) {
      if (list[list.length - 1]! >= now) break; // entries are in insertion order: the rest are newer
      this.expected.delete(key);
      this.count -= list.length;
    }
  }

  private dropOldest(): void {
    const first = this.expected.keys().next();
    if (first.done) return;
    const list = this.expected.get(first.value)!;
    list.shift();
    this.count--;
    if (list.length === 0) this.expected.delete(first.value);
  }
}

function keyOf(topic: string, payload: Buffer): string {
  return `${topic}\n${createHash('sha1').update(payload).digest('base64')}`;
}
