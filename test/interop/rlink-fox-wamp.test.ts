// Router links to a router nobody here wrote (issue 18): a Junction board linked to a fox-wamp hub
// (npm fox-wamp, installed outside package.json by .ci/run; see test/helpers/fox-wamp.ts), with
// Autobahn|JS clients on both. fox-wamp has no wamp.subscription.* or wamp.registration.* meta API:
// what needs no meta API works (the board's procedures callable on the hub, the hub's events at the
// board's subscribers); what does (the hub's subscriptions and registrations seen by the board) is
// logged as not forwarded, and the link stays up.
import { describe, it, expect, afterEach } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { until } from '../helpers/until.js';
import { autobahnWs } from '../helpers/autobahn-ws.js';
import { captureStderr } from '../helpers/capture-log.js';
import { startFoxWamp, type FoxWamp } from '../helpers/fox-wamp.js';
import type { RLinkConfig } from '../../src/config/types.js';


type Session = any;
const opened: any[] = [];
let board: TestNode | undefined;
let fox: FoxWamp | undefined;
let log: ReturnType<typeof captureStderr> | undefined;

afterEach(async () => {
  for (const c of opened.splice(0)) try { c.close(); } catch { /* already closed */ }
  await board?.stop();
  fox?.stop();
  log?.restore();
  board = fox = log = undefined;
});

async function connect(url: string): Promise<Session> {
  const { session, connection } = await autobahnWs(url);
  opened.push(connection);
  return session;
}

describe('issue 18: a Junction board linked to a fox-wamp hub', () => {
  it('hub callers reach the board, hub events reach board subscribers once; what needs the meta API is logged', async () => {
    fox = await startFoxWamp();
    log = captureStderr(/rlink/);
    const link: RLinkConfig = {
      id: 'to-fox', realm: 'realm1',
      transport: { type: 'websocket', url: fox.url, host: '127.0.0.1', port: Number(new URL(fox.url).port), tls: false, serializers: ['json'] },
      forwardLocalEvents: true, forwardRemoteEvents: true, forwardLocalInvocations: true, forwardRemoteInvocations: true,
      excludeAuthid: [], excludeAuthrole: [], excludeUri: [],
    };
    board = await startTestNode({ realms: [{ name: 'realm1', roles: [allowAll()], rlinks: [link] }] });
    const onBoard = await connect(board.wsUrl);
    const onHub = await connect(fox.url);

    // A caller on the hub calls the board's procedure (forward_local_invocations: no meta API needed on the hub).
    await onBoard.register('devices.pump.run', (args: number[]) => args[0]! * 2);
    let result: unknown;
    await until(async () => {
      result = await onHub.call('devices.pump.run', [21]).catch(() => undefined);
      return result !== undefined;
    }, 10_000, 'devices.pump.run callable on the fox-wamp hub');
    expect(result).toBe(42);

    // A publisher on the hub reaches a board subscriber, once each (forward_local_events).
    const got: unknown[] = [];
    await onBoard.subscribe('fleet.cmd', (args: unknown[]) => got.push(args[0]));
    await until(async () => {
      onHub.publish('fleet.cmd', ['probe']);
      await new Promise((r) => setTimeout(r, 100));
      return got.length > 0;
    }, 10_000, 'a hub event at the board subscriber');
    await new Promise((r) => setTimeout(r, 300));
    got.length = 0;
    for (let i = 0; i < 5; i++) onHub.publish('fleet.cmd', [i]);
    await until(() => got.length >= 5, 5000, 'five hub events at the board');
    await new Promise((r) => setTimeout(r, 500)); // room for a duplicate
    expect(got).toEqual([0, 1, 2, 3, 4]);

    // The hub's subscriptions and registrations cannot be learnt: said in the log, the link stays up.
    await until(() => log!.lines.some((l) => /rlink 'to-fox': .*refused wamp\.subscription\.list .*forward_remote_events forwards nothing/.test(l)), 5000, 'the log line about forward_remote_events');
    expect(log.lines.some((l) => /rlink 'to-fox': .*refused wamp\.registration\.list .*forward_remote_invocations forwards nothing/.test(l))).toBe(true);
    expect(log.lines.filter((l) => /rlink 'to-fox': up/.test(l))).toHaveLength(1);
    expect(log.lines.some((l) => /rlink 'to-fox': (down|cannot connect)/.test(l))).toBe(false);
    const hubGot: unknown[] = [];
    await onHub.subscribe('fleet.temp', (args: unknown[]) => hubGot.push(args[0]));
    onBoard.publish('fleet.temp', [21.5]);
    await new Promise((r) => setTimeout(r, 500));
    expect(hubGot).toEqual([]); // documented: needs the hub's wamp.subscription meta API
    expect(await onHub.call('devices.pump.run', [1])).toBe(2); // still up
  }, 30_000);
});
