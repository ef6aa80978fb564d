// How MQTT topics and payloads become WAMP URIs and arguments, and back. Shared by the built-in MQTT
// listener and the bridge to external brokers.
//
// Topics: each level becomes one URI component under an optional prefix: `a/b/c` ↔ `<prefix>a.b.c`.
// A level a URI component cannot hold as it is is escaped (level-encoding.ts): an empty level is
// `%`, and '.', '%' and whitespace are percent-escaped: `/TopicA` ↔ `%.TopicA`, `a//b` ↔ `a.%.b`,
// `a/` ↔ `a.%`, `my room/v1.2` ↔ `my%20room.v1%2E2`. Every valid MQTT topic name has a URI; a URI
// has a topic when it is under the prefix and each component is what some level encodes to (not
// `%41`, nor a component holding '/', '+', '#' or U+0000, which MQTT clients drop the connection
// over).
// Filters: the same per level, with `+` ↔ a wildcard (empty) component, a trailing `#` ↔ a prefix
// (`a/#` → prefix `a.`, and filterToSubscriptions adds exact `a`, since MQTT's `#` matches its
// parent level too), a lone `#` ↔ everything under the prefix, and `a/+/#` ↔ prefix `a.` (the same
// topics). WAMP has no pattern for other filters holding both `+` and `#` (`+/b/#`, `a/+/c/#`): they
// take the prefix of their levels before the first `+` (`` and `a.`), a broader subscription, and
// the listener checks each message against the filter itself (`broader`).
// Payloads, chosen per WAMP URI prefix (the longest rule wins; Crossbar's names):
// - `native`: JSON shaped like {"args": [...], "kwargs": {...}} gives args and kwargs; any other JSON
//   one argument; other UTF-8 text (Tasmota's `ON`) one string argument; other bytes (not UTF-8, or
//   holding control characters) one binary argument. Back: one string argument → its UTF-8 bytes,
//   one binary argument → its bytes, any other one argument → its JSON; more, or kwargs →
//   {"args", "kwargs"}; none → empty.
// - `passthrough`: the bytes are always one binary argument; back as in `native`.

import { isUtf8 } from 'node:buffer';
import type { Dict } from '../wamp/message.js';
import { decodeLevel, encodeLevel } from './level-encoding.js';

export type PayloadType = 'native' | 'passthrough';

export interface PayloadRule {
  /** WAMP URI prefix the rule applies to ('' = everything). */
  prefix: string;
  /** `dynamic`: procedures decode and encode (mqtt/payload-codec.ts); read here as `native` otherwise. */
  type: PayloadType | 'dynamic';
  encoder?: string;
  decoder?: string;
  realm?: string;
}

export interface MappingOptions {
  /** Prepended to every mapped URI, e.g. 'mqtt.' (must end with '.' unless empty). */
  topicPrefix: string;
  payload: PayloadRule[];
}

export interface Payload {
  args?: unknown[];
  kwargs?: Dict;
}

