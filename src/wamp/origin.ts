// `_origin`, the custom attribute router links put on an event they pass on: "<node>:<publication
// ID>" where it was first published. Routers remember recent origins (to deliver an event that came
// over two paths once), so only a short one counts: a client cannot make them hold long strings.

/** Longest `_origin` taken as one; a longer value is passed on as any custom attribute, not remembered. */
export const MAX_ORIGIN_LENGTH = 128;

/** The `_origin` of a PUBLISH's options or an EVENT's details, if it is one routers may remember. */
export function originOf(options: Record<string, unknown>): string | undefined {
  const origin = options['_origin'];
  return typeof origin === 'string' && origin.length <= MAX_ORIGIN_LENGTH ? origin : undefined;
}
