// Bytes of unfinished incoming messages, all connections together: a message the router has only
// part of is held in memory until the rest arrives, and many peers sending the start of a large
// message each could otherwise fill the board. Each network connection reports what it holds after
// every chunk it reads; past the total (`max_incoming_bytes`), the connections holding the most are
// dropped, unauthenticated ones first, until the total is under it again. A message that arrives
// whole in one read is never held, so a bystander sending ordinary messages is not affected.

import { DEFAULT_MAX_INCOMING_BYTES, type ListenerConfig } from '../config/types.js';
import { log } from '../log.js';

/** At most one warning line per this many ms (a flood drops many connections). */
const LOG_INTERVAL_MS = 10_000;
/** What one read off a socket may add beyond a message (Node reads at most 64 KiB at a time). */
export const ONE_READ = 128 * 1024;

/** A connection as the budget sees it. */
export interface IncomingHolder {
  /** Bytes of unfinished messages it holds, as last reported (written by the budget only). */
  heldBytes: number;
  /** True until its session is established: such holders are dropped first. */
  readonly unauthenticated: boolean;
  /** For the log line, e.g. 'rawsocket tcp4:127.0.0.1:5000'. */
  readonly description: string;
  /** Ends the connection now: the budget needs its bytes back. */
  dropForBudget(): void;
}

export class IncomingBudget {
  /** Bytes held by all holders together. */
  total = 0;
  private readonly holders = new Set<IncomingHolder>();
  private droppedSinceLog = 0;
  private lastLog = -Infinity;

  constructor(readonly limit: number = DEFAULT_MAX_INCOMING_BYTES) {}

  /**
   * The budget for these listeners: `max_incoming_bytes`, but never less than one largest message
   * (its `max_message_size`, with room for a frame header and one read), or it could never arrive.
   */
  static for(listeners: ListenerConfig[], configured = DEFAULT_MAX_INCOMING_BYTES): IncomingBudget {
    let largest = 0;
    for (const l of listeners) {
      const services = [...Object.values(l.websocket), ...(l.rawsocket ? [l.rawsocket] : [])];
      for (const s of services) largest = Math.max(largest, s.options.maxMessageSize);
      for (const lp of Object.values(l.longpoll ?? {})) largest = Math.max(largest, lp.maxMessageSize);
      for (const m of [l.mqtt, ...Object.values(l.mqttWebsocket ?? {}).map((p) => p.service)]) if (m) largest = Math.max(largest, m.maxMessageSize);
    }
    return new IncomingBudget(Math.max(configured, largest + ONE_READ));
  }

  /** `holder` now holds `bytes` (0 once nothing of an unfinished message is left, or it closed). */
  hold(holder: IncomingHolder, bytes: number): void {
    const before = holder.heldBytes;
    if (bytes === before) return;
    holder.heldBytes = bytes;
    this.total += bytes - before;
    if (bytes === 0) {
      this.holders.delete(holder);
      return;
    }
    if (before === 0) this.holders.add(holder);
    if (this.total > this.limit) this.shed();
  }

  /** Over the limit: drop the largest holders, unauthenticated ones first, until under it. */
  private shed(): void {
    while (this.total > this.limit) {
      let victim: IncomingHolder | undefined;
      for (const h of this.holders) {
        if (victim === undefined || (h.unauthenticated && !victim.unauthenticated) ||
          (h.unauthenticated === victim.unauthenticated && h.heldBytes > victim.heldBytes)) victim = h;
      }
      if (victim === undefined) return;
      this.hold(victim, 0);
      this.report(victim);
      victim.dropForBudget();
    }
  }

  private report(victim: IncomingHolder): void {
    this.droppedSinceLog++;
    const now = Date.now();
    if (now - this.lastLog < LOG_INTERVAL_MS) return;
    log.warn(`${victim.description}: dropped${victim.unauthenticated ? ' before authentication' : ''}: unfinished incoming messages ` +
      `hold more than max_incoming_bytes (${this.limit}) in all; ${this.droppedSinceLog} connection(s) dropped for it since the last such line`);
    this.lastLog = now;
    this.droppedSinceLog = 0;
  }
}
