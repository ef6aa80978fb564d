// One router link (a realm's `rlinks` entry): an ordinary session of the local realm (role
// 'trusted', authid 'rlink:<id>') and an ordinary WAMP client of the remote router's realm. Each
// side's subscriptions are mirrored on the other (events republished), each side's registrations
// registered on the other (invocations relayed), as the forward_* flags say, over as many links as
// the topology has. What the link passes on carries `forward_for` (Crossbar's mark) and, for
// events, `_origin`; with these it drops what would loop or arrive twice (forward-marks.ts), and it
// excludes itself from what it publishes, so nothing echoes. When either side
// closes, both are closed and the link connects again after 1 s, twice as long each time up to 30 s.

import type { RLinkConfig } from '../config/types.js';
import type { SessionFactory } from '../core-boundary.js';
import { ClientSession } from '../client/client-session.js';
import { openWebSocket } from './websocket-connection.js';
import { mirrorEvents } from './event-mirror.js';
import { mirrorRegistrations } from './registration-mirror.js';
import { ForwardMarks } from './forward-marks.js';
import { log } from '../log.js';

/** How long a stopping link waits for the routers' GOODBYE replies. */
const STOP_WAIT_MS = 2000;
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30_000;

export type RLinkState = 'connecting' | 'up' | 'down' | 'stopped';

export class RouterLink {
  state: RLinkState = 'down';
  private local: ClientSession | undefined;
  private remote: ClientSession | undefined;
  private delay = FIRST_DELAY_MS;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly localRealm: string, readonly config: RLinkConfig, private readonly router: SessionFactory) {}

  start(): void {
    void this.connect();
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    clearTimeout(this.timer);
    // A remote router that no longer answers (the network is gone) must not hold up the shutdown.
    let waited: NodeJS.Timeout | undefined;
    const enough = new Promise<void>((resolve) => (waited = setTimeout(resolve, STOP_WAIT_MS)));
    await Promise.race([Promise.allSettled([this.remote?.close(), this.local?.close()]), enough]);
    clearTimeout(waited);
  }

  private async connect(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'connecting';
    const { id, transport } = this.config;
    try {
      if (transport.type !== 'websocket') throw new Error('rawsocket links are not supported yet');
      const local = await ClientSession.connect(this.router, { realm: this.localRealm, role: 'trusted', authid: `rlink:${id}`, name: `rlink:${id}` });
      this.local = local;
      void local.closed.then(() => this.lost(local));
      const remote = await ClientSession.connectOver(await openWebSocket(transport, 10_000), {
        realm: this.config.realm,
        authmethods: this.config.ticket !== undefined ? ['ticket'] : ['anonymous'],
        authid: this.config.authid, authrole: this.config.authrole, ticket: this.config.ticket,
      });
      this.remote = remote;
      void remote.closed.then(() => this.lost(remote));
      if ((this.state as RLinkState) === 'stopped') return void remote.close();
      await this.forward(local, remote);
      this.state = 'up';
      this.delay = FIRST_DELAY_MS;
      log.info(`rlink '${id}': up (realm '${this.localRealm}' <-> '${this.config.realm}' at ${transport.url})`);
    } catch (err) {
      log.warn(`rlink '${id}': cannot connect to ${transport.url}: ${(err as Error).message}; again in ${this.delay} ms`);
      await Promise.allSettled([this.remote?.close(), this.local?.close()]);
      this.retry();
    }
  }

  private async forward(local: ClientSession, remote: ClientSession): Promise<void> {
    // Crossbar's meaning: forward_local_* makes the local side's subscriptions (registrations) on
    // the remote router, so remote events reach local subscribers (remote callers reach local
    // callees); forward_remote_* the other way round.
    const c = this.config;
    const marks = new ForwardMarks(c.id, local, remote);
    if (c.forwardLocalEvents) await mirrorEvents(c, marks, local, remote, 'forward_local_events');
    if (c.forwardRemoteEvents) await mirrorEvents(c, marks, remote, local, 'forward_remote_events');
    if (c.forwardLocalInvocations) await mirrorRegistrations(c, marks, local, remote, 'forward_local_invocations');
    if (c.forwardRemoteInvocations) await mirrorRegistrations(c, marks, remote, local, 'forward_remote_invocations');
  }

  /** One side closed: close the other and connect again. */
  private lost(session: ClientSession): void {
    if (session !== this.local && session !== this.remote) return;
    const wasUp = this.state === 'up';
    const other = session === this.local ? this.remote : this.local;
    this.local = this.remote = undefined;
    void other?.close().catch(() => {});
    if (this.state === 'stopped' || !wasUp) return;
    log.warn(`rlink '${this.config.id}': down; connecting again in ${this.delay} ms`);
    this.state = 'down';
    this.retry();
  }

  private retry(): void {
    if (this.state === 'stopped') return;
    this.state = 'down';
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), this.delay);
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
  }
}
