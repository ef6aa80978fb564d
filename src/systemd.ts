// The systemd service protocol (sd_notify), when Junction runs as a Type=notify unit: READY=1 once
// every listener is up, WATCHDOG=1 at half the unit's WatchdogSec while the event loop runs,
// RELOADING=1/READY=1 around a SIGHUP reload, STOPPING=1 on shutdown. Node has no datagram sockets
// on Unix paths, so the messages go through Debian's `systemd-notify`, which waits until systemd
// has taken each one (so its exit races nothing); the unit sets NotifyAccess=all for that reason.
// Outside systemd (no NOTIFY_SOCKET) all of this does nothing.

import { createRequire } from 'node:module';
import { log } from './log.js';

const requireLazily = createRequire(import.meta.url);

export class SystemdNotifier {
  private readonly enabled = Boolean(process.env['NOTIFY_SOCKET']);
  private watchdog: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();

  ready(status: string): void {
    this.send(['--ready', `--status=${status}`]);
    const usec = Number(process.env['WATCHDOG_USEC']);
    const pid = process.env['WATCHDOG_PID'];
    // READY comes again after each reload: the watchdog is started once.
    if (this.watchdog || !this.enabled || !Number.isFinite(usec) || usec <= 0 || (pid !== undefined && Number(pid) !== process.pid)) return;
    // A blocked event loop skips these pings, and systemd restarts the service: that is the point.
    this.watchdog = setInterval(() => this.send(['WATCHDOG=1']), Math.max(1000, usec / 2000));
    this.watchdog.unref();
  }

  /** Before a reload; systemd wants the CLOCK_MONOTONIC time with it (what process.hrtime reads on Linux). */
  reloading(): void {
    this.send(['RELOADING=1', `MONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`]);
  }

  /** Resolves once STOPPING=1 (and everything queued before it) was handed to systemd: exiting
   *  earlier could lose it behind a slow systemd-notify (seen on a loaded machine). */
  stopping(): Promise<void> {
    clearInterval(this.watchdog);
    this.send(['STOPPING=1']);
    return this.sending;
  }

  /** One systemd-notify at a time, so the messages arrive in order (RELOADING=1 before its READY=1). */
  private send(args: string[]): void {
    if (!this.enabled) return;
    this.sending = this.sending.then(() => new Promise<void>((resolve) => {
      // Loaded here, not at the top: outside systemd child_process would only cost start-up time.
      const { execFile } = requireLazily('node:child_process') as typeof import('node:child_process');
      execFile('systemd-notify', args, { timeout: 10_000 }, (err) => {
        if (err) log.warn(`systemd-notify ${args.join(' ')} failed: ${err.message}`);
        resolve();
      });
    }));
  }
}
