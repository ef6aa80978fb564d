// One direction of a router link's event forwarding: every subscription on the `subscribers` side
// (those there at the start, and each new one: wamp.subscription.on_create) is made on the
// `publishers` side too, with the same URI and match policy; what arrives there is published on the
// `subscribers` side, marked with forward_for, excluding the link itself and the configured
// authids/authroles. Events that were already forwarded (forward_for) are not passed on again.

import type { ClientSession } from '../client/client-session.js';
import type { RLinkConfig } from '../config/types.js';
import type { Dict } from '../wamp/message.js';
import { forwardFor, staysLocal, wasForwarded } from './forward-marks.js';

interface SubscriptionDetails { uri: string; match?: string }

export async function mirrorEvents(config: RLinkConfig, subscribers: ClientSession, publishers: ClientSession): Promise<void> {
  const mirrored = new Set<string>();
  const mirror = async (sub: SubscriptionDetails): Promise<void> => {
    const match = sub.match ?? 'exact';
    const key = `${match} ${sub.uri}`;
    if (mirrored.has(key) || staysLocal(sub.uri, config.excludeUri)) return;
    mirrored.add(key);
    const options: Dict = match === 'exact' ? {} : { match };
    await publishers.subscribe(sub.uri, (args, kwargs, details) => {
      if (wasForwarded(details)) return;
      const publish: Dict = { exclude_me: true, forward_for: forwardFor(details, 'publisher', publishers.id) };
      if (config.excludeAuthid.length) publish['exclude_authid'] = config.excludeAuthid;
      if (config.excludeAuthrole.length) publish['exclude_authrole'] = config.excludeAuthrole;
      void subscribers.publish((details['topic'] as string | undefined) ?? sub.uri, args, kwargs, publish).catch(() => {});
    }, options).catch(() => mirrored.delete(key));
  };
  await subscribers.subscribe('wamp.subscription.on_create', (args) => void mirror(args[1] as SubscriptionDetails));
  const list = (await subscribers.call('wamp.subscription.list')).args[0] as Record<string, number[]>;
  for (const ids of Object.values(list)) {
    for (const id of ids) {
      const got = await subscribers.call('wamp.subscription.get', [id]).catch(() => undefined);
      if (got?.args[0]) await mirror(got.args[0] as SubscriptionDetails);
    }
  }
}
