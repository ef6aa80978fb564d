// Crossbar's testee transports, servers for the Autobahn|Testsuite rather than WAMP:
// `websocket.testee` echoes every WebSocket message back as it came (text as text, binary as
// binary), with the WebSocket `options` of a WAMP WebSocket service; `stream.testee` echoes every
// byte of a TCP (or TLS, or Unix socket) stream. Keys as Crossbar's checkconfig takes them.

import type { ListenerConfig } from './types.js';
import { join, type Checker, type Obj } from './check-values.js';
import type { LoadContext } from './load-context.js';
import { parseEndpoint } from './load-endpoint.js';
import { transportOptions } from './load-wamp-service.js';

/** WebSocket `options` keys that shape WAMP sessions or the WAMP handshake: the echo does not use them. */
const NOT_FOR_ECHO = [
  'open_handshake_timeout', 'require_websocket_subprotocol', 'max_frame_size', 'fail_by_drop',
  'close_handshake_timeout', 'send_queue_policy', 'max_messages_per_second', 'max_messages_burst', 'max_unauthenticated_bytes',
];

type Base = Pick<ListenerConfig, 'id' | 'websocket' | 'websocketAnyPath' | 'static'>;

export function parseTestee(ctx: LoadContext, value: Obj, path: string, base: Base, kind: 'websocket.testee' | 'stream.testee'): ListenerConfig {
  const { c } = ctx;
  const websocket = kind === 'websocket.testee';
  const t = c.object(value, path, websocket ? ['id', 'type', 'endpoint', 'url', 'debug', 'options'] : ['id', 'type', 'endpoint', 'debug'])!;
  c.boolean(t['debug'], join(path, 'debug'), false);
  if (websocket && t['url'] !== undefined) c.string(t['url'], join(path, 'url'));
  const endpoint = parseEndpoint(c, t['endpoint'], join(path, 'endpoint'), ctx);
  if (!websocket) return { ...base, kind, endpoint, testee: { kind: 'stream' } };
  const optionsPath = join(path, 'options');
  const options = transportOptions(c, t['options'], optionsPath, 'websocket');
  warnNotForEcho(c, t['options'], optionsPath);
  return { ...base, kind, endpoint, testee: { kind: 'websocket', options } };
}

function warnNotForEcho(c: Checker, options: unknown, path: string): void {
  if (!c.isObject(options)) return;
  for (const key of NOT_FOR_ECHO) {
    if (key in options) c.warn(join(path, key), 'not applied by a websocket.testee transport (an echo server, no WAMP): it takes max_message_size, compression, auto_fragment_size, auto_ping_*, allowed_origins, allow_null_origin, enable_webstatus and max_send_queue');
  }
}
