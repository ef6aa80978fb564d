// Router links in the topologies a fleet has (issue 18): a star (a hub and three boards), a chain of
// three, two links between the same two routers, and a triangle. Real Junction routers in this
// process, Autobahn|JS clients on each: every subscriber gets every event exactly once (counted over
// a settle time: no echo, no duplicate over a second path, no loop), forward_for shows the path, and
// calls reach a procedure however many links away it is.
import { describe, it, expect, afterEach } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { freePort } from '../helpers/free-port.js';
import { until } from '../helpers/until.js';
import { autobahnWs } from '../helpers/autobahn-ws.js';
import type { RLinkConfig } from '../../src/config/types.js';
import { captureStderr } from '../helpers/capture-log.js';
import WebSocket from 'ws';


type Session = any;
const opened: any[] = [];
const started: TestNode[] = [];

afterEach(async () => {
  for (const c of opened.splice(0)) try { c.close(); } catch { /* already closed */ }
  await Promise.allSettled(started.splice(0).map((n) => n.stop()));
});

async function connect(node: TestNode): Promise<Session> {
  const { session, connection } = await autobahnWs(node.wsUrl);
  opened.push(connection);
  return session;
}

function linkTo(id: string, port: number): RLinkConfig {
  return {
    id, realm: 'realm1',
    transport: { type: 'websocket', url: `ws://127.0.0.1:${port}/ws`, host: '127.0.0.1', port, tls: false, serializers: ['json'] },
    forwardLocalEvents: true, forwardRemoteEvents: true, forwardLocalInvocations: true, forwardRemoteInvocations: true,
    excludeAuthid: [], excludeAuthrole: [], excludeUri: [],
  };
}

/** Routers by name, each with the links it has to others ([from, to]: `from` has an rlinks entry to `to`), all forwarding everything. */
async function fleet(names: string[], links: [string, string][]): Promise<Map<string, TestNode>> {
  const ports = new Map(await Promise.all(names.map(async (n) => [n, await freePort()] as const)));
  const nodes = await Promise.all(names.map(async (name) => {
    const rlinks = links.filter(([from]) => from === name).map(([, to]) => linkTo(`to-${to}`, ports.get(to)!));
    const node = await startTestNode({
      realms: [{ name: 'realm1', roles: [allowAll()], rlinks }],
      listener: { endpoint: { type: 'tcp', port: ports.get(name)!, interface: '127.0.0.1' } },
    });
    started.push(node);
    return [name, node] as const;
  }));
  return new Map(nodes);
}

interface Received { payload: string[]; details: any }

/**
 * A subscriber (to fleet.news, exactly or by prefix) and a publisher (disclosing itself) on every router; once subscriptions have crossed
 * every link (probes from each router reach each subscriber), each router publishes one event.
 * Returns what each subscriber received of those, after a settle time for echoes and loops.
 */
async function oneEventFromEach(routers: Map<string, TestNode>): Promise<{ got: Map<string, Received[]>; publishers: Map<string, Session> }> {
  const got = new Map<string, Received[]>();
  const probes = new Map<string, Set<string>>();
  for (const [i, [name, node]] of [...routers].entries()) {
    got.set(name, []);
    probes.set(name, new Set());
    // Every other router's subscriber subscribes by prefix: a link then holds an exact and a prefix
    // subscription that both match, and must still pass each event on once.
    const [uri, options] = i % 2 ? ['fleet.', { match: 'prefix' }] : ['fleet.news', {}];
    await (await connect(node)).subscribe(uri, (args: string[], _kw: unknown, details: any) => {
      if (args[0] === 'probe') probes.get(name)!.add(args[1]!);
      else got.get(name)!.push({ payload: args, details });
    }, options);
  }
  const publishers = new Map<string, Session>();
  for (const [name, node] of routers) publishers.set(name, await connect(node));
  await until(async () => {
    for (const [name, p] of publishers) p.publish('fleet.news', ['probe', name]);
    await new Promise((r) => setTimeout(r, 100));
    return [...probes.values()].every((s) => s.size === routers.size);
  }, 15_000, 'probes from every router at every subscriber');
  await new Promise((r) => setTimeout(r, 300)); // the last probes' echoes, if any, would still be on their way
  for (const [name, p] of publishers) p.publish('fleet.news', ['real', name], {}, { disclose_me: true });
  await until(() => [...got.values()].every((g) => g.length >= routers.size), 5000, 'each event at each subscriber')
    .catch(() => { throw new Error(`not every event arrived: ${JSON.stringify(Object.fromEntries([...got].map(([n, g]) => [n, g.map((r) => r.payload[1])])))}`); });
  await new Promise((r) => setTimeout(r, 1000)); // room for an echo, a duplicate or a loop to show
  return { got, publishers };
}

