// The real firmware (firmware-bridges/uno/uno.ino, built with Debian's gcc-avr and Arduino core)
// running in simavr as an ATmega328P, its UART0 on a pty (firmware-bridges/simavr/uno_pty.c), spoken
// to with the npm serialport package exactly as the gateway does; then the host-side device
// simulator (src/bridges/serial/simulator.ts) over a socat pty pair, and its CLI.
//
// Needs Debian's gcc-avr avr-libc binutils-avr arduino-core-avr libsimavr-dev socat (.ci/run
// installs them). Builds are cached in $TMPDIR/junction-firmware-<hash of the sources>.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SerialPort } from 'serialport';
import { LineReader, encodeLine, parseHello, type Hello } from '../../src/bridges/serial/protocol.js';
import { DeviceSimulator } from '../../src/bridges/serial/simulator.js';
import { Board, buildAll, sizeReport } from '../helpers/firmware.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FW = join(ROOT, 'firmware-bridges');
const CLI = join(ROOT, 'dist', 'bin', 'junction.cjs');

type Msg = Record<string, unknown>;


/** The host's end of a serial port: checked lines in, lines out, waiting for a message. */
class Host {
  readonly messages: Array<Msg & { at: number }> = [];
  readonly reader = new LineReader((m) => {
    this.messages.push({ ...m, at: Date.now() });
    for (const waiter of [...this.waiters]) waiter();
  });
  private readonly waiters = new Set<() => void>();
  closed: Promise<Error | null>;

