// A WebSocket client written out by hand over TCP, to see what the router puts on the wire (each
// frame with its FIN bit and opcode, the upgrade response's headers) and to misbehave on purpose
// (never answer a close frame). For tests only: no extensions, small frames.

import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { until } from './until.js';

export interface WireFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

export interface RawWebSocket {
  socket: Socket;
  /** The upgrade response's status line and headers (lower-case names). */
  status: number;
  headers: Record<string, string>;
  /** Frames received so far, in order. */
  frames: WireFrame[];
  closed(): boolean;
  /** Sends one masked frame (text by default). */
  send(payload: Buffer | string, opcode?: number, fin?: boolean): void;
  /** Waits for `n` frames in all. */
  frameCount(n: number, ms?: number): Promise<void>;
}

/** Connects and upgrades; resolves once the response headers are in (whatever the status). */
export function rawWebSocket(port: number, path: string, headers: Record<string, string> = {}): Promise<RawWebSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    let upgraded: RawWebSocket | undefined;
    let closed = false;
    socket.on('close', () => { closed = true; });
    socket.on('error', () => {});
    socket.once('error', reject);
    socket.once('connect', () => {
      const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(lines.join('\r\n') + '\r\n\r\n');
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [statusLine, ...rest] = buffer.subarray(0, end).toString('latin1').split('\r\n');
        buffer = buffer.subarray(end + 4);
        const parsed: Record<string, string> = {};
        for (const line of rest) {
          const i = line.indexOf(':');
          parsed[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        }
        upgraded = {
          socket,
          status: Number(statusLine!.split(' ')[1]),
          headers: parsed,
          frames: [],
          closed: () => closed,
          send(payload, opcode = 1, fin = true) {
            const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
            const mask = randomBytes(4);
            const length = data.length < 126 ? Buffer.from([data.length | 0x80])
              : data.length < 65536 ? Buffer.from([126 | 0x80, data.length >> 8, data.length & 0xff])
              : Buffer.concat([Buffer.from([127 | 0x80]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(data.length)); return b; })()]);
            const masked = Buffer.from(data.map((b, i) => b ^ mask[i % 4]!));
            socket.write(Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode]), length, mask, masked]));
          },
          frameCount: async (n, ms = 5000) => { await until(() => upgraded!.frames.length >= n, ms, `${n} frames`); },
        };
        resolve(upgraded);
      }
      // Frames from the server: unmasked.
      for (;;) {
        if (buffer.length < 2) return;
        let length = buffer[1]! & 0x7f;
        let offset = 2;
        if (length === 126) { if (buffer.length < 4) return; length = buffer.readUInt16BE(2); offset = 4; }
        else if (length === 127) { if (buffer.length < 10) return; length = Number(buffer.readBigUInt64BE(2)); offset = 10; }
        if (buffer.length < offset + length) return;
        upgraded.frames.push({ fin: (buffer[0]! & 0x80) !== 0, opcode: buffer[0]! & 0x0f, payload: buffer.subarray(offset, offset + length) });
        buffer = buffer.subarray(offset + length);
      }
    });
  });
}
