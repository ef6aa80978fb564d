// MQTT inputs for the fuzz suite: valid packets of every type a client can send (and the ones only
// a server sends), MQTT 3.1.1 and 5, with every property each type may carry, written by
// mqtt-packet; then mutated as objects (QoS 3, packet id 0, wildcards, U+0000, aliases, ...) and as
// bytes (flags and reserved bits, remaining length, truncated, extended, oversized), or random bytes.
// The oracle says what the spec asks of the router for each input, from mqtt-packet's parser (is it
// well-formed?) and the spec's rules for what a client may send (written here, apart from the router).

import * as mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import type { Rng } from './gen.js';

export type MqttVersion = 4 | 5;

const TOPICS = ['fuzz/a', 'fuzz/b/c', 'fuzz/rpc/echo', 'fuzz/rpc', 'bystander/up', 'fuzz/ü/∂', 'fuzz/rpc/nothing', 'bystander/down', 'fuzz', 'a.b', 'a//b', '/lead', 'trail/', '$SYS/x', 'wamp/session/kill', 'x y', 'fuzz/+', 'fuzz/#', '#', '+', '', 'a\u0000b', 'q'.repeat(300)];
const FILTERS = ['fuzz/#', 'fuzz/+/c', '#', '+', 'fuzz/a', 'a/#/b', 'a+', 'a/+/#', '$share/g/fuzz/a', '$share/', 'bystander/#', 'a.b', '', 'fuzz/\u0000', 'w'.repeat(300)];
const STRINGS = ['', 'x', 'text/plain', 'ü∂✓', 'a\u0000b', '#', 'fuzz/reply', 'ops/alarm', 's'.repeat(1000)];

function str(r: Rng): string {
  return r.pick(STRINGS);
}
function bytes(r: Rng): Buffer {
  return r.bytes(r.pick([0, 1, 16, 200]));
}
function u16(r: Rng): number {
  return r.pick([0, 1, 2, 100, 65535]);
}
function u32(r: Rng): number {
  return r.pick([0, 1, 60, 86400, 0xffffffff]);
}
function userProperties(r: Rng): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = r.int(3); i >= 0; i--) out[r.pick(['k', 'key', 'ü', '', 'a\u0000'])] = r.chance(0.3) ? [str(r), str(r)] : str(r);
  return out;
}
/** Some of the given properties, each with a value of its kind. */
function some(r: Rng, makers: Record<string, (r: Rng) => unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [name, make] of Object.entries(makers)) if (r.chance(0.3)) out[name] = make(r);
  return Object.keys(out).length > 0 ? out : undefined;
}

const WILL_PROPERTIES = {
  willDelayInterval: u32, payloadFormatIndicator: (r: Rng) => r.chance(0.5), messageExpiryInterval: u32, contentType: str,
  responseTopic: (r: Rng) => r.pick(TOPICS), correlationData: bytes, userProperties,
};
const PROPERTIES: Record<string, Record<string, (r: Rng) => unknown>> = {
  connect: {
    sessionExpiryInterval: u32, receiveMaximum: (r) => r.pick([1, 10, 65535]), maximumPacketSize: (r) => r.pick([1, 100, 65536, 0xfffffff]),
    topicAliasMaximum: u16, requestResponseInformation: (r) => r.chance(0.5), requestProblemInformation: (r) => r.chance(0.5),
    userProperties, authenticationMethod: str, authenticationData: bytes,
  },
  publish: {
    payloadFormatIndicator: (r) => r.chance(0.5), messageExpiryInterval: u32, topicAlias: (r) => r.pick([1, 2, 65535]),
    responseTopic: (r) => r.pick(TOPICS), correlationData: bytes, userProperties, subscriptionIdentifier: (r) => r.pick([1, 268435455]), contentType: str,
  },
  ack: { reasonString: str, userProperties },
  subscribe: { subscriptionIdentifier: (r) => r.pick([1, 268435455]), userProperties },
  unsubscribe: { userProperties },
  disconnect: { sessionExpiryInterval: u32, reasonString: str, userProperties, serverReference: str },
  auth: { authenticationMethod: str, authenticationData: bytes, reasonString: str, userProperties },
  connack: { sessionExpiryInterval: u32, receiveMaximum: u16, reasonString: str, userProperties },
  suback: { reasonString: str, userProperties },
};

