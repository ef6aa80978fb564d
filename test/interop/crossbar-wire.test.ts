// Crossbar's wire choices (Junction's default) and the spec's (a realm's options.wire 'spec'), with
// Autobahn|Python (asyncio and Twisted, test/interop/python/crossbar_wire.py) and Autobahn|JS
// clients written the way Crossbar's documentation shows: a one-argument on_leave handler, leave()
// and then the close reason, wamp.session.get against the on_join details, kill with positional
// reason and message.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { spawnPython } from '../helpers/python-peer.js';
import { until } from '../helpers/until.js';
import type { RealmConfig } from '../../src/config/types.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');
const MONITOR = fileURLToPath(new URL('./python/crossbar_wire.py', import.meta.url));

const realm = (wire?: RealmConfig['wire']): RealmConfig => ({
  name: 'realm1', roles: [allowAll()], wire, store: { type: 'memory', limit: 100, callQueue: [], eventHistory: [] },
});

/** An Autobahn|JS session; `closed` resolves with Autobahn's onclose (reason, details). */
function open(node: TestNode): Promise<{ session: any; connection: any; closed: Promise<{ reason: string; details: any }> }> {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({ url: node.wsUrl, realm: 'realm1', max_retries: 0 });
    let closedResolve: (v: { reason: string; details: any }) => void = () => {};
    const closed = new Promise<{ reason: string; details: any }>((r) => { closedResolve = r; });
    connection.onopen = (session: any) => resolve({ session, connection, closed });
    connection.onclose = (reason: string, details: any) => {
      closedResolve({ reason, details });
      reject(new Error(`connection closed: ${reason}`));
      return true;
    };
    connection.open();
  });
}

describe('Crossbar wire choices', () => {
  let crossbar: TestNode;
  let spec: TestNode;
  beforeAll(async () => {
    [crossbar, spec] = await Promise.all([startTestNode({ realms: [realm()] }), startTestNode({ realms: [realm('spec')] })]);
  });
  const monitors: ReturnType<typeof spawnPython>[] = [];
  afterEach(() => { for (const m of monitors.splice(0)) if (m.child.exitCode === null) m.child.kill(); });
  afterAll(async () => {
    await crossbar?.stop();
    await spec?.stop();
  });

  for (const flavor of ['asyncio', 'twisted'] as const) {
    it(`Autobahn|Python (${flavor}): one-argument on_leave, session.get equals on_join, positional kill, GOODBYE reply wamp.close.normal`, async () => {
      const monitor = spawnPython(MONITOR, [flavor, crossbar.wsUrl]);
      monitors.push(monitor);
      await monitor.ready;
      const victim = await open(crossbar);
      const victimId = victim.session.id;
      const { details } = await victim.closed;
      expect(details.reason).toBe('com.example.maintenance');
      expect(details.message).toBe('back soon');
      const out = JSON.parse((await monitor.exited).filter((l) => l.startsWith('{')).at(-1)!);
      expect(out.get_equals_on_join).toBe(true);
      expect(out.get_keys).toEqual(['authextra', 'authid', 'authmethod', 'authprovider', 'authrole', 'realm', 'resumable',
        'resume_token', 'resumed', 'serializer', 'session', 'transport']);
      expect(out.leaves).toEqual([[victimId]]);
      expect(out.close_reason).toBe('wamp.close.normal');
    }, 30_000);

    it(`Autobahn|Python (${flavor}) on a realm with options.wire 'spec': on_leave [session, authid, authrole], GOODBYE reply goodbye_and_out`, async () => {
      const monitor = spawnPython(MONITOR, [flavor, spec.wsUrl, '--varargs']);
      monitors.push(monitor);
      await monitor.ready;
      const victim = await open(spec);
      const victimId = victim.session.id;
      await victim.closed;
      const out = JSON.parse((await monitor.exited).filter((l) => l.startsWith('{')).at(-1)!);
      expect(out.get_equals_on_join).toBe(true);
      expect(out.leaves).toEqual([[victimId, expect.any(String), 'anonymous']]);
      expect(out.close_reason).toBe('wamp.close.goodbye_and_out');
    }, 30_000);
  }

  for (const [name, wire] of [['crossbar', undefined], ['spec', 'spec']] as const) {
    it(`Autobahn|JS (${name}): on_leave arguments, kill_by_authrole with positional reason, close reason after leave`, async () => {
      const node = wire ? spec : crossbar;
      const monitor = await open(node);
      const leaves: unknown[][] = [];
      await monitor.session.subscribe('wamp.session.on_leave', (args: unknown[]) => { leaves.push(args); });
      const joins: any[] = [];
      await monitor.session.subscribe('wamp.session.on_join', (args: any[]) => { joins.push(args[0]); });
      const other = await open(node);
      const otherId = other.session.id;
      await until(() => joins.length > 0);
      expect(await monitor.session.call('wamp.session.get', [otherId])).toEqual(joins[0]);
      const killed = await monitor.session.call('wamp.session.kill_by_authid', [joins[0].authid, 'com.example.rotate']);
      expect(killed).toEqual([otherId]);
      expect((await other.closed).details.reason).toBe('com.example.rotate');
      await until(() => leaves.length > 0);
      expect(leaves[0]).toEqual(wire ? [otherId, joins[0].authid, 'anonymous'] : [otherId]);
      monitor.connection.close();
      const { reason, details } = await monitor.closed;
      expect(reason).toBe('closed');
      expect(details.reason).toBe(wire ? 'wamp.close.goodbye_and_out' : 'wamp.close.normal');
    }, 20_000);
  }
});
