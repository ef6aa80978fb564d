// JunctionNode.reload in process (issue 20 #2): realm settings that apply live, and what a reload
// reports. The same through the CLI and SIGHUP: test/integration/reload-sighup.test.ts.
import { describe, it, expect, afterEach } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ClientSession, WampError } from '../../src/client/client-session.js';
import type { JunctionConfig } from '../../src/config/types.js';
import { curl } from '../helpers/curl.js';
import { LONGPOLL_DEFAULTS } from '../../src/config/load-longpoll.js';

let test: TestNode | undefined;
afterEach(async () => {
  await test?.stop();
  test = undefined;
});

/** The node's running config, deep-copied, to change and reload. */
function copyOf(config: JunctionConfig): JunctionConfig {
  return structuredClone(config);
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof WampError ? err.uri : String(err);
  }
  return 'not refused';
}

describe('reload: realm settings (issue 20 #2)', () => {
  it('issue 20 #2: options.max_pending_calls, options.uri_check and store.call-queue apply from the next message, without a restart', async () => {
    test = await startTestNode({ callQueue: [{ uri: 'slow.', match: 'prefix', limit: 0, timeout: 30_000 }] });
    const { node } = test;
    const callee = await ClientSession.connect(node.router, { realm: 'realm1' });
    await callee.register('slow.op', () => new Promise(() => {}), { concurrency: 1 });
    const caller = await ClientSession.connect(node.router, { realm: 'realm1' });
    void caller.call('slow.op').catch(() => {});

    // Queue limit 0: a call finding the callee busy is refused at once.
    expect(await refusal(caller.call('slow.op'))).toMatch(/concurrency/);
    expect(await refusal(caller.subscribe('Not-Strict.URI', () => {}))).toBe('not refused');

    const next = copyOf(node.config);
    const realm = next.router.realms[0]!;
    realm.maxPendingCalls = 2;
    realm.uriCheck = 'strict';
    realm.store!.callQueue[0]!.limit = 10;
    const report = await node.reload(next);
    expect(report.needsRestart).toEqual([]);
    expect([...report.applied].sort()).toEqual([
      "realm 'realm1': options.max_pending_calls added",
      "realm 'realm1': options.uri_check added",
      "realm 'realm1': store.call-queue['slow.'].limit changed",
    ]);

    void caller.call('slow.op').catch(() => {}); // queued now (limit 10): the caller's 2nd pending call
    expect(await refusal(caller.call('slow.op'))).toBe('junction.error.too_many_pending_calls');
    expect(await refusal(caller.subscribe('Not-Strict.URI', () => {}))).toBe('wamp.error.invalid_uri');
    expect((await node.reload(copyOf(node.config))).applied).toEqual([]);
  });

  it('issue 20 #2: a realm added and a store added are named as needing a restart, and stay so until restarted', async () => {
    test = await startTestNode({ realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [] }] }] });
    const next = copyOf(test.node.config);
    next.router.realms.push({ name: 'realm2', roles: [] });
    next.router.realms[0]!.store = { type: 'memory', limit: 100, callQueue: [], eventHistory: [{ uri: 'a', match: 'exact', limit: 5 }] };
    const report = await test.node.reload(next);
    expect(report.needsRestart).toEqual(["realm 'realm1': store added", "realm 'realm2': added"]);
    expect((await test.node.reload(next)).needsRestart).toHaveLength(2);
  });
});

describe('reload: a long-poll path (issue 16)', () => {
  it("issue 16: a long-poll path's auth applies to new transports after a reload, without a restart (curl)", async () => {
    test = await startTestNode({ listener: { longpoll: { '/lp': { ...LONGPOLL_DEFAULTS } } } });
    const { node } = test;
    const lp = `http://127.0.0.1:${test.port}/lp`;
    /** The first answer to a HELLO offering `authmethods` through a new long-poll transport. */
    const answerTo = async (authmethods?: string[]) => {
      const base = `${lp}/${JSON.parse((await curl(`${lp}/open`, { body: JSON.stringify({ protocols: ['wamp.2.json'] }) })).text).transport}`;
      const details = { roles: { caller: {} }, ...(authmethods ? { authmethods, authid: 'panel' } : {}) };
      await curl(`${base}/send`, { body: JSON.stringify([1, 'realm1', details]) });
      return JSON.parse((await curl(`${base}/receive`)).text) as unknown[];
    };
    expect((await answerTo())[0]).toBe(2); // WELCOME: anyone may join

    const next = copyOf(node.config);
    next.router.listeners[0]!.longpoll!['/lp']!.auth = { ticket: { type: 'static', principals: { panel: { ticket: 'p', role: 'anonymous' } } } };
    const report = await node.reload(next);
    expect(report.needsRestart).toEqual([]);
    expect(report.applied.join('\n')).toMatch(/longpoll\['\/lp'\]\.auth/);
    expect((await answerTo())[0]).toBe(3); // ABORT: no anonymous any more
    expect(await answerTo(['ticket'])).toEqual([4, 'ticket', {}]); // CHALLENGE
  });
});
