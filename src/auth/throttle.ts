// Slows down guessing: after a few failed authentications from one address, each further attempt
// from it waits for a slot, and the slots grow further apart with every failure. Parallel
// connections from the same address queue behind one another instead of guessing at once.

/** Failures allowed from one address before its attempts are spaced out. */
const FREE_FAILURES = 5;
/** Spacing after the first failure beyond the free ones; doubles with each further failure. */
const BASE_INTERVAL_MS = 250;
const MAX_INTERVAL_MS = 30_000;
/** An attempt that would wait longer than this is refused at once (nothing piles up). */
const MAX_WAIT_MS = 60_000;
/** An address's failures are forgotten this long after its last one. */
const FORGET_AFTER_MS = 10 * 60_000;
/** Addresses tracked at once (oldest forgotten first), so a scan of many addresses cannot grow memory. */
const MAX_TRACKED = 10_000;

interface Record {
  failures: number;
  lastFailure: number;
  /** When the next attempt from this address may proceed. */
  nextSlot: number;
}

export class FailureThrottle {
  private readonly byAddress = new Map<string, Record>();

  constructor(private readonly now: () => number = Date.now) {}

  /** ms to wait before handling an authentication attempt from `address`; -1 = refuse it now. */
  admit(address: string): number {
    const record = this.current(address);
    if (!record || record.failures < FREE_FAILURES) return 0;
    const now = this.now();
    const interval = Math.min(BASE_INTERVAL_MS * 2 ** (record.failures - FREE_FAILURES), MAX_INTERVAL_MS);
    const slot = Math.max(now, record.nextSlot);
    if (slot - now > MAX_WAIT_MS) return -1;
    record.nextSlot = slot + interval;
    return slot - now;
  }

  failed(address: string): void {
    const now = this.now();
    let record = this.current(address);
    if (record) {
      this.byAddress.delete(address); // re-inserted below: Map order = least recently failed first
    } else {
      record = { failures: 0, lastFailure: now, nextSlot: now };
      if (this.byAddress.size >= MAX_TRACKED) this.byAddress.delete(this.byAddress.keys().next().value!);
    }
    record.failures++;
    record.lastFailure = now;
    this.byAddress.set(address, record);
  }

  failures(address: string): number {
    return this.current(address)?.failures ?? 0;
  }

  private current(address: string): Record | undefined {
    const record = this.byAddress.get(address);
    if (record && this.now() - record.lastFailure > FORGET_AFTER_MS) {
      this.byAddress.delete(address);
      return undefined;
    }
    return record;
  }
}

/** The address part of a transport peer string: 'tcp4:10.0.0.7:51234' → 'tcp4:10.0.0.7'. */
export function peerAddress(peer: string): string {
  return peer.startsWith('tcp') ? peer.replace(/:\d+$/, '') : peer;
}
