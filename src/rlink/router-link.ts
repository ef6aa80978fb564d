// One router link (a realm's `rlinks` entry): an ordinary session of the local realm (role
// 'trusted', authid 'rlink:<id>') and an ordinary WAMP client of the remote router's realm. Each
// side's subscriptions are mirrored on the other (events republished), each side's registrations
// registered on the other (invocations relayed), as the forward_* flags say, over as many links as
// the topology has. What the link passes on carries `forward_for` (Crossbar's mark) and, for
// events, `_origin`; with these it drops what would loop or arrive twice (forward-marks.ts), and it
// excludes itself from what it publishes, so nothing echoes.
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
import { openRawSocket } from './rawsocket-connection.js';
import { describeConnectError } from './tls-options.js';
import { EventMirror } from './event-mirror.js';
import { mirrorRegistrations } from './registration-mirror.js';
import { EventBuffer, type BufferedEvent } from './event-buffer.js';
import { BufferFile, type SavedSubscription } from './buffer-file.js';
import { SessionScope } from './session-scope.js';
import { ForwardMarks } from './forward-marks.js';
import { log } from '../log.js';

/** Events sent directly and kept until the remote router acknowledges them, at most. */
const MAX_UNACKNOWLEDGED = 4096;
/** Buffered events sent before waiting for the remote router's acknowledgement. */
const FLUSH_BATCH = 256;
/** How long a stopping link waits for the routers' GOODBYE replies. */
const STOP_WAIT_MS = 2000;

export type RLinkState = 'connecting' | 'up' | 'down' | 'stopped';

export class RouterLink {
  state: RLinkState = 'down';
  /** When the state last changed (ms since the epoch). */
  since = Date.now();
  /** How often the link came up. */
  connects = 0;
  /** Why the last connection failed or was lost. */
  lastError: string | null = null;
  /** Where the link connects: its ws(s):// URL, or rs(s)://host:port for RawSocket (Autobahn's schemes). */
  readonly url: string;
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
  private readonly unacknowledged = new Map<number, SentEvent>();
  private sent = 0;
  private readonly buffer: EventBuffer;
  /** What the link adds to what it passes on, and what it never passes on (loops, duplicates). */
  private readonly marks: ForwardMarks;
  private readonly file: BufferFile | undefined;
  private readonly options: RLinkTransportOptions;
  /** How long opening the connection, and then joining the remote realm, may take. */
  private readonly connectTimeout: number;
  private delay: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: Array<(link: RouterLink) => void> = [];

