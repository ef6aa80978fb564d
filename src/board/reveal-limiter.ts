// Who may try a setup code, and when (junction.setup.reveal). Two limits, both taken synchronously
// when an attempt arrives, before the setup file is read, so a burst is counted in full:
//
// - Per caller address: at most 5 attempts within 15 minutes; more are refused at once
//   (junction.error.too_many_attempts) until the oldest is 15 minutes old. One guesser gets 480 a day.
// - For the whole node (the backstop against many addresses): 5 attempts at once, then one every
//   30 s (at most ~2,900 a day; the 8-character setup code has 2^40 values). Attempts beyond that wait
//   in a queue that holds one attempt per address and serves addresses in turn. Guessers from other
//   addresses therefore delay the owner but cannot lock the owner out: an owner's attempt waits at
//   most (waiting addresses × 30 s) and is then checked.
//
// An IPv6 "address" is the /64 network (one host can pick any address in its /64). Whoever shares
// the owner's address (same NAT, a reverse proxy) shares the owner's 5 attempts: serve the page on a
// local interface or give the proxy's clients their own addresses.

import { WampError } from '../client/client-session.js';
import { peerAddress } from '../auth/throttle.js';

export const ATTEMPTS_PER_ADDRESS = 5;
export const ADDRESS_WINDOW_MS = 15 * 60_000;
/** Attempts the node checks at once before the backstop spaces them out. */
export const NODE_BURST = 5;
/** Then one attempt per this interval, for all addresses together. */
export const NODE_INTERVAL_MS = 30_000;
/** Addresses waiting at once; beyond it attempts are refused (memory stays bounded). */
const MAX_WAITING = 10_000;
/** Addresses remembered at once (least recently seen forgotten first). */
const MAX_TRACKED = 10_000;

/** The address attempts from transport peer `peer` count against: 'tcp4:10.0.0.7', 'tcp6:2001:db8:0:1::/64'. */
export function guesserAddress(peer: string): string {
  const address = peerAddress(peer);
  const v6 = /^tcp6:\[([0-9a-f:]+)(?:%[^\]]*)?\]$/i.exec(address)?.[1];
  if (!v6) return address;
  const [head = '', tail = ''] = v6.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = v6.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `tcp6:${groups.slice(0, 4).map((g) => parseInt(g || '0', 16).toString(16)).join(':')}::/64`;
}

const tooMany = (message: string) => new WampError('junction.error.too_many_attempts', [message]);

export class RevealLimiter {
  /** Address → times of its attempts within the window, oldest first. */
  private readonly attempts = new Map<string, number[]>();
  /** Attempts waiting for the backstop, one per address, in arrival order (Map order). */
  private readonly waiting = new Map<string, { release: () => void; refuse: (err: Error) => void }>();
  private tokens = NODE_BURST;
  private refilledAt: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly now: () => number = () => Date.now()) {
    this.refilledAt = now();
  }

  /**
   * Counts an attempt from `address` now (synchronously) and resolves when it may be checked;
   * rejects with junction.error.too_many_attempts when it may not.
   */
  admit(address: string): Promise<void> {
    const t = this.now();
    const times = (this.attempts.get(address) ?? []).filter((at) => t - at < ADDRESS_WINDOW_MS);
    if (times.length >= ATTEMPTS_PER_ADDRESS) {
      const wait = Math.ceil((times[0]! + ADDRESS_WINDOW_MS - t) / 1000);
      return Promise.reject(tooMany(`too many setup code attempts from your address; try again in ${wait} s`));
    }
    if (this.waiting.has(address)) return Promise.reject(tooMany('an attempt from your address is already waiting; wait for its answer'));
    this.refill(t);
    const now = this.waiting.size === 0 && this.tokens >= 1;
    if (!now && this.waiting.size >= MAX_WAITING) return Promise.reject(tooMany('too many setup code attempts; try again later'));
    times.push(t);
    this.remember(address, times);
    if (now) {
      this.tokens--;
      return Promise.resolve();
    }
    return new Promise<void>((release, refuse) => {
      this.waiting.set(address, { release, refuse });
      this.schedule();
    });
  }

  /** The code was right: the setup is over, and nobody's earlier attempts count any more. */
  succeeded(): void {
    this.attempts.clear();
  }

  /** How many attempts wait for the backstop (for tests and logs). */
  get queued(): number {
    return this.waiting.size;
  }

  /** Refuses whatever waits; for the node's stop. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const { refuse } of this.waiting.values()) refuse(tooMany('the setup procedure is stopping'));
    this.waiting.clear();
  }

  private refill(t: number): void {
    const earned = Math.floor((t - this.refilledAt) / NODE_INTERVAL_MS);
    if (earned <= 0) return;
    this.tokens = Math.min(NODE_BURST, this.tokens + earned);
    this.refilledAt = this.tokens === NODE_BURST ? t : this.refilledAt + earned * NODE_INTERVAL_MS;
  }

  /** Releases waiting attempts, one per token, the longest-waiting address first. */
  private schedule(): void {
    if (this.timer || this.waiting.size === 0) return;
    const delay = Math.max(0, this.refilledAt + NODE_INTERVAL_MS - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill(this.now());
      for (const [address, { release }] of this.waiting) {
        if (this.tokens < 1) break;
        this.tokens--;
        this.waiting.delete(address);
        release();
      }
      this.schedule();
    }, delay);
    this.timer.unref();
  }

  private remember(address: string, times: number[]): void {
    this.attempts.delete(address); // re-inserted last: Map order = least recently seen first
    if (this.attempts.size >= MAX_TRACKED) this.attempts.delete(this.attempts.keys().next().value!);
    this.attempts.set(address, times);
  }
}
