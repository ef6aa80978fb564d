// A link buffer's file (`buffer.file`): read once at start, rewritten whole (a temporary file
// renamed over it, so a power cut leaves the old or the new one) only after the buffer changed, and
// then at most once a second, less often the bigger it is: on an SD card, a link that is down for a
// day with busy topics must not write gigabytes. An empty buffer has no file.

import { readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import type { EventBuffer } from './event-buffer.js';
import { log } from '../log.js';

/** Shortest time between two writes. */
const MIN_WRITE_INTERVAL_MS = 1000;
/** Bytes a second the file may be rewritten with on average (a 1 MiB buffer: every 16 s). */
const WRITE_BYTES_PER_SECOND = 64 * 1024;

export class BufferFile {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private nextDelay = MIN_WRITE_INTERVAL_MS;

  constructor(private readonly path: string, private readonly buffer: EventBuffer) {}

  /** Fills the buffer from the file; a file that cannot be read is reported and left out. */
  load(): void {
    let data: Buffer;
    try {
      data = readFileSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`rlink buffer ${this.path}: cannot read: ${(err as Error).message}; starting empty`);
      return;
    }
    try {
      this.buffer.restore(data);
    } catch (err) {
      log.warn(`rlink buffer ${this.path}: not a buffer file (${(err as Error).message}); starting empty`);
      this.buffer.take();
    }
  }

  /** The buffer changed: write it soon (changes until then are written together). */
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
    const data = this.buffer.size === 0 ? undefined : this.buffer.encode();
    this.nextDelay = Math.max(MIN_WRITE_INTERVAL_MS, Math.round(((data?.length ?? 0) / WRITE_BYTES_PER_SECOND) * 1000));
    this.writing = (data === undefined
      ? rm(this.path, { force: true })
      : writeFile(`${this.path}.tmp`, data).then(() => rename(`${this.path}.tmp`, this.path)))
      .catch((err: Error) => log.warn(`rlink buffer ${this.path}: cannot write: ${err.message}`));
    await this.writing;
  }
}
