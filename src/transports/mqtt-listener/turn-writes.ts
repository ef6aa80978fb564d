// The MQTT connections' writes held until the end of the event-loop turn, so that a burst of
// packets (the PUBACKs for a burst of QoS 1 PUBLISHes, a fan-out's PUBLISHes) leaves each socket in
// one write instead of one syscall each. One list and one setImmediate for all the connections
// written to in a turn (transports/outbound.ts's WriteBatcher, the WebSocket transports', is an
// object, a closure and a setImmediate per connection: ~150 bytes per idle MQTT connection).

import type { Writable } from 'node:stream';

/** A connection whose writes are held: its socket (or a WebSocket's bytes), and whether they are held now. */
export interface HeldWrites {
  readonly socket: Writable;
  corked: boolean;
  /** Its writes left for the kernel: what stayed queued is its backlog. */
  uncorked(): void;
}

/** The connections corked in this turn. */
const corked: HeldWrites[] = [];
let scheduled = false;

/** Call before writing to the connection's socket. */
export function holdWrites(connection: HeldWrites): void {
  if (connection.corked) return;
  connection.corked = true;
  connection.socket.cork();
  corked.push(connection);
  if (!scheduled) {
    scheduled = true;
    setImmediate(release);
  }
}

function release(): void {
  scheduled = false;
  // A connection held while this runs is added to the end, and released here too.
  for (let i = 0; i < corked.length; i++) {
    const connection = corked[i]!;
    connection.corked = false;
    connection.socket.uncork();
    connection.uncorked();
  }
  corked.length = 0;
}