  constructor(readonly localRealm: string, readonly config: RLinkConfig, private readonly router: SessionFactory) {
    const t = config.transport;
    this.url = t.type === 'websocket' ? t.url! : `${t.tls ? 'rss' : 'rs'}://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
    this.options = t.options ?? DEFAULT_RLINK_TRANSPORT_OPTIONS;
    this.delay = this.options.retryInitial;
    this.connectTimeout = this.options.connectTimeout ?? DEFAULT_RLINK_TRANSPORT_OPTIONS.connectTimeout!;
    this.marks = new ForwardMarks(config.id);
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
      const local = this.local ?? await this.joinLocal();
      if ((this.state as RLinkState) === 'stopped') return void local.close();
      const open = transport.type === 'rawsocket' ? openRawSocket : openWebSocket;
      const connectTo = await open(transport, {
        connectTimeoutMs: this.connectTimeout, pingIntervalMs: this.options.autoPingInterval, pingTimeoutMs: this.options.autoPingTimeout,
      });
      // A router that opens the connection but never welcomes the session is given up on too.
      let wire: WireConnection | undefined;
      let gaveUp = false;
      const giveUp = setTimeout(() => {
        gaveUp = true;
        wire?.close();
      }, this.connectTimeout);
      const { ticket, privateKey } = this.config;
      // A client certificate is offered as a log-in too (the hub's `tls` auth), after a ticket or key.
      const authmethods = [...(ticket !== undefined ? ['ticket'] : []), ...(privateKey !== undefined ? ['cryptosign'] : []), ...(transport.tlsOptions?.certificate ? ['tls'] : [])];
      const remote = await ClientSession.connectOver((peer) => (wire = connectTo(peer)), {
        realm: this.config.realm,
        authmethods: authmethods.length ? authmethods : ['anonymous'],
        authid: this.config.authid, authrole: this.config.authrole, ticket, privateKey,
      }).catch((err: Error) => {
        throw gaveUp ? new Error(`the remote router did not welcome the session within ${this.connectTimeout} ms (transport.options.connect_timeout)`) : err;
      }).finally(() => clearTimeout(giveUp));
      this.remote = remote;
      this.marks.joined('remote', remote);
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
      log.info(`rlink '${id}': up (realm '${this.localRealm}' <-> '${this.config.realm}' at ${this.url})`);
    } catch (err) {
      this.lastError = `cannot connect to ${this.url}: ${describeConnectError(err as Error)}`;
      log.warn(`rlink '${id}': down: ${this.lastError}; connecting again in ${this.delay} ms`);
      this.dropRemote();
      this.retry();
    }
  }

  /** The link's session of the local realm: joined once, kept while the remote side comes and goes. */
  private async joinLocal(): Promise<ClientSession> {
    const { id } = this.config;
    const local = await ClientSession.connect(this.router, { realm: this.localRealm, role: 'trusted', authid: `rlink:${id}`, name: `rlink:${id}` });
    this.local = local;
    this.marks.joined('local', local);
    void local.closed.then(() => this.localLost(local));
    if (this.config.forwardRemoteEvents) {
      const mirror = this.remoteSubscriptions = new EventMirror(this.config, this.marks, 'remote', 'forward_remote_events', local,
        (...event) => this.toRemote(...event), () => this.file?.changed());
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
      await new EventMirror(c, this.marks, 'local', 'forward_local_events', remote,
        (topic, args, kwargs, options) => void scope.publish(topic, args, kwargs, options).catch(() => {})).follow(scope);
    }
    await this.remoteSubscriptions?.follow(remote);
    if (c.forwardLocalInvocations) await mirrorRegistrations(c, this.marks, scope, remote, 'remote', 'forward_local_invocations');
    if (c.forwardRemoteInvocations) await mirrorRegistrations(c, this.marks, remote, scope, 'local', 'forward_remote_invocations');
  }

  /** An event for the remote side's subscribers: sent while the link is up, else buffered. */
  private toRemote(topic: string, args: unknown[], kwargs: Dict, options: Dict, details: Dict): void {
    // An event that was already late keeps its original time.
    const at = details['_published_at'];
    const publishedAt = typeof at === 'string' ? at : Date.now();
    if (this.live && this.remote) {
      const n = this.sent++;
      this.unacknowledged.set(n, { topic, args, kwargs, options, publishedAt });
      // A router that never acknowledges (against the spec) must not make the link hold every event:
      // past the bound the oldest are taken as delivered.
      if (this.unacknowledged.size > MAX_UNACKNOWLEDGED) this.unacknowledged.delete(this.unacknowledged.keys().next().value!);
      void this.remote.publish(topic, args, kwargs, { ...options, acknowledge: true }).then(
        () => this.unacknowledged.delete(n),
        // Refused there (say, not authorized): sending it again would not help.
        (err: Error) => { if (err instanceof WampError) this.unacknowledged.delete(n); },
      );
      return;
    }
    this.buffer.add(asBuffered({ topic, args, kwargs, options, publishedAt }));
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
    if (this.state === 'stopped' || !wasUp) return; // connect() retries itself
    this.lastError = `the connection to ${this.url} closed`;
    log.warn(`rlink '${this.config.id}': down: ${this.lastError}; connecting again in ${this.delay} ms`);
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
    for (const event of this.unacknowledged.values()) this.buffer.add(asBuffered(event));
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

/** An event sent directly: its time stays a number until it has to be buffered (most never are). */
type SentEvent = Omit<BufferedEvent, 'publishedAt'> & { publishedAt: string | number };

function asBuffered(e: SentEvent): BufferedEvent {
  return typeof e.publishedAt === 'string' ? e as BufferedEvent : { ...e, publishedAt: new Date(e.publishedAt).toISOString() };
}
