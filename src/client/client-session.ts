// The typed session API for in-process components (bridges, telemetry, meta API, demos) and for
// tests of the core: call, publish, subscribe, register over a LocalConnection. Such a session
// joins its realm through HELLO/WELCOME and the normal authorization path like any network client.

import * as M from '../wamp/message.js';
import type { SessionFactory } from '../core-boundary.js';
import { LocalConnection, type LocalPeer, type WireConnection } from './local-transport.js';
import { cryptosignSigner } from '../auth/cryptosign.js';

export interface ConnectOptions {
  realm: string;
  /** The role to join with (the local transport's anonymous auth assigns it). Default 'anonymous'. */
  role?: string;
  authid?: string;
  /** Shown as the transport peer, e.g. 'mqtt-bridge'. */
  name?: string;
  /** Remote routers (src/rlink/): the authmethods HELLO offers (default ['anonymous']), and a ticket or a cryptosign key (64 hex: the Ed25519 seed) for a CHALLENGE. */
  authmethods?: string[];
  ticket?: string;
  privateKey?: string;
  authrole?: string;
  /** Router-internal components only (the meta API). */
  internal?: boolean;
  /** The router's own components that serve `junction.*` procedures or events (see SessionOptions). */
  privileged?: boolean;
}

export interface Payload {
  args: unknown[];
  kwargs: M.Dict;
  details: M.Dict;
}

export type EventHandler = (args: unknown[], kwargs: M.Dict, details: M.Dict) => void;
export interface InvocationContext {
  details: M.Dict;
  /** Sends a progressive result (when the caller asked for them). */
  progress(args?: unknown[], kwargs?: M.Dict): void;
  /** Aborted when the router interrupts the invocation (cancel, timeout, caller gone). */
  readonly signal: AbortSignal;
  /** Runs `listener` once if the router interrupts the invocation (the signal's abort, without an AbortController per call). */
  onInterrupt(listener: () => void): void;
}
export type ProcedureHandler = (args: unknown[], kwargs: M.Dict, context: InvocationContext) => unknown;

/** Return this from a procedure to set both args and kwargs of the result. */
export class Result {
  constructor(readonly args: unknown[] = [], readonly kwargs: M.Dict = {}) {}
}

/** An ERROR answer: thrown by `call`, or thrown by a procedure handler to answer with this URI. */
export class WampError extends Error {
  constructor(readonly uri: string, readonly args: unknown[] = [], readonly kwargs: M.Dict = {}) {
    super(typeof args[0] === 'string' ? `${uri}: ${args[0]}` : uri);
  }
}

/**
 * A running invocation's context. Most handlers never look at `signal`: its AbortController is
 * made only when one does (one per call cost a busy router link ~7% of its time).
 */
class RunningInvocation implements InvocationContext {
  private controller: AbortController | undefined;
  private interrupted = false;
  private listeners: Array<() => void> | undefined;

  constructor(readonly details: M.Dict, readonly progress: InvocationContext['progress']) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.interrupted) this.controller.abort();
    }
    return this.controller.signal;
  }

  onInterrupt(listener: () => void): void {
    if (this.interrupted) return;
    (this.listeners ??= []).push(listener);
  }

  interrupt(): void {
    if (this.interrupted) return;
    this.interrupted = true;
    this.controller?.abort();
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) listener();
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  onProgress?: (p: Payload) => void;
  /** Runs synchronously on success, before messages that follow the answer are handled. */
  onSuccess?: (value: unknown) => void;
}

export interface CallOptions extends M.Dict {
  onProgress?: (p: Payload) => void;
}

export class ClientSession {
  id = 0;
  welcome: M.Dict = {};
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<number, EventHandler[]>();
  private readonly procedures = new Map<number, ProcedureHandler>();
  private readonly running = new Map<number, RunningInvocation>();
  private nextRequest = 0;
  private joined: { resolve(): void; reject(e: Error): void } | undefined;
  private closedResolve: (() => void) | undefined;
  readonly closed: Promise<void>;
  private isClosed = false;
  /** We said GOODBYE first: the router's GOODBYE is then its reply, not one to answer. */
  private goodbyeSent = false;
  private readonly connection: WireConnection;
  private readonly signer: ReturnType<typeof cryptosignSigner> | undefined;

  private constructor(connect: (peer: LocalPeer) => WireConnection, private readonly options: ConnectOptions) {
    this.closed = new Promise((r) => (this.closedResolve = r));
    if (options.privateKey !== undefined) this.signer = cryptosignSigner(options.privateKey);
    this.connection = connect({ onMessage: (m) => this.onMessage(m), onClose: () => this.onClose() });
  }

