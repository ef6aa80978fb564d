// Crossbar's WebSocket options on a real router, seen by clients nobody here wrote (ws, Autobahn|JS,
// fetch) and on the wire (a hand-written client): permessage-deflate, max_frame_size,
// auto_fragment_size, fail_by_drop, close_handshake_timeout, allow_null_origin,
// require_websocket_subprotocol, enable_webstatus.

import { describe, it, expect, afterEach } from 'vitest';
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { rawWebSocket } from '../helpers/raw-websocket.js';
import { until } from '../helpers/until.js';
import { DEFAULT_TRANSPORT_OPTIONS, DEFAULT_WEBSOCKET_OPTIONS, DEFAULT_DEFLATE, type WebSocketOptions } from '../../src/config/types.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');
// Autobahn|JS brings its own ws (7.x): its permessage-deflate is the client side seen here.
const autobahnRequire = createRequire(require.resolve('autobahn'));
const ClientDeflate = autobahnRequire('ws/lib/permessage-deflate.js');

const HELLO = JSON.stringify([1, 'realm1', { roles: { caller: {}, callee: {} } }]);
let node: TestNode | undefined;
afterEach(async () => {
  await node?.stop();
  node = undefined;
});

async function start(ws: Partial<WebSocketOptions>, options: Partial<typeof DEFAULT_TRANSPORT_OPTIONS> = {}): Promise<TestNode> {
  const s = service({ options: { ...DEFAULT_TRANSPORT_OPTIONS, ...options, websocket: { ...DEFAULT_WEBSOCKET_OPTIONS, ...ws } } });
  node = await startTestNode({ listener: { websocket: { '/ws': s } } });
  return node;
}

function wsOpen(url: string, protocols: string[], options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

const closeOf = (ws: WebSocket) => new Promise<number>((r) => ws.once('close', (code) => r(code)));
const nextMessage = (ws: WebSocket) => new Promise<unknown[]>((r) => ws.once('message', (data) => r(JSON.parse(String(data)))));

function autobahnJoin(url: string): Promise<{ session: any; connection: any }> {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({ url, realm: 'realm1', max_retries: 0 });
    connection.onopen = (session: any) => resolve({ session, connection });
    connection.onclose = (reason: string, details: unknown) => {
      reject(new Error(`closed: ${reason} ${JSON.stringify(details)}`));
      return true;
    };
    connection.open();
  });
}

