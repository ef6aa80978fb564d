// Router links (issue 18) in the bench: a hub and two boards, each its own Junction process
// started from a generated config (the bench's usual one; a board's realm1 has `rlinks` entries to
// the hub's realm1, nothing else set, so every forward_* flag is on). One callee process registers
// `bench.echo` on board B; B's link registers it on the hub, A's link registers the hub's on A. A
// caller on B is the direct call, on the hub one hop, on A two hops: the same callee, procedure and
// client for all three, only where the caller connects differs.
import { connect, close, request } from './clients/raw.mjs';
import { start, stop, exited } from './children.mjs';
import { callsFrom, settings, settledRssKiB, MEMORY_NODE_ARGS } from './cases.mjs';
import { startRouter, stopRouter } from './routers.mjs';
import { sleep } from './proc.mjs';

/** `count` rlinks entries of a board to the hub at `hubUrl` (realm1 there too), ids hub1, hub2 … */
export function linksTo(hubUrl, count) {
  return Array.from({ length: count }, (_, i) => ({
    id: `hub${i + 1}`,
    realm: 'realm1',
    transport: { type: 'websocket', url: hubUrl, serializers: ['json'] },
  }));
}

/** Where each case's caller connects: B (the callee's own router), the hub, or A. */
export const HOPS = { rlinkDirect: 'b', rlink1: 'hub', rlink2: 'a' };

/**
 * The hub, boards A and B (one link each) and the callee on B. `pids` are the three routers', so
 * that a case's router CPU is their sum (idle ones included: they cost next to nothing).
 */
export async function startFleet() {
  const routers = [];
  let callee;
  try {
    const hub = await startRouter('J');
    routers.push(hub);
    for (let i = 0; i < 2; i++) routers.push(await startRouter('J', { rlinks: linksTo(hub.url, 1) }));
    const [, a, b] = routers;
    callee = await start('clients/callee.mjs', [b.url, settings.mode, 'bench.echo', '{}']);
    return {
      kind: 'J',
      pids: routers.map((r) => r.pid),
      urls: { hub: hub.url, a: a.url, b: b.url },
      gone: () => routers.some((r) => exited(r.child)),
      stop: async () => {
        await stop(callee);
        await Promise.all(routers.map(stopRouter));
      },
    };
  } catch (err) {
    if (callee) await stop(callee);
    await Promise.all(routers.map(stopRouter));
    throw err;
  }
}

/**
 * Resolves once a call of `bench.echo` on `url` is answered: the links register the callee's
 * procedure on the hub and on A shortly after it is made. Throws the last refusal after `timeoutMs`.
 */
export async function reachable(url, timeoutMs = 10_000) {
  const ws = await connect(url, { wamp: true });
  const deadline = Date.now() + timeoutMs;
  try {
    for (let id = 1; ; id++) {
      try {
        await request(ws, [48, id, {}, 'bench.echo', [id, 'probe']], [50, 8]);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`bench.echo not callable on ${url} within ${timeoutMs} ms: ${err.message}`);
        await sleep(100);
      }
    }
  } finally {
    await close(ws);
  }
}

/** One measurement of a case (a key of HOPS) on a started fleet. */
export function hopRpc(fleet, name, outstanding) {
  return callsFrom(fleet, fleet.urls[HOPS[name]], { outstanding });
}

/** Resolves once the hub at `url` counts at least `sessions` client sessions besides the asking one. */
async function sessionsOn(url, sessions, timeoutMs = 30_000) {
  const ws = await connect(url, { wamp: true });
  const deadline = Date.now() + timeoutMs;
  try {
    for (let id = 1; ; id++) {
      const [, , , args] = await request(ws, [48, id, {}, 'wamp.session.count'], [50]);
      if (args[0] - 1 >= sessions) return;
      if (Date.now() > deadline) throw new Error(`${args[0] - 1} of ${sessions} link sessions on the hub after ${timeoutMs} ms`);
      await sleep(200);
    }
  } finally {
    await close(ws);
  }
}

/**
 * A link's memory cost on the board (the side that is a Pi): three fresh boards side by side, with
 * no link, one, and 1 + `more` idle links to one idle hub (nothing registered or subscribed, so
 * nothing crosses), each board's RSS read once it is idle and has given back what it can (as
 * mqttMemory reads a broker's: V8's young generation held small, its memory reducer early, a full
 * compacting collection, then the lowest reading over the last 5 s of 20). `firstKiB`, no link → one, is what a board with one
 * link pays, one-time costs included (the link's code compiled, the WebSocket client's); `perLinkKiB`,
 * one → 1 + `more` divided by `more`, is each further link's own.
 */
export async function linkMemory(more) {
  const hub = await startRouter('J');
  const boards = [];
  try {
    for (const count of [0, 1, 1 + more]) boards.push(await startRouter('J', { nodeArgs: MEMORY_NODE_ARGS, rlinks: linksTo(hub.url, count) }));
    await sessionsOn(hub.url, 2 + more);
    const [none, one, many] = await Promise.all(boards.map((b) => settledRssKiB(b.pid)));
    if (boards.some((b) => exited(b.child))) throw new Error('a board exited during the reading');
    return { none, one, many, more, firstKiB: one - none, perLinkKiB: (many - one) / more };
  } finally {
    await Promise.all([hub, ...boards].map(stopRouter));
  }
}
