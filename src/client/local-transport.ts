// An in-process transport: messages pass by reference between a client and the router, with no
// serialization. Both directions are delivered in a later microtask, in order, so neither side is
// re-entered while it is still handling a message (as with a socket).

import type { WampMessage } from '../wamp/message.js';
import type { SessionFactory, SessionHandle, SessionOptions, Transport, TransportInfo } from '../core-boundary.js';

/** Delivers queued items to a handler in order, one microtask per burst. */
class Mailbox<T> {
  private items: T[] = [];
  private scheduled = false;
  constructor(private readonly deliver: (item: T) => void) {}
  post(item: T): void {
    this.items.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }
  private flush(): void {
    this.scheduled = false;
    const batch = this.items;
    this.items = [];
    for (const item of batch) this.deliver(item);
  }
}

export interface LocalPeer {
  /** A message from the router. */
  onMessage(message: WampMessage): void;
  /** The router closed the connection. */
  onClose(): void;
}

/** What a client session sends through: in process (LocalConnection) or to a remote router (src/rlink/). */
export interface WireConnection {
  send(message: WampMessage): void;
  close(): void;
}

/** The client's end of an in-process connection. */
export class LocalConnection implements WireConnection {
  private readonly handle: SessionHandle;
  private readonly toRouter: Mailbox<WampMessage>;
  private readonly toClient: Mailbox<WampMessage | null>;
  private closed = false;

  constructor(factory: SessionFactory, name: string, peer: LocalPeer, options?: SessionOptions) {
    const info: TransportInfo = { type: 'local', serializer: 'native', peer: `local:${name}` };
    this.toClient = new Mailbox((m) => (m === null ? peer.onClose() : peer.onMessage(m)));
    const transport: Transport = {
      info,
      send: (message) => {
        if (!this.closed) this.toClient.post(message);
        return true;
      },
      close: () => this.close(),
    };
    this.handle = factory.openSession(transport, options);
    this.toRouter = new Mailbox((m) => {
      if (!this.closed) this.handle.receive(m);
    });
  }

  send(message: WampMessage): void {
    if (!this.closed) this.toRouter.post(message);
  }

  /** Closes both ends; the router is told after the messages already sent to it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => {
      this.handle.transportClosed();
      this.toClient.post(null);
    });
  }
}
