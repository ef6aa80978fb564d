// The SD image's first-boot script (images/rootfs/usr/lib/junction/firstboot.sh), run on the host
// against a fake boot partition and a fake root (JUNCTION_ROOT), with the real `junction check`.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { dashboardRole, monitorRole, parseConfig } from '../../src/config/load.js';
import { SetupReveal } from '../../src/board/setup-reveal.js';
import type { WampError } from '../../src/client/client-session.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(REPO, 'images/rootfs/usr/lib/junction/firstboot.sh');
const CLI = `${process.execPath} ${join(REPO, 'dist/bin/junction.cjs')}`;
const CHECK = `${CLI} check --config`;
const JUNCTION_UID = 4242;

let dir: string;
let root: string;
let boot: string;

function run(): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('sh', [SCRIPT], {
      timeout: 15_000,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', JUNCTION_ROOT: root, JUNCTION_BOOT: boot, JUNCTION_CLI: CLI, JUNCTION_CHECK: CHECK },
    }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr }));
  });
}
const rootFile = (p: string) => join(root, p);
const mode = (p: string) => statSync(p).mode & 0o777;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'junction-firstboot-'));
  root = join(dir, 'root');
  boot = join(dir, 'boot');
  mkdirSync(join(root, 'etc/ssh'), { recursive: true });
  mkdirSync(boot);
  writeFileSync(join(root, 'etc/passwd'), `root:x:0:0:root:/root:/bin/sh\njunction:x:${JUNCTION_UID}:${JUNCTION_UID}::/var/lib/junction:/usr/sbin/nologin\n`);
  writeFileSync(join(root, 'etc/group'), `root:x:0:\ndialout:x:20:junction\njunction:x:${JUNCTION_UID}:\n`);
  writeFileSync(join(root, 'etc/hostname'), 'junction\n');
  writeFileSync(join(root, 'etc/hosts'), '127.0.0.1\tlocalhost\n127.0.1.1\tjunction\n');
  writeFileSync(join(root, 'etc/ssh/sshd_not_to_be_run'), '');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('first boot without user files', () => {
  it('generates a config that admits no one without credentials, and setup.json behind a one-time code', async () => {
    const { code, out } = await run();
    expect(code).toBe(0);
    const conf = rootFile('etc/junction/junction.yaml');
    expect(mode(conf)).toBe(0o640);
    const setupPath = rootFile('var/lib/junction/setup.json');
    expect(mode(setupPath)).toBe(0o600);
    if (process.getuid?.() === 0) expect(statSync(setupPath).uid).toBe(JUNCTION_UID);
    const setup = JSON.parse(readFileSync(setupPath, 'utf8'));
    expect(Object.keys(setup).sort()).toEqual(['admin', 'created', 'setup_code']);
    expect(setup.setup_code).toMatch(/^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
    expect(setup.admin.authid).toBe('admin');
    expect(setup.admin.ticket).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Number.isNaN(Date.parse(setup.created))).toBe(false);

    // The code is printed (console + journal); the ticket never is, nor written to the FAT side.
    expect(out).toContain(`SETUP CODE: ${setup.setup_code}`);
    expect(out).not.toContain(setup.admin.ticket);
    expect(readFileSync(join(boot, 'firstboot-report.txt'), 'utf8')).not.toContain(setup.admin.ticket);

    // Junction itself accepts the file.
    const check = await new Promise<string>((resolve) => execFile(process.execPath, [join(REPO, 'dist/bin/junction.cjs'), 'check', '--config', conf],
      (err, stdout, stderr) => resolve((err ? 'FAILED ' : '') + stdout + stderr)));
    expect(check).toMatch(/OK/);
    expect(check).not.toMatch(/FAILED/);

    // Every listener has auth; the only anonymous entry is the status page's read-only role.
    const text = readFileSync(conf, 'utf8');
    expect(text).toContain(setup.admin.ticket);
    const cfg = parse(text);
    const worker = cfg.workers[0];
    const roles = new Map<string, any>(worker.realms[0].roles.map((r: any) => [r.name, r]));
    const parsedRealm = parseConfig(cfg).router.realms[0]!;
    const services: any[] = [];
    for (const t of worker.transports) {
      if (t.type === 'mqtt') services.push(t);
      if (t.rawsocket) services.push(t.rawsocket);
      for (const ws of Object.values(t.websocket ?? {})) services.push(ws);
    }
    expect(worker.transports.map((t: any) => t.type).sort()).toEqual(['mqtt', 'universal']);
    for (const s of services) {
      expect(s.auth).toBeDefined();
      if (s.auth.anonymous) {
        const role = parsedRealm.roles.find((r) => r.name === s.auth.anonymous.role)!;
        for (const p of role.permissions) {
          expect(p.allow.publish ?? false).toBe(false);
          expect(p.allow.register ?? false).toBe(false);
          if (p.allow.call) expect(p.uri).not.toMatch(/kill|add_testament|flush/);
        }
        // Besides anonymous, only the ticket, for the page's sign-in (issue 19 #10).
        expect(Object.keys(s.auth).sort()).toEqual(['anonymous', 'ticket']);
      } else {
        expect(Object.keys(s.auth)).toEqual(['ticket']);
      }
    }
    expect(roles.has('anonymous')).toBe(false);
    // issue 19 #10: the status page's roles are Junction's built-in ones, not copies: anonymous
    // visitors get 'dashboard' (no identities), the admin signed in on the page 'monitor'.
    expect(roles.has('dashboard')).toBe(false);
    expect(parsedRealm.roles.find((r) => r.name === 'dashboard')).toEqual(dashboardRole());
    expect(parsedRealm.roles.find((r) => r.name === 'monitor')).toEqual(monitorRole());
    const page = worker.transports.find((t: any) => t.type === 'universal').websocket['dashboard-ws'].auth;
    expect(page.anonymous.role).toBe('dashboard');
    expect(Object.values(page.ticket.principals).map((p: any) => p.role)).toEqual(['monitor']);
  });

  it('keeps the generated credentials on the next boot (no new code, same ticket)', async () => {
    await run();
    const first = readFileSync(rootFile('var/lib/junction/setup.json'), 'utf8');
    const { code, out } = await run();
    expect(code).toBe(0);
    expect(out).not.toContain('SETUP CODE');
    expect(out).toContain('nothing to apply');
    expect(readFileSync(rootFile('var/lib/junction/setup.json'), 'utf8')).toBe(first);
  });
});

