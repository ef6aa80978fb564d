// A realm's `rlinks`: router-to-router links in Crossbar's shape. Each entry is an outgoing WAMP
// client connection to a remote router's realm; what flows over it is set by the four `forward_*`
// flags (Crossbar: all default true). Credentials for the remote side are Junction's keys (Crossbar's
// rlink logs in with its node key): a `ticket` or a cryptosign `private_key`, both secrets as
// elsewhere ("${ENV}", { file }). Nothing here opens a connection.

import { NOT_YET, describe, join, type Checker, type Obj } from './check-values.js';
import { parseSecret } from './load-auth.js';
import { isValidUri } from '../wamp/uri.js';
import type { FileResolver } from './load-tls.js';
import { DEFAULT_RLINK_BUFFER, DEFAULT_RLINK_TRANSPORT_OPTIONS, type RLinkBufferConfig, type RLinkConfig, type RLinkSerializer, type RLinkTransportConfig, type RLinkTransportOptions } from './types.js';

const SERIALIZERS: readonly RLinkSerializer[] = ['json', 'msgpack', 'cbor', 'ubjson'];

const KEYS = [
  'id', 'realm', 'transport', 'authid', 'authrole', 'ticket', 'private_key',
  'forward_local_events', 'forward_remote_events', 'forward_local_invocations', 'forward_remote_invocations',
  'exclude_authid', 'exclude_authrole', 'exclude_uri', 'buffer',
];
const POLICIES = ['latest', 'all', 'none'] as const;
/** Most events (or topics) one buffer rule may keep. */
const MAX_LIMIT = 1_000_000;
/** Longest ping interval, timeout or reconnect delay (ms): a day. */
const MAX_MS = 86_400_000;

export function parseRLinks(c: Checker, value: unknown, path: string, files: FileResolver): RLinkConfig[] {
  const links: RLinkConfig[] = [];
  const seen = new Map<string, string>();
  (c.array(value, path) ?? []).forEach((entry, i) => {
    const p = join(path, i);
    const link = parseRLink(c, entry, p, files, i);
    if (!link) return;
    const first = seen.get(link.id);
    if (first !== undefined) c.error(join(p, 'id'), `router link '${link.id}' is already defined at ${first}`);
    else seen.set(link.id, p);
    links.push(link);
  });
  return links;
}

function parseRLink(c: Checker, value: unknown, path: string, files: FileResolver, index: number): RLinkConfig | undefined {
  const o = c.object(value, path, KEYS);
  if (!o) return undefined;
  const id = c.string(o['id'], join(path, 'id'), { required: false, nonEmpty: true }) ?? `rlink${index + 1}`;
  const realm = c.string(o['realm'], join(path, 'realm'), { required: true }) ?? '';
  if (realm && !isValidUri(realm)) c.error(join(path, 'realm'), `${JSON.stringify(realm)} is not a valid realm name`);
  const link: RLinkConfig = {
    id, realm,
    transport: parseTransport(c, o['transport'], join(path, 'transport')),
    forwardLocalEvents: c.boolean(o['forward_local_events'], join(path, 'forward_local_events'), true),
    forwardRemoteEvents: c.boolean(o['forward_remote_events'], join(path, 'forward_remote_events'), true),
    forwardLocalInvocations: c.boolean(o['forward_local_invocations'], join(path, 'forward_local_invocations'), true),
    forwardRemoteInvocations: c.boolean(o['forward_remote_invocations'], join(path, 'forward_remote_invocations'), true),
    excludeAuthid: strings(c, o, path, 'exclude_authid'),
    excludeAuthrole: strings(c, o, path, 'exclude_authrole'),
    excludeUri: strings(c, o, path, 'exclude_uri'),
  };
  if (o['buffer'] !== undefined) link.buffer = parseBuffer(c, o['buffer'], join(path, 'buffer'), files);
  const authid = c.string(o['authid'], join(path, 'authid'), { required: false });
  if (authid !== undefined) link.authid = authid;
  const authrole = c.string(o['authrole'], join(path, 'authrole'), { required: false });
  if (authrole !== undefined) link.authrole = authrole;
  if (o['ticket'] !== undefined) {
    const ticket = parseSecret(c, o['ticket'], join(path, 'ticket'), (f) => files.file(f));
    if (ticket !== undefined) link.ticket = ticket;
  }
  if (o['private_key'] !== undefined) {
    const key = parseSecret(c, o['private_key'], join(path, 'private_key'), (f) => files.file(f));
    if (key !== undefined && !/^[0-9a-fA-F]{64}$/.test(key)) c.error(join(path, 'private_key'), 'must be 64 hex digits (an Ed25519 seed; value not shown)');
    else if (key !== undefined) c.error(join(path, 'private_key'), `cryptosign log-in ${NOT_YET} for router links: use a ticket`);
  }
  return link;
}

