// Crossbar's web path type `path` (a paths map mounted below a path, nested again) and the static
// option `default_file` (a single-page app's shell for URLs that match no file), loaded from a
// Crossbar-shaped config and served by a real node; the clients are curl and Autobahn|JS.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { startNode, type JunctionNode } from '../../src/node.js';
import { autobahnWs, type AutobahnClient } from '../helpers/autobahn-ws.js';
import { until } from '../helpers/until.js';

/** curl's status code and body (`-w` appends the code after the body). */
function curl(...args: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '--max-time', '10', '-w', '\n%{http_code}', ...args], (err, stdout) => {
      if (err) return reject(err);
      const cut = stdout.lastIndexOf('\n');
      resolve({ status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) });
    });
  });
}

/** The directories served: root/ (a single-page app), later/ (its default file not there yet), and a secret beside them. */
function files(): { top: string; root: string; later: string } {
  const top = mkdtempSync(join(tmpdir(), 'junction-nested-web-'));
  const root = join(top, 'root');
  const later = join(top, 'later');
  mkdirSync(join(root, 'assets'), { recursive: true });
  mkdirSync(later);
  writeFileSync(join(root, 'index.html'), '<p>spa shell</p>');
  writeFileSync(join(root, 'assets', 'app.css'), 'p{}');
  writeFileSync(join(root, 'bare'), 'a file named like a path entry');
  writeFileSync(join(top, 'secret.txt'), 'outside');
  return { top, root, later };
}

function crossbarConfig(root: string, later: string): unknown {
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }] }] }],
      transports: [{
        type: 'web',
        endpoint: { type: 'tcp', port: 8080, interface: '127.0.0.1' },
        paths: {
          '/': { type: 'static', directory: root, options: { default_file: 'index.html' } },
          ws: { type: 'websocket' },
          api: {
            type: 'path',
            paths: {
              '/': { type: 'json', value: { api: 'v1' } },
              ws: { type: 'websocket' },
              info: { type: 'nodeinfo' },
              pub: { type: 'publisher', realm: 'realm1', role: 'anonymous' },
              lp: { type: 'longpoll' },
              v1: { type: 'path', paths: { '/': { type: 'redirect', url: 'https://example.com/v1' }, deep: { type: 'path', paths: { x: { type: 'json', value: [1] } } } } },
            },
          },
          bare: { type: 'path', paths: { x: { type: 'json', value: 'x' } } },
          wamp: { type: 'path', paths: { '/': { type: 'websocket' } } },
          poll: { type: 'path', paths: { '/': { type: 'longpoll' }, info: { type: 'nodeinfo' } } },
          later: { type: 'static', directory: later, options: { default_file: 'shell.html' } },
        },
      }],
    }],
  };
}

let node: JunctionNode;
let base: string;
let dirs: ReturnType<typeof files>;
let warnings: string[];

