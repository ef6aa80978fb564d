// WAMP message type codes and the decoded-message shape the core passes around.
// Messages stay plain arrays end to end: decoded once by a transport, routed by reference.

export type WampMessage = unknown[];
export type Dict = Record<string, unknown>;

export const HELLO = 1;
export const WELCOME = 2;
export const ABORT = 3;
export const CHALLENGE = 4;
export const AUTHENTICATE = 5;
export const GOODBYE = 6;
export const ERROR = 8;
export const PUBLISH = 16;
export const PUBLISHED = 17;
export const SUBSCRIBE = 32;
export const SUBSCRIBED = 33;
export const UNSUBSCRIBE = 34;
export const UNSUBSCRIBED = 35;
export const EVENT = 36;
export const CALL = 48;
export const CANCEL = 49;
export const RESULT = 50;
export const REGISTER = 64;
export const REGISTERED = 65;
export const UNREGISTER = 66;
export const UNREGISTERED = 67;
export const INVOCATION = 68;
export const INTERRUPT = 69;
export const YIELD = 70;

export const MESSAGE_NAMES: Readonly<Record<number, string>> = {
  1: 'HELLO', 2: 'WELCOME', 3: 'ABORT', 4: 'CHALLENGE', 5: 'AUTHENTICATE', 6: 'GOODBYE', 8: 'ERROR',
  16: 'PUBLISH', 17: 'PUBLISHED', 32: 'SUBSCRIBE', 33: 'SUBSCRIBED', 34: 'UNSUBSCRIBE',
  35: 'UNSUBSCRIBED', 36: 'EVENT', 48: 'CALL', 49: 'CANCEL', 50: 'RESULT', 64: 'REGISTER',
  65: 'REGISTERED', 66: 'UNREGISTER', 67: 'UNREGISTERED', 68: 'INVOCATION', 69: 'INTERRUPT',
  70: 'YIELD',
};

/**
 * PUBLISH option (Junction's, a custom attribute in the spec's `_name` form): forget the topic's
 * retained event. MQTT's empty retained message maps to it.
 */
export const CLEAR_RETAINED = '_clear_retained';
