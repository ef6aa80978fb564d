// The MQTT listener's timer for session expiry and will delay: Node's setTimeout fires after 1 ms
// when asked for more than 2^31-1 ms (24.8 days), and `session_expiry` may be up to 365 days.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { LongTimer } from '../../../src/transports/mqtt-listener/long-timer.js';

const DAY_MS = 86_400_000;

afterEach(() => {
  vi.useRealTimers();
});

describe('LongTimer', () => {
  it('fires once, after a delay longer than setTimeout can hold (30 days), not before', () => {
    vi.useFakeTimers();
    let fired = 0;
    new LongTimer(30 * DAY_MS, () => fired++);
    vi.advanceTimersByTime(30 * DAY_MS - 1);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(1);
    vi.advanceTimersByTime(365 * DAY_MS);
    expect(fired).toBe(1);
  });

  it('fires after a short delay as setTimeout does, and never once cancelled (also between its steps)', () => {
    vi.useFakeTimers();
    let fired = 0;
    new LongTimer(1000, () => fired++);
    vi.advanceTimersByTime(1000);
    expect(fired).toBe(1);
    const long = new LongTimer(60 * DAY_MS, () => fired++);
    vi.advanceTimersByTime(40 * DAY_MS);
    long.cancel();
    vi.advanceTimersByTime(60 * DAY_MS);
    expect(fired).toBe(1);
  });
});
