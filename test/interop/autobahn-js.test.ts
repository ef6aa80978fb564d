// Interoperability with Autobahn|JS (npm `autobahn`, 22.x: the line that runs on Node 20),
// a client nobody here wrote, over WebSocket with each serializer and over RawSocket.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createRequire } from 'node:module';
import { service, startTestNode, type TestNode } from '../helpers/node.js';
import { DEFAULT_TRANSPORT_OPTIONS } from '../../src/config/types.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

type Session = any;

function connect(node: TestNode, transport: 'ws-json' | 'ws-msgpack' | 'ws-cbor' | 'rawsocket'): Promise<{ session: Session; connection: any }> {
  const S = autobahn.serializer;
  const transports = transport === 'rawsocket'
    ? [{ type: 'rawsocket', host: '127.0.0.1', port: node.port }]
    : [{
      type: 'websocket',
      url: node.wsUrl,
      serializers: [transport === 'ws-json' ? new S.JSONSerializer() : transport === 'ws-msgpack' ? new S.MsgpackSerializer() : new S.CBORSerializer()],
    }];
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({ transports, realm: 'realm1', max_retries: 0 });
    connection.onopen = (session: Session) => resolve({ session, connection });
    connection.onclose = (reason: string, details: unknown) => {
      reject(new Error(`connection closed: ${reason} ${JSON.stringify(details)}`));
      return true; // no reconnect
    };
    connection.open();
  });
}

const errorOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return undefined;
  } catch (e: any) {
    return e;
  }
};

