// A serial device without hardware: speaks the board side of the serial line protocol
// (firmware-bridges/PROTOCOL.md) like firmware-bridges/uno/uno.ino does, on any byte stream — a
// serialport on one end of a socat pty pair, a real serial cable to the gateway, or an in-memory
// stream in tests. `junction simulate-device --port PATH` runs one from the command line.
//
// It publishes random-walk readings, offers led.set/led.get (and optionally `slow`, answering
// after a delay), heartbeats when quiet, answers `who` with `hello`, and starts with a newline and
// a `hello` as a board does after a reset.

import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { LineReader, MAX_JSON_FROM_BOARD, MAX_JSON_TO_BOARD, encodeLine, PROTOCOL_VERSION } from './protocol.js';

export interface SimulatedTopic {
  name: string;
  /** Range of the random walk; default 0..1023 (an AVR's 10-bit ADC). */
  min?: number;
  max?: number;
  /** First value; default the middle of the range. */
  start?: number;
  /** Largest change per reading; default 2% of the range. */
  step?: number;
  /** Whole numbers (default) or this many decimals. */
  decimals?: number;
}

export interface DeviceSimulatorOptions {
  /** Device id, 1-32 of [A-Za-z0-9_-]; default "sim-1". */
  id?: string;
  firmware?: string;
  /** Default: one topic "a0" like the Uno firmware. */
  topics?: SimulatedTopic[];
  /** How often each topic publishes, ms; default 1000. 0: never. */
  publishMs?: number;
  /** Heartbeat period announced in hello and kept, ms; default 1000. */
  heartbeatMs?: number;
  /** If set, offers the procedure `slow`, which answers with its argument after this many ms. */
  slowMs?: number;
  /** Calls served at once (announced as `conc`); calls beyond it get `err` `busy`. Default 1. */
  concurrency?: number;
  /** Random source for the walks (tests pass a seeded one). */
  random?: () => number;
}

export interface SimulatorStats {
  received: number;
  sent: number;
  calls: number;
}

type Json = null | boolean | number | string;

/**
 * Events: `call` (procedure, argument), `led` (on: boolean), `line` (each message sent, decoded),
 * `error` (a write failed), `close`.
 */
export class DeviceSimulator extends EventEmitter {
  readonly id: string;
  readonly stats: SimulatorStats = { received: 0, sent: 0, calls: 0 };
  private readonly options: Required<Omit<DeviceSimulatorOptions, 'slowMs' | 'topics'>> & { slowMs?: number; topics: SimulatedTopic[] };
  private readonly values = new Map<string, number>();
  private stream: Duplex | undefined;
  private reader: LineReader | undefined;
  private publishTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly slowTimers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private lastSent = 0;
  private ledOn = false;

  constructor(options: DeviceSimulatorOptions = {}) {
    super();
    const id = options.id ?? 'sim-1';
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new Error(`device id must be 1-32 characters of A-Z a-z 0-9 _ -, got ${JSON.stringify(id)}`);
    this.id = id;
    this.options = {
      id,
      firmware: options.firmware ?? 'sim-1.0.0',
      topics: options.topics ?? [{ name: 'a0' }],
      publishMs: options.publishMs ?? 1000,
      heartbeatMs: options.heartbeatMs ?? 1000,
      slowMs: options.slowMs,
      concurrency: options.concurrency ?? 1,
      random: options.random ?? Math.random,
    };
    for (const topic of this.options.topics) {
      const min = topic.min ?? 0;
      const max = topic.max ?? 1023;
      if (!(max > min)) throw new Error(`topic ${topic.name}: max must be above min`);
      this.values.set(topic.name, topic.start ?? (min + max) / 2);
    }
    // hello must fit in one line: checked now rather than on the first `who`.
    encodeLine(this.hello(), MAX_JSON_FROM_BOARD);
  }

  get procedures(): string[] {
    return this.options.slowMs === undefined ? ['led.set', 'led.get'] : ['led.set', 'led.get', 'slow'];
  }

  get led(): boolean {
    return this.ledOn;
  }

  /** Starts speaking on `stream` (already open): a boot newline and hello, then readings. */
  attach(stream: Duplex): this {
    if (this.stream) throw new Error('already attached');
    this.stream = stream;
    // The board side: unchecked lines accepted (a person typing), lines as long as a board's buffer.
    this.reader = new LineReader((message) => this.receive(message), true, MAX_JSON_TO_BOARD);
    stream.on('data', (chunk: Buffer) => this.reader?.push(chunk));
    stream.on('error', (err) => this.emit('error', err));
    stream.once('close', () => this.detach());
    this.boot();
    return this;
  }

