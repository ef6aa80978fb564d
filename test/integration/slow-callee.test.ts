// A callee that does not read what it is sent (issue 19 #12): a burst of large calls must find it
// busy (calls queued per the realm's call queue, or refused) instead of piling INVOCATIONs on it
// until its send queue closes it as a slow consumer. Real sockets: in-process sessions have no
// send queue.

import { describe, it, expect, afterEach } from 'vitest';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { allowAll, join, tick } from '../helpers/core.js';
import { RawConn } from '../helpers/wamp-wire.js';
import type { CallQueueConfig, RealmConfig } from '../../src/config/types.js';
import type { Payload } from '../../src/client/client-session.js';

const KIB = 1024;
const LIMIT = 256 * KIB;
const PAYLOAD = 'x'.repeat(64 * KIB);
const [HELLO, WELCOME, REGISTER, REGISTERED, INVOCATION, YIELD] = [1, 2, 64, 65, 68, 70];

const nodes: TestNode[] = [];
const conns: RawConn[] = [];
afterEach(async () => {
  for (const c of conns.splice(0)) c.close();
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

async function scene(callQueue: CallQueueConfig[], budget: Pick<RealmConfig, 'maxPendingCallBytes' | 'maxPendingCallBytesTotal'> = {}) {
  const svc = service();
  svc.options = { ...svc.options, maxSendQueue: LIMIT, sendQueuePolicy: 'drop-events' };
  const realm: RealmConfig = { name: 'realm1', roles: [allowAll()], store: { type: 'memory', limit: 100, callQueue, eventHistory: [] }, ...budget };
  const n = await startTestNode({ realms: [realm], listener: { rawsocket: svc, websocket: { '/ws': service() } } });
  nodes.push(n);
  // The callee: a RawSocket client that answers every INVOCATION with its first argument's length.
  const callee = await RawConn.open(n.port, 'json');
  conns.push(callee);
  callee.onMessage = (m) => {
    const msg = m as unknown[];
    if (msg[0] === INVOCATION) callee.sendMessage([YIELD, msg[1], {}, [String((msg[4] as unknown[])[0]).length]]);
  };
  callee.sendMessage([HELLO, 'realm1', { roles: { callee: {} } }]);
  expect(await callee.next((m) => m[0] === WELCOME)).toBeDefined();
  callee.sendMessage([REGISTER, 1, {}, 'svc.slow']);
  expect(await callee.next((m) => m[0] === REGISTERED)).toBeDefined();
  const caller = await join(n.node.router);
  return { n, callee, caller };
}

/** Every call's outcome: the result's first argument or the error URI. */
const outcome = (p: Promise<Payload>) => p.then((r) => r.args[0], (e: { uri?: string }) => e.uri ?? String(e));

describe('a slow callee is busy, not a slow consumer', () => {
  it('issue 19 #12: a burst of large calls to a callee that stopped reading is refused as busy; the callee stays and serves again', async () => {
    const { callee, caller } = await scene([]);
    callee.socket.pause();
    // 16 MiB of invocations to a callee with a 256 KiB send queue (well past the kernel's buffers).
    const burst = Array.from({ length: 256 }, () => outcome(caller.call('svc.slow', [PAYLOAD])));
    await tick(200);
    callee.socket.resume();
    const results = await Promise.all(burst);
    const served = results.filter((r) => r === PAYLOAD.length).length;
    const busy = results.filter((r) => r === 'crossbar.error.max_concurrency_reached').length;
    expect(served + busy).toBe(burst.length); // every call answered, nothing "callee disconnected"
    expect(served).toBeGreaterThan(0);
    expect(busy).toBeGreaterThan(0);
    expect(callee.closed).toBe(false);
    await expect(caller.call('svc.slow', ['again'])).resolves.toMatchObject({ args: [5] });
  }, 60_000);

  it('issue 19 #12: with a call queue, calls wait for the slow callee to read and are all served', async () => {
    // Queued calls hold their payload, and a caller's calls waiting for an answer are bounded in
    // bytes (issue 19 #11: max_pending_call_bytes, 4 MiB by default, refuses the rest of the burst
    // with junction.error.too_many_pending_calls). Room here for the whole 16 MiB burst, which
    // must get past the kernel's socket buffers to make the callee's send queue back up at all.
    const room = 2 * 256 * (PAYLOAD.length + KIB);
    const { callee, caller } = await scene([{ uri: 'svc.', match: 'prefix', limit: 1000, timeout: 30_000 }],
      { maxPendingCallBytes: room, maxPendingCallBytesTotal: room });
    callee.socket.pause();
    const burst = Array.from({ length: 256 }, () => outcome(caller.call('svc.slow', [PAYLOAD])));
    await tick(300);
    // Nothing was refused or dropped while the callee did not read.
    const load = (await caller.call('junction.registration.get', [(await caller.call('wamp.registration.lookup', ['svc.slow'])).args[0]])).args[0] as { queued: number };
    expect(load.queued).toBeGreaterThan(0);
    callee.socket.resume();
    const results = await Promise.all(burst);
    expect(results.every((r) => r === PAYLOAD.length)).toBe(true);
    expect(callee.closed).toBe(false);
  }, 60_000);
});
