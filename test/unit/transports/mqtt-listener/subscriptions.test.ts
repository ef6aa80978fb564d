// Which MQTT filters overlap (src/transports/mqtt-listener/subscriptions.ts): while none of a
// client's filters do, a message is delivered without testing every filter's pattern.
import { describe, it, expect } from 'vitest';
import { filtersOverlap } from '../../../../src/transports/mqtt-listener/subscriptions.js';

describe('MQTT filters that one topic can match both', () => {
  it('`+` matches one level, `#` the rest and the parent level (MQTT 4.7.1)', () => {
    const overlap: Array<[string, string]> = [['a/b', 'a/b'], ['a/+', 'a/b'], ['a/#', 'a'], ['a/#', 'a/b/c'], ['#', 'x/y'], ['+/#', 'a'], ['+/b', 'a/+'], ['a/+/c', '+/b/#']];
    const apart: Array<[string, string]> = [['a/b', 'a/c'], ['a/+', 'a'], ['a/+', 'a/b/c'], ['a/b/#', 'a/c/#'], ['+/+', 'a'], ['a', 'b/#']];
    for (const [f, g] of overlap) expect([f, g, filtersOverlap(f, g), filtersOverlap(g, f)]).toEqual([f, g, true, true]);
    for (const [f, g] of apart) expect([f, g, filtersOverlap(f, g), filtersOverlap(g, f)]).toEqual([f, g, false, false]);
  });
});
