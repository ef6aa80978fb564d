// A bridge's store-and-forward buffer: its QoS 1/2 messages toward the broker, from the WAMP event that made them until the
// broker acknowledged them: in order, bounded (`max_buffered`; past it new messages are refused and
// the bridge counts them), optionally kept in a BufferFile. The bridge sends from the front, with at
// most `window` unacknowledged; when the connection is lost, the unacknowledged ones go back to
// being unsent and are sent again, first, on the next connection (at-least-once).

import { BufferFile, type OutgoingMessage, type StoredMessage } from './buffer-file.js';

interface Entry extends StoredMessage {
  state: 'queued' | 'sent' | 'done';
}

export class ForwardBuffer {
  /** Entries from `head` on are waiting (queued or sent); `done` ones are dropped from the front. */
  private entries: Entry[] = [];
  private head = 0;
  /** Index of the first entry that may be queued (every entry before it is sent or done). */
  private cursor = 0;
  private readonly bySeq = new Map<number, Entry>();
  private nextSeq = 1;
  private sent = 0;
  private readonly file: BufferFile | undefined;

  /** `limit` may be changed by a reload; a lower one refuses new messages until the buffer drains below it. */
  constructor(public limit: number, filePath?: string) {
    if (filePath !== undefined) {
      const { file, waiting } = BufferFile.open(filePath);
      this.file = file;
      for (const m of waiting) this.insert({ ...m, state: 'queued' });
      if (waiting.length > 0) this.nextSeq = waiting[waiting.length - 1]!.seq + 1;
    }
  }

  /** Messages not yet acknowledged (queued or in flight). */
  get size(): number {
    return this.bySeq.size;
  }

  get inflight(): number {
    return this.sent;
  }

  /** Appends a message; false (nothing kept) when the buffer is full. */
  push(message: OutgoingMessage): boolean {
    if (this.bySeq.size >= this.limit) return false;
    const entry: Entry = { ...message, seq: this.nextSeq++, state: 'queued' };
    this.insert(entry);
    this.file?.added(entry);
    return true;
  }

  /** The oldest unsent message, now marked in flight; undefined when none. */
  next(): StoredMessage | undefined {
    while (this.cursor < this.entries.length && this.entries[this.cursor]!.state !== 'queued') this.cursor++;
    const entry = this.entries[this.cursor];
    if (!entry) return undefined;
    entry.state = 'sent';
    this.sent++;
    this.cursor++;
    return entry;
  }

  /** The broker acknowledged (or refused for good) message `seq`: it leaves the buffer. */
  done(seq: number): void {
    const entry = this.bySeq.get(seq);
    if (!entry || entry.state === 'done') return;
    if (entry.state === 'sent') this.sent--;
    entry.state = 'done';
    this.bySeq.delete(seq);
    while (this.head < this.entries.length && this.entries[this.head]!.state === 'done') this.head++;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.cursor -= this.head;
      this.head = 0;
    }
    this.file?.delivered(seq, () => this.waiting());
  }

  /** The connection is gone: everything in flight is unsent again, to go first next time. */
  requeueInflight(): void {
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.state === 'sent') e.state = 'queued';
    }
    this.sent = 0;
    this.cursor = this.head;
  }

  /** Writes the waiting messages to the buffer file (compacted) and closes it. */
  close(): void {
    this.file?.close(this.waiting());
  }

  private waiting(): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (let i = this.head; i < this.entries.length; i++) {
      const { state: _state, ...m } = this.entries[i]!;
      if (_state !== 'done') out.push(m);
    }
    return out;
  }

  private insert(entry: Entry): void {
    this.entries.push(entry);
    this.bySeq.set(entry.seq, entry);
  }
}
