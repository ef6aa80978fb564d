// One router link (a realm's `rlinks` entry): an ordinary session of the local realm (role
// 'trusted', authid 'rlink:<id>') and an ordinary WAMP client of the remote router's realm. Each
// side's subscriptions are mirrored on the other (events republished), each side's registrations
// registered on the other (invocations relayed), as the forward_* flags say. What the link passes
// on carries `forward_for` (Crossbar's mark); what arrives so marked is never passed on again, and
// the link excludes itself from what it publishes, so nothing loops or echoes.
//
// When the remote router is lost (its connection closes, or a WebSocket ping goes unanswered), the
// link connects again after `retry_initial` ms, twice as long each time up to `retry_max`. The local
// session stays joined meanwhile, with its subscriptions for the remote side's subscribers: what
// they receive goes to the store-and-forward buffer, sent (marked `_late`) once the link is back and
// has subscribed and registered again. Registrations mirrored from the remote side go at once, so
// local calls fail with no_such_procedure (or reach another link) rather than wait.

import { DEFAULT_RLINK_BUFFER, DEFAULT_RLINK_TRANSPORT_OPTIONS, type RLinkConfig, type RLinkTransportOptions } from '../config/types.js';
import type { SessionFactory } from '../core-boundary.js';
import { ClientSession, WampError } from '../client/client-session.js';
import type { Dict } from '../wamp/message.js';
import type { WireConnection } from '../client/local-transport.js';
import { openWebSocket } from './websocket-connection.js';
import { EventMirror } from './event-mirror.js';
import { mirrorRegistrations } from './registration-mirror.js';
import { EventBuffer, type BufferedEvent } from './event-buffer.js';
import { BufferFile, type SavedSubscription } from './buffer-file.js';
import { SessionScope } from './session-scope.js';
import { log } from '../log.js';

/** Buffered events sent before waiting for the remote router's acknowledgement. */
const FLUSH_BATCH = 256;
/** How long a stopping link waits for the routers' GOODBYE replies. */
const STOP_WAIT_MS = 2000;
/** How long opening the WebSocket, and then joining the remote realm, may take. */
const CONNECT_TIMEOUT_MS = 10_000;

export type RLinkState = 'connecting' | 'up' | 'down' | 'stopped';

export class RouterLink {
  state: RLinkState = 'down';
  /** When the state last changed (ms since the epoch). */
  since = Date.now();
  /** How often the link came up. */
  connects = 0;
  /** Why the last connection failed or was lost. */
  lastError: string | null = null;
  private local: ClientSession | undefined;
  private remote: ClientSession | undefined;
  /** What the current connection made on the local session. */
  private scope: SessionScope | undefined;
  /** forward_remote_events: the remote side's subscriptions, made on the local session (they outlive a connection). */
  private remoteSubscriptions: EventMirror | undefined;
  /** The remote side's subscriptions as the buffer file had them: made locally at once, so a board restarted while its hub is away goes on buffering. */
  private savedSubscriptions: SavedSubscription[] = [];
  /** Events reach the remote router directly (else the buffer). */
  private live = false;
  /**
   * Events sent directly that the remote router has not acknowledged yet, oldest first. A
   * connection can be dead for a while before the pings notice (the network cut); what went into
   * it then is buffered again when it is dropped.
   */
  private readonly unacknowledged = new Map<number, BufferedEvent>();
  private sent = 0;
  private readonly buffer: EventBuffer;
  private readonly file: BufferFile | undefined;
  private readonly options: RLinkTransportOptions;
  private delay: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: Array<(link: RouterLink) => void> = [];

  constructor(readonly localRealm: string, readonly config: RLinkConfig, private readonly router: SessionFactory) {
    this.options = config.transport.options ?? DEFAULT_RLINK_TRANSPORT_OPTIONS;
    this.delay = this.options.retryInitial;
    const bufferConfig = config.buffer ?? DEFAULT_RLINK_BUFFER;
    this.buffer = new EventBuffer(bufferConfig, () => this.file?.changed());
    if (bufferConfig.file) this.file = new BufferFile(bufferConfig.file, this.buffer, () => this.remoteSubscriptions?.saved() ?? this.savedSubscriptions);
  }