/** `buffer`: what is kept for the remote side while the link is down (src/rlink/event-buffer.ts). */
function parseBuffer(c: Checker, value: unknown, path: string, files: FileResolver): RLinkBufferConfig {
  const d = DEFAULT_RLINK_BUFFER;
  const o = c.object(value, path, ['policy', 'limit', 'file', 'rules']);
  if (!o) return { ...d, rules: [] };
  const out: RLinkBufferConfig = {
    policy: c.oneOf(o['policy'], join(path, 'policy'), POLICIES, d.policy) ?? d.policy,
    limit: c.integer(o['limit'], join(path, 'limit'), d.limit, 1, MAX_LIMIT) ?? d.limit,
    rules: [],
  };
  const file = c.string(o['file'], join(path, 'file'), { required: false, nonEmpty: true });
  if (file !== undefined) out.file = files.file(file);
  const rp = join(path, 'rules');
  const prefixes = new Map<string, string>();
  (c.array(o['rules'], rp) ?? []).forEach((entry, i) => {
    const p = join(rp, i);
    const r = c.object(entry, p, ['prefix', 'policy', 'limit']);
    if (!r) return;
    const prefix = c.string(r['prefix'], join(p, 'prefix'), { required: true }) ?? '';
    const first = prefixes.get(prefix);
    if (first !== undefined) c.error(join(p, 'prefix'), `${JSON.stringify(prefix)} already has a rule at ${first}`);
    else prefixes.set(prefix, p);
    out.rules.push({
      prefix,
      policy: c.oneOf(r['policy'], join(p, 'policy'), POLICIES, out.policy) ?? out.policy,
      limit: c.integer(r['limit'], join(p, 'limit'), out.limit, 1, MAX_LIMIT) ?? out.limit,
    });
  });
  return out;
}

/** `transport.options`: Crossbar's WebSocket auto-ping keys and the reconnect backoff, all ms. */
function parseTransportOptions(c: Checker, value: unknown, path: string): RLinkTransportOptions {
  const d = DEFAULT_RLINK_TRANSPORT_OPTIONS;
  const o = c.object(value, path, ['auto_ping_interval', 'auto_ping_timeout', 'retry_initial', 'retry_max']);
  if (!o) return { ...d };
  const ms = (key: string, fallback: number, min: number) => c.integer(o[key], join(path, key), fallback, min, MAX_MS) ?? fallback;
  const out: RLinkTransportOptions = {
    autoPingInterval: ms('auto_ping_interval', d.autoPingInterval, 0),
    autoPingTimeout: ms('auto_ping_timeout', d.autoPingTimeout, 0),
    retryInitial: ms('retry_initial', d.retryInitial, 1),
    retryMax: ms('retry_max', d.retryMax, 1),
  };
  if (out.retryMax < out.retryInitial) c.error(join(path, 'retry_max'), `must be at least retry_initial (${out.retryInitial})`);
  return out;
}

