// A realm's section of the config: its name, `roles` (each with `permissions` or a dynamic
// `authorizer`), `store` (call queues, event history, retained events) and `options` (URI check,
// meta API, Junction's byte budgets). Nothing here reads a file or looks at another section.

import {
  DEFAULT_HISTORY_MAX_BYTES, DEFAULT_RETAINED_LIMITS,
  type CallQueueConfig, type EventHistoryConfig, type MatchPolicy, type PermissionConfig, type RealmConfig,
  type RealmStoreConfig, type RetainedLimits, type RoleConfig,
} from './types.js';
import { MATCHES, MIB, describe, join, type Checker, type Obj } from './check-values.js';
import { warnHarmlessKeys } from './python-only.js';
import { isValidPattern, isValidUri } from '../wamp/uri.js';
import { cfxdbKeysOf, checkCfxdbStore } from './load-cfxdb-store.js';
import { parseInventory, parseValidate, type Inventory } from './load-inventory.js';
import type { FileResolver } from './load-tls.js';
import { parseRLinks } from './load-rlinks.js';

/**
 * Crossbar's "starred" URIs, used when a permission (or store entry) has no `match`:
 * no '*' → exact; one '*' at the very end → prefix without it ('com.example.*' → 'com.example.',
 * '*' → '' = every URI); otherwise → wildcard, each '*' component becoming an empty component
 * ('com.*.add' → 'com..add'). A '*' inside a component ('com.ex*ple') is refused (`error`).
 */
export function convertStarredUri(uri: string): { uri: string; match: MatchPolicy; error?: string } {
  const stars = uri.split('*').length - 1;
  if (stars === 0) return { uri, match: 'exact' };
  if (stars === 1 && uri.endsWith('*')) return { uri: uri.slice(0, -1), match: 'prefix' };
  const components = uri.split('.');
  if (components.some((c) => c.includes('*') && c !== '*')) {
    return { uri, match: 'wildcard', error: "a '*' must be a whole URI component ('a.*.c'), or the single last character ('a.b*')" };
  }
  return { uri: components.map((c) => (c === '*' ? '' : c)).join('.'), match: 'wildcard' };
}

/** Every action on every URI, disclosing nothing: `allow-by-default`, and the embedded default's anonymous. */
export function allowAll(): PermissionConfig {
  return {
    uri: '', match: 'prefix', cache: true,
    allow: { call: true, register: true, publish: true, subscribe: true },
    disclose: { caller: false, publisher: false },
  };
}

export function parseRealm(c: Checker, value: unknown, path: string, files: FileResolver): RealmConfig {
  const harmless = warnHarmlessKeys(c, value, path, {
    stats: 'ignored: Junction does not publish wamp.session.on_stats (wamp.session.get and junction.session.get give a session\'s figures)',
  });
  const r = c.object(value, path, ['name', 'roles', 'store', 'options', 'inventory', 'rlinks', ...harmless]) ?? {};
  const inventory = r['inventory'] === undefined ? undefined : parseInventory(c, r['inventory'], join(path, 'inventory'), files);
  const name = c.string(r['name'], join(path, 'name')) ?? '';
  if (name && !isValidUri(name)) c.error(join(path, 'name'), `${JSON.stringify(name)} is not a valid realm name (a URI like "realm1" or "com.example")`);

  const realm: RealmConfig = { name, roles: [], uriCheck: 'loose', enableMetaApi: true };
  if (inventory) realm.payloadTypes = inventory;
  const rolesPath = join(path, 'roles');
  const seen = new Map<string, number>();
  (c.array(r['roles'], rolesPath) ?? []).forEach((role, i) => {
    const parsed = parseRole(c, role, join(rolesPath, i), inventory);
    const first = seen.get(parsed.name);
    if (parsed.name && first !== undefined) {
      c.error(join(join(rolesPath, i), 'name'), `role '${parsed.name}' is already defined in this realm at ${join(rolesPath, first)}`);
    } else {
      seen.set(parsed.name, i);
    }
    realm.roles.push(parsed);
  });
  if (r['rlinks'] !== undefined) realm.rlinks = parseRLinks(c, r['rlinks'], join(path, 'rlinks'), files);
  if (r['store'] !== undefined) realm.store = parseStore(c, r['store'], join(path, 'store'));
  if (r['options'] !== undefined) {
    const op = join(path, 'options');
    const harmless = warnHarmlessKeys(c, r['options'], op, {
      event_dispatching_chunk_size: 'ignored: Junction dispatches each event to all its subscribers at once, without chunks',
      bridge_meta_api: 'ignored: Junction\'s router links (rlinks) do not carry meta events',
    });
    const o = c.object(r['options'], op, ['uri_check', 'enable_meta_api', 'max_pending_calls', 'max_pending_call_bytes',
      'max_pending_call_bytes_total', 'max_subscriptions', 'max_subscription_bytes', 'wire', ...harmless]);
    if (o) {
      realm.uriCheck = c.oneOf(o['uri_check'], join(op, 'uri_check'), ['loose', 'strict'] as const, 'loose');
      realm.enableMetaApi = c.boolean(o['enable_meta_api'], join(op, 'enable_meta_api'), true);
      realm.wire = c.oneOf(o['wire'], join(op, 'wire'), ['crossbar', 'spec'] as const, 'crossbar');
      if (o['max_pending_calls'] !== undefined) {
        const max = c.integer(o['max_pending_calls'], join(op, 'max_pending_calls'), undefined, 1, 1_000_000);
        if (max !== undefined) realm.maxPendingCalls = max;
      }
      // Junction's byte budgets (defaults in config/types.ts).
      const budget = (key: string, min: number, max: number) => (o[key] === undefined ? undefined : c.integer(o[key], join(op, key), undefined, min, max));
      const pendingBytes = budget('max_pending_call_bytes', 1024, 4096 * MIB);
      if (pendingBytes !== undefined) realm.maxPendingCallBytes = pendingBytes;
      const pendingTotal = budget('max_pending_call_bytes_total', 1024, 4096 * MIB);
      if (pendingTotal !== undefined) realm.maxPendingCallBytesTotal = pendingTotal;
      const subscriptions = budget('max_subscriptions', 1, 10_000_000);
      if (subscriptions !== undefined) realm.maxSubscriptions = subscriptions;
      const subscriptionBytes = budget('max_subscription_bytes', 1024, 4096 * MIB);
      if (subscriptionBytes !== undefined) realm.maxSubscriptionBytes = subscriptionBytes;
    }
  }
  return realm;
}

