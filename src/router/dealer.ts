// The dealer: registrations, and every CALL's way to exactly one RESULT or ERROR.
//
// A call is placed on a callee chosen by the registration's invocation policy among callees with a
// free concurrency slot; when none is free it waits in the registration's FIFO queue (if the realm's
// `store.call-queue` has a matching entry with room) or is refused with max_concurrency_reached.
// A slot is held until the callee answers or leaves, even after the caller gave up (cancel,
// timeout, caller gone): the callee is still working on it.

import { logRefusal } from './refusals.js';
import type { Decision } from '../auth/authorizer.js';
import type { CallQueueConfig } from '../config/types.js';
import * as M from '../wamp/message.js';
import { ErrorUri } from '../wamp/errors.js';
import type { IdSequence } from '../wamp/ids.js';
import { isReservedUri, isValidPattern, isValidUri, reservedNamespace, type MatchPolicy } from '../wamp/uri.js';
import { ProtocolViolation } from '../wamp/validate.js';
import { PatternIndex } from '../wamp/pattern-index.js';
import { Call } from './call.js';
import { approximateBytes } from './payload-size.js';
import { Callee, Registration, type InvokePolicy } from './registration.js';
import type { Realm } from './realm.js';
import type { Session } from './session.js';

type CancelMode = 'skip' | 'kill' | 'killnowait';

/** A CALL while the caller already has the realm's `max_pending_calls` calls unanswered, or past
 *  `max_pending_call_bytes` (the session's) or `max_pending_call_bytes_total` (the realm's). */
export const TOO_MANY_PENDING_CALLS = 'junction.error.too_many_pending_calls';

/** How often calls queued behind a backlogged callee look for a free one again. */
const BACKLOG_RETRY_MS = 20;

/** `head` followed by the payload tail (args, kwargs) of `msg` from index `from`, without copying twice. */
function withPayload(head: unknown[], msg: M.WampMessage, from: number): M.WampMessage {
  if (msg.length > from) head.push(msg[from]);
  if (msg.length > from + 1) head.push(msg[from + 1]);
  return head;
}

export class Dealer {
  private readonly index = new PatternIndex<Registration>();
  private readonly byId = new Map<number, Registration>();
  private queueRules = new PatternIndex<CallQueueConfig>();

