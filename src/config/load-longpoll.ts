// A web path of `type: longpoll`: WAMP over HTTP long-poll, the transport Autobahn|JS falls back to
// when WebSocket is not available (src/transports/longpoll.ts serves it). Crossbar's keys are `id`,
// `type` and `options` (request_timeout, session_timeout, queue_limit_bytes, queue_limit_messages,
// debug, debug_transport_id); Junction adds `auth` (as a WebSocket path's; without it clients join
// as role 'anonymous', as Crossbar's long-poll clients always do), two limits and a WebSocket
// path's `allowed_origins` in `options`.

import type { LongPollPathConfig } from './types.js';
import { DEFAULT_TRANSPORT_OPTIONS } from './types.js';
import { MIB, join, type Obj } from './check-values.js';
import type { LoadContext } from './load-context.js';
import { allowedOrigins } from './load-wamp-service.js';

export const LONGPOLL_DEFAULTS: Omit<LongPollPathConfig, 'auth' | 'debugTransportId'> = {
  requestTimeout: 10_000,
  sessionTimeout: 30_000,
  queueLimitBytes: 128 * 1024,
  queueLimitMessages: 100,
  debug: false,
  maxMessageSize: DEFAULT_TRANSPORT_OPTIONS.maxMessageSize,
  maxTransports: 100,
  openHandshakeTimeout: DEFAULT_TRANSPORT_OPTIONS.openHandshakeTimeout,
  allowedOrigins: ['*'],
};

/** What a queue_limit_bytes of 0 ("no limit" in Crossbar) becomes: the router still bounds every queue. */
const UNLIMITED_QUEUE_BYTES = DEFAULT_TRANSPORT_OPTIONS.maxSendQueue;

/** The path entry `s` (already known to be an object of type longpoll) at `path`. */
export function parseLongPollPath(ctx: LoadContext, s: Obj, path: string): LongPollPathConfig {
  const { c } = ctx;
  const d = LONGPOLL_DEFAULTS;
  c.object(s, path, ['id', 'type', 'options', 'auth']);
  c.string(s['id'], join(path, 'id'), { required: false });
  const out: LongPollPathConfig = { ...d, allowedOrigins: [...d.allowedOrigins] };
  const p = join(path, 'options');
  const o = s['options'] === undefined ? {} : c.object(s['options'], p, [
    'request_timeout', 'session_timeout', 'queue_limit_bytes', 'queue_limit_messages', 'debug', 'debug_transport_id',
    'max_message_size', 'max_transports', 'allowed_origins',
  ]);
  if (o) {
    // Seconds in the file, as in Crossbar.
    out.requestTimeout = c.integer(o['request_timeout'], join(p, 'request_timeout'), d.requestTimeout / 1000, 0, 86_400)! * 1000;
    out.sessionTimeout = c.integer(o['session_timeout'], join(p, 'session_timeout'), d.sessionTimeout / 1000, 0, 86_400)! * 1000;
    out.queueLimitBytes = c.integer(o['queue_limit_bytes'], join(p, 'queue_limit_bytes'), d.queueLimitBytes, 0, 1024 * MIB)!;
    if (out.queueLimitBytes === 0) {
      out.queueLimitBytes = UNLIMITED_QUEUE_BYTES;
      c.warn(join(p, 'queue_limit_bytes'), `0 (no limit) is not honoured: Junction bounds every send queue; this one at ${UNLIMITED_QUEUE_BYTES} bytes`);
    }
    out.queueLimitMessages = c.integer(o['queue_limit_messages'], join(p, 'queue_limit_messages'), d.queueLimitMessages, 0, 1_000_000)!;
    out.debug = c.boolean(o['debug'], join(p, 'debug'), d.debug);
    const fixedId = c.string(o['debug_transport_id'], join(p, 'debug_transport_id'), { required: false });
    if (fixedId !== undefined) {
      out.debugTransportId = fixedId;
      c.warn(join(p, 'debug_transport_id'), 'every long-poll transport gets this id: a second client opening one ends the first one\'s session (for debugging only)');
    }
    out.maxMessageSize = c.integer(o['max_message_size'], join(p, 'max_message_size'), d.maxMessageSize, 1, 64 * MIB)!;
    out.maxTransports = c.integer(o['max_transports'], join(p, 'max_transports'), d.maxTransports, 1, 100_000)!;
    out.allowedOrigins = allowedOrigins(c, o['allowed_origins'], join(p, 'allowed_origins'));
  }
  if (s['auth'] !== undefined) out.auth = ctx.auth(s['auth'], join(path, 'auth'));
  else ctx.openServices.push(path);
  return out;
}
