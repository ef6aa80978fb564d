// WAMP IDs are integers in [1, 2^53].

import { randomBytes } from 'node:crypto';

export const MAX_ID = 2 ** 53;

export function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_ID;
}

/** Global-scope IDs (publications): uniformly random; Math.random is enough and cheap on the hot path. */
export function randomId(): number {
  return Math.floor(Math.random() * MAX_ID) + 1;
}

/** Session IDs are also bearer-visible handles; draw them from the CSPRNG. */
export function secureRandomId(): number {
  const b = randomBytes(7);
  // 53 random bits: 5 bits of the first byte and 48 of the remaining six.
  const high = b[0]! & 0x1f;
  const low = b.readUIntBE(1, 6);
  return high * 2 ** 48 + low + 1;
}

/** Router- and session-scope IDs: sequential, wrapping back to 1 after 2^53. */
export class IdSequence {
  private last = 0;
  next(): number {
    this.last = this.last >= MAX_ID ? 1 : this.last + 1;
    return this.last;
  }
  /** The highest ID handed out so far (0 if none). */
  get current(): number {
    return this.last;
  }
}
