// Junction's Debian package (images/build-deb.sh, images/deb/): what it holds, lintian's verdict,
// and its maintainer scripts run by the real dpkg into a scratch root (dpkg --root with
// --force-script-chrootless: the scripts act on $DPKG_ROOT). Only systemctl and
// deb-systemd-invoke are recording stubs, since no systemd runs for that root; useradd's work is
// done by the real systemd-sysusers, enabling by the real deb-systemd-helper.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeout = 120_000): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: stdout, err: stderr }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'junction-deb-'));
let deb = '';

beforeAll(async () => {
  // The real script; the checkout's dist/ (built for the test run) spares a second TypeScript build.
  const built = await run('bash', [join(REPO, 'images/build-deb.sh'), 'amd64'],
    { JUNCTION_DIST: join(REPO, 'dist'), DEB_WORK: join(dir, 'work'), DEB_OUT: join(dir, 'out') });
  expect(built.err).toBe('');
  expect(built.code).toBe(0);
  deb = built.out.trim().split('\n').at(-1)!;
  expect(deb).toBe(join(dir, 'out', `junction_${VERSION}_amd64.deb`));
}, 180_000);

// The work directory holds two node_modules trees (~50 MB).
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('images/build-deb.sh: junction_<version>_amd64.deb', () => {
  it('issue 17 #1: control fields: version from package.json, amd64, Debian\'s nodejs >= 20, one conffile, the maintainer scripts', async () => {
    const field = async (name: string) => (await run('dpkg-deb', ['-f', deb, name])).out.trim();
    expect(await field('Package')).toBe('junction');
    expect(await field('Version')).toBe(VERSION);
    expect(await field('Architecture')).toBe('amd64');
    expect((await field('Depends')).split(/,\s*/)).toContain('nodejs (>= 20)');
    const info = await run('dpkg-deb', ['-I', deb]);
    for (const script of ['postinst', 'prerm', 'postrm']) expect(info.out).toMatch(new RegExp(`\\*\\s+${script}\\s+#!/bin/sh`));
    expect((await run('dpkg-deb', ['-I', deb, 'conffiles'])).out.trim()).toBe('/etc/junction/junction.yaml');
  });

  it('issue 17 #1: files: the CLI on PATH, the unit, the user, the default config; all root\'s, only the CLI executable, no foreign addons', async () => {
    const listing = (await run('dpkg-deb', ['-c', deb])).out.trim().split('\n');
    const entries = new Map(listing.map((line) => {
      const [mode, owner, , , , ...rest] = line.split(/\s+/);
      const path = rest.join(' ').replace(/^\./, '');
      return [path.replace(/ -> .*$/, ''), { mode: mode!, owner: owner!, target: / -> (.*)$/.exec(path)?.[1] }];
    }));
    expect(entries.get('/usr/bin/junction')).toEqual({ mode: 'lrwxrwxrwx', owner: 'root/root', target: '../lib/junction/dist/bin/junction.cjs' });
    expect(entries.get('/usr/lib/junction/dist/bin/junction.cjs')?.mode).toBe('-rwxr-xr-x');
    for (const f of ['/usr/lib/systemd/system/junction.service', '/usr/lib/sysusers.d/junction.conf', '/etc/junction/junction.yaml', '/usr/lib/junction/package.json', '/usr/share/doc/junction/copyright']) {
      expect(entries.get(f)?.mode, f).toBe('-rw-r--r--');
    }
    for (const [path, e] of entries) {
      expect(e.owner, path).toBe('root/root');
      if (e.mode.startsWith('-') && path !== '/usr/lib/junction/dist/bin/junction.cjs') expect(e.mode, path).toBe('-rw-r--r--');
    }
    const addons = [...entries.keys()].filter((p) => p.endsWith('.node'));
    expect(addons.some((p) => p.includes('@serialport/bindings-cpp/prebuilds/linux-x64/'))).toBe(true);
    expect(addons.filter((p) => /darwin|win32|android|arm64|musl/.test(p))).toEqual([]);
    expect([...entries.keys()].filter((p) => p.startsWith('/opt'))).toEqual([]);
  });

  it('issue 17 #1: unpacked, the packaged CLI runs on this node: its version, its own default config checks, serialport\'s addon loads', async () => {
    const root = join(dir, 'x');
    expect((await run('dpkg-deb', ['-x', deb, root])).code).toBe(0);
    const cli = join(root, 'usr/lib/junction/dist/bin/junction.cjs');
    expect((await run(process.execPath, [cli, 'version'])).out).toContain(VERSION);
    const check = await run(process.execPath, [cli, 'check', '--config', join(root, 'etc/junction/junction.yaml')]);
    expect(check.code, check.out + check.err).toBe(0);
    const unit = readFileSync(join(root, 'usr/lib/systemd/system/junction.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node .*\/usr\/lib\/junction\/dist\/bin\/junction\.cjs start --config \/etc\/junction\/junction\.yaml$/m);
    const addon = await run(process.execPath, ['-e', `require(${JSON.stringify(join(root, 'usr/lib/junction/node_modules/@serialport/bindings-cpp'))}).autoDetect()`]);
    expect(addon.code, addon.err).toBe(0);
  });

  it('issue 17 #1: lintian finds no error or warning (the remaining tags are overridden, with reasons, in images/deb/lintian-overrides)', async () => {
    const { out, err } = await run('lintian', ['--tag-display-limit', '0', deb], {}, 170_000);
    expect(`${out}\n${err}`.split('\n').filter((l) => /^[EW]: /.test(l))).toEqual([]);
  }, 180_000);
});

describe('images/deb/ maintainer scripts, run by dpkg into a scratch root', () => {
  const root = join(dir, 'root');
  const calls = join(dir, 'calls.log');
  const stubs = join(dir, 'stubs');
  const dpkg = (...args: string[]) => run('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', '--force-not-root', ...args],
    { PATH: `${stubs}:${process.env['PATH']}` });
  const recorded = () => { const text = existsSync(calls) ? readFileSync(calls, 'utf8') : ''; rmSync(calls, { force: true }); return text.trim().split('\n').filter(Boolean); };
  const line = (file: string, name: string) => readFileSync(join(root, 'etc', file), 'utf8').split('\n').find((l) => l.startsWith(`${name}:`))?.split(':');
  const owner = (path: string) => { const s = statSync(join(root, path)); return { uid: s.uid, gid: s.gid, mode: (s.mode & 0o7777).toString(8) }; };

  /** The same package under another version: N+1 for the upgrade. */
  async function relabeled(version: string): Promise<string> {
    const tree = join(dir, `tree-${version}`);
    expect((await run('dpkg-deb', ['-R', deb, tree])).code).toBe(0);
    const control = join(tree, 'DEBIAN/control');
    writeFileSync(control, readFileSync(control, 'utf8').replace(/^Version: .*$/m, `Version: ${version}`));
    const out = join(dir, `junction_${version}_amd64.deb`);
    expect((await run('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '-b', tree, out])).code).toBe(0);
    return out;
  }

  beforeAll(() => {
    for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/lib/dpkg/triggers', 'etc', 'run/systemd/system']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, 'var/lib/dpkg/status'), '');
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\ndialout:x:20:\n');
    mkdirSync(stubs);
    for (const tool of ['systemctl', 'deb-systemd-invoke']) {
      writeFileSync(join(stubs, tool), `#!/bin/sh\necho "${tool} $*" >> '${calls}'\n`);
      chmodSync(join(stubs, tool), 0o755);
    }
  });

  it('issue 17 #1: install, upgrade, downgrade, remove, purge: the user, permissions, enabling (an admin\'s disable kept), restarts; config and state kept until purge', async () => {
    // Install (systemd "running" in the root: run/systemd/system exists).
    const installed = await dpkg('-i', deb);
    expect(installed.code, installed.err).toBe(0);
    const user = line('passwd', 'junction')!;
    const group = line('group', 'junction')!;
    expect(user[5]).toBe('/var/lib/junction');
    expect(user[6]).toBe('/usr/sbin/nologin');
    expect(line('group', 'dialout')![3]!.split(',')).toContain('junction');
    const uid = Number(user[2]), gid = Number(group[2]);
    expect(uid).toBeGreaterThan(0);
    expect(owner('etc/junction')).toEqual({ uid: 0, gid, mode: '750' });
    expect(owner('etc/junction/junction.yaml')).toEqual({ uid: 0, gid, mode: '640' });
    expect(owner('var/lib/junction')).toEqual({ uid, gid, mode: '750' });
    expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/junction.service'))).toBe('/usr/lib/systemd/system/junction.service');
    expect(recorded()).toEqual(['systemctl --system daemon-reload', 'deb-systemd-invoke start junction.service']);

    // The admin's config and the service's state.
    appendFileSync(join(root, 'etc/junction/junction.yaml'), '# edited by the admin\n');
    writeFileSync(join(root, 'var/lib/junction/mqtt-sessions.json'), '{"kept":true}\n');

    // Upgrade to N+1: not stopped before, restarted after; config and state as they were.
    const next = await relabeled(`${VERSION}+1`);
    const upgraded = await dpkg('-i', next);
    expect(upgraded.code, upgraded.err).toBe(0);
    expect(recorded()).toEqual(['systemctl --system daemon-reload', 'deb-systemd-invoke restart junction.service']);
    expect(readFileSync(join(root, 'etc/junction/junction.yaml'), 'utf8')).toContain('# edited by the admin');
    expect(owner('etc/junction/junction.yaml')).toEqual({ uid: 0, gid, mode: '640' });
    expect(readFileSync(join(root, 'var/lib/junction/mqtt-sessions.json'), 'utf8')).toBe('{"kept":true}\n');
    expect(line('passwd', 'junction')![2]).toBe(String(uid));

    // Downgrade to N: the same.
    const downgraded = await dpkg('-i', deb);
    expect(downgraded.code, downgraded.err).toBe(0);
    expect(recorded()).toEqual(['systemctl --system daemon-reload', 'deb-systemd-invoke restart junction.service']);
    expect((await run('dpkg-query', [`--root=${root}`, '-W', '-f', '${Version}', 'junction'])).out).toBe(VERSION);
    expect(readFileSync(join(root, 'etc/junction/junction.yaml'), 'utf8')).toContain('# edited by the admin');

    // An admin's `systemctl disable junction` (the link removed) survives an upgrade.
    const wants = join(root, 'etc/systemd/system/multi-user.target.wants/junction.service');
    rmSync(wants);
    const disabledUpgrade = await dpkg('-i', next);
    expect(disabledUpgrade.code, disabledUpgrade.err).toBe(0);
    expect(existsSync(wants)).toBe(false);
    recorded();

    // Remove: stopped first; the program goes, config and state stay.
    const removed = await dpkg('-r', 'junction');
    expect(removed.code, removed.err).toBe(0);
    expect(recorded()).toEqual(['deb-systemd-invoke stop junction.service', 'systemctl --system daemon-reload']);
    expect(existsSync(join(root, 'usr/lib/junction/dist'))).toBe(false);
    expect(existsSync(join(root, 'usr/bin/junction'))).toBe(false);
    expect(readFileSync(join(root, 'etc/junction/junction.yaml'), 'utf8')).toContain('# edited by the admin');
    expect(existsSync(join(root, 'var/lib/junction/mqtt-sessions.json'))).toBe(true);

    // Purge: config, state and enabling gone; the user stays.
    writeFileSync(join(root, 'etc/junction/junction.env'), 'SECRET=x\n');
    const purged = await dpkg('-P', 'junction');
    expect(purged.code, purged.err).toBe(0);
    for (const p of ['etc/junction', 'var/lib/junction', 'etc/systemd/system/multi-user.target.wants/junction.service']) {
      expect(existsSync(join(root, p)) || (() => { try { return lstatSync(join(root, p)) !== undefined; } catch { return false; } })(), p).toBe(false);
    }
    expect(line('passwd', 'junction')![2]).toBe(String(uid));

    // Installed where systemd does not run (a chroot, an image being built): enabled, never started.
    rmSync(join(root, 'run/systemd'), { recursive: true });
    recorded();
    const again = await dpkg('-i', deb);
    expect(again.code, again.err).toBe(0);
    expect(recorded()).toEqual([]);
    expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/junction.service'))).toBe('/usr/lib/systemd/system/junction.service');
    expect(readFileSync(join(root, 'etc/junction/junction.yaml'), 'utf8')).not.toContain('# edited by the admin');
  }, 60_000);
});
