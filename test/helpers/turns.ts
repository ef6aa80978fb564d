// Counts what happens per event-loop turn, for tests of how much work the router does in one turn:
// a setImmediate per turn numbers the turns, and `seen()` tallies a thing against the current one.

export class TurnTally {
  private turn = 0;
  private counting = true;
  private readonly perTurn = new Map<number, number>();

  constructor() {
    const count = () => {
      this.turn++;
      if (this.counting) setImmediate(count);
    };
    setImmediate(count);
  }

  /** One more thing seen in the current turn. */
  seen(): void {
    this.perTurn.set(this.turn, (this.perTurn.get(this.turn) ?? 0) + 1);
  }

  /** Stops counting turns. */
  stop(): void {
    this.counting = false;
  }

  /** The most things seen in any one turn. */
  get busiest(): number {
    return Math.max(0, ...this.perTurn.values());
  }
}