function parseRole(c: Checker, value: unknown, path: string, inventory: Inventory | undefined): RoleConfig {
  const r = c.object(value, path, ['name', 'permissions', 'allow-by-default', 'authorizer']) ?? {};
  const name = c.string(r['name'], join(path, 'name')) ?? '';
  if (r['authorizer'] !== undefined) {
    // Dynamic authorization: a procedure decides every action (Crossbar: permissions or authorizer).
    const ap = join(path, 'authorizer');
    const authorizer = c.string(r['authorizer'], ap);
    if (authorizer !== undefined && !isValidUri(authorizer)) c.error(ap, `must be a procedure URI, got ${describe(authorizer)}`);
    for (const key of ['permissions', 'allow-by-default']) {
      if (r[key] !== undefined) c.error(join(path, key), 'cannot be combined with an authorizer (the authorizer decides every action)');
    }
    return { name, permissions: [], authorizer: authorizer ?? '' };
  }
  const permsPath = join(path, 'permissions');
  const permissions: PermissionConfig[] = [];
  const seen = new Map<string, number>();
  (c.array(r['permissions'], permsPath) ?? []).forEach((p, i) => {
    const parsed = parsePermission(c, p, join(permsPath, i), inventory);
    if (!parsed) return;
    permissions.push(parsed);
    if (typeof (p as Obj)['uri'] !== 'string') return; // already reported
    const key = `${parsed.match} ${parsed.uri}`;
    const first = seen.get(key);
    if (first !== undefined) c.error(join(join(permsPath, i), 'uri'), `duplicate permission: ${parsed.match} ${JSON.stringify(parsed.uri)} is already listed at ${join(permsPath, first)}`);
    else seen.set(key, i);
  });
  // Crossbar: a role without `permissions` allows everything when `allow-by-default` is true
  // (disclose nothing, cacheable); with `permissions` the flag would be ignored, so refuse it.
  const byDefaultPath = join(path, 'allow-by-default');
  const allowByDefault = c.boolean(r['allow-by-default'], byDefaultPath, false);
  if (allowByDefault && r['permissions'] !== undefined) {
    c.error(byDefaultPath, 'applies only to a role without permissions; remove one of the two');
  } else if (allowByDefault) {
    permissions.push(allowAll());
  }
  return { name, permissions };
}

function parsePermission(c: Checker, value: unknown, path: string, inventory: Inventory | undefined): PermissionConfig | undefined {
  const p = c.object(value, path, ['uri', 'match', 'allow', 'disclose', 'cache', 'validate']);
  if (!p) return undefined;
  const { uri, match } = uriAndMatch(c, p, path);
  const allowPath = join(path, 'allow');
  const disclosePath = join(path, 'disclose');
  const allow = (p['allow'] === undefined ? {} : c.object(p['allow'], allowPath, ['call', 'register', 'publish', 'subscribe'])) ?? {};
  const disclose = (p['disclose'] === undefined ? {} : c.object(p['disclose'], disclosePath, ['caller', 'publisher'])) ?? {};
  return {
    uri, match,
    allow: {
      call: c.boolean(allow['call'], join(allowPath, 'call'), false),
      register: c.boolean(allow['register'], join(allowPath, 'register'), false),
      publish: c.boolean(allow['publish'], join(allowPath, 'publish'), false),
      subscribe: c.boolean(allow['subscribe'], join(allowPath, 'subscribe'), false),
    },
    disclose: {
      caller: c.boolean(disclose['caller'], join(disclosePath, 'caller'), false),
      publisher: c.boolean(disclose['publisher'], join(disclosePath, 'publisher'), false),
    },
    cache: c.boolean(p['cache'], join(path, 'cache'), true),
    ...(p['validate'] === undefined ? {} : { validate: parseValidate(c, p['validate'], join(path, 'validate'), inventory) }),
  };
}

