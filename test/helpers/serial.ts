// Serial test fixtures: socat pty pairs (a "cable" with two ends) and a scripted board speaking the
// line protocol on one end, so the bridge can be tested on real ptys without hardware.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { LineReader, encodeLine, MAX_JSON_FROM_BOARD, MAX_JSON_TO_BOARD } from '../../src/bridges/serial/protocol.js';

/** A pty pair made by socat, with stable links: the gateway opens `gateway`, the board `board`. */
export class Cable {
  private socat: ChildProcess | undefined;
  constructor(readonly gateway: string, readonly board: string) {}

  async plug(): Promise<void> {
    const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.gateway}`, `pty,raw,echo=0,link=${this.board}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.socat = socat;
    let err = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`socat did not start: ${err}`)), 5000);
      socat.stderr!.on('data', (d) => {
        err += d;
        if (/starting data transfer loop/.test(err)) {
          clearTimeout(timer);
          resolve();
        }
      });
      socat.once('exit', () => reject(new Error(`socat exited: ${err}`)));
    });
  }

  /** SIGTERM: socat removes both links and both ends see a hang-up, as when a USB cable is pulled. */
  async unplug(): Promise<void> {
    const socat = this.socat;
    if (!socat || socat.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      socat.once('exit', () => resolve());
      socat.kill('SIGTERM');
    });
    const deadline = Date.now() + 2000;
    while ((existsSync(this.gateway) || existsSync(this.board)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }
}

export interface BoardOptions {
  id: string;
  procedures?: Record<string, (arg: unknown) => unknown | Promise<unknown>>;
  publishes?: string[];
  heartbeatMs?: number;
  concurrency?: number;
}

/** A scripted board on a pty: answers who with hello, calls with its procedures, sends heartbeats. */
export class Board {
  private port: SerialPort | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Calls received, in order, and how many ran at once at most. */
  readonly calls: Array<{ p: string; a: unknown }> = [];
  running = 0;
  maxRunning = 0;
  silent = false;

  constructor(private readonly path: string, private readonly options: BoardOptions) {}

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    this.port = port;
    const reader = new LineReader((m) => void this.onMessage(m), false, MAX_JSON_TO_BOARD);
    port.on('data', (chunk: Buffer) => reader.push(chunk));
    port.on('error', () => {});
    this.hello();
    this.heartbeat = setInterval(() => this.send({ t: 'hb' }), this.options.heartbeatMs ?? 200);
  }

  close(): void {
    clearInterval(this.heartbeat);
    if (this.port?.isOpen) this.port.close(() => {});
  }

  publish(k: string, v: unknown): void {
    this.send({ t: 'pub', k, v });
  }

  send(message: object): void {
    if (!this.silent && this.port?.isOpen) this.port.write(encodeLine(message, MAX_JSON_FROM_BOARD));
  }

  private hello(): void {
    const o = this.options;
    this.send({ t: 'hello', id: o.id, fw: 'test-1', v: 1, pub: o.publishes ?? [], proc: Object.keys(o.procedures ?? {}), hb: o.heartbeatMs ?? 200, conc: o.concurrency ?? 1 });
  }

  private async onMessage(m: Record<string, unknown>): Promise<void> {
    if (m['t'] === 'who') return this.hello();
    if (m['t'] !== 'call') return;
    const i = m['i'];
    const p = String(m['p']);
    this.calls.push({ p, a: m['a'] });
    const procedure = this.options.procedures?.[p];
    if (!procedure) return this.send({ t: 'err', i, e: 'no_such_procedure' });
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      const v = await procedure(m['a']);
      this.send(v === undefined ? { t: 'res', i } : { t: 'res', i, v });
    } catch (err) {
      this.send({ t: 'err', i, e: (err as Error).message });
    } finally {
      this.running--;
    }
  }
}