  /** Opens a serial port (a pty of a socat pair, a USB serial adapter) and attaches to it. */
  static async open(path: string, options: DeviceSimulatorOptions & { baudRate?: number } = {}): Promise<DeviceSimulator> {
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({ path, baudRate: options.baudRate ?? 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return new DeviceSimulator(options).attach(port);
  }

  /** What a reset does: forgets calls in flight, LED off, a newline (ends a broken line), hello. */
  reset(): void {
    this.clearSlow();
    this.ledOn = false;
    this.boot();
  }

  /** Stops and closes the stream (for a serial port: the device goes away). */
  async close(): Promise<void> {
    const stream = this.stream;
    this.detach();
    if (!stream || stream.destroyed) return;
    await new Promise<void>((resolve) => {
      stream.once('close', () => resolve());
      const closable = stream as Duplex & { close?: (cb?: (err?: Error | null) => void) => void; isOpen?: boolean };
      if (typeof closable.close === 'function' && closable.isOpen !== false) closable.close(() => resolve());
      else stream.destroy();
    });
  }

  private boot(): void {
    this.clearTimers();
    this.stream?.write('\n');
    this.send(this.hello());
    if (this.options.publishMs > 0) this.publishTimer = setInterval(() => this.publishAll(), this.options.publishMs);
    const hb = this.options.heartbeatMs;
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastSent >= hb - 5) this.send({ t: 'hb' });
    }, Math.max(10, Math.floor(hb / 4)));
  }

  private detach(): void {
    if (!this.stream) return;
    this.clearTimers();
    this.clearSlow();
    this.stream = undefined;
    this.reader = undefined;
    this.emit('close');
  }

  private clearTimers(): void {
    clearInterval(this.publishTimer);
    clearInterval(this.heartbeatTimer);
    this.publishTimer = this.heartbeatTimer = undefined;
  }

  private clearSlow(): void {
    for (const timer of this.slowTimers) clearTimeout(timer);
    this.slowTimers.clear();
    this.inFlight = 0;
  }

  private hello(): Record<string, unknown> {
    const hello: Record<string, unknown> = {
      t: 'hello',
      id: this.id,
      fw: this.options.firmware,
      v: PROTOCOL_VERSION,
      pub: this.options.topics.map((topic) => topic.name),
      proc: this.procedures,
      hb: this.options.heartbeatMs,
    };
    if (this.options.concurrency !== 1) hello['conc'] = this.options.concurrency;
    return hello;
  }

  private send(message: Record<string, unknown>): void {
    const stream = this.stream;
    if (!stream || stream.destroyed || !stream.writable) return;
    stream.write(encodeLine(message, MAX_JSON_FROM_BOARD));
    this.lastSent = Date.now();
    this.stats.sent++;
    this.emit('line', message);
  }

  private publishAll(): void {
    for (const topic of this.options.topics) {
      const min = topic.min ?? 0;
      const max = topic.max ?? 1023;
      const step = topic.step ?? (max - min) / 50;
      let value = (this.values.get(topic.name) ?? min) + (this.options.random() * 2 - 1) * step;
      value = Math.min(max, Math.max(min, value));
      this.values.set(topic.name, value);
      const decimals = topic.decimals ?? 0;
      this.send({ t: 'pub', k: topic.name, v: Number(value.toFixed(decimals)) });
    }
  }

  private receive(message: Record<string, unknown>): void {
    this.stats.received++;
    if (message['t'] === 'who') this.send(this.hello());
    else if (message['t'] === 'call') this.call(message);
    // any other t: ignored, as the protocol says
  }

  private call(message: Record<string, unknown>): void {
    const { i, p, a } = message;
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 1 || i > 65535) return this.send({ t: 'err', i: 0, e: 'bad_request' });
    if (typeof p !== 'string') return this.send({ t: 'err', i, e: 'bad_request' });
    if (a !== undefined && a !== null && typeof a === 'object') return this.send({ t: 'err', i, e: 'bad_argument' });
    if (!this.procedures.includes(p)) return this.send({ t: 'err', i, e: 'no_such_procedure' });
    if (this.inFlight >= this.options.concurrency) return this.send({ t: 'err', i, e: 'busy' });
    this.stats.calls++;
    this.emit('call', p, a as Json | undefined);
    switch (p) {
      case 'led.set': {
        const on = a === 1 || a === true ? true : a === 0 || a === false ? false : undefined;
        if (on === undefined) return this.send({ t: 'err', i, e: 'bad_argument', m: 'led.set takes 0, 1, true or false' });
        if (on !== this.ledOn) {
          this.ledOn = on;
          this.emit('led', on);
        }
        return this.send({ t: 'res', i, v: on ? 1 : 0 });
      }
      case 'led.get':
        return this.send({ t: 'res', i, v: this.ledOn ? 1 : 0 });
      case 'slow': {
        // The answer echoes the argument: it must still fit in one line.
        if (a !== undefined && JSON.stringify(a).length > 80) return this.send({ t: 'err', i, e: 'bad_argument', m: 'argument too long' });
        this.inFlight++;
        const timer = setTimeout(() => {
          this.slowTimers.delete(timer);
          this.inFlight--;
          this.send(a === undefined ? { t: 'res', i } : { t: 'res', i, v: a as Json });
        }, this.options.slowMs);
        this.slowTimers.add(timer);
        return;
      }
    }
  }
}
