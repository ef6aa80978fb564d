// Shape checks for messages a client sends. A message of the wrong shape is a protocol violation
// (the session answers ABORT wamp.error.protocol_violation); a well-shaped request with a bad URI
// or an unknown ID is not, and gets an ERROR from its handler instead.

import * as M from './message.js';
import { isId } from './ids.js';
import type { ClientMessage } from './client-messages.js';

export class ProtocolViolation extends Error {}

type Check = (value: unknown) => boolean;

/**
 * A plain object, as a JSON, MessagePack or CBOR map decodes: not a list or bytes, nor a Date, Map,
 * Set, typed array or other object a decoder makes of a CBOR tag or MessagePack extension (found by
 * test/fuzz: such a "dict" was passed on, e.g. as ERROR.Details, and reached other peers as a string).
 */
const isDict = (v: unknown): v is M.Dict => {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};
const isString = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isList = (v: unknown): v is unknown[] => Array.isArray(v);
const isNonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isIdList = (v: unknown) => Array.isArray(v) && v.every(isId);
const isStringList = (v: unknown) => Array.isArray(v) && v.every(isString);
const oneOf = (...values: string[]): Check => (v) => typeof v === 'string' && values.includes(v);
const isDictList = (v: unknown) => Array.isArray(v) && v.every(isDict);

/** Keys of router-to-router links and payload transparency, valid on several messages. */
const COMMON_OPTIONS: Record<string, Check> = {
  forward_for: isDictList,
  enc_algo: oneOf('null', 'cryptobox', 'mqtt', 'xbr'),
  enc_serializer: oneOf('json', 'msgpack', 'cbor', 'ubjson', 'flatbuffers', 'native'),
  enc_key: isString,
  ppt_scheme: isString, ppt_serializer: isString, ppt_cipher: isString, ppt_keyid: isString,
};

/** Known option keys and their types. Unknown keys are ignored, as the spec requires. */
const OPTION_TYPES: Record<number, Record<string, Check>> = {
  [M.PUBLISH]: {
    ...COMMON_OPTIONS, transaction_hash: isString,
    acknowledge: isBool, exclude_me: isBool, disclose_me: isBool, retain: isBool,
    exclude: isIdList, eligible: isIdList,
    exclude_authid: isStringList, exclude_authrole: isStringList,
    eligible_authid: isStringList, eligible_authrole: isStringList,
    // Router links' marks on an event sent from their buffer (custom attributes the broker passes on).
    _late: isBool, _published_at: isString,
  },
  [M.SUBSCRIBE]: { ...COMMON_OPTIONS, match: oneOf('exact', 'prefix', 'wildcard'), get_retained: isBool },
  [M.CALL]: { ...COMMON_OPTIONS, transaction_hash: isString, receive_progress: isBool, progress: isBool, disclose_me: isBool, timeout: isNonNegInt },
  [M.REGISTER]: {
    ...COMMON_OPTIONS,
    match: oneOf('exact', 'prefix', 'wildcard'),
    invoke: oneOf('single', 'first', 'last', 'roundrobin', 'random'),
    concurrency: isNonNegInt, disclose_caller: isBool, force_reregister: isBool, forward_timeout: isBool,
  },
  [M.CANCEL]: { mode: oneOf('skip', 'kill', 'killnowait') },
  [M.YIELD]: { ...COMMON_OPTIONS, progress: isBool },
};

function fail(what: string): never {
  throw new ProtocolViolation(what);
}

function checkOptions(type: number, options: M.Dict): void {
  const known = OPTION_TYPES[type];
  if (!known) return;
  for (const key in options) {
    // Own keys only: an unknown key such as 'valueOf' or 'constructor' must not find Object.prototype's.
    const check = Object.hasOwn(known, key) ? known[key] : undefined;
    if (check && options[key] !== undefined && !check(options[key])) {
      fail(`${M.MESSAGE_NAMES[type]} option '${key}' has the wrong type`);
    }
  }
}

/**
 * What is wrong with PUBLISH options that arrive inside a call rather than a PUBLISH message
 * (wamp.session.add_testament's `publish_options`): the same type checks, as a message for an
 * ERROR instead of a protocol violation. Undefined when they are fine.
 */
export function publishOptionsProblem(options: M.Dict): string | undefined {
  try {
    checkOptions(M.PUBLISH, options);
    return undefined;
  } catch (err) {
    if (err instanceof ProtocolViolation) return err.message;
    throw err;
  }
}

/**
 * Checks the optional `Arguments|list, ArgumentsKw|dict` tail starting at index `at`. With payload
 * transparency (enc_algo / ppt_scheme) the payload is one opaque item the router passes on unread.
 */
