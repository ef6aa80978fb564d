// Crossbar's `websocket-reverseproxy` web path: Autobahn|JS clients (and Autobahn|Python's asyncio
// peers) reach a second Junction's WAMP WebSocket transport through a Junction proxy path, with the
// subprotocol negotiated end to end; a
// plain ws server behind it sees text, binary and close codes unchanged; an unreachable backend
// refuses the upgrade (503, Crossbar's) and the router goes on serving.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { parseConfig } from '../../src/config/load.js';
import { routerWithTransport } from '../helpers/config.js';
import { startNode, type JunctionNode } from '../../src/node.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { freePort } from '../helpers/free-port.js';
import { until } from '../helpers/until.js';
import { curl } from '../helpers/curl.js';
import { rawWebSocket } from '../helpers/raw-websocket.js';
import { runPythonPeer } from '../helpers/python-peer.js';
import { ClientSession, Result } from '../../src/client/client-session.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

type Session = any;

const TLS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));

/** A Junction whose web transport serves `/proxy1` (the Crossbar docs' example, backend on `port`) beside its own WAMP path `/ws`. */
async function startProxy(port: number, backendPath = '/ws', opts: { options?: object; backendOptions?: object; tls?: object; timeout?: number; nested?: boolean } = {}): Promise<{ node: JunctionNode; url: (path: string) => string }> {
  const proxyPath = {
    type: 'websocket-reverseproxy',
    backend: {
      type: 'websocket',
      endpoint: { type: 'tcp', host: '127.0.0.1', port, timeout: opts.timeout ?? 5, ...(opts.tls ? { tls: opts.tls } : {}) },
      url: `${opts.tls ? 'wss' : 'ws'}://localhost:${port}${backendPath}`,
      ...(opts.backendOptions ? { options: opts.backendOptions } : {}),
    },
    ...(opts.options ? { options: opts.options } : {}),
  };
  const config = parseConfig(routerWithTransport({
    type: 'web',
    endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
    paths: {
      ws: { type: 'websocket' },
      // Also inside a `path` entry, at /app/proxy1.
      ...(opts.nested ? { app: { type: 'path', paths: { proxy1: proxyPath } } } : { proxy1: proxyPath }),
    },
  }));
  const node = await startNode(config);
  const address = node.listeners[0]!.address() as AddressInfo;
  return { node, url: (path) => `ws://127.0.0.1:${address.port}${path}` };
}

function connect(url: string, serializer: 'json' | 'msgpack'): Promise<{ session: Session; connection: any; closed: Promise<string> }> {
  const S = autobahn.serializer;
  return new Promise((resolve, reject) => {
    let closedWith: (reason: string) => void = () => {};
    const closed = new Promise<string>((r) => { closedWith = r; });
    const connection = new autobahn.Connection({
      transports: [{ type: 'websocket', url, serializers: [serializer === 'json' ? new S.JSONSerializer() : new S.MsgpackSerializer()] }],
      realm: 'realm1',
      max_retries: 0,
    });
    connection.onopen = (session: Session) => resolve({ session, connection, closed });
    connection.onclose = (reason: string, details: unknown) => {
      closedWith(reason);
      reject(new Error(`connection closed: ${reason} ${JSON.stringify(details)}`));
      return true; // no reconnect
    };
    connection.open();
  });
}

/** The status line of a refused upgrade, or 101. */
function upgradeStatus(url: string, protocols: string[] = ['wamp.2.json']): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', (err) => { if (!err.message.includes('closed before')) reject(err); });
  });
}

