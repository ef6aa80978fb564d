// A router link learns the other side's subscriptions and registrations from the WAMP meta API
// (wamp.subscription.*, wamp.registration.*). Not every router offers it (fox-wamp does not): the
// link then forwards what needs no meta API, and says once per connection what does not cross.

import { WampError, type Payload } from '../client/client-session.js';
import { log } from '../log.js';

/** The answer of a meta API call; undefined (logged) when the router refused it, e.g. as an unknown procedure. */
export async function withoutMetaApi(answer: Promise<Payload>, linkId: string, procedure: string, consequence: string): Promise<Payload | undefined> {
  try {
    return await answer;
  } catch (err) {
    if (!(err instanceof WampError)) throw err;
    log.warn(`rlink '${linkId}': a router of the link refused ${procedure} (${err.uri}; no WAMP meta API?), so ${consequence}`);
    return undefined;
  }
}
