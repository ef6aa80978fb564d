// Crossbar's cookie tracking on a WebSocket service (`cookie`: `name`, `length`, `max_age`, `store`
// {`type`: memory | file, `filename`}) and the `cookie` authentication method that relies on it.
// Junction bounds the store (`store.max_cookies`) and rewrites a file store whole, atomically.

import type { AuthConfig, CookieConfig, WampServiceConfig } from './types.js';
import { join, type Checker, type Obj } from './check-values.js';
import type { LoadContext } from './load-context.js';

export const DEFAULT_COOKIE = { name: 'cbtid', length: 24, maxAge: 7 * 86400, maxCookies: 10_000 };
/** RFC 6265 token characters, as a cookie name must be. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Reads `cookie` of a WebSocket service into `service.cookie`; warns when cookie authentication has no cookie to use. */
export function parseCookieTracking(ctx: LoadContext, t: Obj, path: string, service: WampServiceConfig): void {
  const { c } = ctx;
  if (t['cookie'] !== undefined) service.cookie = parseCookie(c, t['cookie'], join(path, 'cookie'), (p) => ctx.file(p));
  if (service.auth?.cookie && !service.cookie) {
    c.warn(join(join(path, 'auth'), 'cookie'), "has no effect without cookie tracking: add a 'cookie' block to this transport (Crossbar's docs require both)");
  }
}

function parseCookie(c: Checker, value: unknown, path: string, file: (p: string) => string): CookieConfig | undefined {
  const o = c.object(value, path, ['name', 'length', 'max_age', 'store']);
  if (!o) return undefined;
  const d = DEFAULT_COOKIE;
  const name = c.string(o['name'], join(path, 'name'), { required: false }) ?? d.name;
  if (!COOKIE_NAME.test(name)) c.error(join(path, 'name'), `must be a cookie name (letters, digits, and !#$%&'*+-.^_\`|~), got ${JSON.stringify(name)}`);
  const out: CookieConfig = {
    name,
    length: c.integer(o['length'], join(path, 'length'), d.length, 12, 256)!,
    maxAge: c.integer(o['max_age'], join(path, 'max_age'), d.maxAge, 1, 10 * 365 * 86400)!,
    store: { type: 'memory' },
    maxCookies: d.maxCookies,
  };
  if (o['store'] === undefined) return out;
  const sp = join(path, 'store');
  const s = c.object(o['store'], sp, ['type', 'filename', 'max_cookies', 'purge_on_startup']);
  if (!s) return out;
  out.maxCookies = c.integer(s['max_cookies'], join(sp, 'max_cookies'), d.maxCookies, 1, 10_000_000)!;
  const type = c.oneOf(s['type'], join(sp, 'type'), ['memory', 'file'] as const, 'memory');
  if (s['purge_on_startup'] !== undefined) {
    c.boolean(s['purge_on_startup'], join(sp, 'purge_on_startup'), false);
    c.warn(join(sp, 'purge_on_startup'), 'has no effect in Junction: expired cookies are always dropped when the store is read, and the file is rewritten whole');
  }
  if (type === 'file') {
    const filename = c.string(s['filename'], join(sp, 'filename'));
    if (filename !== undefined) out.store = { type: 'file', filename: file(filename) };
  } else if (s['filename'] !== undefined && (s['type'] === undefined || s['type'] === 'memory')) {
    c.error(join(sp, 'filename'), 'applies only to type "file"');
  }
  return out;
}

/** `auth.cookie`: Crossbar's only kind is static (no principals: the cookie store holds the identities). */
export function parseCookieAuth(c: Checker, value: unknown, path: string): NonNullable<AuthConfig['cookie']> {
  const o = c.object(value, path, ['type']);
  if (o && o['type'] !== undefined) c.oneOf(o['type'], join(path, 'type'), ['static'] as const);
  return { type: 'static' };
}
