// Build dist/ (and the bundled CLI, dist/bin/junction.cjs) once before the tests, so CLI tests never run a stale build.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  // For quick runs of core tests while dist/ does not matter: JUNCTION_SKIP_BUILD=1 npx vitest run test/unit
  if (process.env['JUNCTION_SKIP_BUILD']) return;
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/copy-web.mjs'], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: root, stdio: 'inherit' });
}
