// `caller`: the body {"procedure": uri, "args": [...], "kwargs": {...}} is called by the service's
// session; the answer is the result the way Autobahn|Python hands it to Crossbar's bridge:
// {"args": [...]} and/or {"kwargs": {...}}, a result without either being {"args": [null]}.
// When the HTTP client goes away first, the call is canceled.

import type { ClientSession } from '../client/client-session.js';
import type { Dict } from '../wamp/message.js';
import { refusal, type BridgeAnswer } from './responses.js';
import { failureAnswer, payloadOf } from './wamp-answers.js';

export async function callRequest(session: ClientSession, event: Dict, service: string, clientGone: AbortSignal): Promise<BridgeAnswer> {
  const procedure = event['procedure'];
  if (procedure === undefined) return refusal(400, "request body is missing the key 'procedure'");
  if (typeof procedure !== 'string') return refusal(400, "'procedure' must be a string");
  const payload = payloadOf(event);
  if (typeof payload === 'string') return refusal(400, payload);
  const result = session.call(procedure, payload.args, payload.kwargs);
  const requestId = session.lastRequestId;
  const cancel = () => session.cancel(requestId, 'killnowait');
  clientGone.addEventListener('abort', cancel, { once: true });
  try {
    const { args, kwargs } = await result;
    return { status: 200, body: JSON.stringify(resultBody(args, kwargs)) };
  } catch (err) {
    return failureAnswer(err, service);
  } finally {
    clientGone.removeEventListener('abort', cancel);
  }
}

/** Autobahn returns a lone value, a CallResult (several values or keyword results), or None. */
function resultBody(args: unknown[], kwargs: Dict): Dict {
  if (Object.keys(kwargs).length > 0) return args.length > 0 ? { args, kwargs } : { kwargs };
  if (args.length > 0) return { args };
  return { args: [null] };
}
