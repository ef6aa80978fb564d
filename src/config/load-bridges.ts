// Junction's `bridges` section (a top-level key beside Crossbar's `version`, `workers`,
// `controller`): bridges to external MQTT brokers. Every error names its JSON path; the broker
// password is a secret like a ticket ("${ENV}" or { file: path }, never echoed); TLS files are read
// and checked here (load-tls.ts).

import { hostname } from 'node:os';
import type { BridgeConfig, MqttBridgeConfig, MqttBridgeTlsConfig, RealmConfig } from './types.js';
import { MATCHES, describe, join, type Checker } from './check-values.js';
import { parseSecret } from './load-auth.js';
import { brokerUrls } from './load-broker-urls.js';
import { payloadMapping } from './load-mqtt.js';
import { pemFile } from './load-tls.js';
import { isValidPattern, isValidUri } from '../wamp/uri.js';
import { TRUSTED_ROLE } from '../wamp/roles.js';

const ID = /^[A-Za-z0-9_-]+$/;
const QOS = [0, 1, 2] as const;

export const MQTT_BRIDGE_DEFAULTS = {
  protocolVersion: 5,
  keepalive: 30,
  initialDelay: 1000,
  maxDelay: 30_000,
  connectTimeout: 10_000,
  maxBuffered: 10_000,
  maxInflight: 20,
  subscribeQos: 2,
  publishQos: 0,
} as const;

export interface BridgeParseContext {
  realms: RealmConfig[];
  /** Resolves a path from the file against the config file's directory. */
  file(path: string): string;
}

export function parseBridges(c: Checker, value: unknown, path: string, ctx: BridgeParseContext): BridgeConfig {
  const out: BridgeConfig = { mqtt: [] };
  const b = c.object(value, path, ['mqtt']);
  if (!b) return out;
  const listPath = join(path, 'mqtt');
  const seen = new Map<string, string>();
  const clientIds = new Map<string, string>();
  (c.array(b['mqtt'], listPath) ?? []).forEach((entry, i) => {
    const p = join(listPath, i);
    const bridge = parseMqttBridge(c, entry, p, ctx);
    if (!bridge) return;
    const first = seen.get(bridge.id);
    if (first !== undefined) c.error(join(p, 'id'), `bridge id '${bridge.id}' is already used by ${first}`);
    else seen.set(bridge.id, p);
    const key = `${bridge.urls.join(' ')}\n${bridge.clientId}`;
    const other = clientIds.get(key);
    // Two connections with one client id to one broker would take each other's session.
    if (other !== undefined) c.error(join(p, 'client_id'), `client id '${bridge.clientId}' is already used for the same broker by ${other}`);
    else clientIds.set(key, p);
    out.mqtt.push(bridge);
  });
  return out;
}

