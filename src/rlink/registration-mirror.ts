// One direction of a router link's call forwarding: every registration on the `callees` side that
// has a callee other than the link itself (wamp.registration.list at the start, then on_create and
// on_register) is registered on the `callers` side with the same URI, match and invocation policy;
// an invocation there becomes a call on the `callees` side, marked with forward_for (one entry per
// hop, so a call may cross several links: board → hub → board). Once only the link itself is left
// as a callee (on_unregister) or the registration goes (on_delete), the link's registration on the
// other side goes too: a procedure the link made callable here from there is not offered back
// there, and a board's own device that registers it later takes over when the other side's goes.
// A call that this link already carried (a ring of links) is refused with no_such_procedure. A
// Junction callee's concurrency (junction.registration.get) is declared on the other side too, so
// that router never sends the link more calls at once than the callee takes; as callees join or
// leave a shared registration (on_register/on_unregister) the link changes what it declared in
// place with junction.registration.set_concurrency (a Junction on the other side; registering
// again would put the link behind the other callees of an invoke 'first' registration). An
// invocation whose caller went (INTERRUPT, or the link's connection lost) cancels the call it
// made; progressive results are passed back as they come.

import { Result, WampError, type Payload } from '../client/client-session.js';
import type { RLinkConfig } from '../config/types.js';
import type { Dict } from '../wamp/message.js';
import { staysLocal, type ForwardMarks, type Side } from './forward-marks.js';
import { withoutMetaApi } from './meta-api.js';
import type { LinkSide } from './session-scope.js';

interface RegistrationDetails { id: number; uri: string; match?: string; invoke?: string }

