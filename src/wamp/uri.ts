// URI rules (WAMP spec, "URIs"): components separated by '.', no whitespace or '#'.
// Loose checking is the default: sensor and MQTT-derived topics often use capitals and dashes.

/** How a subscription, registration or permission URI matches (WAMP spec, "Pattern-based Subscriptions"). */
export type MatchPolicy = 'exact' | 'prefix' | 'wildcard';

export type UriCheck = 'loose' | 'strict';

const LOOSE = /^([^\s.#]+\.)*([^\s.#]+)$/;
const LOOSE_LAST_EMPTY = /^([^\s.#]+\.)*([^\s.#]*)$/;
const LOOSE_EMPTY = /^(([^\s.#]+\.)|\.)*([^\s.#]+)?$/;
const STRICT = /^([0-9a-z_]+\.)*([0-9a-z_]+)$/;
const STRICT_LAST_EMPTY = /^([0-9a-z_]+\.)*([0-9a-z_]*)$/;
const STRICT_EMPTY = /^(([0-9a-z_]+\.)|\.)*([0-9a-z_]+)?$/;

/** A concrete URI: a realm, a topic to publish to, a procedure to call, an error. */
export function isValidUri(uri: unknown, check: UriCheck = 'loose'): uri is string {
  return typeof uri === 'string' && (check === 'strict' ? STRICT : LOOSE).test(uri);
}

/**
 * A URI used as a pattern (SUBSCRIBE/REGISTER/permissions): a prefix may end in an empty component
 * ('com.myapp.' or even ''), a wildcard may have empty components anywhere.
 */
export function isValidPattern(uri: unknown, match: MatchPolicy, check: UriCheck = 'loose'): uri is string {
  if (typeof uri !== 'string') return false;
  const strict = check === 'strict';
  switch (match) {
    case 'exact':
      return (strict ? STRICT : LOOSE).test(uri);
    case 'prefix':
      return (strict ? STRICT_LAST_EMPTY : LOOSE_LAST_EMPTY).test(uri);
    case 'wildcard':
      return (strict ? STRICT_EMPTY : LOOSE_EMPTY).test(uri);
  }
}

/**
 * `wamp.*` (the meta API) and `junction.*` (Junction's own procedures and events: setup reveal,
 * bridges, board, serial) belong to the router: clients may call and subscribe there, only the
 * router's own sessions may register or publish.
 */
export function isReservedUri(uri: string): boolean {
  return reservedNamespace(uri) !== undefined;
}

/** 'wamp.*' or 'junction.*' when `uri` is in one of the router's namespaces, for refusal messages. */
export function reservedNamespace(uri: string): string | undefined {
  if (isWampUri(uri)) return 'wamp.*';
  if (uri.startsWith('junction.')) return 'junction.*';
  return undefined;
}

/** `wamp.*`: the meta API's own procedures and topics, left out of its listings and meta events. */
export function isWampUri(uri: string): boolean {
  return uri.startsWith('wamp.');
}

/** Where clients do publish under junction.*: MQTT devices answer the RPC gateway there (src/mqtt/rpc-gateway.ts). */
const CLIENT_REPLIES = 'junction.rpc.';

/** reservedNamespace for PUBLISH: the router's events may not be forged; gateway replies are the clients'. */
export function reservedForPublishing(uri: string): string | undefined {
  return uri.startsWith(CLIENT_REPLIES) ? undefined : reservedNamespace(uri);
}

export function isMatchPolicy(value: unknown): value is MatchPolicy {
  return value === 'exact' || value === 'prefix' || value === 'wildcard';
}

/** Does the concrete URI `uri` fall under the pattern (`pattern`, `match`)? */
export function uriMatches(pattern: string, match: MatchPolicy, uri: string): boolean {
  if (match === 'exact') return pattern === uri;
  if (match === 'prefix') return uri.startsWith(pattern);
  const p = pattern.split('.');
  const u = uri.split('.');
  if (p.length !== u.length) return false;
  for (let i = 0; i < p.length; i++) if (p[i] !== '' && p[i] !== u[i]) return false;
  return true;
}
