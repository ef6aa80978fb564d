import { Tag } from 'cbor-x';

// Input generation for the fuzz suite: a seeded PRNG, hostile values of every kind, valid messages
// of every client type, mutations of them, and an independent oracle for what the spec calls a
// protocol violation. Everything is deterministic in the seed, so a failure replays with
// JUNCTION_FUZZ_SEED=<seed>.

export const FUZZ_SEED: number = (() => {
  const env = process.env['JUNCTION_FUZZ_SEED'];
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`JUNCTION_FUZZ_SEED must be an integer in [0, 2^32), got '${env}'`);
    return n;
  }
  return Math.floor(Math.random() * 0x100000000);
})();

/** Scale of the run: JUNCTION_FUZZ_INPUTS=N asks for about N inputs in total (default 100,000). */
export const FUZZ_INPUTS: number = (() => {
  const env = process.env['JUNCTION_FUZZ_INPUTS'];
  if (env === undefined || env === '') return 100_000;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1) throw new Error(`JUNCTION_FUZZ_INPUTS must be a positive integer, got '${env}'`);
  return n;
})();

/** mulberry32: small, fast, good enough for fuzzing, and the same everywhere. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** [0, 1) */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  /** A sub-generator with its own stream (for parallel workers that must stay deterministic). */
  fork(): Rng {
    return new Rng(this.int(0x100000000));
  }
}

// ---- message type codes (kept here so the oracle does not lean on the router's own tables) ----
export const T = {
  HELLO: 1, WELCOME: 2, ABORT: 3, CHALLENGE: 4, AUTHENTICATE: 5, GOODBYE: 6, ERROR: 8,
  PUBLISH: 16, PUBLISHED: 17, SUBSCRIBE: 32, SUBSCRIBED: 33, UNSUBSCRIBE: 34, UNSUBSCRIBED: 35, EVENT: 36,
  CALL: 48, CANCEL: 49, RESULT: 50, REGISTER: 64, REGISTERED: 65, UNREGISTER: 66, UNREGISTERED: 67,
  INVOCATION: 68, INTERRUPT: 69, YIELD: 70,
} as const;

/** What a router may ever send to a client. */
export const ROUTER_TO_CLIENT = new Set<number>([T.WELCOME, T.ABORT, T.CHALLENGE, T.GOODBYE, T.ERROR, T.PUBLISHED,
  T.SUBSCRIBED, T.UNSUBSCRIBED, T.EVENT, T.RESULT, T.REGISTERED, T.UNREGISTERED, T.INVOCATION, T.INTERRUPT]);

