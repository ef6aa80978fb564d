// A web transport's `paths` (also a universal transport's `web.paths`): what each URL path serves,
// static files from a directory, a WebSocket service, MQTT over WebSocket, or Junction's status
// dashboard.

import { statSync } from 'node:fs';
import type { DashboardPathConfig, ListenerConfig, MqttWebSocketPathConfig, RealmConfig, StaticPathConfig } from './types.js';
import { describe, describeFileError, join, type Checker } from './check-values.js';
import type { LoadContext } from './load-context.js';
import { allowedOrigins, parseWampService } from './load-wamp-service.js';
import { parseMqttService } from './load-mqtt.js';
import { DASHBOARD_DIR } from './dashboard-dir.js';

/** Crossbar's rule for keys of `paths` and of a universal transport's `websocket` map. */
const WEB_PATH_KEY = /^([A-Za-z0-9_-]+|\/)$/;

/** A key of `paths` or of the `websocket` map as the URL path it serves: "ws" → "/ws". */
export function normalizeWebPath(key: string): string {
  return key === '/' ? '/' : `/${key}`;
}

/** Whether `key` is a valid key of `paths` or of the `websocket` map (an error otherwise). */
export function webPathKey(c: Checker, key: string, path: string): boolean {
  if (WEB_PATH_KEY.test(key)) return true;
  c.error(path, `${JSON.stringify(key)} is not a valid path: use "/" or one segment of letters, digits, '_' and '-' (e.g. "ws")`);
  return false;
}

/** A web transport's `paths`, added to `listener`. */
export function parseWebPaths(ctx: LoadContext, value: unknown, path: string, listener: ListenerConfig): void {
  const { c } = ctx;
  const paths = c.map(value, path);
  if (paths && Object.keys(paths).length === 0) c.error(path, 'must serve at least one path');
  for (const [key, entry] of Object.entries(paths ?? {})) {
    const p = join(path, key);
    if (!webPathKey(c, key, p)) continue;
    const url = normalizeWebPath(key);
    if (listener.websocket[url] || listener.static[url] || listener.mqttWebsocket?.[url]) {
      c.error(p, `path ${url} is already served by this transport`);
      continue;
    }
    if (!c.isObject(entry)) {
      c.error(p, `must be an object, got ${describe(entry)}`);
      continue;
    }
    const type = entry['type'];
    if (type === 'static') {
      const s = c.object(entry, p, ['id', 'type', 'directory', 'options'], {
        package: "serving a Python package's resources is not supported by Junction; use directory",
        resource: "serving a Python package's resources is not supported by Junction; use directory",
      })!;
      c.string(s['id'], join(p, 'id'), { required: false });
      if (s['options'] !== undefined) staticOptions(c, s['options'], join(p, 'options'));
      const dir = directory(ctx, s['directory'], join(p, 'directory'));
      if (dir !== undefined) listener.static[url] = { type: 'static', directory: dir } satisfies StaticPathConfig;
    } else if (type === 'dashboard') {
      // Junction's own: the built-in status page (README, "Status dashboard").
      const s = c.object(entry, p, ['id', 'type', 'realm', 'websocket', 'setup'])!;
      c.string(s['id'], join(p, 'id'), { required: false });
      const realm = c.string(s['realm'], join(p, 'realm'), { required: false });
      if (realm !== undefined) ctx.realmRefs.push({ realm, path: join(p, 'realm') });
      // "ws" or "/ws", like the keys of the websocket map.
      const ws = c.string(s['websocket'], join(p, 'websocket'), { required: false })?.replace(/^\/(?=.)/, '');
      const dashboard: DashboardPathConfig = { type: 'dashboard', directory: DASHBOARD_DIR, realm: realm ?? '' };
      if (ws !== undefined && webPathKey(c, ws, join(p, 'websocket'))) {
        dashboard.websocket = normalizeWebPath(ws);
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
    } else if (type === 'nodeinfo') {
      // In the config `crossbar init` writes; harmless to leave out.
      c.object(entry, p, ['id', 'type']);
      c.error(join(p, 'type'), `Crossbar's node info page is not served by Junction; remove the path '${url}'`);
    } else if (type === undefined) {
      c.error(join(p, 'type'), 'is required (one of "static", "websocket", "mqtt", "dashboard")');
    } else {
      c.error(join(p, 'type'), `web service type ${describe(type)} is not supported by Junction (supported: "static", "websocket", "mqtt", "dashboard")`);
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

function staticOptions(c: Checker, value: unknown, path: string): void {
  const o = c.object(value, path, ['enable_directory_listing'], {
    mime_types: 'is not supported by Junction (content types come from a built-in table)',
    cache_timeout: 'is not supported by Junction (static files are sent with Cache-Control: no-cache)',
    default_file: 'is not supported by Junction (a directory URL serves its index.html)',
  });
  if (!o) return;
  const p = join(path, 'enable_directory_listing');
  if (c.boolean(o['enable_directory_listing'], p, false)) {
    c.error(p, 'is not supported: Junction does not list directories (a directory URL serves its index.html); remove it or set it to false');
  }
}

function directory(ctx: LoadContext, value: unknown, path: string): string | undefined {
  const { c } = ctx;
  const dir = c.string(value, path);
  if (dir === undefined) return undefined;
  const abs = ctx.file(dir);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch (err) {
    c.error(path, `cannot use ${abs}: ${describeFileError(err)}`);
    return undefined;
  }
  if (!isDir) {
    c.error(path, `${abs} is not a directory`);
    return undefined;
  }
  return abs;
}
