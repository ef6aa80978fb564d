// How MQTT topics and payloads become WAMP URIs and arguments, and back. Shared by the built-in MQTT
// listener and the bridge to external brokers.
//
// Topics: levels become URI components under an optional prefix: `a/b/c` ↔ `<prefix>a.b.c`. A topic
// that cannot be a URI (a level that is empty or holds '.', '#', '+', whitespace or U+0000) is refused,
// and so is a URI that cannot be a topic name (holding '/', '#', '+' or U+0000).
// Filters: `+` ↔ a wildcard component, a trailing `#` ↔ a prefix (`a/#` → prefix `a.`, and
// filterToSubscriptions adds exact `a`, since MQTT's `#` matches its parent level too), a lone `#` ↔
// everything under the prefix; `+` and `#` together cannot be expressed in WAMP and are refused.
// Payloads, chosen per WAMP URI prefix (the longest rule wins; Crossbar's names):
// - `native`: JSON shaped like {"args": [...], "kwargs": {...}} gives args and kwargs; any other JSON
//   one argument; bytes that are not JSON one binary argument. Back: one argument → its JSON (a
//   binary argument → its bytes as they are); more, or kwargs → {"args", "kwargs"}; none → empty.
// - `passthrough`: the bytes are always one binary argument; back, a binary or string argument is
//   sent as its bytes, anything else as in `native`.

import type { Dict } from '../wamp/message.js';

export type PayloadType = 'native' | 'passthrough';

export interface PayloadRule {
  /** WAMP URI prefix the rule applies to ('' = everything). */
  prefix: string;
  type: PayloadType;
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

/** Not in a topic level that maps to a URI component; U+0000 is in no MQTT string at all [MQTT-4.7.3-2]. */
const BAD_LEVEL = /[.#+\s\u0000]/;
/** What a URI must not hold to be sent as an MQTT topic name: a level separator, a wildcard, U+0000. */
const NOT_A_TOPIC = /[/#+\u0000]/;

let mappings = 0;

export class MqttMapping {
  readonly topicPrefix: string;
  /** Names this mapping's payloads in a broker EncodingCache (two listeners may map differently). */
  readonly cacheKey = `mqtt#${++mappings}`;
  /** Longest prefix first. */
  private readonly rules: PayloadRule[];

  constructor(options: MappingOptions) {
    this.topicPrefix = options.topicPrefix;
    this.rules = [...options.payload].sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** `a/b/c` → `<prefix>a.b.c`; undefined when the topic cannot be a URI. */
  topicToUri(topic: string): string | undefined {
    if (topic === '') return undefined;
    const levels = topic.split('/');
    for (const level of levels) if (level === '' || BAD_LEVEL.test(level)) return undefined;
    return this.topicPrefix + levels.join('.');
  }

  /** The inverse of topicToUri; undefined for a URI outside the prefix. */
  uriToTopic(uri: string): string | undefined {
    if (!uri.startsWith(this.topicPrefix) || uri.length === this.topicPrefix.length) return undefined;
    const rest = uri.slice(this.topicPrefix.length);
    // '/' would not come back as the same URI; a wildcard or U+0000 in a PUBLISH makes MQTT clients
    // drop the connection (libmosquitto's persistent sessions for good).
    if (NOT_A_TOPIC.test(rest)) return undefined;
    return rest.split('.').join('/');
  }

  /** An MQTT subscription filter as a WAMP subscription; undefined when WAMP cannot express it. */
  filterToSubscription(filter: string): { uri: string; match: 'exact' | 'prefix' | 'wildcard' } | undefined {
    if (filter === '#') return { uri: this.topicPrefix, match: 'prefix' };
    const levels = filter.split('/');
    const multi = levels[levels.length - 1] === '#';
    if (multi) levels.pop();
    const single = levels.includes('+');
    if (multi && single) return undefined;
    for (const level of levels) {
      if (level === '+') continue;
      if (level === '' || BAD_LEVEL.test(level)) return undefined;
    }
    const components = levels.map((l) => (l === '+' ? '' : l));
    if (multi) return { uri: `${this.topicPrefix}${components.join('.')}.`, match: 'prefix' };
    return { uri: this.topicPrefix + components.join('.'), match: single ? 'wildcard' : 'exact' };
  }

  /**
   * The WAMP subscriptions an MQTT filter needs: one, or for `a/#` two — the prefix `a.` and the
   * exact `a`, since MQTT's `#` also matches its parent level. Undefined when WAMP cannot express it.
   */
  filterToSubscriptions(filter: string): Array<{ uri: string; match: 'exact' | 'prefix' | 'wildcard' }> | undefined {
    const target = this.filterToSubscription(filter);
    if (!target) return undefined;
    if (target.match === 'prefix' && filter !== '#' && !filter.includes('+')) {
      return [target, { uri: target.uri.slice(0, -1), match: 'exact' }];
    }
    return [target];
  }

  payloadType(uri: string): PayloadType {
    for (const rule of this.rules) if (uri.startsWith(rule.prefix)) return rule.type;
    return 'native';
  }

  /** MQTT payload bytes → WAMP args/kwargs, by the rule for `uri`. */
  decode(uri: string, bytes: Buffer): Payload {
    if (this.payloadType(uri) === 'passthrough') return { args: [bytes] };
    if (bytes.length === 0) return {};
    // Binary payloads (images, packed sensor data) are not decoded to a string only to fail to parse.
    if (!mayBeJson(bytes)) return { args: [bytes] };
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch {
      return { args: [bytes] };
    }
    if (isArgsKwargs(value)) {
      const payload: Payload = {};
      if (value['args'] !== undefined) payload.args = value['args'] as unknown[];
      if (value['kwargs'] !== undefined) payload.kwargs = value['kwargs'] as Dict;
      return payload;
    }
    return { args: [value] };
  }

  /** WAMP args/kwargs → MQTT payload bytes; undefined when they cannot be written as JSON. */
  encode(uri: string, args: unknown[] | undefined, kwargs: Dict | undefined): Buffer | undefined {
    const hasKwargs = kwargs !== undefined && Object.keys(kwargs).length > 0;
    const count = args?.length ?? 0;
    if (count === 0 && !hasKwargs) return Buffer.alloc(0);
    if (count === 1 && !hasKwargs) {
      const only = args![0];
      if (only instanceof Uint8Array) return Buffer.from(only.buffer, only.byteOffset, only.byteLength);
      if (typeof only === 'string' && this.payloadType(uri) === 'passthrough') return Buffer.from(only, 'utf8');
      return json(only);
    }
    const body: Dict = {};
    if (count > 0) body['args'] = args;
    if (hasKwargs) body['kwargs'] = kwargs;
    return json(body);
  }
}

/** Whether `bytes` may be a JSON text: its first byte after JSON whitespace can begin a value. */
function mayBeJson(bytes: Buffer): boolean {
  for (const b of bytes) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    // { [ " - 0-9 t(rue) f(alse) n(ull)
    return b === 0x7b || b === 0x5b || b === 0x22 || b === 0x2d || (b >= 0x30 && b <= 0x39) || b === 0x74 || b === 0x66 || b === 0x6e;
  }
  return false;
}

function isArgsKwargs(value: unknown): value is Dict {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.length === 0 || keys.some((k) => k !== 'args' && k !== 'kwargs')) return false;
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
