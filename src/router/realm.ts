// A realm: one broker, one dealer, one authorizer, and the sessions that joined it.

import type { RealmConfig } from '../config/types.js';
import { Authorizer } from '../auth/authorizer.js';
import type { UriCheck } from '../wamp/uri.js';
import { Broker } from './broker.js';
import { Dealer } from './dealer.js';
import type { Session } from './session.js';
import type { IdSequence } from '../wamp/ids.js';

export class Realm {
  readonly name: string;
  readonly authorizer: Authorizer;
  readonly broker: Broker;
  readonly dealer: Dealer;
  readonly sessions = new Map<number, Session>();
  readonly uriCheck: UriCheck = 'loose';

  constructor(config: RealmConfig, routerIds: IdSequence) {
    this.name = config.name;
    this.authorizer = new Authorizer(config.roles);
    this.broker = new Broker(this, routerIds);
    this.dealer = new Dealer(this, routerIds, config.store?.callQueue ?? []);
  }

  join(session: Session): void {
    this.sessions.set(session.id, session);
  }

  /** The session is gone: drop its subscriptions, registrations and calls (answering every call). */
  leave(session: Session): void {
    if (!this.sessions.delete(session.id)) return;
    this.dealer.removeSession(session);
    this.broker.removeSession(session);
  }
}
