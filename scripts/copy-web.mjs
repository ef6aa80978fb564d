// Build step after tsc: copies the status dashboard's assets (src/web: html, js, css) to dist/web,
// where the `dashboard` web path type serves them from (src/transports/dashboard.ts).
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const from = fileURLToPath(new URL('../src/web/', import.meta.url));
const to = fileURLToPath(new URL('../dist/web/', import.meta.url));
rmSync(to, { recursive: true, force: true });
mkdirSync(to, { recursive: true });
for (const name of readdirSync(from)) {
  if (/\.(html|js|css|svg|ico)$/.test(name)) cpSync(from + name, to + name);
}
