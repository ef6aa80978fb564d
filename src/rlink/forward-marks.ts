// What a router link adds to what it passes on, and what it never passes on: Crossbar's
// `forward_for` (a list of {session, authid, authrole}: who originally published or called), and the
// realm's `exclude_uri` list (Crossbar's starred URIs) plus the wamp.* meta URIs.

import type { Dict } from '../wamp/message.js';
import { convertStarredUri } from '../config/load-realms.js';

/** The forward_for list for an event or call that came with these details (publisher_* or caller_*). */
export function forwardFor(details: Dict, who: 'publisher' | 'caller', fallbackSession: number): Dict[] {
  return [{
    session: (details[who] as number | undefined) ?? fallbackSession,
    authid: details[`${who}_authid`] ?? null,
    authrole: details[`${who}_authrole`] ?? null,
  }];
}

/** Already forwarded by some link: passing it on again could loop. */
export function wasForwarded(details: Dict): boolean {
  return Array.isArray(details['forward_for']) && details['forward_for'].length > 0;
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
