// Payload validation (a realm `inventory`, a permission `validate`, in Crossbar's config shape)
// with Autobahn|JS as caller, callee, publisher and subscriber, and Autobahn|Python (asyncio,
// test/interop/python/payload_validation_peer.py) with each serializer.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { autobahnWs, type AutobahnClient } from '../helpers/autobahn-ws.js';
import { until } from '../helpers/until.js';
import { parseConfig } from '../../src/config/load.js';
import { runPythonPeer } from '../helpers/python-peer.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');
const FIXTURES = fileURLToPath(new URL('../fixtures/payload-validation/', import.meta.url));
const ALL = { call: true, register: true, publish: true, subscribe: true };

/** realm1 as a Crossbar user writes it: the garden catalog, and two permissions that validate. */
const CROSSBAR_CONFIG = {
  version: 2,
  workers: [{
    type: 'router',
    realms: [{
      name: 'realm1',
      inventory: { type: 'wamp.eth', catalogs: [{ name: 'garden', archive: 'garden.bfbs' }] },
      roles: [{
        name: 'anonymous',
        permissions: [
          { uri: 'garden.', match: 'prefix', allow: ALL },
          { uri: 'garden.sow', match: 'exact', allow: ALL, validate: { call: 'garden.Sow', call_result: 'garden.Harvest' } },
          { uri: 'garden.on_sighting', match: 'exact', allow: ALL, validate: { event: 'garden.Sighting' } },
          { uri: 'garden.grow', match: 'exact', allow: ALL, validate: { call_result: 'garden.Harvest', call_result_progress: 'garden.Plant', call_error: 'garden.Plant' } },
        ],
      }],
    }],
    transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 8080 } }],
  }],
};

const errorOf = async (p: Promise<unknown>): Promise<any> => {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
};

