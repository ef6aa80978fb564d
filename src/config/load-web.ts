// A web transport's `paths` (also a universal transport's `web.paths`): what each URL path serves,
// static files from a directory (load-static.ts), a WebSocket service, MQTT over WebSocket,
// Junction's status dashboard, or json, redirect, reverseproxy, nodeinfo (load-web-services.ts).

import type { DashboardPathConfig, ListenerConfig, MqttWebSocketPathConfig, RealmConfig } from './types.js';
import { NOT_YET, describe, join, type Checker } from './check-values.js';
import { parseStaticPath } from './load-static.js';
import { isWebServiceType, parseWebService } from './load-web-services.js';
import type { LoadContext } from './load-context.js';
import { allowedOrigins, parseWampService } from './load-wamp-service.js';
import { parseMqttService } from './load-mqtt.js';
import { DASHBOARD_DIR } from './dashboard-dir.js';
import { isHttpBridgeType, parseHttpBridgePath } from './load-http-bridge.js';
import { parseLongPollPath } from './load-longpoll.js';
import { parseWebSocketReverseProxy } from './load-websocket-reverseproxy.js';
import { TRANSPORT_PATHS, nestedPaths, urlOf, type WebPathPrefix } from './load-nested-path.js';

/** Crossbar's rule for keys of `paths` and of a universal transport's `websocket` map. */
const WEB_PATH_KEY = /^([A-Za-z0-9_-]+|\/)$/;

/** The web path types Junction serves, for messages. */
const SUPPORTED_TYPES = ['static', 'websocket', 'longpoll', 'mqtt', 'dashboard', 'json', 'redirect', 'reverseproxy', 'websocket-reverseproxy', 'nodeinfo', 'publisher', 'caller', 'webhook', 'path'].map((t) => `"${t}"`).join(', ');

/** A key of `paths` or of the `websocket` map as the URL path it serves: "ws" → "/ws". */
export function normalizeWebPath(key: string): string {
  return urlOf(TRANSPORT_PATHS, key);
}

/** Whether `key` is a valid key of `paths` or of the `websocket` map (an error otherwise). */
export function webPathKey(c: Checker, key: string, path: string): boolean {
  if (WEB_PATH_KEY.test(key)) return true;
  c.error(path, `${JSON.stringify(key)} is not a valid path: use "/" or one segment of letters, digits, '_' and '-' (e.g. "ws")`);
  return false;
}