  constructor(private readonly realm: Realm, private readonly ids: IdSequence, callQueue: CallQueueConfig[]) {
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

  /** The registration a CALL to `procedure` would reach. */
  match(procedure: string): Registration | undefined {
    return this.index.best(procedure);
  }

  // ---- REGISTER / UNREGISTER ----

  /** `decided`: the dynamic authorizer's decision, already obtained by the session. */
  register(session: Session, msg: M.WampMessage, decided?: Decision): void {
    const requestId = msg[1] as number;
    const options = msg[2] as M.Dict;
    const procedure = msg[3] as string;
    const match = (options['match'] as MatchPolicy | undefined) ?? 'exact';
    const invoke = (options['invoke'] as InvokePolicy | undefined) ?? 'single';
    if (!isValidPattern(procedure, match, this.realm.uriCheck)) {
      return this.error(session, M.REGISTER, requestId, ErrorUri.invalidUri, `invalid procedure URI '${procedure}' for match '${match}'`);
    }
    const reserved = session.privileged ? undefined : reservedNamespace(procedure);
    if (reserved) {
      logRefusal(session, 'register', procedure, `the ${reserved} namespace is reserved for the router`);
      return this.error(session, M.REGISTER, requestId, ErrorUri.invalidUri, `'${procedure}': the ${reserved} namespace is reserved for the router`);
    }
    if (!(decided ?? this.realm.authorizer.authorize(session.authrole, 'register', procedure, match)).allow) {
      logRefusal(session, 'register', procedure);
      return this.error(session, M.REGISTER, requestId, ErrorUri.notAuthorized, `session is not authorized to register '${procedure}'`);
    }
    let reg = this.index.get(procedure, match);
    if (reg && reg.callees.length > 0) {
      if (options['force_reregister'] === true) {
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
    const concurrency = typeof options['concurrency'] === 'number' && options['concurrency'] > 0 ? options['concurrency'] : Infinity;
    const callee = new Callee(session, reg, concurrency, options['disclose_caller'] === true, options['forward_timeout'] === true);
    reg.callees.push(callee);
    session.callees.add(callee);
    session.send([M.REGISTERED, requestId, reg.id]);
    const observer = this.realm.observer;
    if (observer) {
      if (created) observer.registrationCreated(session, reg);
      observer.calleeAdded(session, reg);
    }
    // Calls that waited for a callee stop counting the queue entry's "no callee" timeout.
    for (const call of reg.queue) if (call.timeoutMs === 0) call.clearTimer();
    this.drain(reg);
  }

  unregister(session: Session, msg: M.WampMessage): void {
    const requestId = msg[1] as number;
    const reg = this.byId.get(msg[2] as number);
    const callee = reg?.calleeOf(session);
    if (!callee) {
      return this.error(session, M.UNREGISTER, requestId, ErrorUri.noSuchRegistration, `no registration ${String(msg[2])} for this session`);
    }
    // Invocations already sent stay valid: the callee may still answer them.
    this.detachCallee(callee);
    session.send([M.UNREGISTERED, requestId]);
  }

  /** Meta API remove_callee: the callee loses the registration; its in-flight calls still complete. */
  revokeCallee(reg: Registration, session: Session, reason?: string): boolean {
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
      callee.session.callees.delete(callee);
      this.realm.observer?.calleeRemoved(callee.session, reg);
    }
  }

  private detachCallee(callee: Callee): void {
    const reg = callee.registration;
    reg.removeCallee(callee);
    callee.session.callees.delete(callee);
    reg.lastSessionId = callee.session.id;
    this.realm.observer?.calleeRemoved(callee.session, reg);
    if (reg.callees.length > 0) {
      // A standby may now be first in line for calls that waited on the departed callee.
      this.drain(reg);
      return;
    }
    for (const call of reg.queue) this.startNoCalleeTimer(call);
    this.deleteIfUnused(reg);
  }

  private deleteIfUnused(reg: Registration): void {
    if (reg.callees.length > 0 || reg.queue.size > 0) return;
    if (this.byId.get(reg.id) !== reg) return;
    this.index.delete(reg.uri, reg.match);
    this.byId.delete(reg.id);
    this.realm.observer?.registrationDeleted(reg.lastSessionId, reg);
  }

  // ---- CALL ----

  call(session: Session, msg: M.WampMessage, decided?: Decision): void {
    const requestId = msg[1] as number;
    const options = msg[2] as M.Dict;
    const procedure = msg[3] as string;
    if (options['progress'] === true) {
      throw new ProtocolViolation('progressive call invocations (CALL with progress) are not supported by this router');
    }
    if (session.calls.has(requestId)) throw new ProtocolViolation(`CALL request ID ${requestId} is already in use by a pending call`);
    if (session.calls.size >= this.realm.maxPendingCalls) {
      return this.error(session, M.CALL, requestId, TOO_MANY_PENDING_CALLS,
        `this session already has ${session.calls.size} calls waiting for an answer (max_pending_calls ${this.realm.maxPendingCalls})`);
    }
    const bytes = approximateBytes(msg);
    if (session.pendingCallBytes + bytes > this.realm.maxPendingCallBytes) {
      return this.error(session, M.CALL, requestId, TOO_MANY_PENDING_CALLS,
        `this session's calls waiting for an answer would hold ${session.pendingCallBytes + bytes} bytes (max_pending_call_bytes ${this.realm.maxPendingCallBytes})`);
    }
    if (this.realm.pendingCallBytes + bytes > this.realm.maxPendingCallBytesTotal) {
      return this.error(session, M.CALL, requestId, TOO_MANY_PENDING_CALLS,
        `calls waiting for an answer in this realm would hold more than max_pending_call_bytes_total (${this.realm.maxPendingCallBytesTotal} bytes)`);
    }
    if (!isValidUri(procedure, this.realm.uriCheck)) {
      return this.error(session, M.CALL, requestId, ErrorUri.invalidUri, `invalid procedure URI '${procedure}'`);
    }
    const decision = decided ?? this.realm.authorizer.authorize(session.authrole, 'call', procedure);
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
    const call = new Call(session, requestId, procedure, options, msg, reg, decision.disclose || options['disclose_me'] === true);
    session.calls.set(requestId, call);
    call.bytes = bytes;
    session.pendingCallBytes += bytes;
    this.realm.pendingCallBytes += bytes;
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
      return this.refuse(call, ErrorUri.maxConcurrencyReached, backlogged
        ? `'${call.procedure}': ${scope} of this ${reg.invoke} registration is busy (not reading what it is sent: its send queue is over max_send_queue); try again later`
        : `'${call.procedure}': ${scope} of this ${reg.invoke} registration is at its maximum concurrency`);
    }
    if (reg.queue.size >= rule.limit) {
      if (!reg.queueFullReported) {
        reg.queueFullReported = true;
        this.realm.observer?.queueFull(reg, rule.limit);
      }
      return this.refuse(call, ErrorUri.maxConcurrencyReached,
        `'${call.procedure}': every callee is busy and the call queue is full (limit ${rule.limit})`);
    }
    call.state = 'queued';
    call.queueRule = rule;
    reg.queue.add(call);
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
      this.drain(reg);
      if (reg.queue.size > 0 && reg.callees.some((c) => c.session.sendBacklogged)) this.drainWhenRead(reg);
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
    const invocationId = callee.session.invocationIds.next();
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
    if (call.receiveProgress && callee.session.supportsProgress) details['receive_progress'] = true;
    if (call.timeoutMs > 0 && callee.forwardTimeout) details['timeout'] = call.timeoutMs;
    const invocation = withPayload([M.INVOCATION, invocationId, reg.id, details], call.message!, 4);
    call.message = undefined;
    callee.session.invocations.set(invocationId, call);
    if (!callee.session.send(invocation)) {
      this.release(call);
      this.refuse(call, ErrorUri.payloadSizeExceeded, 'the call is larger than the callee accepts');
    }
  }

  // ---- answers from the callee ----

  yield(session: Session, msg: M.WampMessage): void {
    const call = this.invocationOf(session, msg[1] as number, 'YIELD');
    if (!call) return;
    const options = msg[2] as M.Dict;
    if (options['progress'] === true) {
      if (call.state !== 'running' || !call.receiveProgress) return;
      call.caller.send(withPayload([M.RESULT, call.requestId, { progress: true }], msg, 3));
      // The timeout counts to the first result and between results.
      if (call.timer && call.timeoutMs > 0) call.timer.refresh();
      return;
    }
    this.release(call);
    if (call.state === 'running') {
      this.finish(call);
      const sent = call.caller.send(withPayload([M.RESULT, call.requestId, {}], msg, 3));
      if (!sent) this.error(call.caller, M.CALL, call.requestId, ErrorUri.payloadSizeExceeded, 'the result is larger than the caller accepts');
    }
    this.drain(call.registration);
  }

  invocationError(session: Session, msg: M.WampMessage): void {
    const call = this.invocationOf(session, msg[2] as number, 'ERROR');
    if (!call) return;
    const uri = msg[4] as string;
    if (!isValidUri(uri)) throw new ProtocolViolation(`ERROR with an invalid error URI '${uri}'`);
    this.release(call);
    if (call.state === 'running') {
      this.finish(call);
      const sent = call.caller.send(withPayload([M.ERROR, M.CALL, call.requestId, msg[3], uri], msg, 5));
      if (!sent) this.error(call.caller, M.CALL, call.requestId, ErrorUri.payloadSizeExceeded, 'the error is larger than the caller accepts');
    }
    this.drain(call.registration);
  }

  /** The call an answer refers to; undefined for late answers to invocations already given up. */
  private invocationOf(session: Session, invocationId: number, what: string): Call | undefined {
    const call = session.invocations.get(invocationId);
    if (call) return call;
    // IDs we issued and forgot belong to calls already settled (e.g. the caller left): discard.
    if (invocationId <= session.invocationIds.current) return undefined;
    throw new ProtocolViolation(`${what} for invocation ${invocationId}, which was never sent`);
  }

  // ---- CANCEL, timeouts, departures ----

  cancel(session: Session, msg: M.WampMessage): void {
    const call = session.calls.get(msg[1] as number);
    if (!call) return; // already answered: nothing to cancel
    let mode = ((msg[2] as M.Dict)['mode'] as CancelMode | undefined) ?? 'killnowait';
    if (call.state === 'queued') {
      call.registration.queue.delete(call);
      this.refuse(call, ErrorUri.canceled, 'the call was canceled while queued');
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
    this.abandon(call, ErrorUri.canceled, 'the call was canceled');
  }

  private timedOut(call: Call): void {
    call.timer = undefined;
    if (call.state === 'queued') {
      const waitedForCallee = call.timeoutMs === 0;
      call.registration.queue.delete(call);
      this.refuse(call, ErrorUri.timeout, waitedForCallee
        ? `no callee for '${call.procedure}' came within the queue's ${call.queueRule!.timeout} ms`
        : `the call timed out after ${call.timeoutMs} ms while queued`);
      this.deleteIfUnused(call.registration);
      return;
    }
    if (call.state !== 'running') return;
    const callee = call.callee!;
    if (callee.session.supportsCanceling) callee.session.send([M.INTERRUPT, call.invocationId, { mode: 'killnowait' }]);
    this.abandon(call, ErrorUri.timeout, `the call timed out after ${call.timeoutMs} ms`);
  }

  /** The caller is answered now; the callee's late answer will only free its slot. */
  private abandon(call: Call, uri: string, message: string): void {
    this.finish(call);
    call.state = 'abandoned';
    this.error(call.caller, M.CALL, call.requestId, uri, message);
  }

  removeSession(session: Session): void {
    // As caller: drop its queued calls, interrupt its running ones.
    for (const call of session.calls.values()) {
      call.clearTimer();
      if (call.state === 'queued') {
        call.registration.queue.delete(call);
        this.deleteIfUnused(call.registration);
      } else if (call.state === 'running') {
        call.state = 'abandoned';
        const callee = call.callee!;
        if (callee.session !== session && callee.session.supportsCanceling) {
          callee.session.send([M.INTERRUPT, call.invocationId, { mode: 'killnowait' }]);
        }
      }
    }
    for (const call of session.calls.values()) this.realm.pendingCallBytes -= call.bytes;
    session.calls.clear();
    session.pendingCallBytes = 0;
    // As callee: its in-flight calls can never be answered now.
    for (const call of session.invocations.values()) {
      call.callee!.inflight--;
      if (call.state === 'running') {
        this.finish(call);
        this.error(call.caller, M.CALL, call.requestId, ErrorUri.canceled, 'callee disconnected from in-flight request');
      }
    }
    session.invocations.clear();
    for (const callee of session.callees) this.detachCallee(callee);
  }

  // ---- bookkeeping ----

  /** Places queued calls on callees with free slots, oldest first. */
  private drain(reg: Registration): void {
    while (reg.queue.size > 0) {
      const callee = reg.pick();
      if (!callee) return;
      reg.queueFullReported = false;
      const call = reg.queue.values().next().value as Call;
      reg.queue.delete(call);
      call.queueRule = undefined;
      if (call.timeoutMs === 0) call.clearTimer();
      this.invoke(call, callee);
    }
    // Nobody waits and a slot was just freed: the registration is no longer saturated.
    reg.saturated = false;
  }

  /** The callee answered (or can no longer answer): its slot is free again. */
  private release(call: Call): void {
    const callee = call.callee!;
    callee.session.invocations.delete(call.invocationId);
    callee.inflight--;
  }

  /** The caller's side of the call is settled. */
  private finish(call: Call): void {
    call.clearTimer();
    if (call.caller.calls.get(call.requestId) !== call) return;
    call.caller.calls.delete(call.requestId);
    call.caller.pendingCallBytes -= call.bytes;
    this.realm.pendingCallBytes -= call.bytes;
    // Settled for the caller: nothing of its payload stays with a callee that may never answer.
    call.message = undefined;
  }

  private refuse(call: Call, uri: string, message: string): void {
    this.finish(call);
    call.state = 'abandoned';
    this.error(call.caller, M.CALL, call.requestId, uri, message);
  }

  private error(session: Session, type: number, requestId: number, uri: string, message: string): void {
    session.send([M.ERROR, type, requestId, {}, uri, [message]]);
  }
}
