// A registration: one procedure URI with its match and invocation policies and its callees in
// registration order. The calls waiting for a free callee are the dealer's (src/router/dealer.ts).

import type { MatchPolicy } from '../wamp/uri.js';
import type { SessionView } from './session-view.js';
import type { InvokePolicy } from '../wamp/client-messages.js';

/** One session serving one registration, with its own concurrency budget. */
export class Callee {
  /** Invocations sent and not yet answered (including ones the caller gave up on). */
  inflight = 0;
  constructor(
    readonly session: SessionView,
    readonly registration: Registration,
    /** Most invocations at once; Infinity when the callee set no limit (junction.registration.set_concurrency changes it). */
    public concurrency: number,
    readonly discloseCaller: boolean,
    readonly forwardTimeout: boolean,
  ) {}

  /** A slot under its concurrency, and a peer that reads what it is sent (a backlogged callee is busy). */
  get hasFreeSlot(): boolean {
    return this.inflight < this.concurrency && !this.session.sendBacklogged;
  }
}

export class Registration {
  readonly created = new Date().toISOString();
  readonly callees: Callee[] = [];
  private cursor = 0;
  /** Meta-event state: saturation and a full queue are reported once per episode. */
  saturated = false;
  queueFullReported = false;
  /** The last session that served it, for the on_delete meta event. */
  lastSessionId = 0;
  /** Queued calls wait for a callee to read its backlog: nothing else would wake them (see Dealer). */
  backlogTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: number,
    readonly uri: string,
    readonly match: MatchPolicy,
    public invoke: InvokePolicy,
  ) {}

  calleeOf(session: SessionView): Callee | undefined {
    return this.callees.find((c) => c.session === session);
  }

  /**
   * The callee that should take the next call, or undefined when the policy's candidates are all busy.
   * single/first/last consider only their one chosen callee (a busy primary does not spill over to
   * standbys); roundrobin and random choose among callees with a free slot.
   */
  pick(): Callee | undefined {
    const callees = this.callees;
    const n = callees.length;
    if (n === 0) return undefined;
    switch (this.invoke) {
      case 'single':
      case 'first': {
        const c = callees[0]!;
        return c.hasFreeSlot ? c : undefined;
      }
      case 'last': {
        const c = callees[n - 1]!;
        return c.hasFreeSlot ? c : undefined;
      }
      case 'roundrobin': {
        for (let i = 0; i < n; i++) {
          const index = (this.cursor + i) % n;
          const c = callees[index]!;
          if (c.hasFreeSlot) {
            this.cursor = (index + 1) % n;
            return c;
          }
        }
        return undefined;
      }
      case 'random': {
        let free = 0;
        for (const c of callees) if (c.hasFreeSlot) free++;
        if (free === 0) return undefined;
        let k = Math.floor(Math.random() * free);
        for (const c of callees) {
          if (c.hasFreeSlot && k-- === 0) return c;
        }
        return undefined;
      }
    }
  }

  removeCallee(callee: Callee): void {
    const index = this.callees.indexOf(callee);
    if (index < 0) return;
    this.callees.splice(index, 1);
    // Keep the round-robin cursor on the callee that was next.
    if (index < this.cursor) this.cursor--;
    if (this.cursor >= this.callees.length) this.cursor = 0;
  }
}
