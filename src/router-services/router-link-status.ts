// What the meta API shows of a realm's router links (junction.rlink.*). The links themselves live
// in src/rlink/, which neither the core nor the meta API imports: node.ts hands them over as this
// view once they exist (they start after the router, and so after the meta API).

import type { Dict } from '../wamp/message.js';

export interface RouterLinkView {
  readonly localRealm: string;
  readonly config: { readonly id: string; readonly realm: string };
  readonly url: string;
  readonly state: 'connecting' | 'up' | 'down' | 'stopped';
  /** When `state` last changed, ms since the epoch. */
  readonly since: number;
  readonly connects: number;
  readonly lastError: string | null;
  readonly buffered: number;
}

/** junction.rlink.get's answer; `realm` is the remote realm, as in the config. */
export function routerLinkDetails(link: RouterLinkView): Dict {
  return {
    id: link.config.id, realm: link.config.realm, url: link.url, state: link.state, since: new Date(link.since).toISOString(),
    connects: link.connects, last_error: link.lastError, buffered: link.buffered,
  };
}

/** junction.rlink.on_state's one argument. */
export function routerLinkState(link: RouterLinkView): Dict {
  return { id: link.config.id, state: link.state, since: new Date(link.since).toISOString(), last_error: link.lastError };
}
