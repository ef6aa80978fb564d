// SIGHUP: a reloaded config applied to a running node, section by section. Each difference (found
// by configDiff, named by its key path) is either applied at once or reported as needing a
// restart; a part that needs a restart keeps running as it is, so the node never runs half of one
// change, and the next reload reports it again.
//
// Applied live:
// - realms: `roles` (cached decisions go; sessions whose role is gone are ended),
//   `options.uri_check`, `options.max_pending_calls` and `store.call-queue` (from the next message
//   or queued call on);
// - transports: the `auth` of every WebSocket/RawSocket/long-poll service and of MQTT (on TCP and
//   on WebSocket paths), and MQTT's max_offline_messages, max_inflight, session_expiry, max_keepalive, max_message_size (read for each new
//   connection or session; the connected ones keep theirs); TLS key, certificate and CA (for new
//   connections; adding or removing TLS or a CA needs a restart);
// - serial bridges: ports added, removed or changed are let go/watched without touching the
//   bridge's other boards; any other change restarts that bridge only; bridges added or removed;
// - MQTT bridges: a changed bridge reconnects with its new config, keeping its waiting messages;
// - telemetry and schedules: the component restarts with its new config.
// Needs a restart: realms added or removed, a realm's event history (and a store added or removed
// as a whole) and its meta API switch; transports added or removed, and anything else of a
// transport (endpoint, serializers, options, web paths, MQTT realm, topic prefix, payload mapping,
// rpc); any section this file does not know.

import type { JunctionConfig, ListenerConfig } from './config/types.js';
import { configDiff, describeDifference, fileKey, isUnder, quoted, type ConfigDifference } from './config/diff.js';
import type { JunctionNode } from './node.js';
import type { SerialBridge } from './bridges/serial/bridge.js';
import { BoardComponents } from './board/components.js';

export interface ReloadReport {
  /** One line per difference applied, e.g. "transport 'mqtt': auth.ticket.principals['sensor2'] added". */
  applied: string[];
  /** One line per difference left as it runs, e.g. "transport 'ws': endpoint.port changed". */
  needsRestart: string[];
  /** Parts that were to be applied but could not start (with the reason). */
  failed: string[];
}

/** MQTT listener options read for each new connection or session. */
const MQTT_LIVE_KEYS = ['auth', 'maxOfflineMessages', 'maxInflight', 'sessionExpiry', 'maxKeepalive', 'maxMessageSize'] as const;
/** Sections handled below; `source` and `warnings` describe the file, not the node. */
const KNOWN_SECTIONS = new Set(['source', 'warnings', 'router', 'serial', 'bridges', 'telemetry', 'schedules']);

/** A part of a section that can change live: the differences under `path` are applied by `apply`. */
interface LivePart {
  path: string;
  apply: () => void;
}

export async function applyReload(node: JunctionNode, next: JunctionConfig): Promise<ReloadReport> {
  const report: ReloadReport = { applied: [], needsRestart: [], failed: [] };
  reloadRealms(node, next, report);
  reloadTransports(node, next, report);
  await reloadSerial(node, next, report);
  await reloadMqttBridges(node, next, report);
  await reloadBoard(node, next, report);
  reportUnknown(node.config, next, KNOWN_SECTIONS, '', report);
  reportUnknown(node.config.router, next.router, new Set(['realms', 'listeners']), 'router.', report);
  return report;
}

/** Sections this file does not apply: any difference there needs a restart. */
function reportUnknown(running: object, wanted: object, known: Set<string>, prefix: string, report: ReloadReport): void {
  const before = running as Record<string, unknown>;
  const after = wanted as Record<string, unknown>;
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (known.has(key)) continue;
    for (const d of configDiff(before[key], after[key], `${prefix}${fileKey(key)}`)) report.needsRestart.push(describeDifference(d));
  }
}

