// A timer for the MQTT listener's long waits: a session expiry or a will delay may be days (up to
// `session_expiry`, at most 365 days), while Node's setTimeout fires after 1 ms when asked for more
// than 2^31-1 ms (about 24.8 days). Longer waits are run as a chain of shorter timers.

/** The longest delay setTimeout keeps as asked. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class LongTimer {
  private timer: NodeJS.Timeout | undefined;

  /** Calls `fire` once `ms` have passed, unless cancelled first; it does not keep the process alive. */
  constructor(ms: number, private readonly fire: () => void) {
    this.wait(Math.max(0, ms));
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private wait(left: number): void {
    const step = Math.min(left, MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      if (left > step) this.wait(left - step);
      else {
        this.timer = undefined;
        this.fire();
      }
    }, step);
    this.timer.unref?.();
  }
}
