// A WAMP session as the router sees it: transport-agnostic. It checks each message's shape, runs
// the opening/closing state machine and authentication, has the realm's authorizer decide each
// action (src/auth/authorizer.ts) and hands requests to the realm's dealer and broker, which own
// what follows (calls, registrations, subscriptions): the session keeps none of it.
//
// The realm and the router own sessions and sit above this file: a session sees them through the
// two views below (SessionRealm, SessionRouter), and the dealer and broker see a session through
// SessionView (src/router/session-view.ts).

import * as M from '../wamp/message.js';
import { ProtocolViolation, validateClientMessage } from '../wamp/validate.js';
import type { ActionMessage, AuthenticateMessage, ClientMessage, HelloMessage, PublishOptions } from '../wamp/client-messages.js';
import { ErrorUri, CloseReason } from '../wamp/errors.js';
import { isValidUri, reservedForPublishing } from '../wamp/uri.js';
import type { Action, Authorizer, AuthorizerCall, Decision, Requester } from '../auth/authorizer.js';
import { clientHasFeature, routerRoles, ROUTER_AGENT } from '../wamp/features.js';
import { beginAuthentication, type AuthOutcome, type PendingAuth } from '../auth/authenticator.js';
import { peerAddress, type FailureThrottle } from '../auth/throttle.js';
import type { AuthenticationGate } from '../auth/auth-gate.js';
import type { EncodingCache, SessionHandle, SessionOptions, Transport } from '../core-boundary.js';
import type { UriCheck } from '../wamp/uri.js';
import type { WireDialect } from '../config/types.js';
import type { Dealer } from './dealer.js';
import type { Broker } from './broker.js';
import type { SessionView } from './session-view.js';
import { logRefusal } from './refusals.js';
import { log } from '../log.js';
import { logSessionJoined, logSessionLeft } from './session-log.js';

type State = 'new' | 'authenticating' | 'established' | 'closing' | 'closed';

/** What a session sees of its realm (src/router/realm.ts): where its requests go, and join/leave. */
export interface SessionRealm {
  readonly name: string;
  /** The realm's random name on this router, in WELCOME (`_node`). */
  readonly node: string;
  /** Read per message: a config reload replaces it. */
  readonly authorizer: Authorizer;
  readonly uriCheck: UriCheck;
  /** Read per GOODBYE: a config reload may change it. */
  readonly wire: WireDialect;
  readonly dealer: Dealer;
  readonly broker: Broker;
  readonly observer: { slowConsumer(session: Session, disconnecting: boolean): void } | undefined;
  join(session: Session): void;
  leave(session: Session): void;
}

/** Who a service call is for: each purpose has a session of its own (see router-services/service-caller.ts). */
export type ServicePurpose = 'authenticator' | 'authorizer';

/** What a session sees of the router that opened it (src/router/router.ts). */
export interface SessionRouter {
  realm(name: string): SessionRealm | undefined;
  newSessionId(): number;
  /** The session's transport is gone. */
  sessionClosed(session: Session): void;
  /** Failed authentications per client address, shared by all transports. */
  readonly authThrottle: FailureThrottle;
  /** Calls to dynamic authenticators, admitted per client address and in total. */
  readonly authGate: AuthenticationGate;
  /** The router's own services: calls to a client's procedure (dynamic authenticators and authorizers). */
  readonly services: {
    call(realm: string, procedure: string, args: unknown[], purpose: ServicePurpose): Promise<{ args: unknown[] }>;
  };
}

export type TestamentScope = 'detached' | 'destroyed';
export interface Testament {
  topic: string;
  args: unknown[] | undefined;
  kwargs: M.Dict | undefined;
  /** Checked as a PUBLISH's options when the testament was added. */
  options: PublishOptions;
}

/** Messages a session may send while its authorizer is still deciding (then it is a flood). */
const MAX_WAITING_MESSAGES = 1000;
const NO_OPTIONS: M.Dict = Object.freeze({}) as M.Dict;
const CLIENT_ROLES = ['publisher', 'subscriber', 'caller', 'callee'];
/** How long we wait for the client's GOODBYE reply after we said GOODBYE. */
const GOODBYE_WAIT_MS = 2000;
/** Bits of Session.features. */
const FEATURE = { canceling: 1, progress: 2, revocation: 4, subscriptionRevocation: 8 } as const;

