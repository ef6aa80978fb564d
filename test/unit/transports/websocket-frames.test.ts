// The frame-header reader behind max_frame_size: frame boundaries followed across chunks of any
// size, 7-, 16- and 64-bit payload lengths, masked or not, the first oversized frame reported.

import { describe, it, expect } from 'vitest';
import { FrameLimit } from '../../../src/transports/websocket-frames.js';

/** A client frame (masked) with a payload of `length` bytes. */
function frame(length: number, masked = true): Buffer {
  const ext = length < 126 ? Buffer.alloc(0) : length < 65536 ? Buffer.alloc(2) : Buffer.alloc(8);
  if (length >= 126 && length < 65536) ext.writeUInt16BE(length);
  if (length >= 65536) ext.writeBigUInt64BE(BigInt(length));
  const second = (masked ? 0x80 : 0) | (length < 126 ? length : length < 65536 ? 126 : 127);
  return Buffer.concat([Buffer.from([0x81, second]), ext, masked ? Buffer.alloc(4) : Buffer.alloc(0), Buffer.alloc(length)]);
}

/** Feeds `bytes` in chunks of `size`; the first oversized length reported. */
function feed(limit: number, bytes: Buffer, size: number): number | undefined {
  const reader = new FrameLimit(limit);
  for (let i = 0; i < bytes.length; i += size) {
    const found = reader.feed(bytes.subarray(i, i + size));
    if (found !== undefined) return found;
  }
  return undefined;
}

describe('FrameLimit', () => {
  it('passes frames up to the limit and reports the first longer one, whatever the chunking', () => {
    const stream = Buffer.concat([frame(10), frame(125), frame(300), frame(1000), frame(1001), frame(5)]);
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      expect(feed(1000, stream, size), `chunks of ${size}`).toBe(1001);
      expect(feed(1001, stream, size), `chunks of ${size}`).toBeUndefined();
    }
  });

  it('reads 64-bit lengths and unmasked frames', () => {
    expect(feed(70_000, Buffer.concat([frame(65_536, false), frame(70_001)]), 4096)).toBe(70_001);
    // Only the header of a huge frame is needed to refuse it.
    const header = Buffer.from([0x82, 0x7f, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(new FrameLimit(1 << 20).feed(header)).toBe(2 ** 32);
  });
});
