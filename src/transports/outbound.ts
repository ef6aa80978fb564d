// What every network transport does to send: encode a message once per serializer (shared by all
// receivers of the same message through the EncodingCache), and batch writes per event-loop turn.

import type { Writable } from 'node:stream';
import type { WampMessage } from '../wamp/message.js';
import type { EncodingCache } from '../core-boundary.js';
import type { Serializer } from '../serializers/index.js';
import { log } from '../log.js';

/** The encoded message, from the cache when another receiver already encoded it; undefined if it cannot be encoded. */
export function encodeOnce(serializer: Serializer, message: WampMessage, cache: EncodingCache | undefined, peer: string): Buffer | undefined {
  const name = serializer.name;
  const cached = cache?.[name] as Buffer | undefined;
  if (cached !== undefined) return cached;
  try {
    const encoded = serializer.encode(message);
    if (cache) cache[name] = encoded;
    return encoded;
  } catch (err) {
    log.warn(`${peer}: cannot encode message type ${String(message[0])}: ${(err as Error).message}`);
    return undefined;
  }
}

/** Told what stayed queued once a turn's writes left (the socket's SendQueueGuard). */
export interface BacklogRecorder {
  record(bytes: number): void;
}

/**
 * Holds a socket's writes until the end of the current event-loop turn (all the input read in its
 * poll phase), so a burst of messages leaves in one write instead of one syscall each.
 */
export class WriteBatcher {
  private corked = false;
  private readonly uncork = () => {
    this.corked = false;
    this.socket.uncork();
    // What the kernel took has left by now: the rest is this connection's backlog.
    this.recorder?.record(this.socket.writableLength);
  };

  constructor(private readonly socket: Pick<Writable, 'cork' | 'uncork' | 'writableLength'>, private readonly recorder?: BacklogRecorder) {}

  /** Call before writing. */
  hold(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    setImmediate(this.uncork);
  }
}