for (const transport of ['ws-json', 'ws-msgpack', 'ws-cbor', 'rawsocket'] as const) {
  describe(`Autobahn|JS over ${transport}`, () => {
    let node: TestNode;
    let a: { session: Session; connection: any };
    let b: { session: Session; connection: any };

    beforeAll(async () => {
      node = await startTestNode();
      a = await connect(node, transport);
      b = await connect(node, transport);
    });
    afterAll(async () => {
      a?.connection.close();
      b?.connection.close();
      await node?.stop();
    });

    it('joins with the router roles announced', () => {
      expect(a.session.id).toBeGreaterThan(0);
      expect(a.session.id).not.toBe(b.session.id);
    });

    it('calls a procedure registered by another session, with args and kwargs intact', async () => {
      await a.session.register('js.add2', (args: number[]) => args[0]! + args[1]!);
      await a.session.register('js.echo', (args: unknown[], kwargs: object) => new autobahn.Result(args, kwargs));
      expect(await b.session.call('js.add2', [20, 22])).toBe(42);
      const payload = ['grüße ✓', 2 ** 40, 1.5, true, null, [1, { k: 'v' }]];
      const echoed = await b.session.call('js.echo', payload, { key: 'val' });
      expect(echoed.args).toEqual(payload);
      expect(echoed.kwargs).toEqual({ key: 'val' });
    });

    it('forwards application errors and answers a missing procedure with no_such_procedure', async () => {
      await a.session.register('js.fail', () => { throw new autobahn.Error('com.example.error.bad', ['nope'], { code: 7 }); });
      const err = await errorOf(b.session.call('js.fail'));
      expect(err.error).toBe('com.example.error.bad');
      expect(err.args).toEqual(['nope']);
      expect(err.kwargs).toEqual({ code: 7 });
      expect((await errorOf(b.session.call('js.missing'))).error).toBe('wamp.error.no_such_procedure');
    });

    it('relays progressive results', async () => {
      await a.session.register('js.progress', (_args: unknown[], _kw: unknown, details: any) => {
        if (details.progress) { details.progress([1]); details.progress([2]); }
        return 'done';
      });
      const seen: unknown[] = [];
      const result = await b.session.call('js.progress', [], {}, { receive_progress: true }).then(
        (r: unknown) => r,
        undefined,
        (p: any) => seen.push(p.args ? p.args[0] : p),
      );
      expect(result).toBe('done');
      expect(seen).toEqual([1, 2]);
    });

    it('delivers events (exact, prefix with topic) and acknowledges publishes', async () => {
      const got: Array<{ args: unknown[]; topic?: string }> = [];
      const done = new Promise<void>((resolve) => {
        const handler = (args: unknown[], _kw: unknown, details: any) => {
          got.push({ args, topic: details.topic });
          if (got.length === 2) resolve();
        };
        void a.session.subscribe('js.topic', handler);
        void a.session.subscribe('js.pfx.', handler, { match: 'prefix' });
      });
      await new Promise((r) => setTimeout(r, 50));
      const pub = await b.session.publish('js.topic', [1, 'two'], {}, { acknowledge: true });
      expect(pub.id).toBeGreaterThan(0);
      await b.session.publish('js.pfx.kitchen', ['x'], {}, { acknowledge: true });
      await done;
      // Autobahn|JS fills in the subscription's topic when the router (rightly) omits it.
      expect(got).toContainEqual({ args: [1, 'two'], topic: 'js.topic' });
      expect(got).toContainEqual({ args: ['x'], topic: 'js.pfx.kitchen' });
    });

    it('refuses publishing into wamp.* and a bad URI with the spec errors, keeping the session', async () => {
      expect((await errorOf(b.session.publish('wamp.session.on_join', [], {}, { acknowledge: true }))).error).toBe('wamp.error.invalid_uri');
      expect((await errorOf(b.session.call('bad uri'))).error).toBe('wamp.error.invalid_uri');
      expect(await b.session.call('js.add2', [1, 1])).toBe(2);
    });

    it('discloses the caller on disclose_me, enforces call timeouts in ms, routes pattern registrations', async () => {
      await a.session.register('js.who', (_a: unknown, _k: unknown, details: any) => details.caller ?? null);
      expect(await b.session.call('js.who', [], {}, { disclose_me: true })).toBe(b.session.id);
      expect(await b.session.call('js.who')).toBeNull();
      await a.session.register('js.hang', () => new Promise(() => {}));
      const started = Date.now();
      expect((await errorOf(b.session.call('js.hang', [], {}, { timeout: 150 }))).error).toBe('wamp.error.timeout');
      expect(Date.now() - started).toBeLessThan(2000);
      await a.session.register('js.dev.', (_a: unknown, _k: unknown, details: any) => details.procedure, { match: 'prefix' });
      expect(await b.session.call('js.dev.lamp.off')).toBe('js.dev.lamp.off');
    });

    it('spreads roundrobin calls evenly over shared registrations', async () => {
      const counts = [0, 0];
      await a.session.register('js.rr', () => ++counts[0]!, { invoke: 'roundrobin' });
      await b.session.register('js.rr', () => ++counts[1]!, { invoke: 'roundrobin' });
      const { session: caller, connection } = await connect(node, transport);
      await Promise.all(Array.from({ length: 40 }, () => caller.call('js.rr')));
      connection.close();
      expect(counts).toEqual([20, 20]);
    });
  });
}

describe('Autobahn|JS over RawSocket with the router pinging (auto_ping_interval)', () => {
  let node: TestNode | undefined;
  afterAll(async () => {
    await node?.stop();
  });

  // Autobahn|JS's Node client handles a frame's payload only once bytes of it arrived: a PING
  // without a payload would be answered only with its next frame, and an idle client be dropped.
  it('an idle client answers every PING and stays connected', async () => {
    node = await startTestNode({ listener: { rawsocket: service({ options: { ...DEFAULT_TRANSPORT_OPTIONS, autoPingInterval: 50, autoPingTimeout: 100 } }) } });
    const { session, connection } = await connect(node, 'rawsocket');
    let closed = false;
    connection.onclose = () => {
      closed = true;
      return true;
    };
    await new Promise((r) => setTimeout(r, 1000)); // 20 PINGs, nothing else
    expect(closed).toBe(false);
    expect(session.isOpen).toBe(true);
    expect(await session.call('wamp.session.count')).toBeGreaterThanOrEqual(1); // still routed
    connection.close();
  });
});