/** `uri` with `match`, or a starred `uri` without it (permissions and store entries). */
function uriAndMatch(c: Checker, o: Obj, path: string): { uri: string; match: MatchPolicy } {
  const uriPath = join(path, 'uri');
  const raw = c.string(o['uri'], uriPath, { nonEmpty: false });
  if (o['match'] !== undefined) {
    const match = c.oneOf(o['match'], join(path, 'match'), MATCHES);
    if (raw === undefined || match === undefined) return { uri: raw ?? '', match: match ?? 'exact' };
    if (raw.includes('*')) {
      c.error(uriPath, `'*' is only understood without 'match' (Crossbar's starred form); with match '${match}' write the URI without it, e.g. ${match === 'wildcard' ? '"com..add"' : '"com.example."'}`);
    } else if (!isValidPattern(raw, match)) {
      c.error(uriPath, `${JSON.stringify(raw)} is not a valid URI for match '${match}'`);
    }
    return { uri: raw, match };
  }
  if (raw === undefined) return { uri: '', match: 'exact' };
  const starred = convertStarredUri(raw);
  if (starred.error) c.error(uriPath, starred.error);
  else if (!isValidPattern(starred.uri, starred.match)) c.error(uriPath, `${JSON.stringify(raw)} is not a valid URI`);
  return { uri: starred.uri, match: starred.match };
}

function parseStore(c: Checker, value: unknown, path: string): RealmStoreConfig {
  const s = c.object(value, path, ['type', 'limit', 'call-queue', 'event-history', 'retained', ...cfxdbKeysOf(c, value)]) ?? {};
  const typePath = join(path, 'type');
  if (s['type'] === 'cfxdb') checkCfxdbStore(c, s, path);
  else c.oneOf(s['type'], typePath, ['memory'] as const);
  const limit = c.integer(s['limit'], join(path, 'limit'), 100, 0, 1_000_000)!;

  const queuePath = join(path, 'call-queue');
  const callQueue: CallQueueConfig[] = [];
  const seenQueue = new Map<string, number>();
  (c.array(s['call-queue'], queuePath) ?? []).forEach((e, i) => {
    const p = join(queuePath, i);
    const o = c.object(e, p, ['uri', 'match', 'limit', 'timeout']);
    if (!o) return;
    const entry: CallQueueConfig = {
      ...uriAndMatch(c, o, p),
      // Junction enforces the limit (Crossbar ignores it), so it must be chosen explicitly.
      limit: c.integer(o['limit'], join(p, 'limit'), undefined, 0, 1_000_000) ?? 0,
      timeout: c.integer(o['timeout'], join(p, 'timeout'), 30_000, 1, 86_400_000)!,
    };
    const key = `${entry.match} ${entry.uri}`;
    const first = seenQueue.get(key);
    if (first !== undefined) c.error(join(p, 'uri'), `duplicate call-queue entry: ${entry.match} ${JSON.stringify(entry.uri)} is already listed at ${join(queuePath, first)}`);
    else seenQueue.set(key, i);
    callQueue.push(entry);
  });

  const historyPath = join(path, 'event-history');
  const eventHistory: EventHistoryConfig[] = [];
  (c.array(s['event-history'], historyPath) ?? []).forEach((e, i) => {
    const p = join(historyPath, i);
    const o = c.object(e, p, ['uri', 'match', 'limit', 'max_bytes']);
    if (!o) return;
    // As in Crossbar, the store's `limit` is the default for each entry.
    eventHistory.push({
      ...uriAndMatch(c, o, p),
      limit: c.integer(o['limit'], join(p, 'limit'), limit, 0, 1_000_000)!,
      maxBytes: c.integer(o['max_bytes'], join(p, 'max_bytes'), DEFAULT_HISTORY_MAX_BYTES, 1024, 1024 * MIB)!,
    });
  });
  return { type: 'memory', limit, callQueue, eventHistory, retained: retainedLimits(c, s['retained'], join(path, 'retained')) };
}

/** `store.retained` (Junction's): how much of retained events a realm keeps. */
function retainedLimits(c: Checker, value: unknown, path: string): RetainedLimits {
  const d = DEFAULT_RETAINED_LIMITS;
  const o = value === undefined ? {} : c.object(value, path, ['limit', 'max_bytes']) ?? {};
  return {
    maxTopics: c.integer(o['limit'], join(path, 'limit'), d.maxTopics, 0, 10_000_000)!,
    maxBytes: c.integer(o['max_bytes'], join(path, 'max_bytes'), d.maxBytes, 0, 1024 * MIB)!,
  };
}
