// The `dashboard` web path type: defaults, checks, and what dashboard.json tells the page.
import { describe, it, expect } from 'vitest';
import { parseConfig, dashboardRole, monitorRole } from '../../../src/config/load.js';
import { Authorizer } from '../../../src/auth/authorizer.js';
import { DASHBOARD_DIR } from '../../../src/config/dashboard-dir.js';
import { errorsOf } from '../../helpers/config.js';

const config = (paths: Record<string, unknown>, websocket: Record<string, unknown> = { ws: {} }) => ({
  version: 2,
  workers: [{
    type: 'router',
    realms: [{ name: 'home', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true } }] }] }],
    transports: [{ type: 'universal', endpoint: { type: 'tcp', port: 8080 }, websocket, web: { paths } }],
  }],
});

describe('dashboard web path', () => {
  it('defaults to the first realm and the listener\'s first WebSocket path; setup is resolved', () => {
    const l = parseConfig(config({ '/': { type: 'dashboard' } }), undefined, '/etc/junction').router.listeners[0]!;
    expect(l.static['/']).toEqual({ type: 'dashboard', directory: DASHBOARD_DIR, realm: 'home' });
    const s = parseConfig(config({ '/': { type: 'dashboard', realm: 'home', websocket: '/ws', setup: 'setup.json' } }), undefined, '/etc/junction');
    expect(s.router.listeners[0]!.static['/']).toEqual({ type: 'dashboard', directory: DASHBOARD_DIR, realm: 'home', websocket: '/ws', setup: '/etc/junction/setup.json' });
  });

  it('inside a nested path, `websocket` names a sibling of that path\'s map; with a leading "/" a path from the transport\'s root', () => {
    const nested = (websocket: string) => config({ ops: { type: 'path', paths: { '/': { type: 'dashboard', websocket }, live: { type: 'websocket' } } } });
    expect(parseConfig(nested('live')).router.listeners[0]!.static['/ops']).toMatchObject({ type: 'dashboard', websocket: '/ops/live' });
    expect(parseConfig(nested('/ws')).router.listeners[0]!.static['/ops']).toMatchObject({ type: 'dashboard', websocket: '/ws' });
    expect(errorsOf(nested('ws'))).toEqual({
      'workers[0].transports[0].web.paths.ops.paths["/"].websocket': 'this transport serves no WebSocket at /ops/ws (it has: /ws, /ops/live)',
    });
  });

  it('refuses an unknown realm, a WebSocket path the transport does not serve, and unknown keys', () => {
    const p = 'workers[0].transports[0].web.paths["/"]';
    expect(errorsOf(config({ '/': { type: 'dashboard', realm: 'nope', websocket: 'missing', colour: 'red' } }))).toEqual({
      [`${p}.realm`]: "realm 'nope' is not defined (realms: home)",
      [`${p}.websocket`]: 'this transport serves no WebSocket at /missing (it has: /ws)',
      [`${p}.colour`]: "unknown key 'colour' (supported: id, type, realm, websocket, setup)",
    });
  });

  it('issue 19 #10: the built-in roles: named by an auth block, added to realms that lack them; a realm\'s own definition wins', () => {
    const withAuth = (roles: unknown[]) => ({
      version: 2,
      workers: [{
        type: 'router',
        realms: [{ name: 'home', roles }],
        transports: [{
          type: 'universal', endpoint: { type: 'tcp', port: 8080 },
          websocket: { 'dashboard-ws': { auth: { anonymous: { type: 'static', role: 'dashboard' }, ticket: { type: 'static', principals: { ops: { ticket: 'x', role: 'monitor' } } } } } },
          web: { paths: { '/': { type: 'dashboard' } } },
        }],
      }],
    });
    const roles = parseConfig(withAuth([])).router.realms[0]!.roles;
    expect(roles).toEqual([dashboardRole(), monitorRole()]);
    const own = { name: 'dashboard', permissions: [{ uri: 'x.', match: 'prefix', allow: { call: true } }] };
    expect(parseConfig(withAuth([own])).router.realms[0]!.roles.map((r) => [r.name, r.permissions.length])).toEqual([['dashboard', 1], ['monitor', monitorRole().permissions.length]]);
    // Not named: not added.
    expect(parseConfig(config({ '/': { type: 'dashboard' } })).router.realms[0]!.roles.map((r) => r.name)).toEqual(['anonymous']);
  });

  it('issue 19 #10: the anonymous dashboard role sees counts and state, not who is connected; monitor sees everything, neither writes', () => {
    const authorizer = new Authorizer([dashboardRole(), monitorRole()]);
    const may = (role: string, action: 'call' | 'subscribe' | 'publish' | 'register', uri: string) => authorizer.authorize(role, action, uri).allow;
    for (const uri of ['wamp.session.count', 'wamp.registration.list', 'wamp.subscription.list', 'junction.bridge.mqtt.get', 'junction.serial.usb.devices', 'junction.board.pi.history', 'junction.setup.reveal']) {
      expect(may('dashboard', 'call', uri), uri).toBe(true);
      expect(may('monitor', 'call', uri), uri).toBe(true);
    }
    for (const uri of ['junction.board.pi.load', 'junction.serial.usb.on_change', 'junction.bridge.mqtt.on_state']) expect(may('dashboard', 'subscribe', uri), uri).toBe(true);
    // Identities and names: session details, the meta events that carry authid/role/URIs.
    for (const uri of ['wamp.session.get', 'wamp.session.list', 'wamp.registration.get', 'wamp.subscription.get', 'wamp.registration.list_callees', 'wamp.subscription.list_subscribers']) {
      expect(may('dashboard', 'call', uri), uri).toBe(false);
      expect(may('monitor', 'call', uri), uri).toBe(true);
    }
    for (const uri of ['wamp.session.on_join', 'wamp.session.on_leave', 'wamp.registration.on_create', 'junction.registration.on_saturated', 'junction.session.on_slow_consumer']) {
      expect(may('dashboard', 'subscribe', uri), uri).toBe(false);
      expect(may('monitor', 'subscribe', uri), uri).toBe(true);
    }
    for (const role of ['dashboard', 'monitor']) {
      expect(may(role, 'call', 'wamp.session.kill')).toBe(false);
      expect(may(role, 'publish', 'junction.board.pi.load')).toBe(false);
      expect(may(role, 'register', 'junction.setup.reveal')).toBe(false);
    }
    // The setup procedure learns the caller's session (for its per-address limit).
    expect(authorizer.authorize('dashboard', 'call', 'junction.setup.reveal').disclose).toBe(true);
  });
});
