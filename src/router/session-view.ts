// What the realm's parts (dealer, broker, calls, registrations) see of a session: who it is, what
// its client supports, and a way to send to it. They depend on this view, not on the Session class,
// which sits above them (src/router/session.ts hands its requests to them); so the files of router/
// import one way. Session implements it; the view costs nothing at run time.

import type { WampMessage } from '../wamp/message.js';
import type { EncodingCache } from '../core-boundary.js';
import type { LoggedSession } from './session-log.js';

export interface SessionView extends LoggedSession {
  /** The router's own sessions (meta API, service caller): not shown by the meta API. */
  readonly internal: boolean;
  /** May register and publish under `wamp.*` and `junction.*`. */
  readonly privileged: boolean;
  /** The peer is not reading: more than its send queue limit waits to be written. */
  readonly sendBacklogged: boolean;
  /** Callee- and subscriber-side features the dealer and broker consult. */
  readonly supportsCanceling: boolean;
  readonly supportsProgress: boolean;
  readonly supportsRevocation: boolean;
  readonly supportsSubscriptionRevocation: boolean;
  /** Takes EVENTs with a payload not yet decoded (see Transport.readsRawPayloads). */
  readonly readsRawPayloads?: boolean;
  /** False if the transport refused the message (too large for the peer). */
  send(message: WampMessage, cache?: EncodingCache): boolean;
}
