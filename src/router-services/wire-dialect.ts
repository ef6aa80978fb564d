// The meta API's answers where Crossbar and the WAMP spec differ (a realm's `options.wire`).
// 'crossbar' (the default) sends what Crossbar sends, so that clients written against Crossbar run
// unchanged; 'spec' sends what the spec's text says. The README's table "Where Crossbar and the WAMP
// spec differ, and what Junction does" lists every difference; this file holds the meta API's.

import type { Dict } from '../wamp/message.js';
import type { WireDialect } from '../config/types.js';
import { CloseReason } from '../wamp/errors.js';
import type { Session } from '../router/session.js';

/** Crossbar's names of a transport's kind (Autobahn's TransportDetails.channel_type, channel_framing). */
function channelType(peer: string): string | null {
  if (peer.startsWith('tcp')) return 'tcp';
  if (peer.startsWith('unix')) return 'unix';
  if (peer.startsWith('local:')) return 'function';
  return null;
}
const FRAMING: Record<string, string> = { websocket: 'websocket', rawsocket: 'rawsocket', local: 'native', mqtt: 'mqtt', longpoll: 'longpoll' };

/**
 * Crossbar's SessionDetails (Autobahn's SessionDetails.marshal()): what it publishes in
 * wamp.session.on_join and returns from wamp.session.get, with the transport as Autobahn's
 * TransportDetails. Keys Junction has no value for are null, as Crossbar sends them when unknown.
 */
function crossbarSessionDetails(s: Session, realm: string): Dict {
  const info = s.transport.info;
  return {
    realm,
    session: s.id,
    authid: s.authid,
    authrole: s.authrole,
    authmethod: s.authmethod,
    authprovider: s.authprovider,
    authextra: s.authextra ?? {},
    serializer: info.serializer,
    transport: {
      channel_type: channelType(info.peer),
      channel_framing: FRAMING[info.type] ?? null,
      channel_serializer: info.serializer,
      own: null,
      peer: info.peer,
      is_server: true,
      own_pid: process.pid,
      own_tid: process.pid,
      own_fd: -1,
      is_secure: info.tls === true,
      channel_id: {},
      peer_cert: null,
      websocket_protocol: info.protocol ?? null,
      websocket_extensions_in_use: null,
      http_headers_received: null,
      http_headers_sent: null,
      http_cbtid: null,
    },
    resumed: false,
    resumable: false,
    resume_token: null,
  };
}

/** Junction's own shape (before `options.wire`), kept for the spec dialect and junction.session.get. */
export function junctionSessionDetails(s: Session): Dict {
  const info = s.transport.info;
  return {
    session: s.id,
    authid: s.authid,
    authrole: s.authrole,
    authmethod: s.authmethod,
    authprovider: s.authprovider,
    transport: { type: info.type, serializer: info.serializer, peer: info.peer, protocol: info.protocol ?? null },
  };
}

/** wamp.session.on_join's argument and wamp.session.get's result: the same dict in both dialects. */
export function sessionDetails(dialect: WireDialect, s: Session, realm: string): Dict {
  return dialect === 'spec' ? junctionSessionDetails(s) : crossbarSessionDetails(s, realm);
}

/** wamp.session.on_leave's arguments: Crossbar sends the session ID only; the spec adds authid and authrole. */
export function onLeaveArgs(dialect: WireDialect, s: Session): unknown[] {
  return dialect === 'spec' ? [s.id, s.authid, s.authrole] : [s.id];
}

/** wamp.session.kill_by_authrole's result: Crossbar returns the killed IDs (as kill_by_authid does), the spec their count. */
export function killByAuthroleResult(dialect: WireDialect, killed: number[]): number[] | number {
  return dialect === 'spec' ? killed.length : killed;
}

/** GOODBYE reason of a kill that names none: Crossbar's session.leave() default, or the spec's wamp.close.killed. */
export function defaultKillReason(dialect: WireDialect): string {
  return dialect === 'spec' ? CloseReason.killed : CloseReason.normal;
}
