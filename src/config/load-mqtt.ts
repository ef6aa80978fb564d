// The built-in MQTT listener's settings: Crossbar's `mqtt` transport shape ({endpoint, options:
// {realm, role, payload_mapping}, auth}) plus Junction's own options for what Crossbar lacks
// (persistent sessions, QoS 1/2 in flight, a topic prefix).

import { SEND_QUEUE_POLICIES, type AuthConfig, type MqttRpcConfig, type MqttServiceConfig, type PayloadMappingRule, type SendQueuePolicy } from './types.js';
import { MIB, describe, join, type Checker, type Obj } from './check-values.js';
import { isValidPattern, isValidUri } from '../wamp/uri.js';
import { TRUSTED_ROLE } from '../wamp/roles.js';

const DAY_MS = 86_400_000;

export const MQTT_DEFAULTS = {
  maxOfflineMessages: 1000,
  // Sized for a 256 MB board: a client that stops reading costs about 2 MiB (its socket backlog and
  // its QoS 1/2 queue); all persistent sessions waiting for their clients together 32 MiB.
  maxOfflineBytes: MIB,
  maxOfflineBytesTotal: 32 * MIB,
  maxSendQueue: MIB,
  sendQueuePolicy: 'drop-events' as SendQueuePolicy,
  sessionExpiry: DAY_MS,
  maxKeepalive: 0,
  maxInflight: 100,
  maxMessageSize: MIB,
  openHandshakeTimeout: 10_000,
  maxUnauthenticatedBytes: 64 * 1024,
  // Seconds, as mosquitto's option of the same name and its default.
  sysInterval: 10,
} as const;

export interface MqttParseContext {
  /** Realms the service names; the caller checks each exists. */
  realmRefs: Array<{ realm: string; path: string }>;
  /** Roles named; the caller checks each exists. */
  roleRefs: Array<{ role: string; path: string }>;
  auth(value: unknown, path: string): AuthConfig;
  /** Services without `auth` or a fixed `role`: their clients join as 'anonymous' (load.ts warns). */
  openServices: string[];
  /** A path from the config, resolved against the config file's directory. */
  file(path: string): string;
  /** Session files named so far, with the key path naming each. */
  mqttSessionFiles: Map<string, string>;
}

/**
 * `t` holds `options` and `auth`: an `mqtt` transport, a universal transport's `mqtt` item, or an
 * `mqtt` path of a web transport (MQTT over WebSocket): one shape, checked by this one function.
 */
