// The `scram` and `tls` methods of a transport's `auth` block (Crossbar's shapes), next to the
// older methods in load-auth.ts, whose shared pieces (static/dynamic, principals, role, realm) they use.

import type { ScramAuthConfig, ScramPrincipal, TlsAuthConfig, TlsPrincipal } from './types.js';
import { join, type Checker } from './check-values.js';
import type { AuthParser } from './load-auth.js';

const KEY_MESSAGE = 'must be 32 bytes as 64 hex characters (value not shown)';

/** Bytes written in hex; `length`: exactly that many. Errors never show the value (it may be a key). */
function hexBytes(c: Checker, value: unknown, path: string, message: string, length?: number): Buffer | undefined {
  if (value === undefined) {
    c.error(path, 'is required');
    return undefined;
  }
  const ok = typeof value === 'string' && /^(?:[0-9a-fA-F]{2})+$/.test(value) && (length === undefined || value.length === 2 * length);
  if (!ok) c.error(path, message);
  return ok ? Buffer.from(value, 'hex') : undefined;
}

const SHA1_FINGERPRINT = /^(?:[0-9A-Fa-f]{2}:?){19}[0-9A-Fa-f]{2}$/;

/** scram: principals { authid: { kdf, iterations, memory, salt, stored-key, server-key, role, realm } }, or dynamic. */
export function parseScramAuth(c: Checker, value: unknown, p: string, parser: AuthParser): ScramAuthConfig | undefined {
  const o = c.object(value, p, ['type', 'principals', 'authenticator', 'authenticator-realm']);
  const kind = o && parser.kind(o, p);
  if (!o || !kind) return undefined;
  if (kind === 'dynamic') return parser.dynamic(o, p);
  parser.noDynamicKeys(o, p);
  const principals: Record<string, ScramPrincipal> = {};
  parser.principals(o, p, 'principals', (entry, ep) => {
    const pr = c.object(entry, ep, ['kdf', 'iterations', 'memory', 'salt', 'stored-key', 'server-key', 'role', 'realm']);
    if (!pr) return;
    const role = parser.role(pr['role'], join(ep, 'role'));
    const kdf = c.oneOf(pr['kdf'], join(ep, 'kdf'), ['argon2id-13', 'pbkdf2'] as const);
    const iterations = c.integer(pr['iterations'], join(ep, 'iterations'), undefined, 1, 100_000_000);
    const memory = kdf === 'argon2id-13' ? c.integer(pr['memory'], join(ep, 'memory'), undefined, 8, 4 * 1024 * 1024) : undefined;
    if (kdf === 'pbkdf2' && pr['memory'] !== undefined) c.warn(join(ep, 'memory'), 'applies only to kdf "argon2id-13"; ignored for "pbkdf2"');
    const salt = hexBytes(c, pr['salt'], join(ep, 'salt'), 'must be hex (even length, at least 2 characters)');
    const storedKey = hexBytes(c, pr['stored-key'], join(ep, 'stored-key'), KEY_MESSAGE, 32);
    const serverKey = hexBytes(c, pr['server-key'], join(ep, 'server-key'), KEY_MESSAGE, 32);
    if (!kdf || iterations === undefined || (kdf === 'argon2id-13' && memory === undefined) || !salt || !storedKey || !serverKey) return;
    const principal: ScramPrincipal = { kdf, iterations, salt, storedKey, serverKey, role };
    if (memory !== undefined) principal.memory = memory;
    return parser.withRealm(principal, pr, ep);
  }, principals);
  return { type: 'static', principals };
}

/**
 * tls: principals { authid: { certificate-sha1, role, realm } } (Crossbar's), or dynamic. Junction
 * also takes a principal without `certificate-sha1`: a certificate the listener's `ca` verified,
 * whose CN is the authid.
 */
export function parseTlsAuth(c: Checker, value: unknown, p: string, parser: AuthParser): TlsAuthConfig | undefined {
  const o = c.object(value, p, ['type', 'principals', 'authenticator', 'authenticator-realm']);
  const kind = o && parser.kind(o, p);
  if (!o || !kind) return undefined;
  if (kind === 'dynamic') return parser.dynamic(o, p);
  parser.noDynamicKeys(o, p);
  const principals: Record<string, TlsPrincipal> = {};
  const owner = new Map<string, string>();
  parser.principals(o, p, 'principals', (entry, ep) => {
    const pr = c.object(entry, ep, ['certificate-sha1', 'role', 'realm']);
    if (!pr) return;
    const principal: TlsPrincipal = { role: parser.role(pr['role'], join(ep, 'role')) };
    const fp = c.string(pr['certificate-sha1'], join(ep, 'certificate-sha1'), { required: false });
    if (fp !== undefined) {
      if (!SHA1_FINGERPRINT.test(fp)) c.error(join(ep, 'certificate-sha1'), 'must be a SHA-1 fingerprint: 20 bytes in hex, with or without colons');
      else {
        principal.certificateSha1 = normalizeSha1(fp);
        const first = owner.get(principal.certificateSha1);
        if (first !== undefined) c.error(join(ep, 'certificate-sha1'), `this certificate is already ${first}'s`);
        owner.set(principal.certificateSha1, ep);
      }
    }
    return parser.withRealm(principal, pr, ep);
  }, principals);
  return { type: 'static', principals };
}

/** Uppercase hex with colons, the way Crossbar (and Node's X509Certificate) write fingerprints. */
export function normalizeSha1(fp: string): string {
  return fp.replace(/:/g, '').toUpperCase().match(/../g)!.join(':');
}
