// The SD image's build and boot test (images/) take 20+ minutes; what they need from the checkout
// is checked in their first second. Only that part runs here (never a build).
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const IMAGES = fileURLToPath(new URL('../../images/', import.meta.url));

function bash(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; err: string }> {
  return new Promise((resolve) => {
    execFile('bash', [script, ...args], { timeout: 30_000, env: { PATH: process.env['PATH'], ...env } }, (error, _stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, err: stderr }));
  });
}

/** The image scripts in a checkout that has not run `npm ci` (no node_modules anywhere above). */
function bareCheckout(): string {
  const images = join(mkdtempSync(join(tmpdir(), 'junction-clone-')), 'images');
  mkdirSync(images);
  for (const f of ['build.sh', 'boot-test.sh', 'boot-check.mjs', 'need-node-modules.sh']) copyFileSync(join(IMAGES, f), join(images, f));
  for (let dir = images; dirname(dir) !== dir; dir = dirname(dir)) expect(existsSync(join(dir, 'node_modules'))).toBe(false);
  return images;
}

describe('images/: what the boot test needs is checked up front', () => {
  it('issue 20 #9: boot-test.sh without node_modules stops at once and says to run npm ci', async () => {
    const images = bareCheckout();
    const { code, err } = await bash(join(images, 'boot-test.sh'), ['/nonexistent.img']);
    expect(code).toBe(1);
    expect(err).toContain('boot-test.sh: images/boot-check.mjs needs the npm package "ws"');
    expect(err).toContain('npm ci');
    expect(err).not.toContain('no image'); // checked before anything else
  });

  it('issue 20 #9: build.sh says the same before its build starts, and how to skip the check', async () => {
    const images = bareCheckout();
    const refused = await bash(join(images, 'build.sh'), []);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('build.sh: images/boot-check.mjs needs the npm package "ws"');
    expect(refused.err).toContain('BOOT_TEST=0');
  });

  it('issue 20 #9: in this checkout (npm ci done) the check passes and boot-test.sh goes on to the image', async () => {
    const { code, err } = await bash(join(IMAGES, 'boot-test.sh'), ['/nonexistent.img']);
    expect(code).toBe(1);
    expect(err).toContain('no image /nonexistent.img');
  });

  it('issue 17 #2: boot-test.sh --machine raspi3b is the Pi 3 model test; an unknown machine is refused by name', async () => {
    const pi = await bash(join(IMAGES, 'boot-test.sh'), ['--machine', 'raspi3b', '--generated', '/nonexistent.img']);
    expect(pi.code).toBe(1);
    expect(pi.err).toContain('no image /nonexistent.img');
    const unknown = await bash(join(IMAGES, 'boot-test.sh'), ['--machine', 'raspi9', '/nonexistent.img']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("--machine takes virt or raspi3b, not 'raspi9'");
  });

  it('issue 17 #1/#4: --sd-writes takes its window in minutes and --upgrade its image; --upgrade refuses the Pi model (no agent port there)', async () => {
    const writes = await bash(join(IMAGES, 'boot-test.sh'), ['--sd-writes', '5', '/nonexistent.img']);
    expect(writes.code).toBe(1);
    expect(writes.err).toContain('no image /nonexistent.img');
    const upgrade = await bash(join(IMAGES, 'boot-test.sh'), ['--upgrade', '/nonexistent.img']);
    expect(upgrade.code).toBe(1);
    expect(upgrade.err).toContain('no image /nonexistent.img');
    const pi = await bash(join(IMAGES, 'boot-test.sh'), ['--machine', 'raspi3b', '--upgrade', '/nonexistent.img']);
    expect(pi.code).toBe(2);
    expect(pi.err).toContain('--upgrade runs on virt only');
  });
});

/** The `[Section] Key=value` settings of a systemd-style file (the last one of a key wins, as in systemd). */
function settings(file: string): Map<string, string> {
  const found = new Map<string, string>();
  let section = '';
  for (const line of readFileSync(join(IMAGES, file), 'utf8').split('\n')) {
    const header = /^\[(.+)\]\s*$/.exec(line);
    if (header) section = header[1]!;
    const setting = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (setting) found.set(`${section}.${setting[1]}`, setting[2]!);
  }
  return found;
}

/** What build.sh puts in the image besides images/rootfs/ (which it installs whole): its package list and enabled units. */
const buildScript = () => readFileSync(join(IMAGES, 'build.sh'), 'utf8');
const packages = () => /^PKGS_MAIN="([^"]*)"/m.exec(buildScript())![1]!.split(/\s+|\\/).filter(Boolean);
const masked = () => /^MASKED_UNITS="([^"]*)"/m.exec(buildScript())![1]!.split(/\s+/).filter(Boolean);
/** The options build.sh writes into the image's /etc/fstab for a mount point. */
const fstabOptions = (mountPoint: string) => {
  const fstab = /cat > "\$ROOT\/etc\/fstab" <<'EOF'\n([\s\S]*?)\nEOF/.exec(buildScript())![1]!;
  const entry = fstab.split('\n').map((l) => l.split(/\s+/)).find((f) => f[1] === mountPoint);
  return entry![3]!.split(',');
};
/** systemd's time spans as these files write them (s, min, h), in seconds. */
const spanSeconds = (span: string) => {
  const m = /^(\d+)(s|min|h)?$/.exec(span);
  expect(m, `a time span: ${span}`).not.toBeNull();
  return Number(m![1]) * ({ s: 1, min: 60, h: 3600 } as Record<string, number>)[m![2] ?? 's']!;
};
const enabled = () => /in_chroot systemctl enable ([^\n]*\\\n[^\n]*)/.exec(buildScript())![1]!.split(/\s+|\\/).filter(Boolean);

