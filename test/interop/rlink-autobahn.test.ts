// Router links (a realm's `rlinks`): two Junction routers in this process, a board linked to a hub;
// Autobahn|JS clients on each side see each other's events and procedures, once each, and the link
// comes back after the hub restarts.
import { describe, it, expect, afterEach } from 'vitest';
import { createRequire } from 'node:module';
import { service, startTestNode, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { freePort } from '../helpers/free-port.js';
import { until } from '../helpers/until.js';
import type { AuthConfig, RealmConfig } from '../../src/config/types.js';
import type { RLinkConfig } from '../../src/config/types.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

type Session = any;
const opened: any[] = [];
const nodes: TestNode[] = [];

function connect(node: TestNode): Promise<Session> {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({ url: node.wsUrl, realm: 'realm1', max_retries: 0 });
    connection.onopen = (session: Session) => resolve(session);
    connection.onclose = (reason: string) => { reject(new Error(`connection closed: ${reason}`)); return true; };
    opened.push(connection);
    connection.open();
  });
}

function link(hubPort: number, overrides: Partial<RLinkConfig> = {}): RLinkConfig {
  return {
    id: 'to-hub', realm: 'realm1',
    transport: { type: 'websocket', url: `ws://127.0.0.1:${hubPort}/ws`, host: '127.0.0.1', port: hubPort, tls: false, serializers: ['json'] },
    forwardLocalEvents: true, forwardRemoteEvents: true, forwardLocalInvocations: true, forwardRemoteInvocations: true,
    excludeAuthid: [], excludeAuthrole: [], excludeUri: [],
    ...overrides,
  };
}

const realm = (rlinks: RLinkConfig[] = []): RealmConfig[] => [{ name: 'realm1', roles: [allowAll()], rlinks }];

async function start(port: number, rlinks: RLinkConfig[] = [], auth?: AuthConfig): Promise<TestNode> {
  const listener = { endpoint: { type: 'tcp' as const, port, interface: '127.0.0.1' }, ...(auth ? { websocket: { '/ws': service({ auth }) } } : {}) };
  const node = await startTestNode({ realms: realm(rlinks), listener });
  nodes.push(node);
  return node;
}

/** Publishes `topic` until `got` has something (the link mirrors subscriptions shortly after they are made). */
async function publishUntil(session: Session, topic: string, got: unknown[]): Promise<void> {
  await until(async () => {
    if (got.length > 0) return true;
    session.publish(topic, ['probe']);
    await new Promise((r) => setTimeout(r, 100));
    return got.length > 0;
  }, 10_000, `an event on ${topic} over the link`);
}

afterEach(async () => {
  for (const c of opened.splice(0)) try { c.close(); } catch { /* already closed */ }
  await Promise.allSettled(nodes.splice(0).map((n) => n.stop()));
});

