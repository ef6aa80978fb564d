// Set geometry of URI patterns, for authorizing a pattern SUBSCRIBE or REGISTER: a pattern stands
// for every concrete URI it matches, and a permission for every URI it applies to. A role may use a
// pattern only when its permissions allow every URI the pattern can match (issue 19 #6): a role
// allowed exact `public.news` may not subscribe to `public.news` as a prefix and so receive
// `public.news.internal`.
//
// A prefix is a string prefix (as the spec and Crossbar match it: `a.b` matches `a.bc`); a wildcard
// has one component per URI component, empty ones matching any.

import { uriMatches, type MatchPolicy } from '../wamp/uri.js';

export interface UriPattern {
  readonly uri: string;
  readonly match: MatchPolicy;
}

/** A wildcard without an empty component matches one URI: it is an exact URI. */
export function normalized(p: UriPattern): UriPattern {
  if (p.match === 'wildcard' && !p.uri.split('.').includes('')) return { uri: p.uri, match: 'exact' };
  return p;
}

/**
 * The string every URI a wildcard matches starts with: its components up to the first empty one,
 * each followed by '.'. `a.b..d` → `a.b.`; `.b` → ''.
 */
function wildcardLead(components: string[]): string {
  const firstAny = components.indexOf('');
  return firstAny <= 0 ? '' : `${components.slice(0, firstAny).join('.')}.`;
}

/** Could some URI matched by wildcard `w` (components) start with the string `prefix`? */
function wildcardMayStartWith(w: string[], prefix: string): boolean {
  const q = prefix.split('.');
  if (q.length > w.length) return false;
  for (let i = 0; i < q.length - 1; i++) if (w[i] !== '' && w[i] !== q[i]) return false;
  const last = w[q.length - 1]!;
  return last === '' || last.startsWith(q[q.length - 1]!);
}

/** Does `outer` apply to every URI that `inner` matches? Both normalized. */
export function covers(outer: UriPattern, inner: UriPattern): boolean {
  switch (outer.match) {
    case 'exact':
      return inner.match === 'exact' && inner.uri === outer.uri;
    case 'prefix':
      if (inner.match === 'wildcard') return wildcardLead(inner.uri.split('.')).startsWith(outer.uri);
      return inner.uri.startsWith(outer.uri);
    case 'wildcard': {
      if (inner.match === 'prefix') return false; // a prefix reaches URIs of any length
      const o = outer.uri.split('.');
      const i = inner.uri.split('.');
      if (o.length !== i.length) return false;
      for (let k = 0; k < o.length; k++) if (o[k] !== '' && (i[k] === '' || i[k] !== o[k])) return false;
      return true;
    }
  }
}

/** May some URI be matched by both? Both normalized. Errs on the side of "yes". */
export function intersects(a: UriPattern, b: UriPattern): boolean {
  if (a.match === 'exact') return uriMatches(b.uri, b.match, a.uri);
  if (b.match === 'exact') return uriMatches(a.uri, a.match, b.uri);
  if (a.match === 'prefix' && b.match === 'prefix') return a.uri.startsWith(b.uri) || b.uri.startsWith(a.uri);
  if (a.match === 'prefix') return wildcardMayStartWith(b.uri.split('.'), a.uri);
  if (b.match === 'prefix') return wildcardMayStartWith(a.uri.split('.'), b.uri);
  const x = a.uri.split('.');
  const y = b.uri.split('.');
  if (x.length !== y.length) return false;
  for (let k = 0; k < x.length; k++) if (x[k] !== '' && y[k] !== '' && x[k] !== y[k]) return false;
  return true;
}

/**
 * On every URI of a set both cover, does `winner` take precedence over `other` in the permission
 * lookup (src/wamp/pattern-index.ts `best`: exact, then the longest prefix, then wildcards)?
 * Only cases that hold for the whole set count; others answer false (the other one must allow too).
 */
export function outranks(winner: UriPattern, other: UriPattern): boolean {
  if (winner.match !== 'prefix') return false;
  if (other.match === 'wildcard') return true;
  return other.match === 'prefix' && other.uri.length < winner.uri.length;
}
