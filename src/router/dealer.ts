// The dealer: registrations, and every CALL's way to exactly one RESULT or ERROR.
//
// A call is placed on a callee chosen by the registration's invocation policy among callees with a
// free concurrency slot; when none is free it waits in its registration's FIFO queue (if the realm's
// `store.call-queue` has a matching entry with room) or is refused with max_concurrency_reached.
// A slot is held until the callee answers or leaves, even after the caller gave up (cancel,
// timeout, caller gone): the callee is still working on it.
//
// The dealer alone keeps a call's state, in the tables at the top of the class (key -> value).
// A call ends along three paths, each named for what it does: `answerCaller`/`failCall` (the caller
// gets its RESULT or ERROR and stops waiting), `releaseCalleeSlot` (the callee answered or left:
// its concurrency slot is free) and `drainQueue` (queued calls take the freed slots).

import { payloadProblem } from './payload-check.js';
import { forwardForOf } from './forward-for.js';
import { logRefusal } from './refusals.js';
import { INVALID_URI, type Decision } from '../auth/authorizer.js';
import type { CallQueueConfig } from '../config/types.js';
import * as M from '../wamp/message.js';
import type {
  CallMessage, CancelMessage, InvocationErrorMessage, RegisterMessage, UnregisterMessage, YieldMessage,
} from '../wamp/client-messages.js';
import { ErrorUri } from '../wamp/errors.js';
import { IdSequence } from '../wamp/ids.js';
import { isReservedUri, isValidUri, reservedNamespace } from '../wamp/uri.js';
import { ProtocolViolation } from '../wamp/validate.js';
import { PatternIndex } from '../wamp/pattern-index.js';
import { Call } from './call.js';
import { approximateBytes } from './payload-size.js';
import { Callee, Registration } from './registration.js';
import type { SessionView } from './session-view.js';

/** A CALL while the caller already has the realm's `max_pending_calls` calls unanswered, or past
 *  `max_pending_call_bytes` (the session's) or `max_pending_call_bytes_total` (the realm's). */
export const TOO_MANY_PENDING_CALLS = 'junction.error.too_many_pending_calls';

/**
 * Told about registrations as they change, after the fact (the meta API's events; see RealmObserver
 * in src/router/realm.ts). Must not call back into the dealer synchronously.
 */
export interface DealerObserver {
  registrationCreated(session: SessionView, registration: Registration): void;
  calleeAdded(session: SessionView, registration: Registration): void;
  calleeRemoved(session: SessionView, registration: Registration): void;
  registrationDeleted(sessionId: number, registration: Registration): void;
  /** A call found every eligible callee busy (sent once until a slot frees again). */
  registrationSaturated(registration: Registration): void;
  /** A call was refused because the registration's queue is full (once until it has room again). */
  queueFull(registration: Registration, limit: number): void;
}

/** What the dealer sees of its realm (src/router/realm.ts): the call limits, read per call since a reload may change them, and who is told. */
export interface DealerRealm {
  readonly maxPendingCalls: number;
  readonly maxPendingCallBytes: number;
  readonly maxPendingCallBytesTotal: number;
  readonly observer: DealerObserver | undefined;
}

/** How often calls queued behind a backlogged callee look for a free one again. */
const BACKLOG_RETRY_MS = 20;

/** `head` followed by the payload tail (args, kwargs) of `msg` from index `from`, without copying twice. */
function withPayload(head: unknown[], msg: M.WampMessage, from: number): M.WampMessage {
  if (msg.length > from) head.push(msg[from]);
  if (msg.length > from + 1) head.push(msg[from + 1]);
  return head;
}

/** One caller's calls that wait for an answer. */
interface CallerCalls {
  /** CALL.Request -> call. */
  readonly byRequest: Map<number, Call>;
  /** Their estimated bytes together (`max_pending_call_bytes`). */
  bytes: number;
}

/** One callee session's side: what it serves and what it owes. */
interface CalleeWork {
  /** Its registrations, one Callee (with its in-flight count) each. */
  readonly serving: Set<Callee>;
  /** INVOCATION.Request -> call, for invocations sent and not answered yet. */
  readonly invocations: Map<number, Call>;
  /** INVOCATION.Request IDs are in the callee's session scope. */
  readonly invocationIds: IdSequence;
}

