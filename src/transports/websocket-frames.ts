// WebSocket frames as Crossbar's `max_frame_size` and `auto_fragment_size` see them. ws limits whole
// messages only (maxPayload), so the frame headers a client sends are read here, beside ws, to fail
// a connection at the header of a frame announced longer than the limit (close 1009, as Autobahn
// does) before its payload is read. Outgoing messages are cut into frames with ws's own `fin` option.

import type { WebSocket } from 'ws';

/** Follows the frame boundaries in the bytes a client sends (RFC 6455 5.2) and reports an oversized frame. */
export class FrameLimit {
  /** Payload bytes of the current frame still to come. */
  private payloadLeft = 0;
  /** The bytes of a frame header split across chunks (at most 14). */
  private header: number[] = [];

  constructor(private readonly limit: number) {}

  /** Reads a chunk: the announced length of the first frame over the limit, or undefined. */
  feed(chunk: Buffer): number | undefined {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.payloadLeft > 0) {
        const take = Math.min(this.payloadLeft, chunk.length - pos);
        this.payloadLeft -= take;
        pos += take;
        continue;
      }
      this.header.push(chunk[pos++]!);
      const length = this.headerDone();
      if (length === undefined) continue;
      this.header = [];
      if (length > this.limit) return length;
      this.payloadLeft = length;
    }
    return undefined;
  }

  /** The payload length once the header is complete, else undefined. */
  private headerDone(): number | undefined {
    const h = this.header;
    if (h.length < 2) return undefined;
    const short = h[1]! & 0x7f;
    const extended = short === 126 ? 2 : short === 127 ? 8 : 0;
    const mask = h[1]! & 0x80 ? 4 : 0;
    if (h.length < 2 + extended + mask) return undefined;
    if (extended === 0) return short;
    let length = 0;
    for (let i = 2; i < 2 + extended; i++) length = length * 256 + h[i]!;
    return length;
  }
}

/** Sends one message as frames of at most `size` payload bytes (the last one with FIN); `done` once the last is written. */
export function sendFragmented(ws: WebSocket, data: Buffer, binary: boolean, size: number, done?: (err?: Error) => void): void {
  for (let offset = 0; offset < data.length; offset += size) {
    const fin = offset + size >= data.length;
    ws.send(data.subarray(offset, offset + size), { binary, fin }, fin ? done : undefined);
  }
}
