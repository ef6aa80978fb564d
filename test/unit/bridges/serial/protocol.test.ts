// The serial line codec (src/bridges/serial/protocol.ts) under noise: valid lines come out exactly,
// in order, however the bytes are split; nothing else ever comes out; memory stays bounded.
import { describe, expect, it } from 'vitest';
import { LineReader, MAX_JSON_FROM_BOARD, MAX_JSON_TO_BOARD, crc8, encodeLine, parseHello } from '../../../../src/bridges/serial/protocol.js';

const MAX_JSON = MAX_JSON_TO_BOARD;

/** Deterministic PRNG (mulberry32): a failure replays with the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Msg = Record<string, unknown>;

/** A host-side reader (lines from a board, up to MAX_JSON_FROM_BOARD) unless `maxJson` says otherwise. */
function collect(allowUnchecked = false, maxJson = MAX_JSON_FROM_BOARD): { reader: LineReader; out: Msg[] } {
  const out: Msg[] = [];
  return { reader: new LineReader((m) => out.push(m), allowUnchecked, maxJson), out };
}

const bytes = (s: string) => Buffer.from(s, 'latin1');
const withCrc = (json: string) => `${json}*${crc8(bytes(json)).toString(16).padStart(2, '0')}`;

class Gen {
  constructor(readonly rnd: () => number) {}
  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  /** Printable ASCII, biased towards the characters that matter to the framing and to JSON. */
  text(max: number): string {
    let s = '';
    const n = this.int(max + 1);
    for (let k = 0; k < n; k++) s += this.rnd() < 0.2 ? this.pick(['*', '"', '\\', '{', '}', ',', ':', ' ', '0', 'f']) : String.fromCharCode(0x20 + this.int(95));
    return s;
  }
  value(depth = 0): unknown {
    switch (this.int(depth > 1 ? 5 : 7)) {
      case 0: return this.int(2000) - 1000;
      case 1: return this.rnd() * 100;
      case 2: return this.rnd() < 0.5;
      case 3: return null;
      case 4: return this.text(12);
      case 5: return [this.value(depth + 1), this.value(depth + 1)];
      default: return { k: this.value(depth + 1) };
    }
  }
  /** A random protocol message whose JSON fits in a line. */
  message(): Msg {
    for (;;) {
      const t = this.pick(['hello', 'pub', 'res', 'err', 'hb', 'call', 'who', this.text(8)]);
      const m: Msg = { t };
      const fields = this.int(4);
      for (let k = 0; k < fields; k++) m[this.pick(['i', 'p', 'a', 'v', 'k', 'e', 'm', 'id', 'x'])] = this.value();
      if (JSON.stringify(m).length <= MAX_JSON) return m;
    }
  }
}

interface Case {
  wire: string;
  /** What the reader must deliver for it (in order). */
  expect: Msg[];
  overlong?: number;
}

/** One segment of a noisy stream: a valid line, or some kind of damage that must yield nothing. */
function segment(g: Gen, maxJson: number): Case {
  const m = g.message();
  const json = JSON.stringify(m);
  const line = withCrc(json);
  switch (g.int(14)) {
    case 0:
    case 1:
    case 2:
      return { wire: `${line}\n`, expect: [m] };
    case 3: // CRLF, upper-case checksum: still valid
      return { wire: `${line.slice(0, -2)}${line.slice(-2).toUpperCase()}\r\n`, expect: [m] };
    case 4: { // one printable byte of the JSON changed: CRC-8 catches every single-byte error
      const at = g.int(json.length);
      let c: string;
      do c = String.fromCharCode(0x20 + g.int(95)); while (c === json[at]);
      const bad = json.slice(0, at) + c + json.slice(at + 1);
      return { wire: `${bad}*${line.slice(-2)}\n`, expect: [] };
    }
    case 5: { // wrong checksum, or not hex
      const right = crc8(bytes(json));
      const wrong = g.rnd() < 0.8 ? ((right + 1 + g.int(255)) & 0xff).toString(16).padStart(2, '0') : g.pick(['zz', '0x', ' 1', 'g0', '-1']);
      return { wire: `${json}*${wrong}\n`, expect: [] };
    }
    case 6: { // non-ASCII or a control byte somewhere (the checksum is even computed over it)
      const at = g.int(json.length + 1);
      const odd = String.fromCharCode(g.rnd() < 0.5 ? 0x80 + g.int(128) : g.pick([0, 1, 7, 9, 0x1b, 0x7f]));
      const bad = json.slice(0, at) + odd + json.slice(at);
      return { wire: `${withCrc(bad)}\n`, expect: [] };
    }
    case 7: { // overlong: more than a line may hold, even if it looks valid inside
      const filler = g.text(40) + line + g.text(maxJson + 40);
      const padded = filler.length > maxJson + 4 ? filler : filler + 'x'.repeat(maxJson + 5 - filler.length);
      return { wire: `${padded}\n`, expect: [], overlong: 1 };
    }
    case 8: // partial: the line cut short (no checksum left, or half of it)
      return { wire: `${line.slice(0, g.int(line.length - 1))}\n`, expect: [] };
    case 9: // a reset mid-line: the board's boot newline ends the broken line, then its hello
      return { wire: `${line.slice(0, 1 + g.int(line.length - 1))}\n${withCrc('{"t":"hello","id":"uno-1","v":1}')}\n`, expect: [{ t: 'hello', id: 'uno-1', v: 1 }] };
    case 10: // unchecked JSON: refused by the host
      return { wire: `${json}\n`, expect: [] };
    case 11: // checked, but not an object with a string t
      return { wire: `${withCrc(g.pick(['[1,2]', '"t"', '42', 'null', '{"t":1}', '{}', '{"x":"y"}', '{"t":"a"', 'nope']))}\n`, expect: [] };
    case 12: // random printable junk
      return { wire: `${g.text(maxJson + 30)}\n`, expect: [] };
    default: // blank lines and bare CRs: nothing, not even counted
      return { wire: g.pick(['\n', '\r\n', '\n\n']), expect: [] };
  }
}

