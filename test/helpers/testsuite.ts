// Reads the WAMP specification's test vectors, kept in the repo (test/fixtures/wamp-testsuite; its
// README says where they come from and their license).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TESTSUITE = fileURLToPath(new URL('../fixtures/wamp-testsuite/', import.meta.url));

export interface Sample {
  file: string;
  description: string;
  serializers?: Record<string, Array<{ bytes?: string; bytes_hex?: string; note?: string }>>;
  test_category?: string;
  wmsg?: unknown[];
  expected_error?: { type: string; contains?: string };
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : name.endsWith('.json') && name !== 'SCHEMA.json' ? [path] : [];
  });
}

export function samples(): Sample[] {
  return walk(TESTSUITE).flatMap((file) => {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { samples?: Omit<Sample, 'file'>[] };
    return (doc.samples ?? []).map((s) => ({ ...s, file: file.slice(TESTSUITE.length) }));
  });
}