export class Dealer {
  // ---- the tables ----
  /** (procedure pattern, match) -> registration. */
  private readonly index = new PatternIndex<Registration>();
  /** registration ID -> registration. */
  private readonly byId = new Map<number, Registration>();
  /** registration -> its calls waiting for a free callee, oldest first (a Set keeps insertion order and deletes in O(1)). */
  private readonly queues = new Map<Registration, Set<Call>>();
  /** caller session -> its calls waiting for an answer (by CALL.Request) and their bytes. */
  private readonly callers = new Map<SessionView, CallerCalls>();
  /** callee session -> its registrations and its unanswered invocations (by INVOCATION.Request). */
  private readonly callees = new Map<SessionView, CalleeWork>();
  /** procedure pattern -> `store.call-queue` rule. */
  private queueRules = new PatternIndex<CallQueueConfig>();
  /** Bytes of every caller's waiting calls together (`max_pending_call_bytes_total`). */
  private pendingBytes = 0;

  constructor(private readonly realm: DealerRealm, private readonly ids: IdSequence, callQueue: CallQueueConfig[]) {
    this.setQueueRules(callQueue);
  }

  /** `store.call-queue`, at start and from a config reload: used from the next call that finds every callee busy (a call already queued keeps its rule). */
  setQueueRules(callQueue: CallQueueConfig[]): void {
    this.queueRules = new PatternIndex<CallQueueConfig>();
    for (const rule of callQueue) this.queueRules.set(rule.uri, rule.match, rule);
  }

  registration(id: number): Registration | undefined {
    return this.byId.get(id);
  }

  registrations(): IterableIterator<Registration> {
    return this.byId.values();
  }

  /** How many calls wait in `reg`'s queue for a free callee (meta API). */
  queuedCalls(reg: Registration): number {
    return this.queues.get(reg)?.size ?? 0;
  }

  /** How many calls `session` made that are not answered yet (meta API). */
  pendingCalls(session: SessionView): number {
    return this.callers.get(session)?.byRequest.size ?? 0;
  }

  private callerCalls(session: SessionView): CallerCalls {
    let calls = this.callers.get(session);
    if (!calls) this.callers.set(session, (calls = { byRequest: new Map(), bytes: 0 }));
    return calls;
  }

  private calleeWork(session: SessionView): CalleeWork {
    let work = this.callees.get(session);
    if (!work) this.callees.set(session, (work = { serving: new Set(), invocations: new Map(), invocationIds: new IdSequence() }));
    return work;
  }

  /** The registration a CALL to `procedure` would reach. */
  match(procedure: string): Registration | undefined {
    return this.index.best(procedure);
  }

  // ---- REGISTER / UNREGISTER ----