describe('first boot with files on the boot partition', () => {
  const userConf = [
    'version: 2',
    'workers:',
    '  - type: router',
    '    realms: [ { name: home, roles: [ { name: anonymous, permissions: [ { uri: "", match: prefix, allow: { subscribe: true } } ] } ] } ]',
    '    transports: [ { type: websocket, endpoint: { type: tcp, port: 8080 } } ]',
    '',
  ].join('\r\n'); // as saved by Notepad

  it('applies junction.yaml, wifi.txt, hostname.txt and authorized_keys, and removes them from the boot partition', async () => {
    writeFileSync(join(boot, 'junction.yaml'), userConf);
    writeFileSync(join(boot, 'wifi.txt'), '# my network\r\nssid = Home "Net"\r\npsk=correct horse battery\r\ncountry=de\r\n');
    writeFileSync(join(boot, 'hostname.txt'), 'Gateway-1\r\n');
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk2oX5t0zYvO0w8cQmP2bXv0cQ9m7bqJr3x1n4o0aBc user@laptop';
    writeFileSync(join(boot, 'authorized_keys'), `${key}\r\nnot a key\r\n`);

    const { code, out } = await run();
    expect(code).toBe(0);
    for (const f of ['junction.yaml', 'wifi.txt', 'hostname.txt', 'authorized_keys']) expect(existsSync(join(boot, f))).toBe(false);

    expect(readFileSync(rootFile('etc/junction/junction.yaml'), 'utf8')).toBe(userConf.replace(/\r\n/g, '\n'));
    expect(existsSync(rootFile('var/lib/junction/setup.json'))).toBe(false);
    expect(out).not.toContain('SETUP CODE');

    const wpaPath = rootFile('etc/wpa_supplicant/wpa_supplicant-wlan0.conf');
    expect(mode(wpaPath)).toBe(0o600);
    const wpa = readFileSync(wpaPath, 'utf8');
    expect(wpa).toContain(`ssid=${Buffer.from('Home "Net"').toString('hex')}`);
    expect(wpa).toContain('country=DE');
    expect(wpa).toMatch(/psk=([0-9a-f]{64}|"correct horse battery")/);

    expect(readFileSync(rootFile('etc/hostname'), 'utf8')).toBe('gateway-1\n');
    expect(readFileSync(rootFile('etc/hosts'), 'utf8')).toContain('127.0.1.1\tgateway-1');

    expect(readFileSync(rootFile('root/.ssh/authorized_keys'), 'utf8')).toBe(`${key}\n`);
    expect(mode(rootFile('root/.ssh/authorized_keys'))).toBe(0o600);
    expect(existsSync(rootFile('etc/ssh/sshd_not_to_be_run'))).toBe(false);

    const report = readFileSync(join(boot, 'firstboot-report.txt'), 'utf8');
    expect(report).toContain('wifi: network');
    expect(report).not.toContain('correct horse');
  });

  it('refuses an invalid junction.yaml, keeps it aside and falls back to generated credentials', async () => {
    writeFileSync(join(boot, 'junction.yaml'), 'version: 2\nworkers:\n  - type: router\n    realms: []\n    transports: [ { type: websocket, endpoint: { type: tcp, port: eighty } } ]\n');
    const { code, out } = await run();
    expect(code).toBe(0);
    expect(existsSync(join(boot, 'junction.yaml'))).toBe(false);
    expect(existsSync(rootFile('etc/junction/junction.yaml.invalid'))).toBe(true);
    expect(out).toContain('REFUSED');
    expect(readFileSync(join(boot, 'firstboot-report.txt'), 'utf8')).toMatch(/port/);
    expect(out).toMatch(/SETUP CODE: /);
    expect(existsSync(rootFile('var/lib/junction/setup.json'))).toBe(true);
  });

  it('lets a later junction.yaml replace the generated config and withdraws the generated credentials', async () => {
    await run();
    expect(existsSync(rootFile('var/lib/junction/setup.json'))).toBe(true);
    writeFileSync(join(boot, 'junction.yaml'), userConf);
    await run();
    expect(existsSync(rootFile('var/lib/junction/setup.json'))).toBe(false);
    expect(readFileSync(rootFile('etc/junction/junction.yaml'), 'utf8')).toContain('name: home');
    // The setup code on the card opens nothing any more: it goes in the same boot.
    expect(existsSync(join(boot, 'junction-setup.txt'))).toBe(false);
  });

  it('ignores a bad host name, a short passphrase and a key file without keys', async () => {
    writeFileSync(join(boot, 'hostname.txt'), 'not_valid!\n');
    writeFileSync(join(boot, 'wifi.txt'), 'ssid=x\npsk=short\n');
    writeFileSync(join(boot, 'authorized_keys'), 'hello\n');
    const { code, out } = await run();
    expect(code).toBe(0);
    expect(readFileSync(rootFile('etc/hostname'), 'utf8')).toBe('junction\n');
    expect(existsSync(rootFile('etc/wpa_supplicant/wpa_supplicant-wlan0.conf'))).toBe(false);
    expect(existsSync(rootFile('etc/ssh/sshd_not_to_be_run'))).toBe(true);
    expect(out).toMatch(/ignored hostname\.txt/);
    expect(out).toMatch(/psk= must be 8 to 63/);
    expect(out).toMatch(/ignored authorized_keys/);
  });
});

