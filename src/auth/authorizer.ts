// Role-based authorization: "may role R do action A on URI U?", from the realm's static role
// permissions, or for a role with an `authorizer`, from that procedure (dynamic authorization).
// Deny by default. Decisions are cached per role and action (bounded), because the same few URIs
// are asked about on every call and publish; a dynamic decision is cached when it says `cache: true`.
//
// The one place that decides a session's PUBLISH, CALL, SUBSCRIBE and REGISTER: `decide` (static
// or dynamic, URI validity included). The dealer and broker act on its Decision and decide nothing;
// `authorize` is for the router's own checks on a session's behalf (retained events, testaments).

import { VALIDATE_KEYS, type PayloadValidationConfig, type PermissionConfig, type RoleConfig } from '../config/types.js';
import type { PayloadType } from '../wamp/payload-validation.js';
import type { MatchPolicy } from '../wamp/uri.js';
import { covers, intersects, normalized, outranks, type UriPattern } from './pattern-cover.js';
import { PatternIndex } from '../wamp/pattern-index.js';
import type { Dict } from '../wamp/message.js';
import { isValidPattern, isValidUri, type UriCheck } from '../wamp/uri.js';
import { TRUSTED_ROLE } from '../wamp/roles.js';
import { log } from '../log.js';

export type Action = 'call' | 'register' | 'publish' | 'subscribe';

export interface Decision {
  readonly allow: boolean;
  /** call: disclose the caller to the callee; publish: disclose the publisher to subscribers. */
  readonly disclose: boolean;
  /**
   * subscribe with a pattern: allowed, but a narrower permission inside the pattern denies some
   * topics, so each event is delivered only if the role may subscribe to its topic.
   */
  readonly partial?: boolean;
  /** The permission's `validate`: payload types the action's payloads must match (static permissions). */
  readonly validate?: PayloadValidationConfig;
}

const DENY: Decision = Object.freeze({ allow: false, disclose: false });
/**
 * Not a URI (or pattern, under its match policy) the realm accepts: refused as invalid_uri by the
 * dealer or broker, whatever the role, and no authorizer procedure is asked.
 */
export const INVALID_URI: Decision = Object.freeze({ allow: false, disclose: false });
const CACHE_LIMIT = 4096;

/** Asks a dynamic authorizer procedure; resolves to what it returned. */
export type AuthorizerCall = (procedure: string, args: unknown[]) => Promise<unknown>;

/** The session an action is decided for, as the authorizer sees it (Session is one). */
export interface Requester {
  readonly id: number;
  readonly authid: string;
  readonly authrole: string;
  readonly authmethod: string;
  readonly authprovider: string;
  readonly transport: { readonly info: { readonly type: string; readonly peer: string } };
  /** Calls an authorizer procedure of the session's realm (asked only for roles that have one). */
  readonly callAuthorizer: AuthorizerCall;
}

/** What an authorizer procedure is told about the session (Crossbar's session details). */
function detailsOf(r: Requester): Dict {
  const t = r.transport.info;
  return {
    session: r.id, authid: r.authid, authrole: r.authrole, authmethod: r.authmethod,
    authprovider: r.authprovider, transport: { type: t.type, peer: t.peer },
  };
}

/** The cache key of a decision: the URI itself for exact (the hot path), else policy and pattern. */
function cacheKey(uri: string, match: MatchPolicy): string {
  // URIs hold no whitespace, so the key cannot collide with an exact URI.
  return match === 'exact' ? uri : `${match} ${uri}`;
}

class RolePermissions {
  private readonly index = new PatternIndex<PermissionConfig>();
  private readonly cache: Record<Action, Map<string, Decision>> = {
    call: new Map(), register: new Map(), publish: new Map(), subscribe: new Map(),
  };

  /** The permissions in effect: of two for the same URI and match policy, the later one (as in the index). */
  private readonly permissions: PermissionConfig[];

  constructor(permissions: PermissionConfig[]) {
    const effective = new Map<string, PermissionConfig>();
    for (const p of permissions) {
      this.index.set(p.uri, p.match, p);
      effective.delete(cacheKey(p.uri, p.match));
      effective.set(cacheKey(p.uri, p.match), p);
    }
    this.permissions = [...effective.values()];
  }

  decide(action: Action, uri: string, match: MatchPolicy = 'exact'): Decision {
    const cache = this.cache[action];
    const key = cacheKey(uri, match);
    const cached = cache.get(key);
    if (cached) return cached;
    const { permission, decision } = match === 'exact' ? this.decideUri(action, uri) : this.decidePattern(action, { uri, match });
    if (!permission || permission.cache) {
      // Bounded: a client publishing to ever-new topics must not grow the cache without limit.
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(key, decision);
    }
    return decision;
  }

