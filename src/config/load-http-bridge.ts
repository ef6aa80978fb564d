// A web path of type `publisher`, `caller` or `webhook`: Crossbar's HTTP bridge services, with the
// keys and limits of Crossbar's checks (its `checkconfig.py`), errors naming the key path.

import { isIP } from 'node:net';
import type { HttpBridgePathConfig, IpNetwork } from './types.js';
import { MIB, describe, join, type Obj } from './check-values.js';
import type { LoadContext } from './load-context.js';

export const HTTP_BRIDGE_TYPES = ['publisher', 'caller', 'webhook'] as const;

/** Crossbar refuses a larger `post_body_limit`; its 0 ("unlimited") means this much here. */
export const MAX_POST_BODY = MIB;
/** Crossbar's code reads a missing `timestamp_delta_limit` as 300 s (its docs say 0). */
export const DEFAULT_TIMESTAMP_DELTA_LIMIT = 300;
/** Requests one service works on at once (reading the body, or waiting for the router's answer). */
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 16;

const COMMON_OPTIONS = ['debug', 'key', 'secret', 'require_tls', 'require_ip', 'post_body_limit', 'timestamp_delta_limit', 'max_concurrent_requests'];
const WEBHOOK_OPTIONS = ['topic', 'success_response', 'error_response', 'github_secret'];

export function isHttpBridgeType(type: unknown): type is HttpBridgePathConfig['type'] {
  return (HTTP_BRIDGE_TYPES as readonly unknown[]).includes(type);
}

/** One path entry `entry` (at `path`) of a bridge type; undefined after errors. */
export function parseHttpBridgePath(ctx: LoadContext, entry: Obj, path: string): HttpBridgePathConfig | undefined {
  const { c } = ctx;
  const type = entry['type'] as HttpBridgePathConfig['type'];
  const webhook = type === 'webhook';
  c.object(entry, path, ['id', 'type', 'realm', 'role', 'options']);
  c.string(entry['id'], join(path, 'id'), { required: false });
  const realm = c.string(entry['realm'], join(path, 'realm'));
  const role = c.string(entry['role'], join(path, 'role'));
  if (realm !== undefined) ctx.realmRefs.push({ realm, path: join(path, 'realm') });
  if (role !== undefined) ctx.roleRefs.push({ role, path: join(path, 'role') });
  const op = join(path, 'options');
  // A webhook needs its topic, so its options are required (as in Crossbar).
  const o = entry['options'] === undefined && !webhook ? {} : c.object(entry['options'], op, webhook ? [...COMMON_OPTIONS, ...WEBHOOK_OPTIONS] : COMMON_OPTIONS);
  if (!o || realm === undefined || role === undefined) return undefined;

  const key = c.string(o['key'], join(op, 'key'), { required: false });
  const secret = c.string(o['secret'], join(op, 'secret'), { required: false });
  if ((key === undefined) !== (secret === undefined)) {
    c.error(join(op, key === undefined ? 'key' : 'secret'), `is required with ${key === undefined ? 'secret' : 'key'}: signed requests need both`);
  }
  let postBodyLimit = c.integer(o['post_body_limit'], join(op, 'post_body_limit'), 0, 0, MAX_POST_BODY) ?? 0;
  if (o['post_body_limit'] === 0) {
    c.warn(join(op, 'post_body_limit'), `0 means unlimited in Crossbar; Junction accepts bodies up to ${MAX_POST_BODY} bytes (the largest limit Crossbar allows)`);
  }
  if (postBodyLimit === 0) postBodyLimit = MAX_POST_BODY;
  const config: HttpBridgePathConfig = {
    type, realm, role,
    postBodyLimit,
    timestampDeltaLimit: c.integer(o['timestamp_delta_limit'], join(op, 'timestamp_delta_limit'), DEFAULT_TIMESTAMP_DELTA_LIMIT, 0, 86400) ?? DEFAULT_TIMESTAMP_DELTA_LIMIT,
    requireTls: c.boolean(o['require_tls'], join(op, 'require_tls'), false),
    debug: c.boolean(o['debug'], join(op, 'debug'), false),
    maxConcurrentRequests: c.integer(o['max_concurrent_requests'], join(op, 'max_concurrent_requests'), DEFAULT_MAX_CONCURRENT_REQUESTS, 1, 10_000) ?? DEFAULT_MAX_CONCURRENT_REQUESTS,
  };
  if (key !== undefined && secret !== undefined) Object.assign(config, { key, secret });
  const requireIp = c.array(o['require_ip'], join(op, 'require_ip'));
  if (requireIp) {
    config.requireIp = [];
    requireIp.forEach((item, i) => {
      const p = join(join(op, 'require_ip'), i);
      const text = c.string(item, p);
      if (text === undefined) return;
      const network = parseNetwork(text);
      if (network) config.requireIp!.push(network);
      else c.error(p, `${describe(text)} is not an IP address or network (e.g. "127.0.0.1", "10.0.0.0/8", "192.168.1.0/255.255.255.0", "fd00::/8")`);
    });
  }
  if (webhook) {
    config.topic = c.string(o['topic'], join(op, 'topic'));
    // Crossbar's docs set `success_response: ""`; an empty github_secret checks nothing, as there.
    for (const [file, field] of [['success_response', 'successResponse'], ['error_response', 'errorResponse'], ['github_secret', 'githubSecret']] as const) {
      const value = c.string(o[file], join(op, file), { required: false, nonEmpty: false });
      if (value !== undefined && (value !== '' || field !== 'githubSecret')) config[field] = value;
    }
  }
  return config;
}

/**
 * An address ("127.0.0.1", "::1") or network ("10.0.0.0/8", "192.168.1.1/255.255.255.0",
 * "fd00::/8") as `require_ip` names it; host bits in a network are ignored, as Crossbar's docs'
 * own example has them. Undefined if it is neither.
 */
export function parseNetwork(text: string): IpNetwork | undefined {
  const [address = '', mask, ...rest] = text.trim().split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const bits = version === 4 ? 32 : 128;
  if (mask === undefined) return { address, prefix: bits, family };
  let prefix: number | undefined;
  if (/^\d{1,3}$/.test(mask)) prefix = Number(mask);
  else if (version === 4 && isIP(mask) === 4) prefix = netmaskPrefix(mask);
  if (prefix === undefined || prefix > bits) return undefined;
  return { address, prefix, family };
}

/** "255.255.255.0" → 24; undefined for a mask that is not contiguous ones then zeros. */
function netmaskPrefix(mask: string): number | undefined {
  const n = mask.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
  const ones = n.toString(2).replace(/0+$/, '');
  if (n !== 0 && (ones.includes('0') || n.toString(2).length !== 32)) return undefined;
  return n === 0 ? 0 : ones.length;
}
