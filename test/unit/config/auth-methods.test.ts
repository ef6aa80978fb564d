// The `scram` and `tls` authentication methods and principals' `realm` in a transport's `auth`
// block (issue 16): Crossbar's shapes accepted, bad values refused by key path, keys never echoed.
import { describe, it, expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../../src/config/load.js';
import { errorsOf } from '../../helpers/config.js';

type Raw = any;
const T0 = 'workers[0].transports[0]';
const A = `${T0}.auth`;
const KEY = 'ab'.repeat(32);
const FIXTURES = fileURLToPath(new URL('../../fixtures/tls', import.meta.url));

function withAuth(auth: unknown): Raw {
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [{ name: 'realm1', roles: [{ name: 'device', permissions: [{ uri: '', match: 'prefix', allow: { call: true } }] }] }],
      transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 8080 }, auth }],
    }],
  };
}

describe('auth: scram, tls and principal realms', () => {
  it('scram: Crossbar principals (Argon2id and PBKDF2) load decoded; dynamic takes an authenticator', () => {
    const raw = withAuth({
      scram: {
        type: 'static',
        principals: {
          alice: { kdf: 'argon2id-13', iterations: 4096, memory: 512, salt: 'ff8d9819fc0e12bf0d24892e45987e24', 'stored-key': KEY, 'server-key': KEY, role: 'device', realm: 'realm1' },
          bob: { kdf: 'pbkdf2', iterations: 1000, salt: '00ff', 'stored-key': KEY, 'server-key': KEY, role: 'device' },
        },
      },
    });
    expect(errorsOf(raw)).toEqual({});
    const auth = parseConfig(raw).router.listeners[0]!.websocket!['/']!.auth!;
    expect(auth.scram).toMatchObject({ type: 'static', principals: {
      alice: { kdf: 'argon2id-13', iterations: 4096, memory: 512, salt: Buffer.from('ff8d9819fc0e12bf0d24892e45987e24', 'hex'), storedKey: Buffer.from(KEY, 'hex'), role: 'device', realm: 'realm1' },
      bob: { kdf: 'pbkdf2', iterations: 1000, salt: Buffer.from([0, 255]), role: 'device' },
    } });
    expect(errorsOf(withAuth({ scram: { type: 'dynamic', authenticator: 'com.example.auth' } }))).toEqual({});
  });

  it('scram: bad kdf, iterations, memory, salt and keys are errors by path; key values are not shown', () => {
    const raw = withAuth({
      scram: {
        type: 'static',
        principals: {
          a: { kdf: 'scrypt', iterations: 0, salt: 'xyz', 'stored-key': 'secret-ish', 'server-key': KEY, role: 'device' },
          b: { kdf: 'argon2id-13', iterations: 10, salt: '00', 'stored-key': KEY, role: 'device' },
        },
      },
    });
    const p = `${A}.scram.principals`;
    expect(errorsOf(raw)).toEqual({
      [`${p}.a.kdf`]: 'must be one of "argon2id-13", "pbkdf2", got "scrypt"',
      [`${p}.a.iterations`]: 'must be between 1 and 100000000, got 0',
      [`${p}.a.salt`]: 'must be hex (even length, at least 2 characters)',
      [`${p}.a.stored-key`]: 'must be 32 bytes as 64 hex characters (value not shown)',
      [`${p}.b.memory`]: 'is required',
      [`${p}.b.server-key`]: 'is required',
    });
  });

  it('tls: principals by certificate-sha1 (with or without colons) or by CN; duplicates and bad fingerprints are errors', () => {
    const fp = 'BE:51:B2:69:6C:FE:C4:A3:1F:9E:18:9D:92:6A:E4:8D:94:2C:F8:5D';
    expect(errorsOf(withAuth({ tls: { type: 'static', principals: { gw: { 'certificate-sha1': fp, role: 'device' }, 'junction-test-client': { role: 'device' } } } }))).toEqual({});
    const p = `${A}.tls.principals`;
    expect(errorsOf(withAuth({
      tls: { type: 'static', principals: { a: { 'certificate-sha1': fp.replace(/:/g, '').toLowerCase(), role: 'device' }, b: { 'certificate-sha1': fp, role: 'device' }, c: { 'certificate-sha1': 'nope', role: 'device' } } },
    }))).toEqual({
      [`${p}.b.certificate-sha1`]: `this certificate is already ${p}.a's`,
      [`${p}.c.certificate-sha1`]: 'must be a SHA-1 fingerprint: 20 bytes in hex, with or without colons',
    });
    expect(errorsOf(withAuth({ tls: { type: 'dynamic', authenticator: 'com.example.auth', 'authenticator-realm': 'realm1' } }))).toEqual({});
  });

  it('tls: a warning when the endpoint cannot ask clients for a certificate (no TLS, or TLS without `ca`), none with one', () => {
    const tlsAuth = { tls: { type: 'static', principals: { gw: { role: 'device' } } } };
    const warnings = (raw: Raw) => Object.fromEntries((parseConfig(raw, undefined, FIXTURES).warnings ?? []).map((w) => [w.path, w.message]));
    expect(warnings(withAuth(tlsAuth))).toEqual({ [`${T0}.endpoint.tls`]: expect.stringMatching(/^is missing: `tls` authentication needs a TLS endpoint with a `ca`/) });
    const withEndpointTls = (tls: Record<string, string>) => {
      const raw = withAuth(tlsAuth) as any;
      raw.workers[0].transports[0].endpoint.tls = tls;
      return raw as Raw;
    };
    expect(warnings(withEndpointTls({ key: 'server.key', certificate: 'server.crt' }))).toEqual({ [`${T0}.endpoint.tls`]: expect.stringMatching(/^has no `ca`.*nobody can log in with the `tls` auth method$/) });
    expect(warnings(withEndpointTls({ key: 'server.key', certificate: 'server.crt', ca: 'ca.crt' }))).toEqual({});
  });

  it("a principal's realm: accepted on every static method (Crossbar's key), must be a URI", () => {
    expect(errorsOf(withAuth({
      anonymous: { type: 'static', role: 'device', realm: 'realm1' },
      ticket: { type: 'static', principals: { t: { ticket: 's', role: 'device', realm: 'realm1' } } },
      wampcra: { type: 'static', users: { w: { secret: 's', role: 'device', realm: 'realm1' } } },
      cryptosign: { type: 'static', principals: { c: { authorized_keys: [KEY], role: 'device', realm: 'realm1' } } },
    }))).toEqual({});
    expect(errorsOf(withAuth({ ticket: { type: 'static', principals: { t: { ticket: 's', role: 'device', realm: 'not a uri!' } } } }))).toEqual({
      [`${A}.ticket.principals.t.realm`]: 'must be a URI, got "not a uri!"',
    });
  });
});
