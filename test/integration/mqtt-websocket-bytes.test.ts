// The WebSocket byte stream an MQTT connection reads and writes (websocket-bytes.ts), on a real
// socket: its writableLength is what the kernel has not taken yet, as a TCP socket's is, so the
// connection's send queue limit (max_send_queue) sees a slow WebSocket client as it sees a slow TCP one.
import { describe, it, expect, afterEach } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { WebSocketBytes } from '../../src/transports/mqtt-listener/websocket-bytes.js';
import { until } from '../helpers/until.js';

const MIB = 1024 * 1024;
let server: Server | undefined;
let client: WebSocket | undefined;
afterEach(() => {
  client?.terminate();
  server?.close();
});

/** A server-side WebSocketBytes and the ws client at its other end. */
async function pair(): Promise<{ bytes: WebSocketBytes; client: WebSocket }> {
  server = createServer();
  const wss = new WebSocketServer({ server });
  const made = new Promise<WebSocketBytes>((resolve) => wss.on('connection', (ws, req) => resolve(new WebSocketBytes(ws, req.socket))));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, ['mqtt']);
  return { bytes: await made, client };
}

describe('WebSocketBytes: a WebSocket as an MQTT connection\'s byte stream', () => {
  it('writableLength counts what the kernel has not taken: it grows while the client does not read, and drains to 0 once it reads again, every byte in order', async () => {
    const { bytes, client: ws } = await pair();
    const received: Buffer[] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      expect(isBinary).toBe(true);
      received.push(data);
    });
    await new Promise((resolve) => ws.once('open', resolve));
    const socket = (ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const piece = Buffer.alloc(64 * 1024);
    const total = 32 * MIB; // more than loopback's kernel buffers take
    for (let i = 0; i < total / piece.length; i++) {
      piece.writeUInt32BE(i, 0);
      bytes.write(Buffer.from(piece));
    }
    await until(() => bytes.writableLength > 16 * MIB);
    socket.resume();
    await until(() => bytes.writableLength === 0);
    await until(() => received.reduce((n, b) => n + b.length, 0) === total);
    const all = Buffer.concat(received);
    for (let i = 0; i < total / piece.length; i++) expect(all.readUInt32BE(i * piece.length)).toBe(i);
  });
});
