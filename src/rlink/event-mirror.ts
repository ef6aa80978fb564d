// One direction of a router link's event forwarding: every subscription on the `subscribers` side
// that has a subscriber other than the link itself (wamp.subscription.list at the start, then
// on_create and on_subscribe) is made on the `publishers` side too, with the same URI and match
// policy; what arrives there is published on the `subscribers` side with the link's forward marks
// (forward-marks.ts: forward_for, _origin), excluding the link itself and the configured
// authids/authroles. What the marks say must not pass (it would loop or arrive twice) is dropped.
// A subscription the link made here for the other side is not offered back there: a hub does not
// send a board events that only the hub's other clients want.

import type { ClientSession } from '../client/client-session.js';
import type { RLinkConfig } from '../config/types.js';
import type { Dict } from '../wamp/message.js';
import { staysLocal, type ForwardMarks } from './forward-marks.js';
import { withoutMetaApi } from './meta-api.js';

interface SubscriptionDetails { id: number; uri: string; match?: string }

export async function mirrorEvents(config: RLinkConfig, marks: ForwardMarks, subscribers: ClientSession, publishers: ClientSession, flag: string): Promise<void> {
  /** Match and URI of the subscriptions made on the publishers' side. */
  const mirrored = new Set<string>();
  /** Subscription IDs on the subscribers' side already looked at. */
  const seen = new Set<number>();
  const mirror = async (sub: SubscriptionDetails): Promise<void> => {
    seen.add(sub.id);
    const match = sub.match ?? 'exact';
    const key = `${match} ${sub.uri}`;
    if (mirrored.has(key) || staysLocal(sub.uri, config.excludeUri)) return;
    mirrored.add(key);
    const options: Dict = match === 'exact' ? {} : { match };
    await publishers.subscribe(sub.uri, (args, kwargs, details) => {
      const marked = marks.event(details, publishers, subscribers);
      if (!marked) return;
      const publish: Dict = { exclude_me: true, ...marked };
      if (config.excludeAuthid.length) publish['exclude_authid'] = config.excludeAuthid;
      if (config.excludeAuthrole.length) publish['exclude_authrole'] = config.excludeAuthrole;
      void subscribers.publish((details['topic'] as string | undefined) ?? sub.uri, args, kwargs, publish).catch(() => {});
    }, options).catch(() => mirrored.delete(key));
  };
  const mirrorById = async (id: number): Promise<void> => {
    const got = await subscribers.call('wamp.subscription.get', [id]).catch(() => undefined);
    if (got?.args[0]) await mirror(got.args[0] as SubscriptionDetails);
  };
  await subscribers.subscribe('wamp.subscription.on_create', (args) => {
    if (args[0] !== subscribers.id) void mirror(args[1] as SubscriptionDetails);
  });
  await subscribers.subscribe('wamp.subscription.on_subscribe', (args) => {
    if (args[0] !== subscribers.id && !seen.has(args[1] as number)) void mirrorById(args[1] as number);
  });
  await subscribers.subscribe('wamp.subscription.on_delete', (args) => void seen.delete(args[1] as number));
  const list = await withoutMetaApi(subscribers.call('wamp.subscription.list'), config.id, 'wamp.subscription.list', `${flag} forwards nothing on this connection`);
  if (!list) return;
  for (const ids of Object.values(list.args[0] as Record<string, number[]>)) {
    for (const id of ids) {
      const ours = (await subscribers.call('wamp.subscription.list_subscribers', [id]).catch(() => undefined))?.args[0] as number[] | undefined;
      if (ours?.some((s) => s !== subscribers.id)) await mirrorById(id);
    }
  }
}
