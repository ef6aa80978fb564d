// What one connection of a router link did on the link's local session: the subscriptions and
// registrations made through it, undone together when that connection is lost. The local session
// itself stays joined while the remote router is away (its subscriptions for the remote side's
// subscribers keep filling the buffer); only what belonged to the lost connection goes.

import type { ClientSession, EventHandler, ProcedureHandler, CallOptions, Payload } from '../client/client-session.js';
import type { Dict } from '../wamp/message.js';

/** The part of a session the mirrors use: a ClientSession, or a SessionScope of one. */
export type LinkSide = Pick<ClientSession, 'id' | 'lastRequestId' | 'call' | 'cancel' | 'publish' | 'subscribe' | 'unsubscribe' | 'register' | 'unregister'>;

export class SessionScope implements LinkSide {
  private readonly subscriptions = new Set<number>();
  private readonly registrations = new Set<number>();
  private cleared = false;

  constructor(private readonly session: ClientSession) {}

  get id(): number { return this.session.id; }
  get lastRequestId(): number { return this.session.lastRequestId; }

  call(procedure: string, args?: unknown[], kwargs?: Dict, options?: CallOptions): Promise<Payload> {
    return this.session.call(procedure, args, kwargs, options);
  }

  cancel(requestId: number, mode?: 'skip' | 'kill' | 'killnowait'): void {
    this.session.cancel(requestId, mode);
  }

  publish(topic: string, args?: unknown[], kwargs?: Dict, options?: Dict): Promise<number | undefined> {
    return this.session.publish(topic, args, kwargs, options);
  }

  subscribe(topic: string, handler: EventHandler, options?: Dict): Promise<number> {
    return this.track(this.session.subscribe(topic, handler, options), this.subscriptions, (id) => this.session.unsubscribe(id));
  }

  async unsubscribe(id: number): Promise<void> {
    this.subscriptions.delete(id);
    await this.session.unsubscribe(id);
  }

  register(procedure: string, handler: ProcedureHandler, options?: Dict): Promise<number> {
    return this.track(this.session.register(procedure, handler, options), this.registrations, (id) => this.session.unregister(id));
  }

  async unregister(id: number): Promise<void> {
    this.registrations.delete(id);
    await this.session.unregister(id);
  }

  /** Remembers what was made, or undoes it at once when the scope was cleared meanwhile. */
  private async track(made: Promise<number>, ids: Set<number>, undo: (id: number) => Promise<void>): Promise<number> {
    const id = await made;
    if (this.cleared) {
      await undo(id).catch(() => {});
      throw new Error('the connection of the link is gone');
    }
    ids.add(id);
    return id;
  }

  /** Undoes everything made through this scope; what is made later is undone at once. */
  async clear(): Promise<void> {
    this.cleared = true;
    const subscriptions = [...this.subscriptions];
    const registrations = [...this.registrations];
    this.subscriptions.clear();
    this.registrations.clear();
    await Promise.allSettled([
      ...subscriptions.map((id) => this.session.unsubscribe(id)),
      ...registrations.map((id) => this.session.unregister(id)),
    ]);
  }
}
