// A bridge's MQTT side: an `mqtt` client to the broker, a new one per connection attempt, with
// capped exponential backoff between attempts and a clean session each time (the client's options
// and the `to_wamp` SUBSCRIBE below). `to_wamp` filters are subscribed with No Local (MQTT 5), so
// the broker does not send back what the bridge published, and Retain As Published. The link tells
// its bridge when it connected and when the connection is gone; what flows over it is the bridge's.
// With several broker nodes (`url` as a list, a broker cluster), the link connects to the first that
// answers and, when the node in use goes away, fails over to the next one at once; backoff applies
// only after every node of the list failed in turn. Nothing is carried from one node to the next:
// the bridge's ForwardBuffer sends again what the lost node had not acknowledged.

import { connect, type IClientOptions, type IClientSubscribeOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { MqttBridgeConfig } from '../../config/types.js';

/** How long stop() lets in-flight messages be acknowledged, and the client end, at most. */
const STOP_GRACE_MS = 2000;

export interface BrokerLinkOwner {
  /** The last error logged, so that one repeated on every attempt is logged once. */
  readonly lastError: string | null;
  /** CONNACK came (and the `to_wamp` SUBSCRIBE went out). */
  brokerConnected(): void;
  /**
   * The connection to node `lost`, or an attempt at one, is gone; `wasConnected`: CONNACK had come.
   * `next`: the node tried next (the same one when the list has one).
   */
  brokerClosed(wasConnected: boolean, lost: string, next: string): void;
  /** A message from the broker; `done` acknowledges it (QoS 1/2). */
  fromMqtt(packet: IPublishPacket, done: (err?: Error) => void): void;
  error(message: string, level?: 'warn' | 'error' | 'debug'): void;
}

export class BrokerLink {
  /** The client whose callbacks still count; undefined between connections. */
  client: MqttClient | undefined;
  connected = false;
  /** When `connected` last changed. */
  since = Date.now();
  /** Messages unacknowledged at once, at most: `max_inflight`, within the broker's Receive Maximum. */
  window = 1;
  /** Index in `config.urls` of the node in use or being tried. */
  private node = 0;
  /** Failed attempts since the last CONNACK: after a whole round of the list, backoff. */
  private failedAttempts = 0;
  private delay: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(private readonly config: MqttBridgeConfig, private readonly owner: BrokerLinkOwner) {
    this.delay = config.reconnect.initialDelay;
  }

  /** The broker node in use, or being tried. */
  get url(): string {
    return this.config.urls[this.node]!;
  }

  connect(): void {
    if (this.stopping) return;
    const c = this.config;
    const url = this.url;
    const client = connect(url, brokerClientOptions(c));
    this.client = client;
    client.handleMessage = (packet, done) => this.owner.fromMqtt(packet, done);
    client.on('connect', (connack) => {
      if (this.client !== client) return;
      this.connected = true;
      this.since = Date.now();
      this.delay = c.reconnect.initialDelay;
      this.failedAttempts = 0;
      const receiveMaximum = connack.properties?.receiveMaximum;
      this.window = Math.max(1, Math.min(c.maxInflight, receiveMaximum ?? Infinity));
      this.subscribe(client);
      this.owner.brokerConnected();
    });
    client.on('error', (err) => {
      // A broker that stays away fails every attempt the same way: logged once, then at debug.
      const message = `${url}: ${err.message}`;
      if (this.client === client) this.owner.error(message, message === this.owner.lastError ? 'debug' : 'warn');
    });
    client.on('close', () => this.closed(client));
  }

  /** No more attempts (the bridge is stopping); the connection stays until end(). */
  stopReconnecting(): void {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
  }

  /**
   * Ends the connection, once the `inflight` messages were acknowledged (so they are not sent twice
   * after a restart) or after a short grace. Returns whether it was connected.
   */
  async end(inflight: () => number): Promise<boolean> {
    const client = this.client;
    if (client) {
      if (this.connected && inflight() > 0) {
        const deadline = Date.now() + STOP_GRACE_MS;
        while (this.connected && inflight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      }
      this.client = undefined; // its 'close' is expected now
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, STOP_GRACE_MS);
        client.end(!this.connected, {}, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const wasConnected = this.connected;
    if (wasConnected) {
      this.connected = false;
      this.since = Date.now();
    }
    return wasConnected;
  }

  private subscribe(client: MqttClient): void {
    if (this.config.toWamp.length === 0) return;
    client.subscribe(toWampSubscriptions(this.config), (err, granted) => {
      if (this.client !== client) return;
      if (err) return this.owner.error(`subscribing on ${this.url} failed: ${err.message}`);
      for (const g of granted ?? []) {
        if (g.qos > 2) this.owner.error(`the broker refused the subscription to '${g.topic}' (reason ${g.qos})`);
      }
    });
  }

  private closed(client: MqttClient): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners('connect');
    client.removeAllListeners('close');
    client.on('error', () => {});
    client.end(true);
    const wasConnected = this.connected;
    if (wasConnected) {
      this.connected = false;
      this.since = Date.now();
    }
    const lost = this.url;
    const nodes = this.config.urls.length;
    const next = (this.node + 1) % nodes;
    if (!wasConnected) this.failedAttempts++;
    // The owner sees the state with the lost node still named; the next attempt goes to `next`.
    this.owner.brokerClosed(wasConnected, lost, this.config.urls[next]!);
    this.node = next;
    if (this.stopping) return;
    // Failing over (a node just went away, or the round of nodes is not through yet): at once.
    if (nodes > 1 && (wasConnected || this.failedAttempts % nodes !== 0)) {
      this.reconnectTimer = setTimeout(() => this.connect(), 0);
      return;
    }
    const delay = this.delay;
    this.delay = Math.min(this.delay * 2, this.config.reconnect.maxDelay);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }
}

/** The `mqtt` client's options: a clean session; the link reconnects and resubscribes by itself. */
function brokerClientOptions(c: MqttBridgeConfig): IClientOptions {
  const options: IClientOptions = {
    clientId: c.clientId,
    protocolVersion: c.protocolVersion,
    keepalive: c.keepalive,
    clean: true,
    reconnectPeriod: 0, // the bridge reconnects itself, with backoff
    connectTimeout: c.connectTimeout,
    resubscribe: false,
    queueQoSZero: false,
  };
  if (c.username !== undefined) options.username = c.username;
  if (c.password !== undefined) options.password = c.password;
  if (c.tls) {
    if (c.tls.ca) options.ca = c.tls.ca;
    if (c.tls.certificate) options.cert = c.tls.certificate;
    if (c.tls.key) options.key = c.tls.key;
    options.rejectUnauthorized = c.tls.rejectUnauthorized;
    if (c.tls.servername) options.servername = c.tls.servername;
  }
  return options;
}

/** The SUBSCRIBE of the `to_wamp` filters, by filter. */
function toWampSubscriptions(config: MqttBridgeConfig): Record<string, Pick<IClientSubscribeOptions, 'qos' | 'nl' | 'rap'>> {
  const v5 = config.protocolVersion === 5;
  const map: Record<string, { qos: 0 | 1 | 2; nl?: boolean; rap?: boolean }> = {};
  for (const rule of config.toWamp) map[rule.filter] = v5 ? { qos: rule.qos, nl: true, rap: true } : { qos: rule.qos };
  return map;
}