function reloadRealms(node: JunctionNode, next: JunctionConfig, report: ReloadReport): void {
  const running = node.config.router.realms;
  for (const name of unionOf(running, next.router.realms, (r) => r.name)) {
    const before = running.find((r) => r.name === name);
    const after = next.router.realms.find((r) => r.name === name);
    const realm = node.router.realm(name);
    const unit = `realm '${name}'`;
    if (!before || !after || !realm) {
      report.needsRestart.push(`${unit}: ${before ? 'removed' : 'added'}`);
      continue;
    }
    const options = (key: 'uriCheck' | 'maxPendingCalls'): LivePart => ({
      path: `options.${fileKey(key)}`,
      apply: () => {
        adopt(before, after, key);
        realm.applyOptions(before);
      },
    });
    const callQueue: LivePart = {
      path: 'store.call-queue',
      apply: () => {
        if (before.store && after.store) before.store.callQueue = after.store.callQueue;
        realm.dealer.setQueueRules(after.store?.callQueue ?? []);
      },
    };
    const roles: LivePart = {
      path: 'roles',
      apply: () => {
        before.roles = after.roles;
        before.payloadTypes = after.payloadTypes;
        const ended = realm.replaceRoles(after.roles, after.payloadTypes);
        if (ended > 0) report.applied.push(`${unit}: ${ended} session(s) ended: their role was removed`);
      },
    };
    // A store added or removed as a whole changes its event history too: that part needs a restart.
    const parts = before.store && after.store ? [roles, callQueue] : [roles];
    const diffs = configDiff(before, after).map((d) => ({ ...d, path: realmPathInFile(d.path) }));
    applyLive(unit, diffs, report, [options('uriCheck'), options('maxPendingCalls'), ...parts]);
  }
}

/** A realm's key path as the file spells it: its settings are under `options`, the store's lists are hyphenated. */
function realmPathInFile(path: string): string {
  if (['uri_check', 'max_pending_calls', 'enable_meta_api'].some((key) => isUnder(path, key))) return `options.${path}`;
  return path.replace(/^store\.call_queue/, 'store.call-queue').replace(/^store\.event_history/, 'store.event-history');
}

function reloadTransports(node: JunctionNode, next: JunctionConfig, report: ReloadReport): void {
  const running = node.config.router.listeners;
  for (const id of unionOf(running, next.router.listeners, (l) => l.id)) {
    const before = running.find((l) => l.id === id);
    const after = next.router.listeners.find((l) => l.id === id);
    const unit = `transport '${id}'`;
    if (!before || !after) {
      report.needsRestart.push(`${unit}: ${before ? 'removed' : 'added'}`);
      continue;
    }
    // The services read these from their config object for each new connection: replacing them
    // there is all it takes.
    const live: LivePart[] = [];
    const { rawsocket, mqtt } = before;
    const at = (path: string) => asInFile(before, path);
    if (rawsocket && after.rawsocket) live.push({ path: at('rawsocket.auth'), apply: () => adopt(rawsocket, after.rawsocket!, 'auth') });
    for (const [path, service] of Object.entries(before.websocket)) {
      const now = after.websocket[path];
      if (now) live.push({ path: at(`websocket${quoted(path)}.auth`), apply: () => adopt(service, now, 'auth') });
    }
    for (const [path, service] of Object.entries(before.longpoll ?? {})) {
      const now = after.longpoll?.[path];
      if (now) live.push({ path: `longpoll${quoted(path)}.auth`, apply: () => adopt(service, now, 'auth') });
    }
    if (mqtt && after.mqtt) {
      for (const key of MQTT_LIVE_KEYS) live.push({ path: at(`mqtt.${fileKey(key)}`), apply: () => adopt(mqtt, after.mqtt!, key) });
    }
    // MQTT over WebSocket paths with a service of their own: the same keys as an MQTT transport's;
    // a path added or removed, or sharing another service, needs a restart.
    for (const [path, { service }] of Object.entries(before.mqttWebsocket ?? {})) {
      const now = after.mqttWebsocket?.[path]?.service;
      if (!service || !now) continue;
      for (const key of MQTT_LIVE_KEYS) live.push({ path: `${fileKey('mqttWebsocket')}${quoted(path)}.service.${fileKey(key)}`, apply: () => adopt(service, now, key) });
    }
    const tls = after.endpoint.tls;
    const listener = node.listeners.find((l) => l.config === before);
    if (listener && before.endpoint.tls && tls && (before.endpoint.tls.ca === undefined) === (tls.ca === undefined)) {
      live.push({ path: 'endpoint.tls', apply: () => {
        listener.replaceTls(tls);
        before.endpoint.tls = tls;
      } });
    }
    applyLive(unit, configDiff(before, after).map((d) => ({ ...d, path: asInFile(before, d.path) })), report, live);
  }
}

/**
 * A transport's key path as the file spells it, for the transport types whose file layout is flat:
 * a `websocket` or `rawsocket` transport's service keys are its own (`auth`, `serializers`,
 * `options.*`), an `mqtt` transport's are `auth` and `options.*`. Web and universal transports keep
 * the model's path (`websocket['/ws'].auth`), which names their path or item all the same.
 */
