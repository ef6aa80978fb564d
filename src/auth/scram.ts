// WAMP-SCRAM, as Autobahn implements it (the WAMP spec's draft, RFC 5802 over WAMP). The router
// holds only StoredKey and ServerKey, derived from the password by a slow KDF (Argon2id or PBKDF2)
// that only the client runs:
//   HELLO        authid, authextra.nonce (base64)
//   CHALLENGE    nonce (client nonce + 16 random bytes, base64), kdf, salt (base64), iterations, memory (Argon2id)
//   AUTHENTICATE base64(ClientProof) = ClientKey XOR HMAC(StoredKey, AuthMessage)
//   WELCOME      authextra.scram_server_signature = base64(HMAC(ServerKey, AuthMessage)): the client checks the router knew the keys
// AuthMessage = "n=<saslprep(authid)>,r=<client nonce>,r=<server nonce>,s=<salt>,i=<iterations>,c=,r=<server nonce>"
// (channel binding empty, as Crossbar and Autobahn do).

import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import type { ScramCredential } from '../config/types.js';

type Argon2id = (password: Buffer | string, salt: Buffer | string, opts: { t: number; m: number; p: number; dkLen: number; version: number }) => Uint8Array;
let argon2: Argon2id | undefined;
/** @noble/hashes' Argon2id, loaded on first use: loading it costs ~3.5 MB of RSS, and only
 *  `junction derive-key` runs the KDF (a login never does: the principal's keys are derived). */
function argon2id(): Argon2id {
  return (argon2 ??= (createRequire(import.meta.url)('@noble/hashes/argon2') as { argon2id: Argon2id }).argon2id);
}

export type { ScramCredential };

export type ScramKdf = ScramCredential['kdf'];

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const KEY_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * A credential from its Crossbar shape ({kdf, iterations, memory, salt, stored-key, server-key}:
 * salt and keys in hex), or what is wrong with it (names the key; never shows a key's value).
 */
export function scramCredential(raw: Record<string, unknown>): ScramCredential | { error: string; key: string } {
  const kdf = raw['kdf'];
  if (kdf !== 'argon2id-13' && kdf !== 'pbkdf2') return { key: 'kdf', error: `must be one of "argon2id-13", "pbkdf2"` };
  const iterations = raw['iterations'];
  if (!Number.isInteger(iterations) || (iterations as number) < 1 || (iterations as number) > 100_000_000) return { key: 'iterations', error: 'must be an integer from 1' };
  const memory = raw['memory'];
  if (kdf === 'argon2id-13' && (!Number.isInteger(memory) || (memory as number) < 8 || (memory as number) > 4 * 1024 * 1024)) {
    return { key: 'memory', error: 'must be an integer from 8 (KiB) for kdf "argon2id-13"' };
  }
  const salt = raw['salt'];
  if (typeof salt !== 'string' || !HEX.test(salt)) return { key: 'salt', error: 'must be hex (even length, at least 2 characters)' };
  for (const key of ['stored-key', 'server-key']) {
    if (typeof raw[key] !== 'string' || !KEY_HEX.test(raw[key] as string)) return { key, error: 'must be 32 bytes as 64 hex characters (value not shown)' };
  }
  const credential: ScramCredential = {
    kdf, iterations: iterations as number, salt: Buffer.from(salt, 'hex'),
    storedKey: Buffer.from(raw['stored-key'] as string, 'hex'), serverKey: Buffer.from(raw['server-key'] as string, 'hex'),
  };
  if (kdf === 'argon2id-13') credential.memory = memory as number;
  return credential;
}

/** The client's nonce from HELLO's authextra.nonce (base64, decoded), or undefined when missing or not base64. */
export function scramClientNonce(authextra: Record<string, unknown>): Buffer | undefined {
  const nonce = authextra['nonce'];
  if (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > 256 || !/^[A-Za-z0-9+/]+={0,2}$/.test(nonce)) return undefined;
  const bytes = Buffer.from(nonce, 'base64');
  return bytes.length > 0 ? bytes : undefined;
}

/** One SCRAM exchange: the CHALLENGE's extra, then the check of the client's proof. */
export class ScramExchange {
  private readonly serverNonce: Buffer;

  constructor(private readonly authid: string, private readonly clientNonce: Buffer, private readonly credential: ScramCredential) {
    this.serverNonce = Buffer.concat([clientNonce, randomBytes(16)]);
  }

  challengeExtra(): Record<string, unknown> {
    const c = this.credential;
    // Only the keys Autobahn|Python accepts: it refuses a challenge with any other.
    const extra: Record<string, unknown> = { nonce: this.serverNonce.toString('base64'), kdf: c.kdf, salt: c.salt.toString('base64'), iterations: c.iterations };
    if (c.memory !== undefined) extra['memory'] = c.memory;
    return extra;
  }

  /** The server signature for WELCOME when the proof holds, undefined when it does not. */
  verify(proofBase64: unknown): string | undefined {
    const message = this.authMessage();
    const proof = typeof proofBase64 === 'string' ? Buffer.from(proofBase64, 'base64') : Buffer.alloc(0);
    const clientSignature = createHmac('sha256', this.credential.storedKey).update(message).digest();
    // Work through the comparison whatever the proof's length, so failures take the same time.
    const clientKey = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) clientKey[i] = (proof[i] ?? 0) ^ clientSignature[i]!;
    const ok = timingSafeEqual(createHash('sha256').update(clientKey).digest(), this.credential.storedKey) && proof.length === 32;
    return ok ? createHmac('sha256', this.credential.serverKey).update(message).digest('base64') : undefined;
  }

  private authMessage(): string {
    const nonce = this.serverNonce.toString('base64');
    return `n=${saslprep(this.authid)},r=${this.clientNonce.toString('base64')},` +
      `r=${nonce},s=${this.credential.salt.toString('base64')},i=${this.credential.iterations},` +
      `c=,r=${nonce}`;
  }
}

/** Characters SASLprep (RFC 4013) maps to nothing, and the non-ASCII spaces it maps to a space. */
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;

/** SASLprep's mapping and normalization (what Autobahn applies to the authid); prohibited characters are left to fail the proof. */
export function saslprep(s: string): string {
  return s.replace(MAPPED_TO_NOTHING, '').replace(NON_ASCII_SPACE, ' ').normalize('NFKC');
}

/**
 * A principal's keys from its password, as Autobahn's client derives them: with Argon2id (t =
 * iterations, m = memory KiB, p = 1, 32 bytes, version 0x13) the salted password is the hash's
 * unpadded base64 text; with PBKDF2-HMAC-SHA256 (32 bytes) it is the raw hash.
 */
export function scramDeriveKeys(password: string, kdf: ScramKdf, salt: Buffer, iterations: number, memory?: number): { storedKey: Buffer; serverKey: Buffer } {
  const secret = Buffer.from(password, 'utf8');
  const salted = kdf === 'argon2id-13'
    ? Buffer.from(Buffer.from(argon2id()(secret, salt, { t: iterations, m: memory ?? 512, p: 1, dkLen: 32, version: 0x13 })).toString('base64').replace(/=+$/, ''), 'ascii')
    : pbkdf2Sync(secret, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return { storedKey: createHash('sha256').update(clientKey).digest(), serverKey: createHmac('sha256', salted).update('Server Key').digest() };
}
