// One direction of a router link's event forwarding: every subscription on the `subscribers` side
// (those there at the start, and each new one: wamp.subscription.on_create) is made on the
// `publishers` side too, with the same URI and match policy; what arrives there is handed to
// `deliver` (published on the `subscribers` side, or buffered while that side is away), marked with
// forward_for, excluding the link itself and the configured authids/authroles. Events that were
// already forwarded (forward_for) are not passed on again. When a subscription's last subscriber
// goes (wamp.subscription.on_unsubscribe), its mirror goes too. The mirrors outlive a connection of the
// subscribers' side: `follow` is called for each, and drops the mirrors of what went meanwhile.

import type { RLinkConfig } from '../config/types.js';
import type { Dict } from '../wamp/message.js';
import { forwardFor, staysLocal, wasForwarded } from './forward-marks.js';
import type { LinkSide } from './session-scope.js';

interface SubscriptionDetails { id: number; uri: string; match?: string }

/** Passes an event on: `options` are its PUBLISH options on the subscribers' side. */
export type Deliver = (topic: string, args: unknown[], kwargs: Dict, options: Dict, details: Dict) => void;

/** A subscription on the subscribers' side: its details, and its subscribers other than the link. */
interface Source { details: Promise<SubscriptionDetails | undefined>; others: Set<number> }

export class EventMirror {
  /** `${match} ${uri}` → the link's subscription ID on the publishers' side (0 while subscribing). */
  private readonly mirrored = new Map<string, number>();

  private readonly deliver: Deliver;

  /** `onChange`: the set of mirrored subscriptions changed. */
  constructor(private readonly config: RLinkConfig, private readonly publishers: LinkSide, deliver: Deliver, private readonly onChange: () => void = () => {}) {
    // An event matching several mirrored subscriptions (exact 'a.b' and prefix 'a.') arrives once
    // for each, one after the other: it crosses once, and the other router's broker fans it out.
    let last: unknown;
    this.deliver = (topic, args, kwargs, options, details) => {
      const publication = details['publication'];
      if (publication !== undefined && publication === last) return;
      last = publication;
      deliver(topic, args, kwargs, options, details);
    };
  }

  /** How many subscriptions are mirrored. */
  get size(): number {
    return this.mirrored.size;
  }

  /** The mirrored subscriptions as [uri, match]. */
  saved(): Array<[string, string]> {
    return [...this.mirrored.keys()].map((key) => {
      const space = key.indexOf(' ');
      return [key.slice(space + 1), key.slice(0, space)];
    });
  }

  /** Mirrors subscriptions saved earlier (before a restart), until `follow` learns what is current. */
  async restore(saved: ReadonlyArray<[string, string]>): Promise<void> {
    const seen = new Set<string>();
    await Promise.all(saved.map(([uri, match]) => this.mirror({ id: 0, uri, match }, seen)));
  }

  /**
   * Mirrors the subscriptions of `subscribers` (a new connection to it) and follows their
   * subscribers: a subscription is mirrored while someone other than the link itself subscribes to
   * it (the link's own subscriptions there are mirrors of this side's, and must not keep each other).
   */
  async follow(subscribers: LinkSide): Promise<void> {
    const sources = new Map<number, Source>();
    const seen = new Set<string>();
    const source = (id: number, known?: SubscriptionDetails): Source => {
      let s = sources.get(id);
      if (!s) {
        const details = known ? Promise.resolve(known) : subscribers.call('wamp.subscription.get', [id]).then((r) => r.args[0] as SubscriptionDetails, () => undefined);
        sources.set(id, s = { details, others: new Set() });
      }
      return s;
    };
    const self = subscribers.id;
    await subscribers.subscribe('wamp.subscription.on_create', (args) => void source((args[1] as SubscriptionDetails).id, args[1] as SubscriptionDetails));
    await subscribers.subscribe('wamp.subscription.on_subscribe', (args) => {
      if (args[0] === self) return;
      const s = source(args[1] as number);
      s.others.add(args[0] as number);
      if (s.others.size === 1) void s.details.then((d) => { if (d && s.others.size > 0) void this.mirror(d, seen); });
    });
    await subscribers.subscribe('wamp.subscription.on_unsubscribe', (args) => {
      const s = sources.get(args[1] as number);
      if (!s?.others.delete(args[0] as number) || s.others.size > 0) return;
      void s.details.then((d) => { if (d && s.others.size === 0) this.drop(keyOf(d)); });
    });
    await subscribers.subscribe('wamp.subscription.on_delete', (args) => void sources.delete(args[1] as number));
    const list = (await subscribers.call('wamp.subscription.list')).args[0] as Record<string, number[]>;
    for (const ids of Object.values(list)) {
      for (const id of ids) {
        const ofIt = (await subscribers.call('wamp.subscription.list_subscribers', [id]).catch(() => undefined))?.args[0] as number[] | undefined;
        const s = source(id);
        for (const session of ofIt ?? []) if (session !== self) s.others.add(session);
        const details = await s.details;
        if (details && s.others.size > 0) await this.mirror(details, seen);
      }
    }
    // Subscriptions that went while the subscribers' side was away.
    for (const key of [...this.mirrored.keys()]) if (!seen.has(key)) this.drop(key);
  }

  private async mirror(sub: SubscriptionDetails, seen: Set<string>): Promise<void> {
    const { config, publishers } = this;
    const match = sub.match ?? 'exact';
    const key = keyOf(sub);
    seen.add(key);
    if (this.mirrored.has(key) || staysLocal(sub.uri, config.excludeUri)) return;
    this.mirrored.set(key, 0);
    this.onChange();
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
    }, () => this.drop(key));
  }

  private drop(key: string): void {
    const id = this.mirrored.get(key);
    if (!this.mirrored.delete(key)) return;
    this.onChange();
    if (id) void this.publishers.unsubscribe(id).catch(() => {});
  }
}

function keyOf(sub: SubscriptionDetails): string {
  return `${sub.match ?? 'exact'} ${sub.uri}`;
}