export const CLIENT_PACKETS = ['publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'unsubscribe', 'pingreq', 'disconnect', 'auth'] as const;
const SERVER_PACKETS = ['connack', 'suback', 'unsuback', 'pingresp'] as const;
export type PacketKind = (typeof CLIENT_PACKETS)[number] | (typeof SERVER_PACKETS)[number] | 'connect';

/** A client id of its own per connection, so fuzzed connections never take over each other's sessions. */
let clientIds = 0;
export const freshClientId = (): string => `fz-${process.pid}-${++clientIds}`;

export function validConnect(r: Rng, v: MqttVersion, clientId = freshClientId()): Packet {
  const packet: Record<string, unknown> = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: v, clean: r.chance(0.8), keepalive: r.pick([0, 0, 60, 65535]), clientId };
  if (r.chance(0.2)) packet['will'] = { topic: r.pick(TOPICS.slice(0, 8)), payload: bytes(r), qos: r.int(3), retain: r.chance(0.2), ...(v === 5 && r.chance(0.5) ? { properties: some(r, WILL_PROPERTIES) } : {}) };
  if (v === 5) {
    // An authentication method would ask for enhanced authentication: the CONNECT is then refused.
    const properties = some(r, PROPERTIES['connect']!);
    if (properties && r.chance(0.8)) delete properties['authenticationMethod'];
    if (properties) packet['properties'] = properties;
  }
  return packet as unknown as Packet;
}

/** A packet of the kind, as a client would write it (properties at random, valid or not). */
export function validPacket(r: Rng, v: MqttVersion, kind: PacketKind, messageIds: number[]): Packet {
  const id = () => (messageIds.length > 0 && r.chance(0.5) ? r.pick(messageIds) : 1 + r.int(65535));
  const props = (name: string) => (v === 5 && r.chance(0.6) ? some(r, PROPERTIES[name]!) : undefined);
  const withProps = (p: Record<string, unknown>, name: string) => {
    const properties = props(name);
    if (properties) p['properties'] = properties;
    return p as unknown as Packet;
  };
  switch (kind) {
    case 'connect': return validConnect(r, v);
    case 'publish': {
      const qos = r.int(3);
      const p: Record<string, unknown> = { cmd: 'publish', topic: r.chance(0.7) ? r.pick(TOPICS.slice(0, 6)) : r.pick(TOPICS), payload: r.chance(0.3) ? Buffer.from(JSON.stringify({ args: [r.int(100)] })) : bytes(r), qos, retain: r.chance(0.1), dup: r.chance(0.1) };
      if (qos > 0) p['messageId'] = id();
      return withProps(p, 'publish');
    }
    case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp': {
      const p: Record<string, unknown> = { cmd: kind, messageId: id() };
      if (v === 5 && r.chance(0.5)) p['reasonCode'] = kind === 'pubrel' || kind === 'pubcomp' ? r.pick([0, 0x92]) : r.pick([0, 0x10, 0x80, 0x87, 0x97]);
      return withProps(p, 'ack');
    }
    case 'subscribe': {
      const subscriptions = Array.from({ length: 1 + r.int(4) }, () => {
        const s: Record<string, unknown> = { topic: r.chance(0.6) ? r.pick(FILTERS.slice(0, 5)) : r.pick(FILTERS), qos: r.int(3) };
        if (v === 5) Object.assign(s, { nl: r.chance(0.3), rap: r.chance(0.3), rh: r.int(3) });
        return s;
      });
      return withProps({ cmd: 'subscribe', messageId: id(), subscriptions }, 'subscribe');
    }
    case 'unsubscribe':
      return withProps({ cmd: 'unsubscribe', messageId: id(), unsubscriptions: Array.from({ length: 1 + r.int(3) }, () => r.pick(FILTERS)) }, 'unsubscribe');
    case 'pingreq': return { cmd: 'pingreq' } as Packet;
    case 'pingresp': return { cmd: 'pingresp' } as Packet;
    case 'disconnect': {
      const p: Record<string, unknown> = { cmd: 'disconnect' };
      if (v === 5 && r.chance(0.5)) p['reasonCode'] = r.pick([0, 0x04, 0x80]);
      return withProps(p, 'disconnect');
    }
    case 'auth':
      return withProps({ cmd: 'auth', reasonCode: r.pick([0, 0x18, 0x19]) }, 'auth');
    case 'connack':
      return withProps(v === 5 ? { cmd: 'connack', reasonCode: 0, sessionPresent: false } : { cmd: 'connack', returnCode: 0, sessionPresent: false }, 'connack');
    case 'suback':
      return withProps({ cmd: 'suback', messageId: id(), granted: [0] }, 'suback');
    case 'unsuback':
      return withProps({ cmd: 'unsuback', messageId: id(), ...(v === 5 ? { granted: [0] } : {}) }, 'suback');
  }
}

