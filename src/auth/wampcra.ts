// WAMP-CRA: the router sends a challenge (a JSON string naming the session, a nonce and the time);
// the client answers with base64(HMAC-SHA256(secret, challenge)). With the salted variant the
// router also sends salt, iterations and keylen, and the secret it holds is the client's derived
// key: base64(PBKDF2-HMAC-SHA256(password, salt, iterations, keylen)).

import { createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Dict } from '../wamp/message.js';

export interface CraChallenge {
  /** The exact string the client signs. */
  challenge: string;
  /** CHALLENGE.Extra. */
  extra: Dict;
}

export interface CraSecret {
  secret: string;
  salt?: string;
  iterations?: number;
  keylen?: number;
}

export function craChallenge(fields: { authid: string; authrole: string; authprovider: string; session: number }, secret: CraSecret): CraChallenge {
  const challenge = JSON.stringify({
    authid: fields.authid,
    authrole: fields.authrole,
    authmethod: 'wampcra',
    authprovider: fields.authprovider,
    nonce: randomBytes(24).toString('base64'),
    timestamp: new Date().toISOString(),
    session: fields.session,
  });
  const extra: Dict = { challenge };
  if (secret.salt !== undefined) {
    extra['salt'] = secret.salt;
    extra['iterations'] = secret.iterations ?? 1000;
    extra['keylen'] = secret.keylen ?? 32;
  }
  return { challenge, extra };
}

/** Constant-time check of the client's signature over the challenge it was sent. */
export function craVerify(challenge: string, secret: string, signature: string): boolean {
  const expected = createHmac('sha256', secret).update(challenge).digest();
  let given: Buffer;
  try {
    given = Buffer.from(signature, 'base64');
  } catch {
    return false;
  }
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The key a salted WAMP-CRA user's `secret` holds: what `junction derive-key` prints. */
export function craDeriveKey(password: string, salt: string, iterations = 1000, keylen = 32): string {
  return pbkdf2Sync(password, salt, iterations, keylen, 'sha256').toString('base64');
}
