// The meta API of one realm: wamp.session.* and wamp.registration.* procedures and meta events,
// and Junction's own (junction.session.get, junction.registration.get/set_concurrency, junction.rlink.*).
// It joins the realm as an ordinary in-process session (role 'trusted', marked internal so it may
// use the reserved wamp.* namespace) and answers from read-only views of the realm.

import type { Dict } from '../wamp/message.js';
import { ErrorUri } from '../wamp/errors.js';
import { isReservedUri, isValidUri, isWampUri } from '../wamp/uri.js';
import { isDict, publishOptionsProblem } from '../wamp/validate.js';
import { TRUSTED_ROLE } from '../wamp/roles.js';
import { ClientSession, WampError, type ProcedureHandler } from '../client/client-session.js';
import type { SessionFactory } from '../core-boundary.js';
import type { Realm, RealmObserver } from '../router/realm.js';
import type { Session } from '../router/session.js';
import type { SessionView } from '../router/session-view.js';
import type { Registration } from '../router/registration.js';
import type { Subscription } from '../router/broker.js';
import type { TestamentScope } from '../router/session.js';
import { storedPayload } from '../router/event-store.js';
import { routerLinkDetails, routerLinkState, type RouterLinkView } from './router-link-status.js';
import { defaultKillReason, junctionSessionDetails, killByAuthroleResult, onLeaveArgs, sessionDetails } from './wire-dialect.js';

function subscriptionDetails(s: Subscription): Dict {
  return { id: s.id, created: s.created, uri: s.uri, match: s.match };
}

function registrationDetails(r: Registration): Dict {
  return { id: r.id, created: r.created, uri: r.uri, match: r.match, invoke: r.invoke };
}

/** junction.session.get's `junction` dict: the session's send queue and limits. */
function sessionStats(s: Session, joined: number | undefined, pendingCalls: number): Dict {
  const q = s.transport.sendQueue?.();
  return {
    joined: joined === undefined ? null : new Date(joined).toISOString(),
    send_queue_bytes: q?.bytes ?? 0,
    send_queue_limit: q?.limit ?? null,
    send_queue_policy: q?.policy ?? null,
    dropped_events: q?.droppedEvents ?? 0,
    slow_consumer: q?.slow ?? false,
    pending_calls: pendingCalls,
  };
}

/** junction.registration.get: RegistrationDetails with each callee's load and the queue depth. */
function registrationLoad(r: Registration, queued: number): Dict {
  return {
    ...registrationDetails(r),
    callees: r.callees.map((c) => ({
      session: c.session.id,
      concurrency: Number.isFinite(c.concurrency) ? c.concurrency : null,
      inflight: c.inflight,
    })),
    queued,
  };
}

/**
 * add_testament's `publish_options`, checked now as a PUBLISH's options would be: a testament is
 * published while its session leaves, when nobody is left to hear an error.
 */
function testamentOptions(given: unknown): Dict {
  if (given === undefined || given === null) return {};
  if (!isDict(given)) throw new WampError(ErrorUri.invalidArgument, ['publish_options must be a dict']);
  const problem = publishOptionsProblem(given);
  if (problem) throw new WampError(ErrorUri.invalidArgument, [`publish_options: ${problem}`]);
  // A transparent payload cannot be built from the testament's args and kwargs.
  if (given['enc_algo'] !== undefined || given['ppt_scheme'] !== undefined) {
    throw new WampError(ErrorUri.invalidArgument, ['publish_options: payload transparency (enc_algo, ppt_scheme) is not available for testaments']);
  }
  const options: Dict = { ...given };
  // A testament is published when nobody is left to receive an acknowledgement.
  delete options['acknowledge'];
  delete options['exclude_me'];
  return options;
}
/** The meta API's own procedures: wamp.* and its junction.* ones, which no listing shows (as Crossbar hides its own). */
function routerOwn(r: Registration): boolean {
  return isWampUri(r.uri) || (r.callees.length > 0 && r.callees.every((c) => c.session.internal));
}

/** Per session and scope: testaments are held in memory for the session's whole life. */
const MAX_TESTAMENTS = 100;

export class MetaApi implements RealmObserver {
  private session: ClientSession | undefined;

  /** `links`: the realm's router links at the time of asking (none until node.ts has started them). */
  constructor(private readonly realm: Realm, private readonly links: () => readonly RouterLinkView[] = () => []) {}

