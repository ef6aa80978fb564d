// A child process (a Junction started with the CLI, a client) whose output the test reads.
import type { ChildProcess } from 'node:child_process';

/** A child process whose output (stdout and stderr) the test reads. */
export class Child {
  output = '';
  readonly exited: Promise<number | null>;
  constructor(readonly process: ChildProcess) {
    process.stdout?.on('data', (d) => (this.output += d));
    process.stderr?.on('data', (d) => (this.output += d));
    this.exited = new Promise((resolve) => process.once('exit', (code) => resolve(code)));
  }

  async waitFor(re: RegExp, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!re.test(this.output) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (!re.test(this.output)) throw new Error(`no ${re} within ${ms} ms:\n${this.output}`);
  }

  stop(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
  }
}
