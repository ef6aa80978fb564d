// MQTT 5 request/response ↔ WAMP RPC, as an ordinary in-process session of the realm. It works
// purely on WAMP topics, using the MQTT 5 properties the MQTT side carries in event details
// (`_mqtt_response_topic`, `_mqtt_correlation_data`):
// - to MQTT: it registers each configured procedure; a CALL becomes a request published on the
//   device's topic with a response topic (the gateway's own) and correlation data; the device's
//   MQTT 5 response, published there with the same correlation data, becomes the RESULT. No answer
//   within the rule's timeout → ERROR wamp.error.canceled.
// - from MQTT: the listener's MQTT sessions hand it each request (a PUBLISH with a response topic)
//   on a configured request topic or under it, once the router accepted the PUBLISH and the
//   requester proved it may publish on the response topic itself: the gateway answers with its own
//   role, so it must never publish where the requester could not (a confused deputy). A request on
//   `<topic>/a/b` calls `<procedure prefix>a.b` with the request's payload, and the result (or
//   {"error", "args", "kwargs"}) is published to the response topic with the request's correlation
//   data. WAMP publishers that set `_mqtt_response_topic` are not served: they can call directly.

import { randomBytes } from 'node:crypto';
import type { MqttRpcConfig } from '../config/types.js';
import type { SessionFactory } from '../core-boundary.js';
import type { Dict } from '../wamp/message.js';
import { ClientSession, Result, WampError } from '../client/client-session.js';
import type { MqttMapping } from './mapping.js';
import { log } from '../log.js';

/** The MQTT 5 request/response gateway, as MQTT sessions hand it requests. */
export interface RequestGateway {
  /** Is a request published on `uri` a call the gateway makes? */
  serves(uri: string): boolean;
  /** A request the router accepted and whose response topic the requester may publish to. */
  fromMqtt(uri: string, args: unknown[] | undefined, kwargs: Dict | undefined, responseTopic: string, correlation: Buffer | undefined): void;
}

interface Waiting {
  resolve(value: Result): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class MqttRpcGateway implements RequestGateway {
  private session: ClientSession | undefined;
  private readonly waiting = new Map<string, Waiting>();
  /** Where devices answer: a topic of this gateway's own. */
  private readonly responseTopic: string;
  private nextCorrelation = 0;
  /** The `from_mqtt` rules as request URI → procedure prefix. */
  private readonly requestRules: Array<{ base: string; procedure: string }>;

  constructor(
    private readonly config: MqttRpcConfig,
    private readonly realm: string,
    private readonly mapping: MqttMapping,
    name: string,
  ) {
    this.responseTopic = `junction/rpc/${name}/${randomBytes(6).toString('hex')}`;
    this.requestRules = config.fromMqtt.map((rule) => ({ base: this.uri(rule.topic), procedure: rule.procedure }));
  }

  async start(factory: SessionFactory): Promise<void> {
    const session = await ClientSession.connect(factory, { realm: this.realm, role: this.config.role, authid: 'junction-mqtt-rpc', name: 'mqtt-rpc' });
    this.session = session;
    if (this.config.toMqtt.length > 0) {
      await session.subscribe(this.uri(this.responseTopic), (args, kwargs, details) => this.onResponse(args, kwargs, details));
    }
    for (const rule of this.config.toMqtt) {
      const requestUri = this.uri(rule.topic);
      await session.register(rule.procedure, (args, kwargs) => this.request(requestUri, rule.timeout, args, kwargs));
    }
  }

  async stop(): Promise<void> {
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new WampError('wamp.error.canceled', ['the router is shutting down']));
    }
    this.waiting.clear();
    await this.session?.close();
  }

  private uri(topic: string): string {
    const uri = this.mapping.topicToUri(topic);
    if (uri === undefined) throw new Error(`MQTT topic '${topic}' cannot be a WAMP URI`);
    return uri;
  }

  // ---- WAMP CALL → MQTT request ----

  private request(requestUri: string, timeoutMs: number, args: unknown[], kwargs: Dict): Promise<Result> {
    const correlation = `${++this.nextCorrelation}`;
    return new Promise<Result>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(correlation);
        reject(new WampError('wamp.error.canceled', [`no MQTT response on ${requestUri} within ${timeoutMs} ms`]));
      }, timeoutMs);
      this.waiting.set(correlation, { resolve, reject, timer });
      void this.session!.publish(requestUri, args, kwargs, {
        acknowledge: true,
        _mqtt_qos: 1,
        _mqtt_response_topic: this.responseTopic,
        _mqtt_correlation_data: Buffer.from(correlation),
      }).catch((err: Error) => {
        // Not allowed to publish there, say: the caller learns at once.
        clearTimeout(timer);
        this.waiting.delete(correlation);
        reject(err);
      });
    });
  }

  private onResponse(args: unknown[], kwargs: Dict, details: Dict): void {
    const correlation = correlationOf(details);
    const w = correlation === undefined ? undefined : this.waiting.get(correlation);
    if (!w) return; // late (timed out) or not ours
    this.waiting.delete(correlation!);
    clearTimeout(w.timer);
    w.resolve(new Result(args, kwargs));
  }

  // ---- MQTT request → WAMP CALL ----

  private ruleFor(uri: string): { base: string; procedure: string } | undefined {
    return this.requestRules.find((r) => uri === r.base || uri.startsWith(`${r.base}.`));
  }

  serves(uri: string): boolean {
    return this.session !== undefined && this.ruleFor(uri) !== undefined;
  }

  fromMqtt(uri: string, args: unknown[] | undefined, kwargs: Dict | undefined, responseTopic: string, correlation: Buffer | undefined): void {
    const rule = this.ruleFor(uri);
    if (rule) void this.onCallRequest(uri, rule.base, rule.procedure, args ?? [], kwargs ?? {}, responseTopic, correlation);
  }

  private async onCallRequest(topicUri: string, base: string, prefix: string, args: unknown[], kwargs: Dict, responseTopic: string, correlation: Buffer | undefined): Promise<void> {
    const responseUri = this.mapping.topicToUri(responseTopic);
    if (responseUri === undefined) return;
    const rest = topicUri.length > base.length ? topicUri.slice(base.length + 1) : '';
    const procedure = prefix + rest;
    const options: Dict = { _mqtt_qos: 1 };
    if (correlation !== undefined) options['_mqtt_correlation_data'] = correlation;
    let answer: { args: unknown[]; kwargs: Dict };
    try {
      if (procedure === '') throw new WampError('wamp.error.invalid_uri', ['the request topic names no procedure']);
      const result = await this.session!.call(procedure, args, kwargs);
      answer = { args: result.args, kwargs: result.kwargs };
    } catch (err) {
      const e = err instanceof WampError ? err : new WampError('wamp.error.runtime_error', [(err as Error).message]);
      // Errors travel as one JSON object, so a device can tell them from results.
      answer = { args: [{ error: e.uri, args: e.args, kwargs: e.kwargs }], kwargs: {} };
      options['_mqtt_user_properties'] = { error: e.uri };
    }
    try {
      await this.session!.publish(responseUri, answer.args, answer.kwargs, { ...options, acknowledge: true });
    } catch (err) {
      log.warn(`mqtt rpc: cannot answer on '${responseTopic}': ${(err as Error).message}`);
    }
  }
}

function correlationOf(details: Dict): string | undefined {
  const c = details['_mqtt_correlation_data'];
  if (c instanceof Uint8Array) return Buffer.from(c).toString();
  return typeof c === 'string' ? c : undefined;
}