function strings(c: Checker, o: Obj, path: string, key: string): string[] {
  const p = join(path, key);
  const out: string[] = [];
  (c.array(o[key], p) ?? []).forEach((v, i) => {
    const s = c.string(v, join(p, i), { required: true, nonEmpty: true });
    if (s !== undefined) out.push(s);
  });
  return out;
}

function parseTransport(c: Checker, value: unknown, path: string): RLinkTransportConfig {
  const t: RLinkTransportConfig = { type: 'websocket', host: '', port: 0, tls: false, serializers: ['json'] };
  if (value === undefined) {
    c.error(path, 'is required: { "type": "websocket", "url": "ws://hub:8080/ws" } or { "type": "rawsocket", "endpoint": {...} }');
    return t;
  }
  const o = c.object(value, path, ['type', 'url', 'endpoint', 'serializers', 'options']);
  if (!o) return t;
  if (o['options'] !== undefined) t.options = parseTransportOptions(c, o['options'], join(path, 'options'));
  t.type = c.oneOf(o['type'], join(path, 'type'), ['websocket', 'rawsocket'] as const) ?? 'websocket';
  if (t.type === 'rawsocket') c.error(join(path, 'type'), `"rawsocket" ${NOT_YET} for router links: use "websocket"`);
  const url = c.string(o['url'], join(path, 'url'), { required: false });
  if (url !== undefined) {
    let parsed: URL | undefined;
    try { parsed = new URL(url); } catch { /* reported below */ }
    if (!parsed || !['ws:', 'wss:'].includes(parsed.protocol)) {
      c.error(join(path, 'url'), `must be a ws:// or wss:// URL, got ${describe(url)}`);
    } else {
      t.url = url;
      t.host = parsed.hostname.replace(/^\[|\]$/g, '');
      t.port = parsed.port ? Number(parsed.port) : parsed.protocol === 'wss:' ? 443 : 80;
      t.tls = parsed.protocol === 'wss:';
    }
    if (t.type === 'rawsocket') c.error(join(path, 'url'), 'applies to websocket only; a rawsocket link needs an endpoint');
  }
  if (o['endpoint'] !== undefined) {
    const ep = join(path, 'endpoint');
    const e = c.object(o['endpoint'], ep, ['type', 'host', 'port', 'tls', 'version', 'timeout']);
    if (e) {
      if (e['type'] !== 'tcp') c.error(join(ep, 'type'), `must be "tcp", got ${describe(e['type'])}`);
      // With a url the endpoint says where to connect (Crossbar needs both); the url's path stays.
      t.host = c.string(e['host'], join(ep, 'host'), { required: true, nonEmpty: true }) ?? t.host;
      t.port = c.integer(e['port'], join(ep, 'port'), undefined, 1, 65535) ?? t.port;
      if (e['tls'] !== undefined) t.tls = c.isObject(e['tls']) || c.boolean(e['tls'], join(ep, 'tls'), false);
      if (e['version'] !== undefined) c.oneOf(e['version'], join(ep, 'version'), [4, 6] as const);
      if (e['timeout'] !== undefined) c.integer(e['timeout'], join(ep, 'timeout'), undefined, 1, 3600);
    }
  } else if (url === undefined) {
    c.error(path, t.type === 'rawsocket' ? 'needs an endpoint { "type": "tcp", "host", "port" }' : 'needs a url (or an endpoint)');
  }
  if (t.type === 'websocket' && t.url === undefined && t.host) t.url = `${t.tls ? 'wss' : 'ws'}://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}/`;
  if (o['serializers'] !== undefined) {
    const sp = join(path, 'serializers');
    const list: RLinkSerializer[] = [];
    (c.array(o['serializers'], sp, { nonEmpty: true }) ?? []).forEach((s, i) => {
      const v = c.oneOf(s, join(sp, i), SERIALIZERS);
      if (v !== undefined && !list.includes(v)) list.push(v);
    });
    if (list.length) t.serializers = list;
  }
  return t;
}
