// What the router's answer becomes in the HTTP response, as Crossbar's bridge has it: a WAMP error
// (not authorized, no such procedure, the callee's own error) is the HTTP client's business and
// comes back with status 200 and `{"error": uri, "args": [...], "kwargs": {...}}`; anything else
// (the service could not join its realm, its session closed) is the router's failure: 500 and
// `wamp.error.runtime_error`.

import { WampError } from '../client/client-session.js';
import type { Dict } from '../wamp/message.js';
import { LogBudget } from '../log-budget.js';
import type { BridgeAnswer } from './responses.js';

/** Failures HTTP clients can cause at will (a request per failure): at most 20 lines per 10 s. */
export const FAILURE_LOG = new LogBudget('http bridge', 20, 'warn');

export function failureAnswer(err: unknown, service: string): BridgeAnswer {
  if (err instanceof WampError) {
    return { status: 200, body: JSON.stringify({ error: err.uri, args: err.args, kwargs: err.kwargs }) };
  }
  FAILURE_LOG.write(() => `http bridge ${service}: ${(err as Error)?.message ?? String(err)}`);
  return { status: 500, body: JSON.stringify({ error: 'wamp.error.runtime_error', args: ['the router could not handle the request; see its log'], kwargs: {} }) };
}

/** `args`, `kwargs` and `options` of a request body: absent, null or empty is the empty value. */
export function payloadOf(event: Dict): { args: unknown[]; kwargs: Dict; options: Dict } | string {
  const args = event['args'] || [];
  const kwargs = event['kwargs'] || {};
  const options = event['options'] || {};
  if (!Array.isArray(args)) return "'args' must be a list";
  if (!isDict(kwargs)) return "'kwargs' must be an object";
  if (!isDict(options)) return "'options' must be an object";
  return { args, kwargs, options };
}

export function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