  /** `decision`: the authorizer's, obtained by the session (URI validity included). */
  register(session: SessionView, msg: RegisterMessage, decision: Decision): void {
    const requestId = msg[1];
    const options = msg[2];
    const procedure = msg[3];
    const match = options.match ?? 'exact';
    const invoke = options.invoke ?? 'single';
    if (decision === INVALID_URI) {
      return this.error(session, M.REGISTER, requestId, ErrorUri.invalidUri, `invalid procedure URI '${procedure}' for match '${match}'`);
    }
    const reserved = session.privileged ? undefined : reservedNamespace(procedure);
    if (reserved) {
      logRefusal(session, 'register', procedure, `the ${reserved} namespace is reserved for the router`);
      return this.error(session, M.REGISTER, requestId, ErrorUri.invalidUri, `'${procedure}': the ${reserved} namespace is reserved for the router`);
    }
    if (!decision.allow) {
      logRefusal(session, 'register', procedure);
      return this.error(session, M.REGISTER, requestId, ErrorUri.notAuthorized, `session is not authorized to register '${procedure}'`);
    }
    let reg = this.index.get(procedure, match);
    if (reg && reg.callees.length > 0) {
      if (options.force_reregister === true) {
        this.revokeAll(reg);
      } else if (reg.calleeOf(session)) {
        return this.error(session, M.REGISTER, requestId, ErrorUri.procedureAlreadyExists, `this session already registered '${procedure}'`);
      } else if (reg.invoke === 'single') {
        return this.error(session, M.REGISTER, requestId, ErrorUri.procedureAlreadyExists, `'${procedure}' is already registered (invoke 'single')`);
      } else if (reg.invoke !== invoke) {
        return this.error(session, M.REGISTER, requestId, ErrorUri.procedureExistsWithDifferentPolicy,
          `'${procedure}' is registered with invoke '${reg.invoke}', not '${invoke}'`);
      }
    }
    const created = !reg;
    if (!reg) {
      reg = new Registration(this.ids.next(), procedure, match, invoke);
      this.index.set(procedure, match, reg);
      this.byId.set(reg.id, reg);
    }
    // A registration kept alive only by its queue adopts the policy of whoever registers first.
    if (reg.callees.length === 0) reg.invoke = invoke;
    const concurrency = options.concurrency !== undefined && options.concurrency > 0 ? options.concurrency : Infinity;
    const callee = new Callee(session, reg, concurrency, options.disclose_caller === true, options.forward_timeout === true);
    reg.callees.push(callee);
    this.calleeWork(session).serving.add(callee);
    session.send([M.REGISTERED, requestId, reg.id]);
    const observer = this.realm.observer;
    if (observer) {
      if (created) observer.registrationCreated(session, reg);
      observer.calleeAdded(session, reg);
    }
    // Calls that waited for a callee stop counting the queue entry's "no callee" timeout.
    const queue = this.queues.get(reg);
    if (queue) for (const call of queue) if (call.timeoutMs === 0) call.clearTimer();
    this.drainQueue(reg);
  }

  unregister(session: SessionView, msg: UnregisterMessage): void {
    const requestId = msg[1];
    const registrationId = msg[2];
    const reg = this.byId.get(registrationId);
    const callee = reg?.calleeOf(session);
    if (!callee) {
      return this.error(session, M.UNREGISTER, requestId, ErrorUri.noSuchRegistration, `no registration ${registrationId} for this session`);
    }
    // Invocations already sent stay valid: the callee may still answer them.
    this.detachCallee(callee);
    session.send([M.UNREGISTERED, requestId]);
  }

  /**
   * junction.registration.set_concurrency: the callee's limit changes where it stands (a
   * re-registration would move it behind the others of an invoke 'first' or 'last' registration).
   */
  setConcurrency(reg: Registration, session: SessionView, concurrency: number): boolean {
    const callee = reg.calleeOf(session);
    if (!callee) return false;
    callee.concurrency = concurrency;
    this.drainQueue(reg); // calls queued for a slot may have one now
    return true;
  }

  /** Meta API remove_callee: the callee loses the registration; its in-flight calls still complete. */
  revokeCallee(reg: Registration, session: SessionView, reason?: string): boolean {
    const callee = reg.calleeOf(session);
    if (!callee) return false;
    if (session.supportsRevocation) {
      session.send([M.UNREGISTERED, 0, reason ? { registration: reg.id, reason } : { registration: reg.id }]);
    }
    this.detachCallee(callee);
    return true;
  }

  /** force_reregister: the registration's current callees are removed (told so if they can hear it). */
  private revokeAll(reg: Registration): void {
    for (const callee of [...reg.callees]) {
      if (callee.session.supportsRevocation) {
        callee.session.send([M.UNREGISTERED, 0, { registration: reg.id, reason: ErrorUri.unregistered }]);
      }
      reg.removeCallee(callee);
      this.callees.get(callee.session)?.serving.delete(callee);
      this.realm.observer?.calleeRemoved(callee.session, reg);
    }
  }

  private detachCallee(callee: Callee): void {
    const reg = callee.registration;
    reg.removeCallee(callee);
    this.callees.get(callee.session)?.serving.delete(callee);
    reg.lastSessionId = callee.session.id;
    this.realm.observer?.calleeRemoved(callee.session, reg);
    if (reg.callees.length > 0) {
      // A standby may now be first in line for calls that waited on the departed callee.
      this.drainQueue(reg);
      return;
    }
    const queue = this.queues.get(reg);
    if (queue) for (const call of queue) this.startNoCalleeTimer(call);
    this.deleteIfUnused(reg);
  }

