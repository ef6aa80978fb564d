// Shared pieces of the fuzz suite: the realm the fuzzer attacks, failure collection, a watcher for
// uncaught errors, and the per-target counters. (The router's log lines: test/helpers/capture-log.ts.)

import type { RealmConfig, RoleConfig, PermissionConfig } from '../../src/config/types.js';
import { FUZZ_SEED } from './gen.js';

const perm = (uri: string, allow: Partial<PermissionConfig['allow']>): PermissionConfig => ({
  uri, match: 'prefix', cache: true,
  allow: { call: false, register: false, publish: false, subscribe: false, ...allow },
  disclose: { caller: false, publisher: false },
});

/**
 * The fuzzing sessions' role: everything, except what would let a session legitimately break the
 * bystander (take over its procedure, kill sessions through the meta API). Those denials are part of
 * what is tested: the bystander must be untouched by every fuzzed session.
 */
export const FUZZER_ROLE: RoleConfig = {
  name: 'fuzzer',
  permissions: [
    perm('', { call: true, register: true, publish: true, subscribe: true }),
    perm('bystander.', { call: true, subscribe: true, publish: true }),
    perm('wamp.session.kill', {}),
    perm('wamp.registration.remove_callee', {}),
    perm('wamp.subscription.remove_subscriber', {}),
  ],
};

export const BYSTANDER_ROLE: RoleConfig = {
  name: 'bystander',
  permissions: [perm('bystander.', { call: true, register: true, publish: true, subscribe: true })],
};

export const FUZZ_REALM: RealmConfig = {
  name: 'realm1',
  roles: [FUZZER_ROLE, BYSTANDER_ROLE],
  store: { type: 'memory', limit: 100, callQueue: [], eventHistory: [] },
};

/** Collects failures with enough context to replay them; stops collecting after a few. */
export class Failures {
  readonly list: string[] = [];
  add(what: string, input?: unknown): void {
    if (this.list.length >= 25) return;
    this.list.push(`${what}${input === undefined ? '' : `\n    input: ${show(input)}`}`);
  }
  report(): string {
    return `${this.list.length} failure(s) with JUNCTION_FUZZ_SEED=${FUZZ_SEED}:\n  - ${this.list.join('\n  - ')}`;
  }
}

export function show(v: unknown): string {
  try {
    const s = JSON.stringify(v, (_k, x: unknown) => {
      if (typeof x === 'number' && !Number.isFinite(x)) return String(x);
      if (x instanceof Uint8Array || (x && typeof x === 'object' && (x as { type?: string }).type === 'Buffer')) return `<bytes>`;
      if (typeof x === 'string' && x.length > 200) return `${x.slice(0, 60)}…(${x.length} chars)`;
      return x;
    });
    return s === undefined ? String(v) : s.length > 600 ? `${s.slice(0, 600)}…` : s;
  } catch {
    return String(v);
  }
}

/** Every uncaught exception and unhandled rejection in this process while fuzzing. */
export function watchUncaught(): { errors: string[]; stop(): void } {
  const errors: string[] = [];
  const onError = (err: unknown) => errors.push(`uncaught: ${(err as Error)?.stack ?? String(err)}`);
  const onRejection = (err: unknown) => errors.push(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onRejection);
  return {
    errors,
    stop() {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onRejection);
    },
  };
}

export class Counts {
  private readonly map = new Map<string, number>();
  add(target: string, n = 1): void {
    this.map.set(target, (this.map.get(target) ?? 0) + n);
  }
  get total(): number {
    let t = 0;
    for (const n of this.map.values()) t += n;
    return t;
  }
  table(title: string): string {
    const rows = [...this.map.entries()].map(([k, n]) => `  ${k.padEnd(34)} ${String(n).padStart(8)}`);
    return `${title} (JUNCTION_FUZZ_SEED=${FUZZ_SEED})\n${rows.join('\n')}\n  ${'total'.padEnd(34)} ${String(this.total).padStart(8)}`;
  }
}
