// Transports on real sockets against a recording session factory (no router): RawSocket handshake,
// framing and keep-alive; WebSocket subprotocols, limits, origins and keep-alive; the listener's
// port sharing, Unix sockets, TLS, static files; encode-once through the shared EncodingCache.

import { describe, it, expect, afterEach, vi } from 'vitest';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync, existsSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { Listener } from '../../src/transports/listener.js';
import { ByteQueue } from '../../src/transports/byte-queue.js';
import { frameHeader, lengthExponent } from '../../src/transports/rawsocket.js';
import type { ListenerConfig, WampServiceConfig, WampTransportOptions } from '../../src/config/types.js';
import { DEFAULT_TRANSPORT_OPTIONS } from '../../src/config/types.js';
import type { EncodingCache, SessionFactory, SessionHandle, Transport } from '../../src/core-boundary.js';
import { getSerializer, type SerializerName } from '../../src/serializers/index.js';
import { tick } from '../helpers/core.js';
import { until } from '../helpers/until.js';
import { TurnTally } from '../helpers/turns.js';

// ---- fixtures ----

interface Recorded {
  transport: Transport;
  received: unknown[];
  errors: string[];
  closed: number;
}

/** Opens a recording session per connection; echoes messages back unless told not to. */
class RecordingFactory implements SessionFactory {
  readonly sessions: Recorded[] = [];
  constructor(private readonly echo = true) {}
  openSession(transport: Transport): SessionHandle {
    const s: Recorded = { transport, received: [], errors: [], closed: 0 };
    this.sessions.push(s);
    return {
      // Established from the start: these tests are about framing, not the opening handshake.
      established: true,
      receive: (m) => {
        s.received.push(m);
        if (this.echo) transport.send(m as unknown[]);
      },
      // As the router does: answer, then close.
      protocolError: (r) => {
        s.errors.push(r);
        transport.send([3, { message: r }, 'wamp.error.protocol_violation']);
        transport.close();
      },
      transportClosed: () => {
        s.closed++;
      },
    };
  }
}

const service = (serializers: SerializerName[] = ['json', 'msgpack', 'cbor'], options: Partial<WampTransportOptions> = {}): WampServiceConfig => ({
  serializers,
  options: { ...DEFAULT_TRANSPORT_OPTIONS, ...options },
});

const CERTS = fileURLToPath(new URL('../fixtures/config/tls/certs/', import.meta.url));
const pem = (name: string) => readFileSync(join(CERTS, name), 'utf8');

const listeners: Listener[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await Promise.all(listeners.splice(0).map((l) => l.stop()));
});

async function listen(config: Partial<ListenerConfig>, factory = new RecordingFactory()) {
  const listener = new Listener({
    id: 't', kind: 'universal', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
    websocket: {}, websocketAnyPath: false, static: {}, ...config,
  }, factory);
  listeners.push(listener);
  await listener.start();
  const address = listener.address();
  return { listener, factory, port: typeof address === 'object' && address ? address.port : 0 };
}

/** A raw stream client with exact-length reads. */
interface RawClient {
  socket: Socket;
  read(n: number, ms?: number): Promise<Buffer>;
  /** Everything received until the server closed the connection. */
  rest(): Promise<Buffer>;
  closed: Promise<void>;
  isClosed(): boolean;
}

function wrap(socket: Socket): RawClient {
  const chunks: Buffer[] = [];
  let buffered = 0;
  let wake: (() => void) | undefined;
  let closed = false;
  socket.on('data', (d: Buffer) => {
    chunks.push(d);
    buffered += d.length;
    wake?.();
  });
  socket.on('error', () => {});
  const closedPromise = new Promise<void>((r) => socket.on('close', () => {
    closed = true;
    wake?.();
    r();
  }));
  const take = (n: number) => {
    const all = Buffer.concat(chunks);
    chunks.length = 0;
    if (all.length > n) chunks.push(all.subarray(n));
    buffered = all.length - Math.min(n, all.length);
    return all.subarray(0, n);
  };
  return {
    socket,
    closed: closedPromise,
    isClosed: () => closed,
    async read(n, ms = 2000) {
      const deadline = Date.now() + ms;
      while (buffered < n) {
        if (closed) throw new Error(`connection closed after ${buffered} of ${n} bytes`);
        if (Date.now() > deadline) throw new Error(`timed out with ${buffered} of ${n} bytes`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 20);
        });
      }
      return take(n);
    },
    async rest() {
      await closedPromise;
      return take(buffered);
    },
  };
}

function rawClient(target: number | string): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = typeof target === 'number' ? connect(target, '127.0.0.1') : connect(target);
    socket.once('connect', () => resolve(wrap(socket)));
    socket.once('error', reject);
  });
}

const frame = (type: number, payload: Buffer) => Buffer.concat([frameHeader(type, payload.length), payload]);

/** Handshakes and returns the reply. */
async function rawHandshake(c: RawClient, byte1: number): Promise<Buffer> {
  c.socket.write(Buffer.from([0x7f, byte1, 0, 0]));
  return c.read(4);
}

async function readFrame(c: RawClient): Promise<{ type: number; payload: Buffer }> {
  const header = await c.read(4);
  const length = (header[0]! & 0x08 ? 2 ** 24 : 0) + header.readUIntBE(1, 3);
  return { type: header[0]! & 0x07, payload: await c.read(length, 10_000) };
}