  private deleteIfUnused(reg: Registration): void {
    if (reg.callees.length > 0 || this.queuedCalls(reg) > 0) return;
    if (this.byId.get(reg.id) !== reg) return;
    this.index.delete(reg.uri, reg.match);
    this.byId.delete(reg.id);
    this.queues.delete(reg);
    this.realm.observer?.registrationDeleted(reg.lastSessionId, reg);
  }

  // ---- CALL ----

  /** `decision`: the authorizer's, obtained by the session (URI validity included). */
  call(session: SessionView, msg: CallMessage, decision: Decision): void {
    const requestId = msg[1];
    const options = msg[2];
    const procedure = msg[3];
    if (options.progress === true) {
      throw new ProtocolViolation('progressive call invocations (CALL with progress) are not supported by this router');
    }
    const waiting = this.callerCalls(session);
    if (waiting.byRequest.has(requestId)) throw new ProtocolViolation(`CALL request ID ${requestId} is already in use by a pending call`);
    if (waiting.byRequest.size >= this.realm.maxPendingCalls) {
      return this.error(session, M.CALL, requestId, TOO_MANY_PENDING_CALLS,
        `this session already has ${waiting.byRequest.size} calls waiting for an answer (max_pending_calls ${this.realm.maxPendingCalls})`);
    }
    const bytes = approximateBytes(msg);
    if (waiting.bytes + bytes > this.realm.maxPendingCallBytes) {
      return this.error(session, M.CALL, requestId, TOO_MANY_PENDING_CALLS,
        `this session's calls waiting for an answer would hold ${waiting.bytes + bytes} bytes (max_pending_call_bytes ${this.realm.maxPendingCallBytes})`);
    }
    if (this.pendingBytes + bytes > this.realm.maxPendingCallBytesTotal) {
      return this.error(session, M.CALL, requestId, TOO_MANY_PENDING_CALLS,
        `calls waiting for an answer in this realm would hold more than max_pending_call_bytes_total (${this.realm.maxPendingCallBytesTotal} bytes)`);
    }
    if (decision === INVALID_URI) {
      return this.error(session, M.CALL, requestId, ErrorUri.invalidUri, `invalid procedure URI '${procedure}'`);
    }
    if (!decision.allow) {
      logRefusal(session, 'call', procedure);
      return this.error(session, M.CALL, requestId, ErrorUri.notAuthorized, `session is not authorized to call '${procedure}'`);
    }
    const reg = this.index.best(procedure);
    // A client's pattern registration (prefix '' or 'junc', wildcard '.setup.reveal') never
    // answers for the router's own procedures, even while the router has none registered there.
    if (!reg || (isReservedUri(procedure) && !isReservedUri(reg.uri))) {
      return this.error(session, M.CALL, requestId, ErrorUri.noSuchProcedure, `no callee registered for procedure '${procedure}'`);
    }
    const validate = decision.validate;
    if (validate?.call) {
      const problem = payloadProblem(validate.call, msg, 4, options);
      if (problem) return this.error(session, M.CALL, requestId, ErrorUri.invalidArgument, `call of procedure '${procedure}' with invalid application payload: ${problem}`);
    }
    const call = new Call(session, requestId, procedure, options, msg, reg, decision.disclose || options.disclose_me === true);
    call.validate = validate;
    waiting.byRequest.set(requestId, call);
    call.bytes = bytes;
    waiting.bytes += bytes;
    this.pendingBytes += bytes;
    if (call.timeoutMs > 0) call.timer = setTimeout(() => this.timedOut(call), call.timeoutMs);
    const callee = reg.pick();
    if (callee) this.invoke(call, callee);
    else this.queueOrRefuse(call);
  }

