// One CALL on its way through the dealer: queued, running on a callee, or abandoned by the caller
// (cancelled, timed out, caller gone) while the callee still owes its answer.

import type { SessionView } from './session-view.js';
import type { Callee, Registration } from './registration.js';
import type { CallQueueConfig, PayloadValidationConfig } from '../config/types.js';
import type { CallMessage, CallOptions } from '../wamp/client-messages.js';

export type CallState = 'queued' | 'running' | 'abandoned';

/** The longest delay a Node timer takes. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Call {
  state: CallState = 'queued';
  callee: Callee | undefined;
  /** INVOCATION.Request on the callee's session, once running. */
  invocationId = 0;
  timer: NodeJS.Timeout | undefined;
  /** A `kill` cancel was forwarded: the callee's answer, whatever it is, ends the call. */
  killRequested = false;
  /** The queue rule that admitted this call, while queued. */
  queueRule: CallQueueConfig | undefined;
  /** The CALL message, whose args/kwargs tail is forwarded as is: dropped once the INVOCATION is
   *  out, so that a callee that never answers keeps no payload (and no options) alive. */
  message: CallMessage | undefined;
  readonly receiveProgress: boolean;
  /** ms, 0 = none. */
  readonly timeoutMs: number;
  /** What the call counts against its caller's and the realm's pending-call bytes (set by the dealer). */
  bytes = 0;
  /** The caller's permission's `validate`: the callee's answers are checked against it (set by the dealer). */
  validate: PayloadValidationConfig | undefined;

  constructor(
    readonly caller: SessionView,
    readonly requestId: number,
    readonly procedure: string,
    options: CallOptions,
    message: CallMessage,
    readonly registration: Registration,
    readonly discloseCaller: boolean,
  ) {
    this.message = message;
    this.receiveProgress = options.receive_progress === true;
    const t = options.timeout;
    // Node's timers overflow above 2^31-1 ms (they would fire at once): longer is the same as ~24.8 days.
    this.timeoutMs = t !== undefined && t > 0 ? Math.min(t, MAX_TIMER_MS) : 0;
  }

  clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