  private decideUri(action: Action, uri: string): { permission: PermissionConfig | undefined; decision: Decision } {
    const permission = this.index.best(uri);
    return { permission, decision: permission ? toDecision(permission, action) : DENY };
  }

  /**
   * A pattern is allowed when the permission that applies to all of its URIs allows it, and so does
   * every other permission that may apply to some of them (unless the first one always wins there).
   * Stricter than Crossbar, which checks the pattern's string as if it were one URI. One exception
   * keeps Crossbar's answer where it is safe: a subscription whose pattern only a narrower
   * permission denies in part is allowed as `partial` (the broker then delivers each event only if
   * its topic may be subscribed to). A registration over such a denial is refused: it would answer
   * calls to procedures the role may not register.
   */
  private decidePattern(action: Action, requested: UriPattern): { permission: PermissionConfig | undefined; decision: Decision } {
    const set = normalized(requested);
    if (set.match === 'exact') return this.decideUri(action, set.uri);
    let winner: PermissionConfig | undefined;
    for (const p of this.permissions) {
      if (!covers(p, set)) continue;
      // The most specific covering permission: a longer prefix, or a prefix over a wildcard.
      if (!winner || outranks(p, winner)) winner = p;
    }
    if (!winner || !winner.allow[action]) return { permission: winner, decision: DENY };
    for (const p of this.permissions) {
      if (p === winner || p.allow[action] || !intersects(p, set) || outranks(winner, p)) continue;
      return { permission: p, decision: action === 'subscribe' ? ALLOW_PER_TOPIC : DENY };
    }
    return { permission: winner, decision: toDecision(winner, action) };
  }
}

function toDecision(p: PermissionConfig, action: Action): Decision {
  if (!p.allow[action]) return DENY;
  const disclose = action === 'call' ? p.disclose.caller : action === 'publish' ? p.disclose.publisher : false;
  return p.validate ? { allow: true, disclose, validate: p.validate } : { allow: true, disclose };
}

/** A role whose actions a procedure decides: authorize(session, uri, action, options). */
class DynamicRole {
  private readonly cache: Record<Action, Map<string, Decision>> = {
    call: new Map(), register: new Map(), publish: new Map(), subscribe: new Map(),
  };

  constructor(readonly procedure: string, private readonly payloadTypes: ReadonlyMap<string, PayloadType> | undefined) {}

  cached(action: Action, uri: string, match: MatchPolicy = 'exact'): Decision | undefined {
    return this.cache[action].get(cacheKey(uri, match));
  }

  async ask(call: AuthorizerCall, session: Dict, action: Action, uri: string, options: Dict, match: MatchPolicy): Promise<Decision> {
    let answer: unknown;
    try {
      answer = await call(this.procedure, [session, uri, action, options]);
    } catch (err) {
      log.error(`authorizer ${this.procedure} failed for ${action} '${uri}' (role '${String(session['authrole'])}'): ${(err as Error).message}; denied`);
      return DENY;
    }
    const decision = fromAnswer(answer, this.payloadTypes);
    if (typeof decision === 'string') {
      log.error(`authorizer ${this.procedure} answered ${action} '${uri}' with ${decision}; denied`);
      return DENY;
    }
    if (!decision) {
      log.error(`authorizer ${this.procedure} returned neither a bool nor {allow, disclose, cache}: ${JSON.stringify(answer)?.slice(0, 200)}; denied`);
      return DENY;
    }
    if (decision.cache) {
      const cache = this.cache[action];
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(cacheKey(uri, match), decision.decision);
    }
    return decision.decision;
  }
}

/** The authorizer's answer as a decision; a string says what is wrong with its `validate`. */
function fromAnswer(answer: unknown, payloadTypes: ReadonlyMap<string, PayloadType> | undefined): { decision: Decision; cache: boolean } | string | undefined {
  if (typeof answer === 'boolean') return { decision: answer ? ALLOW : DENY, cache: false };
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return undefined;
  const a = answer as Dict;
  if (typeof a['allow'] !== 'boolean') return undefined;
  let decision = a['allow'] ? (a['disclose'] === true ? ALLOW_DISCLOSED : ALLOW) : DENY;
  if (a['allow'] && a['validate'] !== undefined && a['validate'] !== null) {
    const validate = validateOf(a['validate'], payloadTypes);
    if (typeof validate === 'string') return validate;
    if (validate) decision = { ...decision, validate };
  }
  return { decision, cache: a['cache'] === true };
}