function wsOpen(url: string, protocols: string[], options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    cleanups.push(() => ws.terminate());
  });
}

function wsRefusal(url: string, protocols: string[], options: WebSocket.ClientOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode!);
      ws.terminate();
    });
    ws.once('open', () => reject(new Error('accepted')));
    ws.on('error', () => {});
  });
}

const nextMessage = (ws: WebSocket) => new Promise<{ data: Buffer; isBinary: boolean }>((r) => ws.once('message', (data, isBinary) => r({ data: data as Buffer, isBinary })));

// ---- RawSocket ----

describe('RawSocket framing helpers', () => {
  it('announces the largest power of two not above maxMessageSize, between 512 B and 16 MiB', () => {
    expect(lengthExponent(100)).toBe(0);
    expect(lengthExponent(512)).toBe(0);
    expect(lengthExponent(1023)).toBe(0);
    expect(lengthExponent(1024)).toBe(1);
    expect(lengthExponent(1024 * 1024)).toBe(11);
    expect(lengthExponent(1_000_000)).toBe(10);
    expect(lengthExponent(2 ** 24)).toBe(15);
    expect(lengthExponent(2 ** 30)).toBe(15);
  });

  it('sets the X bit for exactly 2^24 bytes, and only then', () => {
    expect([...frameHeader(0, 2 ** 24)]).toEqual([0x08, 0, 0, 0]);
    expect([...frameHeader(0, 2 ** 24 - 1)]).toEqual([0x00, 0xff, 0xff, 0xff]);
    expect([...frameHeader(1, 5)]).toEqual([0x01, 0, 0, 5]);
    expect([...frameHeader(2, 0x010203)]).toEqual([0x02, 1, 2, 3]);
  });

  it('ByteQueue hands back exactly the bytes pushed, however they were chunked', () => {
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff));
    for (let trial = 0; trial < 50; trial++) {
      const q = new ByteQueue();
      let fed = 0;
      let out: Buffer[] = [];
      let read = 0;
      while (read < data.length) {
        if (fed < data.length) {
          const n = Math.min(data.length - fed, 1 + Math.floor(Math.random() * 40));
          q.push(data.subarray(fed, fed + n));
          fed += n;
        }
        if (q.length >= 4) expect(q.peekUInt32()).toBe(data.readUInt32BE(read));
        const want = Math.min(q.length, Math.floor(Math.random() * 60));
        if (Math.random() < 0.3) {
          q.skip(want);
          out.push(data.subarray(read, read + want));
        } else {
          out.push(q.take(want));
        }
        read += want;
      }
      expect(Buffer.concat(out).equals(data)).toBe(true);
      expect(q.length).toBe(0);
      out = [];
    }
  });
});

