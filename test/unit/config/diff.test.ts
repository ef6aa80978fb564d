// configDiff: what a SIGHUP reload reports, by key path (issue 20 #2: a proper diff, not a whole-JSON compare).
import { describe, it, expect } from 'vitest';
import { configDiff } from '../../../src/config/diff.js';

describe('configDiff (issue 20 #2)', () => {
  it('issue 20 #2: names the key path of each difference, in the file\'s spelling, and no value', () => {
    const before = { endpoint: { type: 'tcp', port: 1883 }, options: { maxInflight: 10 }, auth: { ticket: { principals: { 'sensor-1': { ticket: 'a', role: 'sensor' } } } } };
    const after = { endpoint: { type: 'tcp', port: 1884 }, options: { maxInflight: 20 }, auth: { ticket: { principals: { 'sensor-1': { ticket: 'b', role: 'sensor' }, 'sensor-2': { ticket: 'c', role: 'sensor' } } } } };
    expect(configDiff(before, after)).toEqual([
      { path: 'endpoint.port', change: 'changed' },
      { path: 'options.max_inflight', change: 'changed' },
      { path: "auth.ticket.principals['sensor-1'].ticket", change: 'changed' },
      { path: "auth.ticket.principals['sensor-2']", change: 'added' },
    ]);
  });

  it('issue 20 #2: array items with a name are matched by it, so inserting one is one change', () => {
    const roles = [{ name: 'a', permissions: [] }, { name: 'b', permissions: [] }];
    expect(configDiff({ roles }, { roles: [roles[0], { name: 'new', permissions: [] }, roles[1]] })).toEqual([{ path: "roles['new']", change: 'added' }]);
    expect(configDiff({ ports: [{ path: '/dev/a', baudRate: 9600 }] }, { ports: [{ path: '/dev/a', baudRate: 115200 }] }))
      .toEqual([{ path: "ports['/dev/a'].baud_rate", change: 'changed' }]);
    const permission = (uri: string, match: string) => ({ uri, match, allow: { call: true } });
    expect(configDiff([permission('app.', 'prefix')], [permission('', 'prefix'), permission('app.', 'prefix')])).toEqual([{ path: "['']", change: 'added' }]);
    // The same uri twice (another match): no unique name, so by position.
    expect(configDiff([permission('a', 'exact'), permission('a', 'prefix')], [permission('a', 'exact'), permission('a', 'wildcard')])).toEqual([{ path: '[1].match', change: 'changed' }]);
  });

  it('issue 20 #2: a list of plain values is one change; equal configs have none; a section added or removed is one change', () => {
    expect(configDiff({ serializers: ['json'] }, { serializers: ['json', 'cbor'] })).toEqual([{ path: 'serializers', change: 'changed' }]);
    expect(configDiff({ a: { b: [1, { c: 2 }] } }, { a: { b: [1, { c: 2 }] } })).toEqual([]);
    expect(configDiff(undefined, { cron: '* * * * * *' }, 'telemetry')).toEqual([{ path: 'telemetry', change: 'added' }]);
    expect(configDiff({ cron: '* * * * * *' }, undefined, 'telemetry')).toEqual([{ path: 'telemetry', change: 'removed' }]);
  });
});