describe('images/: the image tree build.sh installs', () => {
  it('build.sh installs every file under images/rootfs/ (the files checked below)', () => {
    expect(buildScript()).toContain('( cd "$HERE/rootfs" && find . -type f ) | while read -r f; do');
  });

  it('issue 17 #5: a hung kernel reboots the Pi: systemd runs the hardware watchdog (bcm2835_wdt), Junction keeps its own', () => {
    const dropIns = readdirSync(join(IMAGES, 'rootfs/etc/systemd/system.conf.d'));
    const manager = new Map(dropIns.flatMap((f) => [...settings(`rootfs/etc/systemd/system.conf.d/${f}`)]));
    const seconds = /^(\d+)s$/.exec(manager.get('Manager.RuntimeWatchdogSec') ?? '');
    expect(seconds, 'RuntimeWatchdogSec in seconds').not.toBeNull();
    // Above 0 (on) and within what the BCM2835's watchdog counts (about 15 s).
    expect(Number(seconds![1])).toBeGreaterThan(0);
    expect(Number(seconds![1])).toBeLessThanOrEqual(15);
    const modules = readdirSync(join(IMAGES, 'rootfs/etc/modules-load.d'))
      .flatMap((f) => readFileSync(join(IMAGES, 'rootfs/etc/modules-load.d', f), 'utf8').split('\n'));
    expect(modules).toContain('bcm2835_wdt');
    expect(packages()).toContain('kmod'); // systemd-modules-load needs it
    const unit = settings('../systemd/junction.service');
    expect(unit.get('Service.Type')).toBe('notify');
    expect(unit.get('Service.WatchdogSec')).toBe('30');
  });

  it('issue 17 #3: avahi-daemon announces what Junction writes, in a directory the service user owns', () => {
    expect(packages()).toContain('avahi-daemon');
    expect(enabled()).toContain('avahi-daemon.service');
    const junction = settings('rootfs/etc/systemd/system/junction.service.d/10-mdns.conf');
    const dir = /^JUNCTION_AVAHI_SERVICES=(\S+)$/.exec(junction.get('Service.Environment') ?? '')?.[1];
    expect(dir).toBe('/run/junction-mdns');
    expect(junction.get('Service.ReadWritePaths')).toBe(`-${dir}`);
    expect(settings('rootfs/etc/systemd/system/avahi-daemon.service.d/10-junction.conf').get('Service.BindReadOnlyPaths'))
      .toBe(`${dir}:/etc/avahi/services`);
    const tmpfiles = readFileSync(join(IMAGES, 'rootfs/usr/lib/tmpfiles.d/junction-mdns.conf'), 'utf8').split('\n').filter((l) => /^d /.test(l));
    expect(tmpfiles).toEqual([`d ${dir} 0755 junction junction -`]);
    // One mDNS responder on the board.
    expect(settings('rootfs/etc/systemd/resolved.conf.d/10-junction.conf').get('Resolve.MulticastDNS')).toBe('no');
  });

  it('issue 17 #4: the SD card is spared: no atime writes, journal commits batched, the journal in RAM', () => {
    const root = fstabOptions('/');
    expect(root).toContain('noatime');
    // ext4 commits its journal every 5 s by default: each commit is a write to the card.
    const commit = root.find((o) => o.startsWith('commit='));
    expect(Number(commit?.slice('commit='.length))).toBeGreaterThanOrEqual(300);
    expect(fstabOptions('/boot/firmware')).toContain('noatime');
    const journald = settings('rootfs/etc/systemd/journald.conf.d/10-junction.conf');
    expect(journald.get('Journal.Storage')).toBe('volatile');
    expect(journald.get('Journal.RuntimeMaxUse')).toMatch(/^\d+M$/);
  });

  it('issue 17 #4: no timer writes to the card for nothing: apt and e2scrub masked, the clock file saved rarely', () => {
    expect(masked()).toEqual(expect.arrayContaining(['apt-daily.timer', 'apt-daily-upgrade.timer', 'e2scrub_all.timer']));
    expect(buildScript()).toContain('in_chroot systemctl mask $MASKED_UNITS');
    // timesyncd saves the clock file every 60 s without NTP and after each synchronisation.
    const timesyncd = settings('rootfs/etc/systemd/timesyncd.conf.d/10-junction.conf');
    expect(spanSeconds(timesyncd.get('Time.SaveIntervalSec') ?? '60')).toBeGreaterThanOrEqual(3600);
    expect(spanSeconds(timesyncd.get('Time.PollIntervalMaxSec') ?? '2048')).toBeGreaterThanOrEqual(3600);
    // Junction logs to the journal only (in RAM above), never to files of its own.
    const unit = settings('../systemd/junction.service');
    expect(unit.get('Service.StandardOutput')).toBe('journal');
  });
});
