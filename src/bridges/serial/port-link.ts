// One serial port and the board on it. The link opens the port, asks the board who it is, and once
// the board has said hello, joins the realm as the board's own session (authid = device id):
// readings become retained events under `<prefix>.<device>.<topic>`, and each of its procedures is
// registered as `<prefix>.<procedure>` with invoke "first" (hot standby) and the board's
// concurrency. The board is gone when the port closes, or — because a hang-up is not always
// reported (serialport's read loop can miss it) — when it stays silent for 3 heartbeats or its
// device path disappears. Then its session ends (its callers get errors at once) and the port is
// reopened with backoff.

import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';
import type { SessionFactory } from '../../core-boundary.js';
import type { SerialBridgeConfig } from '../../config/types.js';
import { ClientSession, Result, WampError } from '../../client/client-session.js';
import { LineReader, encodeLine, parseHello, type Hello } from './protocol.js';
import { log } from '../../log.js';

export type LinkState = 'closed' | 'opening' | 'waiting-hello' | 'ready';

export interface LinkStatus {
  path: string;
  state: LinkState;
  device?: { id: string; firmware: string; publishes: string[]; procedures: string[]; concurrency: number; heartbeat: number };
  since: string;
  lines: number;
  invalid: number;
  overlong: number;
  calls: number;
  /** Why the port or its board last failed; absent once a board is ready on it again. */
  lastError?: string;
}

interface PendingCall {
  resolve(result: Result): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** How often `who` is repeated until the board says hello. */
const WHO_INTERVAL_MS = 1000;

export class PortLink {
  private port: SerialPort | undefined;
  private reader: LineReader | undefined;
  private session: ClientSession | undefined;
  private hello: Hello | undefined;
  private state: LinkState = 'closed';
  private since = new Date();
  private lastHeard = 0;
  private backoff: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private whoTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly pending = new Map<number, PendingCall>();
  private nextCall = 1;
  private calls = 0;
  private lastError: string | undefined;
  private stopped = false;
  private readonly totals = { lines: 0, invalid: 0, overlong: 0 };

  constructor(
    readonly path: string,
    readonly baudRate: number,
    private readonly config: SerialBridgeConfig,
    private readonly factory: SessionFactory,
    private readonly changed: (link: PortLink) => void,
  ) {
    this.backoff = config.reopenMin;
  }

  start(): void {
    this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.disconnect('the gateway is stopping');
  }

  status(): LinkStatus {
    const stats = this.reader?.stats;
    const status: LinkStatus = {
      path: this.path, state: this.state, since: this.since.toISOString(), calls: this.calls,
      lines: this.totals.lines + (stats?.lines ?? 0), invalid: this.totals.invalid + (stats?.invalid ?? 0), overlong: this.totals.overlong + (stats?.overlong ?? 0),
    };
    const h = this.hello;
    if (h) status.device = { id: h.id, firmware: h.firmware, publishes: h.publishes, procedures: h.procedures, concurrency: h.concurrency, heartbeat: h.heartbeatMs };
    if (this.lastError) status.lastError = this.lastError;
    return status;
  }

  // ---- the port ----

