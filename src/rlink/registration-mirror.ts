// One direction of a router link's call forwarding: every registration on the `callees` side (those
// there at the start, and each new one: wamp.registration.on_create), except the link's own, is
// registered on the `callers` side with the same URI, match and invocation policy; an invocation
// there becomes a call on the `callees` side, marked with forward_for. When the registration goes
// (wamp.registration.on_delete), the link's registration on the other side goes too. Calls that
// were already forwarded are refused (no_such_procedure) rather than passed on again. A Junction
// callee's concurrency (junction.registration.get) is declared on the other side too, so that
// router never sends the link more calls at once than the callee takes. An invocation whose caller
// went (INTERRUPT, or the link's connection lost) cancels the call it made.

import { Result, WampError } from '../client/client-session.js';
import type { RLinkConfig } from '../config/types.js';
import type { Dict } from '../wamp/message.js';
import { forwardFor, staysLocal, wasForwarded } from './forward-marks.js';
import type { LinkSide } from './session-scope.js';

interface RegistrationDetails { id: number; uri: string; match?: string; invoke?: string }

export async function mirrorRegistrations(config: RLinkConfig, callees: LinkSide, callers: LinkSide): Promise<void> {
  /** Registration ID on the callees' side → the link's registration ID on the callers' side (0 while registering). */
  const mirrored = new Map<number, number>();
  const mirror = async (reg: RegistrationDetails): Promise<void> => {
    if (mirrored.has(reg.id) || staysLocal(reg.uri, config.excludeUri)) return;
    mirrored.set(reg.id, 0);
    const options: Dict = {};
    if (reg.match && reg.match !== 'exact') options['match'] = reg.match;
    if (reg.invoke && reg.invoke !== 'single') options['invoke'] = reg.invoke;
    const concurrency = await concurrencyOf(callees, reg.id);
    if (concurrency !== undefined) options['concurrency'] = concurrency;
    try {
      const id = await callers.register(reg.uri, async (args, kwargs, context) => {
        const details = context.details;
        if (wasForwarded(details)) throw new WampError('wamp.error.no_such_procedure', ['already forwarded by a router link']);
        const call = callees.call((details['procedure'] as string | undefined) ?? reg.uri, args, kwargs, {
          forward_for: forwardFor(details, 'caller', callers.id),
        });
        const requestId = callees.lastRequestId;
        context.signal.addEventListener('abort', () => callees.cancel(requestId), { once: true });
        const result = await call.catch((err: Error) => {
          // The other side's session closed under the call: the link is down.
          throw err instanceof WampError ? err : new WampError('wamp.error.canceled', ['the router link went down']);
        });
        return new Result(result.args, result.kwargs);
      }, options);
      if (mirrored.has(reg.id)) mirrored.set(reg.id, id);
      else await callers.unregister(id); // it went while we registered
    } catch {
      mirrored.delete(reg.id); // e.g. procedure_already_exists on the other side
    }
  };
  await callees.subscribe('wamp.registration.on_create', (args) => {
    if (args[0] !== callees.id) void mirror(args[1] as RegistrationDetails);
  });
  await callees.subscribe('wamp.registration.on_delete', (args) => {
    const theirs = mirrored.get(args[1] as number);
    mirrored.delete(args[1] as number);
    if (theirs) void callers.unregister(theirs).catch(() => {});
  });
  const list = (await callees.call('wamp.registration.list')).args[0] as Record<string, number[]>;
  for (const ids of Object.values(list)) {
    for (const id of ids) {
      const calleeIds = (await callees.call('wamp.registration.list_callees', [id]).catch(() => undefined))?.args[0] as number[] | undefined;
      if (calleeIds?.length === 1 && calleeIds[0] === callees.id) continue; // the link's own
      const got = await callees.call('wamp.registration.get', [id]).catch(() => undefined);
      if (got?.args[0]) await mirror(got.args[0] as RegistrationDetails);
    }
  }
}

/**
 * The most calls at once the registration's callees take together (Junction's
 * junction.registration.get); undefined when unlimited or unknown (another kind of router).
 */
async function concurrencyOf(callees: LinkSide, registrationId: number): Promise<number | undefined> {
  const got = await callees.call('junction.registration.get', [registrationId]).catch(() => undefined);
  const list = (got?.args[0] as { callees?: Array<{ concurrency: number | null }> } | undefined)?.callees;
  if (!list?.length || list.some((c) => typeof c.concurrency !== 'number')) return undefined;
  return list.reduce((sum, c) => sum + c.concurrency!, 0);
}