const MAX_ID = 2 ** 53;
const isId = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_ID;
/** A WAMP dict is a map: a plain object as decoders make them, not a Date, Map, typed array, ... */
const isDict = (v: unknown) => {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

// ---- hostile values ----

const HOSTILE_STRINGS = [
  '', ' ', '.', '..', 'a..b', '.a', 'a.', '#', 'a#b', 'a b', 'a\tb', 'a\nb', '\u0000', '\u0000AAAA', 'wamp', 'wamp.',
  'wamp.session.kill', 'wamp.error.protocol_violation', 'realm1', 'Realm1', 'REALM1', 'com.fuzz', 'com.fuzz.',
  '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf',
  '\ud800', '\udfff', '\u{1F600}.\u{1F600}', 'é.ü', '\u200b', '\ufeff', 'bystander.echo', 'bystander.tick',
  'anonymous', 'admin', 'trusted', 'ticket', 'wampcra', 'cryptosign', '*', '%s%s%n', '${jndi:x}', '../../etc/passwd',
];

const HOSTILE_NUMBERS = [
  0, -0, 1, -1, 2, 0.5, -0.5, 1.5, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1, 2 ** 53,
  2 ** 53 + 2, 2 ** 64, -(2 ** 53), -(2 ** 63), 1e308, -1e308, 5e-324, Number.EPSILON, 1e21, NaN, Infinity, -Infinity,
  16, 48, 64, 68, 255, 256, 1023, 1024,
];

export interface ValueOptions {
  /** NaN and ±Infinity: msgpack and CBOR carry them, JSON does not. */
  nonFinite: boolean;
  /** Byte strings (JSON carries them as "\0"+base64). */
  binary: boolean;
  /**
   * What MessagePack extensions and CBOR tags decode to: Date, Map, Set, typed arrays, Error, cbor-x
   * Tag objects, BigInt, undefined (and, written by the CBOR encoder, the tags themselves).
   */
  exotic: boolean;
}

export const ALL_VALUES: ValueOptions = { nonFinite: true, binary: true, exotic: true };

function exoticValue(rng: Rng): unknown {
  switch (rng.int(10)) {
    case 0: return new Date(rng.pick([0, 1e12, -1e15, NaN]));
    case 1: return new Map<unknown, unknown>([['a', 1], [2, 'b']]);
    case 2: return new Set([1, 'x']);
    case 3: return rng.pick([new Uint16Array([1, 2]), new Float64Array([NaN, 1.5]), new Int8Array([-1]), new BigInt64Array([5n])]);
    case 4: return new Error('fuzz');
    case 5: return new Tag(rng.pick([1, 'x', [1], { a: 1 }]), rng.pick([21, 32, 100, 256, 1040, 55799, 0xe000]));
    case 6: return BigInt(rng.pick([0, 1, 2 ** 53, -(2 ** 60)])) * (rng.chance(0.5) ? 1n : 2n ** 40n);
    case 7: return undefined;
    case 8: return /fuzz/g;
    default: return Object.assign(Object.create({ inherited: true }) as object, { a: 1 });
  }
}

/** A random value of any type, biased towards the ones that break parsers and validators. */
export function hostileValue(rng: Rng, opt: ValueOptions = ALL_VALUES, depth = 0): unknown {
  if (opt.exotic && rng.chance(0.08)) return exoticValue(rng);
  switch (rng.int(depth > 2 ? 7 : 10)) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: {
      const n = rng.pick(HOSTILE_NUMBERS);
      return !opt.nonFinite && !Number.isFinite(n) ? 0 : n;
    }
    case 3: return rng.chance(0.5) ? rng.int(2 ** 31) * rng.pick([1, -1, 4096, 0.001]) : rng.next() * 10 ** rng.int(20);
    case 4: return rng.pick(HOSTILE_STRINGS);
    case 5: return randomString(rng, rng.chance(0.05) ? 5000 + rng.int(70000) : rng.int(40));
    case 6: return opt.binary ? rng.bytes(rng.int(rng.chance(0.1) ? 2000 : 20)) : rng.pick(HOSTILE_STRINGS);
    case 7: return Array.from({ length: rng.int(5) }, () => hostileValue(rng, opt, depth + 1));
    case 8: {
      const d: Record<string, unknown> = {};
      for (let i = rng.int(5); i > 0; i--) d[rng.chance(0.5) ? rng.pick(HOSTILE_STRINGS) : randomString(rng, 8)] = hostileValue(rng, opt, depth + 1);
      return d;
    }
    default: return nested(rng.int(50) + 2, rng.chance(0.5));
  }
}

export function randomString(rng: Rng, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) {
    const r = rng.next();
    // Mostly printable ASCII, some dots (URI components), some non-ASCII, some control characters.
    s += r < 0.7 ? String.fromCharCode(0x61 + rng.int(26)) : r < 0.85 ? '.' : r < 0.95 ? String.fromCharCode(0xa0 + rng.int(0x500)) : String.fromCharCode(rng.int(32));
  }
  return s;
}

/** [[[…]]] or {"a":{"a":…}} `depth` levels deep. */
export function nested(depth: number, dicts = false): unknown {
  let v: unknown = dicts ? {} : [];
  for (let i = 0; i < depth; i++) v = dicts ? { a: v } : [v];
  return v;
}

// ---- valid messages of every client type ----

export const CLIENT_TYPES = ['HELLO', 'AUTHENTICATE', 'GOODBYE', 'ABORT', 'ERROR', 'PUBLISH', 'SUBSCRIBE', 'UNSUBSCRIBE',
  'CALL', 'CANCEL', 'REGISTER', 'UNREGISTER', 'YIELD'] as const;