function checkPayload(msg: unknown[], at: number, name: string, options?: M.Dict): void {
  if (options && (options['enc_algo'] !== undefined || options['ppt_scheme'] !== undefined)) {
    if (msg.length > at + 1) fail(`${name} with a transparent payload must carry it as one item`);
    if (msg.length > at && !(msg[at] instanceof Uint8Array) && typeof msg[at] !== 'string') fail(`${name} transparent payload must be binary`);
    return;
  }
  if (msg.length > at + 2) fail(`${name} has too many elements`);
  if (msg.length > at && !isList(msg[at])) fail(`${name} Arguments must be a list`);
  if (msg.length > at + 1 && !isDict(msg[at + 1])) fail(`${name} ArgumentsKw must be a dict`);
}

function expectLength(msg: unknown[], length: number, name: string): void {
  if (msg.length !== length) fail(`${name} must have ${length} elements, got ${msg.length}`);
}

function expectId(value: unknown, name: string, field: string): void {
  if (!isId(value)) fail(`${name} ${field} must be an ID in [1, 2^53]`);
}

function expectDict(value: unknown, name: string, field: string): M.Dict {
  if (!isDict(value)) fail(`${name} ${field} must be a dict`);
  return value;
}

function expectString(value: unknown, name: string, field: string): void {
  if (!isString(value)) fail(`${name} ${field} must be a string`);
}

/**
 * Checks a decoded message from a client and returns the same array as a typed view of it.
 * Throws ProtocolViolation naming what is wrong.
 */
export function validateClientMessage(msg: unknown): ClientMessage {
  if (!Array.isArray(msg) || msg.length === 0) fail('a message must be a non-empty array');
  const type = msg[0];
  if (typeof type !== 'number' || !Number.isInteger(type)) fail('the message type must be an integer');
  const name = M.MESSAGE_NAMES[type] ?? `message type ${type}`;
  switch (type) {
    case M.HELLO:
      expectLength(msg, 3, name);
      // null: no realm named (Autobahn|Python sends that); authentication assigns one.
      if (msg[1] !== null) expectString(msg[1], name, 'Realm');
      expectDict(msg[2], name, 'Details');
      break;
    case M.AUTHENTICATE:
      expectLength(msg, 3, name);
      expectString(msg[1], name, 'Signature');
      expectDict(msg[2], name, 'Extra');
      break;
    case M.ABORT:
      if (msg.length < 3) fail(`${name} must have at least 3 elements`);
      expectDict(msg[1], name, 'Details');
      expectString(msg[2], name, 'Reason');
      checkPayload(msg, 3, name);
      break;
    case M.GOODBYE:
      expectLength(msg, 3, name);
      expectDict(msg[1], name, 'Details');
      expectString(msg[2], name, 'Reason');
      break;
    case M.ERROR:
      if (msg.length < 5) fail(`${name} must have at least 5 elements`);
      if (msg[1] !== M.INVOCATION) fail(`${name} for request type ${String(msg[1])} may not be sent by a client`);
      expectId(msg[2], name, 'Request');
      checkPayload(msg, 5, name, expectDict(msg[3], name, 'Details'));
      expectString(msg[4], name, 'Error');
      break;
    case M.PUBLISH:
    case M.CALL:
      if (msg.length < 4) fail(`${name} must have at least 4 elements`);
      expectId(msg[1], name, 'Request');
      checkOptions(type, expectDict(msg[2], name, 'Options'));
      expectString(msg[3], name, type === M.CALL ? 'Procedure' : 'Topic');
      checkPayload(msg, 4, name, msg[2] as M.Dict);
      break;
    case M.SUBSCRIBE:
    case M.REGISTER:
      expectLength(msg, 4, name);
      expectId(msg[1], name, 'Request');
      checkOptions(type, expectDict(msg[2], name, 'Options'));
      expectString(msg[3], name, type === M.REGISTER ? 'Procedure' : 'Topic');
      break;
    case M.UNSUBSCRIBE:
    case M.UNREGISTER:
      expectLength(msg, 3, name);
      expectId(msg[1], name, 'Request');
      expectId(msg[2], name, type === M.UNREGISTER ? 'Registration' : 'Subscription');
      break;
    case M.CANCEL:
      expectLength(msg, 3, name);
      expectId(msg[1], name, 'Request');
      checkOptions(type, expectDict(msg[2], name, 'Options'));
      break;
    case M.YIELD:
      if (msg.length < 3) fail(`${name} must have at least 3 elements`);
      expectId(msg[1], name, 'Request');
      checkOptions(type, expectDict(msg[2], name, 'Options'));
      checkPayload(msg, 3, name, msg[2] as M.Dict);
      break;
    default:
      if (M.MESSAGE_NAMES[type]) fail(`${name} may not be sent to a router`);
      fail(`unknown message type ${type}`);
  }
  return msg as ClientMessage;
}

export { isDict };
