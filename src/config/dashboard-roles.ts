// The status dashboard's two built-in roles (README, "Status dashboard"). Like 'trusted', they need
// no definition in the config: a realm gets them when an auth block names them and the realm does
// not define a role of that name itself (its own definition wins). The embedded default,
// `junction init`'s file and the SD image's first-boot config all name them and define neither, so
// their permissions live here only.
//
// - 'dashboard': what an anonymous visitor of a board on a shared network may see. Counts (sessions,
//   registrations, subscriptions), the bridges' and the board's state, the CPU history, and the
//   first-boot setup form. Router links' state is the bridges' kind of state (where to, up or down). Not who is connected: no session's authid, role or address, no procedure
//   or topic names, no meta events (wamp.session.on_join/on_leave carry authid and role, the
//   registration and subscription events carry URIs). The page shows its own session from WELCOME.
// - 'monitor': the whole read-only view for a signed-in operator (or this machine only, as in the
//   embedded default, where anonymous may do everything anyway): sessions with authid, role, peer and
//   queues, registrations and subscriptions with their URIs, the meta and Junction events.
// Neither may kill, publish or register.
//
// Which of the two a visitor of the page gets is decided here too (dashboardAuth), for every config
// Junction writes: the embedded default, `junction init`'s file and the SD image's first-boot config.

import type { AnonymousAuthConfig, PermissionConfig, RoleConfig, TicketAuthConfig } from './types.js';

export const DASHBOARD_ROLE = 'dashboard';
export const MONITOR_ROLE = 'monitor';

/** The WebSocket path the status page joins through: a key of a universal transport's `websocket` map. */
export const DASHBOARD_WEBSOCKET = 'dashboard-ws';

/**
 * The auth block of the page's WebSocket path (DASHBOARD_WEBSOCKET), as a config file writes it.
 * Without `operators` (a router on this machine only: the embedded default, `junction init`),
 * anonymous visitors get 'monitor', since anonymous may do everything there anyway. With
 * `operators` (authid -> ticket; a board on a network: the SD image's first boot), anonymous
 * visitors get 'dashboard' and each operator signs in on the page with the ticket as 'monitor'.
 */
export function dashboardAuth(operators?: Record<string, string>): { anonymous: AnonymousAuthConfig; ticket?: TicketAuthConfig } {
  if (!operators) return { anonymous: { type: 'static', role: MONITOR_ROLE } };
  const principals = Object.fromEntries(Object.entries(operators).map(([authid, ticket]) => [authid, { ticket, role: MONITOR_ROLE }]));
  return { anonymous: { type: 'static', role: DASHBOARD_ROLE }, ticket: { type: 'static', principals } };
}

type Action = 'call' | 'subscribe';

function permission(uri: string, match: PermissionConfig['match'], action: Action, discloseCaller = false): PermissionConfig {
  return {
    uri, match, cache: true,
    allow: { call: action === 'call', register: false, publish: false, subscribe: action === 'subscribe' },
    disclose: { caller: discloseCaller, publisher: false },
  };
}

/** What both roles may do. No prefix permission covers these URIs: the best match decides (exact,
 *  then the longest prefix, then wildcard), so a prefix 'junction.' would shadow these wildcards. */
function publicView(): PermissionConfig[] {
  return [
    ...['wamp.session.count', 'wamp.registration.list', 'wamp.subscription.list', 'junction.bridge.mqtt.list', 'junction.bridge.mqtt.get',
      'junction.rlink.list', 'junction.rlink.get']
      .map((uri) => permission(uri, 'exact', 'call')),
    // The setup procedure limits attempts per caller address, which it learns from the caller's
    // disclosed session (src/board/setup-reveal.ts).
    permission('junction.setup.reveal', 'exact', 'call', true),
    permission('junction.serial..devices', 'wildcard', 'call'),
    permission('junction.board..info', 'wildcard', 'call'),
    permission('junction.board..history', 'wildcard', 'call'),
    permission('junction.bridge.mqtt.on_state', 'exact', 'subscribe'),
    permission('junction.rlink.on_state', 'exact', 'subscribe'),
    permission('junction.serial..on_change', 'wildcard', 'subscribe'),
    permission('junction.board..load', 'wildcard', 'subscribe'),
  ];
}

/** The anonymous visitor's role: counts and state, no identities (see above). */
export function dashboardRole(name = DASHBOARD_ROLE): RoleConfig {
  return { name, permissions: publicView() };
}

/** The operator's read-only role: the public view plus sessions, registrations, subscriptions, events. */
export function monitorRole(name = MONITOR_ROLE): RoleConfig {
  const reads = [
    'wamp.session.list', 'wamp.session.get', 'junction.session.get',
    'wamp.registration.get', 'junction.registration.get', 'wamp.registration.lookup', 'wamp.registration.match',
    'wamp.registration.list_callees', 'wamp.registration.count_callees',
    'wamp.subscription.get', 'wamp.subscription.lookup', 'wamp.subscription.match',
    'wamp.subscription.list_subscribers', 'wamp.subscription.count_subscribers',
  ];
  return {
    name,
    permissions: [
      ...publicView(),
      ...reads.map((uri) => permission(uri, 'exact', 'call')),
      permission('wamp.', 'prefix', 'subscribe'),
      permission('junction.registration.', 'prefix', 'subscribe'),
      permission('junction.session.', 'prefix', 'subscribe'),
    ],
  };
}

/** The built-in roles by name. */
export const BUILTIN_ROLES: Readonly<Record<string, () => RoleConfig>> = {
  [DASHBOARD_ROLE]: () => dashboardRole(),
  [MONITOR_ROLE]: () => monitorRole(),
};

/** Adds each built-in role that `referenced` names to every realm that does not define it. */
export function addBuiltinRoles(realms: Array<{ roles: RoleConfig[] }>, referenced: Iterable<string>): void {
  const names = new Set(referenced);
  for (const [name, make] of Object.entries(BUILTIN_ROLES)) {
    if (!names.has(name)) continue;
    for (const realm of realms) if (!realm.roles.some((r) => r.name === name)) realm.roles.push(make());
  }
}