/** A web transport's `paths`, added to `listener`; `prefix`: where a `path` entry's own map is mounted (load-nested-path.ts). */
export function parseWebPaths(ctx: LoadContext, value: unknown, path: string, listener: ListenerConfig, prefix: WebPathPrefix = TRANSPORT_PATHS): void {
  const { c } = ctx;
  const paths = c.map(value, path);
  if (paths && Object.keys(paths).length === 0 && prefix.depth === 0) c.error(path, 'must serve at least one path');
  for (const [key, entry] of Object.entries(paths ?? {})) {
    const p = join(path, key);
    if (!webPathKey(c, key, p)) continue;
    const url = urlOf(prefix, key);
    if (listener.websocket[url] || listener.static[url] || listener.mqttWebsocket?.[url] || listener.longpoll?.[url]) {
      c.error(p, `path ${url} is already served by this transport`);
      continue;
    }
    if (!c.isObject(entry)) {
      c.error(p, `must be an object, got ${describe(entry)}`);
      continue;
    }
    const type = entry['type'];
    if (type === 'static') {
      const files = parseStaticPath(ctx, entry, p, url);
      if (files) listener.static[url] = files;
    } else if (type === 'dashboard') {
      // Junction's own: the built-in status page (README, "Status dashboard").
      const s = c.object(entry, p, ['id', 'type', 'realm', 'websocket', 'setup'])!;
      c.string(s['id'], join(p, 'id'), { required: false });
      const realm = c.string(s['realm'], join(p, 'realm'), { required: false });
      if (realm !== undefined) ctx.realmRefs.push({ realm, path: join(p, 'realm') });
      // "ws": a key of the map the dashboard is in (a sibling path, nested or not); "/ws": a path
      // from the transport's root.
      const wsValue = c.string(s['websocket'], join(p, 'websocket'), { required: false });
      const fromRoot = wsValue !== undefined && wsValue.length > 1 && wsValue.startsWith('/');
      const ws = fromRoot ? wsValue!.slice(1) : wsValue;
      const dashboard: DashboardPathConfig = { type: 'dashboard', directory: DASHBOARD_DIR, realm: realm ?? '' };
      if (ws !== undefined && webPathKey(c, ws, join(p, 'websocket'))) {
        dashboard.websocket = fromRoot ? normalizeWebPath(ws) : urlOf(prefix, ws);
        ctx.dashboardRefs.push({ listener, websocket: dashboard.websocket, path: join(p, 'websocket') });
      }
      // The setup file may not exist yet (first boot writes it); it is read at each reveal.
      const setup = c.string(s['setup'], join(p, 'setup'), { required: false });
      if (setup !== undefined) dashboard.setup = ctx.file(setup);
      listener.static[url] = dashboard;
    } else if (type === 'websocket') {
      const s = c.object(entry, p, ['id', 'type', 'serializers', 'options', 'auth', 'url', 'debug', 'cookie'])!;
      c.string(s['id'], join(p, 'id'), { required: false });
      listener.websocket[url] = parseWampService(ctx, s, p, 'websocket');
    } else if (type === 'mqtt') {
      // Junction's own: MQTT over WebSocket (subprotocol `mqtt`): an MQTT service with the options
      // and auth of an `mqtt` transport, or the one of the transport `transport` names.
      const s = c.object(entry, p, ['id', 'type', 'transport', 'options', 'auth', 'allowed_origins', 'debug'])!;
      c.string(s['id'], join(p, 'id'), { required: false });
      c.boolean(s['debug'], join(p, 'debug'), false);
      const mqtt: MqttWebSocketPathConfig = { allowedOrigins: allowedOrigins(c, s['allowed_origins'], join(p, 'allowed_origins')) };
      if (s['transport'] === undefined) {
        mqtt.service = parseMqttService(c, s, p, ctx);
      } else {
        const transport = c.string(s['transport'], join(p, 'transport'));
        for (const key of ['options', 'auth']) {
          if (s[key] !== undefined) c.error(join(p, key), `comes from the transport this path shares (transport: ${describe(transport)}): remove it, or remove transport to give the path an MQTT service of its own`);
        }
        if (transport !== undefined) {
          mqtt.transport = transport;
          ctx.mqttServiceRefs.push({ transport, path: join(p, 'transport') });
        }
      }
      (listener.mqttWebsocket ??= {})[url] = mqtt;
    } else if (type === 'longpoll') {
      (listener.longpoll ??= {})[url] = parseLongPollPath(ctx, entry, p);
    } else if (isHttpBridgeType(type)) {
      const bridge = parseHttpBridgePath(ctx, entry, p);
      if (bridge) listener.static[url] = bridge;
    } else if (type === 'websocket-reverseproxy') {
      const proxy = parseWebSocketReverseProxy(ctx, entry, p);
      if (proxy) listener.static[url] = proxy;
    } else if (isWebServiceType(type)) {
      const service = parseWebService(c, type, entry, p, url);
      if (service) listener.static[url] = service;
    } else if (type === 'path') {
      const nested = nestedPaths(c, entry, p, url, prefix);
      if (nested) parseWebPaths(ctx, nested.paths, join(p, 'paths'), listener, nested.prefix);
      // Nothing of its own answers HTTP at the path (no "/" entry, or a WebSocket one): 404s there and below.
      if (nested && !listener.static[url] && !listener.longpoll?.[url]) listener.static[url] = { type: 'notfound' };
    } else if (type === undefined) {
      c.error(join(p, 'type'), `is required (one of ${SUPPORTED_TYPES})`);
    } else {
      c.error(join(p, 'type'), `web service type ${describe(type)} is not supported by Junction (supported: ${SUPPORTED_TYPES})`);
    }
  }
}

/** Dashboard paths: the default realm (the first), and the WebSocket path they name must exist. */
export function resolveDashboards(ctx: LoadContext, realms: RealmConfig[], listeners: ListenerConfig[]): void {
  for (const l of listeners) {
    for (const s of Object.values(l.static)) if (s.type === 'dashboard' && s.realm === '') s.realm = realms[0]?.name ?? '';
  }
  for (const ref of ctx.dashboardRefs) {
    if (!ref.listener.websocket[ref.websocket]) {
      ctx.c.error(ref.path, `this transport serves no WebSocket at ${ref.websocket} (it has: ${Object.keys(ref.listener.websocket).join(', ') || 'none'})`);
    }
  }
}

/** MQTT over WebSocket paths sharing a transport's MQTT service: that transport must have one. */
export function resolveSharedMqtt(ctx: LoadContext, listeners: ListenerConfig[]): void {
  for (const ref of ctx.mqttServiceRefs) {
    const target = listeners.find((l) => l.id === ref.transport);
    const withMqtt = listeners.filter((l) => l.mqtt).map((l) => `'${l.id}'`);
    if (!target?.mqtt) {
      const what = target ? `transport '${ref.transport}' serves no MQTT` : `there is no transport '${ref.transport}'`;
      ctx.c.error(ref.path, `${what}: name an mqtt transport or a universal transport with an mqtt item (${withMqtt.length > 0 ? `here: ${withMqtt.join(', ')}` : 'there is none'})`);
    }
  }
}
