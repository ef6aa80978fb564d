// Small helpers for validating a parsed config: every problem is collected with the JSON path of
// the key at fault (e.g. "workers[0].transports[1].endpoint.port"), never thrown one at a time.

export interface ConfigIssue {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[], source?: string) {
    super(`${source ? `${source}: ` : ''}invalid configuration (${issues.length} error${issues.length === 1 ? '' : 's'}):\n` +
      issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n'));
  }
}

export type Obj = Record<string, unknown>;

export class Checker {
  readonly issues: ConfigIssue[] = [];

  error(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  isObject(value: unknown): value is Obj {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  }

  /** The value as an object with only `allowed` keys; undefined (after an error) if not an object. */
  object(value: unknown, path: string, allowed: readonly string[]): Obj | undefined {
    if (!this.isObject(value)) {
      this.error(path, `must be an object, got ${describe(value)}`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.error(join(path, key), `unknown key '${key}' (supported here: ${allowed.join(', ') || 'none'})`);
    }
    return value;
  }

  array(value: unknown, path: string): unknown[] | undefined {
    if (!Array.isArray(value)) {
      this.error(path, `must be a list, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  string(value: unknown, path: string, required = true): string | undefined {
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string') {
      this.error(path, value === undefined ? 'is required' : `must be a string, got ${describe(value)}`);
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

  oneOf<T extends string>(value: unknown, path: string, choices: readonly T[], fallback?: T): T | undefined {
    if (value === undefined) {
      if (fallback === undefined) this.error(path, `is required (one of: ${choices.join(', ')})`);
      return fallback;
    }
    if (typeof value !== 'string' || !choices.includes(value as T)) {
      this.error(path, `must be one of ${choices.join(', ')}; got ${describe(value)}`);
      return fallback;
    }
    return value as T;
  }
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (!/^[A-Za-z_$][\w$-]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}
