// A config file's text as a document: JSON (duplicate keys refused, as Crossbar's loader does not
// notice them) or YAML, every syntax error a ConfigError with its line and column. And the other
// way, for the config files Junction writes: a value as one line of YAML.

import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { ConfigError } from './check-values.js';
import { duplicateKeys } from './json-duplicates.js';

// The parsing libraries are loaded when a config is read, and only the one its format needs: the
// YAML library costs ~8 MB and ~19 ms of start-up, jsonc-parser (JSON duplicate keys) ~1 MB.
const requireLazily = createRequire(import.meta.url);
const librariesInUse = new Set<string>();
function library<T>(name: string): T {
  librariesInUse.add(name);
  return requireLazily(name) as T;
}
const yaml = () => library<typeof import('yaml')>('yaml');

/**
 * Lets the parsing libraries be garbage-collected once the config is read (they are needed again
 * only for a reload, which loads them afresh): memory a small board has better uses for.
 */
export function releaseConfigParser(): void {
  for (const name of librariesInUse) {
    const root = dirname(requireLazily.resolve(name));
    for (const key of Object.keys(requireLazily.cache)) {
      if (!key.startsWith(root)) continue;
      // The module that loaded it (createRequire's, or the library's own main file) lists it in
      // `children` too; left there, the library's code and source text stay reachable.
      const loaded = requireLazily.cache[key];
      const parent = loaded?.parent;
      if (parent) parent.children = parent.children.filter((child) => child !== loaded);
      delete requireLazily.cache[key];
    }
  }
  librariesInUse.clear();
}

/** Parses config text as JSON or YAML (every syntax error becomes a ConfigError). */
export function parseConfigText(text: string, format: 'json' | 'yaml', source?: string): unknown {
  const fail = (message: string): never => {
    throw new ConfigError([{ path: '', message }], source);
  };
  if (format === 'json') {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      const message = (err as Error).message;
      const pos = /at position (\d+)/.exec(message);
      fail(`not valid JSON: ${message.replace(/ in JSON at position \d+.*/, '')}${pos ? ` (${lineColumn(text, Number(pos[1]))})` : ''}`);
    }
    const duplicates = duplicateKeys(text, library<typeof import('jsonc-parser')>('jsonc-parser').visit);
    if (duplicates.length > 0) throw new ConfigError(duplicates, source);
    return raw;
  }
  try {
    const raw: unknown = yaml().parse(text, { uniqueKeys: true, prettyErrors: true });
    return raw;
  } catch (err) {
    return fail(`not valid YAML: ${firstLine((err as Error).message)}`);
  }
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim().replace(/:$/, '');
}

/** `value` as YAML on one line (`{ type: static, role: monitor }`), for a config file Junction writes. */
export function flowYaml(value: unknown): string {
  return yaml().stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();
}
