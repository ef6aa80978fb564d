// Incoming bytes of a stream socket, kept as the chunks they arrived in until a whole frame is
// there: no Buffer.concat per chunk (quadratic for a large frame arriving in many pieces), and a
// frame inside one chunk comes out as a view of it, uncopied.

export class ByteQueue {
  private chunks: Buffer[] = [];
  /** Index of the first chunk still holding unread bytes (an index, not shift(): O(1) per chunk). */
  private head = 0;
  /** Unread bytes in total. */
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The big-endian 32-bit word at the front (a frame or handshake header). Needs length ≥ 4. */
  peekUInt32(): number {
    const first = this.chunks[this.head]!;
    if (first.length >= 4) return first.readUInt32BE(0);
    // Split across chunks: rare, assemble byte by byte.
    let word = 0;
    let chunk = this.head;
    let offset = 0;
    for (let i = 0; i < 4; i++) {
      while (offset >= this.chunks[chunk]!.length) {
        chunk++;
        offset = 0;
      }
      word = word * 256 + this.chunks[chunk]![offset++]!;
    }
    return word;
  }

  /** Removes and returns the first `n` bytes (n ≤ length): a view when they sit in one chunk, else one copy. */
  take(n: number): Buffer {
    if (n === 0) return EMPTY;
    this.length -= n;
    const first = this.chunks[this.head]!;
    if (first.length > n) {
      this.chunks[this.head] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) {
      this.dropHead();
      return first;
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const chunk = this.chunks[this.head]!;
      const want = n - offset;
      if (chunk.length <= want) {
        chunk.copy(out, offset);
        offset += chunk.length;
        this.dropHead();
      } else {
        chunk.copy(out, offset, 0, want);
        this.chunks[this.head] = chunk.subarray(want);
        offset += want;
      }
    }
    return out;
  }

  /** Discards the first `n` bytes (n ≤ length). */
  skip(n: number): void {
    this.length -= n;
    while (n > 0) {
      const chunk = this.chunks[this.head]!;
      if (chunk.length <= n) {
        n -= chunk.length;
        this.dropHead();
      } else {
        this.chunks[this.head] = chunk.subarray(n);
        n = 0;
      }
    }
  }

  private dropHead(): void {
    this.chunks[this.head++] = EMPTY; // let the chunk be collected now
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
      // Many small chunks consumed while a large frame is still arriving: compact once in a while.
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY = Buffer.alloc(0);