describe('websocket-reverseproxy to a Junction WAMP transport (Autobahn|JS)', () => {
  let backend: TestNode;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let direct: { session: Session; connection: any };

  beforeAll(async () => {
    backend = await startTestNode();
    proxy = await startProxy(backend.port);
    direct = await connect(backend.wsUrl, 'json');
    await direct.session.register('com.backend.add', (args: number[]) => args[0]! + args[1]!);
  });
  afterAll(async () => {
    direct?.connection.close();
    await proxy?.node.stop();
    await backend?.stop();
  });

  for (const serializer of ['json', 'msgpack'] as const) {
    it(`calls and subscribes on the backend through the proxy, subprotocol wamp.2.${serializer} end to end`, async () => {
      const client = await connect(proxy.url('/proxy1'), serializer);
      try {
        // The client's side: the proxy answered with the backend's choice.
        expect(client.connection._transport.info.protocol).toBe(`wamp.2.${serializer}`);
        // The backend's side: the session the backend made is on that subprotocol too.
        const details = await client.session.call('wamp.session.get', [client.session.id]);
        expect(details.transport.protocol ?? details.transport.websocket_protocol).toBe(`wamp.2.${serializer}`);
        expect(await client.session.call('com.backend.add', [2, 3])).toBe(5);
        const got: unknown[] = [];
        await client.session.subscribe('com.backend.news', (args: unknown[]) => got.push(args[0]));
        await direct.session.publish('com.backend.news', [{ text: 'hello', n: 1 }], {}, { acknowledge: true });
        await until(() => got.length === 1);
        expect(got).toEqual([{ text: 'hello', n: 1 }]);
      } finally {
        client.connection.close();
      }
      // The client's goodbye and close reached the backend: its session there is gone.
      await until(async () => (await direct.session.call('wamp.session.count')) === 1);
    });
  }

  it('carries Autobahn|Python (asyncio) sessions through the proxy: calls, progress, errors, events, with cbor', async () => {
    // The backend's own procedure, for payload fidelity (as the Autobahn|Python interop test has it).
    const local = await ClientSession.connect(backend.node.router, { realm: 'realm1', name: 'test-echo' });
    await local.register('test.echo', (args, kwargs) => new Result(args, kwargs));
    const port = Number(new URL(proxy.url('/')).port);
    const peer = fileURLToPath(new URL('./python/peer.py', import.meta.url));
    const out = await runPythonPeer(peer, ['--transport', 'ws', '--serializer', 'cbor', '--port', String(port), '--path', '/proxy1']);
    expect(out.add2).toBe(5);
    expect(out.fail).toEqual({ error: 'com.example.error.bad_input', args: ['nope'], kwargs: { code: 7 } });
    expect(out.progress).toEqual([3, 2, 1]);
    expect(out.echo.args).toEqual(['grüße ✓', 2 ** 40, 1.5, true, null, [1, { k: 'v' }], '0001feff']);
    expect(out.events).toContainEqual({ args: [1, 2], kwargs: { color: 'red' }, topic: 'py.topic' });
    await local.close();
  });

  it('works inside a `path` entry (Crossbar\'s nested paths): /app/proxy1', async () => {
    const nested = await startProxy(backend.port, '/ws', { nested: true });
    try {
      const client = await connect(nested.url('/app/proxy1'), 'msgpack');
      expect(await client.session.call('com.backend.add', [20, 22])).toBe(42);
      client.connection.close();
    } finally {
      await nested.node.stop();
    }
  });

  it('reaches a backend on a Unix socket (endpoint type unix)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-wsproxy-'));
    const socketPath = join(dir, 'backend.sock');
    const onUnix = await startTestNode({ listener: { endpoint: { type: 'unix', path: socketPath } } });
    const config = parseConfig(routerWithTransport({
      type: 'web',
      endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
      paths: {
        ws: { type: 'websocket' },
        proxy1: { type: 'websocket-reverseproxy', backend: { type: 'websocket', endpoint: { type: 'unix', path: socketPath }, url: 'ws://localhost/ws' } },
      },
    }));
    const proxyNode = await startNode(config);
    try {
      const proxyUrl = `ws://127.0.0.1:${(proxyNode.listeners[0]!.address() as AddressInfo).port}/proxy1`;
      const before = onUnix.node.router.sessionCount;
      const served = await connect(proxyUrl, 'json');
      await served.session.register('com.unix.echo', (args: string[]) => `unix: ${args[0]}`);
      const caller = await connect(proxyUrl, 'msgpack');
      expect(await caller.session.call('com.unix.echo', ['hi'])).toBe('unix: hi');
      expect(onUnix.node.router.sessionCount).toBe(before + 2); // both are the Unix-socket router's own
      served.connection.close();
      caller.connection.close();
    } finally {
      await proxyNode.stop();
      await onUnix.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('closes the client when the backend goes away', async () => {
    const other = await startTestNode();
    const proxyToOther = await startProxy(other.port);
    try {
      const client = await connect(proxyToOther.url('/proxy1'), 'json');
      expect(client.session.isOpen).toBe(true);
      await other.stop();
      const reason = await Promise.race([client.closed, new Promise((r) => setTimeout(() => r('still open'), 5000))]);
      expect(reason).not.toBe('still open');
      expect(client.session.isOpen).toBe(false);
    } finally {
      await proxyToOther.node.stop();
    }
  });
});

