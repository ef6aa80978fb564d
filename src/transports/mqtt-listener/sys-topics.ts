// The listener's `$SYS/` tree: the broker describing itself under the topic names mosquitto uses
// (so that dashboards made for mosquitto read Junction unchanged), refreshed every `sys_interval`
// seconds and kept as retained messages, which a new `$SYS/...` subscription gets at once.
//
// It is served here, by the listener, and not through the realm: its figures are the listener's
// (its clients, its traffic), `$SYS/` is MQTT's own convention for them (WAMP clients have the meta
// API), and no client, MQTT or WAMP, can publish into it. A filter whose first level is `$SYS` is
// therefore answered by this tree only; a client's PUBLISH to a `$SYS/` topic is refused.

import type { IPublishPacket } from 'mqtt-packet';
import { topicMatches } from '../../mqtt/topic-match.js';
import { junctionVersion } from '../../version.js';

/** The first level of the broker's own topics. */
const SYS = '$SYS';

/** Is `topicOrFilter` in the `$SYS/` tree (its first level is `$SYS`)? */
export function isSysTopic(topicOrFilter: string): boolean {
  return topicOrFilter.startsWith(SYS) && (topicOrFilter.length === SYS.length || topicOrFilter.charCodeAt(SYS.length) === 0x2f);
}

/** A topic filter MQTT allows: `+` and `#` only as whole levels, `#` only as the last. */
export function isValidFilter(filter: string): boolean {
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level === '+' || (level === '#' && i === levels.length - 1)) continue;
    if (level.includes('+') || level.includes('#')) return false;
  }
  return true;
}

/** MQTT packets and bytes through the listener's connections since it started (one object per listener). */
export class MqttTraffic {
  messagesReceived = 0;
  messagesSent = 0;
  bytesReceived = 0;
  bytesSent = 0;
}

/** What the tree asks of the listener at each refresh. */
export interface BrokerFigures {
  /** Clients with a connection now. */
  connected: number;
  /** Persistent sessions waiting for their clients. */
  disconnected: number;
  /** MQTT subscriptions (filters) of every session, connected or waiting. */
  subscriptions: number;
  /** Retained messages of the realm (every publisher's, MQTT and WAMP); undefined when unknown. */
  retained: number | undefined;
}

/** A client subscribed to `$SYS/` topics (its MqttSession): gets the tree's messages. */
export interface SysSubscriber {
  /** False while a persistent session waits for its client: QoS 0 figures are not kept for it. */
  readonly connected: boolean;
  deliver(packet: IPublishPacket, topic: string): void;
}

/** One `$SYS/` filter of a client (its QoS does not matter: the tree publishes at QoS 0). */
interface SysFilter {
  /** MQTT 5's Retain As Published: refreshes keep the retain flag. */
  retainAsPublished: boolean;
}

export class SysTopics {
  /** The retained value of each topic of the tree, as its payload. */
  private readonly values = new Map<string, Buffer>();
  /** Each subscribed client's `$SYS/` filters. */
  private readonly subscribers = new Map<SysSubscriber, Map<string, SysFilter>>();
  /** The most clients connected at once, as seen at the refreshes (as mosquitto counts it). */
  private maximumConnected = 0;
  private timer: NodeJS.Timeout | undefined;

  /** `intervalSeconds`: 0 = the tree is off (nothing is published; `$SYS/` filters are accepted and stay silent). */
  constructor(private readonly intervalSeconds: number, private readonly traffic: MqttTraffic, private readonly figures: () => BrokerFigures) {}

  get enabled(): boolean {
    return this.intervalSeconds > 0;
  }

  start(): void {
    if (!this.enabled || this.timer) return;
    this.refresh();
    this.timer = setInterval(() => this.refresh(), this.intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The client's `$SYS/` filter, from now on (a filter subscribed again replaces its options). */
  subscribe(subscriber: SysSubscriber, filter: string, retainAsPublished: boolean): void {
    let filters = this.subscribers.get(subscriber);
    if (!filters) this.subscribers.set(subscriber, (filters = new Map()));
    filters.set(filter, { retainAsPublished });
  }

  /** Sends the retained messages under `filter` (after SUBACK), flagged retained as any retained message. */
  sendRetained(subscriber: SysSubscriber, filter: string): void {
    for (const [topic, payload] of this.values) {
      if (topicMatches(filter, topic)) subscriber.deliver(sysPacket(topic, payload, true), topic);
    }
  }

  /** Whether the client had that filter. */
  unsubscribe(subscriber: SysSubscriber, filter: string): boolean {
    const filters = this.subscribers.get(subscriber);
    if (!filters?.delete(filter)) return false;
    if (filters.size === 0) this.subscribers.delete(subscriber);
    return true;
  }

  /** The client's session ended: its filters go. */
  forget(subscriber: SysSubscriber): void {
    this.subscribers.delete(subscriber);
  }

  /** `$SYS/` filters of every client (they count as subscriptions too). */
  get filterCount(): number {
    let count = 0;
    for (const filters of this.subscribers.values()) count += filters.size;
    return count;
  }

  /** Publishes the figures that changed since the last refresh (all of them the first time). */
  refresh(): void {
    const figures = this.figures();
    this.maximumConnected = Math.max(this.maximumConnected, figures.connected);
    const traffic = this.traffic;
    if (this.values.size === 0) this.publish('$SYS/broker/version', `junction version ${junctionVersion()}`);
    this.publish('$SYS/broker/uptime', `${Math.floor(process.uptime())} seconds`);
    this.publish('$SYS/broker/clients/connected', figures.connected);
    this.publish('$SYS/broker/clients/disconnected', figures.disconnected);
    this.publish('$SYS/broker/clients/maximum', this.maximumConnected);
    this.publish('$SYS/broker/clients/total', figures.connected + figures.disconnected);
    this.publish('$SYS/broker/messages/received', traffic.messagesReceived);
    this.publish('$SYS/broker/messages/sent', traffic.messagesSent);
    this.publish('$SYS/broker/bytes/received', traffic.bytesReceived);
    this.publish('$SYS/broker/bytes/sent', traffic.bytesSent);
    if (figures.retained !== undefined) this.publish('$SYS/broker/retained messages/count', figures.retained);
    this.publish('$SYS/broker/subscriptions/count', figures.subscriptions);
  }

  /** Keeps `value` as the topic's retained message and sends it to the matching filters, when it changed. */
  private publish(topic: string, value: string | number): void {
    const text = String(value);
    const old = this.values.get(topic);
    if (old !== undefined && old.length === Buffer.byteLength(text) && old.toString() === text) return;
    const payload = Buffer.from(text);
    this.values.set(topic, payload);
    for (const [subscriber, filters] of this.subscribers) {
      if (!subscriber.connected) continue; // it would count as a message lost, which nobody lost
      // A client gets each message once, however many of its filters match (MQTT allows either).
      let match: SysFilter | undefined;
      for (const [filter, options] of filters) {
        if (!topicMatches(filter, topic)) continue;
        if (!match || options.retainAsPublished) match = options;
      }
      // Live updates are not flagged retained [MQTT-3.3.1-9], unless the filter asked Retain As Published.
      if (match) subscriber.deliver(sysPacket(topic, payload, match.retainAsPublished), topic);
    }
  }
}

/** The tree's messages go out at QoS 0, as mosquitto's: a figure missed is replaced by the next. */
function sysPacket(topic: string, payload: Buffer, retain: boolean): IPublishPacket {
  return { cmd: 'publish', topic, payload, qos: 0, retain, dup: false };
}
