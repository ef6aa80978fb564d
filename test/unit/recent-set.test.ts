// The bounded memory of recent messages (router links' forwarded events, the broker's _origins).
import { describe, it, expect } from 'vitest';
import { RecentSet } from '../../src/recent-set.js';

describe('RecentSet', () => {
  it('tells a key seen before from a new one, and forgets the oldest beyond its limit', () => {
    const recent = new RecentSet(3);
    expect(['a', 'b', 'a', 'c'].map((k) => recent.seenBefore(k))).toEqual([false, false, true, false]);
    expect(recent.seenBefore('d')).toBe(false); // 'a' forgotten now
    expect(recent.seenBefore('a')).toBe(false); // so new again; 'b' forgotten
    expect(['c', 'd', 'a', 'b'].map((k) => recent.seenBefore(k))).toEqual([true, true, true, false]);
  });
});
