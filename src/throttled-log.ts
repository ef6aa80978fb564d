// Log lines a client can cause at will (denied requests, refused logins) must not flood the log:
// at most `perWindow` lines per window, then one line saying how many were not shown.

import { log } from './log.js';

const WINDOW_MS = 10_000;

export class ThrottledLog {
  private windowStart = 0;
  private lines = 0;
  private suppressed = 0;

  /** `what` starts the summary line, e.g. 'refused' → "refused: 12 more in the last 10 s not shown". */
  constructor(
    private readonly what: string,
    private readonly level: 'info' | 'warn' = 'info',
    private readonly perWindow = 20,
  ) {}

  line(message: string): void {
    const now = Date.now();
    if (now - this.windowStart >= WINDOW_MS) {
      if (this.suppressed > 0) log[this.level](`${this.what}: ${this.suppressed} more in the last ${WINDOW_MS / 1000} s not shown`);
      this.windowStart = now;
      this.lines = 0;
      this.suppressed = 0;
    }
    if (++this.lines > this.perWindow) {
      this.suppressed++;
      return;
    }
    log[this.level](message);
  }
}
