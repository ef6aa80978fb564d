// A TCP endpoint's `portrange: [first, last]` (Crossbar's, instead of `port`): the listener takes
// the first port of the range that is free when it starts, both ends included, as Crossbar does.
// Several routers on one board can then share one config without choosing ports by hand.

import type { PortRange } from './types.js';
import { describe, join, type Checker, type Obj } from './check-values.js';

/** The range at `<path>.portrange`, or undefined (absent, or an error was reported). */
export function parsePortRange(c: Checker, e: Obj, path: string): PortRange | undefined {
  const value = e['portrange'];
  if (value === undefined) return undefined;
  const p = join(path, 'portrange');
  if (e['port'] !== undefined) {
    c.error(p, 'give either port or portrange, not both');
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 2) {
    c.error(p, `must be a pair of ports [first, last], got ${Array.isArray(value) ? JSON.stringify(value) : describe(value)}`);
    return undefined;
  }
  const first = c.integer(value[0], join(p, 0), undefined, 1, 65535);
  const last = c.integer(value[1], join(p, 1), undefined, 1, 65535);
  if (first === undefined || last === undefined) return undefined;
  if (last < first) {
    c.error(p, `the last port (${last}) must not be below the first (${first})`);
    return undefined;
  }
  return { first, last, path: p };
}