  private open(): void {
    if (this.stopped) return;
    this.setState('opening');
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false });
    this.port = port;
    this.reader = new LineReader((m) => this.onMessage(m));
    port.on('data', (chunk: Buffer) => {
      this.lastHeard = Date.now();
      this.reader?.push(chunk);
    });
    port.on('close', () => {
      if (this.port === port) void this.disconnect('the port closed (unplugged?)');
    });
    port.on('error', (err: Error) => {
      if (this.port === port) void this.disconnect(`port error: ${err.message}`);
    });
    port.open((err) => {
      if (this.port !== port) return;
      if (err) {
        this.lastError = err.message;
        this.port = undefined;
        this.setState('closed');
        return this.retry();
      }
      this.backoff = this.config.reopenMin;
      this.lastHeard = Date.now();
      this.setState('waiting-hello');
      // Opening flushed whatever the board said before: ask it again.
      this.write({ t: 'who' });
      this.whoTimer = setInterval(() => this.write({ t: 'who' }), WHO_INTERVAL_MS);
      this.watchdog = setInterval(() => this.checkAlive(), 250);
    });
  }

  private retry(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, this.config.reopenMax);
  }

  private write(message: object): 'sent' | 'closed' | 'too-long' {
    const port = this.port;
    if (!port?.isOpen) return 'closed';
    let line: Buffer;
    try {
      line = encodeLine(message);
    } catch {
      return 'too-long';
    }
    port.write(line);
    return 'sent';
  }

  /** Silent for 3 heartbeats, or the device path is gone: the board is unplugged or hung. */
  private checkAlive(): void {
    if (!this.port) return;
    if (!existsSync(this.path)) return void this.disconnect('the device path disappeared');
    const hb = this.hello?.heartbeatMs;
    if (hb !== undefined && Date.now() - this.lastHeard > 3 * hb) void this.disconnect(`no heartbeat for ${3 * hb} ms`);
  }

  /** Ends the board's session and closes the port; then reopens with backoff. */
  private async disconnect(reason: string): Promise<void> {
    const port = this.port;
    const session = this.session;
    if (!port && !session) return;
    this.port = undefined;
    this.session = undefined;
    clearInterval(this.whoTimer);
    clearInterval(this.watchdog);
    const stats = this.reader?.stats;
    if (stats) {
      this.totals.lines += stats.lines;
      this.totals.invalid += stats.invalid;
      this.totals.overlong += stats.overlong;
    }
    this.reader = undefined;
    const who = this.hello ? `board '${this.hello.id}'` : 'port';
    if (this.state !== 'opening') log.info(`serial ${this.config.id} ${this.path}: ${who} gone: ${reason}`);
    this.lastError = reason;
    this.hello = undefined;
    this.setState('closed');
    for (const call of this.pending.values()) {
      clearTimeout(call.timer);
      call.reject(new WampError('wamp.error.canceled', [`the device was disconnected: ${reason}`]));
    }
    this.pending.clear();
    if (port?.isOpen) port.close(() => {});
    // Leaving the realm answers every call routed to this board and frees its registrations, so
    // a standby board takes over at once.
    await session?.close().catch(() => {});
    this.retry();
  }

  // ---- the board ----

  private onMessage(m: Record<string, unknown>): void {
    switch (m['t']) {
      case 'hello': return void this.onHello(m);
      case 'pub': return this.onReading(m);
      case 'res': return this.onAnswer(m, true);
      case 'err': return this.onAnswer(m, false);
      default: return; // 'hb' and what a later protocol version may add: being heard is enough
    }
  }

  private async onHello(m: Record<string, unknown>): Promise<void> {
    const hello = parseHello(m);
    if (typeof hello === 'string') {
      log.warn(`serial ${this.config.id} ${this.path}: unusable hello: ${hello}`);
      this.lastError = `unusable hello: ${hello}`;
      return;
    }
    const previous = this.hello;
    if (previous && this.session && previous.id === hello.id && sameList(previous.procedures, hello.procedures)) {
      // The board restarted (a reset): what it was doing is lost, its registrations stay.
      this.hello = hello;
      for (const call of this.pending.values()) {
        clearTimeout(call.timer);
        call.reject(new WampError('wamp.error.canceled', ['the device restarted']));
      }
      this.pending.clear();
      return;
    }
    if (this.session) {
      const old = this.session;
      this.session = undefined;
      await old.close().catch(() => {});
    }
    clearInterval(this.whoTimer);
    this.hello = hello;
    try {
      const session = await ClientSession.connect(this.factory, { realm: this.config.realm, role: this.config.role, authid: hello.id, name: `serial:${this.path}` });
      if (this.hello !== hello || !this.port) {
        await session.close();
        return;
      }
      this.session = session;
      for (const procedure of hello.procedures) {
        await session.register(`${this.config.prefix}.${procedure}`, (args) => this.invoke(procedure, args), { invoke: 'first', concurrency: hello.concurrency });
      }
      // The error was about the port's previous board (or a failed open); this one is fine.
      this.lastError = undefined;
      this.setState('ready');
      log.info(`serial ${this.config.id} ${this.path}: board '${hello.id}' (firmware ${hello.firmware || '?'}) joined ${this.config.realm}: procedures [${hello.procedures.join(', ')}], readings [${hello.publishes.join(', ')}]`);
    } catch (err) {
      this.lastError = (err as Error).message;
      log.warn(`serial ${this.config.id} ${this.path}: board '${hello.id}' could not join: ${(err as Error).message}`);
      await this.disconnect(`could not join: ${(err as Error).message}`);
    }
  }

  private onReading(m: Record<string, unknown>): void {
    const session = this.session;
    const topic = m['k'];
    if (!session || !this.hello || typeof topic !== 'string' || !/^[A-Za-z0-9_.-]{1,32}$/.test(topic)) return;
    void session.publish(`${this.config.prefix}.${this.hello.id}.${topic}`, [m['v'] ?? null], {}, { retain: true });
  }

  private invoke(procedure: string, args: unknown[]): Promise<Result> {
    const arg = args[0];
    if (args.length > 1 || (arg !== undefined && arg !== null && typeof arg === 'object')) {
      return Promise.reject(new WampError('wamp.error.invalid_argument', ['a serial device takes at most one argument: a number, string, boolean or null']));
    }
    const id = this.callId();
    const message: Record<string, unknown> = { t: 'call', i: id, p: procedure };
    if (arg !== undefined) message['a'] = arg;
    return new Promise<Result>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new WampError('wamp.error.timeout', [`the device did not answer within ${this.config.callTimeout} ms`]));
      }, this.config.callTimeout);
      this.pending.set(id, { resolve, reject, timer });
      const written = this.write(message);
      if (written !== 'sent') {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(written === 'closed'
          ? new WampError('wamp.error.canceled', ['the device was disconnected'])
          : new WampError('wamp.error.invalid_argument', ['the call does not fit in a serial line (120 bytes)']));
        return;
      }
      this.calls++;
    });
  }

  private onAnswer(m: Record<string, unknown>, ok: boolean): void {
    const id = m['i'];
    const call = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (!call) return; // late (timed out) or unknown
    this.pending.delete(id as number);
    clearTimeout(call.timer);
    if (ok) {
      call.resolve(new Result(m['v'] === undefined ? [] : [m['v']]));
      return;
    }
    const name = typeof m['e'] === 'string' && /^[a-z0-9_]{1,40}$/.test(m['e']) ? m['e'] : 'error';
    const message = typeof m['m'] === 'string' ? [m['m']] : [];
    call.reject(new WampError(deviceErrorUri(this.config.prefix, name), message));
  }

  private callId(): number {
    for (;;) {
      const id = this.nextCall;
      this.nextCall = id === 65535 ? 1 : id + 1;
      if (!this.pending.has(id)) return id;
    }
  }

  private setState(state: LinkState): void {
    if (this.state === state) return;
    this.state = state;
    this.since = new Date();
    this.changed(this);
  }
}

/** The device's error name as a WAMP error URI: the spec's own where one fits. */
function deviceErrorUri(prefix: string, name: string): string {
  if (name === 'bad_argument') return 'wamp.error.invalid_argument';
  if (name === 'no_such_procedure') return 'wamp.error.no_such_procedure';
  return `${prefix}.error.${name}`;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
