// One CALL on its way through the dealer: queued, running on a callee, or abandoned by the caller
// (cancelled, timed out, caller gone) while the callee still owes its answer.

import type * as M from '../wamp/message.js';
import type { Session } from './session.js';
import type { Callee, Registration } from './registration.js';
import type { CallQueueConfig } from '../config/types.js';

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

  constructor(
    readonly caller: Session,
    readonly requestId: number,
    readonly procedure: string,
    readonly options: M.Dict,
    /** The CALL message, whose args/kwargs tail is forwarded as is. */
    readonly message: M.WampMessage,
    readonly registration: Registration,
    readonly discloseCaller: boolean,
  ) {}

  get receiveProgress(): boolean {
    return this.options['receive_progress'] === true;
  }

  get timeoutMs(): number {
    const t = this.options['timeout'];
    // Node's timers overflow above 2^31-1 ms (they would fire at once): longer is the same as ~24.8 days.
    return typeof t === 'number' && t > 0 ? Math.min(t, MAX_TIMER_MS) : 0;
  }

  clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
