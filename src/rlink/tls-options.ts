// TLS toward the remote router (a wss:// URL, or an endpoint with `tls`): what Node's tls.connect
// (and ws, which passes them on) takes from the link's config, and a log line that says what to
// change when the remote router's certificate is not trusted.

import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import type { RLinkTransportConfig } from '../config/types.js';

export function tlsConnectOptions(transport: RLinkTransportConfig): ConnectionOptions {
  const o = transport.tlsOptions ?? {};
  const servername = o.servername ?? (isIP(transport.host) ? undefined : transport.host);
  return {
    ...(o.ca !== undefined ? { ca: o.ca } : {}),
    ...(o.certificate !== undefined ? { cert: o.certificate } : {}),
    ...(o.key !== undefined ? { key: o.key } : {}),
    ...(servername !== undefined ? { servername } : {}),
    // The name checked: `hostname` when given, else the host connected to.
    ...(o.servername !== undefined ? { checkServerIdentity: (_host: string, cert) => checkServerIdentity(o.servername!, cert) } : {}),
  };
}

/** Node's certificate errors, which name the problem but not the key that fixes it. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_SIGNATURE_FAILURE',
]);

/** Why a connection failed, in words for the log (and junction.rlink.get's last_error). */
export function describeConnectError(err: Error & { code?: string }): string {
  if (err.code && UNTRUSTED.has(err.code)) {
    return `TLS: the remote router's certificate is not trusted (${err.message}); give the CA that signed it in transport.endpoint.tls.ca`;
  }
  if (err.code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `TLS: ${err.message} (transport.endpoint.tls.hostname names the one to expect)`;
  if (err.code === 'CERT_HAS_EXPIRED') return `TLS: the remote router's certificate has expired (${err.message})`;
  return err.message;
}