  /** Events waiting for the remote router. */
  get buffered(): number {
    return this.buffer.size;
  }

  /** Events the buffer dropped to stay within its limits. */
  get dropped(): number {
    return this.buffer.dropped;
  }

  /** Calls `listener` after every change of state. */
  onStateChange(listener: (link: RouterLink) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.savedSubscriptions = this.file?.load() ?? [];
    void this.connect();
  }

  async stop(): Promise<void> {
    this.setState('stopped');
    clearTimeout(this.timer);
    // A remote router that no longer answers (the network is gone) must not hold up the shutdown.
    let waited: NodeJS.Timeout | undefined;
    const enough = new Promise<void>((resolve) => (waited = setTimeout(resolve, STOP_WAIT_MS)));
    await Promise.race([Promise.allSettled([this.remote?.close(), this.local?.close()]), enough]);
    clearTimeout(waited);
    await this.file?.close();
  }

  private setState(state: RLinkState): void {
    if (this.state === state || this.state === 'stopped') return;
    this.state = state;
    this.since = Date.now();
    for (const listener of this.listeners) {
      try { listener(this); } catch { /* a listener's bug is its own */ }
    }
  }

  private async connect(): Promise<void> {
    if (this.state === 'stopped') return;
    this.setState('connecting');
    const { id, transport } = this.config;
    try {
      if (transport.type !== 'websocket') throw new Error('rawsocket links are not supported yet');
      const local = this.local ?? await this.joinLocal();
      if ((this.state as RLinkState) === 'stopped') return void local.close();
      const connectTo = await openWebSocket(transport, {
        connectTimeoutMs: CONNECT_TIMEOUT_MS, pingIntervalMs: this.options.autoPingInterval, pingTimeoutMs: this.options.autoPingTimeout,
      });
      // A router that opens the WebSocket but never welcomes the session is given up on too.
      let wire: WireConnection | undefined;
      const giveUp = setTimeout(() => wire?.close(), CONNECT_TIMEOUT_MS);
      const remote = await ClientSession.connectOver((peer) => (wire = connectTo(peer)), {
        realm: this.config.realm,
        authmethods: this.config.ticket !== undefined ? ['ticket'] : ['anonymous'],
        authid: this.config.authid, authrole: this.config.authrole, ticket: this.config.ticket,
      }).finally(() => clearTimeout(giveUp));
      this.remote = remote;
      void remote.closed.then(() => this.lost(remote));
      if ((this.state as RLinkState) === 'stopped') return void remote.close();
      await this.forward(local, remote);
      if (this.remote !== remote) throw new Error('connection lost while subscribing');
      await this.sendBuffered(remote);
      if (this.remote !== remote) throw new Error('connection lost while sending the buffer');
      this.connects++;
      this.lastError = null;
      this.delay = this.options.retryInitial;
      this.setState('up');
      log.info(`rlink '${id}': up (realm '${this.localRealm}' <-> '${this.config.realm}' at ${transport.url})`);
    } catch (err) {
      this.lastError = (err as Error).message;
      log.warn(`rlink '${id}': cannot connect to ${transport.url}: ${this.lastError}; again in ${this.delay} ms`);
      this.dropRemote();
      this.retry();
    }
  }

  /** The link's session of the local realm: joined once, kept while the remote side comes and goes. */
  private async joinLocal(): Promise<ClientSession> {
    const { id } = this.config;
    const local = await ClientSession.connect(this.router, { realm: this.localRealm, role: 'trusted', authid: `rlink:${id}`, name: `rlink:${id}` });
    this.local = local;
    void local.closed.then(() => this.localLost(local));
    if (this.config.forwardRemoteEvents) {
      const mirror = this.remoteSubscriptions = new EventMirror(this.config, local, (...event) => this.toRemote(...event), () => this.file?.changed());
      await mirror.restore(this.savedSubscriptions);
    }
    return local;
  }