describe('first boot with secrets: junction.env beside junction.yaml', () => {
  const secretConf = [
    'version: 2',
    'workers:',
    '  - type: router',
    '    realms: [ { name: home, roles: [ { name: sensor, allow-by-default: true } ] } ]',
    '    transports:',
    '      - type: websocket',
    '        endpoint: { type: tcp, port: 8080 }',
    '        auth: { ticket: { type: static, principals: { sensor-1: { ticket: "${SENSOR1_PASSWORD}", role: sensor } } } }',
    '',
  ].join('\n');
  const SECRET = 'Tr0ub4dor-and-3';

  it('issue 20 #5: installs junction.env (root, 0600) and checks junction.yaml with its variables', async () => {
    writeFileSync(join(boot, 'junction.yaml'), secretConf);
    writeFileSync(join(boot, 'junction.env'), `# secrets for junction.yaml\r\nSENSOR1_PASSWORD=${SECRET}\r\n\r\nOTHER=x=y\r\n`);
    const { code, out } = await run();
    expect(code).toBe(0);
    for (const f of ['junction.yaml', 'junction.env']) expect(existsSync(join(boot, f))).toBe(false);
    const envPath = rootFile('etc/junction/junction.env');
    expect(readFileSync(envPath, 'utf8')).toBe(`SENSOR1_PASSWORD=${SECRET}\nOTHER=x=y\n`);
    expect(mode(envPath)).toBe(0o600);
    if (process.getuid?.() === 0) expect(statSync(envPath).uid).toBe(0);
    expect(readFileSync(rootFile('etc/junction/junction.yaml'), 'utf8')).toBe(secretConf);
    expect(existsSync(rootFile('etc/junction/junction.yaml.invalid'))).toBe(false);
    expect(out).not.toMatch(/REFUSED|SETUP CODE/);
    const report = readFileSync(join(boot, 'firstboot-report.txt'), 'utf8');
    expect(report).toContain('junction.env: installed as /etc/junction/junction.env (2 variables)');
    expect(out + report).not.toContain(SECRET);
  });

  it('issue 20 #5: without junction.env the same junction.yaml is refused, naming the variable', async () => {
    writeFileSync(join(boot, 'junction.yaml'), secretConf);
    const { out } = await run();
    expect(out).toContain('REFUSED');
    expect(out).toMatch(/ticket: environment variable SENSOR1_PASSWORD is not set/);
    expect(existsSync(rootFile('etc/junction/junction.yaml.invalid'))).toBe(true);
  });

  it('issue 20 #5: a junction.env systemd would read differently is refused by line, values never shown', async () => {
    writeFileSync(join(boot, 'junction.yaml'), secretConf);
    writeFileSync(join(boot, 'junction.env'), `SENSOR1_PASSWORD="${SECRET}"\nexport X=1\nY=a\\b\n`);
    const { out } = await run();
    expect(existsSync(join(boot, 'junction.env'))).toBe(false);
    expect(existsSync(rootFile('etc/junction/junction.env'))).toBe(false);
    expect(mode(rootFile('etc/junction/junction.env.invalid'))).toBe(0o600);
    expect(out).toContain('junction.env: REFUSED');
    expect(out).toMatch(/line 1: SENSOR1_PASSWORD: the value must not contain quotes/);
    expect(out).toMatch(/line 2: the name must be letters/);
    expect(out).toMatch(/line 3: Y: the value must not contain/);
    expect(out).not.toContain(SECRET);
    // So junction.yaml is checked without it, and refused.
    expect(existsSync(rootFile('etc/junction/junction.yaml.invalid'))).toBe(true);
  });
});

