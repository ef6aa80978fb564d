// The shipped unit file: systemd itself checks it (verify) and scores its hardening (security).
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const UNIT = fileURLToPath(new URL('../../systemd/junction.service', import.meta.url));

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
});
