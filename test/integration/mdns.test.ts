// Found on the network (issue 17): a board running Junction and avahi-daemon, as the SD image runs
// them, announces <hostname>.local and its services over mDNS. Here the board is a network
// namespace joined to a second one (the laptop) by a veth pair; avahi-daemon runs for real in the
// board's namespace (no D-Bus, its services directory bind-mounted onto the one Junction writes),
// and the laptop resolves and browses with python-zeroconf (Debian's python3-zeroconf, see .ci/run).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI } from '../helpers/cli.js';
import { until } from '../helpers/until.js';

const BROWSE = fileURLToPath(new URL('./python/mdns_browse.py', import.meta.url));
const BOARD = `jmb${process.pid}`;
const LAPTOP = `jml${process.pid}`;
const HOST = `junction-test-${process.pid}`;
const TICKET = 'mdns-test-ticket-0123456789';

interface Seen { address: string | null; services: Record<string, { name: string; port: number; txt: Record<string, string | null> }[]> }

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A process in a namespace, its output kept for waiting on. */
function inNamespace(ns: string, argv: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string; stdout: () => string } {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  let stdout = '';
  child.stdout!.on('data', (d) => { output += d; stdout += d; });
  child.stderr!.on('data', (d) => (output += d));
  return { child, output: () => output, stdout: () => stdout };
}

/** What the laptop finds within `seconds`: HOST.local and the given types (TYPE or TYPE=PORT, waited for). */
function browse(seconds: number, ...types: string[]): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const { child, output, stdout } = inNamespace(LAPTOP, ['/usr/bin/python3', BROWSE, HOST, String(seconds), ...types]);
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(stdout()) as Seen);
      } catch {
        reject(new Error(`mdns_browse.py exited ${code}: ${output()}`));
      }
    });
  });
}

const rootAndTools = process.getuid?.() === 0;

describe('issue 17 #3: the board is found on the network over mDNS/DNS-SD', () => {
  const dir = mkdtempSync(join(tmpdir(), 'junction-mdns-'));
  const services = join(dir, 'services');
  const configFile = join(dir, 'junction.yaml');
  let avahi: ReturnType<typeof inNamespace> | undefined;
  let junction: ReturnType<typeof inNamespace> | undefined;

  async function startJunction(): Promise<void> {
    junction = inNamespace(BOARD, [process.execPath, CLI, 'start', '--config', configFile], { JUNCTION_AVAHI_SERVICES: services });
    await until(() => /mDNS: \d+ DNS-SD service\(s\) written/.test(junction!.output()), 15_000, 'Junction to write its services');
  }

  async function stopJunction(): Promise<void> {
    const child = junction!.child;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  beforeAll(async () => {
    expect(rootAndTools, 'this test needs root (network namespaces), as CI runs it').toBe(true);
    for (const ns of [BOARD, LAPTOP]) ip('netns', 'add', ns);
    ip('link', 'add', BOARD, 'type', 'veth', 'peer', 'name', LAPTOP);
    for (const [ns, addr] of [[BOARD, '10.231.0.1'], [LAPTOP, '10.231.0.2']] as const) {
      ip('link', 'set', ns, 'netns', ns);
      ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', ns);
      ip('-n', ns, 'link', 'set', ns, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      // mDNS goes to 224.0.0.251: a namespace without a default route needs a route for it.
      ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', ns);
    }
    execFileSync('mkdir', ['-p', services]);
    // Debian's avahi-daemon: its own config, no D-Bus, no chroot; `ip netns exec` gives it a mount
    // namespace of its own, where its pid directory is private and its services directory is ours.
    const conf = join(dir, 'avahi-daemon.conf');
    writeFileSync(conf, [
      '[server]', `host-name=${HOST}`, 'domain-name=local', 'use-ipv4=yes', 'use-ipv6=no', `allow-interfaces=${BOARD}`, 'enable-dbus=no',
      '[wide-area]', 'enable-wide-area=no', '[publish]', 'publish-hinfo=no', 'publish-workstation=no', '',
    ].join('\n'));
    avahi = inNamespace(BOARD, ['sh', '-c',
      'mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && mount --bind "$1" /etc/avahi/services && ' +
      'exec /usr/sbin/avahi-daemon -f "$2" --no-chroot --no-drop-root --no-rlimits', 'sh', services, conf]);
    await until(() => /Server startup complete/.test(avahi!.output()), 15_000, 'avahi-daemon to start');
    execFileSync(process.execPath, [CLI, 'init', '--first-boot', dir], { env: { ...process.env, JUNCTION_ADMIN_TICKET: TICKET } });
    await startJunction();
  }, 60_000);

  afterAll(async () => {
    for (const p of [junction, avahi]) if (p && p.child.exitCode === null) p.child.kill('SIGTERM');
    for (const ns of [BOARD, LAPTOP]) try { ip('netns', 'del', ns); } catch { /* not made */ }
  });

  it('resolves <hostname>.local and browses the dashboard, WAMP and MQTT with the ports and TXT of the first-boot config', async () => {
    const seen = await browse(10, '_http._tcp=8080', '_wamp._tcp=8080', '_mqtt._tcp=1883');
    expect(seen.address).toBe('10.231.0.1');
    expect(seen.services['_http._tcp']).toEqual([expect.objectContaining({ name: `Junction on ${HOST} (main)._http._tcp.local.`, port: 8080, txt: { path: '/' } })]);
    // The dashboard's own WebSocket path is not the one clients are sent to.
    expect(seen.services['_wamp._tcp']).toEqual([expect.objectContaining({ port: 8080, txt: { path: '/ws', rawsocket: 'yes', realm: 'realm1' } })]);
    expect(seen.services['_mqtt._tcp']).toEqual([expect.objectContaining({ name: `Junction on ${HOST} (mqtt)._mqtt._tcp.local.`, port: 1883, txt: { realm: 'realm1' } })]);
  }, 30_000);

  it('a reload keeps the announcements; a restart on other ports re-announces them; a stopped Junction announces nothing', async () => {
    const before = readdirSync(services).sort();
    const from = junction!.output().length;
    junction!.child.kill('SIGHUP');
    await until(() => /mDNS: \d+ DNS-SD service\(s\) written/.test(junction!.output().slice(from)), 15_000, 'the reload to rewrite the services');
    expect(readdirSync(services).sort()).toEqual(before);

    // A listener's port needs a restart (reload.ts): the restarted Junction announces the new ones.
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('port: 8080', 'port: 8081').replace('port: 1883', 'port: 1884'));
    await stopJunction();
    expect(readdirSync(services)).toEqual([]);
    await startJunction();
    const seen = await browse(10, '_wamp._tcp=8081', '_mqtt._tcp=1884', '_http._tcp=8081');
    expect(seen.services['_wamp._tcp']!.map((s) => s.port)).toEqual([8081]);
    expect(seen.services['_mqtt._tcp']!.map((s) => s.port)).toEqual([1884]);
    expect(seen.services['_http._tcp']!.map((s) => s.port)).toEqual([8081]);

    await stopJunction();
    expect(readdirSync(services)).toEqual([]);
    const gone = await browse(3, '_wamp._tcp');
    expect(gone.address).toBe('10.231.0.1'); // the board is still there, its router is not
    expect(gone.services['_wamp._tcp']).toEqual([]);
  }, 60_000);
});
