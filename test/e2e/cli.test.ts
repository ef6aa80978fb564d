// The `junction` command as a user runs it: start with a config file, check, init, version, and a
// graceful stop on SIGTERM (every session gets GOODBYE, exit code 0).
import { describe, it, expect, afterEach } from 'vitest';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { WebSocket } from 'ws';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function configFor(port: number) {
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true }, disclose: { caller: false, publisher: false }, cache: true }] }] }],
      transports: [{ type: 'websocket', endpoint: { type: 'tcp', port, interface: '127.0.0.1' }, serializers: ['json'] }],
    }],
  };
}

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

describe('junction CLI', () => {
  it('starts from a Crossbar-format config, logs when ready, and stops gracefully on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-cli-'));
    const port = await freePort();
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(configFor(port)));
    child = spawn(process.execPath, [CLI, 'start', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready:\n${output}`)), 10_000);
      const onData = (d: Buffer) => {
        output += d.toString();
        if (/ready/i.test(output)) { clearTimeout(timer); resolve(); }
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
    });
    expect(output).toContain(`ws://127.0.0.1:${port}`);

    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, 'wamp.2.json');
    const messages: unknown[][] = [];
    ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify([1, 'realm1', { roles: { subscriber: {} } }]));
    await new Promise((r) => setTimeout(r, 200));
    expect(messages[0]?.[0]).toBe(2);

    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    // The client answers the router's GOODBYE, as a WAMP client must.
    await new Promise((r) => setTimeout(r, 200));
    expect(messages[1]).toEqual([6, expect.any(Object), 'wamp.close.system_shutdown']);
    ws.send(JSON.stringify([6, {}, 'wamp.close.goodbye_and_out']));
    expect(await exited).toBe(0);
    child = undefined;
  });

  it('check reports each error with the path of the key at fault, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-cli-'));
    const file = join(dir, 'bad.json');
    const config = configFor(8080) as any;
    config.workers[0].transports[0].endpoint.port = 'eighty';
    config.workers[0].realms[0].roles[0].permissions[0].allow.fly = true;
    writeFileSync(file, JSON.stringify(config));
    const result = await run(['check', '--config', file]);
    expect(result.code).toBe(1);
    expect(result.stderr + result.stdout).toMatch(/workers\[0\]\.transports\[0\]\.endpoint\.port/);
    expect(result.stderr + result.stdout).toMatch(/workers\[0\]\.realms\[0\]\.roles\[0\]\.permissions\[0\]\.allow\.fly/);
  });

  it('init writes a starter config that check accepts, and refuses to overwrite it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-init-'));
    const first = await run(['init', dir]);
    expect(first.code).toBe(0);
    const file = join(dir, 'junction.yaml');
    expect(existsSync(file)).toBe(true);
    expect((await run(['check', '--config', file])).code).toBe(0);
    const again = await run(['init', dir]);
    expect(again.code).not.toBe(0);
  });

  it('version prints the package version', async () => {
    const result = await run(['version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^junction \d+\.\d+\.\d+/);
  });
});
