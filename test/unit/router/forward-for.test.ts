// A PUBLISH's or CALL's forward_for is carried into EVENT/INVOCATION details only when it has the
// shape router links give it; a client cannot make the router copy anything else there.
import { describe, it, expect } from 'vitest';
import { forwardForOf } from '../../../src/router/forward-for.js';

describe('forward_for', () => {
  it('carries a list of {session, authid, authrole}', () => {
    const hops = [{ session: 1, authid: 'board-1', authrole: 'device' }, { session: 2 }, { session: 3, authid: null, authrole: null }];
    expect(forwardForOf({ forward_for: hops })).toBe(hops);
  });

  it('leaves out anything else: not a list, empty, too long, entries of the wrong shape', () => {
    for (const bad of [
      'x', {}, [], Array.from({ length: 17 }, (_, i) => ({ session: i })), [null], [[1]], [{ authid: 'a' }],
      [{ session: '1' }], [{ session: 1, authid: 7 }], [{ session: 1, authrole: {} }],
    ]) {
      expect(forwardForOf({ forward_for: bad }), JSON.stringify(bad)).toBeUndefined();
    }
    expect(forwardForOf({})).toBeUndefined();
  });
});