describe('payload validation with Autobahn|JS (Crossbar config shape)', () => {
  let node: TestNode;
  let caller: AutobahnClient;
  let callee: AutobahnClient;
  let plainCalls = 0;

  beforeAll(async () => {
    const config = parseConfig(CROSSBAR_CONFIG, undefined, FIXTURES);
    node = await startTestNode({ realms: config.router.realms });
    caller = await autobahnWs(node.wsUrl);
    callee = await autobahnWs(node.wsUrl);
    await callee.session.register('garden.sow', (args: unknown[], kwargs: Record<string, unknown>) => {
      plainCalls++;
      if (kwargs?.['note'] === 'answer badly') return new autobahn.Result([{ species: 'tomato' }, -5]);
      return new autobahn.Result([{ species: 'tomato', height_cm: 80.5 }, 1200]);
    });
  });
  afterAll(async () => {
    caller?.connection.close();
    callee?.connection.close();
    await node?.stop();
  });

  it('a valid call goes through, with its positional args and kwargs', async () => {
    const before = plainCalls;
    const result = await caller.session.call('garden.sow', [3, 120, true], { note: 'tomatoes', depth_mm: 12 });
    expect(result.args).toEqual([{ species: 'tomato', height_cm: 80.5 }, 1200]);
    expect(plainCalls).toBe(before + 1);
  });

  it('an invalid call gets wamp.error.invalid_argument naming the field, and never reaches the callee', async () => {
    const before = plainCalls;
    const e = await errorOf(caller.session.call('garden.sow', [3, -1, true]));
    expect(e.error).toBe('wamp.error.invalid_argument');
    expect(e.args[0]).toBe(`call of procedure 'garden.sow' with invalid application payload: args[1] ("seeds" in type "garden.Sow"): -1 is out of range for uint32 (0..4294967295)`);
    const missing = await errorOf(caller.session.call('garden.sow', [3, 120]));
    expect(missing.args[0]).toMatch(/missing positional argument "organic"/);
    const kw = await errorOf(caller.session.call('garden.sow', [3, 120, true], { colour: 'red' }));
    expect(kw.args[0]).toMatch(/unexpected keyword argument\(s\) "colour"/);
    expect(plainCalls).toBe(before);
  });

  it('an invalid call result reaches the caller as wamp.error.invalid_argument', async () => {
    const e = await errorOf(caller.session.call('garden.sow', [3, 120, true], { note: 'answer badly' }));
    expect(e.error).toBe('wamp.error.invalid_argument');
    expect(e.args[0]).toBe(`call result from procedure 'garden.sow' with invalid application payload: args[1] ("weight_g" in type "garden.Harvest"): -5 is out of range for uint32 (0..4294967295)`);
    // the callee is still there for the next call
    expect((await caller.session.call('garden.sow', [1, 1, false])).args[1]).toBe(1200);
  });

  it('an invalid event is not delivered; the publisher that asked for acknowledge gets the error', async () => {
    const seen: unknown[][] = [];
    const sub = await callee.session.subscribe('garden.on_sighting', (args: unknown[], kwargs: Record<string, unknown>) => { seen.push([args, kwargs]); });
    const e = await errorOf(caller.session.publish('garden.on_sighting', ['robin', 70000], {}, { acknowledge: true, exclude_me: false }));
    expect(e.error).toBe('wamp.error.invalid_argument');
    expect(e.args[0]).toBe(`publish to topic URI 'garden.on_sighting' with invalid application payload: args[1] ("count" in type "garden.Sighting"): 70000 is out of range for uint16 (0..65535)`);
    caller.session.publish('garden.on_sighting', ['wren', 'two']); // invalid, no acknowledge: silently dropped
    await caller.session.publish('garden.on_sighting', ['blackbird', 2], { seen_at: 1764770000 }, { acknowledge: true });
    await until(() => seen.length >= 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([[['blackbird', 2], { seen_at: 1764770000 }]]);
    await callee.session.unsubscribe(sub);
  });

  it('progressive results are checked against call_result_progress, callee errors against call_error', async () => {
    await callee.session.register('garden.grow', (args: unknown[], _kwargs: unknown, details: any) => {
      const how = args[0];
      if (how === 'frost') throw new autobahn.Error('garden.error.frost', ['rose', 3]);
      if (how === 'bad frost') throw new autobahn.Error('garden.error.frost', [42]);
      details.progress(how === 'bad progress' ? ['sprout', 'tall'] : ['sprout', 2.5]);
      return new autobahn.Result([{ species: 'rose' }, 10]);
    });
    const progress: unknown[] = [];
    const ok = await caller.session.call('garden.grow', ['well'], {}, { receive_progress: true }).then(
      (r: any) => r, undefined, (p: any) => { progress.push(p.args); });
    expect(progress).toEqual([['sprout', 2.5]]);
    expect(ok.args).toEqual([{ species: 'rose' }, 10]);

    const badProgress = await errorOf(caller.session.call('garden.grow', ['bad progress'], {}, { receive_progress: true }));
    expect(badProgress.error).toBe('wamp.error.invalid_argument');
    expect(badProgress.args[0]).toBe(`call result from procedure 'garden.grow' with invalid application payload: args[1] ("height_cm" in type "garden.Plant"): expected float, got string "tall"`);

    const frost = await errorOf(caller.session.call('garden.grow', ['frost']));
    expect([frost.error, frost.args]).toEqual(['garden.error.frost', ['rose', 3]]);
    const badFrost = await errorOf(caller.session.call('garden.grow', ['bad frost']));
    expect(badFrost.error).toBe('wamp.error.invalid_argument');
    expect(badFrost.args[0]).toBe(`call error from procedure 'garden.grow' with invalid application payload: args[0] ("species" in type "garden.Plant"): expected string, got number 42`);
  });

  it('URIs without validate are not checked', async () => {
    await callee.session.register('garden.water', (args: unknown[]) => new autobahn.Result(args));
    expect((await caller.session.call('garden.water', ['anything', { at: 'all' }])).args).toEqual(['anything', { at: 'all' }]);
  });
});

describe('payload validation with Autobahn|Python (Crossbar config shape)', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode({ realms: parseConfig(CROSSBAR_CONFIG, undefined, FIXTURES).router.realms });
  });
  afterAll(async () => {
    await node?.stop();
  });

  for (const serializer of ['json', 'msgpack', 'cbor'] as const) {
    it(`valid payloads pass, invalid ones get wamp.error.invalid_argument, over ${serializer}`, async () => {
      const out = await runPythonPeer(fileURLToPath(new URL('./python/payload_validation_peer.py', import.meta.url)), [String(node.port), serializer]);
      expect(out.valid).toEqual([{ species: 'tomato', height_cm: 80.5 }, 1200]);
      expect(out.invalid_call).toEqual({ error: 'wamp.error.invalid_argument', args: [`call of procedure 'garden.sow' with invalid application payload: args[2] ("organic" in type "garden.Sow"): expected bool, got string "yes"`] });
      expect(out.invalid_result).toEqual({ error: 'wamp.error.invalid_argument', args: [`call result from procedure 'garden.sow' with invalid application payload: args[1] ("weight_g" in type "garden.Harvest"): expected uint32, got string "heavy"`] });
      expect(out.invalid_event).toEqual({ error: 'wamp.error.invalid_argument', args: [`publish to topic URI 'garden.on_sighting' with invalid application payload: args[1] ("count" in type "garden.Sighting"): -1 is out of range for uint16 (0..65535)`] });
      expect(out.events).toEqual([{ args: ['blackbird', 2], kwargs: { seen_at: 1764770000 } }]);
    }, 30_000);
  }
});