function parseMqttBridge(c: Checker, value: unknown, p: string, ctx: BridgeParseContext): MqttBridgeConfig | undefined {
  const o = c.object(value, p, [
    'id', 'realm', 'role', 'authid', 'url', 'client_id', 'username', 'password', 'protocol_version', 'keepalive',
    'tls', 'reconnect', 'connect_timeout', 'topic_prefix', 'payload_mapping', 'to_wamp', 'to_mqtt',
    'max_buffered', 'buffer_file', 'max_inflight',
  ]);
  if (!o) return undefined;
  const id = c.string(o['id'], join(p, 'id')) ?? '';
  if (id && !ID.test(id)) c.error(join(p, 'id'), `must be letters, digits, '-' and '_', got ${describe(id)}`);

  const realm = c.string(o['realm'], join(p, 'realm')) ?? '';
  const realmConfig = ctx.realms.find((r) => r.name === realm);
  if (realm && !realmConfig) c.error(join(p, 'realm'), `realm '${realm}' is not defined (realms: ${ctx.realms.map((r) => r.name).join(', ') || 'none'})`);
  const role = c.string(o['role'], join(p, 'role'), { required: false }) ?? TRUSTED_ROLE;
  if (realmConfig && role !== TRUSTED_ROLE && !realmConfig.roles.some((r) => r.name === role)) {
    c.error(join(p, 'role'), `role '${role}' is not defined in realm '${realm}'`);
  }
  const authid = c.string(o['authid'], join(p, 'authid'), { required: false }) ?? `mqtt-bridge-${id}`;

  const { urls, secure } = brokerUrls(c, o['url'], join(p, 'url'));

  const bridge: MqttBridgeConfig = {
    id, realm, role, authid, urls,
    clientId: c.string(o['client_id'], join(p, 'client_id'), { required: false }) ?? `junction-${hostname()}-${id}`.slice(0, 64),
    protocolVersion: c.oneOf(o['protocol_version'], join(p, 'protocol_version'), [4, 5] as const, MQTT_BRIDGE_DEFAULTS.protocolVersion)!,
    keepalive: c.integer(o['keepalive'], join(p, 'keepalive'), MQTT_BRIDGE_DEFAULTS.keepalive, 0, 65_535)!,
    reconnect: reconnect(c, o['reconnect'], join(p, 'reconnect')),
    connectTimeout: c.integer(o['connect_timeout'], join(p, 'connect_timeout'), MQTT_BRIDGE_DEFAULTS.connectTimeout, 1000, 600_000)!,
    topicPrefix: '',
    payload: payloadMapping(c, o['payload_mapping'], join(p, 'payload_mapping')),
    toWamp: [],
    toMqtt: [],
    maxBuffered: c.integer(o['max_buffered'], join(p, 'max_buffered'), MQTT_BRIDGE_DEFAULTS.maxBuffered, 0, 10_000_000)!,
    maxInflight: c.integer(o['max_inflight'], join(p, 'max_inflight'), MQTT_BRIDGE_DEFAULTS.maxInflight, 1, 65_535)!,
  };

  const username = c.string(o['username'], join(p, 'username'), { required: false });
  if (username !== undefined) bridge.username = username;
  if (o['password'] !== undefined) {
    const password = parseSecret(c, o['password'], join(p, 'password'), ctx.file);
    if (password !== undefined) bridge.password = password;
    if (username === undefined && bridge.protocolVersion === 4) c.error(join(p, 'password'), 'needs a username with MQTT 3.1.1 (protocol_version 4)');
  }

  if (o['tls'] !== undefined) {
    if (!secure) c.error(join(p, 'tls'), 'applies only to mqtts:// urls');
    const tls = tlsOptions(c, o['tls'], join(p, 'tls'), ctx);
    if (tls) bridge.tls = tls;
  }

  const prefixPath = join(p, 'topic_prefix');
  bridge.topicPrefix = c.string(o['topic_prefix'], prefixPath, { required: false, nonEmpty: false }) ?? '';
  if (bridge.topicPrefix !== '' && (!bridge.topicPrefix.endsWith('.') || !isValidPattern(bridge.topicPrefix, 'prefix'))) {
    c.error(prefixPath, `must be a URI prefix ending in '.', e.g. "mqtt.", got ${describe(bridge.topicPrefix)}`);
  }

  const toWampPath = join(p, 'to_wamp');
  (c.array(o['to_wamp'], toWampPath) ?? []).forEach((rule, i) => {
    const rp = join(toWampPath, i);
    let filter: string | undefined;
    let qos: 0 | 1 | 2 = MQTT_BRIDGE_DEFAULTS.subscribeQos;
    if (typeof rule === 'string') {
      filter = rule;
    } else {
      const r = c.object(rule, rp, ['filter', 'qos']);
      if (!r) return;
      filter = c.string(r['filter'], join(rp, 'filter'));
      qos = c.oneOf(r['qos'], join(rp, 'qos'), QOS, MQTT_BRIDGE_DEFAULTS.subscribeQos)!;
    }
    if (filter === undefined) return;
    const problem = filterProblem(filter);
    if (problem) {
      c.error(typeof rule === 'string' ? rp : join(rp, 'filter'), `${describe(filter)} is not an MQTT topic filter: ${problem}`);
      return;
    }
    bridge.toWamp.push({ filter, qos });
  });

  const toMqttPath = join(p, 'to_mqtt');
  (c.array(o['to_mqtt'], toMqttPath) ?? []).forEach((rule, i) => {
    const rp = join(toMqttPath, i);
    const r = typeof rule === 'string' ? { uri: rule } : c.object(rule, rp, ['uri', 'match', 'qos', 'retain']);
    if (!r) return;
    const uriPath = typeof rule === 'string' ? rp : join(rp, 'uri');
    const uri = c.string(r['uri'], uriPath, { nonEmpty: false });
    const match = c.oneOf(r['match'], join(rp, 'match'), MATCHES, 'exact')!;
    const qos = c.oneOf(r['qos'], join(rp, 'qos'), QOS, MQTT_BRIDGE_DEFAULTS.publishQos)!;
    const retain = c.boolean(r['retain'], join(rp, 'retain'), false);
    if (uri === undefined) return;
    const valid = match === 'exact' ? isValidUri(uri) : uri === '' ? match === 'prefix' : isValidPattern(uri, match);
    if (!valid) {
      c.error(uriPath, `${describe(uri)} is not a valid URI for match "${match}"`);
      return;
    }
    // Only URIs under the topic prefix have an MQTT topic.
    const prefix = bridge.topicPrefix;
    if (!uri.startsWith(prefix) && !(match === 'prefix' && prefix.startsWith(uri))) {
      c.error(uriPath, `${describe(uri)} is outside topic_prefix ${describe(prefix)}: its events would have no MQTT topic`);
      return;
    }
    bridge.toMqtt.push({ uri, match, qos, retain });
  });
  if (o['to_wamp'] === undefined && o['to_mqtt'] === undefined) {
    c.error(p, 'bridges nothing: give to_wamp (MQTT filters) and/or to_mqtt (WAMP subscriptions)');
  }

  if (o['buffer_file'] !== undefined) {
    const f = c.string(o['buffer_file'], join(p, 'buffer_file'));
    if (f !== undefined) bridge.bufferFile = ctx.file(f);
  }
  return bridge;
}

