// One direction of a router link's event forwarding: every subscription on the `subscribers` side
// (those there at the start, and each new one: wamp.subscription.on_create) is made on the
// `publishers` side too, with the same URI and match policy; what arrives there is handed to
// `deliver` (published on the `subscribers` side, or buffered while that side is away), marked with
// forward_for, excluding the link itself and the configured authids/authroles. Events that were
// already forwarded (forward_for) are not passed on again. When a subscription goes
// (wamp.subscription.on_delete), its mirror goes too. The mirrors outlive a connection of the
// subscribers' side: `follow` is called for each, and drops the mirrors of what went meanwhile.

import type { RLinkConfig } from '../config/types.js';
import type { Dict } from '../wamp/message.js';
import { forwardFor, staysLocal, wasForwarded } from './forward-marks.js';
import type { LinkSide } from './session-scope.js';

interface SubscriptionDetails { id: number; uri: string; match?: string }

/** Passes an event on: `options` are its PUBLISH options on the subscribers' side. */
export type Deliver = (topic: string, args: unknown[], kwargs: Dict, options: Dict, details: Dict) => void;

export class EventMirror {
  /** `${match} ${uri}` → the link's subscription ID on the publishers' side (0 while subscribing). */
  private readonly mirrored = new Map<string, number>();
  /** Subscription ID on the subscribers' side → its key above (what on_delete names). */
  private sources = new Map<number, string>();

  constructor(private readonly config: RLinkConfig, private readonly publishers: LinkSide, private readonly deliver: Deliver) {}

  /** How many subscriptions are mirrored. */
  get size(): number {
    return this.mirrored.size;
  }

  /** Mirrors the subscriptions of `subscribers` (a new connection to it) and follows their changes. */
  async follow(subscribers: LinkSide): Promise<void> {
    const sources = this.sources = new Map<number, string>();
    const seen = new Set<string>();
    await subscribers.subscribe('wamp.subscription.on_create', (args) => void this.mirror(args[1] as SubscriptionDetails, seen));
    await subscribers.subscribe('wamp.subscription.on_delete', (args) => {
      const key = sources.get(args[1] as number);
      sources.delete(args[1] as number);
      if (key !== undefined) this.drop(key);
    });
    const list = (await subscribers.call('wamp.subscription.list')).args[0] as Record<string, number[]>;
    for (const ids of Object.values(list)) {
      for (const id of ids) {
        const got = await subscribers.call('wamp.subscription.get', [id]).catch(() => undefined);
        if (got?.args[0]) await this.mirror(got.args[0] as SubscriptionDetails, seen);
      }
    }
    // Subscriptions that went while the subscribers' side was away.
    for (const key of [...this.mirrored.keys()]) if (!seen.has(key)) this.drop(key);
  }

  private async mirror(sub: SubscriptionDetails, seen: Set<string>): Promise<void> {
    const { config, publishers } = this;
    const match = sub.match ?? 'exact';
    const key = `${match} ${sub.uri}`;
    seen.add(key);
    if (typeof sub.id === 'number') this.sources.set(sub.id, key);
    if (this.mirrored.has(key) || staysLocal(sub.uri, config.excludeUri)) return;
    this.mirrored.set(key, 0);
    const options: Dict = match === 'exact' ? {} : { match };
    await publishers.subscribe(sub.uri, (args, kwargs, details) => {
      if (wasForwarded(details)) return;
      const publish: Dict = { exclude_me: true, forward_for: forwardFor(details, 'publisher', publishers.id) };
      if (config.excludeAuthid.length) publish['exclude_authid'] = config.excludeAuthid;
      if (config.excludeAuthrole.length) publish['exclude_authrole'] = config.excludeAuthrole;
      this.deliver((details['topic'] as string | undefined) ?? sub.uri, args, kwargs, publish, details);
    }, options).then((id) => {
      if (this.mirrored.has(key)) this.mirrored.set(key, id);
      else void publishers.unsubscribe(id).catch(() => {}); // it went while we subscribed
    }, () => this.mirrored.delete(key));
  }

  private drop(key: string): void {
    const id = this.mirrored.get(key);
    this.mirrored.delete(key);
    if (id) void this.publishers.unsubscribe(id).catch(() => {});
  }
}
