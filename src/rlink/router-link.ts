// One router link (a realm's `rlinks` entry): an ordinary session of the local realm (role
// 'trusted', authid 'rlink:<id>') and an ordinary WAMP client of the remote router's realm. Each
// side's subscriptions are mirrored on the other (events republished), each side's registrations
// registered on the other (invocations relayed), as the forward_* flags say. What the link passes
// on carries `forward_for` (Crossbar's mark); what arrives so marked is never passed on again, and
// the link excludes itself from what it publishes, so nothing loops or echoes. When either side
// closes, both are closed and the link connects again after 1 s, twice as long each time up to 30 s.
// Its state (and since when, how often it came up, why it last went down) is the meta API's
// junction.rlink.*, told through onStateChange.

import type { RLinkConfig } from '../config/types.js';
import type { SessionFactory } from '../core-boundary.js';
import { ClientSession } from '../client/client-session.js';
import { openWebSocket } from './websocket-connection.js';
import { openRawSocket } from './rawsocket-connection.js';
import { describeConnectError } from './tls-options.js';
import { mirrorEvents } from './event-mirror.js';
import { mirrorRegistrations } from './registration-mirror.js';
import { log } from '../log.js';

/** How long a stopping link waits for the routers' GOODBYE replies. */
const STOP_WAIT_MS = 2000;
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30_000;

export type RLinkState = 'connecting' | 'up' | 'down' | 'stopped';

export class RouterLink {
  state: RLinkState = 'down';
  /** When `state` last changed. */
  since = new Date();
  /** Connections that came up so far. */
  connects = 0;
  lastError: string | undefined;
  /** Events kept for the remote router while the link is down (none kept yet). */
  buffered = 0;
  /** Where the link connects: its ws(s):// URL, or rs(s)://host:port for RawSocket (Autobahn's schemes). */
  readonly url: string;
  private readonly listeners: Array<(link: RouterLink) => void> = [];
  private local: ClientSession | undefined;
  private remote: ClientSession | undefined;
  private delay = FIRST_DELAY_MS;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly localRealm: string, readonly config: RLinkConfig, private readonly router: SessionFactory) {
    const t = config.transport;
    this.url = t.type === 'websocket' ? t.url! : `${t.tls ? 'rss' : 'rs'}://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
  }

  /** Called on every change of state (the meta API's junction.rlink.on_state). */
  onStateChange(listener: (link: RouterLink) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
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
  }

  private async connect(): Promise<void> {
    if (this.state === 'stopped') return;
    this.setState('connecting');
    const { id, transport } = this.config;
    try {
      const local = await ClientSession.connect(this.router, { realm: this.localRealm, role: 'trusted', authid: `rlink:${id}`, name: `rlink:${id}` });
      this.local = local;
      void local.closed.then(() => this.lost(local));
      const open = transport.type === 'rawsocket' ? openRawSocket : openWebSocket;
      const { ticket, privateKey } = this.config;
      // A client certificate is offered as a log-in too (the hub's `tls` auth), after a ticket or key.
      const authmethods = [...(ticket !== undefined ? ['ticket'] : []), ...(privateKey !== undefined ? ['cryptosign'] : []), ...(transport.tlsOptions?.certificate ? ['tls'] : [])];
      const remote = await ClientSession.connectOver(await open(transport, 10_000), {
        realm: this.config.realm,
        authmethods: authmethods.length ? authmethods : ['anonymous'],
        authid: this.config.authid, authrole: this.config.authrole, ticket, privateKey,
      });
      this.remote = remote;
      void remote.closed.then(() => this.lost(remote));
      if ((this.state as RLinkState) === 'stopped') return void remote.close();
      await this.forward(local, remote);
      this.connects++;
      this.lastError = undefined;
      this.setState('up');
      this.delay = FIRST_DELAY_MS;
      log.info(`rlink '${id}': up (realm '${this.localRealm}' <-> '${this.config.realm}' at ${this.url})`);
    } catch (err) {
      this.lastError = `cannot connect to ${this.url}: ${describeConnectError(err as Error)}`;
      log.warn(`rlink '${id}': down: ${this.lastError}; connecting again in ${this.delay} ms`);
      await Promise.allSettled([this.remote?.close(), this.local?.close()]);
      this.retry();
    }
  }

  private async forward(local: ClientSession, remote: ClientSession): Promise<void> {
    // Crossbar's meaning: forward_local_* makes the local side's subscriptions (registrations) on
    // the remote router, so remote events reach local subscribers (remote callers reach local
    // callees); forward_remote_* the other way round.
    const c = this.config;
    if (c.forwardLocalEvents) await mirrorEvents(c, local, remote);
    if (c.forwardRemoteEvents) await mirrorEvents(c, remote, local);
    if (c.forwardLocalInvocations) await mirrorRegistrations(c, local, remote);
    if (c.forwardRemoteInvocations) await mirrorRegistrations(c, remote, local);
  }

  /** One side closed: close the other and connect again. */
  private lost(session: ClientSession): void {
    if (session !== this.local && session !== this.remote) return;
    const wasUp = this.state === 'up';
    const what = session === this.remote ? `the connection to ${this.url} closed` : 'the local session closed';
    const other = session === this.local ? this.remote : this.local;
    this.local = this.remote = undefined;
    void other?.close().catch(() => {});
    if (this.state === 'stopped' || !wasUp) return;
    this.lastError = what;
    log.warn(`rlink '${this.config.id}': down: ${this.lastError}; connecting again in ${this.delay} ms`);
    this.retry();
  }

  private retry(): void {
    if (this.state === 'stopped') return;
    this.setState('down');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), this.delay);
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
  }

  private setState(state: RLinkState): void {
    if (state === this.state) return;
    this.state = state;
    this.since = new Date();
    for (const listener of this.listeners) listener(this);
  }
}
