// What a router link adds to what it passes on, and what it never passes on, so that links in any
// topology (a star, a chain, two links between the same routers, a ring) neither loop nor echo:
// - Crossbar's `forward_for`: one {session, authid, authrole} per hop, the session that handed the
//   message over on the router it left (its publisher or caller when that router disclosed it,
//   else the link's own session there). A link never passes on a message its own sessions already
//   carried, nor one whose list would grow past 16 (forward-for.ts).
// - `_origin` (events only): "<node>:<publication ID>" of the realm the event was first published
//   in, `node` being that realm's random name from its WELCOME (`_node`, short: it goes with every
//   forwarded event). A link never passes an
//   event into the realm it started in, nor the same event twice; Junction's broker delivers an
//   origin once, so an event that came over two paths (a triangle) reaches each subscriber once.
// - the realm's `exclude_uri` list (Crossbar's starred URIs) plus the wamp.* and junction.* URIs.

import type { ClientSession } from '../client/client-session.js';
import type { Dict } from '../wamp/message.js';
import { convertStarredUri } from '../config/load-realms.js';
import { RecentSet } from '../recent-set.js';
import { log } from '../log.js';

/** Longest forward_for list (src/router/forward-for.ts carries no longer one). */
const MAX_HOPS = 16;
/** Events a link remembers having passed on (per link): enough for those still on their way. */
const RECENT_EVENTS = 4096;

type Who = 'publisher' | 'caller';

export class ForwardMarks {
  /** The origins passed on, per target session (the link's local or remote one). */
  private readonly passed = new Map<ClientSession, RecentSet>();
  private tooLongLogged = false;

  constructor(private readonly linkId: string, private readonly local: ClientSession, private readonly remote: ClientSession) {}

  /**
   * The realm's name a session joined (its WELCOME's `_node`; Crossbar's `x_cb_node`/`x_cb_worker`).
   * A router that names none stands as "this link's remote, this connection" (its publication IDs
   * may start again from 1 when it restarts).
   */
  nodeOf(side: ClientSession): string {
    const w = side.welcome;
    if (typeof w['_node'] === 'string') return w['_node'];
    if (typeof w['x_cb_node'] === 'string') return `${w['x_cb_node']}/${String(w['x_cb_worker'] ?? '')}/${String(w['realm'] ?? '')}`;
    return `${this.nodeOf(this.local)}~${this.linkId}~${side.id}`;
  }

  /** PUBLISH options marking an event that `from` received for `to` to publish, or undefined if it must not pass. */
  event(details: Dict, from: ClientSession, to: ClientSession): { forward_for: Dict[]; _origin: string } | undefined {
    if (details['publisher'] === from.id) return undefined; // a router that ignores exclude_me
    const forwardFor = this.extend(details, 'publisher', from);
    if (!forwardFor) return undefined;
    const origin = typeof details['_origin'] === 'string' ? details['_origin'] : `${this.nodeOf(from)}:${String(details['publication'])}`;
    if (origin.slice(0, origin.lastIndexOf(':')) === this.nodeOf(to)) return undefined; // back where it started
    let passed = this.passed.get(to);
    if (!passed) this.passed.set(to, (passed = new RecentSet(RECENT_EVENTS)));
    if (passed.seenBefore(origin)) return undefined; // e.g. both an exact and a prefix subscription matched
    return { forward_for: forwardFor, _origin: origin };
  }

  /** The forward_for of a call that `from` was invoked with, or undefined if it must not pass. */
  call(details: Dict, from: ClientSession): Dict[] | undefined {
    return this.extend(details, 'caller', from);
  }

  /** The list with this hop's entry added; undefined if this link carried it already or it is too long. */
  private extend(details: Dict, who: Who, from: ClientSession): Dict[] | undefined {
    const before = Array.isArray(details['forward_for']) ? (details['forward_for'] as Dict[]) : [];
    if (before.some((hop) => this.isOwn(hop, this.local) || this.isOwn(hop, this.remote))) return undefined;
    if (before.length >= MAX_HOPS) {
      if (!this.tooLongLogged) {
        this.tooLongLogged = true;
        log.warn(`rlink '${this.linkId}': a message that crossed ${before.length} router links already is not passed on (at most ${MAX_HOPS}; logged once)`);
      }
      return undefined;
    }
    const disclosed = typeof details[who] === 'number';
    const hop: Dict = disclosed
      ? { session: details[who], authid: details[`${who}_authid`] ?? null, authrole: details[`${who}_authrole`] ?? null }
      : { session: from.id, authid: from.welcome['authid'] ?? null, authrole: from.welcome['authrole'] ?? null };
    return [...before, hop];
  }

  private isOwn(hop: Dict, side: ClientSession): boolean {
    return hop['session'] === side.id && (hop['authid'] == null || hop['authid'] === side.welcome['authid']);
  }
}

/** Whether a subscription's or registration's URI stays on its own router. */
export function staysLocal(uri: string, excludeUri: readonly string[]): boolean {
  if (uri.startsWith('wamp.') || uri.startsWith('junction.')) return true;
  return excludeUri.some((starred) => {
    const { uri: u, match } = convertStarredUri(starred);
    if (match === 'exact') return uri === u;
    if (match === 'prefix') return uri.startsWith(u);
    const want = u.split('.');
    const have = uri.split('.');
    return want.length === have.length && want.every((w, i) => w === '' || w === have[i]);
  });
}
