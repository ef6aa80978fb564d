// Crossbar's json, redirect, reverseproxy and nodeinfo web paths, static directory listings and
// options, and a TLS endpoint's ciphers and dhparam, on a real node with real HTTP/TLS clients
// (Node's fetch, curl, tls.connect).
import { describe, it, expect, afterEach } from 'vitest';
import { createServer, type Server } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { ListenerConfig, TlsConfig } from '../../src/config/types.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { junctionVersion } from '../../src/version.js';
import WebSocket, { WebSocketServer } from 'ws';

const CERTS = fileURLToPath(new URL('../fixtures/config/tls/certs/', import.meta.url));
const pem = (name: string) => readFileSync(join(CERTS, name), 'utf8');

const nodes: TestNode[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
  for (const s of servers.splice(0)) s.close();
});

async function site(paths: ListenerConfig['static'], endpoint?: ListenerConfig['endpoint']): Promise<string> {
  const node = await startTestNode({ listener: { static: paths, ...(endpoint ? { endpoint } : {}) } });
  nodes.push(node);
  return `http://127.0.0.1:${node.port}`;
}

/** curl, in a child process that runs while this process serves (spawnSync would block the node under test). */
async function curl(...args: string[]): Promise<string> {
  return (await run('curl', ['-s', '--max-time', '10', ...args])).stdout;
}

function run(cmd: string, args: string[], input = ''): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: 10_000 }, (_err, stdout, stderr) => resolve({ stdout, stderr }));
    child.stdin?.end(input);
  });
}

