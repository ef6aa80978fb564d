// Crossbar's WebSocket-only `options` of a WAMP WebSocket service: permessage-deflate
// (`compression`), frame limits and fragmentation, how a failing connection ends, origin and
// subprotocol strictness, and the status page on a plain GET. Defaults are Crossbar's (Autobahn's
// setProtocolOptions), except where a small board needs a bound (compression's window and count).
// Autobahn's knobs that change nothing a client can see here are accepted with a warning.

import { join, type Checker, type Obj } from './check-values.js';
import { DEFAULT_DEFLATE, DEFAULT_WEBSOCKET_OPTIONS, type DeflateOptions, type WebSocketOptions } from './types.js';

/** Autobahn's protocol knobs with nothing to change here: accepted, with what Junction does instead. */
const WITHOUT_EFFECT: Readonly<Record<string, string>> = {
  validate_utf8: 'Junction always checks the UTF-8 of text frames (ws)',
  mask_server_frames: 'Junction never masks the frames it sends (RFC 6455)',
  require_masked_client_frames: 'Junction always requires masked client frames (ws)',
  apply_mask: 'Junction always applies the mask (ws)',
  echo_close_codereason: 'Junction answers a close frame with the same close code, without the reason',
  tcp_nodelay: 'Junction always sets TCP_NODELAY',
  enable_hybi10: 'Junction speaks RFC 6455 (version 13) and hybi-10 (version 8), as ws does',
  enable_rfc6455: 'Junction always speaks RFC 6455',
  enable_hixie76: 'Junction does not speak the obsolete Hixie-76 protocol',
  enable_flash_policy: 'Junction serves no Flash socket policy',
  flash_policy: 'Junction serves no Flash socket policy',
  show_server_version: 'Junction does not send a Server header on WebSocket upgrades',
  external_port: 'Junction does not use the external port (it builds no URLs from it)',
  auto_ping_restart_on_any_traffic: 'Junction restarts the ping timer only on a pong',
};

/** The keys this file reads; load-wamp-service.ts lets them through. */
export const WEBSOCKET_OPTION_KEYS = [
  'compression', 'max_frame_size', 'auto_fragment_size', 'fail_by_drop', 'close_handshake_timeout',
  'allow_null_origin', 'require_websocket_subprotocol', 'enable_webstatus',
  ...Object.keys(WITHOUT_EFFECT),
];

export function parseWebSocketOptions(c: Checker, o: Obj, path: string): WebSocketOptions {
  const d = DEFAULT_WEBSOCKET_OPTIONS;
  const out: WebSocketOptions = {
    maxFrameSize: c.integer(o['max_frame_size'], join(path, 'max_frame_size'), d.maxFrameSize, 0, 64 * 1024 * 1024)!,
    autoFragmentSize: c.integer(o['auto_fragment_size'], join(path, 'auto_fragment_size'), d.autoFragmentSize, 0, 64 * 1024 * 1024)!,
    failByDrop: c.boolean(o['fail_by_drop'], join(path, 'fail_by_drop'), d.failByDrop)!,
    closeHandshakeTimeout: c.integer(o['close_handshake_timeout'], join(path, 'close_handshake_timeout'), d.closeHandshakeTimeout, 0, 600_000)!,
    allowNullOrigin: c.boolean(o['allow_null_origin'], join(path, 'allow_null_origin'), d.allowNullOrigin)!,
    requireSubprotocol: c.boolean(o['require_websocket_subprotocol'], join(path, 'require_websocket_subprotocol'), d.requireSubprotocol)!,
    webStatus: c.boolean(o['enable_webstatus'], join(path, 'enable_webstatus'), d.webStatus)!,
  };
  const deflate = compression(c, o['compression'], join(path, 'compression'));
  if (deflate) out.deflate = deflate;
  for (const [key, instead] of Object.entries(WITHOUT_EFFECT)) {
    if (o[key] !== undefined) c.warn(join(path, key), `has no effect in Junction: ${instead}`);
  }
  return out;
}

/** `compression`: false/absent = off; { deflate: {...} } = permessage-deflate with Crossbar's keys and Junction's bounds. */
function compression(c: Checker, value: unknown, path: string): DeflateOptions | undefined {
  if (value === undefined || value === false) return undefined;
  const o = c.object(value, path, ['deflate']);
  if (!o || o['deflate'] === undefined) return undefined;
  const p = join(path, 'deflate');
  const z = c.object(o['deflate'] === true ? {} : o['deflate'], p, [
    'request_no_context_takeover', 'request_max_window_bits', 'no_context_takeover', 'max_window_bits', 'memory_level', 'threshold', 'max_connections',
  ]);
  if (!z) return undefined;
  const d = DEFAULT_DEFLATE;
  const requestBits = c.integer(z['request_max_window_bits'], join(p, 'request_max_window_bits'), d.requestMaxWindowBits, 0, 15)!;
  if (requestBits > 0 && requestBits < 8) c.error(join(p, 'request_max_window_bits'), 'must be 0 (do not ask) or 8..15');
  const windowBits = z['max_window_bits'] === 0 ? d.maxWindowBits : c.integer(z['max_window_bits'], join(p, 'max_window_bits'), d.maxWindowBits, 8, 15)!;
  return {
    requestNoContextTakeover: c.boolean(z['request_no_context_takeover'], join(p, 'request_no_context_takeover'), d.requestNoContextTakeover)!,
    requestMaxWindowBits: requestBits,
    noContextTakeover: c.boolean(z['no_context_takeover'], join(p, 'no_context_takeover'), d.noContextTakeover)!,
    maxWindowBits: windowBits,
    memoryLevel: z['memory_level'] === 0 ? d.memoryLevel : c.integer(z['memory_level'], join(p, 'memory_level'), d.memoryLevel, 1, 9)!,
    threshold: c.integer(z['threshold'], join(p, 'threshold'), d.threshold, 0, 64 * 1024 * 1024)!,
    maxConnections: c.integer(z['max_connections'], join(p, 'max_connections'), d.maxConnections, 0, 1_000_000)!,
  };
}
