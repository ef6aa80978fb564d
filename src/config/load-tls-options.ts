// A TLS endpoint's `ciphers` and `dhparam` (Crossbar's keys): the OpenSSL cipher list the server
// offers, and Diffie-Hellman parameters for DHE cipher suites. Both are checked at load, so a
// cipher list OpenSSL matches nothing in, or a file that is not DH parameters, is an error by
// key path instead of a listener that fails at its first handshake.

import { createSecureContext } from 'node:tls';
import { readFileSync } from 'node:fs';
import { describeFileError, join, type Checker, type Obj } from './check-values.js';
import type { FileResolver } from './load-tls.js';

export function parseTlsOptions(c: Checker, t: Obj, path: string, files: FileResolver): { ciphers?: string; dhparam?: string } {
  const options: { ciphers?: string; dhparam?: string } = {};
  const cp = join(path, 'ciphers');
  const ciphers = c.string(t['ciphers'], cp, { required: false });
  if (ciphers !== undefined) {
    try {
      createSecureContext({ ciphers });
      options.ciphers = ciphers;
    } catch (err) {
      c.error(cp, `Node.js (OpenSSL) refuses this cipher list: ${(err as Error).message}`);
    }
  }
  const dp = join(path, 'dhparam');
  const file = c.string(t['dhparam'], dp, { required: false });
  if (file !== undefined) {
    const abs = files.file(file);
    let pem: string | undefined;
    try {
      pem = readFileSync(abs, 'utf8');
    } catch (err) {
      c.error(dp, `cannot read ${abs}: ${describeFileError(err)}`);
    }
    if (pem !== undefined) {
      const problem = dhParamsProblem(pem);
      if (problem) c.error(dp, `${abs}: ${problem}`);
      else options.dhparam = pem;
    }
  }
  return options;
}

/**
 * Why `pem` is not usable DH parameters, or undefined. OpenSSL takes a bad file without a word
 * (DHE suites are then just never chosen), so the PEM block is read here: a DER SEQUENCE of the
 * prime and the generator, the prime at least 1024 bits (what OpenSSL accepts for DHE).
 */
export function dhParamsProblem(pem: string): string | undefined {
  const m = /-----BEGIN DH PARAMETERS-----([\s\S]*?)-----END DH PARAMETERS-----/.exec(pem);
  if (!m) return 'not a PEM file of DH parameters (no "-----BEGIN DH PARAMETERS-----" block; make one with `openssl dhparam -out dhparam.pem 2048`)';
  const der = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  let at = 0;
  const header = (tag: number): number | undefined => {
    if (der[at++] !== tag) return undefined;
    let len = der[at++];
    if (len === undefined) return undefined;
    if (len & 0x80) {
      const bytes = len & 0x7f;
      if (bytes < 1 || bytes > 4) return undefined;
      len = 0;
      for (let i = 0; i < bytes; i++) len = len * 256 + (der[at++] ?? 0);
    }
    return at + len <= der.length ? len : undefined;
  };
  if (header(0x30) === undefined) return 'the DH PARAMETERS block is not DER-encoded parameters';
  const primeLength = header(0x02);
  if (primeLength === undefined) return 'the DH PARAMETERS block holds no prime';
  const leadingZero = der[at] === 0 ? 1 : 0;
  const bits = (primeLength - leadingZero) * 8;
  if (bits < 1024) return `the prime has ${bits} bits; at least 1024 are needed (2048 recommended)`;
  return undefined;
}
