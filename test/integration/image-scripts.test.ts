// The SD image's build and boot test (images/) take 20+ minutes; what they need from the checkout
// is checked in their first second. Only that part runs here (never a build).
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
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
});
