// A set that remembers only its latest `limit` keys (insertion order; the oldest goes first): what
// router links and the broker use to tell a message they have just seen from a new one, with
// memory bounded however long they run.

export class RecentSet {
  private readonly keys = new Set<string>();

  constructor(private readonly limit: number) {}

  /** True if `key` was added before (and is still remembered); otherwise adds it and answers false. */
  seenBefore(key: string): boolean {
    if (this.keys.has(key)) return true;
    this.keys.add(key);
    if (this.keys.size > this.limit) this.keys.delete(this.keys.values().next().value as string);
    return false;
  }
}
