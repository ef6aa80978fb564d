// A PUBLISH's or CALL's `forward_for` (who published or called before router links passed the
// message on: a list of {session, authid, authrole}), carried into EVENT and INVOCATION details as
// Crossbar does. Only a list of that shape, and not longer than a chain of routers can be, is
// carried; anything else is left out (a client cannot make the router copy arbitrary data there).

/** Longest chain of routers a message is expected to have crossed. */
const MAX_HOPS = 16;

export function forwardForOf(options: Record<string, unknown>): unknown[] | undefined {
  const list = options['forward_for'];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_HOPS) return undefined;
  for (const hop of list) {
    if (typeof hop !== 'object' || hop === null || Array.isArray(hop)) return undefined;
    const { session, authid, authrole } = hop as Record<string, unknown>;
    if (typeof session !== 'number' || !optionalString(authid) || !optionalString(authrole)) return undefined;
  }
  return list;
}

/** A string, or not disclosed (absent or null). */
function optionalString(v: unknown): boolean {
  return v === undefined || v === null || typeof v === 'string';
}
