// WAMP-Cryptosign: the client names its Ed25519 public key in HELLO, the router sends 32 random
// bytes, and the client answers hex(signature || challenge) — 96 bytes. The router checks the
// trailing 32 bytes are its own challenge and the signature verifies against the key.
// Channel binding is not offered: the CHALLENGE carries no `channel_binding`, which tells the
// client none is in use.

import { createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const HEX_SIGNATURE = /^[0-9a-fA-F]{192}$/;

export function isPublicKeyHex(value: unknown): value is string {
  return typeof value === 'string' && HEX_KEY.test(value);
}

export function cryptosignChallenge(): string {
  return randomBytes(32).toString('hex');
}

function publicKey(hex: string): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(hex, 'hex')]), format: 'der', type: 'spki' });
}

export function cryptosignVerify(publicKeyHex: string, challengeHex: string, signatureHex: string): boolean {
  if (!HEX_SIGNATURE.test(signatureHex)) return false;
  const signed = Buffer.from(signatureHex, 'hex');
  const message = signed.subarray(64);
  if (!message.equals(Buffer.from(challengeHex, 'hex'))) return false;
  try {
    return verify(null, message, publicKey(publicKeyHex), signed.subarray(0, 64));
  } catch {
    return false; // not a valid point on the curve
  }
}

/** A new key pair for a device: the 32-byte private seed (Autobahn's key file format) and the public key, hex. */
export function cryptosignKeyPair(): { privateSeed: string; publicKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' }) as Buffer;
  const spki = publicKey.export({ format: 'der', type: 'spki' }) as Buffer;
  return { privateSeed: pkcs8.subarray(pkcs8.length - 32).toString('hex'), publicKey: spki.subarray(ED25519_SPKI_PREFIX.length).toString('hex') };
}
