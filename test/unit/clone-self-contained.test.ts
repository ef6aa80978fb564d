// A user's clone has no ../shared beside it: nothing the tests, the build or the router run may
// reach outside the repository for data.
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { samples, TESTSUITE } from '../helpers/testsuite.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SKIP = new Set(['node_modules', 'dist', 'artifacts', 'fixtures']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name) || name.startsWith('.')) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs|cjs|sh|py|json)$/.test(name) ? [path] : [];
  });
}

describe('the repository is self-contained', () => {
  it('issue 20 #7: nothing in src, test, scripts or images reads ../shared', () => {
    const offenders = ['src', 'test', 'scripts', 'images'].flatMap((d) => sourceFiles(join(ROOT, d)))
      .filter((file) => file !== fileURLToPath(import.meta.url))
      .filter((file) => /\.\.\/+shared|\/shared\/reference/.test(readFileSync(file, 'utf8')))
      .map((file) => file.slice(ROOT.length));
    expect(offenders).toEqual([]);
  });

  it('issue 20 #7: the WAMP test vectors live in the repo, with their attribution', () => {
    expect(TESTSUITE.startsWith(join(ROOT, 'test', 'fixtures'))).toBe(true);
    expect(readFileSync(join(TESTSUITE, 'README.md'), 'utf8')).toMatch(/wamp-proto.*\n(.*\n)*.*CC BY-SA/);
    expect(samples().length).toBeGreaterThan(50);
  });
});
