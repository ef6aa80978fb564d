// Signed requests, as Crossbar's HTTP bridge checks them: the query carries `key`, `timestamp`,
// `seq`, `nonce` and `signature`, where the signature is the URL-safe Base64 (with padding) of
// HMAC-SHA256 under the shared secret over key | timestamp | seq | nonce | body. Without a
// secret configured these are optional, but a `timestamp`, `seq` or `nonce` given is still checked.
// Also GitHub's webhook signature (X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body>).

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { refusal, type BridgeAnswer } from './responses.js';

export interface SigningOptions {
  key?: string;
  secret?: string;
  /** Seconds; 0 = any difference. */
  timestampDeltaLimit: number;
}

/** UTC, ISO 8601 with a fraction and 'Z', e.g. 2011-10-14T16:59:51.123Z (Autobahn's utcnow()). */
const TIMESTAMP = /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})\.(\d{1,6})Z$/;
const INTEGER = /^\s*[+-]?\d+\s*$/;

/** The refusal of a request whose query does not pass; undefined when it does. */
export function signatureProblem(query: URLSearchParams, body: Buffer, options: SigningOptions, now = Date.now()): BridgeAnswer | undefined {
  const signed = options.secret !== undefined;
  const missing = (name: string) => refusal(400, `signed request required, but the query has no '${name}'`);
  const key = query.get('key');
  if (key === null && signed) return missing('key');
  const timestamp = query.get('timestamp');
  if (timestamp !== null) {
    const at = parseTimestamp(timestamp);
    if (at === undefined) return refusal(400, `invalid timestamp '${timestamp}' (UTC, ISO 8601, e.g. '2011-10-14T16:59:51.123Z')`);
    if (options.timestampDeltaLimit > 0 && Math.abs(at - now) > options.timestampDeltaLimit * 1000) {
      return refusal(400, 'request expired: its timestamp is too far from the current time (timestamp_delta_limit)');
    }
  } else if (signed) return missing('timestamp');
  for (const name of ['seq', 'nonce']) {
    const value = query.get(name);
    if (value !== null && !INTEGER.test(value)) return refusal(400, `invalid ${name} '${value}' (must be an integer)`);
    if (value === null && signed) return missing(name);
  }
  const signature = query.get('signature');
  if (signature === null && signed) return missing('signature');
  if (!signed) return undefined;
  if (key !== options.key) return refusal(401, `unknown key '${key}' in signed request`);
  const mac = createHmac('sha256', options.secret!);
  for (const part of [key!, timestamp!, query.get('seq')!, query.get('nonce')!]) mac.update(part, 'utf8');
  const expected = mac.update(body).digest('base64url');
  // Crossbar compares with Python's urlsafe_b64encode, which pads with '='.
  if (!sameText(signature!, expected + '='.repeat((4 - (expected.length % 4)) % 4))) {
    return refusal(401, 'invalid request signature');
  }
  return undefined;
}

/** Milliseconds since the epoch, or undefined if it is not a valid timestamp of that form. */
function parseTimestamp(text: string): number | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Number(m[7]!.padEnd(6, '0')) / 1000;
  const at = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(at);
  // Date.UTC rolls over (Feb 30 → Mar 2); a real date does not.
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return undefined;
  return at + ms;
}

/** X-Hub-Signature is `sha1=` and the hex HMAC-SHA1 of the body under the shared secret. */
export function githubSignatureProblem(headers: IncomingHttpHeaders, body: Buffer, secret: string | undefined): BridgeAnswer | undefined {
  if (!secret) return undefined;
  const given = headers['x-hub-signature'];
  const expected = `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
  if (typeof given === 'string' && sameText(given.toLowerCase(), expected)) return undefined;
  return refusal(400, 'GitHub signature (X-Hub-Signature) missing or invalid');
}

/** Equal texts, compared in constant time (HMACs of both, so the lengths need not match). */
function sameText(a: string, b: string): boolean {
  const digest = (s: string) => createHmac('sha256', SALT).update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

const SALT = globalThis.crypto.getRandomValues(new Uint8Array(32));