  private async forward(local: ClientSession, remote: ClientSession): Promise<void> {
    // Crossbar's meaning: forward_local_* makes the local side's subscriptions (registrations) on
    // the remote router, so remote events reach local subscribers (remote callers reach local
    // callees); forward_remote_* the other way round.
    const c = this.config;
    const scope = this.scope = new SessionScope(local);
    if (c.forwardLocalEvents) {
      await new EventMirror(c, remote, (topic, args, kwargs, options) => void scope.publish(topic, args, kwargs, options).catch(() => {})).follow(scope);
    }
    await this.remoteSubscriptions?.follow(remote);
    if (c.forwardLocalInvocations) await mirrorRegistrations(c, scope, remote);
    if (c.forwardRemoteInvocations) await mirrorRegistrations(c, remote, scope);
  }

  /** An event for the remote side's subscribers: sent while the link is up, else buffered. */
  private toRemote(topic: string, args: unknown[], kwargs: Dict, options: Dict, details: Dict): void {
    // An event that was already late keeps its original time.
    const at = details['_published_at'];
    const event: BufferedEvent = { topic, args, kwargs, options, publishedAt: typeof at === 'string' ? at : new Date().toISOString() };
    if (this.live && this.remote) {
      const n = this.sent++;
      this.unacknowledged.set(n, event);
      void this.remote.publish(topic, args, kwargs, { ...options, acknowledge: true }).then(
        () => this.unacknowledged.delete(n),
        // Refused there (say, not authorized): sending it again would not help.
        (err: Error) => { if (err instanceof WampError) this.unacknowledged.delete(n); },
      );
      return;
    }
    this.buffer.add(event);
  }

  /**
   * The buffer, oldest first and marked late, then every event directly. Sent in batches, each
   * acknowledged before the next, so a big buffer does not pile up unsent on the connection; an
   * event leaves the buffer once its batch was acknowledged (a connection lost in between sends
   * that batch again: at least once, not at most once).
   */
  private async sendBuffered(remote: ClientSession): Promise<void> {
    for (;;) {
      const batch = this.buffer.peek(FLUSH_BATCH);
      if (batch.length === 0) break;
      let acknowledged: Promise<unknown> = Promise.resolve();
      batch.forEach(({ event: e }, i) => {
        const options: Dict = { ...e.options, _late: true, _published_at: e.publishedAt };
        if (i < batch.length - 1) return void remote.publish(e.topic, e.args, e.kwargs, options).catch(() => {});
        options['acknowledge'] = true;
        // An ERROR for this one publication (say, not authorized there) is no reason to stop.
        acknowledged = remote.publish(e.topic, e.args, e.kwargs, options).catch((err: Error) => {
          if (!(err instanceof WampError)) throw err;
        });
      });
      await acknowledged;
      this.buffer.forget(batch.map((b) => b.seq));
    }
    if (this.remote === remote) this.live = true;
  }

  /** The remote side closed: what belonged to that connection goes, and the link connects again. */
  private lost(remote: ClientSession): void {
    if (remote !== this.remote) return;
    const wasUp = this.state === 'up';
    this.dropRemote();
    this.lastError ??= 'connection closed';
    if (this.state === 'stopped' || !wasUp) return; // connect() retries itself
    log.warn(`rlink '${this.config.id}': down; connecting again in ${this.delay} ms`);
    this.retry();
  }

  /** The local session closed (the realm or router goes, or it was killed): start over. */
  private localLost(local: ClientSession): void {
    if (local !== this.local) return;
    this.local = undefined;
    this.savedSubscriptions = this.remoteSubscriptions?.saved() ?? this.savedSubscriptions;
    this.remoteSubscriptions = undefined;
    const wasUp = this.state === 'up';
    this.dropRemote();
    if (this.state === 'stopped' || !wasUp) return;
    this.retry();
  }

  private dropRemote(): void {
    this.live = false;
    // What the remote router never acknowledged may never have got there: at least once, in order.
    for (const event of this.unacknowledged.values()) this.buffer.add(event);
    this.unacknowledged.clear();
    const remote = this.remote;
    this.remote = undefined;
    void this.scope?.clear();
    this.scope = undefined;
    void remote?.close().catch(() => {});
  }

  private retry(): void {
    if (this.state === 'stopped') return;
    this.setState('down');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), this.delay);
    this.delay = Math.min(this.delay * 2, this.options.retryMax);
  }
}
