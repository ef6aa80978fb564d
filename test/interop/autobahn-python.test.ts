// Interoperability with Autobahn|Python (Debian python3-autobahn, asyncio), over WebSocket and
// RawSocket with each serializer (ubjson: Debian python3-ubjson, Autobahn's backend for it). The Python peers run test/interop/python/peer.py for real.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { runPythonPeer } from '../helpers/python-peer.js';
import { ClientSession, Result } from '../../src/client/client-session.js';

const PEER = fileURLToPath(new URL('./python/peer.py', import.meta.url));
const runPeer = (args: string[]) => runPythonPeer(PEER, args);

describe('Autobahn|Python', () => {
  let node: TestNode;
  let local: ClientSession;

  beforeAll(async () => {
    node = await startTestNode();
    // A procedure of a non-Python session, to check payload fidelity across serializers.
    local = await ClientSession.connect(node.node.router, { realm: 'realm1', name: 'test-echo' });
    await local.register('test.echo', (args, kwargs) => new Result(args, kwargs));
  });
  afterAll(async () => {
    await local?.close();
    await node?.stop();
  });

  for (const transport of ['ws', 'rawsocket'] as const) {
    for (const serializer of ['json', 'msgpack', 'cbor', 'ubjson'] as const) {
      it(`runs RPC and PubSub over ${transport} with ${serializer}`, async () => {
        const out = await runPeer(['--transport', transport, '--serializer', serializer, '--port', String(node.port)]);
        expect(out.add2).toBe(5);
        expect(out.fail).toEqual({ error: 'com.example.error.bad_input', args: ['nope'], kwargs: { code: 7 } });
        expect(out.missing).toBe('wamp.error.no_such_procedure');
        expect(out.countdown).toBe('liftoff');
        expect(out.progress).toEqual([3, 2, 1]);
        expect(out.echo.args).toEqual(['grüße ✓', 2 ** 40, 1.5, true, null, [1, { k: 'v' }], '0001feff']);
        expect(out.echo.kwargs).toEqual({ key: 'val' });
        expect(out.publication_id).toBeGreaterThan(0);
        expect(out.events).toContainEqual({ args: [1, 2], kwargs: { color: 'red' }, topic: 'py.topic' });
        expect(out.events).toContainEqual({ args: ['x'], kwargs: {}, topic: 'py.pfx.kitchen' });
        expect(out.reserved_publish).toBe('wamp.error.invalid_uri');
        expect(out.timeout).toBe('wamp.error.timeout');
        expect(out.timeout_interrupted_callee).toBe(true);
        expect(out.cancelled).toBe(true);
        expect(out.cancel_interrupted_callee).toBe(true);
        expect(out.pattern).toEqual({ caller: null, procedure: 'py.pattern.lamp.on' });
      }, 45_000);
    }
  }
});