function expectEachOnce(got: Map<string, Received[]>): void {
  const names = [...got.keys()].sort();
  for (const [name, received] of got) {
    expect({ at: name, events: received.map((r) => r.payload[1]).sort() }).toEqual({ at: name, events: names });
  }
}

/** The forward_for that an event from `from` had when it reached the subscriber on `at`. */
function pathOf(got: Map<string, Received[]>, from: string, at: string): any[] | undefined {
  return got.get(at)!.find((r) => r.payload[1] === from)?.details.forward_for;
}

/** A callee written out on the wire (plain JSON over WebSocket): what it answers with is the INVOCATION's details as they came. */
async function wireCallee(node: TestNode, procedure: string): Promise<void> {
  const ws = new WebSocket(node.wsUrl, ['wamp.2.json']);
  opened.push({ close: () => ws.close() });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const registered = new Promise<void>((resolve) => ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as any[];
    if (m[0] === 2) ws.send(JSON.stringify([64, 1, {}, procedure])); // WELCOME → REGISTER
    if (m[0] === 65) resolve(); // REGISTERED
    if (m[0] === 68) ws.send(JSON.stringify([70, m[1], {}, [m[3]]])); // INVOCATION → YIELD its details
  }));
  ws.send(JSON.stringify([1, 'realm1', { roles: { callee: {} } }]));
  await registered;
}

/** Each router offers `<name>.whoami`; every router's caller reaches every one of them, and each call runs once. */
async function callEachFromEach(routers: Map<string, TestNode>): Promise<void> {
  const runs = new Map<string, number>();
  for (const [name, node] of routers) {
    runs.set(name, 0);
    await (await connect(node)).register(`${name}.whoami`, () => { runs.set(name, runs.get(name)! + 1); return name; });
  }
  for (const [from, node] of routers) {
    const caller = await connect(node);
    for (const target of routers.keys()) {
      let answer: unknown;
      await until(async () => {
        answer = await caller.call(`${target}.whoami`).catch(() => undefined);
        return answer !== undefined;
      }, 15_000, `${target}.whoami callable on ${from}`);
      expect(answer).toBe(target);
    }
  }
  for (const name of routers.keys()) runs.set(name, 0); // counted from here: the waits above may have called more than once
  for (const node of routers.values()) {
    const caller = await connect(node);
    for (const target of routers.keys()) expect(await caller.call(`${target}.whoami`)).toBe(target);
  }
  await new Promise((r) => setTimeout(r, 300)); // a call going round would run again meanwhile
  expect(Object.fromEntries(runs)).toEqual(Object.fromEntries([...routers.keys()].map((n) => [n, routers.size])));
}