/** No topic name holds these: wildcards [MQTT-3.3.2-2] and U+0000 [MQTT-1.5.4-2]. */
const NOT_IN_A_TOPIC = /[#+\u0000]/;
/** A topic that maps by '/' → '.' alone: nothing to escape, no empty level, nothing it may not hold. */
const TOPIC_NEEDS_WORK = /[.%\s#+\u0000]|^\/|\/\/|\/$/;
/** What a URI component standing for a topic level may not hold. */
const NOT_A_TOPIC_COMPONENT = /[/#+\u0000]/;
/** A URI (past the prefix) that maps by '.' → '/' alone: no escape, no empty component, nothing a topic may not hold. */
const URI_NEEDS_WORK = /[%/#+\s\u0000]|^\.|\.\.|\.$/;
/** Topics (and URIs) remembered per mapping, at most: a sensor network publishes on a few topics, again and again. */
const CACHED_TOPICS = 1024;
/** Longer ones are mapped each time: a topic may be 64 KiB, and this keeps each cache within about a MiB at worst. */
const CACHED_LENGTH = 128;

/**
 * The MQTT bytes a payload's args were decoded from. An MQTT subscriber gets them as they were
 * published, byte for byte as from any broker, and no payload is written anew for it (nor held twice
 * while it waits in a queue).
 */
const decodedFrom = new WeakMap<unknown[], Buffer>();

export type SubscriptionTarget = {
  uri: string;
  match: 'exact' | 'prefix' | 'wildcard';
  /** The WAMP pattern matches more than the filter: each message is checked against the filter. */
  broader?: true;
};

let mappings = 0;

export class MqttMapping {
  readonly topicPrefix: string;
  /** Names this mapping's payloads in a broker EncodingCache (two listeners may map differently). */
  readonly cacheKey = `mqtt#${++mappings}`;
  /** Longest prefix first. */
  private readonly rules: PayloadRule[];
  /** Any rule is `dynamic`: only then is a message's rule looked up for it. */
  readonly hasDynamic: boolean;
  /** Topic → URI and URI → topic, each mapped once (a topic is mapped on every message). */
  private readonly uris = new MappingCache((topic) => this.mapTopic(topic));
  private readonly topics = new MappingCache((uri) => this.mapUri(uri));

  constructor(options: MappingOptions) {
    this.topicPrefix = options.topicPrefix;
    this.rules = [...options.payload].sort((a, b) => b.prefix.length - a.prefix.length);
    this.hasDynamic = this.rules.some((r) => r.type === 'dynamic');
  }

  /** `a/b/c` → `<prefix>a.b.c` (levels escaped as they need); undefined for what is no MQTT topic name. */
  topicToUri(topic: string): string | undefined {
    return this.uris.get(topic);
  }

  private mapTopic(topic: string): string | undefined {
    if (topic === '') return undefined;
    if (!TOPIC_NEEDS_WORK.test(topic)) return this.topicPrefix + topic.replaceAll('/', '.');
    if (NOT_IN_A_TOPIC.test(topic)) return undefined;
    return this.topicPrefix + topic.split('/').map(encodeLevel).join('.');
  }

  /** The inverse of topicToUri; undefined for a URI outside the prefix or that no topic maps to. */
  uriToTopic(uri: string): string | undefined {
    return this.topics.get(uri);
  }

  private mapUri(uri: string): string | undefined {
    if (!uri.startsWith(this.topicPrefix) || uri.length === this.topicPrefix.length) return undefined;
    const rest = uri.slice(this.topicPrefix.length);
    if (!URI_NEEDS_WORK.test(rest)) return rest.replaceAll('.', '/');
    // '/' would not come back as the same URI; a wildcard or U+0000 in a PUBLISH makes MQTT clients
    // drop the connection (libmosquitto's persistent sessions for good).
    if (NOT_A_TOPIC_COMPONENT.test(rest)) return undefined;
    const levels = rest.split('.');
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i] === '' ? undefined : decodeLevel(levels[i]!);
      if (level === undefined) return undefined;
      levels[i] = level;
    }
    const topic = levels.join('/');
    return topic === '' ? undefined : topic; // `%` alone: the empty topic, which no PUBLISH may name
  }

  /** An MQTT subscription filter as a WAMP subscription; undefined for what is no valid filter. */
  filterToSubscription(filter: string): SubscriptionTarget | undefined {
    if (filter === '') return undefined; // [MQTT-4.7.3-1]
    if (filter === '#') return { uri: this.topicPrefix, match: 'prefix' };
    const levels = filter.split('/');
    const multi = levels[levels.length - 1] === '#';
    if (multi) levels.pop();
    // `a/+/#` is every topic under `a/`: the prefix `a.` (the `+` always has a level to match, maybe empty).
    if (multi && levels[levels.length - 1] === '+') levels.pop();
    const components: string[] = [];
    let single = false;
    for (const level of levels) {
      if (level === '+') {
        single = true;
        components.push('');
      } else if (NOT_IN_A_TOPIC.test(level)) {
        return undefined; // `#` not last, `a#`, `+b`, U+0000
      } else {
        components.push(encodeLevel(level));
      }
    }
    if (multi && single) {
      const literal = components.slice(0, components.indexOf(''));
      return { uri: literal.length === 0 ? this.topicPrefix : `${this.topicPrefix}${literal.join('.')}.`, match: 'prefix', broader: true };
    }
    if (multi) return { uri: components.length === 0 ? this.topicPrefix : `${this.topicPrefix}${components.join('.')}.`, match: 'prefix' };
    return { uri: this.topicPrefix + components.join('.'), match: single ? 'wildcard' : 'exact' };
  }

  /**
   * The WAMP subscriptions an MQTT filter needs: one, or for `a/#` two — the prefix `a.` and the
   * exact `a`, since MQTT's `#` also matches its parent level. Undefined when WAMP cannot express it.
   */
  filterToSubscriptions(filter: string): SubscriptionTarget[] | undefined {
    const target = this.filterToSubscription(filter);
    if (!target) return undefined;
    // The parent level of `a/#` is a topic too, unless it is the empty topic (`/#`) or the filter
    // holds `+` (`a/+/#`: the prefix covers its parent).
    if (target.match === 'prefix' && filter.endsWith('/#')) {
      const parent = filter.slice(0, -2);
      if (parent !== '' && !parent.includes('+')) return [target, { uri: target.uri.slice(0, -1), match: 'exact' }];
    }
    return [target];
  }

  payloadType(uri: string): PayloadType {
    const type = this.ruleFor(uri)?.type;
    return type === 'passthrough' ? 'passthrough' : 'native';
  }

  /** The rule for `uri` when it is `dynamic` (its procedures decode and encode payloads there). */
  dynamicRule(uri: string): PayloadRule | undefined {
    if (!this.hasDynamic) return undefined;
    const rule = this.ruleFor(uri);
    return rule?.type === 'dynamic' ? rule : undefined;
  }

  private ruleFor(uri: string): PayloadRule | undefined {
    for (const rule of this.rules) if (uri.startsWith(rule.prefix)) return rule;
    return undefined;
  }

  /**
   * MQTT payload bytes → WAMP args/kwargs, by the rule for `uri`. `remember`: the args keep the
   * bytes for `encode` (decodedFrom), for payloads published by a session that cannot carry them
   * otherwise (the bridge's). The listener's messages carry their bytes themselves
   * (wamp/raw-payload.ts): a WeakMap entry per message was ~8% of the router's CPU per message
   * from MQTT to WAMP (`npm run bench`, profiled).
   */
  decode(uri: string, bytes: Buffer, remember = false): Payload {
    const payload = this.decodeBytes(uri, bytes);
    if (payload.kwargs !== undefined && payload.args === undefined) payload.args = [];
    if (remember && payload.args !== undefined) decodedFrom.set(payload.args, bytes);
    return payload;
  }

  private decodeBytes(uri: string, bytes: Buffer): Payload {
    if (this.payloadType(uri) === 'passthrough') return { args: [bytes] };
    if (bytes.length === 0) return {};
    // JSON and text are UTF-8 [RFC 8259, MQTT-1.5.4]; anything else (an image, packed sensor data)
    // stays binary, and is not decoded to a string only to fail to parse.
    if (!isUtf8(bytes)) return { args: [bytes] };
    if (!mayBeJson(bytes)) return { args: [textOrBytes(bytes)] };
    const text = bytes.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { args: [textOrBytes(bytes, text)] }; // `23.5 °C`, `{oops`
    }
    if (isArgsKwargs(value)) {
      const payload: Payload = {};
      if (value['args'] !== undefined) payload.args = value['args'] as unknown[];
      if (value['kwargs'] !== undefined) payload.kwargs = value['kwargs'] as Dict;
      return payload;
    }
    return { args: [value] };
  }

  /** WAMP args/kwargs → MQTT payload bytes, the same for both payload types; undefined when they cannot be written as JSON. */
  encode(_uri: string, args: unknown[] | undefined, kwargs: Dict | undefined): Buffer | undefined {
    const original = args === undefined ? undefined : decodedFrom.get(args);
    if (original !== undefined) return original;
    const hasKwargs = kwargs !== undefined && Object.keys(kwargs).length > 0;
    const count = args?.length ?? 0;
    if (count === 0 && !hasKwargs) return Buffer.alloc(0);
    if (count === 1 && !hasKwargs) {
      const only = args![0];
      if (only instanceof Uint8Array) return Buffer.from(only.buffer, only.byteOffset, only.byteLength);
      // A device switched with `ON` gets `ON`, not `"ON"`.
      if (typeof only === 'string') return Buffer.from(only, 'utf8');
      return json(only);
    }
    const body: Dict = {};
    if (count > 0) body['args'] = args;
    if (hasKwargs) body['kwargs'] = kwargs;
    return json(body);
  }
}

/**
 * UTF-8 bytes as a string when they are text as MQTT means it, character data [MQTT-1.5.4]: none of
 * the control characters U+0000–U+001F and U+007F–U+009F, but tab, line feed and carriage return
 * (`ON\n` from `echo` is text). Packed binary data that happens to be UTF-8 (small integers: 0x17
 * 0x00) holds them, and stays binary.
 */
function textOrBytes(bytes: Buffer, text?: string): string | Buffer {
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b < 0x20) {
      if (b !== 0x09 && b !== 0x0a && b !== 0x0d) return bytes;
    } else if (b === 0x7f || (b === 0xc2 && bytes[i + 1]! < 0xa0)) {
      return bytes; // DEL; U+0080–U+009F, UTF-8 0xC2 0x80–0x9F (valid UTF-8: a byte follows 0xC2)
    }
  }
  return text ?? bytes.toString('utf8');
}

