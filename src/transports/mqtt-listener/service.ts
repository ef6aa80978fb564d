// The MQTT side of a listener: accepts connections, handles CONNECT (authentication through a WAMP
// HELLO, client ids, persistent sessions, takeover), and keeps the sessions by client id.

import { createHash, randomBytes } from 'node:crypto';
import type { IConnectPacket, Packet } from 'mqtt-packet';
import type { MqttServiceConfig } from '../../config/types.js';
import type { SessionFactory } from '../../core-boundary.js';
import { MqttMapping } from '../../mqtt/mapping.js';
import { MqttRpcGateway } from '../../mqtt/rpc-gateway.js';
import { PayloadCodecs } from '../../mqtt/payload-codec.js';
import { MqttConnection, type ByteStream, type ConnectionContext, type ConnectionOwner } from './connection.js';
import { IncomingBudget } from '../incoming-budget.js';
import { SendQueueTotal } from '../send-queue-total.js';
import { MqttSession, type AttachOptions, type SessionRegistry } from './mqtt-session.js';
import { SharedGroups } from './shared-groups.js';
import { MqttTraffic, SysTopics, type BrokerFigures } from './sys-topics.js';
import { malformedString, willViolation } from './checks.js';
import { REASON, V3_CONNACK } from './reason-codes.js';
import { SessionFile, type SavedSession } from './session-file.js';
import { log } from '../../log.js';

/**
 * Persistent sessions kept without their client, per listener: past it (or past
 * `max_offline_bytes_total` of messages waiting in them) the one offline longest ends, so clients
 * inventing client ids cannot grow the router's memory without bound.
 */
export const MAX_OFFLINE_SESSIONS = 10_000;

/** MQTT 5 session expiry "never" (0xFFFFFFFF seconds). */
const NEVER = 0xffffffff;

export class MqttService implements ConnectionOwner, SessionRegistry {
  readonly mapping: MqttMapping;
  /** Shared subscriptions (`$share/<group>/<filter>`) of this listener's clients. */
  readonly groups = new SharedGroups();
  private readonly sessions = new Map<string, MqttSession>();
  /** Persistent sessions waiting for their client, the longest-waiting first. */
  private readonly offline = new Set<MqttSession>();
  /** Bytes the sessions in `offline` hold for their clients (their delivery queues). */
  private offlineBytes = 0;
  private boundingSoon = false;
  private gateway: MqttRpcGateway | undefined;
  /** Packets and bytes of every connection, for the `$SYS/` tree. */
  private readonly traffic = new MqttTraffic();
  /** The listener's `$SYS/` topics (sys-topics.ts). */
  readonly sys: SysTopics;
  /** What its connections share (limits, counters): one object, not copies in each. */
  private readonly connections: ConnectionContext;
  /** The procedures of `dynamic` payload rules (mqtt/payload-codec.ts), when there are any. */
  readonly codecs: PayloadCodecs | undefined;
  /** `session_file`: the persistent sessions, kept across restarts. */
  private readonly file: SessionFile | undefined;
  /** Until the saved sessions are back, CONNECTs wait (a client must find its session). */
  private restored: Promise<void> = Promise.resolve();
  private restoredDone: (() => void) | undefined;

  /** `incoming`: unfinished packets of all the node's connections (max_incoming_bytes). */
  constructor(readonly config: MqttServiceConfig, readonly factory: SessionFactory, private readonly listenerId: string, readonly incoming = new IncomingBudget(), private readonly sendQueues?: SendQueueTotal) {
    this.mapping = new MqttMapping({ topicPrefix: config.topicPrefix, payload: config.payload });
    this.codecs = this.mapping.hasDynamic ? new PayloadCodecs(factory, config.realm) : undefined;
    this.sys = new SysTopics(config.sysInterval, this.traffic, () => this.figures());
    this.connections = {
      maxPacketSize: config.maxMessageSize, connectTimeoutMs: config.openHandshakeTimeout, sendQueue: config,
      maxUnauthenticatedBytes: config.maxUnauthenticatedBytes, incoming, sendQueues: sendQueues ?? new SendQueueTotal(), traffic: this.traffic,
    };
    if (config.sessionFile) {
      this.file = new SessionFile(config.sessionFile, (shutdown) => this.savedSessions(shutdown));
      this.restored = new Promise((resolve) => (this.restoredDone = resolve));
    }
  }

