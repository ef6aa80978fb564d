// The `junction` command as a user runs it: start with a config file, check, init, version, and a
// graceful stop on SIGTERM (every session gets GOODBYE, exit code 0).
import { describe, it, expect, afterEach } from 'vitest';
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { createPrivateKey, sign } from 'node:crypto';
import { createRequire } from 'node:module';
import { cryptosignVerify } from '../../src/auth/cryptosign.js';
import { freePort } from '../helpers/free-port.js';
import { until } from '../helpers/until.js';

const CLI = fileURLToPath(new URL('../../dist/bin/junction.cjs', import.meta.url));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
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
  it('starts from a Crossbar-format config, logs when ready, and on SIGTERM closes sessions the way clients reconnect after, exit 0', async () => {
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
    // Waits for the router's answers instead of a fixed time: a loaded machine answers late.
    const received = async (count: number) => { for (let i = 0; i < 500 && messages.length < count; i++) await new Promise((r) => setTimeout(r, 20)); };
    ws.send(JSON.stringify([1, 'realm1', { roles: { subscriber: {} } }]));
    await received(1);
    expect(messages[0]?.[0]).toBe(2);

    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    const closed = new Promise<[number, string]>((r) => ws.once('close', (code, reason) => r([code, reason.toString()])));
    child.kill('SIGTERM');
    // Issue 20 #1: no GOODBYE (Autobahn|JS never retries after one), WebSocket 1001 "going away".
    expect(await closed).toEqual([1001, 'router restarting']);
    expect(messages.slice(1)).toEqual([]);
    expect(await exited).toBe(0);
    child = undefined;
  });

  it('SIGHUP reloads roles and auth without dropping sessions; a broken file leaves the running config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-cli-'));
    const port = await freePort();
    const file = join(dir, 'config.json');
    const config = configFor(port) as any;
    const transport = config.workers[0].transports[0];
    transport.auth = { ticket: { type: 'static', principals: { dev: { ticket: 'old-ticket', role: 'anonymous' } } } };
    writeFileSync(file, JSON.stringify(config));
    child = spawn(process.execPath, [CLI, 'start', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const waitFor = async (re: RegExp) => {
      const deadline = Date.now() + 10_000;
      while (!re.test(output) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(output).toMatch(re);
    };
    await waitFor(/ready/i);

    /** Logs in with a ticket; returns the session's wire, or the ABORT reason. */
    const login = async (ticket: string) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, 'wamp.2.json');
      const messages: any[][] = [];
      ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
      await new Promise((r) => ws.once('open', r));
      const next = async (n: number) => {
        const deadline = Date.now() + 3000;
        while (messages.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        return messages[n - 1];
      };
      ws.send(JSON.stringify([1, 'realm1', { roles: { publisher: {} }, authmethods: ['ticket'], authid: 'dev' }]));
      await next(1);
      ws.send(JSON.stringify([5, ticket, {}]));
      const answer = await next(2);
      return { ws, answer, next };
    };
    const first = await login('old-ticket');
    expect(first.answer[0]).toBe(2);
    first.ws.send(JSON.stringify([16, 1, { acknowledge: true }, 'app.news']));
    expect((await first.next(3))[0]).toBe(17); // PUBLISHED

    // New ticket; publishing no longer allowed (a decision that was cached for this role).
    transport.auth.ticket.principals.dev.ticket = 'new-ticket';
    config.workers[0].realms[0].roles[0].permissions[0].allow.publish = false;
    writeFileSync(file, JSON.stringify(config));
    child.kill('SIGHUP');
    await waitFor(/SIGHUP: applied: realm 'realm1': roles\['anonymous'\]\.permissions\[''\]\.allow\.publish changed/);
    await waitFor(/SIGHUP: applied: transport 'transport0': auth\.ticket\.principals\['dev'\]\.ticket changed/);
    first.ws.send(JSON.stringify([16, 2, { acknowledge: true }, 'app.news']));
    expect(await first.next(4)).toEqual([8, 16, 2, {}, 'wamp.error.not_authorized', expect.any(Array)]);
    expect((await login('old-ticket')).answer).toEqual([3, expect.any(Object), 'wamp.error.not_authorized']);
    expect((await login('new-ticket')).answer[0]).toBe(2);

    // A broken file is reported and changes nothing.
    writeFileSync(file, '{ "version": 2, "workers": [ }');
    child.kill('SIGHUP');
    await waitFor(/not reloaded, the running config stays/);
    expect((await login('new-ticket')).answer[0]).toBe(2);
  });

  it('under systemd (NOTIFY_SOCKET): READY once serving, watchdog pings, RELOADING/READY around SIGHUP, STOPPING on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-cli-'));
    const socketPath = join(dir, 'notify.sock');
    const receiver = spawn('python3', [fileURLToPath(new URL('./python/notify_socket.py', import.meta.url)), socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    let notes = '';
    receiver.stdout!.on('data', (d) => (notes += d));
    try {
      const waitFor = async (re: RegExp, ms = 10_000) => {
        const deadline = Date.now() + ms;
        while (!re.test(notes) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(notes).toMatch(re);
      };
      await waitFor(/LISTENING/);
      const port = await freePort();
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify(configFor(port)));
      child = spawn(process.execPath, [CLI, 'start', '--config', file], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '2000000' },
      });
      await waitFor(/READY=1 STATUS=serving realms realm1/);
      await waitFor(/WATCHDOG=1/, 5000); // every WatchdogSec / 2 = 1 s
      child.kill('SIGHUP');
      await waitFor(/RELOADING=1[\s\S]*READY=1 STATUS=config reloaded/);
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await waitFor(/STOPPING=1/);
      await exited;
      child = undefined;
    } finally {
      receiver.kill();
    }
  });

  it('under systemd: STOPPING=1 reaches systemd before the process exits, however slow systemd-notify is', async () => {
    // On a loaded machine the process exited with STOPPING=1 still queued behind a slow systemd-notify.
    // Here each systemd-notify takes 1.5 s: SIGTERM as READY=1 arrives finds the first WATCHDOG=1
    // (due 1 s after READY was sent) in flight, and STOPPING=1 queued behind it.
    const dir = mkdtempSync(join(tmpdir(), 'junction-cli-'));
    const socketPath = join(dir, 'notify.sock');
    const slowBin = join(dir, 'bin');
    mkdirSync(slowBin);
    const real = execFileSync('sh', ['-c', 'command -v systemd-notify'], { encoding: 'utf8' }).trim();
    writeFileSync(join(slowBin, 'systemd-notify'), `#!/bin/sh\nsleep 1.5\nexec ${real} "$@"\n`, { mode: 0o755 });
    const receiver = spawn('python3', [fileURLToPath(new URL('./python/notify_socket.py', import.meta.url)), socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    let notes = '';
    receiver.stdout!.on('data', (d) => (notes += d));
    try {
      await until(() => /LISTENING/.test(notes), 10_000, 'the notify socket');
      const port = await freePort();
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify(configFor(port)));
      child = spawn(process.execPath, [CLI, 'start', '--config', file], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '2000000', PATH: `${slowBin}:${process.env['PATH']}` },
      });
      await until(() => /READY=1 STATUS=serving/.test(notes), 15_000, 'READY=1');
      const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      child = undefined;
      await until(() => /STOPPING=1/.test(notes), 3000, 'STOPPING=1 after exit');
      expect(notes).toMatch(/STOPPING=1/);
    } finally {
      receiver.kill();
    }
  });

  it('issue 20 #3: unknown commands and options are errors that name what was wrong, with the usage, exit 2', async () => {
    const cases: Array<[string[], string]> = [
      [['strat'], "unknown command 'strat'"],
      [['start', '--confg', 'x.yaml'], "start: unknown option '--confg'"],
      [['start', '-x'], "start: unknown option '-x'"],
      [['check', '--config'], "check: option '--config' needs a value"],
      [['start', 'a.yaml', 'b.yaml'], "start: unexpected argument 'b.yaml'"],
      [['start', 'a.yaml', '-c', 'b.yaml'], "start: the config file is given twice ('b.yaml' and 'a.yaml')"],
      [['check'], 'check needs a config file: junction check FILE'],
      [['keygen', '--force'], "keygen: unknown option '--force'"],
      [['--confg'], "unknown option '--confg' (the command comes first)"],
      [[], 'no command given'],
    ];
    for (const [args, message] of cases) {
      const result = await run(args);
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(result.stderr).toContain(`junction: ${message}\n`);
      expect(result.stderr).toContain('usage:');
    }
    const help = await run(['start', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage:');
  });

  it('issue 20 #3: the config file may be given as --config FILE, -c FILE or the one positional argument of start and check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-cli-'));
    const port = await freePort();
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(configFor(port)));
    for (const args of [['--config', file], [`--config=${file}`], ['-c', file], [file]]) {
      const checked = await run(['check', ...args]);
      expect({ args, code: checked.code }).toEqual({ args, code: 0 });
      expect(checked.stdout).toContain('OK');
    }
    for (const args of [[file], ['-c', file]]) {
      child = spawn(process.execPath, [CLI, 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      const deadline = Date.now() + 10_000;
      while (!/Junction ready/.test(output) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(output).toContain(`ws://127.0.0.1:${port}`); // the file's port, not the embedded default's 8080
      expect(output).not.toContain('embedded default');
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      child = undefined;
    }
  });

  it('issue 20 #3: without a config file, one warning says the embedded default lets anonymous do everything on loopback', async () => {
    child = spawn(process.execPath, [CLI, 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    // Logged before listening, so it shows whether or not port 8080 is free on this machine.
    const deadline = Date.now() + 10_000;
    while (!/embedded default/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    const warnings = stderr.split('\n').filter((l) => /WARN/.test(l));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/embedded default config.*ANONYMOUS clients may do EVERYTHING.*127\.0\.0\.1:8080.*--config FILE/);
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

  it('keygen prints a key pair whose private seed signs for its public key', async () => {
    const result = await run(['keygen']);
    expect(result.code).toBe(0);
    const seed = /private seed.*: ([0-9a-f]{64})/.exec(result.stdout)?.[1];
    const pub = /public key.*: ([0-9a-f]{64})/.exec(result.stdout)?.[1];
    expect(seed && pub).toBeTruthy();
    const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seed!, 'hex')]), format: 'der', type: 'pkcs8' });
    const challenge = Buffer.alloc(32, 7);
    expect(cryptosignVerify(pub!, challenge.toString('hex'), Buffer.concat([sign(null, challenge, privateKey), challenge]).toString('hex'))).toBe(true);
  });

  it('derive-key reads the password from stdin and prints the salted WAMP-CRA key Autobahn derives', async () => {
    const autobahn = createRequire(import.meta.url)('autobahn');
    const derived = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const p = spawn(process.execPath, [CLI, 'derive-key', '--salt', 'salt123', '--iterations', '100'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.on('close', (code) => resolve({ code, stdout }));
      p.stdin.end('secret\n');
    });
    expect(derived.code).toBe(0);
    expect(derived.stdout.trim()).toBe(autobahn.auth_cra.derive_key('secret', 'salt123', 100, 32));
    expect((await run(['derive-key'])).code).toBe(2);
  });

  it('derive-key --kdf argon2id-13 prints the SCRAM principal whose keys Autobahn|Python derives from the password', async () => {
    const derived = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const p = spawn(process.execPath, [CLI, 'derive-key', '--kdf', 'argon2id-13', '--salt', '00112233445566778899aabbccddeeff', '--iterations', '3', '--memory', '64'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.on('close', (code) => resolve({ code, stdout }));
      p.stdin.end('secret\n');
    });
    expect(derived.code).toBe(0);
    // Autobahn's client side: its Argon2id helper, then ClientKey/StoredKey/ServerKey as its AuthScram computes them.
    const python = [
      'import base64, hashlib, hmac, json, binascii',
      'from autobahn.wamp.auth import _hash_argon2id13_secret as h',
      "salted = h(b'secret', base64.b64encode(binascii.a2b_hex('00112233445566778899aabbccddeeff')).decode(), 3, 64)",
      "ck = hmac.new(salted, b'Client Key', hashlib.sha256).digest()",
      "print(json.dumps({'stored-key': hashlib.sha256(ck).hexdigest(), 'server-key': hmac.new(salted, b'Server Key', hashlib.sha256).hexdigest()}))",
    ].join('\n');
    const expected = JSON.parse(execFileSync(process.env['JUNCTION_PYTHON'] ?? '/usr/bin/python3', ['-c', python], { encoding: 'utf8' }));
    expect(JSON.parse(derived.stdout)).toEqual({ kdf: 'argon2id-13', iterations: 3, memory: 64, salt: '00112233445566778899aabbccddeeff', ...expected });
    expect((await run(['derive-key', '--kdf', 'md5'])).code).toBe(2);
  });

  it('version prints the package version', async () => {
    const result = await run(['version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^junction \d+\.\d+\.\d+/);
  });
});