  static connect(factory: SessionFactory, options: ConnectOptions): Promise<ClientSession> {
    return ClientSession.connectOver((peer) => new LocalConnection(factory, options.name ?? 'component', peer, {
      auth: { anonymous: { type: 'static', role: options.role ?? 'anonymous', authid: options.authid } },
      internal: options.internal,
      privileged: options.privileged,
    }), options);
  }

  /** Joins over any connection (a remote router's, see src/rlink/). */
  static async connectOver(connect: (peer: LocalPeer) => WireConnection, options: ConnectOptions): Promise<ClientSession> {
    const session = new ClientSession(connect, options);
    await new Promise<void>((resolve, reject) => {
      session.joined = { resolve, reject };
      session.connection.send([M.HELLO, options.realm, {
        roles: {
          caller: { features: { progressive_call_results: true, call_canceling: true, caller_identification: true } },
          callee: { features: { progressive_call_results: true, call_canceling: true, caller_identification: true, pattern_based_registration: true, shared_registration: true } },
          publisher: { features: { publisher_exclusion: true, publisher_identification: true, subscriber_blackwhite_listing: true } },
          subscriber: { features: { pattern_based_subscription: true, publisher_identification: true } },
        },
        authmethods: options.authmethods ?? ['anonymous'],
        ...(options.authid !== undefined && options.authmethods ? { authid: options.authid } : {}),
        ...(options.authrole !== undefined ? { authrole: options.authrole } : {}),
        ...(session.signer ? { authextra: { pubkey: session.signer.publicKey } } : {}),
      }]);
    });
    return session;
  }

  call(procedure: string, args: unknown[] = [], kwargs: M.Dict = {}, options: CallOptions = {}): Promise<Payload> {
    if (!('onProgress' in options)) {
      // A copy all the same (the caller's object may be reused, the router may keep what it got), without a rest pattern's cost.
      return this.request<Payload>([M.CALL, this.requestId(), { ...options }, procedure, args, kwargs]);
    }
    const { onProgress, ...wireOptions } = options;
    if (onProgress) wireOptions['receive_progress'] = true;
    return this.request<Payload>([M.CALL, this.requestId(), wireOptions, procedure, args, kwargs], onProgress);
  }

  /** Sends CANCEL for the most recent call with this request ID (see `lastRequestId`). */
  cancel(requestId: number, mode: 'skip' | 'kill' | 'killnowait' = 'killnowait'): void {
    this.connection.send([M.CANCEL, requestId, { mode }]);
  }

  get lastRequestId(): number {
    return this.nextRequest;
  }

  /** Publishes; with `acknowledge: true` resolves with the publication ID once the router accepted it. */
  async publish(topic: string, args: unknown[] = [], kwargs: M.Dict = {}, options: M.Dict = {}): Promise<number | undefined> {
    const msg: M.WampMessage = [M.PUBLISH, this.requestId(), options, topic, args, kwargs];
    if (options['acknowledge'] === true) return this.request<number>(msg);
    this.connection.send(msg);
    return undefined;
  }

  subscribe(topic: string, handler: EventHandler, options: M.Dict = {}): Promise<number> {
    return this.request<number>([M.SUBSCRIBE, this.requestId(), options, topic], undefined, (id) => {
      const list = this.handlers.get(id as number);
      if (list) list.push(handler);
      else this.handlers.set(id as number, [handler]);
    });
  }

  async unsubscribe(subscriptionId: number): Promise<void> {
    await this.request([M.UNSUBSCRIBE, this.requestId(), subscriptionId]);
    this.handlers.delete(subscriptionId);
  }

  register(procedure: string, handler: ProcedureHandler, options: M.Dict = {}): Promise<number> {
    // The handler must be in place before an INVOCATION that follows REGISTERED at once.
    return this.request<number>([M.REGISTER, this.requestId(), options, procedure], undefined, (id) => {
      this.procedures.set(id as number, handler);
    });
  }

  async unregister(registrationId: number): Promise<void> {
    await this.request([M.UNREGISTER, this.requestId(), registrationId]);
    this.procedures.delete(registrationId);
  }