describe('websocket-reverseproxy with the backend down', () => {
  it('refuses the upgrade with 503 and the router goes on serving', async () => {
    const port = await freePort(); // nothing listens there
    const proxy = await startProxy(port);
    try {
      expect(await upgradeStatus(proxy.url('/proxy1'))).toBe(503);
      // Autobahn|JS through the proxy: its connection fails, and it can retry later.
      await expect(connect(proxy.url('/proxy1'), 'json')).rejects.toThrow(/connection closed: unreachable/);
      const client = await connect(proxy.url('/ws'), 'json');
      expect(client.session.isOpen).toBe(true);
      client.connection.close();
    } finally {
      await proxy.node.stop();
    }
  });
});

describe('websocket-reverseproxy to a plain ws server', () => {
  let echo: WebSocketServer;
  let port: number;
  /** What the backend saw: messages (as text or binary) and the close code and reason. */
  const seen: Array<{ data: string; binary: boolean }> = [];
  let backendClose: { code: number; reason: string } | undefined;
  let proxy: Awaited<ReturnType<typeof startProxy>>;

  beforeAll(async () => {
    echo = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (offered) => [...offered].at(-1) ?? false });
    await once(echo, 'listening');
    port = (echo.address() as AddressInfo).port;
    echo.on('connection', (ws, req) => {
      ws.on('message', (data, binary) => {
        seen.push({ data: Buffer.from(data as Buffer).toString('hex'), binary });
        if (req.url === '/echo') ws.send(data as Buffer, { binary });
        if (String(data) === 'close please') ws.close(4002, 'backend says bye');
      });
      ws.on('close', (code, reason) => { backendClose = { code, reason: reason.toString() }; });
    });
    proxy = await startProxy(port, '/echo');
  });
  afterAll(async () => {
    await proxy?.node.stop();
    echo?.close();
  });

  it('passes a text and a binary message unchanged both ways, with the backend\'s subprotocol', async () => {
    const ws = new WebSocket(proxy.url('/proxy1'), ['first.proto', 'second.proto']);
    await once(ws, 'open');
    expect(ws.protocol).toBe('second.proto'); // the backend's choice, not the first offered
    const back: Array<{ data: Buffer; binary: boolean }> = [];
    ws.on('message', (data, binary) => back.push({ data: data as Buffer, binary }));
    const binary = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]);
    ws.send('héllo ✓', { binary: false });
    ws.send(binary, { binary: true });
    await until(() => back.length === 2);
    expect(back[0]!.binary).toBe(false);
    expect(back[0]!.data.toString()).toBe('héllo ✓');
    expect(back[1]!.binary).toBe(true);
    expect(back[1]!.data.equals(binary)).toBe(true);
    expect(seen.slice(-2)).toEqual([
      { data: Buffer.from('héllo ✓').toString('hex'), binary: false },
      { data: binary.toString('hex'), binary: true },
    ]);
    ws.close(4001, 'client says bye');
    await until(() => backendClose !== undefined);
    expect(backendClose).toEqual({ code: 4001, reason: 'client says bye' });
  });

  it('passes the backend\'s close code and reason to the client', async () => {
    const ws = new WebSocket(proxy.url('/proxy1'));
    await once(ws, 'open');
    const closed = once(ws, 'close');
    ws.send('close please');
    const [code, reason] = await closed;
    expect(code).toBe(4002);
    expect(String(reason)).toBe('backend says bye');
  });
});

