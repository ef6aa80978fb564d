// The MQTT listener's keep-alive clock (src/transports/mqtt-listener/keep-alive.ts): one timer for
// all connections, closing each one silent for more than 1.5 times its keep-alive.
import { describe, it, expect, vi, afterEach } from 'vitest';
import * as clock from '../../../../src/transports/mqtt-listener/keep-alive.js';

/** A connection as the clock sees it: reads stamp it, expiry is recorded with the fake time. */
function connection(seconds: number) {
  const c = {
    lastRead: 0,
    keepAliveTicks: clock.allowedTicks(seconds),
    expiredAt: undefined as number | undefined,
    keepAliveExpired() { c.expiredAt = Date.now(); clock.unwatch(c); },
    read() { c.lastRead = clock.now(); },
  };
  return c;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('MQTT keep-alive', () => {
  it('[MQTT-3.1.2-24] a connection silent for 1.5 × its keep-alive is closed, never before and less than 0.5 s after; one that reads stays', () => {
    vi.useFakeTimers();
    const start = Date.now();
    const silent = connection(2);
    const reading = connection(2);
    const other = connection(10);
    for (const c of [silent, reading, other]) clock.watch(c);
    vi.advanceTimersByTime(1100); // the connections' reads come at any moment between ticks
    reading.read();
    silent.read();
    for (let t = 0; t < 20; t++) {
      vi.advanceTimersByTime(700);
      reading.read(); // well within its 3 s
    }
    // silent: last read at 1.1 s, 3 s allowed; other: never read since its watch began at 0, 15 s allowed.
    expect(silent.expiredAt! - start).toBeGreaterThanOrEqual(1100 + 3000);
    expect(silent.expiredAt! - start).toBeLessThan(1100 + 3500);
    vi.advanceTimersByTime(1000); // 16.1 s
    expect(other.expiredAt! - start).toBeGreaterThanOrEqual(15_000);
    expect(other.expiredAt! - start).toBeLessThan(15_500);
    expect(reading.expiredAt).toBeUndefined();
    clock.unwatch(reading);
  });
});