export function parseMqttService(c: Checker, t: Obj, path: string, ctx: MqttParseContext): MqttServiceConfig {
  const op = join(path, 'options');
  const o = c.object(t['options'], op, [
    'realm', 'role', 'payload_mapping', 'topic_prefix', 'max_offline_messages', 'session_expiry', 'max_inflight',
    'max_message_size', 'open_handshake_timeout', 'rpc',
    'max_offline_bytes', 'max_offline_bytes_total', 'max_send_queue', 'send_queue_policy',
    'max_unauthenticated_bytes', 'sys_interval', 'max_keepalive', 'session_file',
  ]) ?? {};
  if (t['options'] === undefined) c.error(op, 'is required: at least { realm: <the realm MQTT clients join> }');
  const realm = c.string(o['realm'], join(op, 'realm'), { required: t['options'] !== undefined }) ?? '';
  if (realm) ctx.realmRefs.push({ realm, path: join(op, 'realm') });
  // Crossbar's `options.role`: the role MQTT clients join with on a transport without an auth block.
  const rolePath = join(op, 'role');
  const role = c.string(o['role'], rolePath, { required: false });
  if (role !== undefined) {
    ctx.roleRefs.push({ role, path: rolePath });
    // With an auth block the roles come from it; a second source would be ambiguous.
    if (t['auth'] !== undefined) c.error(rolePath, 'applies only without an auth block: with one, roles come from it (auth.anonymous.role, each principal\'s role)');
  }
  const prefixPath = join(op, 'topic_prefix');
  const topicPrefix = c.string(o['topic_prefix'], prefixPath, { required: false, nonEmpty: false }) ?? '';
  if (topicPrefix !== '' && (!topicPrefix.endsWith('.') || !isValidPattern(topicPrefix, 'prefix'))) {
    c.error(prefixPath, `must be a URI prefix ending in '.', e.g. "mqtt.", got ${describe(topicPrefix)}`);
  }
  const service: MqttServiceConfig = {
    realm,
    topicPrefix,
    payload: payloadMapping(c, o['payload_mapping'], join(op, 'payload_mapping'), { realmRefs: ctx.realmRefs }),
    maxOfflineMessages: c.integer(o['max_offline_messages'], join(op, 'max_offline_messages'), MQTT_DEFAULTS.maxOfflineMessages, 0, 1_000_000)!,
    sessionExpiry: c.integer(o['session_expiry'], join(op, 'session_expiry'), MQTT_DEFAULTS.sessionExpiry, 0, 365 * DAY_MS)!,
    // MQTT's Keep Alive is a two-byte number of seconds.
    maxKeepalive: c.integer(o['max_keepalive'], join(op, 'max_keepalive'), MQTT_DEFAULTS.maxKeepalive, 0, 65_535)!,
    maxInflight: c.integer(o['max_inflight'], join(op, 'max_inflight'), MQTT_DEFAULTS.maxInflight, 1, 65_535)!,
    maxOfflineBytes: c.integer(o['max_offline_bytes'], join(op, 'max_offline_bytes'), MQTT_DEFAULTS.maxOfflineBytes, 1024, 1024 * MIB)!,
    maxOfflineBytesTotal: c.integer(o['max_offline_bytes_total'], join(op, 'max_offline_bytes_total'), MQTT_DEFAULTS.maxOfflineBytesTotal, 1024, 16 * 1024 * MIB)!,
    maxSendQueue: c.integer(o['max_send_queue'], join(op, 'max_send_queue'), MQTT_DEFAULTS.maxSendQueue, 1024, 1024 * MIB)!,
    sendQueuePolicy: c.oneOf(o['send_queue_policy'], join(op, 'send_queue_policy'), SEND_QUEUE_POLICIES, MQTT_DEFAULTS.sendQueuePolicy)!,
    maxMessageSize: c.integer(o['max_message_size'], join(op, 'max_message_size'), MQTT_DEFAULTS.maxMessageSize, 64, 256 * MIB)!,
    openHandshakeTimeout: c.integer(o['open_handshake_timeout'], join(op, 'open_handshake_timeout'), MQTT_DEFAULTS.openHandshakeTimeout, 0, DAY_MS)!,
    maxUnauthenticatedBytes: c.integer(o['max_unauthenticated_bytes'], join(op, 'max_unauthenticated_bytes'), MQTT_DEFAULTS.maxUnauthenticatedBytes, 1024, 256 * MIB)!,
    sysInterval: c.integer(o['sys_interval'], join(op, 'sys_interval'), MQTT_DEFAULTS.sysInterval, 0, 86_400)!,
  };
  if (service.maxOfflineBytes > service.maxOfflineBytesTotal) {
    c.error(join(op, 'max_offline_bytes_total'), `must be at least max_offline_bytes (${service.maxOfflineBytes}), got ${service.maxOfflineBytesTotal}`);
  }
  if (role !== undefined) service.role = role;
  const sessionFilePath = join(op, 'session_file');
  const sessionFile = c.string(o['session_file'], sessionFilePath, { required: false });
  if (sessionFile !== undefined) {
    service.sessionFile = ctx.file(sessionFile);
    // Each service rewrites its file whole: a second one would overwrite the first's sessions.
    const other = ctx.mqttSessionFiles.get(service.sessionFile);
    if (other !== undefined) c.error(sessionFilePath, `is also ${other}'s file: each MQTT service needs its own`);
    else ctx.mqttSessionFiles.set(service.sessionFile, sessionFilePath);
  }
  if (o['rpc'] !== undefined) service.rpc = rpc(c, o['rpc'], join(op, 'rpc'), ctx);
  if (t['auth'] !== undefined) {
    const ap = join(path, 'auth');
    const auth = ctx.auth(t['auth'], ap);
    for (const method of ['wampcra', 'cryptosign'] as const) {
      if (auth[method]) c.error(join(ap, method), 'does not apply to MQTT: MQTT clients log in with username/password (ticket) or anonymously');
    }
    service.auth = auth;
  }
  if (!service.auth && !service.role) ctx.openServices.push(path);
  return service;
}

/**
 * `payload_mapping`. `codecs`: where a `dynamic` rule may be used (the MQTT listener), and where
 * the realms its procedures are called in are checked; without, `dynamic` is refused (the bridge).
 */
