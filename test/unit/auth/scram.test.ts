// WAMP-SCRAM with the PBKDF2 KDF. Autobahn|Python 22.7's client cannot take this path (it hands
// the challenge's salt, a str, to a pbkdf2() that wants bytes, and raises), so the client side here
// is written from RFC 5802 with node:crypto: SaltedPassword = PBKDF2-HMAC-SHA256(password, salt, i, 32).
import { describe, it, expect } from 'vitest';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { ScramExchange, scramDeriveKeys, saslprep } from '../../../src/auth/scram.js';

function clientProof(password: string, authid: string, clientNonce: string, extra: any): { proof: string; serverSignature: string } {
  const salted = pbkdf2Sync(password, Buffer.from(extra.salt, 'base64'), extra.iterations, 32, 'sha256');
  const message = `n=${authid},r=${clientNonce},r=${extra.nonce},s=${extra.salt},i=${extra.iterations},c=,r=${extra.nonce}`;
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const signature = createHmac('sha256', storedKey).update(message).digest();
  const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!)).toString('base64');
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return { proof, serverSignature: createHmac('sha256', serverKey).update(message).digest('base64') };
}

describe('WAMP-SCRAM with PBKDF2', () => {
  const salt = randomBytes(16);
  const credential = { kdf: 'pbkdf2' as const, iterations: 1000, salt, ...scramDeriveKeys('pw', 'pbkdf2', salt, 1000) };

  it('a proof from the right password passes and yields the server signature the client expects; a wrong one fails', () => {
    const nonce = randomBytes(16);
    const exchange = new ScramExchange('carol', nonce, credential);
    const extra = exchange.challengeExtra();
    expect(Object.keys(extra).sort()).toEqual(['iterations', 'kdf', 'nonce', 'salt']);
    expect(Buffer.from(extra['nonce'] as string, 'base64').subarray(0, 16)).toEqual(nonce);
    const right = clientProof('pw', 'carol', nonce.toString('base64'), extra);
    expect(exchange.verify(right.proof)).toBe(right.serverSignature);
    expect(exchange.verify(clientProof('wrong', 'carol', nonce.toString('base64'), extra).proof)).toBeUndefined();
    expect(exchange.verify('not base64 at all')).toBeUndefined();
    expect(exchange.verify(undefined)).toBeUndefined();
  });

  it('SASLprep maps what RFC 4013 maps (non-ASCII spaces, soft hyphens) and normalizes NFKC', () => {
    expect(saslprep('I\u00ADX')).toBe('IX');
    expect(saslprep('a\u00A0b')).toBe('a b');
    expect(saslprep('\u2168')).toBe('IX');
  });
});
