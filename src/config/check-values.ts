// Small helpers for validating a parsed config document. Every problem is collected with the JSON
// path of the key at fault (e.g. "workers[0].transports[1].endpoint.port"), never thrown one at a
// time, so a single `junction check` run lists everything that is wrong.
//
// Path format, used everywhere: keys joined with '.', list indexes in brackets, keys that are not
// plain identifiers quoted in brackets (`paths["/"]`); the document itself is the empty path,
// shown as "(root)".

import type { ConfigIssue, MatchPolicy } from './types.js';

export type { ConfigIssue } from './types.js';

/** One line per issue: `path: message`. */
export function formatIssue(issue: ConfigIssue): string {
  return `${issue.path || '(root)'}: ${issue.message}`;
}

/** A config that cannot be used. `issues` lists every error found, not just the first. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly issues: ConfigIssue[], readonly source?: string) {
    super(`${source ?? 'configuration'}: ${issues.length} error${issues.length === 1 ? '' : 's'}\n` +
      issues.map((i) => `  ${formatIssue(i)}`).join('\n'));
  }
}

export type Obj = Record<string, unknown>;

/** The `match` values a permission, store entry or bridge route may name, in the order messages list them. */
export const MATCHES: readonly MatchPolicy[] = ['exact', 'prefix', 'wildcard'];
/** The end of the message for a Crossbar feature Junction does not have (yet). */
export const NOT_YET = 'is not supported by Junction yet';
export const MIB = 1024 * 1024;

/** Keys Junction knows but refuses, each with the reason shown to the user. */
export type Refused = Readonly<Record<string, string>>;

export class Checker {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];

  error(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  warn(path: string, message: string): void {
    this.warnings.push({ path, message });
  }

  isObject(value: unknown): value is Obj {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  }

  /**
   * The value as an object whose keys are all in `allowed`; undefined (after an error) if it is
   * not an object. Keys in `refused` get their own message; any other key is "unknown".
   */
  object(value: unknown, path: string, allowed: readonly string[], refused: Refused = {}): Obj | undefined {
    if (!this.isObject(value)) {
      this.error(path, value === undefined ? 'is required' : `must be an object, got ${describe(value)}`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (allowed.includes(key)) continue;
      const reason = refused[key];
      if (reason !== undefined) this.error(join(path, key), reason);
      else this.error(join(path, key), `unknown key '${key}' (supported: ${allowed.join(', ') || 'none'})`);
    }
    return value;
  }

  /** An object used as a map (keys chosen by the user); undefined after an error. */
  map(value: unknown, path: string): Obj | undefined {
    if (!this.isObject(value)) {
      this.error(path, value === undefined ? 'is required' : `must be an object, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  array(value: unknown, path: string, opts: { required?: boolean; nonEmpty?: boolean } = {}): unknown[] | undefined {
    if (value === undefined) {
      if (opts.required) this.error(path, 'is required');
      return undefined;
    }
    if (!Array.isArray(value)) {
      this.error(path, `must be a list, got ${describe(value)}`);
      return undefined;
    }
    if (opts.nonEmpty && value.length === 0) this.error(path, 'must not be empty');
    return value;
  }

  /** A string; `required` (default) reports a missing value, `nonEmpty` (default) an empty one. */
  string(value: unknown, path: string, opts: { required?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    const { required = true, nonEmpty = true } = opts;
    if (value === undefined) {
      if (required) this.error(path, 'is required');
      return undefined;
    }
    if (typeof value !== 'string') {
      this.error(path, `must be a string, got ${describe(value)}`);
      return undefined;
    }
    if (nonEmpty && value === '') {
      this.error(path, 'must not be empty');
      return undefined;
    }
    return value;
  }

  boolean(value: unknown, path: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') {
      this.error(path, `must be true or false, got ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  /** A whole number in [min, max]; `fallback` undefined means the key is required. */
  integer(value: unknown, path: string, fallback: number | undefined, min: number, max: number): number | undefined {
    if (value === undefined) {
      if (fallback === undefined) this.error(path, 'is required');
      return fallback;
    }
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.error(path, `must be a whole number, got ${describe(value)}`);
      return fallback;
    }
    if (value < min || value > max) {
      this.error(path, `must be between ${min} and ${max}, got ${value}`);
      return fallback;
    }
    return value;
  }

  /** One of `choices`; `fallback` undefined means the key is required. */
  oneOf<T extends string | number>(value: unknown, path: string, choices: readonly T[], fallback?: T): T | undefined {
    const list = choices.map((c) => JSON.stringify(c)).join(', ');
    if (value === undefined) {
      if (fallback === undefined) this.error(path, `is required (one of ${list})`);
      return fallback;
    }
    if (!choices.includes(value as T)) {
      this.error(path, `must be one of ${list}, got ${describe(value)}`);
      return fallback;
    }
    return value as T;
  }
}

/** `join('a', 'b')` → 'a.b'; `join('a', 0)` → 'a[0]'; `join('a', '/')` → 'a["/"]'. */
export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (!/^[A-Za-z_$][\w$-]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}

/** An operating-system error when reading a file the config names, in words where it is a common one. */
export function describeFileError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'no such file or directory';
  if (e.code === 'EACCES') return 'permission denied';
  return e.code ?? e.message;
}