/** `callersSide`: the side `callers` is on; `flag`: the config key this mirror is for, to name in the log. */
export async function mirrorRegistrations(config: RLinkConfig, marks: ForwardMarks, callees: LinkSide, callers: LinkSide, callersSide: Side, flag: string): Promise<void> {
  /** Registration ID on the callees' side → the link's registration ID on the callers' side (0 while registering). */
  const mirrored = new Map<number, number>();
  /** The concurrency the link declared for a registration on the callers' side (null: none). */
  const declared = new Map<number, number | null>();
  /** Registrations whose callees changed while they were being registered on the callers' side. */
  const changed = new Set<number>();
  /** Per registration, the last change of its declared concurrency: they go out in order. */
  const following = new Map<number, Promise<void>>();
  const follow = (id: number): void => {
    if (mirrored.get(id) === 0) return void changed.add(id);
    if (!mirrored.has(id)) return;
    const next = (following.get(id) ?? Promise.resolve()).then(async () => {
      const concurrency = await concurrencyOf(callees, id);
      const theirs = mirrored.get(id);
      if (concurrency === undefined || !theirs || declared.get(id) === concurrency) return;
      declared.set(id, concurrency);
      await callers.call('junction.registration.set_concurrency', [theirs, concurrency]).catch(() => {});
    });
    following.set(id, next);
    void next.finally(() => { if (following.get(id) === next) following.delete(id); });
  };
  const mirror = async (reg: RegistrationDetails): Promise<void> => {
    if (mirrored.has(reg.id) || staysLocal(reg.uri, config.excludeUri)) return;
    mirrored.set(reg.id, 0);
    const options: Dict = {};
    if (reg.match && reg.match !== 'exact') options['match'] = reg.match;
    if (reg.invoke && reg.invoke !== 'single') options['invoke'] = reg.invoke;
    const concurrency = await concurrencyOf(callees, reg.id);
    if (typeof concurrency === 'number') options['concurrency'] = concurrency;
    declared.set(reg.id, concurrency ?? null);
    try {
      const id = await callers.register(reg.uri, (args, kwargs, context) => {
        const details = context.details;
        const forwardFor = marks.call(details, callersSide);
        if (!forwardFor) throw new WampError('wamp.error.no_such_procedure', ['a router link does not pass this call on: it carried it already, or it crossed 16 links']);
        const call = callees.call((details['procedure'] as string | undefined) ?? reg.uri, args, kwargs, {
          forward_for: forwardFor,
          ...(details['receive_progress'] === true ? { onProgress: (p: Payload) => context.progress(p.args, p.kwargs) } : {}),
        });
        const requestId = callees.lastRequestId;
        context.onInterrupt(() => callees.cancel(requestId));
        return call.then(asResult, asCallError);
      }, options);
      if (mirrored.has(reg.id)) mirrored.set(reg.id, id);
      else await callers.unregister(id); // it went while we registered
      if (changed.delete(reg.id)) follow(reg.id);
    } catch {
      mirrored.delete(reg.id); // e.g. procedure_already_exists on the other side
      declared.delete(reg.id);
      changed.delete(reg.id);
    }
  };
  const unmirror = (regId: number): void => {
    const theirs = mirrored.get(regId);
    mirrored.delete(regId);
    declared.delete(regId);
    if (theirs) void callers.unregister(theirs).catch(() => {});
  };
  /** Whether the registration has no callee but the link itself (undefined: it is gone). */
  const onlyOwn = async (regId: number): Promise<boolean | undefined> => {
    const ids = (await callees.call('wamp.registration.list_callees', [regId]).catch(() => undefined))?.args[0] as number[] | undefined;
    return ids && ids.every((id) => id === callees.id);
  };
  const mirrorById = async (regId: number): Promise<void> => {
    const got = await callees.call('wamp.registration.get', [regId]).catch(() => undefined);
    if (got?.args[0]) await mirror(got.args[0] as RegistrationDetails);
  };
  await callees.subscribe('wamp.registration.on_create', (args) => {
    if (args[0] !== callees.id) void mirror(args[1] as RegistrationDetails);
  });
  await callees.subscribe('wamp.registration.on_register', (args) => {
    if (args[0] === callees.id) return;
    if (mirrored.has(args[1] as number)) follow(args[1] as number);
    else void mirrorById(args[1] as number);
  });
  await callees.subscribe('wamp.registration.on_unregister', (args) => {
    const regId = args[1] as number;
    if (args[0] !== callees.id && mirrored.has(regId)) void onlyOwn(regId).then((own) => { if (own) unmirror(regId); else follow(regId); });
  });
  await callees.subscribe('wamp.registration.on_delete', (args) => unmirror(args[1] as number));
  const list = await withoutMetaApi(callees.call('wamp.registration.list'), config.id, 'wamp.registration.list', `${flag} forwards nothing on this connection`);
  if (!list) return;
  for (const ids of Object.values(list.args[0] as Record<string, number[]>)) {
    for (const id of ids) {
      if ((await onlyOwn(id)) === false) await mirrorById(id);
    }
  }
}

interface RegistrationLoad { invoke?: string; callees?: Array<{ session: number; concurrency: number | null }> }

/** The answer of the call a forwarded invocation made: the invocation's answer. */
function asResult(result: Payload): Result {
  return new Result(result.args, result.kwargs);
}

function asCallError(err: Error): never {
  // The other side's session closed under the call: the link is down.
  throw err instanceof WampError ? err : new WampError('wamp.error.canceled', ['the router link went down']);
}

/**
 * The most calls at once the registration takes through the link (Junction's
 * junction.registration.get): the sum over the callees other than the link for roundrobin and
 * random, the one callee's own for single, first and last (a busy first callee does not pass calls
 * to the next). null when that has no limit; undefined when unknown (no such registration, no
 * other callee, or another kind of router).
 */
async function concurrencyOf(callees: LinkSide, registrationId: number): Promise<number | null | undefined> {
  const got = await callees.call('junction.registration.get', [registrationId]).catch(() => undefined);
  const load = got?.args[0] as RegistrationLoad | undefined;
  const list = load?.callees?.filter((c) => c.session !== callees.id);
  if (!list?.length) return undefined;
  const serving = load!.invoke === 'roundrobin' || load!.invoke === 'random' ? list : [load!.invoke === 'last' ? list.at(-1)! : list[0]!];
  if (serving.some((c) => typeof c.concurrency !== 'number')) return null;
  return serving.reduce((sum, c) => sum + c.concurrency!, 0);
}