export class Session implements SessionHandle, Requester, SessionView {
  id = 0;
  realm: SessionRealm | undefined;
  authid = '';
  authrole = '';
  authmethod = '';
  authprovider = '';
  /** What its authentication method or authenticator gave it (WELCOME.authextra), for the meta API. */
  authextra: M.Dict | undefined;
  /** When it joined its realm (ms since the epoch; 0 until then): for the meta API. */
  joinedAt = 0;
  /** Callee-side features the dealer consults on every invocation. */
  /** The client features of its HELLO the router consults, as FEATURE bits (one field, not four: an idle session holds it). */
  private features = 0;
  /** Published when the session ends, detached ones first (wamp.session.add_testament); made on first use. */
  private testamentLists: Record<TestamentScope, Testament[]> | undefined;

  private state: State = 'new';
  private pendingAuth: PendingAuth | undefined;
  private authInProgress = false;
  private goodbyeTimer: NodeJS.Timeout | undefined;
  private openTimer: NodeJS.Timeout | undefined;
  /** Messages received while a dynamic authorizer decides an earlier one (as received, checked in their turn). */
  private waitingForAuthorizer: unknown[] | undefined;
  /** The authid the client asked for in HELLO, for logs only. */
  private helloAuthid = '';

  constructor(
    private readonly router: SessionRouter,
    readonly transport: Transport,
    private readonly options: SessionOptions = {},
  ) {
    const limit = options.openTimeoutMs ?? 0;
    if (limit > 0) {
      this.openTimer = setTimeout(() => this.openTimedOut(limit), limit);
      this.openTimer.unref?.();
    }
  }

  private clearOpenTimer(): void {
    if (!this.openTimer) return;
    clearTimeout(this.openTimer);
    this.openTimer = undefined;
  }

  /** A client that connects and never (or only half) opens its session holds nothing for long. */
  private openTimedOut(limit: number): void {
    if (this.state === 'authenticating' && this.authInProgress) {
      this.openTimer!.refresh(); // the router is the one taking its time
      return;
    }
    if (this.state !== 'new' && this.state !== 'authenticating') return;
    const waitingFor = this.state === 'new' ? 'HELLO' : 'AUTHENTICATE';
    log.info(`${this.transport.info.peer}: dropped: no ${waitingFor} within ${limit} ms`);
    this.abort(ErrorUri.timeout, `no ${waitingFor} within ${limit} ms`);
  }

  private get closed(): boolean {
    return this.state === 'closed';
  }

  get established(): boolean {
    return this.state === 'established';
  }

  /** The peer is not reading: more than its send queue limit waits to be written (network transports only). */
  get sendBacklogged(): boolean {
    return this.transport.sendBacklogged?.() === true;
  }

  /** The callee takes CANCEL (call_canceling). */
  get supportsCanceling(): boolean {
    return (this.features & FEATURE.canceling) !== 0;
  }

  /** The callee sends progressive results. */
  get supportsProgress(): boolean {
    return (this.features & FEATURE.progress) !== 0;
  }

  /** The callee is told when its registration is revoked. */
  get supportsRevocation(): boolean {
    return (this.features & FEATURE.revocation) !== 0;
  }

  /** The subscriber is told when its subscription is revoked. */
  get supportsSubscriptionRevocation(): boolean {
    return (this.features & FEATURE.subscriptionRevocation) !== 0;
  }

  get readsRawPayloads(): boolean {
    return this.transport.readsRawPayloads === true;
  }

  /** Router-internal sessions (meta API, service caller): not shown by the meta API. */
  get internal(): boolean {
    return this.options.internal === true;
  }

  /** The router's own sessions may register and publish under `wamp.*` and `junction.*`. */
  get privileged(): boolean {
    return this.options.internal === true || this.options.privileged === true;
  }

  send(message: M.WampMessage, cache?: EncodingCache): boolean {
    if (this.state === 'closed') return true;
    return this.transport.send(message, cache);
  }

  // ---- SessionHandle: called by the transport ----