export type ClientType = (typeof CLIENT_TYPES)[number];

export const HELLO_DETAILS = {
  roles: {
    caller: { features: { progressive_call_results: true, call_canceling: true } },
    callee: { features: { progressive_call_results: true, call_canceling: true, pattern_based_registration: true, shared_registration: true } },
    publisher: { features: {} },
    subscriber: { features: { pattern_based_subscription: true } },
  },
};

/** Topics and procedures the fuzz session uses: its own, the bystander's, the router's, and bad ones. */
const TOPICS = ['com.fuzz.t1', 'com.fuzz.t2', 'com.fuzz', 'bystander.tick', 'wamp.session.on_join', 'com.fuzz..x', 'com fuzz'];
const PROCEDURES = ['com.fuzz.p1', 'com.fuzz.p2', 'bystander.echo', 'wamp.session.count', 'wamp.session.list',
  'wamp.registration.list', 'wamp.session.get', 'wamp.session.kill', 'com.fuzz..p', ''];

export interface MessageContext {
  /** A request ID counter of the fuzz session. */
  nextRequest(): number;
  /** IDs the router handed this session (subscriptions, registrations, invocations), to hit real state. */
  knownIds: number[];
  realm: string;
}

function payloadTail(rng: Rng, opt: ValueOptions): unknown[] {
  switch (rng.int(4)) {
    case 0: return [];
    case 1: return [[hostileValue(rng, opt)]];
    case 2: return [[1, 'two', { three: 3 }], { k: hostileValue(rng, opt) }];
    default: return [[], {}];
  }
}

function someId(rng: Rng, ctx: MessageContext): number {
  return ctx.knownIds.length > 0 && rng.chance(0.6) ? rng.pick(ctx.knownIds) : 1 + rng.int(1000);
}

/** A well-formed message of `type`, with options a client may legitimately send. */
export function validMessage(rng: Rng, type: ClientType, ctx: MessageContext, opt: ValueOptions = ALL_VALUES): unknown[] {
  switch (type) {
    case 'HELLO': {
      const details: Record<string, unknown> = { ...HELLO_DETAILS };
      if (rng.chance(0.3)) details['authmethods'] = rng.pick([['anonymous'], ['ticket'], ['ticket', 'anonymous'], ['wampcra']]);
      if (rng.chance(0.3)) details['authid'] = rng.pick(['admin', 'user', 'svc-1', '']);
      return [T.HELLO, rng.chance(0.9) ? ctx.realm : rng.pick(['nosuchrealm', 'wamp.realm', 'a..b']), details];
    }
    case 'AUTHENTICATE': return [T.AUTHENTICATE, rng.pick(['secret', 'wrong', '', 'x'.repeat(300)]), {}];
    case 'GOODBYE': return [T.GOODBYE, {}, rng.pick(['wamp.close.close_realm', 'wamp.close.goodbye_and_out', 'com.fuzz.bye'])];
    case 'ABORT': return [T.ABORT, { message: 'fuzz' }, 'wamp.error.fuzz', ...(rng.chance(0.3) ? [['x']] : [])];
    case 'ERROR': return [T.ERROR, T.INVOCATION, someId(rng, ctx), {}, 'com.fuzz.error', ...payloadTail(rng, opt)];
    case 'PUBLISH': {
      const options: Record<string, unknown> = {};
      if (rng.chance(0.6)) options['acknowledge'] = true;
      if (rng.chance(0.2)) options['exclude_me'] = false;
      if (rng.chance(0.1)) options['retain'] = true;
      if (rng.chance(0.1)) options['eligible'] = [someId(rng, ctx)];
      return [T.PUBLISH, ctx.nextRequest(), options, rng.pick(TOPICS), ...payloadTail(rng, opt)];
    }
    case 'SUBSCRIBE': {
      const options: Record<string, unknown> = {};
      if (rng.chance(0.3)) options['match'] = rng.pick(['exact', 'prefix', 'wildcard']);
      if (rng.chance(0.1)) options['get_retained'] = true;
      return [T.SUBSCRIBE, ctx.nextRequest(), options, rng.pick(TOPICS)];
    }
    case 'UNSUBSCRIBE': return [T.UNSUBSCRIBE, ctx.nextRequest(), someId(rng, ctx)];
    case 'CALL': {
      const options: Record<string, unknown> = {};
      if (rng.chance(0.2)) options['timeout'] = rng.int(3) * 1000;
      if (rng.chance(0.2)) options['receive_progress'] = true;
      const procedure = rng.pick(PROCEDURES);
      const tail = procedure === 'wamp.session.get' || procedure === 'wamp.session.kill' ? [[someId(rng, ctx)]] : payloadTail(rng, opt);
      return [T.CALL, ctx.nextRequest(), options, procedure, ...tail];
    }
    case 'CANCEL': return [T.CANCEL, someId(rng, ctx), rng.chance(0.5) ? {} : { mode: rng.pick(['skip', 'kill', 'killnowait']) }];
    case 'REGISTER': {
      const options: Record<string, unknown> = {};
      if (rng.chance(0.3)) options['match'] = rng.pick(['exact', 'prefix', 'wildcard']);
      if (rng.chance(0.3)) options['invoke'] = rng.pick(['single', 'roundrobin', 'random', 'first', 'last']);
      if (rng.chance(0.1)) options['force_reregister'] = true;
      return [T.REGISTER, ctx.nextRequest(), options, rng.pick(PROCEDURES)];
    }
    case 'UNREGISTER': return [T.UNREGISTER, ctx.nextRequest(), someId(rng, ctx)];
    case 'YIELD': return [T.YIELD, someId(rng, ctx), rng.chance(0.8) ? {} : { progress: true }, ...payloadTail(rng, opt)];
  }
}

