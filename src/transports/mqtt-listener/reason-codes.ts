// The MQTT 5 reason codes the listener sends, in CONNACK, PUBACK/PUBREC, SUBACK, UNSUBACK and
// DISCONNECT. MQTT 3 has fewer: its CONNACK has a few return codes (V3_CONNACK), its SUBACK knows
// only a granted QoS and failure 0x80 (v3Suback), and its other refusals just close the connection.

export const REASON = {
  success: 0x00,
  noSubscriptionExisted: 0x11,
  unspecified: 0x80,
  malformedPacket: 0x81,
  protocolError: 0x82,
  clientIdNotValid: 0x85,
  badUserNameOrPassword: 0x86,
  notAuthorized: 0x87,
  serverShuttingDown: 0x8b,
  keepAliveTimeout: 0x8d,
  badAuthenticationMethod: 0x8c,
  sessionTakenOver: 0x8e,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  topicAliasInvalid: 0x94,
  packetTooLarge: 0x95,
  quotaExceeded: 0x97,
  adminAction: 0x98,
} as const;

/** MQTT 3.1.1 CONNACK return codes for a refused CONNECT. */
export const V3_CONNACK = {
  identifierRejected: 2,
  badUserNameOrPassword: 4,
  notAuthorized: 5,
} as const;

/** MQTT 3 SUBACK knows only granted QoS 0–2 and failure 0x80. */
export function v3Suback(code: number): number {
  return code <= 2 ? code : 0x80;
}

/** A WAMP error URI as an MQTT 5 reason code. */
export function reasonOf(error: string): number {
  return error === 'wamp.error.not_authorized' ? REASON.notAuthorized : error === 'wamp.error.invalid_uri' ? REASON.topicNameInvalid : REASON.unspecified;
}