describe('compression (permessage-deflate through ws)', () => {
  it('is negotiated with Autobahn|JS, which then calls through compressed messages', async () => {
    const n = await start({ deflate: { ...DEFAULT_DEFLATE } });
    const accepted: string[] = [];
    const original = ClientDeflate.prototype.accept;
    ClientDeflate.prototype.accept = function (this: unknown, params: unknown) {
      const result = original.call(this, params);
      accepted.push(JSON.stringify(result));
      return result;
    };
    try {
      const a = await autobahnJoin(n.wsUrl);
      const b = await autobahnJoin(n.wsUrl);
      await a.session.register('com.example.big', () => 'x'.repeat(100_000));
      expect(await b.session.call('com.example.big')).toHaveLength(100_000);
      a.connection.close();
      b.connection.close();
    } finally {
      ClientDeflate.prototype.accept = original;
    }
    // Both clients accepted the router's answer, which names Junction's window (13 bits by default).
    expect(accepted).toHaveLength(2);
    expect(JSON.parse(accepted[0]!)).toMatchObject({ server_max_window_bits: 13 });
  });

  it('compresses what the router sends (RSV1 on the wire), within compression.max_connections', async () => {
    const n = await start({ deflate: { ...DEFAULT_DEFLATE, maxConnections: 1 } });
    const offer = { 'Sec-WebSocket-Protocol': 'wamp.2.json', 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' };
    const first = await rawWebSocket(n.port, '/ws', offer);
    expect(first.headers['sec-websocket-extensions']).toMatch(/^permessage-deflate; server_max_window_bits=13/);
    first.send(HELLO);
    await first.frameCount(1);
    // WELCOME (over the 64-byte threshold) went compressed: RSV1 set.
    expect(first.frames[0]!.payload.length).toBeGreaterThan(0);
    const rsv1 = await firstByteOfWelcome(n.port, offer);
    // The second connection is past max_connections 1: no extension, plain frames.
    expect(rsv1.extensions).toBeUndefined();
    expect(rsv1.byte & 0x40).toBe(0);
    expect(JSON.parse(rsv1.payload.toString())[0]).toBe(2);
    first.socket.destroy();
    // Once the first one is gone, a new client compresses again.
    await until(async () => (await firstByteOfWelcome(n.port, offer)).extensions !== undefined, 5000, 'a compressed connection again');
  });

  it('ws clients get a compressed WELCOME, and plain frames when compression is off (Crossbar default)', async () => {
    let n = await start({ deflate: { ...DEFAULT_DEFLATE } });
    const ws = await wsOpen(n.wsUrl, ['wamp.2.json']);
    expect(ws.extensions).toBe('permessage-deflate');
    ws.terminate();
    const w = await firstByteOfWelcome(n.port, { 'Sec-WebSocket-Protocol': 'wamp.2.json', 'Sec-WebSocket-Extensions': 'permessage-deflate' });
    expect(w.byte & 0x40).toBe(0x40);
    await n.stop();
    n = await start({});
    const plain = await wsOpen(n.wsUrl, ['wamp.2.json']);
    expect(plain.extensions).toBe('');
    plain.terminate();
  });
});

/** Joins with a hand-written client and reports the WELCOME frame's first byte (FIN, RSV1, opcode) and the extension answered. */
async function firstByteOfWelcome(port: number, headers: Record<string, string>): Promise<{ byte: number; payload: Buffer; extensions: string | undefined }> {
  const raw = await rawWebSocket(port, '/ws', headers);
  let first = -1;
  raw.socket.prependListener('data', (chunk: Buffer) => {
    if (first < 0) first = chunk[0]!;
  });
  raw.send(HELLO);
  await raw.frameCount(1);
  raw.socket.destroy();
  return { byte: first, payload: raw.frames[0]!.payload, extensions: raw.headers['sec-websocket-extensions'] };
}

describe('max_frame_size and fail_by_drop', () => {
  it('fails a connection whose frame is longer than max_frame_size with 1009 (a longer message in smaller frames passes)', async () => {
    const n = await start({ maxFrameSize: 1000 });
    const raw = await rawWebSocket(n.port, '/ws', { 'Sec-WebSocket-Protocol': 'wamp.2.json' });
    // HELLO of 1800 bytes in two frames of 900: frames under the limit, the message over it.
    const hello = JSON.stringify([1, 'realm1', { roles: { caller: {} }, pad: 'p'.repeat(1800 - 60) }]);
    raw.send(hello.slice(0, 900), 1, false);
    raw.send(hello.slice(900), 0, true);
    await raw.frameCount(1);
    expect(JSON.parse(raw.frames[0]!.payload.toString())[0]).toBe(2);
    raw.socket.destroy();
    const ws = await wsOpen(n.wsUrl, ['wamp.2.json']);
    const closed = closeOf(ws);
    ws.send(JSON.stringify([1, 'realm1', { roles: { caller: {} }, pad: 'p'.repeat(2000) }]));
    expect(await closed).toBe(1009);
  });

  it('fail_by_drop: the connection is dropped without a close frame (1006 at the client)', async () => {
    const n = await start({ maxFrameSize: 1000, failByDrop: true });
    const ws = await wsOpen(n.wsUrl, ['wamp.2.json']);
    const closed = closeOf(ws);
    ws.send('x'.repeat(2000));
    expect(await closed).toBe(1006);
    // ws's own failures too: a message over max_message_size.
    const n2 = await start({ failByDrop: true }, { maxMessageSize: 1000 });
    const ws2 = await wsOpen(n2.wsUrl, ['wamp.2.json']);
    const closed2 = closeOf(ws2);
    ws2.send('x'.repeat(2000));
    expect(await closed2).toBe(1006);
  });
});

describe('auto_fragment_size', () => {
  it('sends a message longer than auto_fragment_size as frames of that size; Autobahn|JS reassembles them', async () => {
    const n = await start({ autoFragmentSize: 64 });
    const raw = await rawWebSocket(n.port, '/ws', { 'Sec-WebSocket-Protocol': 'wamp.2.json' });
    raw.send(HELLO);
    await until(() => raw.frames.some((f) => f.fin), 5000, 'the last fragment of WELCOME');
    const frames = raw.frames;
    expect(frames.length).toBeGreaterThan(1);
    expect(frames[0]!.opcode).toBe(1);
    expect(frames.slice(1).every((f) => f.opcode === 0)).toBe(true);
    expect(frames.slice(0, -1).every((f) => !f.fin && f.payload.length === 64)).toBe(true);
    expect(JSON.parse(Buffer.concat(frames.map((f) => f.payload)).toString())[0]).toBe(2);
    raw.socket.destroy();
    const a = await autobahnJoin(n.wsUrl);
    await a.session.register('com.example.echo', (args: unknown[]) => args[0]);
    expect(await a.session.call('com.example.echo', ['é'.repeat(5000)])).toBe('é'.repeat(5000));
    a.connection.close();
  });
});

describe('close_handshake_timeout', () => {
  it('drops a peer that does not answer the close frame after close_handshake_timeout', async () => {
    for (const [timeout, within] of [[200, 1500], [4000, undefined]] as const) {
      const n = await start({ closeHandshakeTimeout: timeout });
      const raw = await rawWebSocket(n.port, '/ws', { 'Sec-WebSocket-Protocol': 'wamp.2.json' });
      raw.send('[999]'); // a protocol violation: ABORT, then the router closes
      await until(() => raw.frames.some((f) => f.opcode === 8), 5000, 'the close frame');
      const sent = Date.now();
      if (within !== undefined) {
        await until(() => raw.closed(), within, 'the drop');
        expect(Date.now() - sent).toBeLessThan(within);
      } else {
        // Past the 2 s Junction waited before; still waiting for our close frame.
        await new Promise((r) => setTimeout(r, 2600));
        expect(raw.closed()).toBe(false);
        raw.socket.destroy();
      }
      await n.stop();
    }
  });
});

describe('origins and subprotocols', () => {
  it("allow_null_origin (default true) lets 'Origin: null' in past allowed_origins; false refuses it (403)", async () => {
    let n = await start({}, { allowedOrigins: ['https://example.com'] });
    (await wsOpen(n.wsUrl, ['wamp.2.json'], { origin: 'null' })).terminate();
    await expect(wsOpen(n.wsUrl, ['wamp.2.json'], { origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
    await n.stop();
    n = await start({ allowNullOrigin: false }, { allowedOrigins: ['https://example.com'] });
    await expect(wsOpen(n.wsUrl, ['wamp.2.json'], { origin: 'null' })).rejects.toThrow('HTTP 403');
  });

  it('require_websocket_subprotocol false: a client naming no subprotocol speaks wamp.2.json; true (default): 400', async () => {
    let n = await start({});
    await expect(wsOpen(n.wsUrl, [])).rejects.toThrow('HTTP 400');
    await n.stop();
    n = await start({ requireSubprotocol: false });
    const ws = await wsOpen(n.wsUrl, []);
    expect(ws.protocol).toBe('');
    const welcome = nextMessage(ws);
    ws.send(HELLO);
    expect((await welcome)[0]).toBe(2);
    ws.terminate();
    // A client that names only subprotocols the service does not speak is still refused.
    await expect(wsOpen(n.wsUrl, ['wamp.2.flatbuffers'])).rejects.toThrow('HTTP 400');
  });
});

describe('enable_webstatus', () => {
  it('a plain GET on the WebSocket path: a status page (default true), 426 with false; other paths 404', async () => {
    let n = await start({});
    const page = await fetch(`http://127.0.0.1:${n.port}/ws`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/WAMP-over-WebSocket endpoint.*wamp\.2\.json/s);
    expect((await fetch(`http://127.0.0.1:${n.port}/other`)).status).toBe(404);
    await n.stop();
    n = await start({ webStatus: false });
    const refused = await fetch(`http://127.0.0.1:${n.port}/ws`);
    expect(refused.status).toBe(426);
    expect(refused.headers.get('upgrade')).toBe('websocket');
  });
});