describe('router links with Autobahn|JS', () => {
  it('a subscriber on the hub gets what a publisher on the board publishes, and back', async () => {
    const hubPort = await freePort();
    const hub = await start(hubPort);
    const board = await start(0, [link(hubPort)]);
    const onHub = await connect(hub);
    const onBoard = await connect(board);
    const hubGot: unknown[] = [];
    const boardGot: unknown[] = [];
    await onHub.subscribe('fleet.temp', (args: unknown[]) => hubGot.push(args[0]));
    await onBoard.subscribe('fleet.cmd', (args: unknown[]) => boardGot.push(args[0]));
    await publishUntil(onBoard, 'fleet.temp', hubGot);
    await publishUntil(onHub, 'fleet.cmd', boardGot);
    await new Promise((r) => setTimeout(r, 300)); // the last probes still on their way
    hubGot.length = 0;
    onBoard.publish('fleet.temp', [21.5]);
    await until(() => hubGot.length > 0);
    expect(hubGot).toEqual([21.5]);
  });

  it('a caller on the hub calls a procedure registered on the board, and back', async () => {
    const hubPort = await freePort();
    const hub = await start(hubPort);
    const board = await start(0, [link(hubPort)]);
    const onBoard = await connect(board);
    await onBoard.register('devices.pump.run', (args: number[]) => args[0]! * 2);
    const onHub = await connect(hub);
    let result: unknown;
    await until(async () => {
      result = await onHub.call('devices.pump.run', [21]).catch(() => undefined);
      return result !== undefined;
    }, 10_000, 'devices.pump.run callable on the hub');
    expect(result).toBe(42);

    // forward_remote_invocations: what the hub offers, the board's callers reach.
    await onHub.register('hub.clock.now', () => 'tea-time');
    const onBoardCaller = await connect(board);
    let now: unknown;
    await until(async () => {
      now = await onBoardCaller.call('hub.clock.now').catch(() => undefined);
      return now !== undefined;
    }, 10_000, 'hub.clock.now callable on the board');
    expect(now).toBe('tea-time');
    // An error from the callee comes back as it was raised.
    await onBoard.register('devices.pump.fail', () => { throw new autobahn.Error('devices.error.dry', ['no water']); });
    let error: any;
    await until(async () => {
      error = await onHub.call('devices.pump.fail').then(() => undefined, (e: any) => e);
      return error?.error === 'devices.error.dry';
    }, 10_000, 'devices.pump.fail answered with its error on the hub');
    expect(error.args).toEqual(['no water']);
  });

  it("keeps a registration's invoke policy: two boards with invoke 'first' give hot standby through the hub", async () => {
    const hubPort = await freePort();
    const hub = await start(hubPort);
    const onHub = await connect(hub);
    const boards: TestNode[] = [];
    for (const name of ['board-1', 'board-2']) {
      const board = await start(0, [link(hubPort, { id: name })]);
      boards.push(board);
      await (await connect(board)).register('devices.pump.run', () => name, { invoke: 'first' });
      let answer: unknown;
      await until(async () => {
        answer = await onHub.call('devices.pump.run').catch(() => undefined);
        return answer !== undefined;
      }, 10_000, `devices.pump.run on the hub after ${name}`);
      expect(answer).toBe('board-1');
    }
    await boards[0]!.stop();
    let answer: unknown;
    await until(async () => {
      answer = await onHub.call('devices.pump.run').catch(() => undefined);
      return answer === 'board-2';
    }, 10_000, 'the call going to board-2 once board-1 is gone');
    expect(answer).toBe('board-2');
  });

  it('logs in to the hub with its ticket, as the authid it names', async () => {
    const hubPort = await freePort();
    const hub = await start(hubPort, [], {
      ticket: { type: 'static', principals: { 'board-1': { ticket: 'right', role: 'anonymous' } } },
      anonymous: { type: 'static', role: 'anonymous' },
    });
    const wrong = await start(0, [link(hubPort, { id: 'wrong', authid: 'board-1', ticket: 'wrong' })]);
    const board = await start(0, [link(hubPort, { authid: 'board-1', ticket: 'right' })]);
    await (await connect(board)).register('devices.pump.run', () => 'ran');
    await (await connect(wrong)).register('devices.valve.open', () => 'opened');
    const onHub = await connect(hub);
    await until(async () => (await onHub.call('devices.pump.run').catch(() => undefined)) === 'ran', 10_000, 'the ticket link up');
    const sessions = await onHub.call('wamp.session.list');
    const authids = await Promise.all(sessions.map(async (id: number) => (await onHub.call('wamp.session.get', [id])).authid));
    expect(authids).toContain('board-1');
    expect(await onHub.call('devices.valve.open').then(() => 'reached', (e: any) => e.error)).toBe('wamp.error.no_such_procedure');
  });

  it('no echo: with links both ways, every subscriber gets each event once', async () => {
    const hubPort = await freePort();
    const boardPort = await freePort();
    const hub = await start(hubPort, [link(boardPort, { id: 'to-board', forwardRemoteEvents: false })]);
    const board = await start(boardPort, [link(hubPort, { forwardRemoteEvents: false })]);
    const subs = [await connect(hub), await connect(board)];
    const got: string[][] = [[], []];
    for (const [i, s] of subs.entries()) await s.subscribe('fleet.news', (args: string[]) => got[i]!.push(args[0]!));
    const [pubHub, pubBoard] = [await connect(hub), await connect(board)];
    await publishUntil(pubBoard, 'fleet.news', got[0]!);
    got[1]!.length = 0;
    await publishUntil(pubHub, 'fleet.news', got[1]!);
    await new Promise((r) => setTimeout(r, 300)); // the last probes still on their way
    got[0]!.length = 0;
    got[1]!.length = 0;
    pubHub.publish('fleet.news', ['from-hub']);
    pubBoard.publish('fleet.news', ['from-board']);
    await until(() => got[0]!.length >= 2 && got[1]!.length >= 2, 3000).catch(() => { throw new Error(JSON.stringify(got)); });
    await new Promise((r) => setTimeout(r, 500)); // room for an echo to arrive
    expect(got.map((g) => [...g].sort())).toEqual([['from-board', 'from-hub'], ['from-board', 'from-hub']]);
  });

  it('the link comes back after the hub restarts, and subscribes again', async () => {
    const hubPort = await freePort();
    let hub = await start(hubPort);
    const board = await start(0, [link(hubPort)]);
    const onBoard = await connect(board);
    let onHub = await connect(hub);
    const got: unknown[] = [];
    await onHub.subscribe('fleet.temp', (args: unknown[]) => got.push(args[0]));
    await publishUntil(onBoard, 'fleet.temp', got);
    await hub.stop();
    nodes.splice(nodes.indexOf(hub), 1);
    hub = await start(hubPort);
    onHub = await connect(hub);
    const after: unknown[] = [];
    await onHub.subscribe('fleet.temp', (args: unknown[]) => after.push(args[0]));
    await publishUntil(onBoard, 'fleet.temp', after);
    expect(after.length).toBeGreaterThan(0);
  }, 20_000);
});
