// Keep-alive for a connection: ping every `interval` ms; a peer that does not answer within
// `timeout` ms is dropped, so a board whose cable was pulled frees its registrations.

export class KeepAlive {
  private intervalTimer: NodeJS.Timeout | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly interval: number,
    private readonly timeout: number,
    private readonly ping: () => void,
    private readonly onDead: () => void,
  ) {}

  start(): void {
    if (this.interval <= 0) return;
    this.intervalTimer = setInterval(() => {
      if (this.timeoutTimer) return; // still waiting for the previous pong
      this.ping();
      if (this.timeout > 0) this.timeoutTimer = setTimeout(() => this.onDead(), this.timeout);
    }, this.interval);
    this.intervalTimer.unref();
  }

  /** Any pong (or, for RawSocket, any traffic we choose to count) proves the peer alive. */
  alive(): void {
    if (this.timeoutTimer) {
      clearTimeout(this.timeoutTimer);
      this.timeoutTimer = undefined;
    }
  }

  stop(): void {
    if (this.intervalTimer) clearInterval(this.intervalTimer);
    if (this.timeoutTimer) clearTimeout(this.timeoutTimer);
    this.intervalTimer = this.timeoutTimer = undefined;
  }
}