// ---- mutations ----

/** Option keys the router knows, to aim wrong-typed values at them. */
const OPTION_KEYS = ['acknowledge', 'exclude_me', 'disclose_me', 'retain', 'exclude', 'eligible', 'exclude_authid',
  'eligible_authrole', 'match', 'get_retained', 'receive_progress', 'progress', 'timeout', 'invoke', 'concurrency',
  'force_reregister', 'mode', 'forward_for', 'roles', 'authmethods', 'authid', 'authextra', 'features', 'caller',
  '__proto__', 'constructor', 'hasOwnProperty', 'valueOf', 'toString', 'isPrototypeOf'];

export type MutationKind = 'none' | 'replace' | 'truncate' | 'extend' | 'option' | 'unknown-option' | 'type' | 'not-array' | 'id' | 'uri';

/** Option keys WAMP defines for PUBLISH, SUBSCRIBE, CALL and REGISTER (facts sheet 7.1); others are unknown. */
const DEFINED_OPTION_KEYS = new Set(['acknowledge', 'exclude_me', 'disclose_me', 'retain', 'exclude', 'eligible',
  'exclude_authid', 'exclude_authrole', 'eligible_authid', 'eligible_authrole', 'match', 'get_retained', 'receive_progress',
  'progress', 'timeout', 'invoke', 'concurrency', 'force_reregister', 'mode', 'forward_for', 'disclose_caller',
  'forward_timeout', 'transaction_hash', 'enc_algo', 'enc_serializer', 'enc_key', 'ppt_scheme', 'ppt_serializer',
  'ppt_cipher', 'ppt_keyid', 'rkey', 'nkey', 'runmode']);

