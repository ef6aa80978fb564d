// A WAMP service of a transport (a WebSocket path or RawSocket): `serializers`, `options` (Crossbar's
// WebSocket and RawSocket options, and Junction's limits and back-pressure) and `auth`
// (load-auth.ts). A service without `auth` lets clients in as role 'anonymous' (as in Crossbar).
//
// Crossbar's WebSocket-only options (compression, frames, origins, status page): load-websocket-options.ts.

import { DEFAULT_TRANSPORT_OPTIONS, SEND_QUEUE_POLICIES, type SerializerName, type WampServiceConfig, type WampTransportOptions } from './types.js';
import { MIB, join, type Checker, type Obj } from './check-values.js';
import type { LoadContext } from './load-context.js';
import { WEBSOCKET_OPTION_KEYS, parseWebSocketOptions } from './load-websocket-options.js';
import { parseCookieTracking } from './load-cookie.js';

export const SERIALIZERS: readonly SerializerName[] = ['json', 'msgpack', 'cbor', 'ubjson'];
/** Junction's own transport options (limits and back-pressure), accepted by WebSocket and RawSocket. */
const LIMIT_OPTIONS = ['max_send_queue', 'send_queue_policy', 'max_messages_per_second', 'max_messages_burst', 'max_unauthenticated_bytes'];

export function parseWampService(ctx: LoadContext, t: Obj, path: string, kind: 'websocket' | 'rawsocket'): WampServiceConfig {
  const { c } = ctx;
  const serPath = join(path, 'serializers');
  const serializers: SerializerName[] = [];
  const list = t['serializers'] === undefined ? [...SERIALIZERS] : c.array(t['serializers'], serPath, { nonEmpty: true }) ?? [];
  let flatbuffers: string | undefined;
  list.forEach((s, i) => {
    const p = join(serPath, i);
    if (s === 'flatbuffers') flatbuffers ??= p;
    else if (serializers.includes(s as SerializerName)) c.error(p, `serializer "${String(s)}" is listed twice`);
    else {
      const name = c.oneOf(s, p, SERIALIZERS);
      if (name) serializers.push(name);
    }
  });
  if (flatbuffers !== undefined) flatbuffersServed(c, flatbuffers, serializers);
  // `debug` (Crossbar's per-transport debug logging) and `url` (the public URL, informational)
  // cannot change behaviour: accepted, type-checked, not used.
  c.boolean(t['debug'], join(path, 'debug'), false);
  if (kind === 'websocket' && t['url'] !== undefined) wsUrl(c, t['url'], join(path, 'url'));

  const options = transportOptions(c, t['options'], join(path, 'options'), kind);
  if (kind === 'rawsocket' && t['max_message_size'] !== undefined) {
    // Older Crossbar configs put it beside `serializers`, newer ones in `options`.
    const p = join(path, 'max_message_size');
    if (c.isObject(t['options']) && t['options']['max_message_size'] !== undefined) c.error(p, 'is also set in options; keep one');
    else options.maxMessageSize = c.integer(t['max_message_size'], p, options.maxMessageSize, 1, 64 * MIB)!;
  }
  const service: WampServiceConfig = { serializers, options };
  if (t['auth'] !== undefined) service.auth = ctx.auth(t['auth'], join(path, 'auth'));
  else ctx.openServices.push(path);
  if (kind === 'websocket') parseCookieTracking(ctx, t, path, service);
  return service;
}

/**
 * Crossbar's `flatbuffers` serializer: Junction has no FlatBuffers schema for WAMP messages. Beside
 * other serializers it is left out with a warning (clients offering another one still connect);
 * alone it would leave the transport with nothing to speak, so that is an error.
 */
function flatbuffersServed(c: Checker, path: string, others: SerializerName[]): void {
  if (others.length > 0) c.warn(path, `serializer "flatbuffers" is not offered by Junction (no FlatBuffers schema for WAMP messages here): this transport offers ${others.join(', ')}`);
  else c.error(path, 'serializer "flatbuffers" is not supported by Junction, and the transport lists no other: add one of json, msgpack, cbor, ubjson');
}

/** A ws:// or wss:// URL, or undefined after an error. */
export function wsUrl(c: Checker, value: unknown, path: string): string | undefined {
  const url = c.string(value, path);
  if (url === undefined) return undefined;
  let ok = false;
  try {
    ok = ['ws:', 'wss:'].includes(new URL(url).protocol);
  } catch {
    ok = false;
  }
  if (!ok) c.error(path, `must be a ws:// or wss:// URL, got ${JSON.stringify(url)}`);
  return ok ? url : undefined;
}