describe('websocket-reverseproxy backpressure', () => {
  it('stops reading the client while the backend does not read (max_send_queue), instead of buffering all of it', async () => {
    // A backend that accepts and then reads nothing more.
    const stuck = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 4 * 1024 * 1024 });
    await once(stuck, 'listening');
    stuck.on('connection', (ws) => (ws as unknown as { _socket: { pause(): void } })._socket.pause());
    const port = (stuck.address() as AddressInfo).port;
    // Messages up to 2 MiB each way; at most 1 MiB waiting to be written to the backend.
    const proxy = await startProxy(port, '/', {
      options: { max_message_size: 2 * 1024 * 1024 },
      backendOptions: { max_message_size: 2 * 1024 * 1024, max_send_queue: 1024 * 1024 },
    });
    try {
      const ws = new WebSocket(proxy.url('/proxy1'));
      await once(ws, 'open');
      const chunk = Buffer.alloc(1024 * 1024, 7);
      const total = 64;
      for (let i = 0; i < total; i++) ws.send(chunk);
      // Without pausing, the proxy would read all 64 MiB and the client's buffer would drain to 0.
      await new Promise((r) => setTimeout(r, 1500));
      expect(ws.bufferedAmount).toBeGreaterThan(32 * 1024 * 1024);
      ws.terminate();
    } finally {
      await proxy.node.stop();
      stuck.close();
    }
  });
});

describe('websocket-reverseproxy refusals and limits', () => {
  it('refuses with 502 when the backend refuses the handshake, and with 403 an origin not allowed', async () => {
    const plain = createHttpServer((_req, res) => res.end()).on('upgrade', (_req, socket) => socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
    plain.listen(0, '127.0.0.1');
    await once(plain, 'listening');
    const proxy = await startProxy((plain.address() as AddressInfo).port, '/nowhere', { options: { allowed_origins: ['https://ok.example'] } });
    try {
      expect(await upgradeStatus(proxy.url('/proxy1'))).toBe(502);
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(proxy.url('/proxy1'), { origin: 'https://evil.example' });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => {});
      });
      expect(status).toBe(403);
      // A subprotocol named twice is no valid offer: refused before the backend is dialled.
      const twice = await rawWebSocket(Number(new URL(proxy.url('/')).port), '/proxy1', { 'Sec-WebSocket-Protocol': 'wamp.2.json, wamp.2.json' });
      expect(twice.status).toBe(400);
      twice.socket.destroy();
    } finally {
      await proxy.node.stop();
      plain.close();
    }
  });

  it('refuses with 503 a backend that accepts the connection but never answers, after endpoint.timeout', async () => {
    const held: Socket[] = [];
    const silent = createNetServer((socket) => held.push(socket)).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const proxy = await startProxy((silent.address() as AddressInfo).port, '/', { timeout: 1 });
    try {
      const started = Date.now();
      expect(await upgradeStatus(proxy.url('/proxy1'))).toBe(503);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await proxy.node.stop();
      held.forEach((s) => s.destroy());
      silent.close();
    }
  });

  it('closes a client whose message is over the path\'s max_message_size with 1009', async () => {
    const echo = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(echo, 'listening');
    echo.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data as Buffer, { binary })));
    const proxy = await startProxy((echo.address() as AddressInfo).port, '/', { options: { max_message_size: 1000 } });
    try {
      const ws = new WebSocket(proxy.url('/proxy1'));
      await once(ws, 'open');
      ws.send(Buffer.alloc(999));
      await once(ws, 'message');
      const closed = once(ws, 'close');
      ws.send(Buffer.alloc(1001));
      expect((await closed)[0]).toBe(1009);
    } finally {
      await proxy.node.stop();
      echo.close();
    }
  });

  it('reaches a wss:// backend with the endpoint\'s tls (hostname, ca_certificates)', async () => {
    const https = createHttpsServer({ key: readFileSync(`${TLS}server.key`), cert: readFileSync(`${TLS}server.crt`) });
    const echo = new WebSocketServer({ server: https, handleProtocols: (offered) => [...offered][0] ?? false });
    echo.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data as Buffer, { binary })));
    https.listen(0, '127.0.0.1');
    await once(https, 'listening');
    const port = (https.address() as AddressInfo).port;
    const trusted = await startProxy(port, '/', { tls: { hostname: 'localhost', ca_certificates: [`${TLS}ca.crt`] } });
    const untrusted = await startProxy(port, '/', { tls: { hostname: 'localhost' } });
    try {
      const ws = new WebSocket(trusted.url('/proxy1'), ['x.proto']);
      await once(ws, 'open');
      expect(ws.protocol).toBe('x.proto');
      ws.send('over tls');
      expect(String((await once(ws, 'message'))[0])).toBe('over tls');
      ws.close();
      // The test CA is not among Node's trusted ones: the backend's certificate is refused.
      expect(await upgradeStatus(untrusted.url('/proxy1'))).toBe(503);
    } finally {
      await trusted.node.stop();
      await untrusted.node.stop();
      echo.close();
      https.close();
    }
  });
});

