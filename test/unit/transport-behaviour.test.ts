// Transports on real sockets against a recording session factory (no router): RawSocket handshake
// and framing, keep-alive, WebSocket subprotocol negotiation, port sharing, static files.
import { describe, it, expect, afterEach } from 'vitest';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Listener } from '../../src/transports/listener.js';
import type { ListenerConfig } from '../../src/config/types.js';
import type { SessionFactory, SessionHandle, Transport } from '../../src/router/transport.js';
import { service } from '../helpers/node.js';
import { getSerializer } from '../../src/serializers/index.js';

/** Echoes every message back and records what happened. */
class EchoFactory implements SessionFactory {
  readonly received: unknown[] = [];
  readonly errors: string[] = [];
  closed = 0;
  transports: Transport[] = [];
  openSession(transport: Transport): SessionHandle {
    this.transports.push(transport);
    return {
      receive: (m) => { this.received.push(m); transport.send(m as unknown[]); },
      protocolError: (r) => { this.errors.push(r); transport.close(); },
      transportClosed: () => { this.closed++; },
    };
  }
}

let listener: Listener | undefined;
afterEach(async () => { await listener?.stop(); listener = undefined; });

async function listen(config: Partial<ListenerConfig>, factory = new EchoFactory()) {
  listener = new Listener({ id: 't', kind: 'universal', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' }, websocket: {}, websocketAnyPath: false, static: {}, ...config }, factory);
  await listener.start();
  const address = listener.address();
  return { factory, port: typeof address === 'object' && address ? address.port : 0 };
}

function rawClient(port: number): Promise<{ socket: Socket; read(n: number): Promise<Buffer>; closed: Promise<void> }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      let buffered = Buffer.alloc(0);
      let waiter: (() => void) | undefined;
      socket.on('data', (d) => { buffered = Buffer.concat([buffered, d]); waiter?.(); });
      const closed = new Promise<void>((r) => socket.on('close', () => { waiter?.(); r(); }));
      const read = async (n: number) => {
        const deadline = Date.now() + 2000;
        while (buffered.length < n && !socket.destroyed && Date.now() < deadline) await new Promise<void>((r) => { waiter = r; setTimeout(r, 50); });
        const out = buffered.subarray(0, n);
        buffered = buffered.subarray(n);
        return out;
      };
      resolve({ socket, read, closed });
    });
  });
}

const frame = (type: number, payload: Buffer) => Buffer.concat([Buffer.from([type, (payload.length >> 16) & 0xff, (payload.length >> 8) & 0xff, payload.length & 0xff]), payload]);

describe('RawSocket', () => {
  it('handshakes, echoes the serializer, announces our max length, and frames messages', async () => {
    const { port, factory } = await listen({ rawsocket: service({ options: { ...service().options, maxMessageSize: 65536 } }) });
    const c = await rawClient(port);
    c.socket.write(Buffer.from([0x7f, 0xf2, 0, 0])); // 16 MiB, MessagePack
    const reply = await c.read(4);
    expect(reply[0]).toBe(0x7f);
    expect(reply[1]! & 0x0f).toBe(2);
    expect(2 ** (9 + (reply[1]! >> 4))).toBe(65536);
    const msgpack = getSerializer('msgpack');
    const payload = msgpack.encode([1, 'realm1', { roles: {} }]);
    const whole = frame(0, payload);
    // Split the frame across writes, header included.
    c.socket.write(whole.subarray(0, 2));
    await new Promise((r) => setTimeout(r, 20));
    c.socket.write(whole.subarray(2, 7));
    await new Promise((r) => setTimeout(r, 20));
    c.socket.write(whole.subarray(7));
    const header = await c.read(4);
    expect(header[0]).toBe(0);
    const echoed = await c.read((header[1]! << 16) | (header[2]! << 8) | header[3]!);
    expect(msgpack.decode(echoed)).toEqual([1, 'realm1', { roles: {} }]);
    expect(factory.received).toHaveLength(1);
  });

  it('answers PING with a PONG echoing the payload', async () => {
    const { port } = await listen({ rawsocket: service() });
    const c = await rawClient(port);
    c.socket.write(Buffer.from([0x7f, 0xf1, 0, 0]));
    await c.read(4);
    c.socket.write(frame(1, Buffer.from('hello')));
    expect(await c.read(9)).toEqual(frame(2, Buffer.from('hello')));
  });

  it('refuses an unsupported serializer (error 1) and reserved bits (error 3)', async () => {
    const { port } = await listen({ rawsocket: service({ serializers: ['json'] }) });
    const a = await rawClient(port);
    a.socket.write(Buffer.from([0x7f, 0xf2, 0, 0]));
    expect(await a.read(4)).toEqual(Buffer.from([0x7f, 0x10, 0, 0]));
    await a.closed;
    const b = await rawClient(port);
    b.socket.write(Buffer.from([0x7f, 0xf1, 0, 1]));
    expect(await b.read(4)).toEqual(Buffer.from([0x7f, 0x30, 0, 0]));
    await b.closed;
  });

  it('closes on a frame larger than announced, with a protocol error for the session', async () => {
    const { port, factory } = await listen({ rawsocket: service({ options: { ...service().options, maxMessageSize: 1024 } }) });
    const c = await rawClient(port);
    c.socket.write(Buffer.from([0x7f, 0xf1, 0, 0]));
    await c.read(4);
    c.socket.write(Buffer.from([0, 0, 0x10, 0])); // 4096 bytes announced
    await c.closed;
    expect(factory.errors[0]).toMatch(/exceeds/);
    for (let i = 0; i < 50 && factory.closed === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(factory.closed).toBe(1);
  });

  it('drops a peer that does not answer keep-alive pings', async () => {
    const options = { ...service().options, autoPingInterval: 100, autoPingTimeout: 100 };
    const { port, factory } = await listen({ rawsocket: service({ options }) });
    const c = await rawClient(port);
    c.socket.write(Buffer.from([0x7f, 0xf1, 0, 0]));
    await c.read(4);
    const ping = await c.read(4);
    expect(ping[0]).toBe(1);
    // Never answer: the router gives up and tells the session.
    await c.closed;
    for (let i = 0; i < 50 && factory.closed === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(factory.closed).toBe(1);
  });

  it('serves RawSocket on a Unix socket', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'junction-unix-')), 'j.sock');
    listener = new Listener({ id: 'u', kind: 'rawsocket', endpoint: { type: 'unix', path }, rawsocket: service(), websocket: {}, websocketAnyPath: false, static: {} }, new EchoFactory());
    await listener.start();
    const socket = connect(path);
    const reply = await new Promise<Buffer>((resolve) => {
      socket.once('data', resolve);
      socket.write(Buffer.from([0x7f, 0xf1, 0, 0]));
    });
    expect(reply[0]).toBe(0x7f);
    socket.destroy();
  });
});

