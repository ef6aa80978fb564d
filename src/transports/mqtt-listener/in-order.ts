// Steps that must keep their order while some of them wait (a `dynamic` payload codec's call):
// while nothing waits, a step runs at once, as if this were not here; once one waits, the steps
// after it wait their turn. MQTT keeps the order of one client's messages [MQTT-4.6.0-6]. What
// waits is bounded by the caller (`waiting`): a slow codec must not let a client fill the router.

export class InOrder {
  /** Settles once every step so far is done; undefined while nothing waits. */
  private tail: Promise<void> | undefined;
  /** Steps run or waiting that have not finished, and the bytes they hold (as their callers count them). */
  waiting = 0;
  bytes = 0;

  get busy(): boolean {
    return this.tail !== undefined;
  }

  /** Runs `step` (holding `bytes`) now, or after the steps that wait. A step handles its own errors. */
  run(step: () => void | Promise<void>, bytes = 0): void {
    if (this.tail === undefined) {
      const result = step();
      if (result instanceof Promise) this.follow(result, bytes);
      return;
    }
    this.follow(this.tail.then(step), bytes);
  }

  private follow(step: Promise<void>, bytes: number): void {
    this.waiting++;
    this.bytes += bytes;
    const tail: Promise<void> = step.catch(() => {}).then(() => {
      this.waiting--;
      this.bytes -= bytes;
      if (this.tail === tail) this.tail = undefined;
    });
    this.tail = tail;
  }
}
