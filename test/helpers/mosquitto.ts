// A real mosquitto broker for interop tests: Debian's /usr/sbin/mosquitto on 127.0.0.1 with a
// generated config (persistence off, anonymous clients allowed). One user, 'bridge', is in a
// password file; `gate(false)` changes its password (and makes mosquitto reload it with SIGHUP), so
// a test can keep a bridge out while its own clients connect, then let it in.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';
export const MOSQUITTO_SUB = '/usr/bin/mosquitto_sub';
const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';
export const BRIDGE_USER = 'bridge';
export const BRIDGE_PASSWORD = 'bridge-secret';

export class Mosquitto {
  readonly dir = mkdtempSync(join(tmpdir(), 'junction-mosquitto-'));
  private child: ChildProcess | undefined;
  private log = '';

  /** `tls`: PEM file paths; the listener then speaks TLS only and requires a client certificate from `ca`. */
  constructor(readonly port: number, readonly tls?: { ca: string; certificate: string; key: string }) {
    this.writePasswords(true);
    writeFileSync(join(this.dir, 'mosquitto.conf'), [
      `listener ${port} 127.0.0.1`,
      ...(tls ? [`cafile ${tls.ca}`, `certfile ${tls.certificate}`, `keyfile ${tls.key}`, 'require_certificate true'] : []),
      'allow_anonymous true',
      `password_file ${join(this.dir, 'passwd')}`,
      'persistence false',
      // Every message goes straight to an online subscriber (nothing held back in the broker's
      // memory beyond the socket) and nothing is dropped for a slow one.
      'max_inflight_messages 0',
      'max_queued_messages 0',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      // Started as root, mosquitto would switch to the 'mosquitto' user, who cannot read our temp dir.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      '',
    ].join('\n'));
  }

  get url(): string {
    return this.tls ? `mqtts://localhost:${this.port}` : `mqtt://127.0.0.1:${this.port}`;
  }

  /** Starts the broker and waits until it accepts connections. */
  async start(): Promise<void> {
    const child = spawn(MOSQUITTO, ['-c', join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.on('data', (d: Buffer) => { this.log += d.toString(); });
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${this.log}`);
      if (await canConnect(this.port)) return;
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${this.port}: ${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL (nothing saved, connections cut) and wait for the process to be gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Lets the bridge user in (true) or not (false), without dropping anyone connected. */
  gate(open: boolean): void {
    this.writePasswords(open);
    this.child?.kill('SIGHUP');
  }

  private writePasswords(open: boolean): void {
    const file = join(this.dir, 'passwd');
    execFileSync(MOSQUITTO_PASSWD, ['-c', '-b', file, BRIDGE_USER, open ? BRIDGE_PASSWORD : 'not-the-password'], { stdio: 'ignore' });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}
