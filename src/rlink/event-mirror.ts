// One direction of a router link's event forwarding: every subscription on the `subscribers` side
// (those there at the start, and each new one: wamp.subscription.on_create) is made on the
// `publishers` side too, with the same URI and match policy; what arrives there is published on the
// `subscribers` side with the link's forward marks (forward-marks.ts: forward_for, _origin),
// excluding the link itself and the configured authids/authroles. What the marks say must not pass
// (it would loop or arrive twice) is dropped.

import type { ClientSession } from '../client/client-session.js';
import type { RLinkConfig } from '../config/types.js';
import type { Dict } from '../wamp/message.js';
import { staysLocal, type ForwardMarks } from './forward-marks.js';
import { withoutMetaApi } from './meta-api.js';

interface SubscriptionDetails { uri: string; match?: string }

export async function mirrorEvents(config: RLinkConfig, marks: ForwardMarks, subscribers: ClientSession, publishers: ClientSession, flag: string): Promise<void> {
  const mirrored = new Set<string>();
  const mirror = async (sub: SubscriptionDetails): Promise<void> => {
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
  await subscribers.subscribe('wamp.subscription.on_create', (args) => void mirror(args[1] as SubscriptionDetails));
  const list = await withoutMetaApi(subscribers.call('wamp.subscription.list'), config.id, 'wamp.subscription.list', `${flag} forwards nothing on this connection`);
  if (!list) return;
  for (const ids of Object.values(list.args[0] as Record<string, number[]>)) {
    for (const id of ids) {
      const got = await subscribers.call('wamp.subscription.get', [id]).catch(() => undefined);
      if (got?.args[0]) await mirror(got.args[0] as SubscriptionDetails);
    }
  }
}
