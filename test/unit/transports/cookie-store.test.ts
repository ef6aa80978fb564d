// The cookie store without sockets: new cookies, lookups, expiry after max_age, the bound on their
// number (the oldest dropped), remembered identities, and a Crossbar store file read as is.

import { describe, it, expect, afterEach, vi } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CookieStore, cookieValue } from '../../../src/transports/cookie-store.js';
import type { CookieConfig } from '../../../src/config/types.js';

const config = (o: Partial<CookieConfig> = {}): CookieConfig => ({ name: 'cbtid', length: 24, maxAge: 60, store: { type: 'memory' }, maxCookies: 3, ...o });

afterEach(() => {
  vi.useRealTimers();
});

describe('CookieStore', () => {
  it('finds the cookies it made until max_age has passed', () => {
    vi.useFakeTimers();
    const store = new CookieStore(config());
    const { tracking, header } = store.create();
    expect(header).toBe(`cbtid=${tracking.id};max-age=60`);
    expect(store.find(tracking.id)?.id).toBe(tracking.id);
    expect(store.find('unknown')).toBeUndefined();
    vi.advanceTimersByTime(61_000);
    expect(store.find(tracking.id)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('keeps at most maxCookies, dropping the oldest; remembers and forgets identities', () => {
    const store = new CookieStore(config());
    const ids = [1, 2, 3, 4].map(() => store.create().tracking.id);
    expect(store.size).toBe(3);
    expect(store.find(ids[0]!)).toBeUndefined();
    const t = store.find(ids[3]!)!;
    t.remember({ realm: 'realm1', authid: 'joe', authrole: 'user', authmethod: 'ticket' });
    expect(store.find(ids[3]!)!.identity()).toEqual({ realm: 'realm1', authid: 'joe', authrole: 'user', authmethod: 'ticket' });
    t.remember(undefined);
    expect(t.identity()).toBeUndefined();
  });

  it('reads a Crossbar store file (JSON lines, the last record wins, deleted ones left out) and writes its authenticated cookies whole at close', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'junction-cookie-store-')), 'cookies.dat');
    const now = new Date().toISOString();
    const record = (cbtid: string, more: object) => JSON.stringify({ cbtid, created: now, max_age: 60, authid: null, authrole: null, authmethod: null, authrealm: null, authextra: null, ...more });
    writeFileSync(file, [
      record('a', {}), record('b', {}), record('a', { authid: 'joe', authrole: 'user', authmethod: 'wampcra', authrealm: 'realm1', authextra: { x: 1 } }),
      record('b', { deleted: now }), 'not json',
    ].join('\n') + '\n');
    const store = new CookieStore(config({ store: { type: 'file', filename: file } }));
    expect(store.size).toBe(1);
    expect(store.find('a')!.identity()).toEqual({ realm: 'realm1', authid: 'joe', authrole: 'user', authmethod: 'wampcra', authextra: { x: 1 } });
    // A cookie nobody logged in with is not written; one that was is.
    store.create();
    const joe = store.create().tracking;
    joe.remember({ realm: 'realm1', authid: 'ann', authrole: 'user', authmethod: 'ticket' });
    store.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.cbtid, l.authid])).toEqual([['a', 'joe'], [joe.id, 'ann']]);
  });

  it('cookieValue reads one cookie of a Cookie header', () => {
    expect(cookieValue('a=1; cbtid=XYZ; b=2', 'cbtid')).toBe('XYZ');
    expect(cookieValue('xcbtid=1', 'cbtid')).toBeUndefined();
    expect(cookieValue(undefined, 'cbtid')).toBeUndefined();
  });
});