  async start(factory: SessionFactory): Promise<void> {
    this.session = await ClientSession.connect(factory, {
      realm: this.realm.name, role: TRUSTED_ROLE, authid: 'junction', name: 'meta-api', internal: true,
    });
    const procedures: Record<string, ProcedureHandler> = {
      'wamp.session.count': (args) => this.clientSessions(args[0]).length,
      'wamp.session.list': (args) => this.clientSessions(args[0]).map((s) => s.id),
      // The same dict as on_join's (Crossbar's SessionDetails by default); Junction's queue figures
      // are junction.session.get's, so that this result compares equal to the on_join details.
      'wamp.session.get': (args) => sessionDetails(this.realm.wire, this.clientSession(args[0]), this.realm.name),
      'junction.session.get': (args) => {
        const s = this.clientSession(args[0]);
        return { ...junctionSessionDetails(s), junction: sessionStats(s, s.joinedAt || undefined, this.realm.dealer.pendingCalls(s)) };
      },
      // reason and message: keyword arguments (the spec) or positional after the first (Crossbar's
      // signature kill(session_id, reason=None, message=None), which Autobahn|Python callers use).
      'wamp.session.kill': (args, kwargs, ctx) => {
        const id = args[0];
        if (id === ctx.details['caller']) throw new WampError(ErrorUri.noSuchSession, ['a session cannot kill itself']);
        const { reason, message } = this.killReason(args, 1, kwargs);
        if (typeof id !== 'number' || !this.realm.kill(id, reason, message)) throw new WampError(ErrorUri.noSuchSession, [`no session ${String(id)}`]);
        return undefined;
      },
      'wamp.session.kill_by_authid': (args, kwargs, ctx) => this.killWhere(args, 1, kwargs, ctx.details['caller'], (s) => s.authid === args[0]),
      'wamp.session.kill_by_authrole': (args, kwargs, ctx) =>
        killByAuthroleResult(this.realm.wire, this.killWhere(args, 1, kwargs, ctx.details['caller'], (s) => s.authrole === args[0])),
      'wamp.session.kill_all': (args, kwargs, ctx) => this.killWhere(args, 0, kwargs, ctx.details['caller'], () => true).length,
      // With a session ID (Crossbar's optional argument): that session's registrations only.
      'wamp.registration.list': (args) => {
        const only = args[0] === undefined || args[0] === null ? undefined : this.clientSession(args[0]);
        const out: Record<string, number[]> = { exact: [], prefix: [], wildcard: [] };
        for (const r of this.realm.dealer.registrations()) {
          if (routerOwn(r) || (only && !r.callees.some((c) => c.session === only))) continue;
          out[r.match]!.push(r.id);
        }
        return out;
      },
      'wamp.registration.lookup': (args) => {
        const match = ((args[1] as Dict | undefined)?.['match'] as string | undefined) ?? 'exact';
        for (const r of this.realm.dealer.registrations()) if (r.uri === args[0] && r.match === match && !routerOwn(r)) return r.id;
        return null;
      },
      'wamp.registration.match': (args) => {
        const r = typeof args[0] === 'string' ? this.realm.dealer.match(args[0]) : undefined;
        return r && r.callees.length > 0 && !routerOwn(r) ? r.id : null;
      },
      'wamp.registration.get': (args) => registrationDetails(this.registration(args[0])),
      'junction.registration.get': (args) => this.registrationLoad(this.registration(args[0])),
      // The calling session's own limit as a callee of the registration (a router link's, following the callees behind it).
      'junction.registration.set_concurrency': (args, _kwargs, ctx) => {
        const r = this.registration(args[0]);
        const given = args[1];
        const limited = typeof given === 'number' && Number.isInteger(given) && given > 0;
        if (!limited && given !== null && given !== 0) throw new WampError(ErrorUri.invalidArgument, ['concurrency must be a positive integer, or 0 or null for no limit']);
        if (!this.realm.dealer.setConcurrency(r, this.clientSession(ctx.details['caller']), limited ? given : Infinity)) {
          throw new WampError(ErrorUri.noSuchRegistration, [`the calling session is not a callee of registration ${r.id}`]);
        }
        return undefined;
      },
      'wamp.registration.list_callees': (args, kwargs) => {
        const r = this.registration(args[0]);
        // details=true: Junction's per-callee load instead of bare session IDs.
        return kwargs['details'] === true ? this.registrationLoad(r)['callees'] : r.callees.map((c) => c.session.id);
      },
      'wamp.registration.count_callees': (args) => this.registration(args[0]).callees.length,
      'wamp.registration.remove_callee': (args, kwargs) => {
        const r = this.registration(args[0]);
        const s = this.clientSession(args[1]);
        if (!this.realm.dealer.revokeCallee(r, s, this.optionalReason(kwargs))) {
          throw new WampError(ErrorUri.noSuchRegistration, [`session ${s.id} is not a callee of registration ${r.id}`]);
        }
        return undefined;
      },
      'wamp.subscription.list': (args) => {
        const only = args[0] === undefined || args[0] === null ? undefined : this.clientSession(args[0]);
        const out: Record<string, number[]> = { exact: [], prefix: [], wildcard: [] };
        for (const s of this.realm.broker.subscriptions()) {
          if (isWampUri(s.uri) || (only && !s.subscribers.has(only))) continue;
          out[s.match]!.push(s.id);
        }
        return out;
      },
      'wamp.subscription.lookup': (args) => {
        const match = ((args[1] as Dict | undefined)?.['match'] as string | undefined) ?? 'exact';
        if (typeof args[0] !== 'string' || (match !== 'exact' && match !== 'prefix' && match !== 'wildcard')) return null;
        return this.realm.broker.lookup(args[0], match)?.id ?? null;
      },
      'wamp.subscription.match': (args) => {
        if (typeof args[0] !== 'string') return null;
        const ids = this.realm.broker.matching(args[0]).filter((s) => !isWampUri(s.uri)).map((s) => s.id);
        return ids.length > 0 ? ids : null;
      },
      'wamp.subscription.get': (args) => subscriptionDetails(this.subscription(args[0])),
      'wamp.subscription.list_subscribers': (args) => [...this.subscription(args[0]).subscribers].map((s) => s.id),
      'wamp.subscription.count_subscribers': (args) => this.subscription(args[0]).subscribers.size,
      'wamp.subscription.remove_subscriber': (args, kwargs) => {
        const sub = this.subscription(args[0]);
        const s = this.clientSession(args[1]);
        if (!sub.subscribers.has(s)) throw new WampError(ErrorUri.noSuchSubscription, [`session ${s.id} is not subscribed to ${sub.id}`]);
        this.realm.broker.removeSubscriber(sub, s, this.optionalReason(kwargs));
        return undefined;
      },
      'wamp.subscription.get_events': (args, kwargs, ctx) => this.events(args[0], args[1] ?? kwargs['limit'], kwargs, ctx.details['caller']),
      'junction.rlink.list': () => this.links().map((l) => l.config.id),
      'junction.rlink.get': (args) => {
        const link = this.links().find((l) => l.config.id === args[0]);
        if (!link) throw new WampError('junction.error.no_such_rlink', [`no router link '${String(args[0])}' in realm '${this.realm.name}'`]);
        return routerLinkDetails(link);
      },
      'wamp.session.add_testament': (args, kwargs, ctx) => {
        const s = this.clientSession(ctx.details['caller']);
        const [topic, tArgs, tKwargs] = args;
        if (typeof topic !== 'string' || !isValidUri(topic) || isReservedUri(topic)) throw new WampError(ErrorUri.invalidUri, [`invalid testament topic '${String(topic)}'`]);
        const options = testamentOptions(kwargs['publish_options']);
        const list = s.testaments[this.scope(kwargs)];
        if (list.length >= MAX_TESTAMENTS) throw new WampError('wamp.error.testament_error', [`at most ${MAX_TESTAMENTS} testaments per scope`]);
        list.push({
          topic,
          args: Array.isArray(tArgs) ? tArgs : undefined,
          kwargs: isDict(tKwargs) ? tKwargs : undefined,
          options,
        });
        return undefined;
      },
      'wamp.session.flush_testaments': (_args, kwargs, ctx) => {
        const s = this.clientSession(ctx.details['caller']);
        const scope = this.scope(kwargs);
        const count = s.testaments[scope].length;
        s.testaments[scope] = [];
        return count;
      },
    };
    await Promise.all(Object.entries(procedures).map(([uri, handler]) =>
      this.session!.register(uri, handler, { disclose_caller: true })));
    this.realm.observer = this;
  }