describe('websocket-reverseproxy options of a WebSocket path', () => {
  let echo: WebSocketServer;
  let port: number;
  const backendPinged: string[] = [];

  beforeAll(async () => {
    echo = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(echo, 'listening');
    port = (echo.address() as AddressInfo).port;
    echo.on('connection', (ws, req) => {
      ws.on('ping', () => backendPinged.push(req.url ?? ''));
      ws.on('message', (data, binary) => {
        if (String(data) === 'close please') ws.close(4002, 'backend says bye');
        else if (String(data) === 'long please') ws.send('y'.repeat(250));
        else ws.send(data as Buffer, { binary });
      });
    });
  });
  afterAll(() => echo?.close());

  it('answers a plain GET with the status page (curl), or 426 with enable_webstatus false', async () => {
    const on = await startProxy(port, '/');
    const off = await startProxy(port, '/', { options: { enable_webstatus: false } });
    try {
      const page = await curl(on.url('/proxy1').replace('ws:', 'http:'), { method: 'GET' });
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      expect((await curl(off.url('/proxy1').replace('ws:', 'http:'), { method: 'GET' })).status).toBe(426);
    } finally {
      await on.node.stop();
      await off.node.stop();
    }
  });

  it('pings the client and the backend (auto_ping_interval on each side)', async () => {
    const proxy = await startProxy(port, '/pinged', { options: { auto_ping_interval: 1000 }, backendOptions: { auto_ping_interval: 1000 } });
    try {
      const ws = new WebSocket(proxy.url('/proxy1'));
      await once(ws, 'open');
      await once(ws, 'ping');
      await until(() => backendPinged.includes('/pinged'), 5000);
      ws.close();
    } finally {
      await proxy.node.stop();
    }
  });

  it('compresses for a client offering permessage-deflate only with compression set', async () => {
    const plain = await startProxy(port, '/');
    const deflate = await startProxy(port, '/', { options: { compression: { deflate: {} } } });
    try {
      for (const [proxy, expected] of [[plain, ''], [deflate, 'permessage-deflate']] as const) {
        const ws = new WebSocket(proxy.url('/proxy1'), { perMessageDeflate: true });
        await once(ws, 'open');
        expect(ws.extensions).toBe(expected);
        ws.send('z'.repeat(5000));
        expect(String((await once(ws, 'message'))[0])).toBe('z'.repeat(5000));
        ws.close();
      }
    } finally {
      await plain.node.stop();
      await deflate.node.stop();
    }
  });

  it('fails a client frame over max_frame_size with 1009, and cuts messages to the client into auto_fragment_size frames', async () => {
    const proxy = await startProxy(port, '/', { options: { max_frame_size: 1000, auto_fragment_size: 100 } });
    try {
      const raw = await rawWebSocket(Number(new URL(proxy.url('/')).port), '/proxy1');
      expect(raw.status).toBe(101);
      raw.send('long please');
      await raw.frameCount(3);
      expect(raw.frames.map((f) => [f.opcode, f.fin, f.payload.length])).toEqual([[1, false, 100], [0, false, 100], [0, true, 50]]);
      const ws = new WebSocket(proxy.url('/proxy1'));
      await once(ws, 'open');
      const closed = once(ws, 'close');
      ws.send(Buffer.alloc(2000)); // one frame
      expect((await closed)[0]).toBe(1009);
      raw.socket.destroy();
    } finally {
      await proxy.node.stop();
    }
  });

  it('drops a client that does not answer the close frame after close_handshake_timeout', async () => {
    const proxy = await startProxy(port, '/', { options: { close_handshake_timeout: 1000 } });
    try {
      const raw = await rawWebSocket(Number(new URL(proxy.url('/')).port), '/proxy1');
      raw.send('close please');
      await raw.frameCount(1);
      expect(raw.frames[0]!.opcode).toBe(8); // the backend's close, passed on
      expect(raw.frames[0]!.payload.readUInt16BE(0)).toBe(4002);
      const started = Date.now();
      await until(() => raw.closed(), 5000);
      expect(Date.now() - started).toBeLessThan(3000); // not ws's own 30 s
    } finally {
      await proxy.node.stop();
    }
  });
});
