// `publisher`: the body {"topic": uri, "args": [...], "kwargs": {...}, "options": {...}} is
// published (acknowledged) by the service's session; the answer is {"id": publication ID}.

import type { ClientSession } from '../client/client-session.js';
import type { Dict } from '../wamp/message.js';
import { publishOptionsProblem } from '../wamp/validate.js';
import { refusal, type BridgeAnswer } from './responses.js';
import { failureAnswer, payloadOf } from './wamp-answers.js';

/** The publication options a request may set (Crossbar passes on these). */
const PUBLISH_OPTIONS = ['retain', 'exclude_me', 'exclude', 'exclude_authid', 'exclude_authrole', 'eligible', 'eligible_authid', 'eligible_authrole'];

export async function publishRequest(session: ClientSession, event: Dict, service: string): Promise<BridgeAnswer> {
  const topic = event['topic'];
  if (topic === undefined) return refusal(400, "request body is missing the key 'topic'");
  if (typeof topic !== 'string') return refusal(400, "'topic' must be a string");
  const payload = payloadOf(event);
  if (typeof payload === 'string') return refusal(400, payload);
  const options: Dict = { acknowledge: true };
  for (const key of PUBLISH_OPTIONS) {
    const value = payload.options[key];
    if (value !== undefined && value !== null) options[key] = value;
  }
  // A malformed option would be a protocol violation on the service's session: refuse it here.
  const problem = publishOptionsProblem(options);
  if (problem) return refusal(400, `invalid publication options: ${problem}`);
  try {
    const id = await session.publish(topic, payload.args, payload.kwargs, options);
    return { status: 200, body: JSON.stringify({ id }) };
  } catch (err) {
    return failureAnswer(err, service);
  }
}