  async stop(): Promise<void> {
    this.realm.observer = undefined;
    await this.session?.close();
  }

  /** junction.rlink.on_state: one of the realm's router links changed state. */
  routerLinkChanged(link: RouterLinkView): void {
    this.publish('junction.rlink.on_state', [routerLinkState(link)]);
  }

  // ---- RealmObserver: meta events ----

  sessionJoined(s: Session): void {
    if (!s.internal) this.publish('wamp.session.on_join', [sessionDetails(this.realm.wire, s, this.realm.name)]);
  }
  sessionLeft(s: Session): void {
    if (!s.internal) this.publish('wamp.session.on_leave', onLeaveArgs(this.realm.wire, s));
  }
  registrationCreated(s: SessionView, r: Registration): void {
    if (!isWampUri(r.uri)) this.publish('wamp.registration.on_create', [s.id, registrationDetails(r)]);
  }
  calleeAdded(s: SessionView, r: Registration): void {
    if (!isWampUri(r.uri)) this.publish('wamp.registration.on_register', [s.id, r.id]);
  }
  calleeRemoved(s: SessionView, r: Registration): void {
    if (!isWampUri(r.uri)) this.publish('wamp.registration.on_unregister', [s.id, r.id]);
  }
  registrationDeleted(sessionId: number, r: Registration): void {
    if (!isWampUri(r.uri)) this.publish('wamp.registration.on_delete', [sessionId, r.id]);
  }
  registrationSaturated(r: Registration): void {
    this.publish('junction.registration.on_saturated', [r.id, this.registrationLoad(r)]);
  }
  queueFull(r: Registration, limit: number): void {
    this.publish('junction.registration.on_queue_full', [r.id, { ...this.registrationLoad(r), limit }]);
  }
  slowConsumer(s: Session, disconnecting: boolean): void {
    if (s.internal) return;
    const q = s.transport.sendQueue?.();
    this.publish('junction.session.on_slow_consumer', [s.id, {
      policy: q?.policy ?? null,
      dropped: q?.droppedEvents ?? 0,
      send_queue_bytes: q?.bytes ?? 0,
      send_queue_limit: q?.limit ?? null,
      disconnected: disconnecting,
    }]);
  }