/** Object-level mutations: what a buggy or hostile client puts in its fields. */
function mutateObject(r: Rng, packet: Packet): { packet: Packet; kind: string; patch?: (b: Buffer) => void } {
  const p = structuredClone(packet) as unknown as Record<string, unknown>;
  const m = r.int(8);
  switch (m) {
    case 0: if (p['cmd'] === 'publish') {
      // mqtt-packet will not write QoS 3: a QoS 2 PUBLISH with both QoS bits set.
      p['qos'] = 2;
      p['messageId'] ??= 1;
      return { packet: p as unknown as Packet, kind: 'QoS 3', patch: (b) => { b[0] = b[0]! | 0x06; } };
    } break;
    case 1: if ('messageId' in p) { p['messageId'] = 0; return { packet: p as unknown as Packet, kind: 'packet id 0' }; } break;
    case 2: if ('topic' in p) { p['topic'] = r.pick(['fuzz/#', '+', '', 'a\u0000b', 'fuzz/+/x']); return { packet: p as unknown as Packet, kind: 'bad topic' }; } break;
    case 3: if ('subscriptions' in p) { (p['subscriptions'] as Array<Record<string, unknown>>)[0]!['qos'] = r.pick([3, 0x80]); return { packet: p as unknown as Packet, kind: 'bad subscription QoS' }; } break;
    case 4: p['properties'] = { ...(p['properties'] as object), topicAlias: r.pick([0, 1, 65535]) }; return { packet: p as unknown as Packet, kind: 'topic alias' };
    case 5: p['properties'] = { ...(p['properties'] as object), userProperties: { 'a\u0000': 'b' } }; return { packet: p as unknown as Packet, kind: 'U+0000 in a user property' };
    case 6: if ('payload' in p) { p['payload'] = Buffer.alloc(70_000, 0x61); return { packet: p as unknown as Packet, kind: 'oversized payload' }; } break;
  }
  p['properties'] = { ...(p['properties'] as object), contentType: 'c'.repeat(r.pick([10, 66_000])) };
  return { packet: p as unknown as Packet, kind: 'content type' };
}

/** Byte-level damage. */
function damage(r: Rng, b: Buffer): { bytes: Buffer; kind: string } {
  const out = Buffer.from(b);
  switch (r.int(6)) {
    case 0: out[0] = (out[0]! & 0xf0) | r.int(16); return { bytes: out, kind: 'flags' };
    case 1: out[0] = r.int(256); return { bytes: out, kind: 'first byte' };
    case 2: return { bytes: Buffer.concat([out.subarray(0, 1), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]), out.subarray(2)]), kind: 'bad remaining length' };
    case 3: if (out.length > 1) { out[1] = r.int(256); return { bytes: out, kind: 'remaining length' }; } break;
    case 4: if (out.length > 2) { out[2 + r.int(out.length - 2)] = r.int(256); return { bytes: out, kind: 'body byte' }; } break;
  }
  return { bytes: Buffer.concat([out, r.bytes(1 + r.int(8))]), kind: 'extended' };
}

