// A board's router links in its meta API: junction.rlink.list and .get say where each link goes and
// how it is, junction.rlink.on_state tells every change as it happens, and the log says the same
// (up; down with the reason and the delay before the next try). The hub stops and comes back.
import { describe, it, expect, afterEach } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { freePort } from '../helpers/free-port.js';
import { until } from '../helpers/until.js';
import { captureStderr } from '../helpers/capture-log.js';
import { ClientSession, WampError } from '../../src/client/client-session.js';
import type { RLinkConfig } from '../../src/config/types.js';

const nodes: TestNode[] = [];
afterEach(async () => {
  await Promise.allSettled(nodes.splice(0).map((n) => n.stop()));
});

async function startHub(port: number): Promise<TestNode> {
  const hub = await startTestNode({ listener: { endpoint: { type: 'tcp', port, interface: '127.0.0.1' } } });
  nodes.push(hub);
  return hub;
}

function link(port: number): RLinkConfig {
  return {
    id: 'to-hub', realm: 'realm1',
    transport: { type: 'websocket', url: `ws://127.0.0.1:${port}/ws`, host: '127.0.0.1', port, tls: false, serializers: ['json'] },
    forwardLocalEvents: true, forwardRemoteEvents: true, forwardLocalInvocations: true, forwardRemoteInvocations: true,
    excludeAuthid: [], excludeAuthrole: [], excludeUri: [],
  };
}

describe('issue 18: router links in the meta API and the log', () => {
  it('junction.rlink.list/get show the link; on_state tells down (with the reason) and up again as the hub goes and returns', async () => {
    const log = captureStderr(/rlink 'to-hub'/);
    try {
      const port = await freePort();
      let hub = await startHub(port);
      const board = await startTestNode({
        realms: [
          { name: 'realm1', roles: [allowAll()], rlinks: [link(port)] },
          { name: 'other', roles: [allowAll()] },
        ],
      });
      nodes.push(board);
      const client = await ClientSession.connect(board.node.router, { realm: 'realm1' });
      const states: Array<Record<string, unknown>> = [];
      await client.subscribe('junction.rlink.on_state', (args) => states.push(args[0] as Record<string, unknown>));
      const get = async () => (await client.call('junction.rlink.get', ['to-hub'])).args[0] as Record<string, unknown>;

      await until(async () => (await get())['state'] === 'up', 10_000, 'the link up');
      expect((await client.call('junction.rlink.list')).args[0]).toEqual(['to-hub']);
      const up = await get();
      expect(up).toEqual({
        id: 'to-hub', realm: 'realm1', url: `ws://127.0.0.1:${port}/ws`, state: 'up', since: expect.any(String),
        connects: 1, last_error: null, buffered: 0,
      });
      expect(Date.parse(up['since'] as string)).toBeLessThanOrEqual(Date.now());
      expect(log.lines.some((l) => l.includes(`rlink 'to-hub': up (realm 'realm1' <-> 'realm1' at ws://127.0.0.1:${port}/ws)`))).toBe(true);

      // Another realm's meta API knows of no link; an unknown id is an error.
      const elsewhere = await ClientSession.connect(board.node.router, { realm: 'other' });
      expect((await elsewhere.call('junction.rlink.list')).args[0]).toEqual([]);
      await elsewhere.close();
      const unknown = await client.call('junction.rlink.get', ['nope']).catch((e: WampError) => e);
      expect(unknown).toBeInstanceOf(WampError);
      expect((unknown as WampError).uri).toBe('junction.error.no_such_rlink');

      await hub.stop();
      nodes.splice(nodes.indexOf(hub), 1);
      await until(() => states.some((s) => s['state'] === 'down'), 10_000, 'on_state down');
      const down = states.find((s) => s['state'] === 'down')!;
      expect(down).toEqual({ id: 'to-hub', state: 'down', since: expect.any(String), last_error: `the connection to ws://127.0.0.1:${port}/ws closed` });
      expect(log.lines.some((l) => l.includes(`rlink 'to-hub': down: the connection to ws://127.0.0.1:${port}/ws closed; connecting again in 1000 ms`))).toBe(true);
      // While the hub is away each try says why it failed, and the wait grows.
      await until(() => log.lines.some((l) => /rlink 'to-hub': down: cannot connect to ws:\S+: .*; connecting again in 2000 ms/.test(l)), 10_000, 'a failed try');
      expect((await get())['last_error']).toMatch(/^cannot connect to ws:\/\/127\.0\.0\.1:\d+\/ws: .*ECONNREFUSED/);

      hub = await startHub(port);
      await until(() => states.at(-1)?.['state'] === 'up', 15_000, 'on_state up again');
      expect(states.map((s) => s['state'])).toEqual(expect.arrayContaining(['down', 'connecting', 'up']));
      expect(await get()).toMatchObject({ state: 'up', connects: 2, last_error: null });
      await client.close();
    } finally {
      log.restore();
    }
  });
});
