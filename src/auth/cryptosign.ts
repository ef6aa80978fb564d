// WAMP-Cryptosign: the client names its Ed25519 public key in HELLO, the router sends 32 random
// bytes, and the client answers hex(signature || challenge) — 96 bytes. The router checks the
// trailing 32 bytes are its own challenge and the signature verifies against the key.
// Channel binding: the CHALLENGE always names it (`channel_binding`: null when unused, as Crossbar
// sends it). When the client asked for one in HELLO (authextra.channel_binding, 'tls-unique' or
// 'tls-exporter'), it signs the challenge XOR the connection's 32-byte channel ID, so a signature
// made on one TLS connection is worthless on another.

import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
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

/** `channelId`: the 32-byte channel ID the client was asked to bind its signature to. */
export function cryptosignVerify(publicKeyHex: string, challengeHex: string, signatureHex: string, channelId?: Buffer): boolean {
  if (!HEX_SIGNATURE.test(signatureHex)) return false;
  const signed = Buffer.from(signatureHex, 'hex');
  const message = signed.subarray(64);
  const expected = Buffer.from(challengeHex, 'hex');
  if (channelId) for (let i = 0; i < expected.length; i++) expected[i]! ^= channelId[i]!;
  if (!message.equals(expected)) return false;
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

/**
 * The client's side (Junction as a client of another router: src/rlink/): the signer for a 32-byte
 * private seed, hex. `publicKey` goes into HELLO's authextra.pubkey; `answer` turns a CHALLENGE's
 * hex challenge into the AUTHENTICATE signature (no channel binding).
 */
export function cryptosignSigner(privateSeedHex: string): { publicKey: string; answer(challengeHex: string): string } {
  const key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, Buffer.from(privateSeedHex, 'hex')]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' }) as Buffer;
  return {
    publicKey: spki.subarray(ED25519_SPKI_PREFIX.length).toString('hex'),
    answer: (challengeHex) => {
      const challenge = Buffer.from(challengeHex, 'hex');
      return Buffer.concat([sign(null, challenge, key), challenge]).toString('hex');
    },
  };
}