/** Strings mapped already, and what they map to (null: nothing); emptied when full, which is simple and rare. */
class MappingCache {
  private readonly known = new Map<string, string | null>();

  constructor(private readonly map: (key: string) => string | undefined) {}

  get(key: string): string | undefined {
    const hit = this.known.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const value = this.map(key);
    if (key.length <= CACHED_LENGTH) {
      if (this.known.size >= CACHED_TOPICS) this.known.clear();
      this.known.set(key, value ?? null);
    }
    return value;
  }
}

/** Whether `bytes` may be a JSON text: its first byte after JSON whitespace can begin a value. */
function mayBeJson(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) { // indexed: a Buffer's iterator costs on every message
    const b = bytes[i]!;
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    // { [ " - 0-9 t(rue) f(alse) n(ull)
    return b === 0x7b || b === 0x5b || b === 0x22 || b === 0x2d || (b >= 0x30 && b <= 0x39) || b === 0x74 || b === 0x66 || b === 0x6e;
  }
  return false;
}

function isArgsKwargs(value: unknown): value is Dict {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  let keys = 0;
  for (const key in value) { // no key list made per message
    if (!Object.hasOwn(value, key)) continue;
    if (key !== 'args' && key !== 'kwargs') return false;
    keys++;
  }
  if (keys === 0) return false;
  const { args, kwargs } = value as Dict;
  if (args !== undefined && !Array.isArray(args)) return false;
  if (kwargs !== undefined && (typeof kwargs !== 'object' || kwargs === null || Array.isArray(kwargs))) return false;
  return true;
}

/** Binary values nested in a JSON body are written as base64 (Buffer.toJSON has already run). */
function binaryAsBase64(_key: string, v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  const b = v as { type?: unknown; data?: unknown } | null;
  if (b !== null && typeof b === 'object' && b.type === 'Buffer' && Array.isArray(b.data)) return Buffer.from(b.data as number[]).toString('base64');
  return v;
}

function json(value: unknown): Buffer | undefined {
  try {
    const text = JSON.stringify(value, binaryAsBase64);
    return text === undefined ? undefined : Buffer.from(text, 'utf8');
  } catch {
    return undefined; // BigInt, cycles
  }
}