  receive(raw: unknown): void {
    if (this.state === 'closed') return;
    if (this.waitingForAuthorizer) {
      // A dynamic authorizer is deciding an earlier message: later ones wait, in order.
      if (this.waitingForAuthorizer.length >= MAX_WAITING_MESSAGES) {
        return this.protocolError(`more than ${MAX_WAITING_MESSAGES} messages sent while the authorizer was deciding`);
      }
      this.waitingForAuthorizer.push(raw);
      return;
    }
    this.handle(raw);
  }

  private handle(raw: unknown): void {
    let msg: ClientMessage;
    try {
      msg = validateClientMessage(raw);
    } catch (err) {
      this.protocolError((err as Error).message);
      return;
    }
    this.guarded(msg, () => this.dispatch(msg));
  }

  private guarded(msg: ClientMessage, handle: () => void): void {
    try {
      handle();
    } catch (err) {
      if (err instanceof ProtocolViolation) {
        this.protocolError(err.message);
        return;
      }
      // A bug of ours must not take the router down, nor leave the request unanswered.
      log.error(`session ${this.id}: internal error handling ${M.MESSAGE_NAMES[msg[0]]}: ${(err as Error).stack}`);
      this.answerInternalError(msg);
    }
  }

  protocolError(reason: string): void {
    if (this.state === 'closed') return;
    log.warn(`session ${this.id || '(opening)'} ${this.transport.info.peer}: protocol violation: ${reason}`);
    this.transport.send([M.ABORT, { message: reason }, ErrorUri.protocolViolation]);
    this.terminate(true, `protocol violation: ${reason}`);
  }

  transportClosed(): void {
    this.router.sessionClosed(this);
    if (this.state === 'closed') return;
    this.terminate(false, 'connection closed');
  }

  /**
   * May this session do `action` on `uri`? The same decision its PUBLISH/SUBSCRIBE/... would get
   * (a reserved or invalid URI is no; a dynamic authorizer is asked), for transports that must
   * authorize a URI a message only names: an MQTT 5 request's response topic.
   */
  authorize(action: Action, uri: string): boolean | Promise<boolean> {
    const realm = this.realm;
    if (!realm || this.state !== 'established' || !isValidUri(uri, realm.uriCheck)) return false;
    const refused = () => {
      logRefusal(this, `${action} on`, uri, 'not authorized (named by a message of its own, e.g. as a response topic)');
      return false;
    };
    // As the broker decides: junction.rpc.* is where clients answer requests (src/wamp/uri.ts).
    if (action === 'publish' && reservedForPublishing(uri) !== undefined && !this.internal) return refused();
    const decision = realm.authorizer.decide(this, action, uri, NO_OPTIONS, realm.uriCheck);
    if (decision instanceof Promise) return decision.then((d) => d.allow || refused());
    return decision.allow || refused();
  }

  /** The transport's send queue went over its limit (events dropped), or it is closing for that. */
  slowConsumer(disconnecting: boolean): void {
    if (this.established) this.realm?.observer?.slowConsumer(this, disconnecting);
  }

  // ---- router-initiated closing ----

  /** Ends the session with GOODBYE (shutdown, kill); the transport closes on the reply or a timeout. */
  goodbye(reason: string = CloseReason.systemShutdown, message?: string): void {
    if (this.state !== 'established') {
      if (this.state === 'new' || this.state === 'authenticating') this.abort(reason, message ?? 'router is shutting down');
      return;
    }
    this.send([M.GOODBYE, message ? { message } : {}, reason]);
    this.leaveRealm(`router said goodbye (${reason})`);
    this.state = 'closing';
    this.goodbyeTimer = setTimeout(() => this.terminate(), GOODBYE_WAIT_MS);
    this.goodbyeTimer.unref?.();
  }

  abort(reason: string, message: string): void {
    if (this.state === 'closed') return;
    this.transport.send([M.ABORT, { message }, reason]);
    this.terminate(true, `aborted (${reason})`);
  }

  /**
   * Router shutdown: the session ends and its connection closes without GOODBYE or ABORT, which
   * clients (Autobahn|JS above all) take as a deliberate close and never retry after; a dropped
   * connection is what they reconnect after, as they would after a crash.
   */
  shutdown(): void {
    if (this.state === 'closed') return;
    this.terminate(false, 'router shutting down');
    if (this.transport.goAway) this.transport.goAway();
    else this.transport.close();
  }

