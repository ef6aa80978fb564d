// The file that keeps a bridge's undelivered QoS 1/2 messages across a restart (`buffer_file`).
// Append-only JSON lines, one per change:
//   {"s":7,"t":"cmd/x","p":"<base64>","q":1,"r":true,"x":{...}}   message 7 waits for the broker
//   {"d":7}                                                        message 7 was delivered (or refused)
// Opening the file reads it back (a torn last line from a crash is skipped) and rewrites it with
// only the messages still waiting; it is rewritten the same way whenever delivered lines outweigh
// the waiting ones. Lines are written synchronously (they survive the process dying; not fsynced
// one by one, so a power cut may lose the last seconds; rewrites and close are fsynced).

import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface OutgoingProperties {
  responseTopic?: string;
  correlationData?: Buffer;
  contentType?: string;
  userProperties?: Record<string, string | string[]>;
}

/** A message for the broker that must not be lost (QoS 1 or 2). */
export interface OutgoingMessage {
  topic: string;
  payload: Buffer;
  qos: 1 | 2;
  retain: boolean;
  properties?: OutgoingProperties;
}

export interface StoredMessage extends OutgoingMessage {
  seq: number;
}

/** Rewrite when this many delivered lines have piled up, and they outnumber the waiting messages. */
const COMPACT_AFTER = 1000;

export class BufferFile {
  private fd: number;
  private deliveredLines = 0;

  private constructor(readonly path: string, fd: number) {
    this.fd = fd;
  }

  /** Opens (creating directories as needed) and returns the messages still waiting, in order. */
  static open(path: string): { file: BufferFile; waiting: StoredMessage[] } {
    mkdirSync(dirname(path), { recursive: true });
    const waiting = readWaiting(path);
    writeCompacted(path, waiting);
    return { file: new BufferFile(path, openSync(path, 'a')), waiting };
  }

  added(m: StoredMessage): void {
    writeSync(this.fd, encode(m) + '\n');
  }

  delivered(seq: number, stillWaiting: () => StoredMessage[]): void {
    writeSync(this.fd, `{"d":${seq}}\n`);
    this.deliveredLines++;
    if (this.deliveredLines >= COMPACT_AFTER) {
      const live = stillWaiting();
      if (this.deliveredLines > live.length) this.compact(live);
    }
  }

  /** Rewrites the file with only `live` (write a new file, fsync, rename over the old one). */
  compact(live: StoredMessage[]): void {
    closeSync(this.fd);
    writeCompacted(this.path, live);
    this.fd = openSync(this.path, 'a');
    this.deliveredLines = 0;
  }

  close(live: StoredMessage[]): void {
    this.compact(live);
    closeSync(this.fd);
    this.fd = -1;
  }
}

function encode(m: StoredMessage): string {
  const line: Record<string, unknown> = { s: m.seq, t: m.topic, p: m.payload.toString('base64'), q: m.qos };
  if (m.retain) line['r'] = true;
  if (m.properties) {
    const { correlationData, ...rest } = m.properties;
    line['x'] = correlationData ? { ...rest, correlationData: correlationData.toString('base64') } : rest;
  }
  return JSON.stringify(line);
}

function decode(line: Record<string, unknown>): StoredMessage | undefined {
  const { s, t, p, q, r, x } = line;
  if (typeof s !== 'number' || typeof t !== 'string' || typeof p !== 'string' || (q !== 1 && q !== 2)) return undefined;
  const m: StoredMessage = { seq: s, topic: t, payload: Buffer.from(p, 'base64'), qos: q, retain: r === true };
  if (x && typeof x === 'object') {
    const { correlationData, ...rest } = x as Record<string, unknown>;
    m.properties = rest as OutgoingProperties;
    if (typeof correlationData === 'string') m.properties.correlationData = Buffer.from(correlationData, 'base64');
  }
  return m;
}

function readWaiting(path: string): StoredMessage[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const bySeq = new Map<number, StoredMessage>();
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      continue; // a line torn by a crash
    }
    if (typeof line['d'] === 'number') {
      bySeq.delete(line['d']);
      continue;
    }
    const m = decode(line);
    if (m) bySeq.set(m.seq, m);
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function writeCompacted(path: string, live: StoredMessage[]): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    if (live.length > 0) writeSync(fd, live.map(encode).join('\n') + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
