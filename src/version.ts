// Junction's version, as its package.json says: for `junction version` and the MQTT listener's
// $SYS/broker/version.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

let known: string | undefined;

/** The version in Junction's package.json: the nearest one above this file (dist/, dist/bin/ or src/). */
export function junctionVersion(): string {
  if (known !== undefined) return known;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'junction') return (known = pkg.version);
    }
    if (dirname(dir) === dir) return (known = 'unknown');
  }
}
