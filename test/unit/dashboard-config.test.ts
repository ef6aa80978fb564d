// The `dashboard` web path type: defaults, checks, and what dashboard.json tells the page.
import { describe, it, expect } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { DASHBOARD_DIR } from '../../src/transports/dashboard.js';
import { errorsOf } from '../helpers/config.js';

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

  it('refuses an unknown realm, a WebSocket path the transport does not serve, and unknown keys', () => {
    const p = 'workers[0].transports[0].web.paths["/"]';
    expect(errorsOf(config({ '/': { type: 'dashboard', realm: 'nope', websocket: 'missing', colour: 'red' } }))).toEqual({
      [`${p}.realm`]: "realm 'nope' is not defined (realms: home)",
      [`${p}.websocket`]: 'this transport serves no WebSocket at /missing (it has: /ws)',
      [`${p}.colour`]: "unknown key 'colour' (supported: id, type, realm, websocket, setup)",
    });
  });
});
