// What a router link adds to what it passes on, and what it never passes on, so that links in any
// topology (a star, a chain, two links between the same routers, a ring) neither loop nor echo:
// - Crossbar's `forward_for`: one {session, authid, authrole} per hop, the session that handed the
//   message over on the router it left (its publisher or caller when that router disclosed it,
//   else the link's own session there). A link never passes on a message its own sessions already
//   carried, nor one whose list would grow past 16 (forward-for.ts).
// - `_origin` (events only): "<node>:<publication ID>" of the realm the event was first published
//   in, `node` being that realm's random name from its WELCOME (`_node`, short: it goes with every
//   forwarded event). A link never passes an event into the realm it started in, nor the same
//   event twice (an exact and a prefix subscription that both match); Junction's broker delivers
//   an origin once, so an event that came over two paths (a triangle) reaches each subscriber once.
// - the realm's `exclude_uri` list (Crossbar's starred URIs) plus the wamp.* and junction.* URIs.

import { originOf } from '../wamp/origin.js';
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
/** The details keys of the publisher's or caller's authid and authrole (not built per message). */
const WHO_KEYS: Record<Who, { authid: string; authrole: string }> = {
  publisher: { authid: 'publisher_authid', authrole: 'publisher_authrole' },
  caller: { authid: 'caller_authid', authrole: 'caller_authrole' },
};
const EMPTY: readonly Dict[] = [];
/** A side of the link: its local realm, or the remote router's realm. */
export type Side = 'local' | 'remote';

/** What the marks need of the link's session on one side (the remote one's last, while it is away). */
interface SideInfo { id: number; authid: unknown; authrole: unknown; node: string }

export class ForwardMarks {
  private readonly sides: Partial<Record<Side, SideInfo>> = {};
  /** The origins passed on toward each side. */
  private readonly passed: Record<Side, RecentSet> = { local: new RecentSet(RECENT_EVENTS), remote: new RecentSet(RECENT_EVENTS) };
  private tooLongLogged = false;

  constructor(private readonly linkId: string) {}

  /** The link's session on `side` joined (for the remote side: a new connection). */
  joined(side: Side, session: ClientSession): void {
    const w = session.welcome;
    this.sides[side] = { id: session.id, authid: w['authid'] ?? null, authrole: w['authrole'] ?? null, node: this.nodeOf(session) };
  }

  /**
   * The name of the realm a session joined (its WELCOME's `_node`; Crossbar's
   * `x_cb_node`/`x_cb_worker`). A router that names none stands as "this link's remote, this
   * connection" (its publication IDs may start again from 1 when it restarts).
   */
  private nodeOf(session: ClientSession): string {
    const w = session.welcome;
    if (typeof w['_node'] === 'string') return w['_node'];
    if (typeof w['x_cb_node'] === 'string') return `${w['x_cb_node']}/${String(w['x_cb_worker'] ?? '')}/${String(w['realm'] ?? '')}`;
    return `${this.sides.local?.node ?? ''}~${this.linkId}~${session.id}`;
  }

  /**
   * PUBLISH options marking an event that arrived from the other side, to pass on `toward` this one
   * (a new dict, the caller's to add to); undefined if it must not pass.
   */
  event(details: Dict, toward: Side): { forward_for: Dict[]; _origin: string } & Dict | undefined {
    const from = this.sides[toward === 'local' ? 'remote' : 'local'];
    if (!from || details['publisher'] === from.id) return undefined; // a router that ignores exclude_me
    const forwardFor = this.extend(details, 'publisher', from);
    if (!forwardFor) return undefined;
    const origin = originOf(details) ?? `${from.node}:${String(details['publication'])}`;
    const towardNode = this.sides[toward]?.node;
    // back where it started ("<node>:<publication ID>", compared without cutting the string)
    if (towardNode !== undefined && origin.lastIndexOf(':') === towardNode.length && origin.startsWith(towardNode)) return undefined;
    // e.g. both an exact and a prefix subscription matched
    if (this.passed[toward].seenBefore(origin)) return undefined;
    return { forward_for: forwardFor, _origin: origin };
  }

  /** The forward_for of a call that the link's session on side `from` was invoked with; undefined if it must not pass. */
  call(details: Dict, from: Side): Dict[] | undefined {
    const side = this.sides[from];
    return side && this.extend(details, 'caller', side);
  }

  /** The list with this hop's entry added; undefined if this link carried it already or it is too long. */
  private extend(details: Dict, who: Who, from: SideInfo): Dict[] | undefined {
    const before = Array.isArray(details['forward_for']) ? (details['forward_for'] as Dict[]) : EMPTY;
    for (const hop of before) if (this.isOwn(hop, this.sides.local) || this.isOwn(hop, this.sides.remote)) return undefined;
    if (before.length >= MAX_HOPS) {
      if (!this.tooLongLogged) {
        this.tooLongLogged = true;
        log.warn(`rlink '${this.linkId}': a message that crossed ${before.length} router links already is not passed on (at most ${MAX_HOPS}; logged once)`);
      }
      return undefined;
    }
    const keys = WHO_KEYS[who];
    const hop: Dict = typeof details[who] === 'number'
      ? { session: details[who], authid: details[keys.authid] ?? null, authrole: details[keys.authrole] ?? null }
      : { session: from.id, authid: from.authid, authrole: from.authrole };
    if (before.length === 0) return [hop];
    const list = before.slice();
    list.push(hop);
    return list;
  }

  private isOwn(hop: Dict, side: SideInfo | undefined): boolean {
    return side !== undefined && hop['session'] === side.id && (hop['authid'] == null || hop['authid'] === side.authid);
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
