// Steps that must keep their order while some of them wait (a `dynamic` payload codec's call):
// while nothing waits, a step runs at once, as if this were not here; once one waits, the steps
// after it wait their turn. MQTT keeps the order of one client's messages [MQTT-4.6.0-6].

export class InOrder {
  /** Settles once every step so far is done; undefined while nothing waits. */
  private tail: Promise<void> | undefined;

  get busy(): boolean {
    return this.tail !== undefined;
  }

  /** Runs `step` now, or after the steps that wait. A step handles its own errors. */
  run(step: () => void | Promise<void>): void {
    if (this.tail === undefined) {
      const result = step();
      if (result instanceof Promise) this.follow(result);
      return;
    }
    this.follow(this.tail.then(step));
  }

  private follow(step: Promise<void>): void {
    const tail: Promise<void> = step.catch(() => {}).then(() => {
      if (this.tail === tail) this.tail = undefined;
    });
    this.tail = tail;
  }
}
