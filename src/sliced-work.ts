// Work that one message may ask for but that must not hold the event loop (an MQTT SUBSCRIBE of a
// thousand filters, the retained events of a wildcard subscription over thousands of topics): done
// step by step, at most `sliceMs` of it per event-loop turn across all requesters (DEFERRED_WORK),
// so other clients' I/O is served in between. Jobs run in the order they came (a client's second
// SUBSCRIBE after its first); a job that fits in what is left of the turn's slice runs at once, as
// if it were not sliced at all.

interface Job {
  next: number;
  readonly count: number;
  readonly step: (index: number) => void;
  /** True once nobody wants the rest (the client is gone). */
  readonly cancelled: () => boolean;
  /** Called once the job is done or cancelled. */
  readonly finished: (() => void) | undefined;
}

export class SlicedWork {
  private readonly jobs: Job[] = [];
  /** performance.now() when this turn's slice began; -1 while none has begun. */
  private turnStart = -1;
  private readonly nextTurn = () => {
    this.turnStart = -1;
    while (this.jobs.length > 0 && this.work(this.jobs[0]!)) this.jobs.shift()!.finished?.();
  };

  constructor(private readonly sliceMs: number) {}

  /**
   * Calls `step(0)` … `step(count - 1)` in order, now or over the next turns, then `finished`.
   * True when it is all done already.
   */
  run(count: number, step: (index: number) => void, cancelled: () => boolean, finished?: () => void): boolean {
    const job: Job = { next: 0, count, step, cancelled, finished };
    if (this.jobs.length === 0 && this.work(job)) {
      finished?.();
      return true;
    }
    this.jobs.push(job);
    return false;
  }

  /** Runs the job while the turn's slice lasts: true when it is done. */
  private work(job: Job): boolean {
    if (this.turnStart < 0) {
      this.turnStart = performance.now();
      // The slice ends with the turn; the next one (after the poll phase's I/O) goes on with the rest.
      setImmediate(this.nextTurn);
    }
    while (job.next < job.count) {
      if (job.cancelled()) return true;
      if (performance.now() - this.turnStart >= this.sliceMs) return false;
      job.step(job.next++);
    }
    return true;
  }
}

/** The router's one queue of such work: 10 ms per event-loop turn in all. */
export const DEFERRED_WORK = new SlicedWork(10);
