// Router links while the hub is away (issue 18): a board keeps what its hub's subscribers would
// have received and sends it, in order and marked late, once the link is back (per the buffer's
// policies, and across a board restart with a buffer file); a hub that stops answering is noticed
// by the link's pings; unsubscriptions and callee concurrency cross the link; a call in flight over
// a link that drops fails at once.
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientSession, WampError } from '../../src/client/client-session.js';
import type { RealmConfig, RLinkConfig } from '../../src/config/types.js';
import type { RouterLink } from '../../src/rlink/router-link.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { freePort } from '../helpers/free-port.js';
import { until } from '../helpers/until.js';
import { FaultProxy } from '../helpers/fault-proxy.js';

const nodes = new Set<TestNode>();
const proxies: FaultProxy[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.allSettled([...nodes].map((n) => n.stop()));
  nodes.clear();
  await Promise.allSettled(proxies.splice(0).map((p) => p.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function link(port: number, overrides: Partial<RLinkConfig> = {}): RLinkConfig {
  return {
    id: 'to-hub', realm: 'realm1',
    transport: {
      type: 'websocket', url: `ws://127.0.0.1:${port}/ws`, host: '127.0.0.1', port, tls: false, serializers: ['json'],
      options: { autoPingInterval: 0, autoPingTimeout: 0, retryInitial: 50, retryMax: 200 },
    },
    forwardLocalEvents: true, forwardRemoteEvents: true, forwardLocalInvocations: true, forwardRemoteInvocations: true,
    excludeAuthid: [], excludeAuthrole: [], excludeUri: [],
    ...overrides,
  };
}

async function start(port: number, rlinks: RLinkConfig[] = []): Promise<TestNode> {
  const realms: RealmConfig[] = [{ name: 'realm1', roles: [allowAll()], rlinks }];
  const node = await startTestNode({ realms, listener: { endpoint: { type: 'tcp', port, interface: '127.0.0.1' } } });
  nodes.add(node);
  return node;
}

async function stop(node: TestNode): Promise<void> {
  nodes.delete(node);
  await node.stop();
}

/** A hub, and a proxy in front of it for the board's link to go through. */
async function hubBehindProxy(): Promise<{ hubPort: number; hub: TestNode; proxy: FaultProxy }> {
  const hubPort = await freePort();
  const hub = await start(hubPort);
  const proxy = await FaultProxy.start('127.0.0.1', { host: '127.0.0.1', port: hubPort });
  proxies.push(proxy);
  return { hubPort, hub, proxy };
}

const client = (node: TestNode) => ClientSession.connect(node.node.router, { realm: 'realm1' });
const linkOf = (board: TestNode): RouterLink => board.node.routerLinks!.links[0]!;

/** Publishes on `topic` at the board until the hub's subscriber got something: the link mirrored the subscription. */
async function throughLink(board: ClientSession, topic: string, got: unknown[]): Promise<void> {
  await until(async () => {
    if (got.length > 0) return true;
    await board.publish(topic, ['probe'], {}, { acknowledge: true });
    await new Promise((r) => setTimeout(r, 50));
    return got.length > 0;
  }, 10_000, `an event on ${topic} over the link`);
  await new Promise((r) => setTimeout(r, 100)); // the last probes still on their way
  got.length = 0;
}

interface Heard { topic: string; value: unknown; late: unknown; at: unknown }

async function listen(hub: TestNode, topics: string[], heard: Heard[]): Promise<ClientSession> {
  const s = await client(hub);
  for (const topic of topics) {
    await s.subscribe(topic, (args, _kw, d) => heard.push({ topic, value: args[0], late: d['_late'], at: d['_published_at'] }));
  }
  return s;
}

const BUFFER = { policy: 'latest' as const, limit: 1000, rules: [{ prefix: 'log.', policy: 'all' as const, limit: 2 }, { prefix: 'debug.', policy: 'none' as const, limit: 1 }] };
const TOPICS = ['fleet.temp', 'log.line', 'debug.trace'];

/** What the board publishes while the hub is away: latest keeps temp 3, all keeps the last 2 log lines, none nothing. */
async function publishWhileDown(board: ClientSession): Promise<void> {
  for (const [topic, value] of [['fleet.temp', 1], ['log.line', 'a'], ['fleet.temp', 2], ['log.line', 'b'], ['debug.trace', 'x'], ['fleet.temp', 3], ['log.line', 'c']] as const) {
    await board.publish(topic, [value], {}, { acknowledge: true });
  }
}
const AFTER_RECONNECT = [['log.line', 'b'], ['fleet.temp', 3], ['log.line', 'c']];

describe('router links while the hub is away', () => {
  it('sends what the board published meanwhile once the hub is back: in order, marked late, as each prefix policy says', async () => {
    const fleet = await hubBehindProxy();
    const { hubPort, proxy } = fleet;
    let hub = fleet.hub;
    const board = await start(0, [link(proxy.port, { buffer: BUFFER })]);
    const onBoard = await client(board);
    const heard: Heard[] = [];
    await listen(hub, TOPICS, heard);
    for (const topic of TOPICS.slice(0, 2)) await throughLink(onBoard, topic, heard);

    proxy.cut();
    await until(() => linkOf(board).state !== 'up', 5000, 'the link down');
    await stop(hub);
    const before = new Date().toISOString();
    await publishWhileDown(onBoard);
    expect(linkOf(board).buffered).toBe(3);
    expect(linkOf(board).dropped).toBe(1); // log line 'a'

    hub = await start(hubPort);
    const after: Heard[] = [];
    await listen(hub, TOPICS, after);
    proxy.open();
    await until(() => after.length >= 3, 10_000, 'the buffered events at the hub');
    await new Promise((r) => setTimeout(r, 200)); // room for anything more (debug.trace must not come)
    expect(after.map((h) => [h.topic, h.value])).toEqual(AFTER_RECONNECT);
    for (const h of after) {
      expect(h.late).toBe(true);
      expect(typeof h.at === 'string' && h.at >= before && h.at <= new Date().toISOString()).toBe(true);
    }
    expect(linkOf(board).state).toBe('up');
    expect(linkOf(board).buffered).toBe(0);
    // Live again: not late.
    await onBoard.publish('fleet.temp', [4], {}, { acknowledge: true });
    await until(() => after.length === 4);
    expect(after[3]).toMatchObject({ value: 4, late: undefined });
  }, 30_000);

  it('a big buffer arrives whole and in order', async () => {
    const { hub, proxy } = await hubBehindProxy();
    const board = await start(0, [link(proxy.port, { buffer: { policy: 'all', limit: 5000, rules: [] } })]);
    const onBoard = await client(board);
    const heard: Heard[] = [];
    await listen(hub, ['bulk.data'], heard);
    await throughLink(onBoard, 'bulk.data', heard);
    proxy.cut();
    await until(() => linkOf(board).state !== 'up', 5000, 'the link down');
    const payload = 'x'.repeat(1000);
    for (let i = 0; i < 5000; i++) await onBoard.publish('bulk.data', [i, payload], {}, { acknowledge: true });
    expect(linkOf(board).buffered).toBe(5000);
    proxy.open();
    await until(() => heard.length >= 5000, 20_000, 'all 5000 at the hub');
    expect(heard.map((h) => h.value)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(heard.every((h) => h.late === true)).toBe(true);
  }, 30_000);

  it('with a buffer file, the buffered events survive a restart of the board', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlink-down-'));
    dirs.push(dir);
    const file = join(dir, 'to-hub.buf');
    const fleet = await hubBehindProxy();
    const { hubPort, proxy } = fleet;
    let hub = fleet.hub;
    const config = link(proxy.port, { buffer: { ...BUFFER, file } });
    let board = await start(0, [config]);
    const heard: Heard[] = [];
    await listen(hub, TOPICS, heard);
    for (const topic of TOPICS.slice(0, 2)) await throughLink(await client(board), topic, heard);

    proxy.cut();
    await until(() => linkOf(board).state !== 'up', 5000, 'the link down');
    await stop(hub);
    await publishWhileDown(await client(board));
    await stop(board);
    expect(existsSync(file)).toBe(true);
    board = await start(0, [config]);
    expect(linkOf(board).buffered).toBe(3);
    // The restarted board holds the hub's subscriptions again before the hub is back: it goes on buffering.
    const onBoard = await client(board);
    await until(async () => (await onBoard.call('wamp.subscription.lookup', ['log.line'])).args[0] !== null, 5000, 'the saved subscription made again');
    await onBoard.publish('log.line', ['d'], {}, { acknowledge: true });
    expect(linkOf(board).buffered).toBe(3); // 'all' with limit 2: 'b' made room

    hub = await start(hubPort);
    const after: Heard[] = [];
    await listen(hub, TOPICS, after);
    proxy.open();
    await until(() => after.length >= 3, 10_000, 'the buffered events at the hub');
    await new Promise((r) => setTimeout(r, 200));
    expect(after.map((h) => [h.topic, h.value, h.late])).toEqual([['fleet.temp', 3, true], ['log.line', 'c', true], ['log.line', 'd', true]]);
  }, 30_000);

  it('a hub that stops answering is noticed by the pings, and the link comes back when it answers again', async () => {
    const { hub, proxy } = await hubBehindProxy();
    const config = link(proxy.port);
    config.transport.options = { autoPingInterval: 200, autoPingTimeout: 200, retryInitial: 50, retryMax: 200 };
    const board = await start(0, [config]);
    await until(() => linkOf(board).state === 'up', 10_000, 'the link up');
    const states: string[] = [];
    linkOf(board).onStateChange((l) => states.push(l.state));
    const connects = linkOf(board).connects;
    proxy.pause();
    // No close ever comes through a paused proxy: only an unanswered ping tells.
    await until(() => linkOf(board).state !== 'up', 3000, 'the link down after an unanswered ping');
    expect(linkOf(board).lastError).not.toBeNull();
    proxy.open();
    await until(() => linkOf(board).state === 'up', 15_000, 'the link up again');
    expect(linkOf(board).connects).toBe(connects + 1);
    expect(states[0]).toBe('down');
    expect(states.at(-1)).toBe('up');
    // And it works: a board procedure is callable at the hub.
    await (await client(board)).register('devices.pump.run', () => 'ran');
    const onHub = await client(hub);
    await until(async () => (await onHub.call('devices.pump.run').catch(() => undefined))?.args[0] === 'ran', 10_000, 'the call over the link');
  }, 30_000);

  it("a hub subscriber's unsubscription removes the board's mirror: nothing more goes over the link", async () => {
    const { hub, proxy } = await hubBehindProxy();
    const board = await start(0, [link(proxy.port)]);
    const onBoard = await client(board);
    const onHub = await client(hub);
    const got: unknown[] = [];
    const sub = await onHub.subscribe('fleet.news', (args) => got.push(args[0]));
    await throughLink(onBoard, 'fleet.news', got);
    const lookup = async () => (await onBoard.call('wamp.subscription.lookup', ['fleet.news'])).args[0];
    expect(await lookup()).not.toBeNull();
    await onHub.unsubscribe(sub);
    await until(async () => (await lookup()) === null, 5000, 'the mirror subscription gone at the board');
    const sent = proxy.bytesToTarget;
    for (let i = 0; i < 20; i++) await onBoard.publish('fleet.news', ['unheard'], {}, { acknowledge: true });
    await new Promise((r) => setTimeout(r, 200));
    expect(proxy.bytesToTarget).toBe(sent);
    // A new subscriber gets it mirrored again.
    await onHub.subscribe('fleet.news', (args) => got.push(args[0]));
    await throughLink(onBoard, 'fleet.news', got);
  }, 30_000);

  it("an event matching several of the hub's subscriptions crosses the link once", async () => {
    const { hub, proxy } = await hubBehindProxy();
    const board = await start(0, [link(proxy.port)]);
    const onBoard = await client(board);
    const onHub = await client(hub);
    const exact: unknown[] = [];
    const prefix: unknown[] = [];
    await onHub.subscribe('fleet.temp', (args) => exact.push(args[0]));
    await onHub.subscribe('fleet.', (args) => prefix.push(args[0]), { match: 'prefix' });
    await throughLink(onBoard, 'fleet.temp', exact);
    await until(async () => (await onBoard.call('wamp.subscription.lookup', ['fleet.', { match: 'prefix' }])).args[0] !== null, 5000, 'both mirrored');
    await new Promise((r) => setTimeout(r, 100));
    exact.length = prefix.length = 0;
    await onBoard.publish('fleet.temp', [21], {}, { acknowledge: true });
    await until(() => exact.length > 0 && prefix.length > 0);
    await new Promise((r) => setTimeout(r, 200)); // room for a duplicate
    expect([exact, prefix]).toEqual([[21], [21]]);
  }, 30_000);

  it("keeps a callee's concurrency at the hub, and a call in flight when the link drops fails at once", async () => {
    const { hub, proxy } = await hubBehindProxy();
    const board = await start(0, [link(proxy.port)]);
    const onBoard = await client(board);
    let started = 0;
    let finish: (() => void) | undefined;
    let interrupted = 0;
    await onBoard.register('devices.pump.run', (_args, _kwargs, context) => {
      context.signal.addEventListener('abort', () => interrupted++);
      started++;
      return new Promise<string>((resolve) => (finish = () => resolve('ran')));
    }, { concurrency: 1 });
    const onHub = await client(hub);
    await onHub.register('hub.clock.now', () => 'tea-time');
    let hubSlowStarted = false;
    await onHub.register('hub.slow', () => { hubSlowStarted = true; return new Promise(() => {}); });
    await until(async () => (await onBoard.call('hub.clock.now').catch(() => undefined))?.args[0] === 'tea-time', 10_000, 'hub.clock.now at the board');
    await until(async () => (await onBoard.call('wamp.registration.lookup', ['hub.slow'])).args[0] !== null, 5000, 'hub.slow at the board');
    const registration = async () => (await onHub.call('wamp.registration.lookup', ['devices.pump.run'])).args[0] as number | null;
    await until(async () => (await registration()) !== null, 10_000, 'devices.pump.run registered at the hub');
    const load = (await onHub.call('junction.registration.get', [await registration()])).args[0] as { callees: Array<{ concurrency: number | null }> };
    expect(load.callees.map((c) => c.concurrency)).toEqual([1]);

    const first = onHub.call('devices.pump.run');
    await until(() => started === 1, 5000, 'the first call at the board');
    // The hub itself refuses a second call at once: the board would get no more than it declared.
    await expect(onHub.call('devices.pump.run')).rejects.toMatchObject({ uri: 'crossbar.error.max_concurrency_reached' });
    finish!();
    expect((await first).args[0]).toBe('ran');

    const inFlight = onHub.call('devices.pump.run').then(() => 'answered', (e: WampError) => e.uri);
    const inFlightFromBoard = onBoard.call('hub.slow').then(() => 'answered', (e: WampError) => e.uri);
    await until(() => started === 2 && hubSlowStarted, 5000, 'the calls at the board and at the hub');
    proxy.cut();
    expect(await inFlight).toBe('wamp.error.canceled');
    expect(await inFlightFromBoard).toBe('wamp.error.canceled');
    // The link cancels the call it made at the board: the callee hears of it (INTERRUPT).
    await until(() => interrupted === 1, 5000, 'the board callee interrupted');
    // And while the link is down the procedures are simply not there, on either side.
    await expect(onHub.call('devices.pump.run')).rejects.toMatchObject({ uri: 'wamp.error.no_such_procedure' });
    await until(async () => (await onBoard.call('hub.clock.now').then(() => 'answered', (e: WampError) => e.uri)) === 'wamp.error.no_such_procedure', 2000, 'hub.clock.now gone at the board');
  }, 30_000);
});