describe('junction CLI: a testament cannot take the process down', () => {
  it('issue 19 #1: add_testament with publish_options of the wrong type is refused, and dropping the connection leaves the router up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-cli-'));
    const port = await freePort();
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(configFor(port))); // the anonymous role may do everything, as in the embedded default
    child = spawn(process.execPath, [CLI, 'start', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    let exitCode: number | null | undefined;
    child.once('exit', (code) => { exitCode = code; });
    const deadline = Date.now() + 10_000;
    while (!/ready/i.test(output) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

    const open = async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, 'wamp.2.json');
      const messages: any[][] = [];
      ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
      await new Promise((r) => ws.once('open', r));
      const next = async (n: number) => {
        const until = Date.now() + 3000;
        while (messages.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
        return messages[n - 1];
      };
      ws.send(JSON.stringify([1, 'realm1', { roles: { caller: {}, publisher: {}, subscriber: {} } }]));
      expect((await next(1))?.[0]).toBe(2);
      return { ws, next, messages };
    };
    // Someone listens on the testament's topic (the old crash happened delivering to a subscriber).
    const listener = await open();
    listener.ws.send(JSON.stringify([32, 1, {}, 'devices.gone']));
    expect((await listener.next(2))?.[0]).toBe(33);
    const attacker = await open();
    attacker.ws.send(JSON.stringify([48, 1, {}, 'wamp.session.add_testament', ['devices.gone', ['x'], {}], { publish_options: { eligible: 5, exclude_authid: 1 } }]));
    expect((await attacker.next(2))?.slice(0, 6)).toEqual([8, 48, 1, {}, 'wamp.error.invalid_argument', [expect.stringContaining('eligible')]]);
    attacker.ws.send(JSON.stringify([48, 2, {}, 'wamp.session.add_testament', ['devices.gone', ['attacker'], {}], { publish_options: { exclude_authid: ['nobody'] } }]));
    expect((await attacker.next(3))?.[0]).toBe(50);
    attacker.ws.terminate(); // the session leaves without GOODBYE
    const will = await listener.next(3);
    expect([will?.[0], will?.[4]]).toEqual([36, ['attacker']]);
    await new Promise((r) => setTimeout(r, 300));
    expect(exitCode, output).toBeUndefined();
    const other = await open();
    other.ws.send(JSON.stringify([48, 1, {}, 'wamp.session.count', []]));
    expect(await other.next(2)).toEqual([50, 1, {}, [2]]);
    other.ws.close();
    listener.ws.close();
  });
});
