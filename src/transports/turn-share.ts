// How much one connection may hand to the router in one event-loop turn. libuv reads a readable
// socket up to 32 times (64 KiB each) in one turn, and a connection's chunks each completing a
// large message would otherwise all be handled before any other connection or timer runs: three
// peers sending 256 KiB calls kept the loop busy for ~40 ms a turn. Past its share, a connection
// holds what it read and stops reading until a later turn.

/** Most messages a connection hands to the router in one turn (a 64 KiB chunk holds hundreds of small ones). */
export const MESSAGES_PER_TURN = 64;
/** Most message bytes a connection hands to the router in one turn (at least one message goes through). */
export const BYTES_PER_TURN = 256 * 1024;

/** The event loop's turn, counted by one setImmediate per turn in which anyone asked (none while idle). */
let turn = 0;
let counting = false;
const nextTurn = () => {
  turn++;
  counting = false;
};

function currentTurn(): number {
  if (!counting) {
    counting = true;
    setImmediate(nextTurn);
  }
  return turn;
}

/** One connection's share of the current turn. */
export class TurnShare {
  private turn = -1;
  private messages = 0;
  private bytes = 0;

  /** Counts a message of `size` bytes; false once this turn's share was already used up. */
  take(size: number): boolean {
    const now = currentTurn();
    if (now !== this.turn) {
      this.turn = now;
      this.messages = 0;
      this.bytes = 0;
    }
    if (this.messages >= MESSAGES_PER_TURN || this.bytes >= BYTES_PER_TURN) return false;
    this.messages++;
    this.bytes += size;
    return true;
  }
}