  private queueOrRefuse(call: Call): void {
    const reg = call.registration;
    if (!reg.saturated && reg.callees.length > 0) {
      reg.saturated = true;
      this.realm.observer?.registrationSaturated(reg);
    }
    const rule = this.queueRules.best(call.procedure);
    const scope = reg.invoke === 'roundrobin' || reg.invoke === 'random' ? 'every callee' : 'the callee';
    // A callee that does not read what it is sent is busy, not a slow consumer to disconnect.
    const backlogged = reg.callees.some((c) => c.session.sendBacklogged);
    if (!rule || rule.limit === 0) {
      return this.failCall(call, ErrorUri.maxConcurrencyReached, backlogged
        ? `'${call.procedure}': ${scope} of this ${reg.invoke} registration is busy (not reading what it is sent: its send queue is over max_send_queue); try again later`
        : `'${call.procedure}': ${scope} of this ${reg.invoke} registration is at its maximum concurrency`);
    }
    if (this.queuedCalls(reg) >= rule.limit) {
      if (!reg.queueFullReported) {
        reg.queueFullReported = true;
        this.realm.observer?.queueFull(reg, rule.limit);
      }
      return this.failCall(call, ErrorUri.maxConcurrencyReached,
        `'${call.procedure}': every callee is busy and the call queue is full (limit ${rule.limit})`);
    }
    call.state = 'queued';
    call.queueRule = rule;
    let queue = this.queues.get(reg);
    if (!queue) this.queues.set(reg, (queue = new Set()));
    queue.add(call);
    if (reg.callees.length === 0) this.startNoCalleeTimer(call);
    if (backlogged) this.drainWhenRead(reg);
  }

  /**
   * Queued calls are placed when a callee answers; a callee that is only backlogged answers nothing,
   * so look again shortly until its backlog is written (each call's queue timeout still bounds the wait).
   */
  private drainWhenRead(reg: Registration): void {
    if (reg.backlogTimer) return;
    reg.backlogTimer = setTimeout(() => {
      reg.backlogTimer = undefined;
      this.drainQueue(reg);
      if (this.queuedCalls(reg) > 0 && reg.callees.some((c) => c.session.sendBacklogged)) this.drainWhenRead(reg);
    }, BACKLOG_RETRY_MS);
    reg.backlogTimer.unref?.();
  }

  /** A queued call without its own timeout waits at most the queue entry's timeout for a callee. */
  private startNoCalleeTimer(call: Call): void {
    if (call.timer || !call.queueRule) return;
    const ms = call.queueRule.timeout;
    call.timer = setTimeout(() => this.timedOut(call), ms);
  }

  private invoke(call: Call, callee: Callee): void {
    const reg = call.registration;
    const caller = call.caller;
    call.state = 'running';
    call.callee = callee;
    callee.inflight++;
    const work = this.calleeWork(callee.session);
    const invocationId = work.invocationIds.next();
    call.invocationId = invocationId;
    const details: M.Dict = {};
    if (reg.match !== 'exact') details['procedure'] = call.procedure;
    // Who the caller is, is the caller's role's business (disclose.caller) or the caller's own
    // (disclose_me); a callee asking with disclose_caller gets it only if it is the router's own
    // (the meta API needs to know who asks), as Crossbar discloses to its wamp.* procedures.
    if (call.discloseCaller || (callee.discloseCaller && callee.session.internal)) {
      details['caller'] = caller.id;
      details['caller_authid'] = caller.authid;
      details['caller_authrole'] = caller.authrole;
    }
    // A router link's forwarding marks (Crossbar: CALL options.forward_for shows in INVOCATION details).
    const forwardFor = forwardForOf(call.message![2] as M.Dict);
    if (forwardFor) details['forward_for'] = forwardFor;
    if (call.receiveProgress && callee.session.supportsProgress) details['receive_progress'] = true;
    if (call.timeoutMs > 0 && callee.forwardTimeout) details['timeout'] = call.timeoutMs;
    const invocation = withPayload([M.INVOCATION, invocationId, reg.id, details], call.message!, 4);
    call.message = undefined;
    work.invocations.set(invocationId, call);
    if (!callee.session.send(invocation)) {
      this.releaseCalleeSlot(call);
      this.failCall(call, ErrorUri.payloadSizeExceeded, 'the call is larger than the callee accepts');
    }
  }

  // ---- answers from the callee ----