export interface MqttInput {
  bytes: Buffer;
  label: string;
  /** The client stops sending after it (a truncated packet): the router must close. */
  endAfter?: boolean;
}

function encode(packet: Packet, v: MqttVersion): Buffer | undefined {
  try {
    return mqttPacket.generate(packet, { protocolVersion: v });
  } catch {
    return undefined; // mqtt-packet refuses to write it: bytes will do
  }
}

/** One input for a connected client (or, `connected` false, a first packet). */
export function makeMqttInput(r: Rng, v: MqttVersion, connected: boolean, messageIds: number[]): MqttInput {
  const roll = r.int(100);
  if (roll < 6) return { bytes: r.bytes(r.int(200)), label: 'random bytes' };
  if (roll < 10) {
    const b = encode(validPacket(r, v, 'publish', messageIds), v) ?? r.bytes(10);
    return { bytes: b.subarray(0, Math.max(1, r.int(b.length))), label: 'truncated', endAfter: true };
  }
  const kind: PacketKind = !connected && r.chance(0.7) ? 'connect' : r.chance(0.08) ? r.pick(SERVER_PACKETS) : r.chance(0.04) ? 'connect' : r.pick(CLIENT_PACKETS);
  const valid = validPacket(r, v, kind, messageIds);
  const mutated = r.chance(0.35) ? mutateObject(r, valid) : { packet: valid, kind: 'valid' };
  const b = encode(mutated.packet, v) ?? encode(valid, v) ?? r.bytes(8);
  if ('patch' in mutated && mutated.patch) mutated.patch(b);
  if (r.chance(0.15)) {
    const d = damage(r, b);
    return { bytes: d.bytes, label: `${kind} ${mutated.kind} + ${d.kind}` };
  }
  return { bytes: b, label: `${kind} ${mutated.kind}` };
}

// ---- the oracle ----

export type Verdict =
  /** Malformed, or a protocol error: the router closes (MQTT 5: a DISCONNECT with a reason ≥ 0x80 first, if any). */
  | { kind: 'close'; why: string }
  /** The client itself ended (DISCONNECT): closed, no DISCONNECT from the router. */
  | { kind: 'client-ended' }
  /** Acceptable: every packet is answered as the spec says, the connection stays up. */
  | { kind: 'answer'; packets: Packet[] }
  /** Incomplete: the router waits for the rest; the client then ends, so it closes. */
  | { kind: 'incomplete'; packets: Packet[] };

const NUL_IN = (v: unknown): boolean => {
  if (typeof v === 'string') return v.includes('\u0000');
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return false;
  if (Array.isArray(v)) return v.some(NUL_IN);
  if (typeof v === 'object' && v !== null) return Object.entries(v).some(([k, x]) => k !== 'payload' && k !== 'password' && (k.includes('\u0000') || NUL_IN(x)));
  return false;
};

