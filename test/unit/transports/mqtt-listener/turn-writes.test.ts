// The MQTT connections' writes held until the end of the event-loop turn
// (src/transports/mqtt-listener/turn-writes.ts): one cork and one uncork per socket per turn, for
// all the connections written to in it, and each told once its writes left.
import { describe, it, expect } from 'vitest';
import { PassThrough } from 'node:stream';
import { holdWrites, type HeldWrites } from '../../../../src/transports/mqtt-listener/turn-writes.js';

/** A connection over a stream that records how its writes reach it (a writev per uncork). */
function connection() {
  const stream = new PassThrough();
  const writes: number[] = [];
  stream._writev = (chunks, done) => { writes.push(chunks.length); done(); };
  const c: HeldWrites & { released: number; writes: number[] } = {
    socket: stream, corked: false, released: 0, writes,
    uncorked() { c.released++; },
  };
  return c;
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('MQTT writes held per event-loop turn', () => {
  it('the packets written to each connection in one turn leave in one write; the next turn holds again', async () => {
    const a = connection();
    const b = connection();
    for (let i = 0; i < 3; i++) {
      holdWrites(a);
      a.socket.write(Buffer.from([i]));
      holdWrites(b);
      b.socket.write(Buffer.from([i]));
    }
    expect([a.writes, b.writes]).toEqual([[], []]); // held in this turn
    await nextTurn();
    expect([a.writes, b.writes, a.released, b.released, a.corked, b.corked]).toEqual([[3], [3], 1, 1, false, false]);
    holdWrites(a);
    a.socket.write(Buffer.from([9]));
    a.socket.write(Buffer.from([10]));
    await nextTurn();
    expect([a.writes, a.released, b.released]).toEqual([[3, 2], 2, 1]);
  });
});