export function transportOptions(c: Checker, value: unknown, path: string, kind: 'websocket' | 'rawsocket'): WampTransportOptions {
  const d = DEFAULT_TRANSPORT_OPTIONS;
  const out: WampTransportOptions = { ...d, allowedOrigins: [...d.allowedOrigins] };
  if (value === undefined) return out;
  const known = kind === 'websocket'
    ? ['max_message_size', 'auto_ping_interval', 'auto_ping_timeout', 'auto_ping_size', 'open_handshake_timeout', 'allowed_origins']
    : ['max_message_size', 'auto_ping_interval', 'auto_ping_timeout', 'open_handshake_timeout'];
  const tolerated = kind === 'websocket' ? WEBSOCKET_OPTION_KEYS : [];
  // Junction's limit keys are taken apart from Crossbar's (and left out of the "supported" hint,
  // which lists what Crossbar configs carry).
  let crossbarOnly = value;
  if (c.isObject(value) && LIMIT_OPTIONS.some((k) => k in value)) {
    crossbarOnly = Object.fromEntries(Object.entries(value).filter(([k]) => !LIMIT_OPTIONS.includes(k)));
  }
  const o = c.object(crossbarOnly, path, [...known, ...tolerated]);
  if (!o) return out;
  out.maxMessageSize = c.integer(o['max_message_size'], join(path, 'max_message_size'), d.maxMessageSize, 1, 64 * MIB)!;
  // Pings may be shorter than Crossbar's 1 s floor: a hub that must notice a dead board within a
  // second or two (hot standby across boards) needs a sub-second timeout.
  out.autoPingInterval = milliseconds(c, o['auto_ping_interval'], join(path, 'auto_ping_interval'), d.autoPingInterval, true, MIN_PING_MS);
  out.autoPingTimeout = milliseconds(c, o['auto_ping_timeout'], join(path, 'auto_ping_timeout'), d.autoPingTimeout, true, MIN_PING_MS);
  out.openHandshakeTimeout = milliseconds(c, o['open_handshake_timeout'], join(path, 'open_handshake_timeout'), d.openHandshakeTimeout, false);
  if (out.autoPingTimeout > 0 && out.autoPingInterval === 0) {
    c.warn(join(path, 'auto_ping_timeout'), 'has no effect without auto_ping_interval');
  }
  limits(c, value as Obj, path, out);
  if (kind === 'websocket') {
    out.autoPingSize = c.integer(o['auto_ping_size'], join(path, 'auto_ping_size'), d.autoPingSize, 0, 125)!;
    out.allowedOrigins = allowedOrigins(c, o['allowed_origins'], join(path, 'allowed_origins'));
    out.websocket = parseWebSocketOptions(c, o, path);
  }
  return out;
}

/** `allowed_origins` of a WebSocket service (WAMP, or MQTT over WebSocket): a non-empty list, default any ('*'). */
export function allowedOrigins(c: Checker, value: unknown, path: string): string[] {
  if (value === undefined) return [...DEFAULT_TRANSPORT_OPTIONS.allowedOrigins];
  const list = c.array(value, path, { nonEmpty: true }) ?? [];
  return list.map((x, i) => c.string(x, join(path, i))).filter((x): x is string => x !== undefined);
}

/** Junction's limits in a transport's `options`: send queue and its policy, message rate. */
function limits(c: Checker, o: Obj, path: string, out: WampTransportOptions): void {
  const d = DEFAULT_TRANSPORT_OPTIONS;
  out.maxSendQueue = c.integer(o['max_send_queue'], join(path, 'max_send_queue'), d.maxSendQueue, 1024, 1024 * MIB)!;
  out.sendQueuePolicy = c.oneOf(o['send_queue_policy'], join(path, 'send_queue_policy'), SEND_QUEUE_POLICIES, d.sendQueuePolicy)!;
  out.maxMessagesPerSecond = c.integer(o['max_messages_per_second'], join(path, 'max_messages_per_second'), d.maxMessagesPerSecond, 0, 1_000_000)!;
  out.maxMessagesBurst = c.integer(o['max_messages_burst'], join(path, 'max_messages_burst'), d.maxMessagesBurst, 0, 1_000_000)!;
  out.maxUnauthenticatedBytes = c.integer(o['max_unauthenticated_bytes'], join(path, 'max_unauthenticated_bytes'), d.maxUnauthenticatedBytes, 1024, 64 * MIB)!;
  if (o['max_messages_burst'] !== undefined && out.maxMessagesPerSecond === 0) {
    c.warn(join(path, 'max_messages_burst'), 'has no effect without max_messages_per_second');
  }
}

/** Milliseconds as Crossbar takes them: 0 (off, where allowed) or at least 1000, to catch seconds. */
/** The shortest auto-ping interval or timeout: below it a value is more likely seconds written as milliseconds. */
export const MIN_PING_MS = 100;

export function milliseconds(c: Checker, value: unknown, path: string, fallback: number, zeroMeansOff: boolean, minimum = 1000): number {
  const v = c.integer(value, path, fallback, 0, 86_400_000)!;
  if (value === undefined || v !== value) return v;
  if (v === 0 && !zeroMeansOff) {
    c.error(path, 'must be at least 1000 ms (Junction always limits the opening handshake)');
    return fallback;
  }
  if (v > 0 && v < minimum) {
    c.error(path, `is in milliseconds; ${v} is too small (at least ${minimum}${zeroMeansOff ? ', or 0 for off' : ''})`);
    return fallback;
  }
  return v;
}