/** Feeds `wire` in pieces chosen by `split` and returns what came out. */
function feed(wire: Buffer, split: 'byte' | 'random' | 'whole', g: Gen, maxJson: number) {
  const { reader, out } = collect(false, maxJson);
  if (split === 'whole') reader.push(wire);
  else if (split === 'byte') for (let k = 0; k < wire.length; k++) reader.push(wire.subarray(k, k + 1));
  else for (let k = 0; k < wire.length;) {
    const n = 1 + g.int(g.rnd() < 0.1 ? 400 : 20);
    reader.push(wire.subarray(k, k + n));
    k += n;
  }
  return { reader, out };
}

describe('serial protocol codec', () => {
  it('CRC-8/SMBUS check value and the spec examples', () => {
    expect(crc8(bytes('123456789'))).toBe(0xf4);
    expect(encodeLine({ t: 'hello', id: 'uno-1', fw: '1.0.0', v: 1, pub: ['a0'], proc: ['led.set', 'led.get'], hb: 1000 }).toString()).toBe(
      '{"t":"hello","id":"uno-1","fw":"1.0.0","v":1,"pub":["a0"],"proc":["led.set","led.get"],"hb":1000}*e0\n',
    );
    expect(encodeLine({ t: 'pub', k: 'a0', v: 512 }).toString()).toBe('{"t":"pub","k":"a0","v":512}*74\n');
    expect(encodeLine({ t: 'call', i: 7, p: 'led.set', a: 1 }).toString()).toBe('{"t":"call","i":7,"p":"led.set","a":1}*c6\n');
    expect(encodeLine({ t: 'res', i: 7, v: 1 }).toString()).toBe('{"t":"res","i":7,"v":1}*22\n');
  });

  it('encodeLine refuses what cannot be a line', () => {
    expect(() => encodeLine({ t: 'x', v: 'a'.repeat(MAX_JSON) })).toThrow();
    expect(() => encodeLine({ t: 'x', v: 'é' })).toThrow();
    expect(() => encodeLine({ t: 'x', v: '\n' })).not.toThrow(); // JSON escapes it: still one printable line
  });

  for (const max of [MAX_JSON_TO_BOARD, MAX_JSON_FROM_BOARD]) {
    it(`length limits: ${max} bytes of JSON pass, ${max + 1} do not, and the next line still does`, () => {
      const fit = { t: 'x', v: '' };
      fit.v = 'a'.repeat(max - JSON.stringify(fit).length);
      expect(JSON.stringify(fit).length).toBe(max);
      const over = { t: 'x', v: `${fit.v}a` };
      const { reader, out } = collect(false, max);
      reader.push(Buffer.concat([
        encodeLine(fit, max),
        bytes(`${withCrc(JSON.stringify(over))}\n`), // fits the buffer, too long a JSON: invalid
        encodeLine(fit, max),
        bytes(`${withCrc(JSON.stringify(over))}\r\n`), // one byte more than the buffer: overlong
        bytes(`${fit.v}${fit.v}\n`),
        encodeLine({ t: 'hb' }),
      ]));
      expect(out).toEqual([fit, fit, { t: 'hb' }]);
      expect(reader.stats).toEqual({ lines: 4, overlong: 2, invalid: 1 });
      expect(() => encodeLine(over, max)).toThrow();
    });
  }

  it('unchecked lines only when allowed; `*` inside strings is not a checksum', () => {
    const { reader, out } = collect(true);
    reader.push(bytes('{"t":"who"}\n{"t":"call","i":1,"p":"led.set","a":"*1"}\n{"t":"x","s":"*ab"}\nnot json\n'));
    expect(out).toEqual([{ t: 'who' }, { t: 'call', i: 1, p: 'led.set', a: '*1' }, { t: 'x', s: '*ab' }]);
    const strict = collect();
    strict.reader.push(bytes('{"t":"who"}\n'));
    expect(strict.out).toEqual([]);
    expect(strict.reader.stats.invalid).toBe(1);
  });

  it('a reset mid-line: partial line, newline, hello', () => {
    const { reader, out } = collect();
    const hello = encodeLine({ t: 'hello', id: 'uno-1', v: 1, pub: ['a0'], proc: ['led.set'], hb: 1000 });
    reader.push(bytes('{"t":"pub","k":"a0","v":5'));
    reader.push(bytes('\n'));
    reader.push(hello);
    expect(out).toHaveLength(1);
    expect(parseHello(out[0]!)).toMatchObject({ id: 'uno-1', procedures: ['led.set'], heartbeatMs: 1000 });
    expect(reader.stats).toEqual({ lines: 2, overlong: 0, invalid: 1 });
  });

  for (const split of ['byte', 'random', 'whole'] as const) {
    it(`fuzz: 4000 noisy segments, split ${split === 'byte' ? 'at every byte' : split === 'random' ? 'at random' : 'not at all'}, board and host line limits`, () => {
      for (let round = 0; round < 4; round++) {
        const max = round % 2 ? MAX_JSON_FROM_BOARD : MAX_JSON_TO_BOARD;
        const g = new Gen(prng(1000 * round + split.length));
        const cases = Array.from({ length: 1000 }, () => segment(g, max));
        const wire = bytes(cases.map((c) => c.wire).join(''));
        const { reader, out } = feed(wire, split, g, max);
        const expected = cases.flatMap((c) => c.expect);
        expect(expected.length).toBeGreaterThan(150);
        expect(out).toEqual(expected);
        // every overlong segment was counted as such (random junk may be overlong too)
        expect(reader.stats.overlong).toBeGreaterThanOrEqual(cases.filter((c) => c.overlong).length);
        expect(reader.stats.lines - reader.stats.invalid).toBe(expected.length);
      }
    });
  }

  it('fuzz: 20000 random byte strings never yield a message that was not sent as a valid line', () => {
    const g = new Gen(prng(77));
    const { reader, out } = collect();
    const sent: Msg[] = [];
    for (let k = 0; k < 20000; k++) {
      const n = g.int(60);
      const junk = Buffer.alloc(n);
      for (let j = 0; j < n; j++) junk[j] = g.rnd() < 0.1 ? 0x0a : g.rnd() < 0.7 ? 0x20 + g.int(95) : g.int(256);
      reader.push(junk);
      if (k % 50 === 0) {
        const m = g.message();
        sent.push(m);
        reader.push(bytes('\n')); // what a sender does after noise: start on a fresh line
        reader.push(encodeLine(m));
      }
    }
    // random bytes may by chance form a valid line: only if it is a JSON object with a string t
    // and a matching CRC; none does with this seed, so what comes out is exactly what was sent
    expect(out).toEqual(sent);
  });

  it('memory stays bounded: 32 MB without a newline, then a valid line', () => {
    const { reader, out } = collect();
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    global.gc?.();
    const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    for (let k = 0; k < 512; k++) reader.push(chunk);
    const after = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    reader.push(bytes('\n'));
    reader.push(encodeLine({ t: 'hb' }));
    expect(out).toEqual([{ t: 'hb' }]);
    expect(reader.stats.overlong).toBe(1);
    expect((reader as unknown as { buffer: Buffer }).buffer.length).toBeLessThanOrEqual(MAX_JSON_FROM_BOARD + 4);
    expect(after - before).toBeLessThan(8 * 1024 * 1024);
  });
});
