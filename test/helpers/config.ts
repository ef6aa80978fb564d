// Config test helpers: the problems parseConfig reports for a document, by JSON path.
import { parseConfig, ConfigError, type ConfigIssue } from '../../src/config/load.js';

export function issuesOf(raw: unknown, baseDir?: string): ConfigIssue[] {
  try {
    parseConfig(raw, undefined, baseDir);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

/** path → message of every error. */
export function errorsOf(raw: unknown, baseDir?: string): Record<string, string> {
  return Object.fromEntries(issuesOf(raw, baseDir).map((i) => [i.path, i.message]));
}

/** A config document of one router worker: realm1 with these roles (each allowed everything) and this one transport. */
export function routerWithTransport(transport: object, roles: string[] = ['anonymous']): object {
  return { version: 2, workers: [{ type: 'router', realms: [{ name: 'realm1', roles: roles.map((name) => ({ name, 'allow-by-default': true })) }], transports: [transport] }] };
}