describe('json, redirect, nodeinfo', () => {
  it('json: the configured value as application/json, CORS and no-cache headers when asked', async () => {
    const base = await site({
      '/config': { type: 'json', body: '{\n  "param1": "foobar"\n}', allowCrossOrigin: false, discourageCaching: false },
      '/open': { type: 'json', body: '[1,2]', allowCrossOrigin: true, discourageCaching: true },
    });
    const r = await fetch(`${base}/config`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await r.json()).toEqual({ param1: 'foobar' });
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    const open = await fetch(`${base}/open`, { headers: { Origin: 'https://app.example' } });
    expect(await open.json()).toEqual([1, 2]);
    expect(open.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(open.headers.get('cache-control')).toMatch(/no-store/);
    expect((await fetch(`${base}/config/below`)).status).toBe(404);
  });

  it('redirect: 302 to the configured URL on the path and below it (curl)', async () => {
    const base = await site({ '/old': { type: 'redirect', url: 'https://example.com/new' } });
    const r = await fetch(`${base}/old`, { redirect: 'manual' });
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toBe('https://example.com/new');
    expect(await curl('-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', `${base}/old/deeper?x=1`)).toBe('302 https://example.com/new');
  });

  it('nodeinfo: an HTML page with the version and the client address', async () => {
    const base = await site({ '/info': { type: 'nodeinfo' } });
    const r = await fetch(`${base}/info`);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await r.text();
    expect(html).toContain(`Junction ${junctionVersion()}`);
    expect(html).toContain(String(process.pid));
    expect(html).toMatch(/127\.0\.0\.1:\d+/);
  });
});

describe('static paths', () => {
  function tree(): string {
    const root = mkdtempSync(join(tmpdir(), 'junction-listing-'));
    mkdirSync(join(root, 'files', 'sub dir'), { recursive: true });
    writeFileSync(join(root, 'files', '<b>x&y.txt'), 'x');
    writeFileSync(join(root, 'files', 'app.jgz'), 'js');
    writeFileSync(join(root, 'secret.txt'), 'outside');
    return join(root, 'files');
  }

  it('enable_directory_listing: escaped names, links that work, nothing outside the directory', async () => {
    const dir = tree();
    const base = await site({ '/': { type: 'static', directory: dir, listDirectories: true }, '/closed': { type: 'static', directory: dir } });
    const r = await fetch(`${base}/`);
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain('&lt;b&gt;x&amp;y.txt');
    expect(html).not.toContain('<b>x');
    const href = /href="\.\/([^"]*x[^"]*)"/.exec(html)![1]!.replace(/&amp;/g, '&');
    expect(await (await fetch(`${base}/${href}`)).text()).toBe('x');
    expect(html).toContain('href="./sub%20dir/"');
    expect((await fetch(`${base}/sub%20dir/`)).status).toBe(200);
    expect(await curl('-o', '/dev/null', '-w', '%{http_code}', '--path-as-is', `${base}/..%2fsecret.txt`)).toBe('404');
    expect(await curl('-o', '/dev/null', '-w', '%{http_code}', '--path-as-is', `${base}/../`)).not.toBe('200');
    expect((await fetch(`${base}/closed/`)).status).toBe(404);
  });

  it('cache_timeout sets max-age, mime_types adds content types, a missing directory answers 404', async () => {
    const dir = tree();
    const base = await site({
      '/': { type: 'static', directory: dir, cacheTimeout: 3600, mimeTypes: { '.jgz': 'text/javascript' } },
      '/later': { type: 'static', directory: join(dir, 'not-yet') },
    });
    const r = await fetch(`${base}/app.jgz`);
    expect(r.headers.get('cache-control')).toBe('max-age=3600, public');
    expect(r.headers.get('content-type')).toBe('text/javascript');
    expect((await fetch(`${base}/later/`)).status).toBe(404);
    expect((await fetch(`${base}/later/x.html`)).status).toBe(404);
  });
});

describe('reverseproxy', () => {
  async function backend(handler: Parameters<typeof createServer>[1]): Promise<number> {
    const server = createServer(handler!);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  const echo = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(201, { 'Content-Type': 'application/json', 'X-Backend': 'yes' });
      res.end(JSON.stringify({ method: req.method, url: req.url, host: req.headers.host, forwardedFor: req.headers['x-forwarded-for'], body: Buffer.concat(chunks).toString() }));
    });
  };

  it('forwards method, path below the base, query, body and answer; curl too', async () => {
    const port = await backend(echo);
    const base = await site({ '/api': { type: 'reverseproxy', host: '127.0.0.1', port, path: '/my_path', timeout: 5000, maxRequestBody: 1024 } });
    const r = await fetch(`${base}/api/login?next=%2Fhome`, { method: 'POST', body: 'user=a' });
    expect(r.status).toBe(201);
    expect(r.headers.get('x-backend')).toBe('yes');
    expect(await r.json()).toEqual({ method: 'POST', url: '/my_path/login?next=%2Fhome', host: `127.0.0.1:${port}`, forwardedFor: '127.0.0.1', body: 'user=a' });
    const viaCurl = JSON.parse(await curl('-X', 'PUT', '--data-binary', 'hello', `${base}/api`));
    expect(viaCurl).toMatchObject({ method: 'PUT', url: '/my_path/', body: 'hello' });
    // Nothing outside the base path on the backend.
    for (const sneaky of ['/api/../admin', '/api/%2e%2e/admin', '/api/a%2f..%2f..%2fadmin']) {
      expect(await curl('-o', '/dev/null', '-w', '%{http_code}', '--path-as-is', `${base}${sneaky}`)).toBe('404');
    }
  });

  it('bounded: 413 for a body over the limit, 504 when the backend is slow, 502 when it is gone', async () => {
    const slow = await backend(() => { /* never answers */ });
    const gone = await backend(echo);
    servers.at(-1)!.close();
    const ok = await backend(echo);
    const base = await site({
      '/small': { type: 'reverseproxy', host: '127.0.0.1', port: ok, path: '', timeout: 5000, maxRequestBody: 10 },
      '/slow': { type: 'reverseproxy', host: '127.0.0.1', port: slow, path: '', timeout: 300, maxRequestBody: 10 },
      '/gone': { type: 'reverseproxy', host: '127.0.0.1', port: gone, path: '', timeout: 5000, maxRequestBody: 10 },
    });
    expect((await fetch(`${base}/small/x`, { method: 'POST', body: 'x'.repeat(11) })).status).toBe(413);
    // Chunked, no Content-Length: counted as it streams.
    expect(await curl('-o', '/dev/null', '-w', '%{http_code}', '-H', 'Transfer-Encoding: chunked', '--data-binary', 'x'.repeat(100), `${base}/small/x`)).toBe('413');
    expect((await fetch(`${base}/small/x`, { method: 'POST', body: 'x'.repeat(10) })).status).toBe(201);
    expect((await fetch(`${base}/slow/x`)).status).toBe(504);
    expect((await fetch(`${base}/gone/x`)).status).toBe(502);
    expect((await fetch(`${base}/small/still-up`)).status).toBe(201);
  });
});

