// Bytes waiting to be written, all connections together. Each connection's own send queue is
// bounded (max_send_queue), but hundreds of connections that stop reading while each is sent
// different events could still hold hundreds of times that. Each connection's SendQueueGuard
// records the backlog it last saw into `bytes` (once per event-loop turn when its writes leave,
// on every send while it is slow, and when its socket drains or closes); past `limit`, events to
// the slow connections are dropped (or, with send_queue_policy 'disconnect', they are closed).
// Connections that keep up are never affected.

import { DEFAULT_MAX_SEND_QUEUE_TOTAL } from '../config/types.js';

/**
 * A connection counts as slow, for this total, while more than this many bytes stayed in its queue
 * after its last turn's writes left (what a reader that keeps up leaves behind is far less).
 */
export const SLOW_BACKLOG = 64 * 1024;

export class SendQueueTotal {
  /** Bytes waiting in all connections' send queues, as last recorded by their guards. */
  bytes = 0;

  constructor(readonly limit: number = DEFAULT_MAX_SEND_QUEUE_TOTAL) {}

  get over(): boolean {
    return this.bytes > this.limit;
  }
}
