// MQTT's rules for the strings and properties the router sends: no string may contain U+0000
// [MQTT-1.5.4-2], and a string or binary value is at most 65,535 bytes (a two-byte length);
// mqtt-packet writes a longer one as a corrupt frame, after which a client loses every later
// message. Values from WAMP publishers (`_mqtt_content_type`, ...) are checked before they become
// properties, for the MQTT listener's clients and the bridges' brokers alike. (What the router
// accepts from MQTT clients: transports/mqtt-listener/checks.ts.) The other way, an MQTT message's retain
// flag and properties become WAMP PUBLISH options (addPublishOptions).
// A Message Expiry Interval becomes two attributes: `_mqtt_message_expiry_interval` (seconds, as
// published) and `_mqtt_expires_at` (the moment it passes, ms since 1970), from which each delivery
// forwards what is left [MQTT-3.3.2-6], and after which the message is not delivered (also not as
// a retained event: router/event-store.ts). A WAMP publisher may set the interval alone: it then
// counts from each delivery.

import type { IPublishPacket, UserProperties } from 'mqtt-packet';
import { CLEAR_RETAINED, type Dict } from '../wamp/message.js';

/** The event attribute holding when its Message Expiry Interval passes (ms since 1970). */
export const EXPIRES_AT = '_mqtt_expires_at';

/** The largest Four Byte Integer property (Message Expiry Interval). */
const MAX_U32 = 0xffff_ffff;

/** The longest string or binary value MQTT can encode. */
export const MAX_MQTT_STRING_BYTES = 65_535;

const NUL = '\u0000';

/** MQTT can carry the string: within 65,535 UTF-8 bytes and free of U+0000. */
export function isMqttString(value: unknown): value is string {
  if (typeof value !== 'string' || value.includes(NUL)) return false;
  // A JS string takes at most 3 UTF-8 bytes per UTF-16 unit: only long ones need measuring.
  return value.length * 3 <= MAX_MQTT_STRING_BYTES || Buffer.byteLength(value) <= MAX_MQTT_STRING_BYTES;
}

/**
 * The MQTT 5 PUBLISH properties an event's details ask for (the `_mqtt_*` custom attributes), with
 * every value MQTT cannot encode left out; `dropped` names those for the log. `expired`: its
 * Message Expiry Interval has passed, it must not be delivered [MQTT-3.3.2-5].
 */
export function publishProperties(details: Dict): { properties: NonNullable<IPublishPacket['properties']>; dropped: string[]; expired: boolean } {
  const properties: NonNullable<IPublishPacket['properties']> = {};
  const dropped: string[] = [];
  let expired = false;
  const format = details['_mqtt_payload_format_indicator'];
  if (format !== undefined) {
    // Forwarded unaltered [MQTT-3.3.2-4]: 1 (or true) says the payload is UTF-8 text.
    if (format === 0 || format === 1 || typeof format === 'boolean') properties.payloadFormatIndicator = format === 1 || format === true;
    else dropped.push('payload format indicator');
  }
  const left = expiryLeft(details);
  const interval = details['_mqtt_message_expiry_interval'];
  if (left !== undefined) {
    if (left > 0) properties.messageExpiryInterval = left;
    else expired = true;
  } else if (interval !== undefined) {
    if (Number.isInteger(interval) && (interval as number) >= 0 && (interval as number) <= MAX_U32) properties.messageExpiryInterval = interval as number;
    else dropped.push('message expiry interval');
  }
  const responseTopic = details['_mqtt_response_topic'];
  if (responseTopic !== undefined) {
    // A topic name: no wildcards either [MQTT-3.3.2-14].
    if (isMqttString(responseTopic) && responseTopic !== '' && !/[#+]/.test(responseTopic)) properties.responseTopic = responseTopic;
    else dropped.push('response topic');
  }
  const correlation = details['_mqtt_correlation_data'];
  if (correlation !== undefined) {
    const bytes = correlation instanceof Uint8Array ? Buffer.from(correlation) : typeof correlation === 'string' ? Buffer.from(correlation, 'utf8') : undefined;
    if (bytes && bytes.length <= MAX_MQTT_STRING_BYTES) properties.correlationData = bytes;
    else dropped.push('correlation data');
  }
  const contentType = details['_mqtt_content_type'];
  if (contentType !== undefined) {
    if (isMqttString(contentType)) properties.contentType = contentType;
    else dropped.push('content type');
  }
  const user = details['_mqtt_user_properties'];
  if (user !== undefined) {
    const kept = userProperties(user);
    if (kept) properties.userProperties = kept;
    else dropped.push('user properties');
  }
  return { properties, dropped, expired };
}

/** Seconds left of the event's Message Expiry Interval (at least 1), 0 once it passed, undefined without one. */
export function expiryLeft(details: Dict): number | undefined {
  const expiresAt = details[EXPIRES_AT];
  if (typeof expiresAt !== 'number') return undefined;
  const left = expiresAt - Date.now();
  return left > 0 ? Math.min(MAX_U32, Math.ceil(left / 1000)) : 0;
}

/**
 * MQTT → WAMP: what a message (a PUBLISH, a will) says beyond its topic and QoS, added to the WAMP
 * PUBLISH options: retained (an empty retained message clears the topic's retained event), and its
 * MQTT 5 properties as `_mqtt_*` custom attributes, which subscribers see in their event details.
 */
export function addPublishOptions(options: Dict, retain: boolean, payload: Buffer, properties: IPublishPacket['properties'] | undefined): void {
  if (retain) {
    if (payload.length === 0) options[CLEAR_RETAINED] = true;
    else options['retain'] = true;
  }
  if (properties === undefined) return;
  if (properties.payloadFormatIndicator !== undefined) options['_mqtt_payload_format_indicator'] = properties.payloadFormatIndicator ? 1 : 0;
  const expiry = properties.messageExpiryInterval;
  if (expiry !== undefined) {
    options['_mqtt_message_expiry_interval'] = expiry;
    options[EXPIRES_AT] = Date.now() + expiry * 1000;
  }
  if (properties.responseTopic !== undefined) options['_mqtt_response_topic'] = properties.responseTopic;
  if (properties.correlationData !== undefined) options['_mqtt_correlation_data'] = properties.correlationData;
  if (properties.contentType !== undefined) options['_mqtt_content_type'] = properties.contentType;
  if (properties.userProperties !== undefined) options['_mqtt_user_properties'] = properties.userProperties;
}

/** User properties as MQTT can carry them (string → string or strings), or undefined when not. */
function userProperties(value: unknown): UserProperties | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return undefined;
  const entries = Object.entries(value as Dict);
  if (entries.length === 0) return undefined;
  let bytes = 0;
  for (const [key, v] of entries) {
    if (!isMqttString(key)) return undefined;
    const values = Array.isArray(v) ? v : [v];
    for (const one of values) {
      if (!isMqttString(one)) return undefined;
      bytes += key.length + one.length;
    }
  }
  // All of them share the packet's property length (a variable byte integer, < 256 MB): far
  // beyond any packet the router sends, but a bound nonetheless.
  return bytes <= 16 * MAX_MQTT_STRING_BYTES ? (value as UserProperties) : undefined;
}
