// A link buffer's file (`buffer.file`): the buffered events, and the subscriptions the link holds
// locally for the remote side's subscribers (so that a board restarted while its hub is away goes
// on buffering what the hub wants). Read once at start, rewritten whole (a temporary file renamed
// over it, so a power cut leaves the old or the new one) only after a change, and then at most once
// a second, less often the bigger it is: on an SD card, a link that is down for a day with busy
// topics must not write gigabytes. With nothing to keep there is no file.

import { readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import type { EventBuffer } from './event-buffer.js';
import { getSerializer } from '../serializers/index.js';
import type { WampMessage } from '../wamp/message.js';
import { log } from '../log.js';

/** Shortest time between two writes. */
const MIN_WRITE_INTERVAL_MS = 1000;
/** Bytes a second the file may be rewritten with on average (a 1 MiB buffer: every 16 s). */
const WRITE_BYTES_PER_SECOND = 64 * 1024;
/** Marks a buffer file (and its format version). */
const FILE_TAG = 'junction.rlink.buffer';
const FILE_VERSION = 1;

/** A subscription as the file keeps it: URI and match policy. */
export type SavedSubscription = [uri: string, match: string];

export class BufferFile {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private nextDelay = MIN_WRITE_INTERVAL_MS;
  private lastWriteError: string | undefined;

  constructor(private readonly path: string, private readonly buffer: EventBuffer, private readonly subscriptions: () => SavedSubscription[] = () => []) {}

  /** Fills the buffer from the file and returns the subscriptions it names; a file that cannot be read is reported and left out. */
  load(): SavedSubscription[] {
    let data: Buffer;
    try {
      data = readFileSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`rlink buffer ${this.path}: cannot read: ${(err as Error).message}; starting empty`);
      return [];
    }
    try {
      const decoded = codec().decode(data) as unknown[];
      if (!Array.isArray(decoded) || decoded[0] !== FILE_TAG || decoded[1] !== FILE_VERSION || !Array.isArray(decoded[2]) || !Array.isArray(decoded[3])) {
        throw new Error('not a router link buffer file');
      }
      const subscriptions = decoded[3] as unknown[];
      if (!subscriptions.every((s) => Array.isArray(s) && typeof s[0] === 'string' && typeof s[1] === 'string')) throw new Error('a subscription is not [uri, match]');
      this.buffer.restore(decoded[2]);
      return subscriptions as SavedSubscription[];
    } catch (err) {
      log.warn(`rlink buffer ${this.path}: not a buffer file (${(err as Error).message}); starting empty`);
      this.buffer.take();
      return [];
    }
  }

  /** The buffer or the subscriptions changed: write soon (changes until then are written together). */
  changed(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, this.nextDelay);
    this.timer.unref();
  }

  /** Writes a pending change now (the link stops). */
  async close(): Promise<void> {
    if (this.timer === undefined) return this.writing;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.write();
  }

  private async write(): Promise<void> {
    await this.writing;
    const entries = this.buffer.encodedEntries();
    const subscriptions = this.subscriptions();
    const data = entries.length === 0 && subscriptions.length === 0 ? undefined : codec().encode([FILE_TAG, FILE_VERSION, entries, subscriptions] as unknown as WampMessage);
    this.nextDelay = Math.max(MIN_WRITE_INTERVAL_MS, Math.round(((data?.length ?? 0) / WRITE_BYTES_PER_SECOND) * 1000));
    this.writing = (data === undefined
      ? rm(this.path, { force: true })
      : writeFile(`${this.path}.tmp`, data).then(() => rename(`${this.path}.tmp`, this.path)))
      .then(() => { this.lastWriteError = undefined; }, (err: Error) => {
        // Said once, not at every write while the directory stays missing or read-only.
        if (err.message !== this.lastWriteError) log.warn(`rlink buffer ${this.path}: cannot write: ${err.message}`);
        this.lastWriteError = err.message;
      });
    await this.writing;
  }
}

const codec = () => getSerializer('msgpack');
