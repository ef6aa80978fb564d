// One bridge between a realm and an external MQTT broker (`bridges.mqtt[i]`).
//
// - WAMP side (realm-link.ts): an ordinary in-process session (the bridge's role, so normal
//   authorization applies) that subscribes to the `to_mqtt` rules and publishes what arrives from
//   the broker.
// - MQTT side (broker-link.ts): an `mqtt` client, a new one per connection attempt, with capped
//   exponential backoff between attempts and a clean session each time. `to_wamp` filters are
//   subscribed with No Local (MQTT 5) and Retain As Published.
// - MQTT → WAMP: the topic and payload are mapped (src/mqtt/mapping.ts) and published with
//   `_mqtt_topic`, `_mqtt_qos`, `_mqtt_bridge` (this bridge's id); a retained message with
//   `retain: true`, an empty retained one with `_clear_retained: true`; MQTT 5 response topic,
//   correlation data, content type and user properties as `_mqtt_*` options. QoS 1/2 messages are
//   acknowledged to the broker once the router accepted the publication.
// - WAMP → MQTT: QoS from the event's `_mqtt_qos`, else the rule's `qos`; retained when the event
//   was a retained one, the publisher set `_mqtt_retain: true`, or the rule says `retain`. QoS 1/2
//   go through the ForwardBuffer (forward-buffer.ts: bounded, in order, optionally kept in a file,
//   re-sent after a lost connection); QoS 0 is sent when connected, and dropped and counted when not.
// - No loops: the bridge's WAMP session does not receive its own publications (exclude_me), events
//   carrying its own `_mqtt_bridge` id are ignored, and the broker does not send back what the
//   bridge published (No Local; an EchoFilter, echo-filter.ts, does it for MQTT 3.1.1).

import type { IPublishPacket } from 'mqtt';
import type { MqttBridgeConfig } from '../../config/types.js';
import type { SessionFactory } from '../../core-boundary.js';
import type { Dict } from '../../wamp/message.js';
import { MqttMapping } from '../mapping.js';
import { addPublishOptions, publishProperties } from '../properties.js';
import { log } from '../../log.js';
import { ForwardBuffer } from './forward-buffer.js';
import { EchoFilter } from './echo-filter.js';
import type { OutgoingProperties } from './buffer-file.js';
import { RealmLink, type RealmLinkOwner, type ToMqttRule } from './realm-link.js';
import { BrokerLink, type BrokerLinkOwner } from './broker-link.js';

/** Publication option naming the bridge a message came through (a custom attribute, so subscribers see it). */
export const BRIDGE_ATTRIBUTE = '_mqtt_bridge';
/** A drop is logged at most this often per bridge (the counters keep every one). */
const DROP_LOG_INTERVAL_MS = 10_000;

/** What a bridge restarted with a new config takes over from the one it replaces. */
export interface CarriedOver {
  buffer?: ForwardBuffer;
  counters: BridgeCounters;
}

export interface BridgeCounters {
  messagesIn: number;
  messagesOut: number;
  droppedQos0: number;
  droppedOverflow: number;
  droppedUnmappable: number;
  droppedInbound: number;
  rejected: number;
  connects: number;
  disconnects: number;
}

export class MqttBridge implements RealmLinkOwner, BrokerLinkOwner {
  readonly counters: BridgeCounters = {
    messagesIn: 0, messagesOut: 0, droppedQos0: 0, droppedOverflow: 0, droppedUnmappable: 0,
    droppedInbound: 0, rejected: 0, connects: 0, disconnects: 0,
  };
  /** Called on every connect and disconnect (the meta API publishes it). */
  onState: ((bridge: MqttBridge) => void) | undefined;

  private readonly mapping: MqttMapping;
  private readonly buffer: ForwardBuffer;
  private readonly echo: EchoFilter | undefined;
  private readonly broker: BrokerLink;
  private readonly realm: RealmLink;
  private stopping = false;
  lastError: string | null = null;
  private lastErrorAt: string | null = null;
  private lastDropLog = 0;
  private lastPublication: unknown;

  /** `carried`: what a bridge restarted by a reload takes over from its predecessor (see handOver). */
  constructor(readonly config: MqttBridgeConfig, router: SessionFactory, carried?: CarriedOver) {
    this.mapping = new MqttMapping({ topicPrefix: config.topicPrefix, payload: config.payload });
    this.buffer = carried?.buffer ?? new ForwardBuffer(config.maxBuffered, config.bufferFile);
    this.buffer.limit = config.maxBuffered;
    if (carried) Object.assign(this.counters, carried.counters);
    this.echo = config.protocolVersion === 4 ? new EchoFilter(config.toWamp.map((r) => r.filter)) : undefined;
    this.broker = new BrokerLink(config, this);
    this.realm = new RealmLink(config, router, this);
  }

  get id(): string {
    return this.config.id;
  }