  constructor(readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => this.reader.push(chunk));
    this.closed = new Promise((resolve) => port.once('close', (err: Error | null) => resolve(err)));
  }

  static async open(path: string): Promise<Host> {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return new Host(port);
  }

  /**
   * The first message from index `from` on that satisfies `pred`. The default wait is long because
   * simavr runs the board slower than real time when the host is busy (two boards beside a full
   * test run on two cores took over 3 s to boot); a message that comes returns at once.
   */
  wait(pred: (m: Msg) => boolean, ms = 10_000, from = 0): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.slice(from).find(pred);
        if (!found) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no matching message in ${ms} ms; got ${JSON.stringify(this.messages.slice(from).slice(-5))}`));
      }, ms);
      this.waiters.add(check);
      check();
    });
  }

  write(data: string | Buffer): void {
    this.port.write(data);
  }

  /** Sends a call and returns its `res` or `err`. */
  async call(i: number, p: string, a?: unknown): Promise<Msg> {
    const from = this.messages.length;
    this.write(encodeLine(a === undefined ? { t: 'call', i, p } : { t: 'call', i, p, a }));
    return this.wait((m) => (m['t'] === 'res' || m['t'] === 'err') && m['i'] === i, undefined, from);
  }

  async close(): Promise<void> {
    if (this.port.isOpen) await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;

describe('Uno firmware in simavr', () => {
  let built: ReturnType<typeof buildAll>;
  let dir: string;
  let board: Board | undefined;
  let host: Host | undefined;

  beforeAll(() => {
    const t0 = Date.now();
    built = buildAll();
    if (sizeReport) console.log(`firmware and harness built in ${Date.now() - t0} ms\n${sizeReport}`);
    dir = mkdtempSync(join(tmpdir(), 'junction-uno-'));
  }, 120_000);

  afterAll(async () => {
    await host?.close();
    board?.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('the firmware fits an ATmega328P with most of its RAM free; the device id is a build option', () => {
    const size = execFileSync('avr-size', ['--mcu=atmega328p', '-C', '--format=avr', built.elf], { encoding: 'utf8' });
    const program = Number(/Program:\s+(\d+)/.exec(size)![1]);
    const data = Number(/Data:\s+(\d+)/.exec(size)![1]);
    console.log(`firmware: program ${program} bytes of 32256, data (static RAM) ${data} bytes of 2048`);
    expect(program).toBeLessThan(32256 - 512); // 512 bytes for the Optiboot bootloader
    expect(data).toBeLessThan(512);
    expect(readFileSync(built.elf).includes('"id":"uno-1"')).toBe(true);
    expect(readFileSync(built.elf2).includes('"id":"uno-2"')).toBe(true);
    expect(readFileSync(built.elf2).includes('"id":"uno-1"')).toBe(false);
  });

  it('speaks protocol v1: hello, readings, led.set/led.get, errors, noise, a reset, unplug', async () => {
    const link = join(dir, 'usb-Arduino_Uno_sim-if00');
    board = Board.start(built.harness, built.elf, link, ['--adc0', '2500']);
    await board.line((l) => l.startsWith('LINK '));
    host = await Host.open(link);
    board.go();

    // boot: a newline, then hello without being asked
    const boot = parseHello(await host.wait((m) => m['t'] === 'hello'));
    expect(boot).toMatchObject({ id: 'uno-1', version: 1, publishes: ['a0'], procedures: ['led.set', 'led.get'], heartbeatMs: 1000 });

    const from = host.messages.length;
    host.write(encodeLine({ t: 'who' }));
    const hello = parseHello(await host.wait((m) => m['t'] === 'hello', 3000, from)) as Hello;
    expect(hello).toEqual({ id: 'uno-1', firmware: '1.0.0', version: 1, publishes: ['a0'], procedures: ['led.set', 'led.get'], heartbeatMs: 1000, concurrency: 1 });

    // a0 reads 2500 mV of 5000: half of the 10-bit range
    const reading = await host.wait((m) => m['t'] === 'pub', 2500);
    expect(reading['k']).toBe('a0');
    expect(reading['v']).toBeGreaterThanOrEqual(509);
    expect(reading['v']).toBeLessThanOrEqual(513);

    // the LED: pin 13 really changes (the harness watches PB5)
    expect(await host.call(1, 'led.set', 1)).toMatchObject({ t: 'res', i: 1, v: 1 });
    await board.line((l) => l === 'LED 1');
    expect(await host.call(2, 'led.get')).toMatchObject({ t: 'res', i: 2, v: 1 });
    expect(await host.call(3, 'led.set', 0)).toMatchObject({ t: 'res', i: 3, v: 0 });
    await board.line((l) => l === 'LED 0', 1000);
    expect(await host.call(4, 'led.get')).toMatchObject({ t: 'res', i: 4, v: 0 });
    expect(await host.call(5, 'led.set', true)).toMatchObject({ t: 'res', i: 5, v: 1 });
    expect(await host.call(6, 'led.set', false)).toMatchObject({ t: 'res', i: 6, v: 0 });

    // errors
    expect(await host.call(7, 'led.set', 'on')).toMatchObject({ t: 'err', i: 7, e: 'bad_argument' });
    expect(await host.call(8, 'led.set', 2)).toMatchObject({ t: 'err', i: 8, e: 'bad_argument' });
    expect(await host.call(9, 'led.set')).toMatchObject({ t: 'err', i: 9, e: 'bad_argument' });
    expect(await host.call(10, 'motor.run', 1)).toMatchObject({ t: 'err', i: 10, e: 'no_such_procedure' });
    let from2 = host.messages.length;
    host.write(encodeLine({ t: 'call', i: 11 }));
    expect(await host.wait((m) => m['t'] === 'err', 2000, from2)).toMatchObject({ i: 11, e: 'bad_request' });
    from2 = host.messages.length;
    host.write(encodeLine({ t: 'call', i: 'x', p: 'led.get' }));
    expect(await host.wait((m) => m['t'] === 'err', 2000, from2)).toMatchObject({ i: 0, e: 'bad_request' });

    // a person typing: no checksum, spaces, CRLF
    from2 = host.messages.length;
    host.write('{ "t": "call", "i": 12, "p": "led.get" }\r\n');
    expect(await host.wait((m) => m['i'] === 12, 2000, from2)).toMatchObject({ t: 'res', v: 0 });
    from2 = host.messages.length;
    host.write('hello?\n');
    expect(await host.wait((m) => m['t'] === 'err', 2000, from2)).toMatchObject({ i: 0, e: 'bad_request' });

    // noise: a wrong checksum, non-ASCII, control bytes, an overlong line (a valid call inside it),
    // a line cut short by a host restart; none is answered, and the next call is
    from2 = host.messages.length;
    const ledLines = board.out.filter((l) => l.startsWith('LED ')).length;
    const good = encodeLine({ t: 'call', i: 20, p: 'led.set', a: 1 }).toString().trim();
    host.write(`${good.slice(0, -2)}00\n`);
    host.write(Buffer.from([0x7b, 0xff, 0x80, 0x00, 0x1b, 0x0a]));
    host.write(`${'x'.repeat(200)}${good}${'y'.repeat(100)}\n`);
    host.write(`${'{"t":"call","i":21,"p":"led.set","a":1}'.repeat(8)}\n`);
    host.write('{"t":"call","i":22,"p":"led.s');
    host.write('\n');
    expect(await host.call(23, 'led.get')).toMatchObject({ t: 'res', i: 23, v: 0 });
    expect(host.messages.slice(from2).filter((m) => [20, 21, 22].includes(m['i'] as number))).toEqual([]);
    expect(board.out.filter((l) => l.startsWith('LED ')).length).toBe(ledLines); // the pin never moved
    expect(await host.call(24, 'led.set', 1)).toMatchObject({ t: 'res', i: 24, v: 1 });
    expect(host.reader.stats.invalid).toBe(0); // and everything the board sent was valid

    // round trips, one call at a time
    const times: number[] = [];
    for (let k = 0; k < 40; k++) {
      const t0 = performance.now();
      const answer = await host.call(100 + k, 'led.get');
      times.push(performance.now() - t0);
      expect(answer).toMatchObject({ t: 'res', v: 1 });
    }
    console.log(`firmware round trip led.get: median ${median(times).toFixed(1)} ms, p95 ${p95(times).toFixed(1)} ms`);
    expect(median(times)).toBeLessThan(50);

    // a reset (what DTR does on a real Uno): boot newline and hello; the LED is off again
    from2 = host.messages.length;
    board.proc.kill('SIGUSR1');
    expect(parseHello(await host.wait((m) => m['t'] === 'hello', 3000, from2))).toMatchObject({ id: 'uno-1' });
    expect(await host.call(31, 'led.get')).toMatchObject({ t: 'res', v: 0 });

    // nothing from the board is ever more than a heartbeat period (+ slack) after the last line.
    // Measured on the host's clock: simavr falls behind it when the machine is starved (the
    // harness does not sprint to catch up), so one late line may come from the emulator; never
    // late enough that the gateway drops the board (3 heartbeats of silence, PROTOCOL.md).
    const gaps = host.messages.slice(1).map((m, k) => m.at - host!.messages[k]!.at);
    expect(gaps.filter((g) => g >= hello.heartbeatMs + 400).length).toBeLessThanOrEqual(1);
    expect(Math.max(...gaps)).toBeLessThan(3 * hello.heartbeatMs);

    // unplug: kill the harness while the line is quiet (serialport misses a hang-up that comes
    // while a read is being issued: reference doc, §5), and see the port close
    const last = host.messages.length;
    await host.wait((m) => m['t'] === 'pub' || m['t'] === 'hb', 2000, last);
    await new Promise((r) => setTimeout(r, 100));
    board.proc.kill('SIGTERM');
    const err = await Promise.race([host.closed, new Promise((r) => setTimeout(() => r('timeout'), 3000))]);
    expect(err).toMatchObject({ disconnected: true });
    expect(await board.exited).toBe(0);
    expect(existsSync(link)).toBe(false);
    host = undefined;
    board = undefined;
  }, 30_000);

  it('two boards with different ids side by side; SIGKILL unplugs', async () => {
    const a = Board.start(built.harness, built.elf, join(dir, 'a'));
    const b = Board.start(built.harness, built.elf2, join(dir, 'b'));
    try {
      await Promise.all([a.line((l) => l.startsWith('LINK ')), b.line((l) => l.startsWith('LINK '))]);
      const [ha, hb] = await Promise.all([Host.open(a.link), Host.open(b.link)]);
      a.go();
      b.go();
      expect((await ha.wait((m) => m['t'] === 'hello'))['id']).toBe('uno-1');
      expect((await hb.wait((m) => m['t'] === 'hello'))['id']).toBe('uno-2');
      expect(await hb.call(1, 'led.set', 1)).toMatchObject({ v: 1 });
      expect(await ha.call(1, 'led.get')).toMatchObject({ v: 0 });
      await hb.close();
      // SIGKILL is an unplug too: the kernel closes the pty master (the link stays behind, dangling)
      await new Promise((r) => setTimeout(r, 100));
      a.proc.kill('SIGKILL');
      const err = await Promise.race([ha.closed, new Promise((r) => setTimeout(() => r('timeout'), 3000))]);
      expect(err).toMatchObject({ disconnected: true });
    } finally {
      a.proc.kill('SIGKILL');
      b.proc.kill('SIGKILL');
      await Promise.all([a.exited, b.exited]);
    }
  }, 30_000);
});

/** A socat pty pair: two /dev/pts paths joined back to back. */
async function ptyPair(): Promise<{ proc: ChildProcess; a: string; b: string }> {
  const proc = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const paths = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socat said: ${err}`)), 3000);
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const found = [...err.matchAll(/PTY is (\/dev\/pts\/\d+)/g)].map((m) => m[1]!);
      if (/starting data transfer loop/.test(err) && found.length === 2) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    proc.once('exit', () => reject(new Error(`socat exited: ${err}`)));
  });
  return { proc, a: paths[0]!, b: paths[1]! };
}

