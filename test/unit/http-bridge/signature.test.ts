// Signed requests as Crossbar's HTTP bridge checks them: each refusal and its status. Signatures
// here are made with the algorithm Crossbar's docs state (HMAC-SHA256, URL-safe Base64 with padding).
import { describe, it, expect } from 'vitest';
import { createHmac } from 'node:crypto';
import { githubSignatureProblem, signatureProblem } from '../../../src/http-bridge/signature.js';
import { contentTypeProblem } from '../../../src/http-bridge/request-checks.js';

const BODY = Buffer.from('{"topic": "com.test.messages", "args": [1]}');
const OPTIONS = { key: 'bazapp', secret: 'foobar', timestampDeltaLimit: 300 };
const NOW = Date.UTC(2026, 11, 3, 9, 0, 0);
const TS = '2026-12-03T09:00:01.123Z';

function signed(fields: Record<string, string> = {}, secret = 'foobar', body = BODY): URLSearchParams {
  const q = { key: 'bazapp', timestamp: TS, seq: '1', nonce: '4711', ...fields };
  const mac = createHmac('sha256', secret).update(q.key + q.timestamp + q.seq + q.nonce).update(body);
  const params = new URLSearchParams(q);
  if (!('signature' in fields)) params.set('signature', mac.digest('base64').replace(/\+/g, '-').replace(/\//g, '_'));
  return params;
}

describe('HTTP bridge: signed requests', () => {
  it('a good signature passes', () => {
    expect(signatureProblem(signed(), BODY, OPTIONS, NOW)).toBeUndefined();
  });

  it('a wrong secret or an unknown key: 401', () => {
    expect(signatureProblem(signed({}, 'foobar2'), BODY, OPTIONS, NOW)?.status).toBe(401);
    expect(signatureProblem(signed({ key: 'spamapp' }), BODY, OPTIONS, NOW)?.status).toBe(401);
    expect(signatureProblem(signed(), Buffer.from('{}'), OPTIONS, NOW)?.status).toBe(401);
  });

  it('a missing field: 400', () => {
    for (const name of ['key', 'timestamp', 'seq', 'nonce', 'signature']) {
      const q = signed();
      q.delete(name);
      expect(signatureProblem(q, BODY, OPTIONS, NOW), name).toMatchObject({ status: 400 });
    }
  });

  it('a malformed timestamp, seq or nonce: 400, signed or not', () => {
    for (const fields of [{ timestamp: 'notatimestamp' }, { timestamp: '2026-02-30T09:00:00.000Z' }, { timestamp: '2026-12-03T09:00:00Z' }, { seq: 'notaseq' }, { nonce: 'notanonce' }]) {
      expect(signatureProblem(signed(fields), BODY, OPTIONS, NOW)?.status).toBe(400);
      expect(signatureProblem(new URLSearchParams(fields), BODY, { timestampDeltaLimit: 300 }, NOW)?.status).toBe(400);
    }
  });

  it('timestamp_delta_limit: an old timestamp is refused, 0 accepts any', () => {
    const old = signed({ timestamp: '2011-10-14T16:59:51.123Z' });
    expect(signatureProblem(old, BODY, { ...OPTIONS, timestampDeltaLimit: 1 }, NOW)?.status).toBe(400);
    expect(signatureProblem(old, BODY, { ...OPTIONS, timestampDeltaLimit: 0 }, NOW)).toBeUndefined();
    expect(signatureProblem(signed({ timestamp: '2026-12-03T09:00:09.9Z' }), BODY, { ...OPTIONS, timestampDeltaLimit: 10 }, NOW)).toBeUndefined();
    expect(signatureProblem(signed({ timestamp: '2026-12-03T09:00:10.5Z' }), BODY, { ...OPTIONS, timestampDeltaLimit: 10 }, NOW)?.status).toBe(400);
  });

  it('without a secret, no field is required', () => {
    expect(signatureProblem(new URLSearchParams(), BODY, { timestampDeltaLimit: 300 }, NOW)).toBeUndefined();
  });

  it("GitHub's X-Hub-Signature: sha1 HMAC of the body, else 400", () => {
    const good = `sha1=${createHmac('sha1', 'gh').update(BODY).digest('hex')}`;
    expect(githubSignatureProblem({ 'x-hub-signature': good.toUpperCase().replace('SHA1', 'sha1') }, BODY, 'gh')).toBeUndefined();
    expect(githubSignatureProblem({ 'x-hub-signature': good }, Buffer.from('other'), 'gh')?.status).toBe(400);
    expect(githubSignatureProblem({}, BODY, 'gh')?.status).toBe(400);
    expect(githubSignatureProblem({}, BODY, undefined)).toBeUndefined();
  });
});

describe('HTTP bridge: content type', () => {
  it("JSON services take application/json in any case, with UTF-8 or no charset, or no content type (Crossbar's rule)", () => {
    for (const ok of [undefined, 'application/json', 'APPLICATION/JSON', 'application/json; charset=utf-8', 'application/json;charset=UTF8']) expect(contentTypeProblem(ok, true), ok).toBeUndefined();
    for (const bad of ['application/text', 'application/json; charset=ascii', 'application/json;charset=blarg;charset=boo', 'charset=blarg;application/json', 'application/json; a=b=c']) {
      expect(contentTypeProblem(bad, true)?.status, bad).toBe(400);
    }
  });

  it('a webhook takes any content type, but only UTF-8', () => {
    expect(contentTypeProblem('text/plain', false)).toBeUndefined();
    expect(contentTypeProblem('text/plain; charset=latin1', false)?.status).toBe(400);
  });
});