  /** The testament lists (most sessions have none: an idle MQTT client's was ~100 bytes of empty lists). */
  get testaments(): Record<TestamentScope, Testament[]> {
    return (this.testamentLists ??= { detached: [], destroyed: [] });
  }

  /** Empties the testament lists, detached first, for publication at the end of the session. */
  takeTestaments(): Testament[] {
    const lists = this.testamentLists;
    this.testamentLists = undefined;
    return lists ? [...lists.detached, ...lists.destroyed] : [];
  }

  // ---- internals ----

  private dispatch(msg: ClientMessage): void {
    switch (this.state) {
      case 'new':
        if (msg[0] === M.HELLO) return this.onHello(msg);
        if (msg[0] === M.ABORT) return this.terminate();
        throw new ProtocolViolation(`${M.MESSAGE_NAMES[msg[0]]} received before HELLO`);
      case 'authenticating':
        if (msg[0] === M.AUTHENTICATE && !this.authInProgress) return this.onAuthenticate(msg);
        if (msg[0] === M.ABORT) return this.terminate();
        throw new ProtocolViolation(`${M.MESSAGE_NAMES[msg[0]]} received while authenticating`);
      case 'closing':
        // Our GOODBYE is out: the client's GOODBYE completes the close; anything else is ignored.
        if (msg[0] === M.GOODBYE || msg[0] === M.ABORT) this.terminate();
        return;
      case 'established':
        return this.onEstablished(msg);
    }
  }

  private onEstablished(msg: ClientMessage): void {
    const realm = this.realm!;
    switch (msg[0]) {
      case M.PUBLISH: return this.authorizeThenDispatch(msg, 'publish');
      case M.CALL: return this.authorizeThenDispatch(msg, 'call');
      case M.YIELD: return realm.dealer.yield(this, msg);
      case M.ERROR: return realm.dealer.invocationError(this, msg);
      case M.SUBSCRIBE: return this.authorizeThenDispatch(msg, 'subscribe');
      case M.UNSUBSCRIBE: return realm.broker.unsubscribe(this, msg);
      case M.REGISTER: return this.authorizeThenDispatch(msg, 'register');
      case M.UNREGISTER: return realm.dealer.unregister(this, msg);
      case M.CANCEL: return realm.dealer.cancel(this, msg);
      case M.GOODBYE:
        // Crossbar answers wamp.close.normal, the spec goodbye_and_out; clients check for Crossbar's.
        this.send([M.GOODBYE, {}, realm.wire === 'spec' ? CloseReason.goodbyeAndOut : CloseReason.normal]);
        this.terminate(true, `client said goodbye (${String(msg[2]).slice(0, 200)})`);
        return;
      case M.ABORT:
        this.terminate(true, `client aborted (${String(msg[2]).slice(0, 200)})`);
        return;
      default:
        throw new ProtocolViolation(`${M.MESSAGE_NAMES[msg[0]]} received on an established session`);
    }
  }

  /**
   * PUBLISH, CALL, SUBSCRIBE, REGISTER: the realm's authorizer decides (src/auth/authorizer.ts);
   * the broker or dealer acts on the decision. A dynamic authorizer may take its time: until it
   * answers, what the client sends next waits, so that requests are handled in order.
   */
  private authorizeThenDispatch(msg: ActionMessage, action: Action): void {
    const realm = this.realm!;
    const decision = realm.authorizer.decide(this, action, msg[3], msg[2], realm.uriCheck);
    if (!(decision instanceof Promise)) return this.dispatchDecided(msg, decision);
    this.waitingForAuthorizer = [];
    void decision.then((d) => this.decided(msg, d));
  }

  /** A dynamic decision arrived: its message goes on, then those that waited, until one waits again. */
  private decided(msg: ActionMessage, decision: Decision): void {
    const waiting = this.waitingForAuthorizer ?? [];
    this.waitingForAuthorizer = undefined;
    if (this.state !== 'established') return;
    this.guarded(msg, () => this.dispatchDecided(msg, decision));
    for (let i = 0; i < waiting.length; i++) {
      if (this.closed) return; // e.g. a protocol violation among them
      this.handle(waiting[i]);
      if (this.waitingForAuthorizer) {
        // The authorizer is asked again: the rest waits behind that message.
        (this.waitingForAuthorizer as unknown[]).push(...waiting.slice(i + 1));
        return;
      }
    }
  }

