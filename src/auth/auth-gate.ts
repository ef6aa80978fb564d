// Admission of calls to dynamic authenticators: a flood of HELLOs must not lock out a correct login
// (issue 19 #8). At most `perAddress` authenticator calls run at once for one client address and
// `total` for the whole router; the rest wait in a queue per address, served round-robin across
// addresses, so a login from another address waits for one turn, not behind the flood. Within one
// address the newest attempt goes first and a full queue gives up its oldest: after a burst (a
// flood from the user's own address, e.g. behind NAT) a fresh login is next, and the attempts given
// up are those whose clients have waited longest. When the whole router's queue is full, the
// address with the most waiters gives up its oldest, or the newcomer is refused. Every refusal is
// logged with the address and the reason (at most 20 lines per 10 s). Nothing grows without bound.

import { LogBudget } from '../log-budget.js';

export interface AuthGateLimits {
  /** Authenticator calls in flight for one client address. */
  perAddress: number;
  /** Authenticator calls in flight for the whole router. */
  total: number;
  /** Waiting attempts for one address. */
  queuedPerAddress: number;
  /** Waiting attempts for the whole router. */
  queuedTotal: number;
}

export const DEFAULT_AUTH_GATE: AuthGateLimits = { perAddress: 4, total: 32, queuedPerAddress: 16, queuedTotal: 1000 };

/** The attempt was not admitted; `message` says why (logged by the gate, rate-limited). */
export class AuthGateRefusal extends Error {}

const refusals = new LogBudget('authentication not attempted', 20, 'warn');

interface Waiter {
  start(): void;
  refuse(reason: string): void;
}

export class AuthenticationGate {
  private readonly running = new Map<string, number>();
  /** Waiting attempts per address; Map order is the round-robin order. */
  private readonly waiting = new Map<string, Waiter[]>();
  private runningTotal = 0;
  private waitingTotal = 0;

  constructor(private readonly limits: AuthGateLimits = DEFAULT_AUTH_GATE) {}

  /**
   * Runs `job` (one authenticator call) for a client at `address` when a slot is free. `wanted` is
   * asked again when the turn comes: a client that left meanwhile costs no authenticator call.
   */
  run<T>(address: string, job: () => Promise<T>, wanted: () => boolean = () => true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          if (!wanted()) return reject(new AuthGateRefusal('the client left while waiting'));
          this.begin(address);
          Promise.resolve().then(job).then(resolve, reject).finally(() => this.end(address));
        },
        refuse: (reason) => {
          refusals.write(() => `authentication not attempted: ${address}: ${reason}`);
          reject(new AuthGateRefusal(reason));
        },
      };
      if (this.waiting.size === 0 && this.hasSlot(address)) return waiter.start();
      this.enqueue(address, waiter);
      this.dispatch();
    });
  }

  /** In flight and waiting, for tests and the log. */
  stats(): { running: number; waiting: number } {
    return { running: this.runningTotal, waiting: this.waitingTotal };
  }

  private hasSlot(address: string): boolean {
    return this.runningTotal < this.limits.total && (this.running.get(address) ?? 0) < this.limits.perAddress;
  }

  private enqueue(address: string, waiter: Waiter): void {
    const queue = this.waiting.get(address);
    const queued = queue?.length ?? 0;
    if (queue && queued >= this.limits.queuedPerAddress) {
      this.waitingTotal--;
      queue.shift()!.refuse(`given up for newer attempts: ${queued} authentications from this address are waiting`);
    } else if (this.waitingTotal >= this.limits.queuedTotal && !this.dropFromLongest(queued)) {
      return waiter.refuse(`${this.waitingTotal} authentications are already waiting`);
    }
    if (queue) queue.push(waiter);
    else this.waiting.set(address, [waiter]);
    this.waitingTotal++;
  }

  /** The total queue is full: the address with the most waiters gives up its oldest, if it has more than `than` + 1. */
  private dropFromLongest(than: number): boolean {
    let longest: Waiter[] | undefined;
    for (const q of this.waiting.values()) if (!longest || q.length > longest.length) longest = q;
    if (!longest || longest.length <= than + 1) return false;
    this.waitingTotal--;
    longest.shift()!.refuse('too many authentications are waiting; this address had more than its share');
    return true;
  }

  private begin(address: string): void {
    this.running.set(address, (this.running.get(address) ?? 0) + 1);
    this.runningTotal++;
  }

  private end(address: string): void {
    const n = (this.running.get(address) ?? 1) - 1;
    if (n === 0) this.running.delete(address);
    else this.running.set(address, n);
    this.runningTotal--;
    this.dispatch();
  }

  /** Starts waiters while slots are free, one per address per round. */
  private dispatch(): void {
    let progressed = true;
    while (progressed && this.waitingTotal > 0 && this.runningTotal < this.limits.total) {
      progressed = false;
      for (const [address, queue] of this.waiting) {
        if (this.runningTotal >= this.limits.total) break;
        if (!this.hasSlot(address)) continue;
        const waiter = queue.pop()!; // the newest first
        this.waitingTotal--;
        // Served: the address goes to the back of the round.
        this.waiting.delete(address);
        if (queue.length > 0) this.waiting.set(address, queue);
        waiter.start();
        progressed = true;
        break; // Map order changed: restart from the front
      }
    }
  }
}
