// Calls across a router link (issue 18): the concurrency the link declares at the hub follows the
// board's callees as they join and leave a shared registration, in place (an invoke 'first' hot
// standby at the hub keeps its order); progressive results come back through the link, and a
// hub caller's CANCEL reaches the board's callee. A hub and a board in this process.
import { describe, it, expect, afterEach } from 'vitest';
import { ClientSession, WampError } from '../../src/client/client-session.js';
import type { RLinkConfig } from '../../src/config/types.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { until } from '../helpers/until.js';

const nodes: TestNode[] = [];
afterEach(async () => {
  await Promise.allSettled(nodes.splice(0).map((n) => n.stop()));
});

async function hubAndBoard(): Promise<{ onHub: ClientSession; onBoard: () => Promise<ClientSession> }> {
  const hub = await startTestNode({ realms: [{ name: 'realm1', roles: [allowAll()] }], listener: { endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' } } });
  nodes.push(hub);
  const link: RLinkConfig = {
    id: 'to-hub', realm: 'realm1',
    transport: {
      type: 'websocket', url: `ws://127.0.0.1:${hub.port}/ws`, host: '127.0.0.1', port: hub.port, tls: false, serializers: ['json'],
      options: { autoPingInterval: 0, autoPingTimeout: 0, retryInitial: 50, retryMax: 200 },
    },
    forwardLocalEvents: true, forwardRemoteEvents: true, forwardLocalInvocations: true, forwardRemoteInvocations: true,
    excludeAuthid: [], excludeAuthrole: [], excludeUri: [],
  };
  const board = await startTestNode({ realms: [{ name: 'realm1', roles: [allowAll()], rlinks: [link] }] });
  nodes.push(board);
  await until(() => board.node.routerLinks!.links[0]!.state === 'up', 10_000, 'the link up');
  const client = (node: TestNode) => ClientSession.connect(node.node.router, { realm: 'realm1' });
  return { onHub: await client(hub), onBoard: () => client(board) };
}

/** The callees of `uri` at the hub, in their order there: [session, concurrency]. */
async function calleesAtHub(onHub: ClientSession, uri: string): Promise<Array<[number, number | null]>> {
  const id = (await onHub.call('wamp.registration.lookup', [uri])).args[0];
  if (id === null) return [];
  const load = (await onHub.call('junction.registration.get', [id])).args[0] as { callees: Array<{ session: number; concurrency: number | null }> };
  return load.callees.map((c) => [c.session, c.concurrency]);
}

describe('calls across a router link', () => {
  it("the concurrency declared at the hub follows the board's callees joining and leaving a roundrobin registration", async () => {
    const { onHub, onBoard } = await hubAndBoard();
    const release: Array<() => void> = [];
    const slow = () => new Promise<string>((resolve) => release.push(() => resolve('done')));
    const a = await onBoard();
    await a.register('devices.pump.run', slow, { invoke: 'roundrobin', concurrency: 1 });
    const limits = async () => (await calleesAtHub(onHub, 'devices.pump.run')).map(([, c]) => c);
    await until(async () => (await limits()).join() === '1', 10_000, 'the registration at the hub, concurrency 1');

    const b = await onBoard();
    const bRegistration = await b.register('devices.pump.run', slow, { invoke: 'roundrobin', concurrency: 2 });
    await until(async () => (await limits()).join() === '3', 5000, 'concurrency 3 at the hub');
    // Three calls at once reach the board; a fourth is refused by the hub itself.
    const calls = [1, 2, 3].map(() => onHub.call('devices.pump.run'));
    await until(() => release.length === 3, 5000, 'three calls at the board');
    await expect(onHub.call('devices.pump.run')).rejects.toMatchObject({ uri: 'crossbar.error.max_concurrency_reached' });
    for (const r of release.splice(0)) r();
    expect((await Promise.all(calls)).map((p) => p.args[0])).toEqual(['done', 'done', 'done']);

    await b.unregister(bRegistration);
    await until(async () => (await limits()).join() === '1', 5000, 'back to concurrency 1 at the hub');
    // The link's registration at the hub stayed the same one all along.
    expect((await calleesAtHub(onHub, 'devices.pump.run'))).toHaveLength(1);
  }, 30_000);

  it("invoke 'first' across boards: when the board's first callee goes, the link declares the next one's concurrency and stays first at the hub", async () => {
    const { onHub, onBoard } = await hubAndBoard();
    const a = await onBoard();
    const aRegistration = await a.register('devices.valve.open', () => 'board', { invoke: 'first', concurrency: 1 });
    await until(async () => (await calleesAtHub(onHub, 'devices.valve.open')).length === 1, 10_000, 'the registration at the hub');
    const [[linkSession]] = await calleesAtHub(onHub, 'devices.valve.open') as [[number, number | null]];
    // The hub's own callee is the hot standby, behind the board.
    const standby = await ClientSession.connect(nodes[0]!.node.router, { realm: 'realm1' });
    await standby.register('devices.valve.open', () => 'hub standby', { invoke: 'first' });
    const b = await onBoard();
    await b.register('devices.valve.open', () => 'board', { invoke: 'first', concurrency: 4 });
    expect((await onHub.call('devices.valve.open')).args[0]).toBe('board');

    await a.unregister(aRegistration);
    await until(async () => (await calleesAtHub(onHub, 'devices.valve.open'))[0]?.[1] === 4, 5000, "the second board callee's concurrency at the hub");
    expect(await calleesAtHub(onHub, 'devices.valve.open')).toEqual([[linkSession, 4], [standby.id, null]]);
    expect((await onHub.call('devices.valve.open')).args[0]).toBe('board');
  }, 30_000);

  it("progressive results cross the link as they come, and a hub caller's cancel reaches the board's callee", async () => {
    const { onHub, onBoard } = await hubAndBoard();
    const callee = await onBoard();
    let interrupted = false;
    let next: (() => void) | undefined;
    await callee.register('devices.firmware.flash', async (_args, _kwargs, context) => {
      context.signal.addEventListener('abort', () => (interrupted = true));
      for (const percent of [25, 50, 75]) {
        context.progress([percent]);
        await new Promise<void>((resolve) => (next = resolve));
      }
      return 'flashed';
    });
    await until(async () => (await calleesAtHub(onHub, 'devices.firmware.flash')).length === 1, 10_000, 'the registration at the hub');

    const progress: unknown[] = [];
    const flashing = onHub.call('devices.firmware.flash', [], {}, { onProgress: (p) => progress.push(p.args[0]) });
    for (const expected of [[25], [25, 50], [25, 50, 75]]) {
      await until(() => progress.length === expected.length, 5000, `progress ${expected.join(', ')}`);
      expect(progress).toEqual(expected); // each before the callee goes on
      next!();
    }
    expect((await flashing).args[0]).toBe('flashed');

    progress.length = 0;
    const cancelled = onHub.call('devices.firmware.flash', [], {}, { onProgress: (p) => progress.push(p.args[0]) }).then(() => 'answered', (e: WampError) => e.uri);
    await until(() => progress.length === 1, 5000, 'the first progress');
    onHub.cancel(onHub.lastRequestId, 'kill');
    expect(await cancelled).toBe('wamp.error.canceled');
    await until(() => interrupted, 5000, "the board's callee interrupted");
  }, 30_000);
});
