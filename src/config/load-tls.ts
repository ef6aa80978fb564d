// TLS in a config: an endpoint's `tls` block (key, certificate and chain, CA certificates; ciphers
// and dhparam in load-tls-options.ts) and the
// PEM files it names, also used by the MQTT bridges' `tls`. Files are read and checked here, so a
// bad certificate fails at load time, not at the first connection.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TlsConfig } from './types.js';
import { describeFileError, join, type Checker } from './check-values.js';
import { parseTlsOptions } from './load-tls-options.js';

/** Resolves a path from the config against the config file's directory. */
export interface FileResolver {
  file(path: string): string;
}

/**
 * TLS files (paths relative to the config file) are read and checked here: the key must be an
 * unencrypted private key, the certificate must parse and belong to the key. `chain_certificates`
 * (Crossbar) are appended to the certificate; `ca` (Junction) and `ca_certificates` (Crossbar)
 * are joined into `ca`.
 */
export function parseTls(c: Checker, value: unknown, path: string, files: FileResolver): TlsConfig | undefined {
  const t = c.object(value, path, ['key', 'certificate', 'chain_certificates', 'ca', 'ca_certificates', 'dhparam', 'ciphers']);
  if (!t) return undefined;
  const keyPath = join(path, 'key');
  const certPath = join(path, 'certificate');
  const keyPem = pemFile(c, t['key'], keyPath, files, true);
  let certPem = pemFile(c, t['certificate'], certPath, files, true);
  const chain = pemFiles(c, t['chain_certificates'], join(path, 'chain_certificates'), files);
  const ca = [pemFile(c, t['ca'], join(path, 'ca'), files, false), ...pemFiles(c, t['ca_certificates'], join(path, 'ca_certificates'), files)]
    .filter((x): x is string => x !== undefined);

  let key: ReturnType<typeof createPrivateKey> | undefined;
  if (keyPem !== undefined) {
    try {
      key = createPrivateKey(keyPem);
    } catch (err) {
      const encrypted = /ENCRYPTED/.test(keyPem);
      c.error(keyPath, encrypted
        ? 'the private key is encrypted; Junction needs it without a passphrase'
        : `not a usable private key: ${(err as Error).message}`);
    }
  }
  if (certPem !== undefined) {
    try {
      const cert = new X509Certificate(certPem);
      if (key && !cert.checkPrivateKey(key)) c.error(certPath, 'does not belong to the private key given in key');
      const expires = new Date(cert.validTo);
      if (expires.getTime() < Date.now()) c.warn(certPath, `the certificate expired on ${expires.toISOString()}`);
    } catch (err) {
      c.error(certPath, `not a usable certificate: ${(err as Error).message}`);
      certPem = undefined;
    }
  }
  const options = parseTlsOptions(c, t, path, files);
  if (keyPem === undefined || certPem === undefined || !key) return undefined;
  const tls: TlsConfig = { key: keyPem, certificate: [certPem, ...chain].map((p) => p.trimEnd() + '\n').join(''), ...options };
  if (ca.length > 0) tls.ca = ca.map((p) => p.trimEnd() + '\n').join('');
  return tls;
}

function pemFiles(c: Checker, value: unknown, path: string, files: FileResolver): string[] {
  return (c.array(value, path) ?? [])
    .map((f, i) => pemFile(c, f, join(path, i), files, true))
    .filter((x): x is string => x !== undefined);
}

/** Reads a PEM file named (relative to the config file) by `value`. */
export function pemFile(c: Checker, value: unknown, path: string, files: FileResolver, required = true): string | undefined {
  const file = c.string(value, path, { required });
  if (file === undefined) return undefined;
  const abs = files.file(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    c.error(path, `cannot read ${abs}: ${describeFileError(err)}`);
    return undefined;
  }
  if (!text.includes('-----BEGIN ')) {
    c.error(path, `${abs} is not a PEM file (no "-----BEGIN" line)`);
    return undefined;
  }
  return text;
}
