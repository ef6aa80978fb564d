// The serial line protocol, version 1 (firmware-bridges/PROTOCOL.md): `<json>*<crc8>\n` lines.
// LineReader splits a byte stream into checked messages (dropping overlong, broken and unchecked
// lines, and counting them); encodeLine writes one.

export const PROTOCOL_VERSION = 1;
/** Longest `<json>` part of a line to a board (its line buffer is small). */
export const MAX_JSON_TO_BOARD = 120;
/** Longest `<json>` part of a line from a board (it prints as it goes, without a buffer). */
export const MAX_JSON_FROM_BOARD = 250;

const NAME = /^[A-Za-z0-9_-]{1,32}(\.[A-Za-z0-9_-]{1,32})*$/;

/** CRC-8/SMBUS: polynomial 0x07, initial 0, no reflection, no final XOR. */
export function crc8(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

export function encodeLine(message: object, maxJson = MAX_JSON_TO_BOARD): Buffer {
  const json = JSON.stringify(message);
  if (json.length > maxJson || !/^[\x20-\x7e]*$/.test(json)) throw new Error(`message too long or not printable ASCII for the serial protocol: ${json.slice(0, 60)}`);
  const body = Buffer.from(json, 'latin1');
  return Buffer.concat([body, Buffer.from(`*${crc8(body).toString(16).padStart(2, '0')}\n`, 'latin1')]);
}

export interface LineStats {
  lines: number;
  /** Longer than a line may be: dropped up to the next newline. */
  overlong: number;
  /** Not printable, no or a wrong checksum, not JSON, not an object with a string `t`. */
  invalid: number;
}

/** Splits incoming bytes into messages. Bounded: holds at most one line's worth of bytes. */
export class LineReader {
  readonly stats: LineStats = { lines: 0, overlong: 0, invalid: 0 };
  private readonly buffer: Buffer;
  private length = 0;
  private skipping = false;

  /** `maxJson`: the longest `<json>` accepted (the gateway reads a board's lines: MAX_JSON_FROM_BOARD). */
  constructor(private readonly onMessage: (message: Record<string, unknown>) => void, private readonly allowUnchecked = false, private readonly maxJson = MAX_JSON_FROM_BOARD) {
    // `<json>` + `*` + 2 hex digits + `\r`.
    this.buffer = Buffer.alloc(maxJson + 4);
  }

  push(chunk: Uint8Array): void {
    for (const byte of chunk) {
      if (byte === 0x0a) {
        if (this.skipping) this.skipping = false;
        else this.line(this.buffer.subarray(0, this.length));
        this.length = 0;
        continue;
      }
      if (this.skipping) continue;
      if (this.length === this.buffer.length) {
        this.stats.overlong++;
        this.skipping = true;
        this.length = 0;
        continue;
      }
      this.buffer[this.length++] = byte;
    }
  }

  private line(raw: Buffer): void {
    let line = raw;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    if (line.length === 0) return; // a bare newline (a board's boot marker): nothing to count
    this.stats.lines++;
    const message = this.decode(line);
    if (message) this.onMessage(message);
    else this.stats.invalid++;
  }

  private decode(line: Buffer): Record<string, unknown> | undefined {
    for (const byte of line) if (byte < 0x20 || byte > 0x7e) return undefined;
    let json = line;
    const star = line.lastIndexOf(0x2a);
    if (star >= 0 && star === line.length - 3) {
      const given = Number.parseInt(line.subarray(star + 1).toString('latin1'), 16);
      json = line.subarray(0, star);
      if (!Number.isInteger(given) || given !== crc8(json)) return undefined;
    } else if (!this.allowUnchecked) {
      return undefined;
    }
    if (json.length > this.maxJson) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(json.toString('latin1'));
    } catch {
      return undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { t?: unknown }).t !== 'string') return undefined;
    return value as Record<string, unknown>;
  }
}

/** What a board says about itself in `hello`, checked. */
export interface Hello {
  id: string;
  firmware: string;
  version: number;
  publishes: string[];
  procedures: string[];
  heartbeatMs: number;
  concurrency: number;
}

/** A checked `hello`, or the reason it is unusable. */
export function parseHello(m: Record<string, unknown>): Hello | string {
  const { id, fw, v, pub, proc, hb, conc } = m;
  if (typeof id !== 'string' || !NAME.test(id) || id.includes('.')) return 'id must be 1-32 characters of A-Z a-z 0-9 _ -';
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) return 'v (protocol version) must be a positive integer';
  if (v > PROTOCOL_VERSION) return `protocol version ${v} is newer than this gateway's (${PROTOCOL_VERSION})`;
  const names = (x: unknown, what: string): string[] | string => {
    if (x === undefined) return [];
    if (!Array.isArray(x) || x.some((n) => typeof n !== 'string' || !NAME.test(n))) return `${what} must be a list of names`;
    return x as string[];
  };
  const publishes = names(pub, 'pub');
  if (typeof publishes === 'string') return publishes;
  const procedures = names(proc, 'proc');
  if (typeof procedures === 'string') return procedures;
  const heartbeatMs = hb === undefined ? 1000 : hb;
  if (typeof heartbeatMs !== 'number' || !Number.isInteger(heartbeatMs) || heartbeatMs < 100 || heartbeatMs > 600_000) return 'hb must be a whole number of ms from 100 to 600000';
  const concurrency = conc === undefined ? 1 : conc;
  if (typeof concurrency !== 'number' || !Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) return 'conc must be 1 to 64';
  return { id, firmware: typeof fw === 'string' ? fw : '', version: v, publishes, procedures, heartbeatMs, concurrency };
}
