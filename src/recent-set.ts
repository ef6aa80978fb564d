// A set that remembers only its latest `limit` keys (the oldest goes first): what router links and
// the broker use to tell a message they have just seen from a new one, with memory bounded however
// long they run. The keys' order is kept in a ring, so forgetting the oldest costs the same as
// adding (a Set's own oldest entry is slow to reach once many were deleted before it).

export class RecentSet {
  private readonly keys = new Set<string>();
  /** Grows up to `limit` as keys come (an idle router link holds none: a preallocated ring cost 32 KiB a set). */
  private readonly ring: string[] = [];
  private next = 0;

  constructor(private readonly limit: number) {}

  /** True if `key` was added before (and is still remembered); otherwise adds it and answers false. */
  seenBefore(key: string): boolean {
    if (this.keys.has(key)) return true;
    if (this.ring.length < this.limit) {
      this.ring.push(key);
    } else {
      this.keys.delete(this.ring[this.next]!);
      this.ring[this.next] = key;
      this.next = (this.next + 1) % this.limit;
    }
    this.keys.add(key);
    return false;
  }
}