  /** Joins the realm and subscribes; the broker connection is made in the background. */
  async start(): Promise<void> {
    if (this.buffer.size > 0) log.info(`mqtt bridge '${this.id}': ${this.buffer.size} message(s)${this.config.bufferFile ? ` from ${this.config.bufferFile}` : ''} waiting for the broker`);
    await this.realm.join();
    this.broker.connect();
  }

  /**
   * Stops this bridge for a reload that changed its config, and returns what the bridge that
   * replaces it takes over: the counters, and the messages waiting for the broker when the buffer
   * stays the same (same `buffer_file`, or none); with another buffer file, this one is written
   * and closed, and the new bridge starts from its own file.
   */
  async handOver(next: MqttBridgeConfig): Promise<CarriedOver> {
    const keepBuffer = next.bufferFile === this.config.bufferFile;
    await this.stop(keepBuffer);
    return keepBuffer ? { buffer: this.buffer, counters: this.counters } : { counters: this.counters };
  }

  async stop(keepBuffer = false): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.broker.stopReconnecting();
    this.realm.stopRejoining();
    const wasConnected = await this.broker.end(() => this.buffer.inflight);
    this.buffer.requeueInflight();
    if (!keepBuffer) this.buffer.close();
    if (wasConnected) this.counters.disconnects++;
    await this.realm.close();
    if (keepBuffer) return log.info(`mqtt bridge '${this.id}': stopped for its new config; ${this.buffer.size} message(s) waiting for the broker kept`);
    log.info(`mqtt bridge '${this.id}': stopped${this.buffer.size > 0 ? ` with ${this.buffer.size} message(s) undelivered${this.config.bufferFile ? ` (kept in ${this.config.bufferFile})` : ' (lost: no buffer_file)'}` : ''}`);
  }

  /** The state shown by junction.bridge.mqtt.get and on_state. */
  state(): Dict {
    const c = this.counters;
    return {
      id: this.id,
      realm: this.config.realm,
      url: this.broker.url,
      urls: this.config.urls,
      client_id: this.config.clientId,
      protocol_version: this.config.protocolVersion,
      connected: this.broker.connected,
      since: new Date(this.broker.since).toISOString(),
      wamp_joined: this.realm.session !== undefined,
      buffered: this.buffer.size,
      inflight: this.buffer.inflight,
      buffer_limit: this.config.maxBuffered,
      buffer_file: this.config.bufferFile ?? null,
      dropped: c.droppedQos0 + c.droppedOverflow + c.droppedUnmappable + c.droppedInbound,
      dropped_qos0: c.droppedQos0,
      dropped_overflow: c.droppedOverflow,
      dropped_unmappable: c.droppedUnmappable,
      dropped_inbound: c.droppedInbound,
      rejected: c.rejected,
      messages_in: c.messagesIn,
      messages_out: c.messagesOut,
      connects: c.connects,
      disconnects: c.disconnects,
      last_error: this.lastError,
      last_error_at: this.lastErrorAt,
    };
  }

  // ---- BrokerLinkOwner: the broker connection came and went ----

  brokerConnected(): void {
    const c = this.config;
    this.counters.connects++;
    log.info(`mqtt bridge '${this.id}': connected to ${this.broker.url} as '${c.clientId}' (MQTT ${c.protocolVersion === 5 ? '5' : '3.1.1'})${this.buffer.size > 0 ? `, ${this.buffer.size} buffered message(s) to send` : ''}`);
    this.onState?.(this);
    this.pump();
  }

  brokerClosed(wasConnected: boolean, lost: string, next: string): void {
    this.buffer.requeueInflight();
    const failover = next !== lost ? `; failing over to ${next}` : '';
    if (wasConnected) {
      this.counters.disconnects++;
      log.warn(`mqtt bridge '${this.id}': disconnected from ${lost}${this.lastError ? ` (${this.lastError})` : ''}; ${this.buffer.size} message(s) buffered${failover}`);
      this.onState?.(this);
    } else if (this.lastError) {
      log.debug(`mqtt bridge '${this.id}': cannot connect to ${lost}: ${this.lastError}${failover}`);
    }
  }

  // ---- WAMP → MQTT ----

  fromWamp(rule: ToMqttRule, args: unknown[], kwargs: Dict, details: Dict): void {
    if (details[BRIDGE_ATTRIBUTE] === this.id) return; // came from this bridge's broker
    // One publication matching several rules arrives once per rule, one after the other.
    if (details['publication'] !== undefined && details['publication'] === this.lastPublication) return;
    this.lastPublication = details['publication'];
    const uri = typeof details['topic'] === 'string' ? details['topic'] : rule.uri;
    const topic = this.mapping.uriToTopic(uri);
    const payload = topic === undefined ? undefined : this.mapping.encode(uri, args, kwargs);
    if (topic === undefined || payload === undefined) {
      this.counters.droppedUnmappable++;
      this.dropLog(topic === undefined ? `'${uri}' has no MQTT topic under prefix '${this.config.topicPrefix}'` : `an event on '${uri}' cannot be written as an MQTT payload`);
      return;
    }
    const wanted = details['_mqtt_qos'];
    const qos = wanted === 0 || wanted === 1 || wanted === 2 ? wanted : rule.qos;
    const retain = details['retained'] === true || details['_mqtt_retain'] === true || rule.retain;
    const properties = this.config.protocolVersion === 5 ? propertiesOf(details, uri, (m) => this.dropLog(m)) : undefined;
    if (qos === 0) {
      const client = this.broker.client;
      if (!this.broker.connected || !client) {
        this.counters.droppedQos0++;
        return;
      }
      this.echo?.published(topic, payload);
      client.publish(topic, payload, properties ? { qos, retain, properties } : { qos, retain });
      this.counters.messagesOut++;
      return;
    }
    const message = properties ? { topic, payload, qos, retain, properties } : { topic, payload, qos, retain };
    if (!this.buffer.push(message)) {
      this.counters.droppedOverflow++;
      this.dropLog(`buffer full (${this.config.maxBuffered} messages): a QoS ${qos} message for '${topic}' dropped`);
      return;
    }
    this.pump();
  }

  /** Sends from the front of the buffer while connected and the window allows. */
  private pump(): void {
    const client = this.broker.client;
    // While stopping, only what is in flight is finished; the rest stays buffered.
    if (!client || !this.broker.connected || this.stopping) return;
    while (this.buffer.inflight < this.broker.window) {
      const m = this.buffer.next();
      if (!m) return;
      this.echo?.published(m.topic, m.payload);
      const opts = m.properties ? { qos: m.qos, retain: m.retain, properties: m.properties } : { qos: m.qos, retain: m.retain };
      client.publish(m.topic, m.payload, opts, (err) => {
        if (this.broker.client !== client) return; // the connection is gone; the message was requeued
        if (err) {
          const code = (err as { code?: unknown }).code;
          if (typeof code !== 'number') return; // connection trouble: 'close' requeues it
          // MQTT 5: the broker refused it (reason code ≥ 0x80); sending it again would not help.
          this.counters.rejected++;
          this.error(`the broker refused a message for '${m.topic}': ${err.message}`);
        } else {
          this.counters.messagesOut++;
        }
        this.buffer.done(m.seq);
        this.pump();
      });
    }
  }

  // ---- MQTT → WAMP ----

  fromMqtt(packet: IPublishPacket, done: (err?: Error) => void): void {
    const topic = packet.topic;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : Buffer.from(packet.payload);
    if (this.echo?.isEcho(topic, payload)) return done();
    const uri = this.mapping.topicToUri(topic);
    const session = this.realm.session;
    if (uri === undefined || !session) {
      if (uri === undefined) this.counters.droppedUnmappable++;
      else this.counters.droppedInbound++;
      this.dropLog(uri === undefined ? `MQTT topic '${topic}' cannot be a WAMP URI` : `no WAMP session: a message on '${topic}' dropped`);
      return done();
    }
    const qos = packet.qos;
    const options: Dict = { _mqtt_topic: topic, _mqtt_qos: qos, [BRIDGE_ATTRIBUTE]: this.id };
    addPublishOptions(options, packet.retain, payload, packet.properties);
    const { args, kwargs } = this.mapping.decode(uri, payload, true);
    this.counters.messagesIn++;
    if (qos === 0) {
      session.publish(uri, args ?? [], kwargs ?? {}, options).catch(() => {});
      return done();
    }
    // QoS 1/2: acknowledged to the broker once the router accepted it.
    options['acknowledge'] = true;
    session.publish(uri, args ?? [], kwargs ?? {}, options).then(() => done(), (err: Error) => {
      this.counters.droppedInbound++;
      this.dropLog(`publishing '${uri}' into realm '${this.config.realm}' failed: ${err.message}`);
      done();
    });
  }

  // ---- errors and logs ----

  error(message: string, level: 'warn' | 'error' | 'debug' = 'error'): void {
    this.lastError = message;
    this.lastErrorAt = new Date().toISOString();
    log[level](`mqtt bridge '${this.id}': ${message}`);
  }

  private dropLog(message: string): void {
    const now = Date.now();
    if (now - this.lastDropLog < DROP_LOG_INTERVAL_MS) return;
    this.lastDropLog = now;
    const s = this.state();
    log.warn(`mqtt bridge '${this.id}': ${message} (dropped so far: ${String(s['dropped'])}; further drops are counted, logged at most every ${DROP_LOG_INTERVAL_MS / 1000} s)`);
  }
}

/** The MQTT 5 properties an event asks for, without those MQTT cannot carry (they would corrupt the frame). */
function propertiesOf(details: Dict, uri: string, dropLog: (message: string) => void): OutgoingProperties | undefined {
  const { properties, dropped } = publishProperties(details);
  if (dropped.length > 0) dropLog(`an event on '${uri.slice(0, 200)}' has a ${dropped.join(', ')} MQTT cannot carry; sent without`);
  return Object.keys(properties).length > 0 ? properties : undefined;
}