describe('issue 17 #3: a headless first boot (no screen, no junction.yaml) is completed from the computer that wrote the card', () => {
  it('writes the setup code and http://<hostname>.local:8080/ to the boot partition, and removes them at the first boot after the code was used', async () => {
    writeFileSync(join(boot, 'hostname.txt'), 'shelf-pi\n');
    expect((await run()).code).toBe(0);
    const setup = JSON.parse(readFileSync(rootFile('var/lib/junction/setup.json'), 'utf8'));
    const note = readFileSync(join(boot, 'junction-setup.txt'), 'utf8');
    // Readable in Windows' Notepad too; the code, the URL under the name just given; never the ticket.
    expect(note.split('\n').slice(0, -1).every((l) => l.endsWith('\r'))).toBe(true);
    expect(note).toContain(`Enter the setup code:   ${setup.setup_code}`);
    expect(note).toContain('http://shelf-pi.local:8080/');
    expect(note).not.toContain(setup.admin.ticket);

    // Booted again before anyone used it: still there, still the same code.
    expect((await run()).code).toBe(0);
    expect(readFileSync(join(boot, 'junction-setup.txt'), 'utf8')).toBe(note);

    // The status page's reveal, with the code as read off the card: the ticket once, then nothing.
    const reveal = new SetupReveal('realm1', rootFile('var/lib/junction/setup.json'));
    const code = /Enter the setup code: +(\S+)/.exec(note)![1]!;
    expect(await reveal.reveal(code, 'tcp4:192.168.1.20')).toMatchObject({ authid: 'admin', ticket: setup.admin.ticket });
    expect(await reveal.reveal(code, 'tcp4:192.168.1.20').catch((e: WampError) => e.uri)).toBe('junction.error.no_setup');

    const { code: exit, out } = await run();
    expect(exit).toBe(0);
    expect(existsSync(join(boot, 'junction-setup.txt'))).toBe(false);
    expect(out).toMatch(/junction-setup\.txt removed from the boot partition/);
    // The config stays; no new credentials are generated.
    expect(existsSync(rootFile('etc/junction/junction.yaml'))).toBe(true);
    expect(existsSync(rootFile('var/lib/junction/setup.json'))).toBe(false);
  });
});
