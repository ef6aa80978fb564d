// A config shaped like those in Crossbar's examples (web paths json, redirect, nodeinfo, static
// with listing, a wsgi path, in-process components, pythonpath, a Unix socket with backlog) through
// the built CLI: `junction check` accepts it with its warnings, `junction start` serves it (curl).
import { describe, it, expect, afterEach } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/free-port.js';
import { until } from '../helpers/until.js';

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

function curl(...args: string[]): Promise<string> {
  return new Promise((resolve) => execFile('curl', ['-s', '--max-time', '10', ...args], (_err, stdout) => resolve(stdout)));
}

function crossbarConfig(port: number, dir: string): unknown {
  return {
    version: 2,
    controller: {},
    workers: [{
      type: 'router',
      options: { pythonpath: ['..'] },
      realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true }, disclose: { caller: false, publisher: false }, cache: true }] }] }],
      transports: [
        { type: 'rawsocket', endpoint: { type: 'unix', path: join(dir, 'router.sock'), backlog: 100 }, serializers: ['json'] },
        {
          type: 'web',
          endpoint: { type: 'tcp', port, interface: '127.0.0.1', backlog: 1024 },
          paths: {
            '/': { type: 'static', directory: '../web', options: { enable_directory_listing: true, cache_timeout: 100 } },
            ws: { type: 'websocket' },
            config: { type: 'json', value: { param1: 'foobar', param2: [1, 2, 3] } },
            tavendo: { type: 'redirect', url: 'http://somewhere.com/to/something' },
            info: { type: 'nodeinfo' },
            wsgi: { type: 'wsgi', module: 'app', object: 'app' },
          },
        },
      ],
      components: [{ type: 'class', classname: 'hello.hello.AppSession', realm: 'realm1', transport: { type: 'websocket', endpoint: { type: 'tcp', host: '127.0.0.1', port }, url: `ws://127.0.0.1:${port}/ws` } }],
    }],
  };
}

describe('a Crossbar example-shaped web config', () => {
  it('check accepts it with one warning per Python-only key; start serves its paths', async () => {
    const root = mkdtempSync(join(tmpdir(), 'junction-cbweb-'));
    const node = join(root, '.crossbar');
    mkdirSync(node);
    mkdirSync(join(root, 'web', 'docs'), { recursive: true });
    writeFileSync(join(root, 'web', 'docs', 'a&b.txt'), 'ab');
    const port = await freePort();
    const file = join(node, 'config.json');
    writeFileSync(file, JSON.stringify(crossbarConfig(port, root)));

    const check = await runCli(['check', '--config', file]);
    const out = check.stdout + check.stderr;
    expect(check.code).toBe(0);
    expect(out).toMatch(/workers\[0\]\.options\.pythonpath: warning: Junction loads no Python modules/);
    expect(out).toMatch(/workers\[0\]\.components: warning: router components .*ordinary WAMP client/);
    expect(out).toMatch(/paths\.wsgi\.type: warning: a Python WSGI application cannot run inside Junction: \/wsgi answers 404/);

    child = spawn(process.execPath, [CLI, 'start', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (d: Buffer) => (output += d.toString());
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    await until(() => /ready/i.test(output), 15_000, 'junction start to log "ready"');
    const base = `http://127.0.0.1:${port}`;
    expect(JSON.parse(await curl(`${base}/config`))).toEqual({ param1: 'foobar', param2: [1, 2, 3] });
    expect(await curl('-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', `${base}/tavendo`)).toBe('302 http://somewhere.com/to/something');
    expect(await curl(`${base}/info`)).toMatch(/Junction node info/);
    expect(await curl('-o', '/dev/null', '-w', '%{http_code}', `${base}/wsgi`)).toBe('404');
    const listing = await curl(`${base}/docs/`);
    expect(listing).toContain('a&amp;b.txt');
    expect(await curl('-D', '-', '-o', '/dev/null', `${base}/docs/a%26b.txt`)).toMatch(/cache-control: max-age=100, public/i);
  });
});