describe('WebSocket and the shared port', () => {
  it('negotiates a WAMP subprotocol and refuses a connection offering none it speaks', async () => {
    const { port } = await listen({ rawsocket: service(), websocket: { '/ws': service({ serializers: ['cbor'] }) } });
    const ok = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json', 'wamp.2.cbor']);
    await new Promise((r) => ok.once('open', r));
    expect(ok.protocol).toBe('wamp.2.cbor');
    const echoed = new Promise<Buffer>((r) => ok.once('message', (d) => r(d as Buffer)));
    ok.send(getSerializer('cbor').encode([1, 'realm1', {}]));
    expect(getSerializer('cbor').decode(await echoed)).toEqual([1, 'realm1', {}]);
    ok.close();
    const refused = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json']);
    const status = await new Promise<number>((r) => refused.once('unexpected-response', (_req, res) => r(res.statusCode!)));
    expect(status).toBe(400);
    const wrongPath = new WebSocket(`ws://127.0.0.1:${port}/other`, ['wamp.2.cbor']);
    expect(await new Promise<number>((r) => wrongPath.once('unexpected-response', (_req, res) => r(res.statusCode!)))).toBe(404);
  });

  it('answers an undecodable WebSocket message with a protocol error', async () => {
    const { port, factory } = await listen({ websocket: { '/ws': service() } });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json']);
    await new Promise((r) => ws.once('open', r));
    ws.send('[1, "realm1"');
    await new Promise((r) => ws.once('close', r));
    expect(factory.errors[0]).toMatch(/cannot decode json/);
  });

  it('serves static files under their path and never outside the directory', async () => {
    const root = mkdtempSync(join(tmpdir(), 'junction-static-'));
    mkdirSync(join(root, 'web'));
    writeFileSync(join(root, 'web', 'index.html'), '<h1>dashboard</h1>');
    writeFileSync(join(root, 'secret.txt'), 'secret');
    const { port } = await listen({ rawsocket: service(), static: { '/': { type: 'static', directory: join(root, 'web') } }, websocket: { '/ws': service() } });
    const index = await fetch(`http://127.0.0.1:${port}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(await index.text()).toBe('<h1>dashboard</h1>');
    for (const attack of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%2e%2e%2fsecret.txt']) {
      const c = await rawClient(port);
      c.socket.write(`GET ${attack} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const response = (await c.read(4096)).toString();
      expect(response).toMatch(/^HTTP\/1.1 404/);
      expect(response).not.toContain('secret');
    }
  });

  it('drops a connection that sends nothing on a shared port within the handshake timeout', async () => {
    const { port } = await listen({ rawsocket: service({ options: { ...service().options, openHandshakeTimeout: 150 } }), websocket: { '/ws': service() } });
    const c = await rawClient(port);
    const started = Date.now();
    await c.closed;
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('encodes a message shared by several receivers once per serializer', async () => {
    const { port, factory } = await listen({ websocket: { '/ws': service() } });
    const clients = await Promise.all([0, 1, 2].map(async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json']);
      await new Promise((r) => ws.once('open', r));
      return ws;
    }));
    const cache: Record<string, Buffer | string | undefined> = {};
    const message = [36, 1, 2, {}, ['x']];
    const got = clients.map((ws) => new Promise<string>((r) => ws.once('message', (d) => r(d.toString()))));
    for (const t of factory.transports) expect(t.send(message, cache)).toBe(true);
    expect(Object.keys(cache)).toEqual(['json']);
    expect(await Promise.all(got)).toEqual(Array(3).fill('[36,1,2,{},["x"]]'));
    for (const ws of clients) ws.close();
  });
});