describe('RawSocket', () => {
  it('handshakes: echoes the serializer, announces our length, fills TransportInfo', async () => {
    const { port, factory } = await listen({ rawsocket: service(['json', 'msgpack'], { maxMessageSize: 100_000 }) });
    const c = await rawClient(port);
    const reply = await rawHandshake(c, 0xf2); // 16 MiB, MessagePack
    expect([...reply]).toEqual([0x7f, (7 << 4) | 2, 0, 0]); // 2^(9+7) = 64 KiB ≤ 100 000 < 128 KiB
    await until(() => factory.sessions.length === 1);
    expect(factory.sessions[0]!.transport.info).toEqual({
      type: 'rawsocket', serializer: 'msgpack', peer: `tcp4:127.0.0.1:${c.socket.localPort}`, tls: false,
    });
  });

  for (const [name, id] of [['json', 1], ['msgpack', 2], ['cbor', 3]] as const) {
    it(`carries ${name} messages both ways`, async () => {
      const { port, factory } = await listen({ rawsocket: service() });
      const c = await rawClient(port);
      await rawHandshake(c, 0xf0 | id);
      const s = getSerializer(name);
      const hello = [1, 'realm1', { roles: { caller: {} }, blob: Buffer.from([0, 255]) }];
      c.socket.write(frame(0, s.encode(hello)));
      const echoed = await readFrame(c);
      expect(echoed.type).toBe(0);
      expect(s.decode(echoed.payload)).toEqual(hello);
      expect(factory.sessions[0]!.received).toEqual([hello]);
    });
  }

  it('refuses an unsupported serializer with error 1: illegal, unknown, or not configured', async () => {
    const { port, factory } = await listen({ rawsocket: service(['json']) });
    for (const byte1 of [0xf0, 0xf4, 0xf2, 0xf3]) {
      const c = await rawClient(port);
      expect([...(await rawHandshake(c, byte1))]).toEqual([0x7f, 0x10, 0, 0]);
      await c.closed;
    }
    expect(factory.sessions).toHaveLength(0);
  });

  it('refuses reserved bits with error 3', async () => {
    const { port, factory } = await listen({ rawsocket: service() });
    for (const tail of [[0, 1], [1, 0], [0x80, 0]]) {
      const c = await rawClient(port);
      c.socket.write(Buffer.from([0x7f, 0xf1, ...tail]));
      expect([...(await c.read(4))]).toEqual([0x7f, 0x30, 0, 0]);
      await c.closed;
    }
    expect(factory.sessions).toHaveLength(0);
  });

  it('drops, without a reply, a connection that does not start with the magic byte', async () => {
    const { port, factory } = await listen({ kind: 'rawsocket', rawsocket: service() });
    const c = await rawClient(port);
    c.socket.write('GET / HTTP/1.1\r\n\r\n');
    expect((await c.rest()).length).toBe(0);
    expect(factory.sessions).toHaveLength(0);
  });

  it('drops a client that does not finish its handshake within openHandshakeTimeout', async () => {
    const { port } = await listen({ kind: 'rawsocket', rawsocket: service(['json'], { openHandshakeTimeout: 100 }) });
    const c = await rawClient(port);
    c.socket.write(Buffer.from([0x7f, 0xf1])); // half a handshake
    const started = Date.now();
    expect((await c.rest()).length).toBe(0);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('reassembles frames split anywhere, headers included, and several frames in one chunk', async () => {
    const { port, factory } = await listen({ rawsocket: service() });
    const c = await rawClient(port);
    await rawHandshake(c, 0xf1);
    const messages = [[16, 1, {}, 'a.b', ['x'.repeat(300)]], [16, 2, {}, 'a.b'], [16, 3, {}, 'a.b', [1, 2, 3]]];
    const stream = Buffer.concat(messages.map((m) => frame(0, getSerializer('json').encode(m))));
    // Byte by byte through the first header, then odd-sized pieces, then the rest at once.
    for (let i = 0; i < 5; i++) {
      c.socket.write(stream.subarray(i, i + 1));
      await tick(5);
    }
    c.socket.write(stream.subarray(5, 200));
    await tick(5);
    c.socket.write(stream.subarray(200));
    await until(() => factory.sessions[0]?.received.length === 3);
    expect(factory.sessions[0]!.received).toEqual(messages);
  });

  it('answers PING with one PONG echoing the payload byte for byte', async () => {
    const { port } = await listen({ rawsocket: service() });
    const c = await rawClient(port);
    await rawHandshake(c, 0xf1);
    c.socket.write(Buffer.concat([frame(1, Buffer.from('hello')), frame(1, Buffer.alloc(0))]));
    expect(await readFrame(c)).toEqual({ type: 2, payload: Buffer.from('hello') });
    expect(await readFrame(c)).toEqual({ type: 2, payload: Buffer.alloc(0) });
  });

  it('accepts a frame of exactly the announced length, and fails the connection for one byte more', async () => {
    const { port, factory } = await listen({ rawsocket: service(['json'], { maxMessageSize: 1024 }) }, new RecordingFactory(false));
    const c = await rawClient(port);
    expect((await rawHandshake(c, 0xf1))[1]! >> 4).toBe(1); // 1024
    const fits = Buffer.from(JSON.stringify([16, 1, {}, 'a', ['x'.repeat(1024 - 18)]]));
    expect(fits.length).toBe(1024);
    c.socket.write(frame(0, fits));
    await until(() => factory.sessions[0]?.received.length === 1);
    c.socket.write(Buffer.from([0, 0, 0x04, 0x01])); // header announcing 1025 bytes
    const rest = await c.rest();
    const s = factory.sessions[0]!;
    expect(s.errors[0]).toMatch(/1025 bytes exceeds the 1024/);
    // The session's ABORT still goes out before the close.
    expect(JSON.parse(rest.subarray(4).toString())).toEqual([3, { message: s.errors[0] }, 'wamp.error.protocol_violation']);
    await until(() => s.closed === 1);
    await tick(20);
    expect(s.closed).toBe(1);
  });

  it('fails the connection on a reserved frame type', async () => {
    const { port, factory } = await listen({ rawsocket: service() });
    const c = await rawClient(port);
    await rawHandshake(c, 0xf1);
    c.socket.write(frame(3, Buffer.from('x')));
    await c.closed;
    expect(factory.sessions[0]!.errors[0]).toMatch(/invalid frame header/);
  });

  it('reports an undecodable message to the session as a protocol error', async () => {
    const { port, factory } = await listen({ rawsocket: service() });
    const c = await rawClient(port);
    await rawHandshake(c, 0xf2);
    c.socket.write(frame(0, Buffer.from([0x93, 0x01])));
    await c.closed;
    expect(factory.sessions[0]!.errors[0]).toMatch(/cannot decode msgpack/);
  });

  it('send() refuses a message above the limit the client announced, and sends the rest', async () => {
    const { port, factory } = await listen({ rawsocket: service() }, new RecordingFactory(false));
    const c = await rawClient(port);
    await rawHandshake(c, 0x01); // JSON, 512 bytes
    await until(() => factory.sessions.length === 1);
    const t = factory.sessions[0]!.transport;
    expect(t.send([36, 1, 2, {}, ['x'.repeat(600)]])).toBe(false);
    expect(t.send([36, 1, 2, {}, ['small']])).toBe(true);
    const f = await readFrame(c);
    expect(JSON.parse(f.payload.toString())).toEqual([36, 1, 2, {}, ['small']]);
  });

  it('uses the X bit for a 2^24-byte message, both ways', async () => {
    const { port, factory } = await listen({ rawsocket: service(['json'], { maxMessageSize: 2 ** 24 }) });
    const c = await rawClient(port);
    expect((await rawHandshake(c, 0xf1))[1]).toBe(0xf1);
    const skeleton = '[16,1,{},"a",[""]]';
    const message = Buffer.from(`[16,1,{},"a",["${'y'.repeat(2 ** 24 - skeleton.length)}"]]`);
    expect(message.length).toBe(2 ** 24);
    c.socket.write(frame(0, message));
    const header = await c.read(4, 10_000);
    expect([...header]).toEqual([0x08, 0, 0, 0]);
    expect((await c.read(2 ** 24, 10_000)).equals(message)).toBe(true);
    expect(factory.sessions[0]!.errors).toEqual([]);
  });

  it('close() sends what is queued, then closes; transportClosed comes once', async () => {
    const { port, factory } = await listen({ rawsocket: service() }, new RecordingFactory(false));
    const c = await rawClient(port);
    await rawHandshake(c, 0xf1);
    await until(() => factory.sessions.length === 1);
    const s = factory.sessions[0]!;
    s.transport.send([6, {}, 'wamp.close.normal']);
    s.transport.close();
    s.transport.close();
    expect(s.transport.send([6, {}, 'late'])).toBe(true); // dropped, not refused
    const rest = await c.rest();
    expect(JSON.parse(rest.subarray(4).toString())).toEqual([6, {}, 'wamp.close.normal']);
    await until(() => s.closed === 1);
    await tick(20);
    expect(s.closed).toBe(1);
  });

  it('tells the session once when the client goes away', async () => {
    const { port, factory } = await listen({ rawsocket: service() });
    const c = await rawClient(port);
    await rawHandshake(c, 0xf1);
    await until(() => factory.sessions.length === 1);
    c.socket.destroy();
    await until(() => factory.sessions[0]!.closed === 1);
    await tick(20);
    expect(factory.sessions[0]!.closed).toBe(1);
  });

  it('keep-alive: drops a peer that leaves our PING unanswered, keeps one that answers', async () => {
    const options = { autoPingInterval: 60, autoPingTimeout: 60 };
    const { port, factory } = await listen({ rawsocket: service(['json'], options) });
    const silent = await rawClient(port);
    await rawHandshake(silent, 0xf1);
    const answering = await rawClient(port);
    await rawHandshake(answering, 0xf1);
    let pongs = 0;
    const answer = async () => {
      while (!answering.isClosed()) {
        const f = await readFrame(answering).catch(() => undefined);
        if (f?.type === 1) {
          answering.socket.write(frame(2, f.payload));
          pongs++;
        }
      }
    };
    void answer();
    const ping = await readFrame(silent);
    expect(ping.type).toBe(1);
    await silent.closed;
    await until(() => factory.sessions[0]!.closed === 1);
    await until(() => pongs >= 4);
    expect(answering.isClosed()).toBe(false);
    expect(factory.sessions[1]!.closed).toBe(0);
  });
});

// ---- WebSocket ----

describe('WebSocket', () => {
  for (const name of ['json', 'msgpack', 'cbor'] as const) {
    it(`speaks wamp.2.${name} in ${name === 'json' ? 'text' : 'binary'} frames`, async () => {
      const { port, factory } = await listen({ websocket: { '/ws': service() } });
      const ws = await wsOpen(`ws://127.0.0.1:${port}/ws`, [`wamp.2.${name}`]);
      expect(ws.protocol).toBe(`wamp.2.${name}`);
      const s = getSerializer(name);
      const hello = [1, 'realm1', { roles: { subscriber: {} }, blob: Buffer.from([1, 2]) }];
      const echoed = nextMessage(ws);
      ws.send(s.encode(hello), { binary: s.binary });
      const { data, isBinary } = await echoed;
      expect(isBinary).toBe(name !== 'json');
      expect(s.decode(data)).toEqual(hello);
      expect(factory.sessions[0]!.transport.info).toEqual({
        type: 'websocket', serializer: name, peer: `tcp4:127.0.0.1:${(ws as unknown as { _socket: Socket })._socket.localPort}`,
        protocol: `wamp.2.${name}`, tls: false,
      });
    });
  }

  it('picks the first subprotocol in the client\'s list that the service has', async () => {
    const { port } = await listen({ websocket: { '/ws': service(['json', 'cbor']) } });
    const a = await wsOpen(`ws://127.0.0.1:${port}/ws`, ['wamp.2.msgpack', 'wamp.2.cbor', 'wamp.2.json']);
    expect(a.protocol).toBe('wamp.2.cbor');
    const b = await wsOpen(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json.batched', 'wamp.2.json']);
    expect(b.protocol).toBe('wamp.2.json');
  });

  it('refuses with 400 an upgrade offering no subprotocol the service speaks, 404 on another path', async () => {
    const { port, factory } = await listen({ websocket: { '/ws': service(['cbor']) } });
    expect(await wsRefusal(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json', 'wamp.2.msgpack'])).toBe(400);
    expect(await wsRefusal(`ws://127.0.0.1:${port}/ws`, [])).toBe(400);
    expect(await wsRefusal(`ws://127.0.0.1:${port}/other`, ['wamp.2.cbor'])).toBe(404);
    expect(factory.sessions).toHaveLength(0);
    expect((await wsOpen(`ws://127.0.0.1:${port}/ws/`, ['wamp.2.cbor'])).protocol).toBe('wamp.2.cbor');
  });

  it('answers on any path when websocketAnyPath is set', async () => {
    const { port } = await listen({ kind: 'websocket', websocket: { '/': service() }, websocketAnyPath: true });
    for (const path of ['/', '/ws', '/a/b?x=1']) {
      expect((await wsOpen(`ws://127.0.0.1:${port}${path}`, ['wamp.2.json'])).protocol).toBe('wamp.2.json');
    }
  });

  it('checks Origin against allowedOrigins when a browser sends one', async () => {
    const { port } = await listen({ websocket: { '/ws': service(['json'], { allowedOrigins: ['https://*.example.com', 'http://localhost:8080'] }) } });
    const url = `ws://127.0.0.1:${port}/ws`;
    await wsOpen(url, ['wamp.2.json'], { origin: 'https://app.example.com' });
    await wsOpen(url, ['wamp.2.json'], { origin: 'http://localhost:8080' });
    await wsOpen(url, ['wamp.2.json']); // no Origin: not a browser
    expect(await wsRefusal(url, ['wamp.2.json'], { origin: 'https://evil.com' })).toBe(403);
    expect(await wsRefusal(url, ['wamp.2.json'], { origin: 'https://example.com.evil.com' })).toBe(403);
  });

  it('closes on an incoming message above maxMessageSize, and send() refuses one', async () => {
    const { port, factory } = await listen({ websocket: { '/ws': service(['json'], { maxMessageSize: 1000 }) } }, new RecordingFactory(false));
    const ws = await wsOpen(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json']);
    await until(() => factory.sessions.length === 1);
    const t = factory.sessions[0]!.transport;
    expect(t.send([36, 1, 2, {}, ['x'.repeat(1000)]])).toBe(false);
    const got = nextMessage(ws);
    expect(t.send([36, 1, 2, {}, ['x'.repeat(900)]])).toBe(true);
    expect(JSON.parse((await got).data.toString())[4][0]).toHaveLength(900);
    const code = new Promise<number>((r) => ws.once('close', (c) => r(c)));
    ws.send(JSON.stringify([16, 1, {}, 'a', ['x'.repeat(1000)]]));
    expect(await code).toBe(1009);
    await until(() => factory.sessions[0]!.closed === 1);
    expect(factory.sessions[0]!.received).toEqual([]);
  });

  it('reports an undecodable message to the session as a protocol error', async () => {
    const { port, factory } = await listen({ websocket: { '/ws': service() } });
    const ws = await wsOpen(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json']);
    ws.send('[1, "realm1"');
    await new Promise((r) => ws.once('close', r));
    expect(factory.sessions[0]!.errors[0]).toMatch(/cannot decode json/);
    await until(() => factory.sessions[0]!.closed === 1);
  });

  it('keep-alive: pings with autoPingSize bytes, drops a peer that does not pong', async () => {
    const options = { autoPingInterval: 50, autoPingTimeout: 50, autoPingSize: 16 };
    const { port, factory } = await listen({ websocket: { '/ws': service(['json'], options) } });
    const alive = await wsOpen(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json']);
    const ping = await new Promise<Buffer>((r) => alive.once('ping', r));
    expect(ping.length).toBe(16);
    const silent = await wsOpen(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json']);
    // A client that stops reading never sees the ping, so never answers it.
    (silent as unknown as { _socket: Socket })._socket.pause();
    await until(() => factory.sessions[1]!.closed === 1);
    await tick(200); // several more ping rounds: the answering client stays
    expect(factory.sessions[0]!.closed).toBe(0);
    expect(alive.readyState).toBe(WebSocket.OPEN);
  });

  it('drops a connection that does not send its upgrade request within openHandshakeTimeout', async () => {
    const { port } = await listen({ kind: 'websocket', websocket: { '/': service(['json'], { openHandshakeTimeout: 100 }) }, websocketAnyPath: true });
    const ws = await wsOpen(`ws://127.0.0.1:${port}/`, ['wamp.2.json']);
    for (const partial of ['', 'GET / HTTP/1.1\r\nHost: x\r\n']) {
      const c = await rawClient(port);
      if (partial) c.socket.write(partial);
      const started = Date.now();
      expect((await c.rest()).length).toBe(0);
      expect(Date.now() - started).toBeLessThan(1500);
    }
    // The timeout is for the handshake only: a connection past it stays.
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('close() closes with 1000; transportClosed comes once', async () => {
    const { port, factory } = await listen({ websocket: { '/ws': service() } }, new RecordingFactory(false));
    const ws = await wsOpen(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json']);
    await until(() => factory.sessions.length === 1);
    const s = factory.sessions[0]!;
    const got = nextMessage(ws);
    const code = new Promise<number>((r) => ws.once('close', (c) => r(c)));
    s.transport.send([6, {}, 'wamp.close.normal']);
    s.transport.close();
    s.transport.close();
    expect(JSON.parse((await got).data.toString())).toEqual([6, {}, 'wamp.close.normal']);
    expect(await code).toBe(1000);
    await until(() => s.closed === 1);
    await tick(20);
    expect(s.closed).toBe(1);
  });
});

// ---- the listener ----

describe('Listener', () => {
  function staticSite() {
    const root = mkdtempSync(join(tmpdir(), 'junction-static-'));
    mkdirSync(join(root, 'web', 'sub'), { recursive: true });
    mkdirSync(join(root, 'web-private'));
    writeFileSync(join(root, 'web', 'index.html'), '<h1>dashboard</h1>');
    writeFileSync(join(root, 'web', 'app.js'), 'console.log(1)');
    writeFileSync(join(root, 'web', 'style.css'), 'h1{}');
    writeFileSync(join(root, 'web', 'data.bin'), Buffer.from([1, 2, 3]));
    writeFileSync(join(root, 'web', 'sub', 'index.html'), 'sub');
    writeFileSync(join(root, 'web-private', 'key.txt'), 'private');
    writeFileSync(join(root, 'secret.txt'), 'secret');
    return { root, web: join(root, 'web') };
  }

  async function httpGet(port: number, target: string, method = 'GET'): Promise<string> {
    const c = await rawClient(port);
    c.socket.write(`${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    return (await c.rest()).toString();
  }

  it('serves RawSocket, WebSocket and static files on one port, telling them apart by the first byte', async () => {
    const { web } = staticSite();
    const { port, factory, listener } = await listen({
      rawsocket: service(), websocket: { '/ws': service() }, static: { '/static': { type: 'static', directory: web } },
    });
    const raw = await rawClient(port);
    expect((await rawHandshake(raw, 0xf1))[1]! & 0x0f).toBe(1);
    raw.socket.write(frame(0, Buffer.from('[1,"realm1",{}]')));
    expect(JSON.parse((await readFrame(raw)).payload.toString())).toEqual([1, 'realm1', {}]);
    const ws = await wsOpen(`ws://127.0.0.1:${port}/ws`, ['wamp.2.msgpack']);
    const echoed = nextMessage(ws);
    ws.send(getSerializer('msgpack').encode([1, 'realm2', {}]));
    expect(getSerializer('msgpack').decode((await echoed).data)).toEqual([1, 'realm2', {}]);
    const page = await fetch(`http://127.0.0.1:${port}/static/`);
    expect(await page.text()).toBe('<h1>dashboard</h1>');
    const info = await fetch(`http://127.0.0.1:${port}/`);
    expect(info.status).toBe(200);
    expect(await info.text()).toMatch(/WebSocket: \/ws[\s\S]*RawSocket/);
    expect(factory.sessions.map((s) => s.transport.info.type)).toEqual(['rawsocket', 'websocket']);
    expect(listener.url).toBe(`t (universal): ws://127.0.0.1:${port}/ws · rawsocket tcp://127.0.0.1:${port} · http://127.0.0.1:${port}/static`);
  });

  it('drops a connection that sends nothing on a shared port within the shortest handshake timeout', async () => {
    const { port } = await listen({ rawsocket: service(['json'], { openHandshakeTimeout: 100 }), websocket: { '/ws': service(['json'], { openHandshakeTimeout: 100 }) } });
    const raw = await rawClient(port);
    await rawHandshake(raw, 0xf1);
    const ws = await wsOpen(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json']);
    const c = await rawClient(port);
    const started = Date.now();
    await c.closed;
    expect(Date.now() - started).toBeLessThan(1500);
    // Connections that did their handshake stay past the timeout.
    await tick(150);
    expect(raw.isClosed()).toBe(false);
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('serves static files: index.html, content types, HEAD, redirects for directories, 304, 404', async () => {
    const { web } = staticSite();
    const { port } = await listen({ kind: 'web', static: { '/': { type: 'static', directory: web } }, websocket: { '/ws': service() } });
    const base = `http://127.0.0.1:${port}`;
    const index = await fetch(`${base}/`);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await index.text()).toBe('<h1>dashboard</h1>');
    expect((await fetch(`${base}/app.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${base}/style.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    const bin = await fetch(`${base}/data.bin?v=1`);
    expect(bin.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await bin.arrayBuffer())).toEqual(Buffer.from([1, 2, 3]));
    const head = await httpGet(port, '/app.js', 'HEAD');
    expect(head).toMatch(/^HTTP\/1.1 200/);
    expect(head).toMatch(/Content-Length: 14/i);
    expect(head.endsWith('\r\n\r\n')).toBe(true); // no body
    const redirect = await fetch(`${base}/sub?x=1`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/sub/?x=1');
    expect(await (await fetch(`${base}/sub/`)).text()).toBe('sub');
    const lastModified = index.headers.get('last-modified')!;
    expect((await fetch(`${base}/`, { headers: { 'If-Modified-Since': lastModified } })).status).toBe(304);
    expect((await fetch(`${base}/missing.html`)).status).toBe(404);
    expect((await fetch(`${base}/app.js`, { method: 'POST', body: 'x' })).status).toBe(404);
  });

  it('issue 19 #12d: GET //host/... is never redirected to another host (no protocol-relative Location)', async () => {
    const { web } = staticSite();
    const { port } = await listen({ kind: 'web', static: { '/': { type: 'static', directory: web } } });
    // Each names the directory 'sub' (the '..' undoes the host-looking component), which is answered
    // with a redirect that adds the '/': the Location must be a path on this host.
    for (const target of ['//evil.example/..%2fsub', '//sub', '///sub', '/\\evil.example/..%2fsub', '/%5cevil.example/..%2fsub', '//evil.example/../sub']) {
      const response = await httpGet(port, target);
      const location = /\r\nLocation: ([^\r]*)/i.exec(response)?.[1];
      if (location === undefined) {
        expect(response, target).toMatch(/^HTTP\/1.1 404/);
        continue;
      }
      expect(response, target).toMatch(/^HTTP\/1.1 301/);
      expect(location, target).toMatch(/^\/[^/\\]/);
      // Resolved as a browser does, it stays on this host.
      expect(new URL(location, `http://127.0.0.1:${port}${target.replace(/\\/g, '/')}`).host, target).toBe(`127.0.0.1:${port}`);
    }
    expect(await httpGet(port, '//sub')).toMatch(/\r\nLocation: \/sub\/\r\n/i);
    // An absolute-form target names no file here.
    expect(await httpGet(port, 'http://evil.example/sub')).toMatch(/^HTTP\/1.1 404/);
  });

  it('answers 304 only when the file is not newer', async () => {
    const { web } = staticSite();
    const { port } = await listen({ kind: 'web', static: { '/': { type: 'static', directory: web } } });
    const old = new Date(Date.now() - 60_000).toUTCString();
    utimesSync(join(web, 'app.js'), new Date(), new Date());
    expect((await fetch(`http://127.0.0.1:${port}/app.js`, { headers: { 'If-Modified-Since': old } })).status).toBe(200);
  });

  it('never serves a file outside the static directory', async () => {
    const { web } = staticSite();
    const { port } = await listen({ kind: 'web', static: { '/files': { type: 'static', directory: web } } });
    expect(await httpGet(port, '/files/app.js')).toMatch(/^HTTP\/1.1 200/);
    for (const attack of [
      '/files/../secret.txt', '/files/%2e%2e/secret.txt', '/files/..%2fsecret.txt', '/files/%2e%2e%2fsecret.txt',
      '/files/..%5csecret.txt', '/files/sub/../../secret.txt', '/files/%2e%2e/web-private/key.txt', '/files-private/key.txt',
      '/files/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd', '/files/%00', '/files/%zz', '/../secret.txt',
    ]) {
      const response = await httpGet(port, attack);
      expect(response, attack).toMatch(/^HTTP\/1.1 404/);
      expect(response, attack).not.toMatch(/secret|private|root:/);
    }
  });

  it('listens on a Unix socket: RawSocket and WebSocket, peer "unix"; replaces a stale socket file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-unix-'));
    const path = join(dir, 'j.sock');
    // A process killed while listening leaves its socket file behind.
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(existsSync(path)).toBe(true);
    const factory = new RecordingFactory();
    const listener = new Listener({
      id: 'u', kind: 'universal', endpoint: { type: 'unix', path }, rawsocket: service(), websocket: { '/ws': service() },
      websocketAnyPath: false, static: {},
    }, factory);
    listeners.push(listener);
    await listener.start();
    expect(listener.address()).toBe(path);
    const c = await rawClient(path);
    expect((await rawHandshake(c, 0xf3))[0]).toBe(0x7f);
    const ws = await wsOpen(`ws+unix://${path}:/ws`, ['wamp.2.json']);
    expect(ws.protocol).toBe('wamp.2.json');
    await until(() => factory.sessions.length === 2);
    expect(factory.sessions.map((s) => s.transport.info.peer)).toEqual(['unix', 'unix']);
  });

  it('refuses a Unix socket path another process listens on, or that is not a socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-unix-'));
    const path = join(dir, 'j.sock');
    const config = (id: string, p: string): ListenerConfig => ({
      id, kind: 'rawsocket', endpoint: { type: 'unix', path: p }, rawsocket: service(), websocket: {}, websocketAnyPath: false, static: {},
    });
    const first = new Listener(config('a', path), new RecordingFactory());
    listeners.push(first);
    await first.start();
    await expect(new Listener(config('b', path), new RecordingFactory()).start()).rejects.toThrow(/listener 'b' cannot listen on unix:.*address in use/);
    const file = join(dir, 'plain.txt');
    writeFileSync(file, 'x');
    await expect(new Listener(config('c', file), new RecordingFactory()).start()).rejects.toThrow(/not a socket/);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('rejects start() with the listener id and address when the port is taken', async () => {
    const { port } = await listen({ rawsocket: service() });
    const second = new Listener({
      id: 'second', kind: 'rawsocket', endpoint: { type: 'tcp', port, interface: '127.0.0.1' }, rawsocket: service(),
      websocket: {}, websocketAnyPath: false, static: {},
    }, new RecordingFactory());
    await expect(second.start()).rejects.toThrow(new RegExp(`listener 'second' cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
  });

  it('serves RawSocket and WebSocket over TLS on one port, marking the transports', async () => {
    const tls = { key: pem('server.key'), certificate: pem('server.crt') };
    const { port, factory, listener } = await listen({
      endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1', tls }, rawsocket: service(), websocket: { '/ws': service() },
    });
    const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', ca: pem('server.crt') });
    await new Promise((r) => socket.once('secureConnect', r));
    const c = wrap(socket);
    cleanups.push(() => socket.destroy());
    expect((await rawHandshake(c, 0xf2))[1]! & 0x0f).toBe(2);
    const ws = await wsOpen(`wss://127.0.0.1:${port}/ws`, ['wamp.2.cbor'], { ca: pem('server.crt'), servername: 'localhost' });
    expect(ws.protocol).toBe('wamp.2.cbor');
    await until(() => factory.sessions.length === 2);
    expect(factory.sessions.map((s) => [s.transport.info.type, s.transport.info.tls])).toEqual([['rawsocket', true], ['websocket', true]]);
    expect(listener.url).toContain(`wss://127.0.0.1:${port}/ws`);
  });

  it('listens on IPv6 and describes IPv6 peers', async () => {
    const { port, factory } = await listen({ endpoint: { type: 'tcp', port: 0, interface: '::1', version: 6 }, rawsocket: service() });
    const socket = connect(port, '::1');
    await new Promise((r) => socket.once('connect', r));
    cleanups.push(() => socket.destroy());
    await rawHandshake(wrap(socket), 0xf1);
    await until(() => factory.sessions.length === 1);
    expect(factory.sessions[0]!.transport.info.peer).toBe(`tcp6:[::1]:${socket.localPort}`);
  });

  it('stop() closes the port and every connection; sessions learn of it', async () => {
    const { port, factory, listener } = await listen({ rawsocket: service(), websocket: { '/ws': service() } });
    const c = await rawClient(port);
    await rawHandshake(c, 0xf1);
    const ws = await wsOpen(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json']);
    await until(() => factory.sessions.length === 2);
    await listener.stop();
    await c.closed;
    await new Promise((r) => (ws.readyState === WebSocket.CLOSED ? r(undefined) : ws.once('close', r)));
    await until(() => factory.sessions.every((s) => s.closed === 1));
    await expect(rawClient(port)).rejects.toThrow(/ECONNREFUSED/);
  });
});

// ---- encode once ----

describe('EncodingCache', () => {
  it('encodes a message shared by many receivers once per serializer, whatever the transport', async () => {
    const { port, factory } = await listen({ rawsocket: service(), websocket: { '/ws': service() } }, new RecordingFactory(false));
    const jsonClients = await Promise.all([0, 1, 2].map(() => wsOpen(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json'])));
    const msgpackClient = await wsOpen(`ws://127.0.0.1:${port}/ws`, ['wamp.2.msgpack']);
    const raw = await rawClient(port);
    await rawHandshake(raw, 0xf1);
    await until(() => factory.sessions.length === 5);

    const json = getSerializer('json');
    const msgpack = getSerializer('msgpack');
    const jsonEncode = vi.spyOn(json, 'encode');
    const msgpackEncode = vi.spyOn(msgpack, 'encode');
    cleanups.push(() => {
      jsonEncode.mockRestore();
      msgpackEncode.mockRestore();
    });
    const event = [36, 1, 2, {}, ['x']];
    const got = [...jsonClients, msgpackClient].map((ws) => nextMessage(ws));
    const cache: EncodingCache = {};
    for (const s of factory.sessions) expect(s.transport.send(event, cache)).toBe(true);

    expect(jsonEncode).toHaveBeenCalledTimes(1);
    expect(msgpackEncode).toHaveBeenCalledTimes(1);
    expect(Object.keys(cache).sort()).toEqual(['json', 'msgpack']);
    const texts = await Promise.all(got);
    expect(texts.slice(0, 3).map((m) => m.data.toString())).toEqual(Array(3).fill('[36,1,2,{},["x"]]'));
    expect(msgpack.decode(texts[3]!.data)).toEqual(event);
    expect((await readFrame(raw)).payload.toString()).toBe('[36,1,2,{},["x"]]');
  });

  it('uses what is already in the cache', async () => {
    const { port, factory } = await listen({ websocket: { '/ws': service() } }, new RecordingFactory(false));
    const ws = await wsOpen(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json']);
    await until(() => factory.sessions.length === 1);
    const got = nextMessage(ws);
    factory.sessions[0]!.transport.send([36, 1, 2, {}], { json: Buffer.from('[36,9,9,{}]') });
    expect((await got).data.toString()).toBe('[36,9,9,{}]');
  });
});

// Issue 19 "no stall": a peer streaming large messages gets its share of an event-loop turn and no
// more (BYTES_PER_TURN), so the router gets to other connections and timers in between.
describe('a connection\'s share of an event-loop turn', () => {
  const MESSAGE_BYTES = 200 * 1024;
  const MESSAGES = 30;

  /** Counts event-loop turns while `during` runs; returns how many messages arrived in the busiest turn. */
  async function busiestTurn(factory: RecordingFactory, during: () => Promise<void>): Promise<number> {
    const turns = new TurnTally();
    const original = factory.openSession.bind(factory);
    factory.openSession = (transport) => {
      const handle = original(transport);
      const receive = handle.receive.bind(handle);
      handle.receive = (m) => {
        turns.seen();
        receive(m);
      };
      return handle;
    };
    try {
      await during();
    } finally {
      turns.stop();
    }
    return turns.busiest;
  }

  const big = (i: number) => Buffer.from(JSON.stringify([16, i, {}, 'big.message', ['x'.repeat(MESSAGE_BYTES)]]));

  it('RawSocket: 30 messages of 200 KiB sent at once are handed over at most two a turn', async () => {
    const { port, factory } = await listen({ rawsocket: service(['json'], { maxMessageSize: 1024 * 1024 }) }, new RecordingFactory(false));
    const most = await busiestTurn(factory, async () => {
      const c = await rawClient(port);
      cleanups.push(() => c.socket.destroy());
      await rawHandshake(c, 0xf1);
      c.socket.write(Buffer.concat(Array.from({ length: MESSAGES }, (_, i) => frame(0, big(i)))));
      await until(() => factory.sessions[0]?.received.length === MESSAGES, 10_000);
    });
    expect(most).toBeLessThanOrEqual(2);
  });

  it('WebSocket: 30 messages of 200 KiB sent at once are handed over at most two a turn', async () => {
    const { port, factory } = await listen({ websocket: { '/ws': service(['json'], { maxMessageSize: 1024 * 1024 }) } }, new RecordingFactory(false));
    const most = await busiestTurn(factory, async () => {
      const ws = await wsOpen(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json']);
      for (let i = 0; i < MESSAGES; i++) ws.send(big(i).toString());
      await until(() => factory.sessions[0]?.received.length === MESSAGES, 10_000);
    });
    expect(most).toBeLessThanOrEqual(2);
  });
});
