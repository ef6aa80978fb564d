// What authentication may learn from a TLS connection, read from the socket when asked: the
// client's certificate (TLS client-certificate authentication) and the channel bindings that tie a
// Cryptosign signature to this one connection. The router core sees only the TlsSession interface
// (src/core-boundary.ts), never the socket.

import { createHash, type X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import type { ChannelBindingType, ClientCertificate, TlsSession } from '../core-boundary.js';

/** The TLS side of a connection, or undefined for plain TCP and Unix sockets. */
export function tlsSessionOf(socket: Socket): TlsSession | undefined {
  const tls = socket as TLSSocket;
  if (tls.encrypted !== true) return undefined;
  return {
    clientCertificate: () => clientCertificate(tls),
    channelBinding: (type) => channelBinding(tls, type),
  };
}

/**
 * The client's certificate when it verified against the listener's `ca` (an unverified one counts
 * as none), shaped as Crossbar hands it to authenticators (`transport.client_cert`): fingerprints
 * as uppercase colon-separated hex, subject and issuer components by lowercase name.
 */
function clientCertificate(socket: TLSSocket): ClientCertificate | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerX509Certificate?.();
  if (!cert) return undefined;
  const md5 = createHash('md5').update(cert.raw).digest('hex').toUpperCase().match(/../g)!.join(':');
  return {
    md5,
    sha1: cert.fingerprint.toUpperCase(),
    sha256: cert.fingerprint256.toUpperCase(),
    expired: Date.parse(cert.validTo) < Date.now(),
    serial: cert.serialNumber,
    not_before: cert.validFrom,
    not_after: cert.validTo,
    subject: nameComponents(cert.subject),
    issuer: nameComponents(cert.issuer),
  };
}

function nameComponents(name: X509Certificate['subject']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of name.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq).toLowerCase()] = line.slice(eq + 1);
  }
  return out;
}

/**
 * The 32-byte channel ID Autobahn binds a Cryptosign signature to. `tls-unique` (RFC 5929): SHA-256
 * of the first Finished message of the handshake — the client's in a full handshake, ours in a
 * resumed one — defined up to TLS 1.2 only (undefined on TLS 1.3, where it would bind nothing).
 * `tls-exporter` (RFC 9266): the keying material exported with label "EXPORTER-Channel-Binding",
 * no context, 32 bytes; TLS 1.3 only (where the exporter is safe without extended master secret).
 */
function channelBinding(socket: TLSSocket, type: ChannelBindingType): Buffer | undefined {
  const version = socket.getProtocol();
  if (type === 'tls-unique') {
    if (version === null || version === 'TLSv1.3') return undefined;
    const finished = socket.isSessionReused() ? socket.getFinished() : socket.getPeerFinished();
    return finished ? createHash('sha256').update(finished).digest() : undefined;
  }
  if (version !== 'TLSv1.3') return undefined;
  // TLS 1.3 makes no difference between an empty context and none (RFC 8446 7.5).
  return socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
}
