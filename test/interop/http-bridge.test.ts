// Crossbar's HTTP bridge services driven with curl the way Crossbar's docs show, against a running
// router, with Autobahn|JS clients on the WAMP side: a subscriber receiving what is published, a
// callee answering what is called. Signatures are made as Crossbar's own Python clients make them.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { until } from '../helpers/until.js';
import { captureStderr } from '../helpers/capture-log.js';
import type { HttpBridgePathConfig } from '../../src/config/types.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');
const PYTHON = process.env['JUNCTION_PYTHON'] ?? '/usr/bin/python3';

const bridge = (type: HttpBridgePathConfig['type'], over: Partial<HttpBridgePathConfig> = {}): HttpBridgePathConfig => ({
  type, realm: 'realm1', role: 'anonymous', postBodyLimit: 1024 * 1024, timestampDeltaLimit: 300, requireTls: false, debug: false, maxConcurrentRequests: 16, ...over,
});

interface CurlAnswer { status: number; body: string; json?: any }

/** Runs curl (with `input` on its stdin); the answer's status and body. */
function curl(args: string[], input = ''): Promise<CurlAnswer> {
  return new Promise((resolve, reject) => {
    const child = execFile('curl', ['-s', '-S', '-o', '-', '-w', '\n%{http_code}', ...args], { timeout: 20_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl failed: ${err.message}\n${stderr}`));
      const cut = stdout.lastIndexOf('\n');
      const body = stdout.slice(0, cut);
      let json: unknown;
      try { json = JSON.parse(body); } catch { /* not JSON */ }
      resolve({ status: Number(stdout.slice(cut + 1)), body, json });
    });
    child.stdin!.end(input);
  });
}

/** The query of a signed request, made as Crossbar's Python clients make it. */
function signedQuery(key: string, secret: string, body: string, timestamp?: string): Promise<string> {
  const script = `
import base64, datetime, hashlib, hmac, random, sys, urllib.parse
key, secret, body, ts = sys.argv[1], sys.argv[2], sys.argv[3].encode('utf8'), sys.argv[4]
if not ts:
    ts = datetime.datetime.utcnow().strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'
seq, nonce = '1', str(random.randint(0, 2**53))
hm = hmac.new(secret.encode('utf8'), None, hashlib.sha256)
for part in (key, ts, seq, nonce):
    hm.update(part.encode('utf8'))
hm.update(body)
print(urllib.parse.urlencode({'timestamp': ts, 'seq': seq, 'key': key, 'nonce': nonce, 'signature': base64.urlsafe_b64encode(hm.digest())}))
`;
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-c', script, key, secret, body, timestamp ?? ''], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout.trim())));
  });
}

describe('HTTP bridge services with curl', () => {
  let node: TestNode;
  let connection: any;
  let session: any;
  const events: Array<{ args: unknown[]; kwargs: unknown }> = [];
  const hooks: unknown[] = [];
  let slowCalls = 0;
  let base = '';
  const json = ['-H', 'Content-Type: application/json'];

  beforeAll(async () => {
    node = await startTestNode({
      realms: [{ name: 'realm1', roles: [allowAll(), { name: 'readonly', permissions: [] }], store: { type: 'memory', limit: 100, callQueue: [], eventHistory: [] } }],
      listener: {
        static: {
          '/publish': bridge('publisher'),
          '/call': bridge('caller'),
          '/signed': bridge('publisher', { key: 'foobar', secret: 'secret', timestampDeltaLimit: 10 }),
          '/small': bridge('publisher', { postBodyLimit: 64 }),
          '/remote-only': bridge('publisher', { requireIp: [{ address: '10.0.0.0', prefix: 8, family: 'ipv4' }] }),
          '/local-only': bridge('publisher', { requireIp: [{ address: '192.168.1.1', prefix: 24, family: 'ipv4' }, { address: '127.0.0.1', prefix: 32, family: 'ipv4' }] }),
          '/tls-only': bridge('caller', { requireTls: true }),
          '/webhook': bridge('webhook', { topic: 'com.myapp.hook' }),
          '/github': bridge('webhook', { topic: 'com.myapp.hook', githubSecret: 'gh-secret', successResponse: '', errorResponse: 'no' }),
          '/denied-publish': bridge('publisher', { role: 'readonly' }),
          '/denied-call': bridge('caller', { role: 'readonly' }),
          '/one-at-a-time': bridge('caller', { maxConcurrentRequests: 1 }),
          '/debug': bridge('caller', { debug: true }),
          '/denied-hook': bridge('webhook', { role: 'readonly', topic: 'com.myapp.hook' }),
        },
      },
    });
    base = `http://127.0.0.1:${node.port}`;
    await new Promise<void>((resolve, reject) => {
      connection = new autobahn.Connection({ url: node.wsUrl, realm: 'realm1', max_retries: 0 });
      connection.onopen = (s: any) => {
        session = s;
        resolve();
      };
      connection.onclose = (reason: string) => {
        reject(new Error(reason));
        return true;
      };
      connection.open();
    });
    await session.subscribe('com.myapp.topic1', (args: unknown[], kwargs: unknown) => events.push({ args, kwargs }));
    await session.subscribe('com.myapp.hook', (args: unknown[]) => hooks.push(args[0]));
    await session.register('com.example.add2', (args: number[]) => args[0]! + args[1]!);
    await session.register('com.example.split', (args: string[]) => new autobahn.Result(args[0]!.split(' '), { count: args[0]!.split(' ').length }));
    await session.register('com.example.fail', () => { throw new autobahn.Error('com.example.error.bad', ['nope'], { code: 7 }); });
    await session.register('com.example.nothing_back', () => undefined);
    await session.register('com.example.crash', () => { throw new Error("don't ask foolish questions ;)"); });
    await session.register('com.example.slow', () => {
      slowCalls++;
      return new Promise(() => {});
    });
  });
  afterAll(async () => {
    connection?.close();
    await node?.stop();
  });

  it('publisher: an unsigned POST is published; the answer is the publication id', async () => {
    const before = events.length;
    const answer = await curl([...json, '-d', '{"topic": "com.myapp.topic1", "args": ["Hello, world"], "kwargs": {"n": 1}}', `${base}/publish`]);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ id: expect.any(Number) });
    await until(() => events.length > before);
    expect(events.at(-1)).toEqual({ args: ['Hello, world'], kwargs: { n: 1 } });
  });

  it('caller: the result is the response body, a WAMP error comes back with status 200', async () => {
    expect(await curl([...json, '-d', '{"procedure": "com.example.add2", "args": [1, 2]}', `${base}/call`])).toMatchObject({ status: 200, json: { args: [3] } });
    expect((await curl([...json, '-d', '{"procedure": "com.example.split", "args": ["a b c"]}', `${base}/call`])).json).toEqual({ args: ['a', 'b', 'c'], kwargs: { count: 3 } });
    expect(await curl([...json, '-d', '{"procedure": "com.example.fail"}', `${base}/call`])).toMatchObject({ status: 200, json: { error: 'com.example.error.bad', args: ['nope'], kwargs: { code: 7 } } });
    expect(await curl([...json, '-d', '{"procedure": "com.example.nothing"}', `${base}/call`])).toMatchObject({ status: 200, json: { error: 'wamp.error.no_such_procedure' } });
    // A result without arguments is Autobahn|Python's None.
    expect((await curl([...json, '-d', '{"procedure": "com.example.nothing_back"}', `${base}/call`])).json).toEqual({ args: [null] });
    const crash = await curl([...json, '-d', '{"procedure": "com.example.crash", "args": [0]}', `${base}/call`]);
    expect(crash).toMatchObject({ status: 200, json: { error: expect.stringMatching(/^wamp\.error\./), args: expect.any(Array), kwargs: expect.any(Object) } });
  });

  it("a role without permission: the router's not_authorized comes back in the body", async () => {
    const before = events.length;
    expect(await curl([...json, '-d', '{"topic": "com.myapp.topic1", "args": [1]}', `${base}/denied-publish`])).toMatchObject({ status: 200, json: { error: 'wamp.error.not_authorized' } });
    expect(await curl([...json, '-d', '{"procedure": "com.example.add2", "args": [1, 2]}', `${base}/denied-call`])).toMatchObject({ status: 200, json: { error: 'wamp.error.not_authorized' } });
    await new Promise((r) => setTimeout(r, 100));
    expect(events.length).toBe(before);
  });

  it('signed requests: a good signature passes; a wrong secret or key, a missing field, an old timestamp are refused', async () => {
    const body = '{"topic": "com.myapp.topic1", "args": ["signed"]}';
    const before = events.length;
    expect(await curl([...json, '-d', body, `${base}/signed?${await signedQuery('foobar', 'secret', body)}`])).toMatchObject({ status: 200, json: { id: expect.any(Number) } });
    await until(() => events.length > before);
    expect(events.at(-1)!.args).toEqual(['signed']);
    expect((await curl([...json, '-d', body, `${base}/signed?${await signedQuery('foobar', 'wrong', body)}`])).status).toBe(401);
    expect((await curl([...json, '-d', body, `${base}/signed?${await signedQuery('other', 'secret', body)}`])).status).toBe(401);
    // The body signed is not the body sent.
    expect((await curl([...json, '-d', body.replace('signed', 'forged'), `${base}/signed?${await signedQuery('foobar', 'secret', body)}`])).status).toBe(401);
    const query = await signedQuery('foobar', 'secret', body);
    expect((await curl([...json, '-d', body, `${base}/signed?${query.replace(/&nonce=[^&]*/, '')}`])).status).toBe(400);
    expect((await curl([...json, '-d', body, `${base}/signed?${query.replace(/nonce=\d+/, 'nonce=x')}`])).status).toBe(400);
    expect((await curl([...json, '-d', body, `${base}/signed`])).status).toBe(400);
    const old = await curl([...json, '-d', body, `${base}/signed?${await signedQuery('foobar', 'secret', body, '2011-10-14T16:59:51.123Z')}`]);
    expect(old.status).toBe(400);
    expect(old.json).toEqual({ error: expect.stringMatching(/timestamp/), args: [], kwargs: {} });
    expect((await curl([...json, '-d', body, `${base}/signed?${query.replace(/timestamp=[^&]*/, 'timestamp=yesterday')}`])).status).toBe(400);
  });

  it("README's signed request from a shell script (openssl, curl) passes", async () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const script = /```sh\n(key=sensors[^`]*)```/.exec(readme)![1]!
      .replace('key=sensors secret=kkjH68GiuUZ', 'key=foobar secret=secret')
      .replace('http://127.0.0.1:8080/publish', `${base}/signed`)
      .replace('curl ', 'curl -s -S -w "\\n%{http_code}" ');
    const before = events.length;
    const out = await new Promise<string>((resolve, reject) => {
      execFile('bash', ['-c', script], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)));
    });
    expect(out.trim().split('\n').pop()).toBe('200');
    await until(() => events.length > before);
    expect(events.at(-1)!.args).toEqual([1]);
  });

  it('post_body_limit: a longer body is refused with 413, announced or chunked, and the service still works', async () => {
    const long = JSON.stringify({ topic: 'com.myapp.topic1', args: ['x'.repeat(200)] });
    expect(await curl([...json, '-d', long, `${base}/small`])).toMatchObject({ status: 413, json: { error: expect.any(String), args: [], kwargs: {} } });
    expect((await curl([...json, '-H', 'Transfer-Encoding: chunked', '-d', long, `${base}/small`])).status).toBe(413);
    const big = JSON.stringify({ topic: 'com.myapp.topic1', args: ['x'.repeat(3 * 1024 * 1024)] });
    // Over the 1 MiB that Crossbar's unlimited (0) means here.
    expect((await curl([...json, '--data-binary', '@-', `${base}/publish`], big)).status).toBe(413);
    expect((await curl([...json, '-d', '{"topic": "com.myapp.topic1"}', `${base}/small`])).status).toBe(200);
  });

  it('require_ip and require_tls refuse with 400; an allowed network passes', async () => {
    const body = '{"topic": "com.myapp.topic1"}';
    expect((await curl([...json, '-d', body, `${base}/remote-only`])).status).toBe(400);
    expect((await curl([...json, '-d', body, `${base}/local-only`])).status).toBe(200);
    expect((await curl([...json, '-d', '{"procedure": "com.example.add2", "args": [1, 2]}', `${base}/tls-only`])).status).toBe(400);
  });

  it('webhook: any body is published as {headers, body} on its topic; the answer is 202 OK', async () => {
    const before = hooks.length;
    expect(await curl(['-H', 'Content-Type: text/plain', '-H', 'X-GitHub-Event: ping', '-d', 'fresh webhooks!', `${base}/webhook`])).toMatchObject({ status: 202, body: 'OK' });
    await until(() => hooks.length > before);
    expect(hooks.at(-1)).toMatchObject({ body: 'fresh webhooks!', headers: { 'Content-Type': ['text/plain'], 'X-Github-Event': ['ping'], 'Content-Length': ['15'] } });
  });

  it('webhook: a publication the role may not make is 500 with error_response', async () => {
    expect(await curl(['-d', 'x', `${base}/denied-hook`])).toMatchObject({ status: 500, body: 'NOT OK' });
  });

  it("webhook with github_secret: GitHub's X-Hub-Signature must match the body", async () => {
    const body = '{"zen": "Design for failure."}';
    const signature = `sha1=${createHmac('sha1', 'gh-secret').update(body).digest('hex')}`;
    expect(await curl([...json, '-H', `X-Hub-Signature: ${signature}`, '-d', body, `${base}/github`])).toMatchObject({ status: 202, body: '' });
    expect((await curl([...json, '-H', `X-Hub-Signature: ${signature}`, '-d', body.replace('failure', 'success'), `${base}/github`])).status).toBe(400);
    expect((await curl([...json, '-d', body, `${base}/github`])).status).toBe(400);
  });

  it('malformed requests: 405 for GET, 400 for a wrong content type, charset, JSON, or a missing topic', async () => {
    expect((await curl([`${base}/publish`])).status).toBe(405);
    expect((await curl(['-X', 'OPTIONS', `${base}/publish`])).status).toBe(200);
    expect((await curl(['-H', 'Content-Type: text/plain', '-d', '{"topic": "a.b"}', `${base}/publish`])).status).toBe(400);
    expect((await curl(['-H', 'Content-Type: application/json; charset=ascii', '-d', '{"topic": "a.b"}', `${base}/publish`])).status).toBe(400);
    expect((await curl([...json, '-d', 'sometext', `${base}/publish`])).status).toBe(400);
    expect((await curl([...json, '-d', '[{}, {}]', `${base}/publish`])).status).toBe(400);
    expect(await curl([...json, '-d', '{"args": [1]}', `${base}/publish`])).toMatchObject({ status: 400, json: { error: expect.stringMatching(/topic/) } });
    expect((await curl([...json, '-d', '{"topic": "a.b", "args": "no list"}', `${base}/publish`])).status).toBe(400);
    expect((await curl([...json, '-d', '{"topic": "a.b", "options": {"exclude": "me"}}', `${base}/publish`])).status).toBe(400);
    // A charset-less, capitalised content type is fine (Crossbar's rule), and the service is still up.
    expect((await curl(['-H', 'CONTENT-TYPE: APPLICATION/JSON', '-d', '{"topic": "com.myapp.topic1"}', `${base}/publish`])).status).toBe(200);
  });

  it('debug: each request and its answer are logged (and only with debug)', async () => {
    const log = captureStderr(/http-bridge|caller \/(debug|call):/);
    try {
      await curl([...json, '-d', '{"procedure": "com.example.add2", "args": [20, 22]}', `${base}/debug`]);
      await curl([...json, '-d', '{"procedure": "com.example.add2", "args": [1, 1]}', `${base}/call`]);
    } finally {
      log.restore();
    }
    const lines = log.lines.filter((l) => / POST \//.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/caller \/debug: POST \/debug from 127\.0\.0\.1: 200 \{"args":\[42\]\}/);
  });

  it('max_concurrent_requests: over it, 503; a client that gives up cancels its call and frees its place', async () => {
    const waiting = spawn('curl', ['-s', ...json, '-d', '{"procedure": "com.example.slow"}', `${base}/one-at-a-time`]);
    await until(() => slowCalls === 1);
    const busy = await curl([...json, '-d', '{"procedure": "com.example.add2", "args": [1, 2]}', `${base}/one-at-a-time`]);
    expect(busy.status).toBe(503);
    waiting.kill();
    await until(async () => (await curl([...json, '-d', '{"procedure": "com.example.add2", "args": [1, 2]}', `${base}/one-at-a-time`])).status === 200);
  });
});

describe('HTTP bridge services over TLS', () => {
  const CERTS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
  const pem = (name: string) => readFileSync(`${CERTS}${name}`, 'utf8');
  let node: TestNode;

  beforeAll(async () => {
    node = await startTestNode({
      listener: {
        endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1', tls: { key: pem('server.key'), certificate: pem('server.crt') } },
        static: { '/publish': bridge('publisher', { requireTls: true }) },
      },
    });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('require_tls: a request over TLS passes', async () => {
    const answer = await curl(['--cacert', `${CERTS}ca.crt`, '-H', 'Content-Type: application/json', '-d', '{"topic": "com.myapp.topic1"}', `https://localhost:${node.port}/publish`]);
    expect(answer).toMatchObject({ status: 200, json: { id: expect.any(Number) } });
  });
});