  /** GOODBYE, and wait for the router's reply. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.goodbyeSent = true;
    this.connection.send([M.GOODBYE, {}, 'wamp.close.close_realm']);
    await this.closed;
  }

  private requestId(): number {
    this.nextRequest = this.nextRequest >= 2 ** 53 ? 1 : this.nextRequest + 1;
    return this.nextRequest;
  }

  private request<T>(msg: M.WampMessage, onProgress?: (p: Payload) => void, onSuccess?: (value: unknown) => void): Promise<T> {
    if (this.isClosed) return Promise.reject(new Error('session is closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.set(msg[1] as number, { resolve: resolve as (v: unknown) => void, reject, onProgress, onSuccess });
      this.connection.send(msg);
    });
  }

  private settle(requestId: number, value: unknown, error?: Error): void {
    const p = this.pending.get(requestId);
    if (!p) return;
    this.pending.delete(requestId);
    if (error) return p.reject(error);
    p.onSuccess?.(value);
    p.resolve(value);
  }

  private onMessage(m: M.WampMessage): void {
    switch (m[0]) {
      case M.WELCOME:
        this.id = m[1] as number;
        this.welcome = m[2] as M.Dict;
        this.joined?.resolve();
        return;
      case M.CHALLENGE:
        if (m[1] === 'ticket' && this.options.ticket !== undefined) this.connection.send([M.AUTHENTICATE, this.options.ticket, {}]);
        else if (m[1] === 'cryptosign' && this.signer && typeof (m[2] as M.Dict)['challenge'] === 'string') {
          this.connection.send([M.AUTHENTICATE, this.signer.answer((m[2] as M.Dict)['challenge'] as string), {}]);
        } else this.connection.send([M.ABORT, { message: `cannot answer a ${String(m[1])} challenge` }, 'wamp.error.cannot_authenticate']);
        return;
      case M.ABORT:
        this.joined?.reject(new WampError(m[2] as string, [(m[1] as M.Dict)['message']]));
        this.connection.close();
        return;
      case M.GOODBYE:
        // Router-initiated (we said no GOODBYE first): answer, then the router closes the transport.
        // The router's reply to ours may be goodbye_and_out or, Crossbar's way, wamp.close.normal.
        if (!this.goodbyeSent) this.connection.send([M.GOODBYE, {}, 'wamp.close.goodbye_and_out']);
        return;
      case M.SUBSCRIBED:
      case M.REGISTERED:
      case M.PUBLISHED:
        return this.settle(m[1] as number, m[2]);
      case M.UNSUBSCRIBED:
      case M.UNREGISTERED:
        if (m[1] !== 0) this.settle(m[1] as number, undefined);
        return;
      case M.RESULT: {
        const details = m[2] as M.Dict;
        const payload: Payload = { args: (m[3] as unknown[]) ?? [], kwargs: (m[4] as M.Dict) ?? {}, details };
        if (details['progress'] === true) {
          this.pending.get(m[1] as number)?.onProgress?.(payload);
          return;
        }
        return this.settle(m[1] as number, payload);
      }
      case M.ERROR:
        return this.settle(m[2] as number, undefined, new WampError(m[4] as string, (m[5] as unknown[]) ?? [], (m[6] as M.Dict) ?? {}));
      case M.EVENT: {
        const handlers = this.handlers.get(m[1] as number);
        if (!handlers) return;
        const args = (m[4] as unknown[]) ?? [];
        const kwargs = (m[5] as M.Dict) ?? {};
        const details = { ...(m[3] as M.Dict), publication: m[2] };
        for (const h of handlers) {
          try { h(args, kwargs, details); } catch { /* a subscriber's bug is its own */ }
        }
        return;
      }
      case M.INVOCATION:
        return void this.invoke(m);
      case M.INTERRUPT: {
        const invocation = this.running.get(m[1] as number);
        if (!invocation) return;
        this.running.delete(m[1] as number);
        invocation.interrupt();
        this.connection.send([M.ERROR, M.INVOCATION, m[1], {}, 'wamp.error.canceled', ['interrupted']]);
        return;
      }
    }
  }

  private async invoke(m: M.WampMessage): Promise<void> {
    const requestId = m[1] as number;
    const handler = this.procedures.get(m[2] as number);
    const details = m[3] as M.Dict;
    const context = new RunningInvocation(details, (args = [], kwargs = {}) => {
      if (details['receive_progress'] === true && this.running.has(requestId)) {
        this.connection.send([M.YIELD, requestId, { progress: true }, args, kwargs]);
      }
    });
    this.running.set(requestId, context);
    let answer: M.WampMessage;
    try {
      if (!handler) throw new WampError('wamp.error.no_such_registration');
      const value = await handler((m[4] as unknown[]) ?? [], (m[5] as M.Dict) ?? {}, context);
      answer = value instanceof Result
        ? [M.YIELD, requestId, {}, value.args, value.kwargs]
        : value === undefined ? [M.YIELD, requestId, {}] : [M.YIELD, requestId, {}, [value]];
    } catch (err) {
      answer = err instanceof WampError
        ? [M.ERROR, M.INVOCATION, requestId, {}, err.uri, err.args, err.kwargs]
        : [M.ERROR, M.INVOCATION, requestId, {}, 'wamp.error.runtime_error', [String((err as Error)?.message ?? err)]];
    }
    // An interrupted invocation was already answered.
    if (!this.running.delete(requestId)) return;
    this.connection.send(answer);
  }

  private onClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const err = new Error('session closed');
    this.joined?.reject(err);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const invocation of this.running.values()) invocation.interrupt();
    this.closedResolve?.();
  }
}
