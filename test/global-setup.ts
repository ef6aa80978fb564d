// Build dist/ (and the bundled CLI, dist/bin/junction.cjs) once before the tests, so CLI tests never run a stale build.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  // Tests that spawn no CLI may skip the build: JUNCTION_SKIP_BUILD=1 npx vitest run test/integration/limits.test.ts
  // (test/unit never needs dist/: `npm run test:unit` runs it with vitest.unit.config.ts, which has no global setup).
  if (process.env['JUNCTION_SKIP_BUILD']) return;
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/copy-web.mjs'], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: root, stdio: 'inherit' });
}