export function payloadMapping(c: Checker, value: unknown, path: string, codecs?: { realmRefs: MqttParseContext['realmRefs'] }): PayloadMappingRule[] {
  if (value === undefined) return [{ prefix: '', type: 'native' }];
  const rules: PayloadMappingRule[] = [];
  for (const [prefix, rule] of Object.entries(c.map(value, path) ?? {})) {
    const rp = join(path, prefix);
    if (prefix !== '' && !isValidPattern(prefix, 'prefix') && !isValidUri(prefix)) c.error(rp, `${JSON.stringify(prefix)} is not a URI prefix`);
    const r = c.object(rule, rp, ['type', 'serializer', 'encoder', 'decoder', 'realm']);
    if (!r) continue;
    const types = codecs ? (['native', 'passthrough', 'dynamic'] as const) : (['native', 'passthrough'] as const);
    const type = c.oneOf(r['type'], join(rp, 'type'), types);
    if (r['serializer'] !== undefined) {
      if (type !== 'native') c.error(join(rp, 'serializer'), 'applies only to type "native"');
      else c.oneOf(r['serializer'], join(rp, 'serializer'), ['json'] as const);
    }
    for (const key of ['encoder', 'decoder', 'realm']) {
      if (r[key] !== undefined && type !== 'dynamic') c.error(join(rp, key), 'applies only to type "dynamic"');
    }
    if (!type) continue;
    const out: PayloadMappingRule = { prefix, type };
    if (type === 'dynamic' && codecs) {
      for (const key of ['encoder', 'decoder'] as const) {
        const uri = c.string(r[key], join(rp, key), { required: false });
        if (uri !== undefined && !isValidUri(uri)) c.error(join(rp, key), `must be a procedure URI, got ${describe(uri)}`);
        else if (uri !== undefined) out[key] = uri;
      }
      if (out.encoder === undefined && out.decoder === undefined) c.error(rp, 'a "dynamic" rule needs an "encoder", a "decoder" or both');
      const realm = c.string(r['realm'], join(rp, 'realm'), { required: false });
      if (realm !== undefined) {
        out.realm = realm;
        codecs.realmRefs.push({ realm, path: join(rp, 'realm') });
      }
    }
    rules.push(out);
  }
  return rules;
}

/** A topic name, as MQTT clients publish to it: any but one with a wildcard or U+0000 (src/mqtt/mapping.ts maps it). */
function plainTopic(c: Checker, value: unknown, path: string): string {
  const topic = c.string(value, path) ?? '';
  if (topic !== '' && /[+#\u0000]/.test(topic)) {
    c.error(path, `must be an MQTT topic name (no wildcards), got ${describe(topic)}`);
  }
  return topic;
}

function rpc(c: Checker, value: unknown, path: string, ctx: MqttParseContext): MqttRpcConfig {
  const o = c.object(value, path, ['role', 'to_mqtt', 'from_mqtt']) ?? {};
  const role = c.string(o['role'], join(path, 'role'), { required: false }) ?? TRUSTED_ROLE;
  if (o['role'] !== undefined) ctx.roleRefs.push({ role, path: join(path, 'role') });
  const out: MqttRpcConfig = { role, toMqtt: [], fromMqtt: [] };
  (c.array(o['to_mqtt'], join(path, 'to_mqtt')) ?? []).forEach((entry, i) => {
    const p = join(join(path, 'to_mqtt'), i);
    const e = c.object(entry, p, ['procedure', 'topic', 'timeout']);
    if (!e) return;
    const procedure = c.string(e['procedure'], join(p, 'procedure')) ?? '';
    if (procedure !== '' && !isValidUri(procedure)) c.error(join(p, 'procedure'), `must be a procedure URI, got ${describe(procedure)}`);
    out.toMqtt.push({ procedure, topic: plainTopic(c, e['topic'], join(p, 'topic')), timeout: c.integer(e['timeout'], join(p, 'timeout'), 10_000, 1, DAY_MS)! });
  });
  (c.array(o['from_mqtt'], join(path, 'from_mqtt')) ?? []).forEach((entry, i) => {
    const p = join(join(path, 'from_mqtt'), i);
    const e = c.object(entry, p, ['topic', 'procedure']);
    if (!e) return;
    const prefix = c.string(e['procedure'], join(p, 'procedure'), { required: false }) ?? '';
    if (prefix !== '' && (!prefix.endsWith('.') || !isValidPattern(prefix, 'prefix'))) c.error(join(p, 'procedure'), `must be a procedure URI prefix ending in '.', or "", got ${describe(prefix)}`);
    out.fromMqtt.push({ topic: plainTopic(c, e['topic'], join(p, 'topic')), procedure: prefix });
  });
  if (out.toMqtt.length === 0 && out.fromMqtt.length === 0) c.error(path, 'needs at least one entry in to_mqtt or from_mqtt');
  return out;
}
