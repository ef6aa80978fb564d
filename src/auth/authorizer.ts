// Role-based authorization: "may role R do action A on URI U?", from the realm's static role
// permissions. Deny by default. Decisions are cached per role and action (bounded), because the
// same few URIs are asked about on every call and publish.

import type { PermissionConfig, RoleConfig } from '../config/types.js';
import { PatternIndex } from '../router/pattern-index.js';

export type Action = 'call' | 'register' | 'publish' | 'subscribe';

export interface Decision {
  readonly allow: boolean;
  /** call: disclose the caller to the callee; publish: disclose the publisher to subscribers. */
  readonly disclose: boolean;
}

export const TRUSTED_ROLE = 'trusted';

const DENY: Decision = Object.freeze({ allow: false, disclose: false });
const CACHE_LIMIT = 4096;

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

export class Authorizer {
  private readonly roles = new Map<string, RolePermissions>();

  constructor(roles: RoleConfig[]) {
    for (const role of roles) this.roles.set(role.name, new RolePermissions(role.permissions));
    // The router's own components (meta API, bridges by default) join as 'trusted', as in
    // Crossbar; a realm may define the role itself to narrow it.
    if (!this.roles.has(TRUSTED_ROLE)) {
      this.roles.set(TRUSTED_ROLE, new RolePermissions([{
        uri: '', match: 'prefix', cache: true,
        allow: { call: true, register: true, publish: true, subscribe: true },
        disclose: { caller: true, publisher: true },
      }]));
    }
  }

  hasRole(role: string): boolean {
    return this.roles.has(role);
  }

  authorize(role: string, action: Action, uri: string): Decision {
    return this.roles.get(role)?.decide(action, uri) ?? DENY;
  }
}