describe('device simulator over a socat pty pair', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it('answers like the firmware, publishes random walks, serves one call at a time', async () => {
    const pair = await ptyPair();
    cleanup.push(() => pair.proc.kill('SIGTERM'));
    const host = await Host.open(pair.b);
    cleanup.push(() => host.close());
    const device = await DeviceSimulator.open(pair.a, {
      id: 'sim-7',
      publishMs: 100,
      heartbeatMs: 300,
      slowMs: 300,
      topics: [{ name: 'a0' }, { name: 'temp.c', min: -10, max: 40, decimals: 1 }],
    });
    cleanup.push(() => device.close());

    const hello = parseHello(await host.wait((m) => m['t'] === 'hello'));
    expect(hello).toEqual({ id: 'sim-7', firmware: 'sim-1.0.0', version: 1, publishes: ['a0', 'temp.c'], procedures: ['led.set', 'led.get', 'slow'], heartbeatMs: 300, concurrency: 1 });

    const from = host.messages.length;
    await host.wait((m) => m['k'] === 'temp.c', 1000, from);
    await new Promise((r) => setTimeout(r, 500));
    const readings = host.messages.slice(from).filter((m) => m['t'] === 'pub');
    expect(readings.length).toBeGreaterThanOrEqual(8);
    for (const r of readings) {
      if (r['k'] === 'a0') expect(Number.isInteger(r['v']) && (r['v'] as number) >= 0 && (r['v'] as number) <= 1023).toBe(true);
      else expect(r['v']).toBeGreaterThanOrEqual(-10);
    }

    const leds: boolean[] = [];
    device.on('led', (on: boolean) => leds.push(on));
    expect(await host.call(1, 'led.set', 1)).toMatchObject({ t: 'res', v: 1 });
    expect(await host.call(2, 'led.get')).toMatchObject({ t: 'res', v: 1 });
    expect(await host.call(3, 'led.set', false)).toMatchObject({ t: 'res', v: 0 });
    expect(leds).toEqual([true, false]);
    expect(await host.call(4, 'led.set', 'x')).toMatchObject({ t: 'err', e: 'bad_argument' });
    expect(await host.call(5, 'nope')).toMatchObject({ t: 'err', e: 'no_such_procedure' });

    // the slow procedure: answered after its delay; a call meanwhile is refused as busy (conc 1)
    const t0 = Date.now();
    const slow = host.call(6, 'slow', 'hi');
    expect(await host.call(7, 'led.get')).toMatchObject({ t: 'err', e: 'busy' });
    expect(await slow).toMatchObject({ t: 'res', i: 6, v: 'hi' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);

    // noise, then a typed (unchecked) line, then a reset mid-line
    host.write('garbage\xff\n{"t":"call","i":8,"p":"led.get"}*00\n');
    expect(await host.call(9, 'led.get')).toMatchObject({ t: 'res', v: 0 });
    expect(host.messages.some((m) => m['i'] === 8)).toBe(false);
    const before = host.messages.length;
    device.reset();
    expect(await host.wait((m) => m['t'] === 'hello', 1000, before)).toMatchObject({ id: 'sim-7' });
    expect(host.reader.stats).toMatchObject({ invalid: 0, overlong: 0 });
  }, 15_000);

  it('heartbeats when quiet, and the host sees the close when the simulator goes', async () => {
    const pair = await ptyPair();
    cleanup.push(() => pair.proc.kill('SIGTERM'));
    const host = await Host.open(pair.b);
    cleanup.push(() => host.close());
    const device = await DeviceSimulator.open(pair.a, { id: 'quiet-1', publishMs: 0, heartbeatMs: 200 });
    await host.wait((m) => m['t'] === 'hello');
    const from = host.messages.length;
    await new Promise((r) => setTimeout(r, 1100));
    const beats = host.messages.slice(from).filter((m) => m['t'] === 'hb');
    expect(beats.length).toBeGreaterThanOrEqual(4);
    expect(beats.length).toBeLessThanOrEqual(6);
    await device.close();
    // the pty pair stays (socat keeps its side open); killing socat is the unplug
    pair.proc.kill('SIGTERM');
    const err = await Promise.race([host.closed, new Promise((r) => setTimeout(() => r('timeout'), 3000))]);
    expect(err).toMatchObject({ disconnected: true });
  }, 10_000);

  it('junction simulate-device: the CLI runs one on a port until SIGTERM', async () => {
    const pair = await ptyPair();
    cleanup.push(() => pair.proc.kill('SIGTERM'));
    const host = await Host.open(pair.b);
    cleanup.push(() => host.close());
    const cli = spawn(process.execPath, [CLI, 'simulate-device', '--port', pair.a, '--id', 'cli-1', '--publish-ms', '200'], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.push(() => cli.kill('SIGKILL'));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
    expect(await host.wait((m) => m['t'] === 'hello', 5000)).toMatchObject({ id: 'cli-1' });
    expect(await host.call(1, 'led.set', 1)).toMatchObject({ t: 'res', v: 1 });
    await host.wait((m) => m['t'] === 'pub', 1000);
    cli.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 15_000);
});
