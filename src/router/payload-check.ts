// Payload validation where the dealer and broker forward a payload: the args/kwargs tail of a
// message against the payload type a permission's `validate` names (wamp/payload-validation.ts).

import type { PayloadType } from '../wamp/payload-validation.js';
import { checkPayload } from '../wamp/payload-validation.js';

/**
 * What is wrong with the payload of `msg` (args at `from`, kwargs after it), or undefined if it
 * matches `type`. A payload in payload transparency mode (`ppt_scheme`) is opaque to the router and
 * is not checked, as in Crossbar.
 */
export function payloadProblem(type: PayloadType, msg: readonly unknown[], from: number, options: object): string | undefined {
  if ((options as { ppt_scheme?: unknown }).ppt_scheme !== undefined) return undefined;
  const args = msg[from];
  const kwargs = msg[from + 1];
  return checkPayload(type, Array.isArray(args) ? args : undefined, isDict(kwargs) ? kwargs : undefined);
}

function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