  subscriptionCreated(s: SessionView, sub: Subscription): void {
    if (!isWampUri(sub.uri)) this.publish('wamp.subscription.on_create', [s.id, subscriptionDetails(sub)]);
  }
  subscriberAdded(s: SessionView, sub: Subscription): void {
    if (!isWampUri(sub.uri)) this.publish('wamp.subscription.on_subscribe', [s.id, sub.id]);
  }
  subscriberRemoved(s: SessionView, sub: Subscription): void {
    if (!isWampUri(sub.uri)) this.publish('wamp.subscription.on_unsubscribe', [s.id, sub.id]);
  }
  subscriptionDeleted(s: SessionView, sub: Subscription): void {
    if (!isWampUri(sub.uri)) this.publish('wamp.subscription.on_delete', [s.id, sub.id]);
  }

  // ---- helpers ----

  /** The calls waiting in its queue are the dealer's. */
  private registrationLoad(r: Registration): Dict {
    return registrationLoad(r, this.realm.dealer.queuedCalls(r));
  }

  private scope(kwargs: Dict): TestamentScope {
    const scope = kwargs['scope'] ?? 'destroyed';
    if (scope !== 'destroyed' && scope !== 'detached') throw new WampError('wamp.error.testament_error', [`scope must be 'destroyed' or 'detached', not '${String(scope)}'`]);
    return scope;
  }

  private optionalReason(kwargs: Dict): string | undefined {
    const reason = kwargs['reason'];
    if (reason === undefined) return undefined;
    if (!isValidUri(reason)) throw new WampError(ErrorUri.invalidUri, [`invalid reason URI '${String(reason)}'`]);
    return reason;
  }

  private subscription(id: unknown): Subscription {
    const s = typeof id === 'number' ? this.realm.broker.subscription(id) : undefined;
    if (!s || isWampUri(s.uri)) throw new WampError(ErrorUri.noSuchSubscription, [`no subscription ${String(id)}`]);
    return s;
  }

