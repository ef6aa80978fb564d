// Listening on the first free port of a TCP endpoint's `portrange` (Crossbar's key): each port is
// tried in turn, both ends included; a port in use (or not allowed) moves on to the next, as
// Crossbar's first_free_tcp_port does. Node lets a server listen again after a failed listen.

import type { Server } from 'node:net';
import type { PortRange } from '../config/types.js';

/** Errors that mean "this port, not the next": another process has it, or it needs privileges. */
const TRY_NEXT = new Set(['EADDRINUSE', 'EACCES']);

/** Listens on the first free port of `range`; resolves with it. Rejects when none is free. */
export async function listenInRange(server: Server, range: PortRange, opts: { host: string; backlog?: number; ipv6Only: boolean }): Promise<number> {
  for (let port = range.first; port <= range.last; port++) {
    try {
      await listenOnce(server, { ...opts, port });
      return port;
    } catch (err) {
      if (!TRY_NEXT.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
  }
  throw new Error(`no free port in ${range.path} [${range.first}, ${range.last}]`);
}

function listenOnce(server: Server, opts: { port: number; host: string; backlog?: number; ipv6Only: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (err: Error) => reject(err);
    server.once('error', failed);
    server.listen(opts, () => {
      server.off('error', failed);
      resolve();
    });
  });
}
