import { describe, it, expect } from 'vitest';
import { PatternIndex } from '../../../src/wamp/pattern-index.js';

describe('PatternIndex', () => {
  it('picks registrations by the spec precedence: exact, longest prefix, best wildcard', () => {
    const index = new PatternIndex<string>();
    index.set('a1.b2.c3.d4.e55', 'exact', 'exact');
    index.set('a1.b2.c3', 'prefix', 'p3');
    index.set('a1.b2.c3.d4', 'prefix', 'p4');
    index.set('a1.b2..d4.e5', 'wildcard', 'w1');
    index.set('a1.b2.c33..e5', 'wildcard', 'w2');
    index.set('a1.b2..d4.e5..g7', 'wildcard', 'w3');
    index.set('a1.b2..d4..f6.g7', 'wildcard', 'w4');
    expect(index.best('a1.b2.c3.d4.e55')).toBe('exact');
    expect(index.best('a1.b2.c3.d4.e325')).toBe('p4');
    expect(index.best('a1.b2.c3.x')).toBe('p3');
    // The spec's example picks 'a1.b2.c33..e5' here, but its own prefix rule is string-based
    // ('a1.b2.c3' is a string prefix of 'a1.b2.c33…'), as in Crossbar: the prefix wins.
    expect(index.best('a1.b2.c33.d4.e5')).toBe('p3');
    index.delete('a1.b2.c3', 'prefix');
    expect(index.best('a1.b2.c33.d4.e5')).toBe('w2');
    expect(index.best('a1.b2.c88.d4.e5.f6.g7')).toBe('w3');
    expect(index.best('a1.b2.c88.d4.e5')).toBe('w1');
    expect(index.best('zz')).toBeUndefined();
  });

  it('prefix matching is by string, not by component', () => {
    const index = new PatternIndex<string>();
    index.set('com.myapp.myobject1', 'prefix', 'p');
    expect(index.best('com.myapp.myobject1-mysubobject1')).toBe('p');
    expect(index.best('com.myapp.myobject1')).toBe('p');
    expect(index.best('com.myapp.myobject')).toBeUndefined();
  });

  it('wildcards match exactly one component each and need equal length', () => {
    const index = new PatternIndex<string>();
    index.set('com.myapp..userevent', 'wildcard', 'w');
    expect(index.best('com.myapp.foo.userevent')).toBe('w');
    expect(index.best('com.myapp.foo.userevent.bar')).toBeUndefined();
    expect(index.best('com.myapp.userevent')).toBeUndefined();
  });

  it('matchAll returns every matching entry, and deletes prune them', () => {
    const index = new PatternIndex<string>();
    index.set('a.b.c', 'exact', 'e');
    index.set('a.', 'prefix', 'p1');
    index.set('', 'prefix', 'p0');
    index.set('a..c', 'wildcard', 'w1');
    index.set('..c', 'wildcard', 'w2');
    const out: string[] = [];
    index.matchAll('a.b.c', out);
    expect(out.sort()).toEqual(['e', 'p0', 'p1', 'w1', 'w2']);
    index.delete('a..c', 'wildcard');
    index.delete('a.', 'prefix');
    const after: string[] = [];
    index.matchAll('a.b.c', after);
    expect(after.sort()).toEqual(['e', 'p0', 'w2']);
    expect(index.size).toBe(3);
    expect([...index.values('wildcard')]).toEqual(['w2']);
  });
});
