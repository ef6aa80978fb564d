// The layering docs/ARCHITECTURE.md declares holds in the code: scripts/check-layers.mjs draws the
// import graph of src/ and checks every arrow against the table.
import { describe, it, expect } from 'vitest';
// @ts-expect-error a plain .mjs script, without type declarations
import { checkLayers, circles, readLayers } from '../../scripts/check-layers.mjs';

/**
 * Problems still being removed. Delete each line once its fix is in: a line that no longer matches
 * a problem fails, so none outlives its fix.
 */
const PENDING: RegExp[] = [];

describe('docs/ARCHITECTURE.md layering', () => {
  const result = checkLayers();

  it('every import of src/ points down the declared layers, with no cycle', () => {
    const unexpected = (result.problems as string[]).filter((p) => !PENDING.some((r) => r.test(p)));
    expect(unexpected).toEqual([]);
    const stale = PENDING.filter((r) => !(result.problems as string[]).some((p) => r.test(p)));
    expect(stale, 'fixed: delete these from PENDING').toEqual([]);
  });

  it('router/ loads without an import circle (type-only imports erased)', () => {
    expect(result.routerRuntimeCircles).toEqual([]);
  });

  it('the table is read from the doc: the bottom is wamp/ and the core sits above auth/', () => {
    const names = (readLayers() as Array<{ name: string }>).map((m) => m.name);
    expect(names.indexOf('wamp/')).toBeLessThan(names.indexOf('router/'));
    expect(names.indexOf('auth/')).toBeLessThan(names.indexOf('router/'));
    expect(names.indexOf('router/')).toBeLessThan(names.indexOf('router-services/'));
  });

  it('finds circles (the check itself)', () => {
    const graph = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])], ['d', new Set(['a'])]]);
    expect(circles(graph)).toEqual([['a', 'b', 'c']]);
  });
});