/** What the spec says of the packet from a connected client (undefined: acceptable). */
function violationOf(p: Packet, v: MqttVersion, maxPacketSize: number): string | undefined {
  if ((p.length ?? 0) > maxPacketSize) return 'larger than the maximum packet size';
  if (NUL_IN(p)) return 'U+0000 in a string [MQTT-1.5.4-2]';
  const any = p as unknown as Record<string, unknown> & { properties?: Record<string, unknown> };
  if (['connect', 'connack', 'suback', 'unsuback', 'pingresp', 'auth'].includes(p.cmd)) return `${p.cmd} from a connected client`;
  if (['publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'unsubscribe'].includes(p.cmd)) {
    const needsId = p.cmd !== 'publish' || (any['qos'] as number) > 0;
    const id = any['messageId'] as number | undefined;
    if (needsId && !(typeof id === 'number' && id >= 1 && id <= 65535)) return 'no packet identifier, or 0 [MQTT-2.2.1-3]';
  }
  if (p.cmd === 'publish') {
    if (v === 5 && any.properties?.['topicAlias'] !== undefined) return 'topic alias beyond the maximum (0)';
    if (p.topic === '' || /[#+]/.test(p.topic)) return 'topic name empty or with a wildcard [MQTT-3.3.2-2]';
    if (v === 5 && any.properties?.['subscriptionIdentifier'] !== undefined) return 'subscription identifier from a client [MQTT-3.3.4-6]';
    const rt = any.properties?.['responseTopic'];
    if (typeof rt === 'string' && (rt === '' || /[#+]/.test(rt))) return 'response topic with a wildcard [MQTT-3.3.2-14]';
  }
  if (p.cmd === 'subscribe' && p.subscriptions.length === 0) return 'SUBSCRIBE without topic filters [MQTT-3.8.3-2]';
  if (p.cmd === 'unsubscribe' && p.unsubscriptions.length === 0) return 'UNSUBSCRIBE without topic filters [MQTT-3.10.3-2]';
  if (p.cmd === 'subscribe' && v === 5 && any.properties?.['subscriptionIdentifier'] === 0) return 'subscription identifier 0';
  if (p.cmd === 'subscribe' && p.subscriptions.some((s) => s.nl === true && s.topic.startsWith('$share/'))) return 'No Local on a shared subscription [MQTT-3.8.3-4]';
  return undefined;
}

/**
 * Parses the bytes as the router does (a fresh mqtt-packet parser; after CONNECT, at the client's
 * version) and judges them. `connectExpiry`: the Session Expiry Interval of the connection's CONNECT.
 */
export function judge(bytes: Buffer, v: MqttVersion, connected: boolean, maxPacketSize: number, connectExpiry = 0): Verdict {
  const parser = mqttPacket.parser({ protocolVersion: connected ? v : 4 });
  const packets: Packet[] = [];
  let error: string | undefined;
  parser.on('packet', (p: Packet) => {
    packets.push(p);
    if (p.cmd === 'connect' && p.protocolVersion) (parser as unknown as { settings: { protocolVersion: number } }).settings.protocolVersion = p.protocolVersion;
  });
  parser.on('error', (e: Error) => (error ??= e.message));
  parser.parse(bytes);
  // Mid-packet: bytes buffered, or a fixed header read and its body awaited.
  const state = parser as unknown as { _list: { length: number }; _stateCounter: number };
  const left = state._list.length + state._stateCounter;
  const firstError = (): Verdict | undefined => {
    let expiry = connectExpiry;
    for (const [i, p] of packets.entries()) {
      if (!connected && i === 0) {
        if (p.cmd !== 'connect') return { kind: 'close', why: `${p.cmd} before CONNECT` };
        expiry = p.properties?.sessionExpiryInterval ?? 0;
        continue;
      }
      if (v === 5 && p.cmd === 'disconnect' && (p.properties?.sessionExpiryInterval ?? 0) > 0 && expiry === 0) {
        return { kind: 'close', why: 'a session expiry in DISCONNECT after a CONNECT without one [MQTT-3.14.2-2]' };
      }
      // A malformed DISCONNECT is malformed first (the router may say so).
      const why = p.cmd === 'disconnect' && !NUL_IN(p) ? undefined : violationOf(p, v, maxPacketSize);
      if (why) return { kind: 'close', why };
      if (p.cmd === 'disconnect') return { kind: 'client-ended' };
    }
    return undefined;
  };
  // Packets before a malformed one are handled first: one of them may end the connection itself.
  const early = firstError();
  if (early) return early;
  if (error) return { kind: 'close', why: `malformed: ${error}` };
  if (left > 0) return { kind: 'incomplete', packets };
  return { kind: 'answer', packets };
}
