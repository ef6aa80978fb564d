// The cookies a WebSocket service has handed out (Crossbar's cookie store): each cookie's creation
// time and what it was last authenticated as. In memory, or kept in a file across restarts.
// Bounded: at most `maxCookies` (the oldest dropped first), expired ones dropped when met. The file
// holds one JSON record per line with Crossbar's field names (cbtid, created, max_age, authid,
// authrole, authmethod, authrealm, authextra), so a Crossbar store file is read as is. Junction
// keeps only authenticated cookies in the file (a cookie nobody logged in with is worth nothing
// after a restart, and any client can make new ones: an SD card is not written for those), and
// rewrites it whole (a temporary file renamed over it) only after a login, a logout or a loss.

import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import type { CookieConfig } from '../config/types.js';
import type { CookieIdentity, CookieTracking } from '../core-boundary.js';
import type { Dict } from '../wamp/message.js';
import { log } from '../log.js';

/** How long after a change the file is rewritten (changes in between are written together). */
const WRITE_DELAY_MS = 1000;
/** Crossbar's cookie alphabet (autobahn.util.newid): URL- and cookie-safe. */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

interface CookieRecord {
  /** ms since the epoch. */
  created: number;
  identity?: CookieIdentity;
}

export class CookieStore {
  /** Insertion order = age: the first entry is the oldest. */
  private readonly cookies = new Map<string, CookieRecord>();
  /** Each cookie's open connections, by how to close each: a logout on one closes the others, as in Crossbar. */
  private readonly connections = new Map<string, Set<() => void>>();
  private writeTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;

  constructor(private readonly config: CookieConfig) {
    if (config.store.type === 'file') this.load(config.store.filename);
  }

  /** The tracking handle for a known, unexpired cookie value; undefined otherwise. */
  find(id: string): CookieTracking | undefined {
    const record = this.cookies.get(id);
    if (!record) return undefined;
    if (this.expired(record)) {
      this.cookies.delete(id);
      if (record.identity) this.changed();
      return undefined;
    }
    return this.handle(id);
  }

  /** A new cookie: its handle, and the Set-Cookie header value for the upgrade response. */
  create(): { tracking: CookieTracking; header: string } {
    const id = newId(this.config.length);
    this.cookies.set(id, { created: Date.now() });
    // Past the bound: the oldest cookies go (their clients get a new one next time).
    for (const [oldest, record] of this.cookies) {
      if (this.cookies.size <= this.config.maxCookies) break;
      this.cookies.delete(oldest);
      if (record.identity) this.changed();
    }
    // As Crossbar: no Secure flag (it would follow the page's scheme, not the WebSocket's).
    return { tracking: this.handle(id), header: `${this.config.name}=${id};max-age=${this.config.maxAge}` };
  }

  /**
   * `tracking` for one connection: its logout (GOODBYE wamp.close.logout) forgets the cookie's
   * identity and closes every other connection of that cookie (a browser's other tabs), whose
   * clients then reconnect unauthenticated. `close` ends that connection; `detach` on its close.
   */
  forConnection(tracking: CookieTracking, close: () => void): { tracking: CookieTracking; detach: () => void } {
    const id = tracking.id;
    let open = this.connections.get(id);
    if (!open) this.connections.set(id, (open = new Set()));
    open.add(close);
    const detach = () => {
      open.delete(close);
      if (open.size === 0 && this.connections.get(id) === open) this.connections.delete(id);
    };
    return {
      detach,
      tracking: {
        id,
        identity: tracking.identity,
        remember: tracking.remember,
        logout: () => {
          tracking.remember(undefined);
          for (const other of [...open]) if (other !== close) other();
        },
      },
    };
  }

  get size(): number {
    return this.cookies.size;
  }

  /** Writes a pending change now (router stop). */
  close(): void {
    if (this.writeTimer === undefined) return;
    clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
    if (this.config.store.type !== 'file') return;
    const file = this.config.store.filename;
    try {
      writeFileSync(`${file}.tmp`, this.serialize());
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      log.warn(`cookie store ${file}: cannot write: ${(err as Error).message}`);
    }
  }

  private handle(id: string): CookieTracking {
    const remember = (identity: CookieIdentity | undefined) => {
      const record = this.cookies.get(id);
      if (!record || sameIdentity(record.identity, identity)) return;
      if (identity) record.identity = identity;
      else delete record.identity;
      this.changed();
    };
    return {
      id,
      identity: () => this.cookies.get(id)?.identity,
      remember,
      logout: () => remember(undefined),
    };
  }

  private expired(record: CookieRecord): boolean {
    return record.created + this.config.maxAge * 1000 < Date.now();
  }

  private changed(): void {
    if (this.config.store.type !== 'file' || this.writeTimer !== undefined) return;
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      void this.write();
    }, WRITE_DELAY_MS);
    this.writeTimer.unref();
  }

  /** One write at a time; a change during a write schedules the next. */
  private async write(): Promise<void> {
    if (this.config.store.type !== 'file') return;
    const file = this.config.store.filename;
    await this.writing;
    const text = this.serialize();
    this.writing = writeFile(`${file}.tmp`, text)
      .then(() => rename(`${file}.tmp`, file))
      .catch((err: Error) => log.warn(`cookie store ${file}: cannot write: ${err.message}`));
    await this.writing;
  }

  private serialize(): string {
    let text = '';
    for (const [id, r] of this.cookies) {
      const i = r.identity;
      if (!i || this.expired(r)) continue;
      text += JSON.stringify({
        cbtid: id, created: new Date(r.created).toISOString(), max_age: this.config.maxAge,
        authid: i.authid, authrole: i.authrole, authmethod: i.authmethod, authrealm: i.realm, authextra: i.authextra ?? null,
      }) + '\n';
    }
    return text;
  }

  /** Reads a store file (Junction's or Crossbar's): the last record of a cookie wins, deleted and expired ones are left out. */
  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`cookie store ${file}: cannot read: ${(err as Error).message}; starting empty`);
      return;
    }
    let bad = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const r = JSON.parse(line) as Dict;
        const id = r['cbtid'] ?? r['id'];
        if (typeof id !== 'string') throw new Error('no cbtid');
        this.cookies.delete(id);
        if (r['deleted']) continue;
        const record: CookieRecord = { created: typeof r['created'] === 'string' ? Date.parse(r['created']) || Date.now() : Date.now() };
        if (typeof r['authid'] === 'string' && typeof r['authrole'] === 'string' && typeof r['authrealm'] === 'string') {
          record.identity = { realm: r['authrealm'], authid: r['authid'], authrole: r['authrole'], authmethod: typeof r['authmethod'] === 'string' ? r['authmethod'] : 'cookie' };
          const extra = r['authextra'];
          if (typeof extra === 'object' && extra !== null && !Array.isArray(extra)) record.identity.authextra = extra as Dict;
        }
        if (!this.expired(record)) this.cookies.set(id, record);
      } catch {
        bad++;
      }
    }
    while (this.cookies.size > this.config.maxCookies) this.cookies.delete(this.cookies.keys().next().value!);
    if (bad > 0) log.warn(`cookie store ${file}: ${bad} unreadable line(s) skipped`);
    log.info(`cookie store ${file}: ${this.cookies.size} cookie(s) read`);
  }
}

function sameIdentity(a: CookieIdentity | undefined, b: CookieIdentity | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function newId(length: number): string {
  const bytes = randomBytes(length);
  let id = '';
  for (const b of bytes) id += ALPHABET[b & 63];
  return id;
}

/** The value of cookie `name` in a Cookie request header, if present. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return undefined;
}
