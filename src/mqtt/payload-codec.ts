// Crossbar's `dynamic` payload mapping: under a URI prefix, MQTT payloads are turned into WAMP
// arguments, and WAMP arguments into MQTT payloads, by procedures the user registers (a codec
// component), called by the MQTT listener as a trusted session of the router in the rule's realm
// (the listener's by default), as Crossbar calls them from its realm's service session:
//   decoder(uri, mqtt_topic, payload) → {args, kwargs}    (MQTT → WAMP; payload as bytes)
//   encoder(mqtt_topic, uri, args, kwargs) → payload      (WAMP → MQTT; bytes, or text sent as UTF-8)
// A call that fails (no codec registered, its error, a result of the wrong shape, no answer within
// CODEC_TIMEOUT_MS) costs that one message, with a warning: the codec may be restarting, and the
// next message tries again.

import type { SessionFactory } from '../core-boundary.js';
import { ClientSession } from '../client/client-session.js';
import type { Dict } from '../wamp/message.js';
import { TRUSTED_ROLE } from '../wamp/roles.js';
import type { Payload, PayloadRule } from './mapping.js';

/** How long a codec procedure may take for one message. */
export const CODEC_TIMEOUT_MS = 10_000;

const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

export class PayloadCodecs {
  /** One session per codec realm, joined when first needed (again after it was lost). */
  private readonly sessions = new Map<string, Promise<ClientSession>>();
  private stopped = false;

  constructor(
    private readonly factory: SessionFactory,
    /** The listener's realm: a rule's procedures are called there unless it names another. */
    private readonly realm: string,
  ) {}

  /** An MQTT payload on `topic` (mapped to `uri`) as WAMP arguments, by the rule's decoder. */
  async decode(rule: PayloadRule, uri: string, topic: string, bytes: Buffer): Promise<Payload> {
    const result = await this.call(rule, rule.decoder!, [uri, topic, bytes]);
    if (!isDict(result)) throw new Error(`decoder '${rule.decoder}' returned ${typeof result} instead of {args, kwargs}`);
    const { args, kwargs } = result;
    if (args !== undefined && args !== null && !Array.isArray(args)) throw new Error(`decoder '${rule.decoder}' returned args that are not a list`);
    if (kwargs !== undefined && kwargs !== null && !isDict(kwargs)) throw new Error(`decoder '${rule.decoder}' returned kwargs that are not a dict`);
    const payload: Payload = {};
    if (Array.isArray(args)) payload.args = args;
    if (isDict(kwargs)) {
      payload.kwargs = kwargs;
      payload.args ??= [];
    }
    return payload;
  }

  /** WAMP arguments for `uri` as the MQTT payload on `topic`, by the rule's encoder. */
  async encode(rule: PayloadRule, topic: string, uri: string, args: unknown[] | undefined, kwargs: Dict | undefined): Promise<Buffer> {
    const result = await this.call(rule, rule.encoder!, [topic, uri, args ?? null, kwargs ?? null]);
    if (result instanceof Uint8Array) return Buffer.from(result.buffer, result.byteOffset, result.byteLength);
    if (typeof result === 'string') return Buffer.from(result, 'utf8');
    throw new Error(`encoder '${rule.encoder}' returned ${result === null ? 'null' : typeof result} instead of bytes`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(sessions.map(async (s) => (await s).close()));
  }

  private async call(rule: PayloadRule, procedure: string, args: unknown[]): Promise<unknown> {
    if (this.stopped) throw new Error('the listener is stopping');
    const session = await this.session(rule.realm ?? this.realm);
    const result = await session.call(procedure, args, {}, { timeout: CODEC_TIMEOUT_MS });
    return result.args[0];
  }

  private session(realm: string): Promise<ClientSession> {
    let session = this.sessions.get(realm);
    if (!session) {
      session = ClientSession.connect(this.factory, { realm, role: TRUSTED_ROLE, authid: 'junction-mqtt-codec', name: 'mqtt-codec' });
      this.sessions.set(realm, session);
      const forget = () => {
        if (this.sessions.get(realm) === session) this.sessions.delete(realm);
      };
      session.then((s) => s.closed.then(forget), forget);
    }
    return session;
  }
}
