// What the router requires of a client's packet beyond what mqtt-packet's parser checks, and the
// MQTT 5 reason code it ends the connection with when a packet falls short (an MQTT 3 client's
// connection just closes): U+0000 in any string is a malformed packet [MQTT-1.5.4-2] (topics with
// it break libmosquitto subscribers for good); packets only a server sends, a second CONNECT, AUTH
// (no enhanced authentication), a missing packet identifier or 0, a PUBLISH or will topic that is
// empty or holds a wildcard, topic aliases (the router announces none), a subscription identifier
// in a PUBLISH, a response topic with a wildcard, a SUBSCRIBE or UNSUBSCRIBE without filters, No
// Local on a shared subscription are protocol errors; a packet over the announced maximum size is
// too large.

import type { IConnectPacket, Packet } from 'mqtt-packet';
import { REASON } from './reason-codes.js';

export interface Violation {
  reasonCode: number;
  why: string;
}

/** 1–65535 [MQTT-2.2.1-3]; mqtt-packet gives -1 for an acknowledgement too short to hold one. */
function isPacketId(id: number | undefined): boolean {
  return id !== undefined && id >= 1 && id <= 0xffff;
}

const SERVER_ONLY = new Set(['connack', 'suback', 'unsuback', 'pingresp']);
const WILDCARD = /[#+]/;

/** Why a packet from a connected client ends its connection; undefined when it is acceptable. */
export function clientPacketViolation(packet: Packet, maxPacketSize: number): Violation | undefined {
  if ((packet.length ?? 0) > maxPacketSize) return { reasonCode: REASON.packetTooLarge, why: `a ${packet.cmd} packet of ${packet.length} bytes (at most ${maxPacketSize})` };
  const malformed = malformedString(packet);
  if (malformed) return { reasonCode: REASON.malformedPacket, why: `U+0000 in the ${malformed} of a ${packet.cmd} packet` };
  const protocolError = (why: string): Violation => ({ reasonCode: REASON.protocolError, why });
  switch (packet.cmd) {
    case 'connect': return protocolError('a second CONNECT');
    case 'auth': return protocolError('AUTH without enhanced authentication');
    case 'publish': {
      if (packet.qos > 0 && !isPacketId(packet.messageId)) return protocolError('a QoS 1/2 PUBLISH without a packet identifier (or 0)');
      const properties = packet.properties;
      if (properties?.topicAlias !== undefined) return { reasonCode: REASON.topicAliasInvalid, why: 'a topic alias (the router allows none)' };
      if (packet.topic === '' || WILDCARD.test(packet.topic)) return protocolError(`a PUBLISH topic '${packet.topic.slice(0, 200)}' that is empty or holds a wildcard`);
      if (properties?.subscriptionIdentifier !== undefined) return protocolError('a subscription identifier in a PUBLISH from a client');
      const responseTopic = properties?.responseTopic;
      if (responseTopic !== undefined && (responseTopic === '' || WILDCARD.test(responseTopic))) return protocolError('a response topic that is empty or holds a wildcard');
      return undefined;
    }
    case 'subscribe':
      if (!isPacketId(packet.messageId)) return protocolError('a SUBSCRIBE without a packet identifier (or 0)');
      if (packet.subscriptions.length === 0) return protocolError('a SUBSCRIBE without topic filters [MQTT-3.8.3-2]');
      if (packet.properties?.subscriptionIdentifier === 0) return protocolError('a subscription identifier of 0');
      if (packet.subscriptions.some((s) => s.nl === true && s.topic.startsWith('$share/'))) return protocolError('No Local on a shared subscription [MQTT-3.8.3-4]');
      return undefined;
    case 'unsubscribe':
      if (packet.unsubscriptions.length === 0) return protocolError('an UNSUBSCRIBE without topic filters [MQTT-3.10.3-2]');
      return isPacketId(packet.messageId) ? undefined : protocolError('an UNSUBSCRIBE without a packet identifier (or 0)');
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return isPacketId(packet.messageId) ? undefined : protocolError(`a ${packet.cmd.toUpperCase()} without a packet identifier (or 0)`);
    default:
      return SERVER_ONLY.has(packet.cmd) ? protocolError(`a ${packet.cmd.toUpperCase()} packet, which only a server sends`) : undefined;
  }
}

/** A will whose topic (or response topic) is empty or holds a wildcard: a protocol error in CONNECT. */
export function willViolation(connect: IConnectPacket): string | undefined {
  const will = connect.will;
  if (!will) return undefined;
  if (will.topic === '' || WILDCARD.test(will.topic)) return 'a will topic that is empty or holds a wildcard';
  const responseTopic = will.properties?.responseTopic;
  if (responseTopic !== undefined && (responseTopic === '' || WILDCARD.test(responseTopic))) return 'a will response topic that is empty or holds a wildcard';
  return undefined;
}

const NUL = '\u0000';

/** Why the packet is malformed because of a string it carries; undefined when its strings are fine. */
export function malformedString(packet: Packet): string | undefined {
  switch (packet.cmd) {
    case 'connect':
      if (packet.clientId.includes(NUL)) return 'client id';
      if (packet.username?.includes(NUL)) return 'user name';
      if (packet.will && (packet.will.topic.includes(NUL) || hasNul(packet.will.properties))) return 'will';
      return hasNul(packet.properties) ? 'CONNECT properties' : undefined;
    case 'publish':
      if (packet.topic.includes(NUL)) return 'topic name';
      return hasNul(packet.properties) ? 'PUBLISH properties' : undefined;
    case 'subscribe':
      if (packet.subscriptions.some((s) => s.topic.includes(NUL))) return 'topic filter';
      return hasNul(packet.properties) ? 'SUBSCRIBE properties' : undefined;
    case 'unsubscribe':
      if (packet.unsubscriptions.some((f) => f.includes(NUL))) return 'topic filter';
      return hasNul(packet.properties) ? 'UNSUBSCRIBE properties' : undefined;
    default:
      return hasNul((packet as { properties?: object }).properties) ? `${packet.cmd} properties` : undefined;
  }
}

/** A U+0000 in a property's string value or a user property's name or value (binary values may hold any byte). */
function hasNul(properties: object | undefined): boolean {
  if (!properties) return false;
  for (const [name, value] of Object.entries(properties)) {
    if (name.includes(NUL)) return true;
    if (typeof value === 'string' && value.includes(NUL)) return true;
    if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && hasNul(value)) return true;
  }
  return false;
}