describe('reverseproxy: WebSocket', () => {
  it('forwards a WebSocket upgrade below the path and joins the two connections (ws client and server)', async () => {
    const server = createServer();
    servers.push(server);
    const wss = new WebSocketServer({ server });
    let seenUrl = '';
    wss.on('connection', (socket, req) => {
      seenUrl = req.url ?? '';
      socket.on('message', (data) => socket.send(`echo ${String(data)}`));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const base = await site({ '/app': { type: 'reverseproxy', host: '127.0.0.1', port, path: '/backend', timeout: 5000, maxRequestBody: 1024 } });
    const client = new WebSocket(`${base.replace('http', 'ws')}/app/live?x=1`);
    const reply = await new Promise<string>((resolve, reject) => {
      client.on('open', () => client.send('hello'));
      client.on('message', (data) => resolve(String(data)));
      client.on('error', reject);
    });
    expect(reply).toBe('echo hello');
    expect(seenUrl).toBe('/backend/live?x=1');
    client.close();
    wss.close();
    // No reverse proxy there: still 404.
    const refused = new WebSocket(`${base.replace('http', 'ws')}/nothing`);
    expect(await new Promise((resolve) => refused.on('unexpected-response', (_req, res) => resolve(res.statusCode)))).toBe(404);
  });
});

describe('TLS ciphers and dhparam', () => {
  function handshake(port: number, options: { ciphers: string }): Promise<string> {
    return new Promise((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ...options }, () => {
        resolve(socket.getCipher().name);
        socket.end();
      });
      socket.on('error', (err) => resolve(`error: ${err.message}`));
    });
  }

  async function tlsSite(tls: TlsConfig): Promise<number> {
    const node = await startTestNode({ listener: { endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1', tls } } });
    nodes.push(node);
    return node.port;
  }

  it('the server offers only the configured ciphers', async () => {
    const port = await tlsSite({ key: pem('server.key'), certificate: pem('server.crt'), ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    expect(await handshake(port, { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' })).toBe('ECDHE-ECDSA-AES128-GCM-SHA256');
    expect(await handshake(port, { ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' })).toMatch(/^error: .*handshake failure/);
    // openssl, as a user would check it.
    const s = await run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_2', '-cipher', 'ECDHE-ECDSA-CHACHA20-POLY1305']);
    expect(s.stdout + s.stderr).toMatch(/handshake failure|no peer certificate available/);
  });

  it('dhparam enables DHE cipher suites', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-rsa-'));
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost'], { encoding: 'utf8' });
    expect(made.status).toBe(0);
    const rsa = { key: readFileSync(join(dir, 'k.pem'), 'utf8'), certificate: readFileSync(join(dir, 'c.pem'), 'utf8'), ciphers: 'DHE-RSA-AES128-GCM-SHA256' };
    const withDh = await tlsSite({ ...rsa, dhparam: pem('dhparam.pem') });
    const without = await tlsSite(rsa);
    expect(await handshake(withDh, { ciphers: 'DHE-RSA-AES128-GCM-SHA256' })).toBe('DHE-RSA-AES128-GCM-SHA256');
    expect(await handshake(without, { ciphers: 'DHE-RSA-AES128-GCM-SHA256' })).toMatch(/^error:/);
  });
});