  /**
   * wamp.subscription.get_events(subscription, limit=10): the kept history under the subscription,
   * newest first, at most `limit` events (positional as Crossbar takes it, or the `limit` kwarg).
   */
  private events(subscriptionId: unknown, limitArg: unknown, kwargs: Dict, callerId: unknown): Dict[] {
    if (limitArg !== undefined && !(Number.isSafeInteger(limitArg) && (limitArg as number) > 0)) {
      throw new WampError(ErrorUri.invalidArgument, [`limit must be a positive whole number, got ${JSON.stringify(limitArg)}`]);
    }
    const limit = (limitArg as number | undefined) ?? 10;
    const sub = this.subscription(subscriptionId);
    const caller = typeof callerId === 'number' ? this.realm.sessions.get(callerId) : undefined;
    if (!caller) throw new WampError(ErrorUri.noSuchSession);
    if (!this.realm.authorizer.authorize(caller.authrole, 'subscribe', sub.uri).allow) {
      throw new WampError(ErrorUri.notAuthorized, [`not authorized to read the history of '${sub.uri}'`]);
    }
    const events = this.realm.broker.store.historyFor(sub.uri, sub.match);
    if (!events) throw new WampError('wamp.error.history_unavailable', [`no event history is kept for '${sub.uri}'`]);
    const topic = typeof kwargs['topic'] === 'string' ? kwargs['topic'] : undefined;
    const out: Dict[] = [];
    for (const e of events) {
      if (out.length >= limit) break;
      if (topic !== undefined && e.topic !== topic) continue;
      // authid/authrole filters of the original publish apply to whoever reads the history.
      const o = e.options;
      if (Array.isArray(o['eligible_authid']) && !o['eligible_authid'].includes(caller.authid)) continue;
      if (Array.isArray(o['eligible_authrole']) && !o['eligible_authrole'].includes(caller.authrole)) continue;
      if (Array.isArray(o['exclude_authid']) && o['exclude_authid'].includes(caller.authid)) continue;
      if (Array.isArray(o['exclude_authrole']) && o['exclude_authrole'].includes(caller.authrole)) continue;
      if (!this.realm.authorizer.authorize(caller.authrole, 'subscribe', e.topic).allow) continue;
      const { args, kwargs } = storedPayload(e);
      const publisher = e.disclosed ? e.publisher : undefined;
      out.push({
        // Crossbar's record of an event (its memory store): time, realm and publisher by these
        // names. Its publisher fields are filled here only when the publication was disclosed,
        // as for its subscribers (Crossbar shows them to every reader of the history).
        time_ns: Date.parse(e.timestamp) * 1e6,
        realm: this.realm.name,
        session_id: publisher?.session ?? null,
        authid: publisher?.authid ?? null,
        authrole: publisher?.authrole ?? null,
        timestamp: e.timestamp,
        subscription: sub.id,
        publication: e.publication,
        topic: e.topic,
        details: e.disclosed ? { publisher: e.publisher.session, publisher_authid: e.publisher.authid, publisher_authrole: e.publisher.authrole } : {},
        args: args ?? [],
        kwargs: kwargs ?? {},
      });
    }
    return out;
  }

  private publish(topic: string, args: unknown[]): void {
    void this.session?.publish(topic, args).catch(() => {});
  }

  private clientSessions(filterRoles: unknown): Session[] {
    const roles = Array.isArray(filterRoles) ? filterRoles : undefined;
    const out: Session[] = [];
    for (const s of this.realm.sessions.values()) {
      if (s.internal) continue;
      if (roles && !roles.includes(s.authrole)) continue;
      out.push(s);
    }
    return out;
  }

  private clientSession(id: unknown): Session {
    const s = typeof id === 'number' ? this.realm.sessions.get(id) : undefined;
    if (!s || s.internal) throw new WampError(ErrorUri.noSuchSession, [`no session ${String(id)}`]);
    return s;
  }

  private registration(id: unknown): Registration {
    const r = typeof id === 'number' ? this.realm.dealer.registration(id) : undefined;
    if (!r || routerOwn(r)) throw new WampError(ErrorUri.noSuchRegistration, [`no registration ${String(id)}`]);
    return r;
  }

  /** reason and message from the keyword arguments, or else from the positional ones at `at`, `at + 1`. */
  private killReason(args: unknown[], at: number, kwargs: Dict): { reason: string; message?: string } {
    const given = kwargs['reason'] ?? args[at] ?? undefined;
    const reason = given ?? defaultKillReason(this.realm.wire);
    if (!isValidUri(reason)) throw new WampError(ErrorUri.invalidUri, [`invalid reason URI '${String(reason)}'`]);
    const text = kwargs['message'] ?? args[at + 1];
    const message = typeof text === 'string' ? text : undefined;
    return { reason, message };
  }

  private killWhere(args: unknown[], at: number, kwargs: Dict, callerId: unknown, pick: (s: Session) => boolean): number[] {
    const { reason, message } = this.killReason(args, at, kwargs);
    const killed: number[] = [];
    for (const s of this.clientSessions(undefined)) {
      if (s.id !== callerId && pick(s) && this.realm.kill(s.id, reason, message)) killed.push(s.id);
    }
    return killed;
  }
}