beforeAll(async () => {
  dirs = files();
  const config = parseConfig(crossbarConfig(dirs.root, dirs.later));
  warnings = (config.warnings ?? []).map((w) => `${w.path}: ${w.message}`);
  config.router.listeners[0]!.endpoint = { type: 'tcp', port: 0, interface: '127.0.0.1' };
  node = await startNode(config);
  const address = node.listeners[0]!.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(() => node?.stop());

describe('web path type path', () => {
  it('serves its "/" entry at the path itself and its other entries below, nested again (curl)', async () => {
    expect(await curl(`${base}/api`)).toEqual({ status: 200, body: '{\n  "api": "v1"\n}' });
    expect((await curl(`${base}/api/info`)).body).toMatch(/Junction node info/);
    expect(await curl('-o', '/dev/null', '-w', '%{redirect_url}\n%{http_code}', `${base}/api/v1`)).toEqual({ status: 302, body: 'https://example.com/v1' });
    expect(await curl(`${base}/api/v1/deep/x`)).toEqual({ status: 200, body: '[\n  1\n]' });
  });

  it('a path whose map has no "/" entry answers 404 there and below, for every method, not the files of "/" (as Crossbar)', async () => {
    expect(await curl(`${base}/bare/x`)).toEqual({ status: 200, body: '"x"' });
    for (const url of ['/bare', '/bare/', '/bare/nothing', '/api/v1/deep', '/api/v1/deep/y', '/api/nothing', '/wamp/below']) {
      expect((await curl(`${base}${url}`)).status, url).toBe(404);
    }
    expect((await curl('-X', 'POST', '-d', 'x', `${base}/bare/nothing`)).status).toBe(404);
    // The startup log's served URLs name what answers, not the 404s of nested paths.
    const http = node.listeners[0]!.url.split(' · ').find((part) => part.startsWith('http://'))!;
    const served = http.replace(/^http:\/\/[^/]+/, '').split(',');
    expect(served).toContain('/bare/x');
    for (const prefix of ['/bare', '/api/v1/deep', '/wamp']) expect(served).not.toContain(prefix);
  });

  it('Autobahn|JS clients connect through nested WebSocket paths and get what curl publishes through a nested publisher', async () => {
    const ws = base.replace('http', 'ws');
    const clients: AutobahnClient[] = [await autobahnWs(`${ws}/api/ws`), await autobahnWs(`${ws}/wamp`)];
    try {
      const got: unknown[] = [];
      for (const c of clients) await c.session.subscribe('com.example.nested', (args: unknown[]) => got.push(args[0]));
      const answer = await curl('-H', 'Content-Type: application/json', '-d', '{"topic": "com.example.nested", "args": ["through /api/pub"]}', `${base}/api/pub`);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toHaveProperty('id');
      await until(() => got.length === 2, 5000, 'the event published through /api/pub, at both clients');
      expect(got).toEqual(['through /api/pub', 'through /api/pub']);
    } finally {
      for (const c of clients) c.connection.close();
    }
  });

  it('a plain GET on a nested WebSocket path answers its status page; nested long-poll paths open transports', async () => {
    for (const url of ['/api/ws', '/wamp']) {
      const status = await curl(`${base}${url}`);
      expect(status.status, url).toBe(200);
      expect(status.body, url).toMatch(/WAMP-over-WebSocket endpoint/);
    }
    for (const url of ['/api/lp/open', '/poll/open']) {
      const opened = await curl('-d', '{"protocols": ["wamp.2.json"]}', `${base}${url}`);
      expect(opened.status, url).toBe(200);
      expect(JSON.parse(opened.body)).toMatchObject({ protocol: 'wamp.2.json' });
    }
    // A long-poll "/" entry leaves its siblings theirs, as Crossbar's children of the resource.
    expect((await curl(`${base}/poll/info`)).body).toMatch(/Junction node info/);
  });
});

describe('static option default_file', () => {
  it('answers 200 with the file for GET and HEAD on names missing from a directory (as Crossbar); real files as before', async () => {
    for (const url of ['/', '/client-route', '/assets/missing.js', '/assets/', '/assets/x?y=1']) {
      expect(await curl(`${base}${url}`), url).toEqual({ status: 200, body: '<p>spa shell</p>' });
    }
    expect(await curl(`${base}/assets/app.css`)).toEqual({ status: 200, body: 'p{}' });
    // Where the missing part is a directory in the middle, Crossbar (Twisted) answers 404, and so does Junction.
    for (const url of ['/some/client/route', '/no-such-dir/app.js']) {
      expect((await curl(`${base}${url}`)).status, url).toBe(404);
    }
    const head = await curl('-I', `${base}/client-route`);
    expect(head.status).toBe(200);
    expect(head.body).toMatch(/content-type: text\/html; charset=utf-8/i);
    expect(head.body).toMatch(/content-length: 16/i);
  });

  it('not for other methods, nor for URLs that leave the directory', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      expect((await curl('-X', method, `${base}/client-route`)).status, method).toBe(404);
    }
    for (const url of ['/..%2fsecret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%00']) {
      const answer = await curl('--path-as-is', `${base}${url}`);
      expect(answer.status, url).toBe(404);
      expect(answer.body, url).not.toMatch(/spa shell|outside/);
    }
  });

  it('a WebSocket path keeps its status page below a "/" directory with a default file', async () => {
    expect((await curl(`${base}/ws`)).body).toMatch(/WAMP-over-WebSocket endpoint/);
  });

  it('one that does not exist is a warning at load and 404s until it does', async () => {
    expect(warnings).toEqual([`workers[0].transports[0].paths.later.options.default_file: ${join(dirs.later, 'shell.html')}: no such file or directory: requests below /later that match no file answer 404 until it exists`]);
    expect((await curl(`${base}/later/route`)).status).toBe(404);
    writeFileSync(join(dirs.later, 'shell.html'), 'now here');
    expect(await curl(`${base}/later/route`)).toEqual({ status: 200, body: 'now here' });
  });
});