function asInFile(listener: ListenerConfig, path: string): string {
  const service = listener.kind === 'websocket' ? `websocket${quoted('/')}` : listener.kind === 'rawsocket' ? 'rawsocket' : listener.kind === 'mqtt' ? 'mqtt' : undefined;
  if (service === undefined || !isUnder(path, service)) return path;
  const inner = path.slice(service.length).replace(/^\./, '');
  if (listener.kind !== 'mqtt' || inner === '' || isUnder(inner, 'auth')) return inner;
  return `options.${inner}`;
}

async function reloadSerial(node: JunctionNode, next: JunctionConfig, report: ReloadReport): Promise<void> {
  const wanted = next.serial ?? [];
  const running: SerialBridge[] = [];
  let changed = false;
  for (const id of unionOf(node.serialBridges.map((b) => b.config), wanted, (s) => s.id)) {
    const bridge = node.serialBridges.find((b) => b.config.id === id);
    const after = wanted.find((s) => s.id === id);
    const diffs = configDiff(bridge?.config, after);
    if (bridge && diffs.length === 0) {
      running.push(bridge);
      continue;
    }
    changed = true;
    for (const d of diffs) report.applied.push(`serial '${id}': ${describeDifference(d)}`);
    if (bridge && after && diffs.every((d) => isUnder(d.path, 'ports'))) {
      await bridge.setPorts(after.ports);
      running.push(bridge);
      continue;
    }
    // Anything else of a bridge (realm, role, prefix, timeouts) is used by every port: that
    // bridge restarts, the others are not touched.
    await bridge?.stop();
    if (!after) continue;
    const { SerialBridge } = await import('./bridges/serial/bridge.js');
    const started = new SerialBridge(after, node.router);
    try {
      await started.start();
      running.push(started);
    } catch (err) {
      await started.stop();
      report.failed.push(`serial '${id}': not started: ${(err as Error).message}`);
    }
  }
  if (!changed) return;
  node.serialBridges = running;
  node.config.serial = running.length > 0 ? running.map((b) => b.config) : undefined;
}

async function reloadMqttBridges(node: JunctionNode, next: JunctionConfig, report: ReloadReport): Promise<void> {
  const running = node.config.bridges?.mqtt ?? [];
  const wanted = next.bridges?.mqtt ?? [];
  let changed = false;
  for (const id of unionOf(running, wanted, (b) => b.id)) {
    for (const d of configDiff(running.find((b) => b.id === id), wanted.find((b) => b.id === id))) {
      report.applied.push(`mqtt bridge '${id}': ${describeDifference(d)}`);
      changed = true;
    }
  }
  if (!changed) return;
  if (!node.mqttBridges) {
    const { MqttBridges } = await import('./mqtt/bridge/bridges.js');
    node.mqttBridges = new MqttBridges([], node.router);
  }
  report.failed.push(...await node.mqttBridges.reload(wanted));
  node.config.bridges = next.bridges;
}

async function reloadBoard(node: JunctionNode, next: JunctionConfig, report: ReloadReport): Promise<void> {
  const diffs = [
    ...configDiff(node.config.telemetry, next.telemetry, 'telemetry'),
    ...configDiff(node.config.schedules ?? [], next.schedules ?? [], 'schedules'),
  ];
  if (diffs.length === 0) return;
  for (const d of diffs) report.applied.push(describeDifference(d));
  node.board ??= new BoardComponents(node.router);
  await node.board.reload(node.config, next);
  node.config.telemetry = next.telemetry;
  node.config.schedules = next.schedules;
}

/** Reports every difference, one line each; those under a live part are applied, the rest need a restart. */
function applyLive(unit: string, diffs: ConfigDifference[], report: ReloadReport, parts: LivePart[]): void {
  const due = new Map<LivePart, string[]>();
  for (const d of diffs) {
    const line = `${unit}: ${describeDifference(d)}`;
    const part = parts.find((p) => isUnder(d.path, p.path));
    if (!part) report.needsRestart.push(line);
    else due.set(part, [...due.get(part) ?? [], line]);
  }
  for (const [part, lines] of due) {
    try {
      const at = report.applied.length;
      part.apply();
      report.applied.splice(at, 0, ...lines); // before what applying it reported (e.g. sessions ended)
    } catch (err) {
      report.failed.push(...lines.map((line) => `${line}: ${(err as Error).message}`));
    }
  }
}

/** Sets `key` of the running config object to the reloaded value (or removes it). */
function adopt<T extends object, K extends keyof T>(running: T, reloaded: T, key: K): void {
  if (reloaded[key] === undefined) delete running[key];
  else running[key] = reloaded[key];
}

function unionOf<T>(a: T[], b: T[], name: (item: T) => string): string[] {
  return [...new Set([...a.map(name), ...b.map(name)])];
}
