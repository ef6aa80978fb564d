// The `auth` block of a WAMP transport: which authentication methods it allows and whom each
// lets in. Crossbar's shapes: every method is `static` (principals in the file) or `dynamic` (an
// `authenticator` procedure decides). Secrets may stay out of the file: "${NAME}" reads the
// environment variable NAME, { file: "path" } reads a file (Junction extension), so a config can be
// committed without them. Error messages never echo a secret.

import { readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import type {
  AnonymousAuthConfig, AuthConfig, CryptosignAuthConfig, CryptosignPrincipal, DynamicAuthConfig,
  TicketAuthConfig, WampcraAuthConfig, WampcraUser,
} from './types.js';
import { describe, join, type Checker, type Obj } from './check-values.js';
import { isValidUri } from '../wamp/uri.js';
import { parseScramAuth, parseTlsAuth } from './load-auth-methods.js';
import { ANONYMOUS_ROLE } from '../wamp/roles.js';
import { parseCookieAuth } from './load-cookie.js';
import { dropProxyMethods } from './proxy-auth-methods.js';

const METHODS = ['anonymous', 'ticket', 'wampcra', 'cryptosign', 'scram', 'tls', 'cookie'] as const;
const ED25519_KEY = /^[0-9a-fA-F]{64}$/;

export interface AuthParseContext {
  /** Roles named here; the caller checks that each exists in some realm. */
  roleRefs: Array<{ role: string; path: string }>;
  /** Resolves a path from the file against the config file's directory. */
  file(path: string): string;
}

export function parseAuth(c: Checker, value: unknown, path: string, ctx: AuthParseContext): AuthConfig {
  const proxies = dropProxyMethods(c, value, path);
  const checked = c.object(proxies.rest, path, METHODS);
  const out: AuthConfig = {};
  if (!checked) return out;
  const a: Obj = { ...checked }; // less the methods Junction cannot offer (below)
  if (Object.keys(a).length === 0 && !proxies.dropped) c.error(path, `must enable at least one authentication method (${METHODS.join(', ')})`);
  const parser = new AuthParser(c, ctx);
  for (const method of METHODS) {
    const m = a[method];
    if (c.isObject(m) && m['type'] === 'function') {
      // A Python function cannot run here: the method is not offered (its logins fail), and the
      // user is told how to get it back.
      c.warn(join(join(path, method), 'type'), 'type "function" is a Python function inside Crossbar: Junction does not offer this method (its logins fail); use "dynamic" with an authenticator procedure, or "static"');
      delete a[method];
    }
  }
  if (a['anonymous'] !== undefined) out.anonymous = parser.anonymous(a['anonymous'], join(path, 'anonymous'));
  if (a['ticket'] !== undefined) out.ticket = parser.ticket(a['ticket'], join(path, 'ticket'));
  if (a['wampcra'] !== undefined) out.wampcra = parser.wampcra(a['wampcra'], join(path, 'wampcra'));
  if (a['cryptosign'] !== undefined) out.cryptosign = parser.cryptosign(a['cryptosign'], join(path, 'cryptosign'));
  if (a['scram'] !== undefined) out.scram = parseScramAuth(c, a['scram'], join(path, 'scram'), parser);
  if (a['tls'] !== undefined) out.tls = parseTlsAuth(c, a['tls'], join(path, 'tls'), parser);
  if (a['cookie'] !== undefined) out.cookie = parseCookieAuth(c, a['cookie'], join(path, 'cookie'));
  return out;
}

export class AuthParser {
  constructor(private readonly c: Checker, private readonly ctx: AuthParseContext) {}

  anonymous(value: unknown, p: string): AnonymousAuthConfig | undefined {
    const o = this.c.object(value, p, ['type', 'role', 'authid', 'realm', 'authenticator', 'authenticator-realm']);
    const kind = o && this.kind(o, p);
    if (!o || !kind) return undefined;
    if (kind === 'dynamic') return this.dynamic(o, p);
    this.noDynamicKeys(o, p);
    const role = o['role'] === undefined ? ANONYMOUS_ROLE : this.role(o['role'], join(p, 'role'));
    if (o['role'] === undefined) this.ctx.roleRefs.push({ role, path: p });
    const anonymous: AnonymousAuthConfig = { type: 'static', role };
    const authid = this.c.string(o['authid'], join(p, 'authid'), { required: false });
    if (authid !== undefined) anonymous.authid = authid;
    const realm = this.realm(o['realm'], join(p, 'realm'));
    if (realm !== undefined) anonymous.realm = realm;
    return anonymous;
  }

  ticket(value: unknown, p: string): TicketAuthConfig | undefined {
    const o = this.c.object(value, p, ['type', 'principals', 'authenticator', 'authenticator-realm']);
    const kind = o && this.kind(o, p);
    if (!o || !kind) return undefined;
    if (kind === 'dynamic') return this.dynamic(o, p);
    this.noDynamicKeys(o, p);
    const principals: Record<string, { ticket: string; role: string; realm?: string }> = {};
    this.principals(o, p, 'principals', (entry, ep) => {
      const pr = this.c.object(entry, ep, ['ticket', 'role', 'realm']);
      if (!pr) return;
      return this.withRealm<{ ticket: string; role: string; realm?: string }>({ ticket: this.secret(pr['ticket'], join(ep, 'ticket')) ?? '', role: this.role(pr['role'], join(ep, 'role')) }, pr, ep);
    }, principals);
    return { type: 'static', principals };
  }

  wampcra(value: unknown, p: string): WampcraAuthConfig | undefined {
    const o = this.c.object(value, p, ['type', 'users', 'authenticator', 'authenticator-realm']);
    const kind = o && this.kind(o, p);
    if (!o || !kind) return undefined;
    if (kind === 'dynamic') return this.dynamic(o, p);
    this.noDynamicKeys(o, p);
    const users: Record<string, WampcraUser> = {};
    this.principals(o, p, 'users', (entry, ep) => {
      const u = this.c.object(entry, ep, ['secret', 'role', 'realm', 'salt', 'iterations', 'keylen']);
      if (!u) return;
      const user: WampcraUser = { secret: this.secret(u['secret'], join(ep, 'secret')) ?? '', role: this.role(u['role'], join(ep, 'role')) };
      const salt = this.c.string(u['salt'], join(ep, 'salt'), { required: false, nonEmpty: true });
      if (salt !== undefined) {
        // The client derives the key with these; Autobahn's defaults when the router omits them.
        user.salt = salt;
        user.iterations = this.c.integer(u['iterations'], join(ep, 'iterations'), 1000, 1, 10_000_000);
        user.keylen = this.c.integer(u['keylen'], join(ep, 'keylen'), 32, 1, 1024);
      } else {
        for (const key of ['iterations', 'keylen']) {
          if (u[key] !== undefined) this.c.error(join(ep, key), 'applies only with a salt (the salted WAMP-CRA variant)');
        }
      }
      return this.withRealm(user, u, ep);
    }, users);
    return { type: 'static', users };
  }

  cryptosign(value: unknown, p: string): CryptosignAuthConfig | undefined {
    const o = this.c.object(value, p, ['type', 'principals', 'authenticator', 'authenticator-realm', 'trustroots']);
    const kind = o && this.kind(o, p);
    if (!o || !kind) return undefined;
    // Crossbar's trust roots vouch for keys by certificate chains anchored on Ethereum: Junction has
    // no such check, so a key logs in only as a principal's authorized key (failing closed).
    if (o['trustroots'] !== undefined) {
      this.c.warn(join(p, 'trustroots'), 'certificate trust roots are not checked by Junction: a key logs in only when a principal lists it in authorized_keys; clients presenting a trust-root certificate are refused');
    }
    if (kind === 'dynamic') return this.dynamic(o, p);
    this.noDynamicKeys(o, p);
    const principals: Record<string, CryptosignPrincipal> = {};
    if (o['principals'] === undefined && o['trustroots'] !== undefined) return { type: 'static', principals };
    const owner = new Map<string, string>();
    this.principals(o, p, 'principals', (entry, ep) => {
      const pr = this.c.object(entry, ep, ['authorized_keys', 'role', 'realm']);
      if (!pr) return;
      const kp = join(ep, 'authorized_keys');
      const keys: string[] = [];
      (this.c.array(pr['authorized_keys'], kp, { required: true, nonEmpty: true }) ?? []).forEach((k, i) => {
        const keyPath = join(kp, i);
        if (typeof k !== 'string' || !ED25519_KEY.test(k)) {
          this.c.error(keyPath, `must be an Ed25519 public key as 64 hex characters, got ${describe(k)}`);
          return;
        }
        const key = k.toLowerCase();
        // One key, one identity: otherwise the authid a key logs in as would depend on file order.
        const first = owner.get(key);
        if (first !== undefined) this.c.error(keyPath, `this key is already authorized for ${first}`);
        else owner.set(key, ep);
        keys.push(key);
      });
      return this.withRealm<CryptosignPrincipal>({ authorizedKeys: keys, role: this.role(pr['role'], join(ep, 'role')) }, pr, ep);
    }, principals);
    return { type: 'static', principals };
  }

  // ---- shared pieces ----

  /** A principal's `realm`: the only realm it may join, given to a HELLO that names none. */
  realm(value: unknown, path: string): string | undefined {
    return this.uri(value, path, false);
  }

  withRealm<T extends { realm?: string }>(principal: T, entry: Obj, path: string): T {
    const realm = this.realm(entry['realm'], join(path, 'realm'));
    if (realm !== undefined) principal.realm = realm;
    return principal;
  }

  principals<T>(o: Obj, p: string, key: string, parse: (entry: unknown, path: string) => T | undefined, into: Record<string, T>): void {
    const pp = join(p, key);
    if (o[key] === undefined) {
      this.c.error(pp, 'is required for type "static": the principals who may log in');
      return;
    }
    const entries = this.c.map(o[key], pp);
    if (entries && Object.keys(entries).length === 0) this.c.error(pp, 'must list at least one principal');
    for (const [authid, entry] of Object.entries(entries ?? {})) {
      const parsed = parse(entry, join(pp, authid));
      if (parsed !== undefined) into[authid] = parsed;
    }
  }

  role(value: unknown, path: string): string {
    const role = this.c.string(value, path) ?? '';
    this.ctx.roleRefs.push({ role, path });
    return role;
  }

  /** 'static' | 'dynamic', or undefined (reported) when the type is missing or wrong. */
  kind(o: Obj, p: string): 'static' | 'dynamic' | undefined {
    return this.c.oneOf(o['type'], join(p, 'type'), ['static', 'dynamic'] as const);
  }

  noDynamicKeys(o: Obj, p: string): void {
    for (const key of ['authenticator', 'authenticator-realm']) {
      if (o[key] !== undefined) this.c.error(join(p, key), 'applies only to type "dynamic"');
    }
  }

  dynamic(o: Obj, p: string): DynamicAuthConfig {
    for (const key of Object.keys(o)) {
      if (!['type', 'authenticator', 'authenticator-realm'].includes(key)) this.c.error(join(p, key), 'does not apply to type "dynamic" (the authenticator decides)');
    }
    const out: DynamicAuthConfig = { type: 'dynamic', authenticator: this.uri(o['authenticator'], join(p, 'authenticator'), true) ?? '' };
    const realm = this.uri(o['authenticator-realm'], join(p, 'authenticator-realm'), false);
    if (realm !== undefined) out.authenticatorRealm = realm;
    return out;
  }

  private uri(value: unknown, path: string, required: boolean): string | undefined {
    const s = this.c.string(value, path, { required });
    if (s !== undefined && !isValidUri(s)) this.c.error(path, `must be a URI, got ${describe(s)}`);
    return s;
  }

  private secret(value: unknown, path: string): string | undefined {
    return parseSecret(this.c, value, path, (p) => this.ctx.file(p));
  }
}

/**
 * A secret: a literal string, "${NAME}" (the environment variable NAME, as Crossbar does), or
 * { file: "path" } (the file's content, one trailing newline removed; `file` resolves the path).
 * Errors never show the value. Shared by the auth blocks and the MQTT bridges' broker password.
 */
export function parseSecret(c: Checker, value: unknown, path: string, file: (p: string) => string): string | undefined {
  if (c.isObject(value)) {
    const o = c.object(value, path, ['file']);
    const f = o ? c.string(o['file'], join(path, 'file')) : undefined;
    if (f === undefined) return undefined;
    const abs = file(f);
    try {
      const text = readFileSync(abs, 'utf8').replace(/\r?\n$/, '');
      if (text === '') c.error(join(path, 'file'), `${abs} is empty`);
      return text;
    } catch (err) {
      c.error(join(path, 'file'), `cannot read ${abs}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return undefined;
    }
  }
  if (typeof value !== 'string') {
    // Never echo what was there: it may be a secret.
    c.error(path, value === undefined ? 'is required' : 'must be a string, "${ENV_VAR}" or { file: path } (value not shown)');
    return undefined;
  }
  const env = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(value);
  if (!env) {
    if (value === '') c.error(path, 'must not be empty');
    return value;
  }
  const name = env[1]!;
  const fromEnv = process.env[name];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const credentials = process.env['CREDENTIALS_DIRECTORY'];
  if (!credentials) {
    c.error(path, `environment variable ${name} is not set`);
    return undefined;
  }
  return credentialSecret(c, credentials, name, path);
}

/**
 * "${NAME}" under systemd: the credential NAME ($CREDENTIALS_DIRECTORY/NAME, from the unit's
 * LoadCredential=NAME), read when the environment has no NAME. The environment wins so that an
 * operator's explicit override (Environment=, EnvironmentFile=, a shell) behaves as in Crossbar and
 * `junction check` run by hand gives the same answer as the service; a credential fills the gap
 * without the secret ever being in the environment.
 */
function credentialSecret(c: Checker, dir: string, name: string, path: string): string | undefined {
  try {
    const text = readFileSync(joinPath(dir, name), 'utf8').replace(/\r?\n$/, '');
    if (text === '') c.error(path, `systemd credential ${name} is empty`);
    return text;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    c.error(path, code === 'ENOENT'
      ? `environment variable ${name} is not set, and there is no systemd credential ${name} (LoadCredential=${name}) in ${dir}`
      : `cannot read systemd credential ${name} in ${dir}: ${code ?? (err as Error).message}`);
    return undefined;
  }
}