/** A copy of `msg` with one kind of damage. */
export function mutate(rng: Rng, msg: unknown[], opt: ValueOptions = ALL_VALUES): { msg: unknown; kind: MutationKind } {
  const r = rng.int(100);
  const out = msg.slice();
  if (r < 30) {
    // Replace one position (the type code included) with a value of another type.
    const i = rng.int(out.length);
    out[i] = hostileValue(rng, opt);
    return { msg: out, kind: 'replace' };
  }
  if (r < 40) {
    out.length = rng.int(out.length);
    return { msg: out, kind: 'truncate' };
  }
  if (r < 47) {
    for (let n = 1 + rng.int(3); n > 0; n--) out.push(hostileValue(rng, opt));
    return { msg: out, kind: 'extend' };
  }
  if (r < 62) {
    const at = out.findIndex((v, i) => i > 0 && isDict(v));
    if (at > 0) {
      const d = { ...(out[at] as Record<string, unknown>) };
      const key = rng.pick(OPTION_KEYS);
      if (key === '__proto__') Object.defineProperty(d, key, { value: hostileValue(rng, opt), enumerable: true, configurable: true, writable: true });
      else d[key] = hostileValue(rng, opt);
      out[at] = d;
      return { msg: out, kind: DEFINED_OPTION_KEYS.has(key) ? 'option' : 'unknown-option' };
    }
    out[rng.int(out.length)] = hostileValue(rng, opt);
    return { msg: out, kind: 'replace' };
  }
  if (r < 72) {
    out[0] = rng.chance(0.5) ? rng.pick([0, 2, 4, 7, 9, 15, 17, 33, 35, 36, 50, 65, 67, 68, 69, 71, 255, 256, 337, 1024, -1, 2 ** 53])
      : rng.pick(Object.values(T));
    return { msg: out, kind: 'type' };
  }
  if (r < 77) {
    return { msg: rng.pick<unknown>([null, 1, 'x', {}, [], { 0: out[0] }, true, out[0]]), kind: 'not-array' };
  }
  if (r < 89) {
    // A bad ID where the message has one (position 1 for requests, 2 for UNSUBSCRIBE/UNREGISTER/ERROR),
    // or one at the edges of the valid range [1, 2^53].
    const i = out[0] === T.ERROR ? 2 : out[0] === T.UNSUBSCRIBE || out[0] === T.UNREGISTER ? rng.pick([1, 2]) : 1;
    if (i < out.length) out[i] = rng.pick([0, -1, -(2 ** 53), 2 ** 53 + 2, 2 ** 64, 1.5, -0, NaN, '1', null, [1], true, 2 ** 53, 1, 2 ** 32]);
    if (!opt.nonFinite && typeof out[i] === 'number' && !Number.isFinite(out[i])) out[i] = 0;
    return { msg: out, kind: 'id' };
  }
  if (r < 97) {
    // A bad URI where the message has one.
    const i = out[0] === T.HELLO ? 1 : out[0] === T.ERROR ? 4 : out[0] === T.GOODBYE || out[0] === T.ABORT ? 2 : 3;
    if (i < out.length) out[i] = rng.pick(['', '.', 'a..b', 'a b', 'a#b', 'wamp.x', 'wamp', '\u0000x', 'x'.repeat(70000), 'ä.ö', 'A.B-C', '.a', 'a.']);
    return { msg: out, kind: 'uri' };
  }
  return { msg: out, kind: 'none' };
}

// ---- the oracle ----

export type SessionPhase = 'new' | 'challenged' | 'established';

/** Payload tail rules (args list, kwargs dict, at most two), unless the payload is transparent. */
function payloadBroken(m: unknown[], at: number, options: unknown): boolean {
  if (isDict(options)) {
    const o = options as Record<string, unknown>;
    if (Object.prototype.hasOwnProperty.call(o, 'ppt_scheme') || Object.prototype.hasOwnProperty.call(o, 'enc_algo')) return false; // not judged here
  }
  if (m.length > at + 2) return true;
  if (m.length > at && !Array.isArray(m[at])) return true;
  if (m.length > at + 1 && !isDict(m[at + 1])) return true;
  return false;
}

/**
 * true when the spec makes this message, in this phase, a protocol violation the router MUST answer
 * with ABORT wamp.error.protocol_violation: not an array, empty, a type code that is not an integer
 * or not one a client may send, a message out of the session's order, or a wrong element type or
 * count in a position whose type the spec fixes. (Option values and ID sequencing are left out:
 * what the router does with those is checked by the generic "answered or closed" rule.)
 */