/** An authorizer's `validate` ({call: "ns.Table", ...}) resolved against the realm's inventory. */
function validateOf(value: unknown, payloadTypes: ReadonlyMap<string, PayloadType> | undefined): PayloadValidationConfig | string | undefined {
  if (typeof value !== 'object' || Array.isArray(value)) return `a validate that is not a dict`;
  const out: { -readonly [K in keyof PayloadValidationConfig]: PayloadValidationConfig[K] } = {};
  for (const [key, name] of Object.entries(value as Dict)) {
    if (key === 'extra') continue; // values from the URI: not checked (as for static permissions)
    const field = (VALIDATE_KEYS as Record<string, keyof PayloadValidationConfig>)[key];
    if (!field) return `an unknown validate key '${key}'`;
    const type = typeof name === 'string' ? payloadTypes?.get(name) : undefined;
    if (!type) return `validate.${key} ${JSON.stringify(name)}, which is not a type of the realm's inventory`;
    out[field] = type;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

const ALLOW: Decision = Object.freeze({ allow: true, disclose: false });
const ALLOW_PER_TOPIC: Decision = Object.freeze({ allow: true, disclose: false, partial: true });
const ALLOW_DISCLOSED: Decision = Object.freeze({ allow: true, disclose: true });

export class Authorizer {
  private readonly roles = new Map<string, RolePermissions>();
  private readonly dynamicRoles = new Map<string, DynamicRole>();

  constructor(roles: RoleConfig[], payloadTypes?: ReadonlyMap<string, PayloadType>) {
    for (const role of roles) {
      if (role.authorizer) this.dynamicRoles.set(role.name, new DynamicRole(role.authorizer, payloadTypes));
      else this.roles.set(role.name, new RolePermissions(role.permissions));
    }
    // The router's own components (meta API, bridges by default) join as 'trusted', as in
    // Crossbar; a realm may define the role itself to narrow it.
    if (!this.hasRole(TRUSTED_ROLE)) {
      this.roles.set(TRUSTED_ROLE, new RolePermissions([{
        uri: '', match: 'prefix', cache: true,
        allow: { call: true, register: true, publish: true, subscribe: true },
        disclose: { caller: true, publisher: true },
      }]));
    }
  }

  hasRole(role: string): boolean {
    return this.roles.has(role) || this.dynamicRoles.has(role);
  }

  /**
   * The decision, synchronously. For a dynamic role only a cached decision counts; without one the
   * answer is deny (the safe side for router-side checks such as retained events and testaments).
   * `match`: a SUBSCRIBE's or REGISTER's pattern is allowed only when every URI it can match is.
   */
  authorize(role: string, action: Action, uri: string, match: MatchPolicy = 'exact'): Decision {
    const dynamic = this.dynamicRoles.get(role);
    if (dynamic) return dynamic.cached(action, uri, match) ?? DENY;
    return this.roles.get(role)?.decide(action, uri, match) ?? DENY;
  }

  /**
   * May `requester` do `action` on `uri` (a PUBLISH's topic or a CALL's procedure; a SUBSCRIBE's
   * or REGISTER's pattern under `options.match`)? INVALID_URI when the realm does not accept the
   * URI. A static role is answered at once; a dynamic role from its cache or, later, by its
   * authorizer procedure, which gets the message's options with `match` always set (Crossbar passes
   * the options), so that it can refuse a pattern wider than it would allow as one URI.
   */
  decide(requester: Requester, action: Action, uri: string, options: Dict, uriCheck: UriCheck): Decision | Promise<Decision> {
    const subscribeOrRegister = action === 'subscribe' || action === 'register';
    const match = subscribeOrRegister ? ((options['match'] as MatchPolicy | undefined) ?? 'exact') : 'exact';
    if (!(subscribeOrRegister ? isValidPattern(uri, match, uriCheck) : isValidUri(uri, uriCheck))) return INVALID_URI;
    const dynamic = this.dynamicRoles.get(requester.authrole);
    if (!dynamic) return this.roles.get(requester.authrole)?.decide(action, uri, match) ?? DENY;
    return dynamic.cached(action, uri, match) ??
      dynamic.ask(requester.callAuthorizer, detailsOf(requester), action, uri, subscribeOrRegister ? { ...options, match } : options, match);
  }
}
