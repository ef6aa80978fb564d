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
  turn = (turn + 1) & 0x3fffffff; // stays a small integer, stored unboxed in the connections' fields
  counting = false;
};

function currentTurn(): number {
  if (!counting) {
    counting = true;
    setImmediate(nextTurn);
  }
  return turn;
}

/** What a connection keeps of its share: the turn it last took one in, and what it took in that turn. */
export interface TurnCounted {
  shareTurn: number;
  shareMessages: number;
  shareBytes: number;
}

/** Counts a message of `size` bytes against `holder`'s share; false once this turn's share was already used up. */
export function takeShare(holder: TurnCounted, size: number): boolean {
  const now = currentTurn();
  if (now !== holder.shareTurn) {
    holder.shareTurn = now;
    holder.shareMessages = 0;
    holder.shareBytes = 0;
  }
  if (holder.shareMessages >= MESSAGES_PER_TURN || holder.shareBytes >= BYTES_PER_TURN) return false;
  holder.shareMessages++;
  holder.shareBytes += size;
  return true;
}

/** One connection's share of the current turn, as an object of its own (the MQTT connection keeps the fields itself). */
export class TurnShare implements TurnCounted {
  shareTurn = -1;
  shareMessages = 0;
  shareBytes = 0;

  take(size: number): boolean {
    return takeShare(this, size);
  }
}
