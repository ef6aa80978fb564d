// A bridge's WAMP side: an ordinary in-process session of the realm with the bridge's role (so
// normal authorization applies), subscribed to the `to_mqtt` rules, whose events it hands to the
// bridge. When the session closes it joins again, 1 s after, then twice as long each time up to 30 s.

import type { MqttBridgeConfig } from '../../config/types.js';
import { ClientSession } from '../../client/client-session.js';
import type { SessionFactory } from '../../core-boundary.js';
import type { Dict } from '../../wamp/message.js';

export type ToMqttRule = MqttBridgeConfig['toMqtt'][number];

export interface RealmLinkOwner {
  /** An event for one of the `to_mqtt` rules. */
  fromWamp(rule: ToMqttRule, args: unknown[], kwargs: Dict, details: Dict): void;
  error(message: string): void;
}

export class RealmLink {
  /** The joined session; undefined while (re)joining. */
  session: ClientSession | undefined;
  private timer: NodeJS.Timeout | undefined;
  private delay = 1000;
  private stopping = false;

  constructor(private readonly config: MqttBridgeConfig, private readonly router: SessionFactory, private readonly owner: RealmLinkOwner) {}

  /** Joins the realm and subscribes to the `to_mqtt` rules (a refused subscription is an error, not a failure). */
  async join(): Promise<void> {
    const { realm, role, authid, id } = this.config;
    const session = await ClientSession.connect(this.router, { realm, role, authid, name: `mqtt-bridge:${id}` });
    this.session = session;
    this.delay = 1000;
    void session.closed.then(() => this.closed(session));
    for (const rule of this.config.toMqtt) {
      const options: Dict = { get_retained: true };
      if (rule.match !== 'exact') options['match'] = rule.match;
      try {
        await session.subscribe(rule.uri, (args, kwargs, details) => this.owner.fromWamp(rule, args, kwargs, details), options);
      } catch (err) {
        this.owner.error(`cannot subscribe to '${rule.uri}' (${rule.match}) in realm '${realm}' as role '${role}': ${(err as Error).message}`);
      }
    }
  }

  /** No more joining again (the bridge is stopping); the session stays until close(). */
  stopRejoining(): void {
    this.stopping = true;
    clearTimeout(this.timer);
  }

  async close(): Promise<void> {
    await this.session?.close().catch(() => {});
  }

  private closed(session: ClientSession): void {
    if (this.session !== session) return;
    this.session = undefined;
    if (this.stopping) return;
    this.owner.error(`WAMP session in realm '${this.config.realm}' closed; joining again in ${this.delay} ms`);
    this.timer = setTimeout(() => {
      this.join().catch((err) => {
        this.owner.error(`cannot join realm '${this.config.realm}': ${(err as Error).message}`);
        this.retry();
      });
    }, this.delay);
    this.delay = Math.min(this.delay * 2, 30_000);
  }

  private retry(): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.join().catch(() => this.retry());
    }, this.delay);
    this.delay = Math.min(this.delay * 2, 30_000);
  }
}