export function isProtocolViolation(m: unknown, phase: SessionPhase): boolean {
  if (!Array.isArray(m) || m.length === 0) return true;
  const type = m[0];
  if (typeof type !== 'number' || !Number.isInteger(type)) return true;
  const shapeBroken = (): boolean => {
    switch (type) {
      case T.HELLO: // Realm|uri, or null: no realm named, authentication assigns one (as Crossbar)
        return m.length !== 3 || (typeof m[1] !== 'string' && m[1] !== null) || !isDict(m[2]);
      case T.AUTHENTICATE:
        return m.length !== 3 || typeof m[1] !== 'string' || !isDict(m[2]);
      case T.GOODBYE:
        return m.length !== 3 || !isDict(m[1]) || typeof m[2] !== 'string';
      case T.ABORT:
        return m.length < 3 || !isDict(m[1]) || typeof m[2] !== 'string' || payloadBroken(m, 3, undefined);
      case T.ERROR:
        return m.length < 5 || m[1] !== T.INVOCATION || !isId(m[2]) || !isDict(m[3]) || typeof m[4] !== 'string' || payloadBroken(m, 5, m[3]);
      case T.PUBLISH: case T.CALL:
        return m.length < 4 || !isId(m[1]) || !isDict(m[2]) || typeof m[3] !== 'string' || payloadBroken(m, 4, m[2]);
      case T.SUBSCRIBE: case T.REGISTER:
        return m.length !== 4 || !isId(m[1]) || !isDict(m[2]) || typeof m[3] !== 'string';
      case T.UNSUBSCRIBE: case T.UNREGISTER:
        return m.length !== 3 || !isId(m[1]) || !isId(m[2]);
      case T.CANCEL:
        return m.length !== 3 || !isId(m[1]) || !isDict(m[2]);
      case T.YIELD:
        return m.length < 3 || !isId(m[1]) || !isDict(m[2]) || payloadBroken(m, 3, m[2]);
      default:
        return true; // unknown, or a router-to-client type
    }
  };
  if (shapeBroken()) return true;
  if (phase === 'new') return type !== T.HELLO && type !== T.ABORT;
  if (phase === 'challenged') return type !== T.AUTHENTICATE && type !== T.ABORT;
  // established
  return type === T.HELLO || type === T.AUTHENTICATE;
}

/** The reply types that settle a request of this type (besides ERROR for it, ABORT or close). */
export function repliesTo(type: unknown): number[] | undefined {
  switch (type) {
    case T.CALL: return [T.RESULT];
    case T.SUBSCRIBE: return [T.SUBSCRIBED];
    case T.UNSUBSCRIBE: return [T.UNSUBSCRIBED];
    case T.REGISTER: return [T.REGISTERED];
    case T.UNREGISTER: return [T.UNREGISTERED];
    case T.PUBLISH: return [T.PUBLISHED];
    default: return undefined;
  }
}

/** Does a message the router sent look like one the spec allows a router to send? */
export function wellFormedFromRouter(m: unknown): boolean {
  if (!Array.isArray(m) || typeof m[0] !== 'number' || !ROUTER_TO_CLIENT.has(m[0])) return false;
  switch (m[0]) {
    case T.ABORT: case T.GOODBYE: return isDict(m[1]) && typeof m[2] === 'string';
    case T.ERROR: return typeof m[1] === 'number' && isId(m[2]) && isDict(m[3]) && typeof m[4] === 'string';
    case T.WELCOME: return isId(m[1]) && isDict(m[2]);
    case T.CHALLENGE: return typeof m[1] === 'string' && isDict(m[2]);
    case T.UNSUBSCRIBED: case T.UNREGISTERED: return isId(m[1]) || (m[1] === 0 && isDict(m[2]));
    case T.EVENT: return isId(m[1]) && isId(m[2]) && isDict(m[3]);
    case T.INVOCATION: return isId(m[1]) && isId(m[2]) && isDict(m[3]);
    case T.INTERRUPT: return isId(m[1]) && isDict(m[2]);
    default: return isId(m[1]);
  }
}