  private dispatchDecided(msg: ActionMessage, decision: Decision): void {
    const realm = this.realm!;
    switch (msg[0]) {
      case M.PUBLISH: return realm.broker.publish(this, msg, decision);
      case M.CALL: return realm.dealer.call(this, msg, decision);
      case M.SUBSCRIBE: return realm.broker.subscribe(this, msg, decision);
      case M.REGISTER: return realm.dealer.register(this, msg, decision);
    }
  }

  /** Only sessions whose role has an authorizer ever use this function (made on first use). */
  private callAuthorizerFn: AuthorizerCall | undefined;
  get callAuthorizer(): AuthorizerCall {
    return (this.callAuthorizerFn ??= (procedure, args) => this.router.services.call(this.realm!.name, procedure, args, 'authorizer').then((r) => r.args[0]));
  }

  private onHello(msg: HelloMessage): void {
    // A HELLO may name no realm (null or ''): authentication then assigns one (a principal's `realm`,
    // or what a dynamic authenticator returns), as Crossbar does.
    const realmName = msg[1] ?? '';
    const details = msg[2];
    if (typeof details['authid'] === 'string') this.helloAuthid = details['authid'].slice(0, 200);
    if (realmName !== '' && !isValidUri(realmName)) return this.abort(ErrorUri.invalidUri, `invalid realm URI '${realmName}'`);
    const roles = details['roles'];
    if (typeof roles !== 'object' || roles === null || !CLIENT_ROLES.some((r) => r in roles)) {
      throw new ProtocolViolation('HELLO must announce at least one client role (publisher, subscriber, caller, callee)');
    }
    if (realmName !== '') {
      const realm = this.router.realm(realmName);
      if (!realm) return this.abort(ErrorUri.noSuchRealm, `no realm '${realmName}' on this router`);
      this.realm = realm;
    }
    // Only the features the router consults are kept, not the client's whole announcement.
    const clientRoles = roles as Record<string, unknown>;
    let features = clientHasFeature(clientRoles, 'callee', 'call_canceling') ? FEATURE.canceling : 0;
    // The spec ties progressive results to call_canceling, but Autobahn|JS callees announce only
    // progressive_call_results; interoperability wins (Crossbar does not check either).
    if (clientHasFeature(clientRoles, 'callee', 'progressive_call_results')) features |= FEATURE.progress;
    if (clientHasFeature(clientRoles, 'callee', 'registration_revocation')) features |= FEATURE.revocation;
    if (clientHasFeature(clientRoles, 'subscriber', 'subscription_revocation')) features |= FEATURE.subscriptionRevocation;
    this.features = features;
    this.state = 'authenticating';
    // The ID is fixed now: WAMP-CRA challenges and dynamic authenticators name it.
    this.id = this.router.newSessionId();
    this.proceed(beginAuthentication(this.options.auth, details, {
      realm: realmName,
      session: this.id,
      transport: this.transport.info,
      // Admitted per client address and in total (src/auth/auth-gate.ts), through the service
      // caller's session for authenticators, apart from the authorizers' one.
      callAuthenticator: (authRealm, procedure, args) => this.router.authGate.run(
        peerAddress(this.transport.info.peer),
        () => this.router.services.call(authRealm, procedure, args, 'authenticator').then((r) => r.args[0]),
        () => this.state === 'authenticating',
      ),
    }));
  }

  private onAuthenticate(msg: AuthenticateMessage): void {
    const pending = this.pendingAuth;
    if (!pending) throw new ProtocolViolation('AUTHENTICATE without a CHALLENGE');
    this.pendingAuth = undefined;
    // Credentials are checked at the pace the throttle allows for this address: after repeated
    // failures, guesses wait their turn (sessions that need no credentials never wait).
    const address = peerAddress(this.transport.info.peer);
    const wait = this.router.authThrottle.admit(address);
    if (wait < 0) {
      log.warn(`session ${this.id} ${this.transport.info.peer}: refused: too many failed authentications from ${address}`);
      return this.abort(ErrorUri.authenticationFailed, 'too many failed authentications from this address; try again later');
    }
    const check = () => this.proceed(pending.authenticate(msg[1], msg[2]));
    if (wait === 0) return check();
    this.authInProgress = true;
    const timer = setTimeout(() => {
      this.authInProgress = false;
      if (this.state === 'authenticating') check();
    }, wait);
    timer.unref?.();
  }

