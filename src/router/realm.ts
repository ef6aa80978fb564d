// A realm: one broker, one dealer, one authorizer, and the sessions that joined it.

import type { PayloadType } from '../wamp/payload-validation.js';
import {
  DEFAULT_MAX_PENDING_CALLS, DEFAULT_MAX_PENDING_CALL_BYTES, DEFAULT_MAX_PENDING_CALL_BYTES_TOTAL, DEFAULT_MAX_SUBSCRIPTIONS,
  DEFAULT_MAX_SUBSCRIPTION_BYTES, type RealmConfig, type RoleConfig, type WireDialect,
} from '../config/types.js';
import { Authorizer } from '../auth/authorizer.js';
import type { UriCheck } from '../wamp/uri.js';
import { randomBytes } from 'node:crypto';
import { Broker, type BrokerObserver } from './broker.js';
import { Dealer, type DealerObserver } from './dealer.js';
import type { Session } from './session.js';
import type { IdSequence } from '../wamp/ids.js';
import { log } from '../log.js';

/**
 * Told about changes in a realm, after they happen: sessions here, registrations and subscriptions
 * by the dealer and broker. The meta API implements it and turns the calls into meta events; it
 * must not call back into the realm synchronously.
 */
export interface RealmObserver extends DealerObserver, BrokerObserver {
  sessionJoined(session: Session): void;
  sessionLeft(session: Session): void;
  /** The session's send queue went over its limit (events dropped), or it is being closed for that. */
  slowConsumer(session: Session, disconnecting: boolean): void;
}

export class Realm {
  readonly name: string;
  /**
   * A random name for this realm on this router, told to every session in its WELCOME (`_node`):
   * router links name the realm an event started in with it (`_origin`), so that the event never
   * comes back in.
   */
  readonly node = randomBytes(6).toString('base64url');
  /** Replaced as a whole on a config reload, so cached decisions go with the old roles. */
  authorizer: Authorizer;
  readonly broker: Broker;
  readonly dealer: Dealer;
  /** session ID -> session, from its WELCOME until it leaves (only join and leave change it). */
  private readonly joined = new Map<number, Session>();
  // Both set by applyOptions (a config reload may change them).
  uriCheck!: UriCheck;
  /** Crossbar's wire choices or the spec's (`options.wire`): the GOODBYE reply, the meta API's shapes. */
  wire!: WireDialect;
  /** Calls one session may have waiting for an answer (`max_pending_calls`). */
  maxPendingCalls!: number;
  /** Byte budgets (`max_pending_call_bytes` per session and `_total`; `max_subscriptions` per session,
   *  `max_subscription_bytes` in all): the dealer and broker keep what is used of them. */
  maxPendingCallBytes!: number;
  maxPendingCallBytesTotal!: number;
  maxSubscriptions!: number;
  maxSubscriptionBytes!: number;
  observer: RealmObserver | undefined;
  /** The realm's `inventory`, for a dynamic authorizer's `validate`. */
  private payloadTypes: ReadonlyMap<string, PayloadType> | undefined;

  constructor(config: RealmConfig, routerIds: IdSequence) {
    this.name = config.name;
    this.applyOptions(config);
    this.authorizer = new Authorizer(config.roles);
    this.broker = new Broker(this, routerIds, config.store?.eventHistory ?? [], config.store?.retained);
    this.dealer = new Dealer(this, routerIds, config.store?.callQueue ?? []);
  }

  /** The sessions in the realm now, by ID. */
  get sessions(): ReadonlyMap<number, Session> {
    return this.joined;
  }

  /** The realm's options that apply from the next message on: at start, and again on a config reload. */
  applyOptions(config: RealmConfig): void {
    this.uriCheck = config.uriCheck ?? 'loose';
    this.wire = config.wire ?? 'crossbar';
    this.maxPendingCalls = config.maxPendingCalls ?? DEFAULT_MAX_PENDING_CALLS;
    this.maxPendingCallBytes = config.maxPendingCallBytes ?? DEFAULT_MAX_PENDING_CALL_BYTES;
    this.maxPendingCallBytesTotal = config.maxPendingCallBytesTotal ?? DEFAULT_MAX_PENDING_CALL_BYTES_TOTAL;
    this.maxSubscriptions = config.maxSubscriptions ?? DEFAULT_MAX_SUBSCRIPTIONS;
    this.maxSubscriptionBytes = config.maxSubscriptionBytes ?? DEFAULT_MAX_SUBSCRIPTION_BYTES;
  }

  /**
   * New roles from a reloaded config: decisions are made afresh (no cached decision survives), and
   * sessions whose role is gone are ended. Returns how many sessions were ended.
   */
  replaceRoles(roles: RoleConfig[], payloadTypes?: ReadonlyMap<string, PayloadType>): number {
    this.payloadTypes = payloadTypes;
    this.authorizer = new Authorizer(roles, payloadTypes);
    let ended = 0;
    for (const session of [...this.joined.values()]) {
      if (this.authorizer.hasRole(session.authrole)) continue;
      session.goodbye('wamp.close.killed', `role '${session.authrole}' was removed from realm '${this.name}'`);
      ended++;
    }
    return ended;
  }

  join(session: Session): void {
    this.joined.set(session.id, session);
    session.joinedAt = Date.now();
    this.observer?.sessionJoined(session);
  }

  /** The session is gone: drop its subscriptions, registrations and calls (answering every call). */
  leave(session: Session): void {
    if (!this.joined.delete(session.id)) return;
    this.dealer.removeSession(session);
    this.broker.removeSession(session);
    this.observer?.sessionLeft(session);
    // Testaments: the WAMP last will. Without session resumption, detach and destroy coincide.
    for (const t of session.takeTestaments()) {
      // Options were checked when the testament was added; should one still be wrong, the others
      // are published and the router stays up (this runs from a socket's close handler).
      try {
        this.broker.publishFrom(session, t.topic, t.options, t.args, t.kwargs);
      } catch (err) {
        log.error(`session ${session.id}: testament on '${t.topic}' not published: ${(err as Error).stack}`);
      }
    }
  }

  /** Ends a session from the router's side (meta API kill); false if there is none by that ID. */
  kill(sessionId: number, reason: string, message?: string): boolean {
    const session = this.joined.get(sessionId);
    if (!session || session.internal) return false;
    session.goodbye(reason, message);
    return true;
  }
}
