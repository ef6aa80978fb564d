// The embedded default config, used without --config. `junction init` writes the same as a
// commented file (starter.ts; test/unit/config.test.ts checks that the two agree).

import { DEFAULT_TRANSPORT_OPTIONS, type JunctionConfig, type WampServiceConfig } from './types.js';
import { allowAll } from './load-realms.js';
import { SERIALIZERS } from './load-wamp-service.js';
import { DASHBOARD_DIR } from './dashboard-dir.js';
import { DASHBOARD_WEBSOCKET, dashboardAuth, monitorRole } from './dashboard-roles.js';
import { ANONYMOUS_ROLE } from '../wamp/roles.js';

/**
 * The embedded default, used without --config: one universal listener 'default' on
 * 127.0.0.1:8080 (RawSocket, WebSocket at /ws; json, msgpack, cbor, ubjson), realm 'realm1' where the role
 * 'anonymous' may do everything; no auth block, so every client joins as 'anonymous'. HTTP '/' is
 * the status dashboard, which joins through the WebSocket path /dashboard-ws as the built-in
 * read-only role 'monitor' (src/config/dashboard-roles.ts): on loopback, where anonymous may do
 * everything anyway, the page shows the whole view without a login.
 */
export function defaultConfig(): JunctionConfig {
  const service = (): WampServiceConfig => ({
    serializers: [...SERIALIZERS],
    options: { ...DEFAULT_TRANSPORT_OPTIONS, allowedOrigins: [...DEFAULT_TRANSPORT_OPTIONS.allowedOrigins] },
  });
  return {
    router: {
      realms: [{
        name: 'realm1',
        roles: [{ name: ANONYMOUS_ROLE, permissions: [allowAll()] }, monitorRole()],
        uriCheck: 'loose',
        enableMetaApi: true,
      }],
      listeners: [{
        id: 'default',
        kind: 'universal',
        endpoint: { type: 'tcp', port: 8080, interface: '127.0.0.1' },
        rawsocket: service(),
        websocket: {
          '/ws': service(),
          // The dashboard's own path: anonymous clients here get the read-only role 'monitor'.
          [`/${DASHBOARD_WEBSOCKET}`]: { ...service(), auth: dashboardAuth() },
        },
        websocketAnyPath: false,
        static: { '/': { type: 'dashboard', directory: DASHBOARD_DIR, realm: 'realm1', websocket: `/${DASHBOARD_WEBSOCKET}` } },
      }],
    },
  };
}