  yield(session: SessionView, msg: YieldMessage): void {
    const call = this.invocationOf(session, msg[1], 'YIELD');
    if (!call) return;
    if (msg[2].progress === true) {
      if (call.state !== 'running' || !call.receiveProgress) return;
      const progressType = call.validate?.callResultProgress ?? call.validate?.callResult;
      const problem = progressType && payloadProblem(progressType, msg, 3, msg[2]);
      // An invalid progressive result ends the call for the caller; the callee is not told (as Crossbar).
      if (problem) return this.failCall(call, ErrorUri.invalidArgument, `call result from procedure '${call.procedure}' with invalid application payload: ${problem}`);
      call.caller.send(withPayload([M.RESULT, call.requestId, { progress: true }], msg, 3));
      // The timeout counts to the first result and between results.
      if (call.timer && call.timeoutMs > 0) call.timer.refresh();
      return;
    }
    this.releaseCalleeSlot(call);
    if (call.state === 'running') {
      const problem = call.validate?.callResult && payloadProblem(call.validate.callResult, msg, 3, msg[2]);
      // The caller gets the error instead of the invalid result; the callee is not told (as Crossbar).
      if (problem) this.failCall(call, ErrorUri.invalidArgument, `call result from procedure '${call.procedure}' with invalid application payload: ${problem}`);
      else this.answerCaller(call, withPayload([M.RESULT, call.requestId, {}], msg, 3), 'result');
    }
    this.drainQueue(call.registration);
  }

  invocationError(session: SessionView, msg: InvocationErrorMessage): void {
    const call = this.invocationOf(session, msg[2], 'ERROR');
    if (!call) return;
    const uri = msg[4];
    if (!isValidUri(uri)) throw new ProtocolViolation(`ERROR with an invalid error URI '${uri}'`);
    this.releaseCalleeSlot(call);
    if (call.state === 'running') {
      const problem = call.validate?.callError && payloadProblem(call.validate.callError, msg, 5, msg[3]);
      if (problem) this.failCall(call, ErrorUri.invalidArgument, `call error from procedure '${call.procedure}' with invalid application payload: ${problem}`);
      else this.answerCaller(call, withPayload([M.ERROR, M.CALL, call.requestId, msg[3], uri], msg, 5), 'error');
    }
    this.drainQueue(call.registration);
  }

  /** The call an answer refers to; undefined for late answers to invocations already given up. */
  private invocationOf(session: SessionView, invocationId: number, what: string): Call | undefined {
    const work = this.callees.get(session);
    const call = work?.invocations.get(invocationId);
    if (call) return call;
    // IDs we issued and forgot belong to calls already settled (e.g. the caller left): discard.
    if (work && invocationId <= work.invocationIds.current) return undefined;
    throw new ProtocolViolation(`${what} for invocation ${invocationId}, which was never sent`);
  }

  // ---- CANCEL, timeouts, departures ----

  cancel(session: SessionView, msg: CancelMessage): void {
    const call = this.callers.get(session)?.byRequest.get(msg[1]);
    if (!call) return; // already answered: nothing to cancel
    let mode = msg[2].mode ?? 'killnowait';
    if (call.state === 'queued') {
      this.queues.get(call.registration)?.delete(call);
      this.failCall(call, ErrorUri.canceled, 'the call was canceled while queued');
      this.deleteIfUnused(call.registration);
      return;
    }
    const callee = call.callee!;
    if (!callee.session.supportsCanceling) mode = 'skip';
    if (mode === 'kill') {
      if (call.killRequested) return;
      call.killRequested = true;
      callee.session.send([M.INTERRUPT, call.invocationId, { mode: 'kill' }]);
      return;
    }
    if (mode === 'killnowait') callee.session.send([M.INTERRUPT, call.invocationId, { mode: 'killnowait' }]);
    this.failCall(call, ErrorUri.canceled, 'the call was canceled');
  }

  private timedOut(call: Call): void {
    call.timer = undefined;
    if (call.state === 'queued') {
      const waitedForCallee = call.timeoutMs === 0;
      this.queues.get(call.registration)?.delete(call);
      this.failCall(call, ErrorUri.timeout, waitedForCallee
        ? `no callee for '${call.procedure}' came within the queue's ${call.queueRule!.timeout} ms`
        : `the call timed out after ${call.timeoutMs} ms while queued`);
      this.deleteIfUnused(call.registration);
      return;
    }
    if (call.state !== 'running') return;
    const callee = call.callee!;
    if (callee.session.supportsCanceling) callee.session.send([M.INTERRUPT, call.invocationId, { mode: 'killnowait' }]);
    this.failCall(call, ErrorUri.timeout, `the call timed out after ${call.timeoutMs} ms`);
  }

