// The shipped unit file: systemd itself checks it (verify) and scores its hardening (security).
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';

const UNIT = fileURLToPath(new URL('../../systemd/junction.service', import.meta.url));

/** The unit's directives by section, each key with all its values (in order). */
function directives(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) { section = header[1]!; out[section] ??= {}; continue; }
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    ((out[section] ??= {})[key] ??= []).push(line.slice(eq + 1));
  }
  return out;
}

/** systemd's time span in seconds ("300", "5s", "5min", "1min 30s"). */
function seconds(span: string): number {
  const units: Record<string, number> = { '': 1, s: 1, sec: 1, m: 60, min: 60, h: 3600 };
  return span.trim().split(/\s+/).reduce((sum, part) => {
    const m = /^(\d+)([a-z]*)$/.exec(part);
    if (!m || units[m[2]!] === undefined) throw new Error(`cannot read time span ${span}`);
    return sum + Number(m[1]) * units[m[2]!]!;
  }, 0);
}

function analyze(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('systemd-analyze', args, { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
}

describe('systemd/junction.service', () => {
  it('passes systemd-analyze verify', async () => {
    const { code, out } = await analyze(['verify', UNIT]);
    expect(out.trim()).toBe('');
    expect(code).toBe(0);
  });

  it('scores "OK" or better in systemd-analyze security, with the settings the appliance relies on', async () => {
    const { out } = await analyze(['security', '--offline=true', UNIT]);
    const score = Number(/Overall exposure level for junction\.service: ([\d.]+)/.exec(out)?.[1]);
    expect(score).toBeLessThanOrEqual(2.5);
    const unit = readFileSync(UNIT, 'utf8');
    for (const line of ['Type=notify', 'WatchdogSec=', 'Restart=always', 'After=network-online.target', 'ProtectSystem=strict', 'NoNewPrivileges=true',
      'CapabilityBoundingSet=\n', 'DevicePolicy=closed', 'SupplementaryGroups=dialout', 'StateDirectory=junction', 'ConfigurationDirectory=junction', 'MemoryMax=']) {
      expect(unit).toContain(line);
    }
    // Node's JIT needs writable+executable memory; PrivateDevices would hide the serial ports.
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=/m);
    expect(unit).not.toMatch(/^PrivateDevices=/m);
  });

  it('issue 20 #4: a crash loop ends in `failed`: the start limit is reached before its window slides', () => {
    const unit = directives(readFileSync(UNIT, 'utf8'));
    const interval = seconds(unit['Unit']!['StartLimitIntervalSec']!.at(-1)!);
    const burst = Number(unit['Unit']!['StartLimitBurst']!.at(-1));
    const restartSec = seconds(unit['Service']!['RestartSec']!.at(-1)!);
    expect(unit['Service']!['Restart']).toEqual(['always']);
    expect(interval).toBeGreaterThan(0); // 0 would mean "no limit": restarting forever
    expect(burst).toBeGreaterThanOrEqual(3);
    // `burst` starts RestartSec apart take (burst - 1) × RestartSec at least (plus each run's own
    // time): they must fit in the window, or the limit is never hit.
    expect((burst - 1) * restartSec).toBeLessThan(interval / 2);
  });

  it('issue 20 #4: a config error is not retried: `junction start` exits with the status the unit does not restart on, naming the key at fault', async () => {
    const unit = directives(readFileSync(UNIT, 'utf8'));
    const noRestart = unit['Service']!['RestartPreventExitStatus']!.flatMap((v) => v.split(/\s+/));
    const dir = mkdtempSync(join(tmpdir(), 'junction-unit-'));
    const file = join(dir, 'junction.yaml');
    writeFileSync(file, 'version: 2\nworkers:\n  - type: router\n    realms: [{ name: realm1, roles: [] }]\n    transports: [{ type: websocket, endpoint: { type: tcp, port: eighty } }]\n');
    const broken = await runCli(['start', '--config', file]);
    expect(broken.stderr).toContain('workers[0].transports[0].endpoint.port');
    expect(noRestart).toContain(String(broken.code));
    const missing = await runCli(['start', '--config', join(dir, 'absent.yaml')]);
    expect(missing.stderr).toContain('absent.yaml');
    expect(noRestart).toContain(String(missing.code));
    // Everything else (a port in use, a crash) stays a plain failure, which is retried.
    expect(noRestart).not.toContain('1');
  });

  it('issue 20 #5: secrets: an optional EnvironmentFile, and LoadCredential= drop-ins that systemd accepts', async () => {
    const unit = directives(readFileSync(UNIT, 'utf8'));
    expect(unit['Service']!['EnvironmentFile']).toEqual(['-/etc/junction/junction.env']);
    // The drop-in the unit's comments and the README describe, verified with the unit.
    const dir = mkdtempSync(join(tmpdir(), 'junction-unit-'));
    copyFileSync(UNIT, join(dir, 'junction.service'));
    mkdirSync(join(dir, 'junction.service.d'));
    const dropIn = join(dir, 'junction.service.d', 'secrets.conf');
    writeFileSync(dropIn, '[Service]\nLoadCredential=SENSOR1_PASSWORD\nLoadCredentialEncrypted=MQTT_PASSWORD\n');
    const ok = await analyze(['verify', join(dir, 'junction.service')]);
    expect(ok.out.trim()).toBe('');
    expect(ok.code).toBe(0);
    // The drop-in is really read: a misspelt key in it is reported.
    writeFileSync(dropIn, '[Service]\nLoadCredentials=SENSOR1_PASSWORD\n');
    expect((await analyze(['verify', join(dir, 'junction.service')])).out).toContain("Unknown key 'LoadCredentials'");
  });
});
