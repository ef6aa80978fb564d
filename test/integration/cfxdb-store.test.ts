// A realm whose `store` is Crossbar's `type: cfxdb`: Junction keeps it in memory, with its
// event-history read as the memory store reads it; Autobahn|JS clients use the history as
// Crossbar's event-history docs show (wamp.subscription.lookup, wamp.subscription.get_events).
import { describe, it, expect, afterAll } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startNode, type JunctionNode } from '../../src/node.js';
import { autobahnWs } from '../helpers/autobahn-ws.js';

describe('store type cfxdb', () => {
  let node: JunctionNode | undefined;
  afterAll(() => node?.stop());

  it('keeps the configured event history in memory', async () => {
    const config = parseConfig({
      version: 2,
      workers: [{
        type: 'router',
        realms: [{
          name: 'realm1',
          roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }] }],
          store: { type: 'cfxdb', path: '../.db-realm1', maxsize: 1073741824, 'event-history': [{ uri: 'com.example.oncounter', limit: 2 }] },
        }],
        transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' } }],
      }],
    });
    expect(config.warnings?.map((w) => w.path)).toEqual(['workers[0].realms[0].store.type']);
    node = await startNode(config);
    const address = node.listeners[0]!.address();
    const url = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    const subscriber = await autobahnWs(url);
    const publisher = await autobahnWs(url);
    await subscriber.session.subscribe('com.example.oncounter', () => undefined);
    for (const n of [1, 2, 3]) await publisher.session.publish('com.example.oncounter', [n], {}, { acknowledge: true });
    const id = await subscriber.session.call('wamp.subscription.lookup', ['com.example.oncounter']);
    const events = await subscriber.session.call('wamp.subscription.get_events', [id, 10]);
    expect(events.map((e: { args: unknown[] }) => e.args)).toEqual([[3], [2]]); // newest first, limit 2
    subscriber.connection.close();
    publisher.connection.close();
  });
});