describe('issue 18: router links in a fleet, no loops and no echoes', () => {
  it('a star: a hub and three boards each linked to it; board to board goes through the hub', async () => {
    const routers = await fleet(['hub', 'board1', 'board2', 'board3'], [['board1', 'hub'], ['board2', 'hub'], ['board3', 'hub']]);
    const { got, publishers } = await oneEventFromEach(routers);
    expectEachOnce(got);
    // forward_for names who handed the event over on each router it left: the publisher on board 1, then on the hub a session of board 2's link.
    const path = pathOf(got, 'board1', 'board2')!;
    expect(path).toHaveLength(2);
    expect(path[0]).toMatchObject({ session: publishers.get('board1')!.id });
    const hubSessions = await (await connect(routers.get('hub')!)).call('wamp.session.list');
    expect(hubSessions).toContain(path[1].session);
    expect(pathOf(got, 'hub', 'board3')).toEqual([expect.objectContaining({ session: publishers.get('hub')!.id })]);
    expect(pathOf(got, 'board3', 'hub')).toEqual([expect.objectContaining({ session: publishers.get('board3')!.id })]);
    expect(pathOf(got, 'board2', 'board2')).toBeUndefined();
    await callEachFromEach(routers);
  }, 60_000);

  it('a chain of three: A links to B, B links to C; A and C reach each other through B', async () => {
    const routers = await fleet(['a', 'b', 'c'], [['a', 'b'], ['b', 'c']]);
    const { got } = await oneEventFromEach(routers);
    expectEachOnce(got);
    expect(pathOf(got, 'a', 'c')).toHaveLength(2);
    expect(pathOf(got, 'c', 'a')).toHaveLength(2);
    expect(pathOf(got, 'b', 'a')).toHaveLength(1);
    await callEachFromEach(routers);
    // A call from A to C shows its path too: the caller on A, then a session of the B—C link on B.
    await wireCallee(routers.get('c')!, 'c.trace');
    const caller = await connect(routers.get('a')!);
    let details: any;
    await until(async () => {
      details = await caller.call('c.trace', [], {}, { disclose_me: true }).catch(() => undefined);
      return details !== undefined;
    }, 10_000, 'c.trace callable on A');
    expect(details.forward_for).toHaveLength(2);
    expect(details.forward_for[0]).toMatchObject({ session: caller.id });
    expect(await (await connect(routers.get('b')!)).call('wamp.session.list')).toContain(details.forward_for[1].session);
  }, 60_000);

  it('two links between the same routers (each links to the other): each event once, calls once', async () => {
    const routers = await fleet(['a', 'b'], [['a', 'b'], ['b', 'a']]);
    const { got } = await oneEventFromEach(routers);
    expectEachOnce(got);
    expect(pathOf(got, 'a', 'b')).toHaveLength(1);
    await callEachFromEach(routers);
  }, 60_000);

  it('a triangle (A to B, B to C, C to A): an event that comes over two paths reaches each subscriber once', async () => {
    const routers = await fleet(['a', 'b', 'c'], [['a', 'b'], ['b', 'c'], ['c', 'a']]);
    const { got } = await oneEventFromEach(routers);
    expectEachOnce(got);
    await callEachFromEach(routers);
  }, 60_000);

  it('a message that crossed 16 links already is not passed on (forward_for holds at most 16), logged once', async () => {
    const log = captureStderr(/rlink/);
    try {
      const routers = await fleet(['hub', 'board'], [['board', 'hub']]);
      const onBoard = await connect(routers.get('board')!);
      const onHub = await connect(routers.get('hub')!);
      const got: any[][] = [];
      await onHub.subscribe('fleet.news', (args: unknown[], _kw: unknown, details: any) => got.push([args[0], details.forward_for?.length]));
      await until(async () => {
        onBoard.publish('fleet.news', ['probe']);
        await new Promise((r) => setTimeout(r, 100));
        return got.length > 0;
      }, 10_000, 'the board linked to the hub');
      const hops = (n: number) => Array.from({ length: n }, (_, i) => ({ session: i + 1, authid: `router-${i}`, authrole: 'rlink' }));
      for (const n of [15, 16, 16]) onBoard.publish('fleet.news', [`after ${n}`], {}, { forward_for: hops(n) });
      onBoard.publish('fleet.news', ['last']);
      await until(() => got.some(([a]) => a === 'last'), 5000, 'the last event at the hub');
      expect(got.filter(([a]) => a !== 'probe')).toEqual([['after 15', 16], ['last', 1]]);
      expect(log.lines.filter((l) => /rlink 'to-hub': a message that crossed 16 router links already is not passed on/.test(l))).toHaveLength(1);
      // A call likewise: refused at the link, not left hanging.
      await onHub.register('hub.clock.now', () => 'tea-time');
      await until(async () => (await onBoard.call('hub.clock.now').catch(() => undefined)) === 'tea-time', 10_000, 'hub.clock.now callable on the board');
      const error = await onBoard.call('hub.clock.now', [], {}, { forward_for: hops(16) }).then(() => undefined, (e: any) => e);
      expect(error?.error).toBe('wamp.error.no_such_procedure');
    } finally {
      log.restore();
    }
  }, 30_000);

  it("hot standby through the hub holds whatever the order: a board's device that registers after its link mirrored the hub's procedure still backs it", async () => {
    const routers = await fleet(['hub', 'board1'], [['board1', 'hub']]);
    const onHub = await connect(routers.get('hub')!);
    await (await connect(routers.get('board1')!)).register('devices.pump.run', () => 'board1', { invoke: 'first' });
    await until(async () => (await onHub.call('devices.pump.run').catch(() => undefined)) === 'board1', 10_000, 'devices.pump.run on the hub');
    // Board 2 comes later: its link makes the hub's devices.pump.run callable there first (forward_remote_invocations) ...
    const hubPort = Number(new URL(routers.get('hub')!.wsUrl).port);
    const board2 = await startTestNode({ realms: [{ name: 'realm1', roles: [allowAll()], rlinks: [linkTo('to-hub', hubPort)] }] });
    started.push(board2);
    const onBoard2 = await connect(board2);
    await until(async () => (await onBoard2.call('devices.pump.run').catch(() => undefined)) === 'board1', 10_000, "the hub's devices.pump.run on board 2");
    // ... and only then does its own device register the same procedure.
    await (await connect(board2)).register('devices.pump.run', () => 'board2', { invoke: 'first' });
    await new Promise((r) => setTimeout(r, 300)); // board 2's link offers it to the hub meanwhile
    await routers.get('board1')!.stop();
    let answer: unknown;
    await until(async () => {
      answer = await onHub.call('devices.pump.run').catch((e: any) => e.error);
      return answer === 'board2';
    }, 10_000, 'the hub reaching board 2 once board 1 is gone').catch(() => { throw new Error(`the hub's call answered ${JSON.stringify(answer)}`); });
    expect(await onBoard2.call('devices.pump.run')).toBe('board2');
  }, 30_000);

  it('a board gets from the hub only the events that its own clients (or the links behind it) subscribe to', async () => {
    const routers = await fleet(['hub', 'board1', 'board2'], [['board1', 'hub'], ['board2', 'hub']]);
    const onHub = await connect(routers.get('hub')!);
    const got: unknown[] = [];
    await (await connect(routers.get('board2')!)).subscribe('fleet.board2.cmd', (args: unknown[]) => got.push(args[0]));
    const onBoard1 = await connect(routers.get('board1')!);
    await until(async () => {
      onHub.publish('fleet.board2.cmd', ['probe']);
      onBoard1.publish('fleet.board2.cmd', ['probe']); // board 1's link subscribes for the hub's interest in it
      await new Promise((r) => setTimeout(r, 100));
      return got.filter((g) => g === 'probe').length >= 4;
    }, 10_000, "board 2's subscription known to the hub and to board 1");
    // On the hub, only board 2's link subscribes: board 1's link does not offer back the
    // subscription it made on board 1 for the hub, so the hub's events for board 2 stay off board 1's link.
    const subId = await onHub.call('wamp.subscription.lookup', ['fleet.board2.cmd']);
    const subscribers: number[] = await onHub.call('wamp.subscription.list_subscribers', [subId]);
    expect(subscribers).toHaveLength(1);
    // A client of board 1 that subscribes later is still served.
    const board1Got: unknown[] = [];
    await (await connect(routers.get('board1')!)).subscribe('fleet.board2.cmd', (args: unknown[]) => board1Got.push(args[0]));
    await until(async () => {
      onHub.publish('fleet.board2.cmd', ['later']);
      await new Promise((r) => setTimeout(r, 100));
      return board1Got.length > 0;
    }, 10_000, 'a hub event at the later board 1 subscriber');
    expect(await onHub.call('wamp.subscription.list_subscribers', [subId])).toHaveLength(2);
  }, 30_000);
});
