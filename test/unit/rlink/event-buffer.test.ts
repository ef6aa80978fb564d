// A router link's store-and-forward buffer: what each policy keeps while the link is down, in what
// order it comes out, and its file (written after changes, read at start, a broken one ignored).
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBuffer, MAX_BUFFER_BYTES, type BufferedEvent } from '../../../src/rlink/event-buffer.js';
import { BufferFile } from '../../../src/rlink/buffer-file.js';
import type { RLinkBufferConfig } from '../../../src/config/types.js';
import { until } from '../../helpers/until.js';

const event = (topic: string, value: unknown, publishedAt = '2026-01-01T00:00:00.000Z'): BufferedEvent =>
  ({ topic, args: [value], kwargs: {}, options: { exclude_me: true }, publishedAt });
const topicsAndValues = (b: EventBuffer) => b.take().map((e) => [e.topic, e.args[0]]);
const config = (c: Partial<RLinkBufferConfig> = {}): RLinkBufferConfig => ({ policy: 'latest', limit: 1000, rules: [], ...c });

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('router link buffer', () => {
  it("'latest' keeps the newest event of each topic, in the order of their publication", () => {
    const b = new EventBuffer(config());
    b.add(event('a', 1)); b.add(event('b', 1)); b.add(event('a', 2)); b.add(event('c', 1));
    expect(topicsAndValues(b)).toEqual([['b', 1], ['a', 2], ['c', 1]]);
    expect(b.size).toBe(0);
  });

  it("'all' keeps every event up to its limit, dropping (and counting) the oldest first; 'none' keeps nothing", () => {
    const b = new EventBuffer(config({ rules: [{ prefix: 'telemetry.', policy: 'all', limit: 3 }, { prefix: 'telemetry.debug.', policy: 'none', limit: 1 }] }));
    for (let i = 1; i <= 5; i++) b.add(event('telemetry.temp', i));
    b.add(event('telemetry.debug.trace', 'x'));
    b.add(event('state', 'on'));
    b.add(event('state', 'off'));
    expect(b.dropped).toBe(2);
    expect(topicsAndValues(b)).toEqual([['telemetry.temp', 3], ['telemetry.temp', 4], ['telemetry.temp', 5], ['state', 'off']]);
  });

  it('the longest matching prefix decides, and each rule has its own limit', () => {
    const b = new EventBuffer(config({ policy: 'none', rules: [{ prefix: 'a.', policy: 'latest', limit: 2 }, { prefix: 'a.b.', policy: 'all', limit: 10 }] }));
    b.add(event('a.b.x', 1)); b.add(event('a.b.x', 2)); // all
    b.add(event('a.x', 1)); b.add(event('a.y', 1)); b.add(event('a.z', 1)); // latest, two topics at most
    b.add(event('other', 1)); // none
    expect(topicsAndValues(b)).toEqual([['a.b.x', 1], ['a.b.x', 2], ['a.y', 1], ['a.z', 1]]);
  });

  it('events looked at stay until forgotten; one replaced meanwhile is not forgotten with them', () => {
    const b = new EventBuffer(config({ rules: [{ prefix: 'log.', policy: 'all', limit: 10 }] }));
    b.add(event('temp', 1)); b.add(event('log.x', 'a')); b.add(event('log.x', 'b'));
    const batch = b.peek(2);
    expect(batch.map((x) => x.event.args[0])).toEqual([1, 'a']);
    b.add(event('temp', 2)); // replaces temp 1, which was sent already
    b.forget(batch.map((x) => x.seq));
    expect(topicsAndValues(b)).toEqual([['log.x', 'b'], ['temp', 2]]);
  });

  it('stays within its bytes whatever the limits say', () => {
    const b = new EventBuffer(config({ policy: 'all', limit: 1_000_000 }));
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 200; i++) b.add(event('t', `${i}${big}`));
    expect(b.size).toBeLessThan(200);
    expect(b.size * big.length).toBeLessThanOrEqual(MAX_BUFFER_BYTES);
    const out = b.take();
    expect(String(out.at(-1)!.args[0]).startsWith('199')).toBe(true);
  });

  it('keeps binary payloads and publication times', () => {
    const b = new EventBuffer(config());
    b.add({ topic: 't', args: [new Uint8Array([1, 2, 3])], kwargs: { k: 'v' }, options: { forward_for: [{ session: 1 }] }, publishedAt: '2026-05-01T10:00:00.000Z' });
    const [e] = b.take();
    expect(Buffer.from(e!.args[0] as Uint8Array)).toEqual(Buffer.from([1, 2, 3]));
    expect(e).toMatchObject({ kwargs: { k: 'v' }, options: { forward_for: [{ session: 1 }] }, publishedAt: '2026-05-01T10:00:00.000Z' });
  });

  it('its file (events and subscriptions) is written after a change, read by the next start, and removed once empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlink-buffer-'));
    dirs.push(dir);
    const path = join(dir, 'hub.buf');
    const cfg = config({ rules: [{ prefix: 'log.', policy: 'all', limit: 10 }] });
    let file: BufferFile | undefined;
    const first = new EventBuffer(cfg, () => file!.changed());
    let subscriptions: Array<[string, string]> = [['log.', 'prefix'], ['temp', 'exact']];
    file = new BufferFile(path, first, () => subscriptions);
    first.add(event('log.line', 'one')); first.add(event('log.line', 'two')); first.add(event('temp', 20));
    await until(() => existsSync(path), 5000, 'the buffer file');
    await file.close();
    const second = new EventBuffer(cfg);
    expect(new BufferFile(path, second).load()).toEqual(subscriptions);
    expect(topicsAndValues(second)).toEqual([['log.line', 'one'], ['log.line', 'two'], ['temp', 20]]);
    first.take();
    await file.close();
    expect(existsSync(path)).toBe(true); // the subscriptions are still worth keeping
    subscriptions = [];
    file.changed();
    await file.close();
    expect(existsSync(path)).toBe(false);
  });

  it('a broken file means an empty buffer, not a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlink-buffer-'));
    dirs.push(dir);
    const path = join(dir, 'hub.buf');
    for (const junk of [Buffer.from('not msgpack at all {'), Buffer.from([0x93, 1, 2, 3]), Buffer.alloc(0)]) {
      writeFileSync(path, junk);
      const b = new EventBuffer(config());
      new BufferFile(path, b).load();
      expect(b.size).toBe(0);
    }
  });
});
