// Endpoint `type: onion` against a real Tor daemon (Debian's tor, started here with its own data
// directory, a control port, cookie authentication and DisableNetwork 1: no network here, yet Tor
// creates the onion service and answers ADD_ONION; it cannot route to it, so the WAMP client uses the
// local listening port). Junction starts before tor (a board on a shelf), publishes its listener once
// tor is there, keeps the address across restarts and across tor restarts, and its service is gone
// when it stops.
import { describe, it, expect, afterAll } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli } from '../helpers/cli.js';
import { Child } from '../helpers/child.js';
import { freePort } from '../helpers/free-port.js';
import { autobahnWs } from '../helpers/autobahn-ws.js';
import { routerWithTransport } from '../helpers/config.js';
import { until } from '../helpers/until.js';
import { startTestNode } from '../helpers/node.js';
import { TorControl } from '../../src/transports/tor-control.js';

const dir = mkdtempSync(join(tmpdir(), 'junction-onion-'));
const children: Child[] = [];
afterAll(() => {
  for (const child of children) child.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Debian's tor with nothing from /etc: a data directory of its own, the control port, no network; resolves once the control port is open. */
async function startTor(control: number | string, data = join(dir, 'tor-data'), auth = ['--CookieAuthentication', '1']): Promise<Child> {
  mkdirSync(data, { recursive: true, mode: 0o700 });
  const empty = join(dir, 'empty-torrc');
  writeFileSync(empty, '');
  const controlOption = typeof control === 'number' ? ['--ControlPort', `127.0.0.1:${control}`] : ['--ControlSocket', control];
  const tor = new Child(spawn('tor', ['-f', empty, '--defaults-torrc', empty, '--DataDirectory', data, ...controlOption,
    ...auth, '--DisableNetwork', '1', '--SocksPort', '0', '--Log', 'notice stdout'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  children.push(tor);
  await tor.waitFor(/Opened Control listener/);
  return tor;
}

/** The test's own control connection (not Junction's code): authenticates with the cookie, sends each command, returns the replies' text. */
function torCommands(controlPort: number, commands: string[], data = join(dir, 'tor-data')): Promise<string[]> {
  const cookie = readFileSync(join(data, 'control_auth_cookie')).toString('hex');
  return new Promise((resolve, reject) => {
    const socket = connect(controlPort, '127.0.0.1');
    const queue = [`AUTHENTICATE ${cookie}`, ...commands];
    const replies: string[] = [];
    let text = '';
    socket.setEncoding('latin1');
    socket.on('error', reject);
    socket.on('connect', () => socket.write(`${queue[0]}\r\n`));
    socket.on('data', (chunk: string) => {
      text += chunk;
      while (/^\d{3} [^\r]*\r\n/m.test(text)) {
        const end = text.search(/^\d{3} [^\r]*\r\n/m);
        const lineEnd = text.indexOf('\r\n', end) + 2;
        replies.push(text.slice(0, lineEnd));
        text = text.slice(lineEnd);
        queue.shift();
        if (queue.length === 0) {
          socket.end();
          resolve(replies.slice(1));
          return;
        }
        socket.write(`${queue[0]}\r\n`);
      }
    });
  });
}

/** Writes a config file of one WebSocket transport on this onion endpoint (without its `type`). */
function onionConfig(name: string, endpoint: object): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(routerWithTransport({ type: 'websocket', endpoint: { type: 'onion', ...endpoint } })));
  return file;
}

function startJunction(file: string): Child {
  const child = new Child(spawn(process.execPath, [CLI, 'start', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] }));
  children.push(child);
  return child;
}

const ONION = /onion service ([a-z2-7]{56})\.onion:80 /;

describe('endpoint type onion', () => {
  it('publishes the listener through tor once tor is up, keeps the key and address across restarts, and the service ends with Junction', async () => {
    const controlPort = await freePort();
    const keyFile = join(dir, 'keys', 'onion.key');
    const file = onionConfig('config.json', { port: 80, tor_control_endpoint: { type: 'tcp', host: '127.0.0.1', port: controlPort }, private_key_file: 'keys/onion.key' });

    // tor is not there yet: Junction starts anyway and says what to do.
    const first = startJunction(file);
    await first.waitFor(/Junction ready/);
    await first.waitFor(/cannot use Tor's control port at 127\.0\.0\.1:\d+: connect ECONNREFUSED .*"CookieAuthentication 1"; trying again in 1 s/);
    expect(ONION.test(first.output)).toBe(false);

    const tor = await startTor(controlPort);
    await first.waitFor(ONION, 20_000);
    const serviceId = ONION.exec(first.output)![1]!;
    expect(first.output).toContain(`its new key written to ${keyFile}`);
    const key = readFileSync(keyFile, 'utf8');
    expect(key).toMatch(/^ED25519-V3:[A-Za-z0-9+/]{86}==\n$/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);

    // The listener is on 127.0.0.1 and serves WAMP to Autobahn|JS.
    const localPort = Number(/listening: \S+ \(websocket\): ws:\/\/127\.0\.0\.1:(\d+)\//.exec(first.output)![1]);
    expect(first.output).toContain(`-> 127.0.0.1:${localPort}`);
    const { session, connection } = await autobahnWs(`ws://127.0.0.1:${localPort}/`);
    expect(await session.call('wamp.session.count')).toBe(1);
    connection.close();

    // The service lives in tor now: the same key cannot be added a second time.
    const add = `ADD_ONION ${key.trim()} Flags=DiscardPK Port=80,127.0.0.1:9`;
    const [collision] = await torCommands(controlPort, [add]);
    expect(collision).toMatch(/^550 .*collision/im);

    // Junction stops: its control connection closes and tor drops the service, so the key is free,
    // and tor names it with the address Junction logged (the key file holds that address's key).
    first.process.kill('SIGTERM');
    await first.exited;
    const [added] = await torCommands(controlPort, [add]);
    expect(added).toContain(`250-ServiceID=${serviceId}\r\n`);

    // A restart reads the key: the same address, the file untouched.
    const second = startJunction(file);
    await second.waitFor(ONION, 20_000);
    expect(ONION.exec(second.output)![1]).toBe(serviceId);
    expect(second.output).not.toContain('its new key written');
    expect(readFileSync(keyFile, 'utf8')).toBe(key);

    // tor goes away and comes back: Junction says so and publishes the same address again.
    tor.process.kill('SIGKILL');
    await tor.exited;
    await second.waitFor(/lost Tor's control connection at 127\.0\.0\.1:\d+ .*unreachable until Tor is back; trying again/);
    const before = second.output.length;
    await startTor(controlPort);
    await until(() => ONION.test(second.output.slice(before)), 40_000, 'the onion service again after tor came back');
    expect(ONION.exec(second.output.slice(before))![1]).toBe(serviceId);
    second.process.kill('SIGTERM');
    await second.exited;
  }, 120_000);

  it('tor_control_endpoint type unix: the ControlSocket of tor', async () => {
    const data = join(dir, 'tor-unix');
    const socket = join(data, 'control');
    await startTor(socket, data);
    const file = onionConfig('unix.json', { port: 8080, tor_control_endpoint: { type: 'unix', path: 'tor-unix/control' }, private_key_file: 'unix.key' });
    const junction = startJunction(file);
    await junction.waitFor(/onion service [a-z2-7]{56}\.onion:8080 \(Tor at unix:.*tor-unix\/control\)/, 20_000);
    expect(readFileSync(join(dir, 'unix.key'), 'utf8')).toMatch(/^ED25519-V3:/);
    junction.process.kill('SIGTERM');
    await junction.exited;
  });

  it('a listener stopped in a running process takes its onion service with it', async () => {
    const data = join(dir, 'tor-inprocess');
    const controlPort = await freePort();
    await startTor(controlPort, data);
    const keyFile = join(dir, 'inprocess', 'onion.key');
    const node = await startTestNode({ listener: { endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1', onion: { virtualPort: 80, control: { type: 'tcp', host: '127.0.0.1', port: controlPort }, privateKeyFile: keyFile } } } });
    try {
      await until(() => existsSync(keyFile), 15_000, 'the key file');
      const add = `ADD_ONION ${readFileSync(keyFile, 'utf8').trim()} Flags=DiscardPK Port=80,127.0.0.1:9`;
      expect((await torCommands(controlPort, [add], data))[0]).toMatch(/^550 .*collision/im);
    } finally {
      await node.stop();
    }
    const [added] = await torCommands(controlPort, [`ADD_ONION ${readFileSync(keyFile, 'utf8').trim()} Flags=DiscardPK Port=80,127.0.0.1:9`], data);
    expect(added).toMatch(/^250-ServiceID=[a-z2-7]{56}\r\n/);
  });

  it('a tor that only takes a password: the log line says to turn on CookieAuthentication', async () => {
    const controlPort = await freePort();
    const hash = await new Promise<string>((resolve) => execFile('tor', ['--hash-password', 'secret', '--quiet'], (_e, out) => resolve(out.trim().split('\n').pop()!)));
    await startTor(controlPort, join(dir, 'tor-password'), ['--HashedControlPassword', hash]);
    const file = onionConfig('password.json', { port: 80, tor_control_endpoint: { type: 'tcp', port: controlPort }, private_key_file: 'password.key' });
    const junction = startJunction(file);
    await junction.waitFor(/cannot use Tor's control port at 127\.0\.0\.1:\d+: Tor offers authentication HASHEDPASSWORD; Junction authenticates with Tor's cookie: set "CookieAuthentication 1" in torrc/);
    expect(existsSync(join(dir, 'password.key'))).toBe(false);
    junction.process.kill('SIGTERM');
    await junction.exited;
  });

  it('the control client reads a multi-line data reply ("250+") and the reply after it', async () => {
    const data = join(dir, 'tor-data-reply');
    const controlPort = await freePort();
    await startTor(controlPort, data);
    const control = await TorControl.open({ type: 'tcp', host: '127.0.0.1', port: controlPort });
    try {
      await control.authenticate();
      const config = await control.command('GETINFO config-text');
      expect(config.lines[0]).toBe('config-text=');
      expect(config.lines).toContain('DisableNetwork 1');
      expect(config.lines.at(-1)).toBe('OK');
      const version = await control.command('GETINFO version');
      expect(version.lines[0]).toMatch(/^version=\d+\.\d+/);
      await expect(control.command('NOSUCHCOMMAND')).rejects.toThrow(/^Tor answered 510 /);
    } finally {
      control.close();
    }
  });

  it('a bad tor_control_endpoint is an error naming its path', async () => {
    const file = onionConfig('bad.json', { port: 80, tor_control_endpoint: { type: 'tcp', host: '127.0.0.1', port: 90510 }, private_key_file: 'k' });
    const result = await runCli(['start', '--config', file]);
    expect(result.code).not.toBe(0);
    expect(result.stderr + result.stdout).toContain('workers[0].transports[0].endpoint.tor_control_endpoint.port: must be between 1 and 65535, got 90510');
  });
});
