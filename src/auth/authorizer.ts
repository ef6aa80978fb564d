// Role-based authorization: "may role R do action A on URI U?", from the realm's static role
// permissions, or for a role with an `authorizer`, from that procedure (dynamic authorization).
// Deny by default. Decisions are cached per role and action (bounded), because the same few URIs
// are asked about on every call and publish; a dynamic decision is cached when it says `cache: true`.

import type { PermissionConfig, RoleConfig } from '../config/types.js';
import { PatternIndex } from '../router/pattern-index.js';
import type { Dict } from '../wamp/message.js';
import { log } from '../log.js';

export type Action = 'call' | 'register' | 'publish' | 'subscribe';

export interface Decision {
  readonly allow: boolean;
  /** call: disclose the caller to the callee; publish: disclose the publisher to subscribers. */
  readonly disclose: boolean;
}

export const TRUSTED_ROLE = 'trusted';

const DENY: Decision = Object.freeze({ allow: false, disclose: false });
const CACHE_LIMIT = 4096;

/** Asks a dynamic authorizer procedure; resolves to what it returned. */
export type AuthorizerCall = (procedure: string, args: unknown[]) => Promise<unknown>;

class RolePermissions {
  private readonly index = new PatternIndex<PermissionConfig>();
  private readonly cache: Record<Action, Map<string, Decision>> = {
    call: new Map(), register: new Map(), publish: new Map(), subscribe: new Map(),
  };

  constructor(permissions: PermissionConfig[]) {
    for (const p of permissions) this.index.set(p.uri, p.match, p);
  }

  decide(action: Action, uri: string): Decision {
    const cache = this.cache[action];
    const cached = cache.get(uri);
    if (cached) return cached;
    const permission = this.index.best(uri);
    const decision = permission ? toDecision(permission, action) : DENY;
    if (!permission || permission.cache) {
      // Bounded: a client publishing to ever-new topics must not grow the cache without limit.
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(uri, decision);
    }
    return decision;
  }
}

function toDecision(p: PermissionConfig, action: Action): Decision {
  if (!p.allow[action]) return DENY;
  const disclose = action === 'call' ? p.disclose.caller : action === 'publish' ? p.disclose.publisher : false;
  return { allow: true, disclose };
}

/** A role whose actions a procedure decides: authorize(session, uri, action, options). */
class DynamicRole {
  private readonly cache: Record<Action, Map<string, Decision>> = {
    call: new Map(), register: new Map(), publish: new Map(), subscribe: new Map(),
  };

  constructor(readonly procedure: string) {}

  cached(action: Action, uri: string): Decision | undefined {
    return this.cache[action].get(uri);
  }

  async ask(call: AuthorizerCall, session: Dict, action: Action, uri: string, options: Dict): Promise<Decision> {
    let answer: unknown;
    try {
      answer = await call(this.procedure, [session, uri, action, options]);
    } catch (err) {
      log.error(`authorizer ${this.procedure} failed for ${action} '${uri}' (role '${String(session['authrole'])}'): ${(err as Error).message}; denied`);
      return DENY;
    }
    const decision = fromAnswer(answer);
    if (!decision) {
      log.error(`authorizer ${this.procedure} returned neither a bool nor {allow, disclose, cache}: ${JSON.stringify(answer)?.slice(0, 200)}; denied`);
      return DENY;
    }
    if (decision.cache) {
      const cache = this.cache[action];
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(uri, decision.decision);
    }
    return decision.decision;
  }
}

function fromAnswer(answer: unknown): { decision: Decision; cache: boolean } | undefined {
  if (typeof answer === 'boolean') return { decision: answer ? ALLOW : DENY, cache: false };
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return undefined;
  const a = answer as Dict;
  if (typeof a['allow'] !== 'boolean') return undefined;
  const decision = a['allow'] ? (a['disclose'] === true ? ALLOW_DISCLOSED : ALLOW) : DENY;
  return { decision, cache: a['cache'] === true };
}

const ALLOW: Decision = Object.freeze({ allow: true, disclose: false });
const ALLOW_DISCLOSED: Decision = Object.freeze({ allow: true, disclose: true });

export class Authorizer {
  private readonly roles = new Map<string, RolePermissions>();
  private readonly dynamicRoles = new Map<string, DynamicRole>();

  constructor(roles: RoleConfig[]) {
    for (const role of roles) {
      if (role.authorizer) this.dynamicRoles.set(role.name, new DynamicRole(role.authorizer));
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

  /** True when a procedure decides this role's actions: use `authorizeDynamic`. */
  isDynamic(role: string): boolean {
    return this.dynamicRoles.has(role);
  }

  /**
   * The decision, synchronously. For a dynamic role only a cached decision counts; without one the
   * answer is deny (the safe side for router-side checks such as retained events and testaments).
   */
  authorize(role: string, action: Action, uri: string): Decision {
    const dynamic = this.dynamicRoles.get(role);
    if (dynamic) return dynamic.cached(action, uri) ?? DENY;
    return this.roles.get(role)?.decide(action, uri) ?? DENY;
  }

  /** For a dynamic role: the cached decision, or the authorizer's answer. */
  authorizeDynamic(call: AuthorizerCall, session: Dict, action: Action, uri: string, options: Dict): Decision | Promise<Decision> {
    const role = this.dynamicRoles.get(session['authrole'] as string);
    if (!role) return this.authorize(session['authrole'] as string, action, uri);
    return role.cached(action, uri) ?? role.ask(call, session, action, uri, options);
  }
}