  /** The session left the realm: its calls, as caller and as callee, end now. */
  removeSession(session: SessionView): void {
    this.callerLeft(session);
    this.calleeLeft(session);
  }

  /** Its queued calls are dropped, its running ones interrupted; nobody is left to answer. */
  private callerLeft(session: SessionView): void {
    const waiting = this.callers.get(session);
    if (!waiting) return;
    this.callers.delete(session);
    this.pendingBytes -= waiting.bytes;
    for (const call of waiting.byRequest.values()) {
      call.clearTimer();
      if (call.state === 'queued') {
        this.queues.get(call.registration)?.delete(call);
        this.deleteIfUnused(call.registration);
      } else if (call.state === 'running') {
        call.state = 'abandoned';
        const callee = call.callee!;
        if (callee.session !== session && callee.session.supportsCanceling) {
          callee.session.send([M.INTERRUPT, call.invocationId, { mode: 'killnowait' }]);
        }
      }
    }
  }

  /** Its in-flight invocations can never be answered now: their callers get an error. */
  private calleeLeft(session: SessionView): void {
    const work = this.callees.get(session);
    if (!work) return;
    for (const call of work.invocations.values()) {
      call.callee!.inflight--;
      if (call.state === 'running') this.failCall(call, ErrorUri.canceled, 'callee disconnected from in-flight request');
    }
    work.invocations.clear();
    for (const callee of work.serving) this.detachCallee(callee);
    this.callees.delete(session);
  }

  /**
   * A CALL the router failed to handle (a bug of ours, answered with internal_error by the
   * session): the caller no longer waits for it.
   */
  forgetCall(session: SessionView, requestId: number): void {
    const call = this.callers.get(session)?.byRequest.get(requestId);
    if (!call) return;
    this.stopWaiting(call);
    call.state = 'abandoned';
  }

  // ---- the end-of-call paths ----

  /** Places queued calls on callees with free slots, oldest first. */
  private drainQueue(reg: Registration): void {
    const queue = this.queues.get(reg);
    while (queue !== undefined && queue.size > 0) {
      const callee = reg.pick();
      if (!callee) return;
      reg.queueFullReported = false;
      const call = queue.values().next().value as Call;
      queue.delete(call);
      call.queueRule = undefined;
      if (call.timeoutMs === 0) call.clearTimer();
      this.invoke(call, callee);
    }
    // Nobody waits and a slot was just freed: the registration is no longer saturated.
    reg.saturated = false;
  }

  /** The callee answered (or can no longer answer): its slot is free again. */
  private releaseCalleeSlot(call: Call): void {
    const callee = call.callee!;
    this.callees.get(callee.session)?.invocations.delete(call.invocationId);
    callee.inflight--;
  }

  /** The callee's RESULT or ERROR goes to the caller (or payload_size_exceeded, if its transport refuses it). */
  private answerCaller(call: Call, answer: M.WampMessage, what: 'result' | 'error'): void {
    this.stopWaiting(call);
    if (!call.caller.send(answer)) {
      this.error(call.caller, M.CALL, call.requestId, ErrorUri.payloadSizeExceeded, `the ${what} is larger than the caller accepts`);
    }
  }

  /** The router answers the call with an error now; the callee's late answer, if any, only frees its slot. */
  private failCall(call: Call, uri: string, message: string): void {
    this.stopWaiting(call);
    call.state = 'abandoned';
    this.error(call.caller, M.CALL, call.requestId, uri, message);
  }

  /** The caller's side is settled: out of its table, its bytes given back, its timer stopped. */
  private stopWaiting(call: Call): void {
    call.clearTimer();
    const waiting = this.callers.get(call.caller);
    if (waiting?.byRequest.get(call.requestId) !== call) return;
    waiting.byRequest.delete(call.requestId);
    waiting.bytes -= call.bytes;
    this.pendingBytes -= call.bytes;
    // Settled for the caller: nothing of its payload stays with a callee that may never answer.
    call.message = undefined;
  }

  private error(session: SessionView, type: number, requestId: number, uri: string, message: string): void {
    session.send([M.ERROR, type, requestId, {}, uri, [message]]);
  }
}