  /** A client's connection: a TCP/TLS socket, or a WebSocket's bytes (MQTT over WebSocket, websocket-path.ts). */
  accept(socket: ByteStream): MqttConnection {
    return new MqttConnection(socket, this, this.connections);
  }

  /** The request/response gateway MQTT sessions hand requests to (with `rpc.from_mqtt` rules). */
  get rpc(): MqttRpcGateway | undefined {
    return this.config.rpc && this.config.rpc.fromMqtt.length > 0 ? this.gateway : undefined;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** The session of a client id, connected or waiting for its client. */
  session(clientId: string): MqttSession | undefined {
    return this.sessions.get(clientId);
  }

  /** Starts the MQTT 5 request/response gateway when the config has `rpc` rules. */
  async start(): Promise<void> {
    this.sys.start();
    await this.restore();
    if (!this.config.rpc) return;
    this.gateway = new MqttRpcGateway(this.config.rpc, this.config.realm, this.mapping, this.listenerId);
    await this.gateway.start(this.factory);
  }

  /** Ends every session (router shutdown), once the session file has them as they are. */
  stop(): void {
    this.file?.close();
    this.sys.stop();
    void this.gateway?.stop();
    void this.codecs?.stop();
    for (const session of [...this.sessions.values()]) session.end();
  }

  // ---- the session file ----

  /** The saved sessions whose deadline has not passed wait for their clients again. */
  private async restore(): Promise<void> {
    if (!this.file) return;
    try {
      await this.restoreFrom(this.file);
    } finally {
      this.restoredDone?.();
    }
  }

  private async restoreFrom(file: SessionFile): Promise<void> {
    const now = Date.now();
    const saved = file.load().filter((s) => (s.deadline === undefined || s.deadline > now) && !this.sessions.has(s.clientId));
    await Promise.all(saved.map(async (s) => {
      const session = new MqttSession(this, s.clientId, s.identity);
      this.sessions.set(s.clientId, session);
      if (!(await session.restore(s)) && this.sessions.get(s.clientId) === session) this.sessions.delete(s.clientId);
    }));
    if (saved.length > 0) log.info(`mqtt ${this.listenerId}: ${this.offline.size} persistent session(s) back from ${this.config.sessionFile}`);
    file.changed(); // expired ones leave the file
  }

  private savedSessions(shutdown: boolean): SavedSession[] {
    const now = Date.now();
    const out: SavedSession[] = [];
    for (const session of this.sessions.values()) {
      const saved = session.saved(now, shutdown);
      if (saved) out.push(saved);
    }
    return out;
  }

  changed(): void {
    this.file?.changed();
  }

  shuttingDown(): void {
    this.file?.close();
  }

  // ---- SessionRegistry ----

  ended(session: MqttSession): void {
    this.sys.forget(session);
    this.backOnline(session);
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
  }

  wentOffline(session: MqttSession): void {
    this.backOnline(session);
    this.offline.add(session);
    this.offlineBytes += session.queuedBytes;
    if (this.offline.size > MAX_OFFLINE_SESSIONS) {
      const oldest = this.offline.values().next().value!;
      log.info(`mqtt ${this.listenerId}: persistent session of '${oldest.clientId}' ended: more than ${MAX_OFFLINE_SESSIONS} sessions wait for their clients`);
      oldest.end();
    }
    this.boundOfflineBytes();
  }

  offlineBytesChanged(session: MqttSession, bytes: number): void {
    if (!this.offline.has(session)) return;
    this.offlineBytes += bytes;
    if (bytes > 0 && this.offlineBytes > this.config.maxOfflineBytesTotal && !this.boundingSoon) {
      // Called while the broker delivers a publication: sessions end once that delivery is done.
      this.boundingSoon = true;
      queueMicrotask(() => {
        this.boundingSoon = false;
        this.boundOfflineBytes();
      });
    }
  }

  /** Bytes held by sessions waiting for their clients (all of this listener's). */
  get offlineQueuedBytes(): number {
    return this.offlineBytes;
  }

  /** The `$SYS/` tree's figures, counted when it refreshes (every `sys_interval`), not on each packet. */
  private figures(): BrokerFigures {
    let connected = 0;
    let subscriptions = this.sys.filterCount;
    for (const session of this.sessions.values()) {
      if (session.connected) connected++;
      subscriptions += session.wamp.subscriptionsIfAny?.filterCount ?? 0;
    }
    return { connected, disconnected: this.offline.size, subscriptions, retained: this.factory.retainedCount?.(this.config.realm) };
  }

  /** The session's client is back, or it ended: it no longer counts as waiting. */
  private backOnline(session: MqttSession): void {
    if (this.offline.delete(session)) this.offlineBytes -= session.queuedBytes;
  }

  /** Past `max_offline_bytes_total`, the sessions offline longest end until the rest fit. */
  private boundOfflineBytes(): void {
    const limit = this.config.maxOfflineBytesTotal;
    while (this.offlineBytes > limit && this.offline.size > 0) {
      const oldest = this.offline.values().next().value!;
      log.info(`mqtt ${this.listenerId}: persistent session of '${oldest.clientId}' ended: sessions waiting for their clients hold more than max_offline_bytes_total (${limit} bytes)`);
      oldest.end();
    }
  }

  // ---- ConnectionOwner, until CONNECT is accepted ----

  packet(connection: MqttConnection, packet: Packet): void {
    if (packet.cmd !== 'connect') return connection.fail(`first packet was ${packet.cmd}, not CONNECT`);
    // Clients may send on right after CONNECT; those packets wait for the session.
    const early = new EarlyPackets();
    connection.adopt(early);
    void this.connect(connection, packet, early);
  }

  closed(): void {}

  private async connect(connection: MqttConnection, connect: IConnectPacket, early: EarlyPackets): Promise<void> {
    const v5 = connection.version === 5;
    const refuse = (v5Code: number, v3Code: number, why: string) => {
      log.info(`mqtt ${connection.peer}: CONNECT refused (${why})`);
      connection.send(v5 ? { cmd: 'connack', reasonCode: v5Code, sessionPresent: false } : { cmd: 'connack', returnCode: v3Code, sessionPresent: false });
      connection.close();
    };
    // MQTT 3 has no CONNACK code for these: the connection just closes.
    const malformed = malformedString(connect);
    const willProblem = willViolation(connect);
    const unacceptable = malformed ? { code: REASON.malformedPacket, why: `U+0000 in the ${malformed}` }
      : (connect.length ?? 0) > this.config.maxMessageSize ? { code: REASON.packetTooLarge, why: `a CONNECT of ${connect.length} bytes` }
        : willProblem ? { code: REASON.protocolError, why: willProblem } : undefined;
    if (unacceptable) return v5 ? refuse(unacceptable.code, 0, unacceptable.why) : connection.fail(`CONNECT refused: ${unacceptable.why}`);
    if (v5 && connect.properties?.authenticationMethod !== undefined) return refuse(REASON.badAuthenticationMethod, V3_CONNACK.notAuthorized, 'enhanced authentication is not supported');
    const cleanStart = connect.clean !== false;
    // MQTT 3 clean=false asks for the longest expiry the router allows; MQTT 5 names one (0: none).
    const askedExpiry = v5 ? connect.properties?.sessionExpiryInterval ?? 0 : cleanStart ? 0 : NEVER;
    const expiryMs = this.sessionExpiryMs(askedExpiry);
    const persistent = expiryMs > 0;
    let clientId = connect.clientId;
    let assignedId: string | undefined;
    if (clientId === '') {
      // MQTT 3.1.1: a persistent session needs a client id of its own; otherwise one is made up.
      if (!v5 && !cleanStart) return refuse(REASON.clientIdNotValid, V3_CONNACK.identifierRejected, 'persistent session without a client id');
      clientId = assignedId = `junction-${randomBytes(9).toString('base64url')}`;
    }
    const session = new MqttSession(this, clientId);
    const result = await session.open(connect, connection);
    await this.restored;
    if (!connection.open) return session.end();
    if (!result.ok) {
      session.end();
      const badCredentials = connect.username !== undefined && (result.reason === 'wamp.error.not_authorized' || result.reason === 'wamp.error.authentication_failed');
      if (badCredentials) return refuse(REASON.badUserNameOrPassword, V3_CONNACK.badUserNameOrPassword, `bad username or password for '${connect.username}'`);
      return refuse(REASON.notAuthorized, V3_CONNACK.notAuthorized, `${result.reason}: ${result.message}`);
    }
    const existing = this.sessions.get(clientId);
    if (existing && existing.wamp.owner !== session.wamp.owner) {
      // A client id belongs to the identity that made it: another user cannot end its session.
      session.end();
      return refuse(REASON.clientIdNotValid, V3_CONNACK.identifierRejected, `client id '${clientId.slice(0, 200)}' belongs to another identity than '${session.wamp.authid.slice(0, 200)}'`);
    }
    if (existing) {
      if (!cleanStart && existing.persistent) {
        // The client is back: the new WAMP session only proved who it is.
        session.end();
        existing.takenOver();
        this.backOnline(existing);
        existing.attach(connection, connect, this.attachOptions(connect, v5, askedExpiry, true));
        early.replay(connection, existing);
        return;
      }
      existing.takenOver();
      existing.end();
    }
    this.sessions.set(clientId, session);
    const attach = this.attachOptions(connect, v5, askedExpiry, false);
    if (v5 && assignedId) attach.assignedId = assignedId;
    session.attach(connection, connect, attach);
    early.replay(connection, session);
    if (log.writes('debug')) log.debug(`mqtt ${connection.peer}: client '${clientId}' connected to ${this.listenerId} as '${session.wamp.authid}' (${session.wamp.authrole})${persistent ? ', persistent' : ''}`);
  }

  /** How long a session outlives its connection (0: not at all): the client's wish in seconds, at most `session_expiry`. */
  sessionExpiryMs(seconds: number): number {
    const max = this.config.sessionExpiry;
    return seconds === NEVER ? max : Math.min(max, seconds * 1000);
  }

  /** The session's terms for this connection, and what its CONNACK tells an MQTT 5 client of them. */
  private attachOptions(connect: IConnectPacket, v5: boolean, askedExpiry: number, present: boolean): AttachOptions {
    const expiryMs = this.sessionExpiryMs(askedExpiry);
    const options: AttachOptions = { persistent: expiryMs > 0, expiryMs, present, keepAlive: this.keepAliveOf(connect.keepalive ?? 0) };
    if (!v5) return options;
    options.sessionExpiry = askedExpiry;
    // A client asking for an expiry hears the one it got (less when `session_expiry` is shorter, 0 when it is 0).
    if (askedExpiry > 0) options.grantedExpiry = Math.floor(expiryMs / 1000);
    // [MQTT-3.2.2-21]: the client uses the Server Keep Alive instead of its own.
    if (options.keepAlive !== (connect.keepalive ?? 0)) options.serverKeepAlive = options.keepAlive;
    if (connect.properties?.requestResponseInformation === true) options.responseInformation = this.responseInformation(connect.clientId);
    return options;
  }

  /** `max_keepalive`: a client asking for none (0) or for more is held to it. */
  private keepAliveOf(asked: number): number {
    const max = this.config.maxKeepalive;
    return max > 0 && (asked === 0 || asked > max) ? max : asked;
  }

  /**
   * Response Information, on an MQTT 5 client's request: a topic prefix of its own for the response
   * topics of its requests. Under `junction/rpc/`, where clients may publish (they answer the rpc
   * gateway there), and which MQTT wildcard filters of other clients do not match. One level per
   * client id, hashed so any client id gives a valid level, and the same one on every connection, so
   * a persistent session's subscription to it stays valid. Not a secret: who may use it is up to
   * the roles' permissions on `junction.rpc.`.
   */
  private responseInformation(clientId: string): string {
    const level = createHash('sha256').update(this.listenerId).update('\0').update(clientId).digest('hex').slice(0, 24);
    return `junction/rpc/client/${level}`;
  }
}

/** Owns a connection while its CONNECT is being authenticated, keeping what the client sends meanwhile. */
class EarlyPackets implements ConnectionOwner {
  private readonly packets: Packet[] = [];

  packet(connection: MqttConnection, packet: Packet): void {
    if (packet.cmd === 'connect') return connection.fail('a second CONNECT');
    if (this.packets.length >= 100) return connection.fail('too many packets before CONNACK');
    this.packets.push(packet);
  }

  closed(): void {}

  replay(connection: MqttConnection, owner: ConnectionOwner): void {
    for (const packet of this.packets.splice(0)) owner.packet(connection, packet);
  }
}