  /** Continues authentication with an outcome that may arrive later (dynamic authenticators). */
  private proceed(outcome: AuthOutcome | Promise<AuthOutcome>): void {
    if (outcome instanceof Promise) {
      this.authInProgress = true;
      outcome.then(
        (o) => { this.authInProgress = false; if (this.state === 'authenticating') this.proceed(o); },
        (err: Error) => {
          this.authInProgress = false;
          log.error(`authentication failed with an error: ${err.stack}`);
          this.abort(ErrorUri.authenticationFailed, 'authentication failed');
        },
      );
      return;
    }
    if (outcome.kind === 'abort') {
      if (outcome.failure) {
        this.router.authThrottle.failed(peerAddress(this.transport.info.peer));
        log.warn(`session ${this.id} ${this.transport.info.peer}: authentication failed (realm '${this.realm?.name}', authid '${this.helloAuthid}')`);
      }
      return this.abort(outcome.reason, outcome.message);
    }
    if (outcome.kind === 'challenge') {
      this.pendingAuth = outcome.pending;
      this.send([M.CHALLENGE, outcome.method, outcome.extra]);
      return;
    }
    const { identity } = outcome;
    // The realm authentication assigned wins over the one asked for (src/auth/authenticator.ts).
    const realmName = identity.realm ?? this.realm?.name;
    const realm = realmName === undefined ? undefined : this.router.realm(realmName);
    if (!realm) {
      return this.abort(ErrorUri.noSuchRealm, realmName === undefined ? 'no realm given, and authentication assigned none' : `no realm '${realmName}' on this router`);
    }
    this.realm = realm;
    if (!realm.authorizer.hasRole(identity.authrole)) {
      return this.abort(ErrorUri.noSuchRole, `role '${identity.authrole}' does not exist on realm '${realm.name}'`);
    }
    this.authid = identity.authid;
    this.authrole = identity.authrole;
    this.authmethod = identity.authmethod;
    this.authprovider = identity.authprovider;
    this.authextra = identity.authextra;
    this.clearOpenTimer();
    this.state = 'established';
    const welcome: M.Dict = {
      realm: realm.name,
      authid: this.authid,
      authrole: this.authrole,
      authmethod: this.authmethod,
      authprovider: this.authprovider,
      roles: routerRoles(),
      agent: ROUTER_AGENT,
      _node: realm.node,
    };
    if (identity.authextra) welcome['authextra'] = identity.authextra;
    this.send([M.WELCOME, this.id, welcome]);
    realm.join(this);
    logSessionJoined(this);
  }

  private answerInternalError(msg: ClientMessage): void {
    const answerable = msg[0] === M.CALL || msg[0] === M.SUBSCRIBE || msg[0] === M.UNSUBSCRIBE || msg[0] === M.REGISTER ||
      msg[0] === M.UNREGISTER || (msg[0] === M.PUBLISH && msg[2].acknowledge === true);
    if (answerable && this.state === 'established') {
      if (msg[0] === M.CALL) this.realm!.dealer.forgetCall(this, msg[1]);
      this.send([M.ERROR, msg[0], msg[1], {}, 'junction.error.internal_error', ['internal router error; see the router log']]);
    }
  }

  /** `why` is logged: how the session ended. */
  private leaveRealm(why: string): void {
    if (!this.realm || this.state !== 'established') return;
    // Runs from transports' close handlers: a bug here must cost a log line, not the process.
    try {
      this.realm.leave(this);
    } catch (err) {
      log.error(`session ${this.id}: internal error while leaving realm '${this.realm.name}': ${(err as Error).stack}`);
    }
    logSessionLeft(this, why);
  }

  /** Final teardown: leave the realm, stop reading, close the transport. */
  private terminate(closeTransport = true, why = 'closed'): void {
    if (this.state === 'closed') return;
    this.leaveRealm(why);
    this.state = 'closed';
    this.pendingAuth = undefined;
    if (this.goodbyeTimer) clearTimeout(this.goodbyeTimer);
    this.clearOpenTimer();
    if (closeTransport) this.transport.close();
  }
}
