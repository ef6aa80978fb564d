// What a client may send a router, as types: each message a labelled tuple over the same decoded
// array (no copy), and the options whose types validation checks. validateClientMessage
// (validate.ts) returns a ClientMessage, so the router reads `msg[2].timeout` typed instead of
// casting `msg[2] as Dict`. Unknown option keys pass unread, as the spec requires.
//
// A payload is `args?, kwargs?`; with payload transparency (enc_algo / ppt_scheme) it is one opaque
// item in the args place (binary or a string), which the router passes on unread.

import type { Dict } from './message.js';
import type * as M from './message.js';
import type { MatchPolicy } from './uri.js';

export type InvokePolicy = 'single' | 'first' | 'last' | 'roundrobin' | 'random';
export type CancelMode = 'skip' | 'kill' | 'killnowait';

/** Options of PUBLISH (black/white lists name session IDs, authids or authroles). */
export interface PublishOptions extends Dict {
  acknowledge?: boolean;
  exclude_me?: boolean;
  disclose_me?: boolean;
  retain?: boolean;
  exclude?: number[];
  eligible?: number[];
  exclude_authid?: string[];
  exclude_authrole?: string[];
  eligible_authid?: string[];
  eligible_authrole?: string[];
}

export interface SubscribeOptions extends Dict {
  match?: MatchPolicy;
  get_retained?: boolean;
}

export interface CallOptions extends Dict {
  receive_progress?: boolean;
  progress?: boolean;
  disclose_me?: boolean;
  /** ms, 0 = none. */
  timeout?: number;
}

export interface RegisterOptions extends Dict {
  match?: MatchPolicy;
  invoke?: InvokePolicy;
  concurrency?: number;
  disclose_caller?: boolean;
  force_reregister?: boolean;
  forward_timeout?: boolean;
}

export interface CancelOptions extends Dict {
  mode?: CancelMode;
}

export interface YieldOptions extends Dict {
  progress?: boolean;
}

export type HelloMessage = [type: typeof M.HELLO, realm: string | null, details: Dict];
export type AuthenticateMessage = [type: typeof M.AUTHENTICATE, signature: string, extra: Dict];
export type AbortMessage = [type: typeof M.ABORT, details: Dict, reason: string, args?: unknown, kwargs?: unknown];
export type GoodbyeMessage = [type: typeof M.GOODBYE, details: Dict, reason: string];
/** The only ERROR a client sends: a callee's answer to an INVOCATION. */
export type InvocationErrorMessage = [
  type: typeof M.ERROR, requestType: typeof M.INVOCATION, invocation: number, details: Dict, error: string, args?: unknown, kwargs?: unknown,
];
export type PublishMessage = [type: typeof M.PUBLISH, request: number, options: PublishOptions, topic: string, args?: unknown, kwargs?: unknown];
export type SubscribeMessage = [type: typeof M.SUBSCRIBE, request: number, options: SubscribeOptions, topic: string];
export type UnsubscribeMessage = [type: typeof M.UNSUBSCRIBE, request: number, subscription: number];
export type CallMessage = [type: typeof M.CALL, request: number, options: CallOptions, procedure: string, args?: unknown, kwargs?: unknown];
export type CancelMessage = [type: typeof M.CANCEL, request: number, options: CancelOptions];
export type RegisterMessage = [type: typeof M.REGISTER, request: number, options: RegisterOptions, procedure: string];
export type UnregisterMessage = [type: typeof M.UNREGISTER, request: number, registration: number];
export type YieldMessage = [type: typeof M.YIELD, invocation: number, options: YieldOptions, args?: unknown, kwargs?: unknown];

export type ClientMessage =
  | HelloMessage | AuthenticateMessage | AbortMessage | GoodbyeMessage | InvocationErrorMessage
  | PublishMessage | SubscribeMessage | UnsubscribeMessage
  | CallMessage | CancelMessage | RegisterMessage | UnregisterMessage | YieldMessage;

/** The four requests a role's permissions decide (authorization's subject). */
export type ActionMessage = PublishMessage | SubscribeMessage | CallMessage | RegisterMessage;