function reconnect(c: Checker, value: unknown, path: string): MqttBridgeConfig['reconnect'] {
  const out = { initialDelay: MQTT_BRIDGE_DEFAULTS.initialDelay as number, maxDelay: MQTT_BRIDGE_DEFAULTS.maxDelay as number };
  if (value === undefined) return out;
  const r = c.object(value, path, ['initial_delay', 'max_delay']);
  if (!r) return out;
  out.initialDelay = c.integer(r['initial_delay'], join(path, 'initial_delay'), out.initialDelay, 10, 3_600_000)!;
  out.maxDelay = c.integer(r['max_delay'], join(path, 'max_delay'), Math.max(out.maxDelay, out.initialDelay), 10, 3_600_000)!;
  if (out.maxDelay < out.initialDelay) c.error(join(path, 'max_delay'), `must not be less than initial_delay (${out.initialDelay})`);
  return out;
}

function tlsOptions(c: Checker, value: unknown, path: string, ctx: BridgeParseContext): MqttBridgeTlsConfig | undefined {
  const t = c.object(value, path, ['ca', 'certificate', 'key', 'reject_unauthorized', 'servername']);
  if (!t) return undefined;
  const tls: MqttBridgeTlsConfig = { rejectUnauthorized: c.boolean(t['reject_unauthorized'], join(path, 'reject_unauthorized'), true) };
  for (const key of ['ca', 'certificate', 'key'] as const) {
    if (t[key] === undefined) continue;
    const pem = pemFile(c, t[key], join(path, key), ctx);
    if (pem !== undefined) tls[key] = pem;
  }
  if ((t['certificate'] === undefined) !== (t['key'] === undefined)) {
    c.error(join(path, t['certificate'] === undefined ? 'certificate' : 'key'), 'is required with ' + (t['certificate'] === undefined ? 'key' : 'certificate') + ' (a client certificate needs both)');
  }
  const servername = c.string(t['servername'], join(path, 'servername'), { required: false });
  if (servername !== undefined) tls.servername = servername;
  return tls;
}

/** Why `filter` is not a valid MQTT subscription filter, or undefined when it is. */
export function filterProblem(filter: string): string | undefined {
  if (filter === '') return 'it is empty';
  if (Buffer.byteLength(filter) > 65_535) return 'it is longer than 65535 bytes';
  if (filter.includes('\u0000')) return 'it contains a NUL character';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return "'#' must be a whole level and the last one";
    if (level.includes('+') && level !== '+') return "'+' must be a whole level";
  }
  if (filter.startsWith('$share/')) return 'shared subscriptions are not supported by the bridge';
  return undefined;
}
