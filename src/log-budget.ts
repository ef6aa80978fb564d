// A budget of log lines per time window, for lines a client can cause at will (refused requests,
// refused logins, session joins and leaves): past the budget lines are counted, not written, and one summary line
// at the end of the window says how many were left out. A flood of clients cannot flood the journal.

import { log } from './log.js';

export class LogBudget {
  private windowStart = 0;
  private lines = 0;
  private suppressed = 0;
  private summaryTimer: NodeJS.Timeout | undefined;

  /** `label` starts the summary line, as it starts the lines it counts (e.g. 'refused'). */
  constructor(
    private readonly label: string,
    private readonly linesPerWindow: number,
    private readonly level: 'info' | 'warn' = 'info',
    private readonly windowMs = 10_000,
  ) {}

  /** Writes the line at the budget's level if the window allows; `line` is only called then. */
  write(line: () => string): void {
    const now = Date.now();
    if (now - this.windowStart >= this.windowMs) {
      this.flush();
      this.windowStart = now;
      this.lines = 0;
    }
    if (++this.lines <= this.linesPerWindow) {
      log[this.level](line());
      return;
    }
    if (this.suppressed++ === 0) {
      // The summary comes at the end of this window even if nothing follows the burst.
      this.summaryTimer = setTimeout(() => this.flush(), this.windowStart + this.windowMs - now);
      this.summaryTimer.unref();
    }
  }

  private flush(): void {
    clearTimeout(this.summaryTimer);
    this.summaryTimer = undefined;
    if (this.suppressed === 0) return;
    const window = `${this.windowMs / 1000} s`;
    log[this.level](`${this.label}: ${this.suppressed} more line(s) in the last ${window} not logged (at most ${this.linesPerWindow} per ${window})`);
    this.suppressed = 0;
  }
}
