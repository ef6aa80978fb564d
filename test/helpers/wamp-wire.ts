// Raw WAMP connections for the fuzz suite and the hostile-peer tests: WebSocket (ws) and RawSocket
// (TCP) clients that can send any bytes, decode what the router sends, and wait for it.

import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { getSerializer, type Serializer, type SerializerName } from '../../src/serializers/index.js';
import { PUBLISH } from '../../src/wamp/message.js';

export const RAW_IDS: Record<SerializerName, number> = { json: 1, msgpack: 2, cbor: 3, ubjson: 4 };

export abstract class FuzzConn {
  readonly messages: unknown[] = [];
  /** Frames from the router that did not decode (never expected). */
  undecodable = 0;
  closed = false;
  /** Called with each decoded message, after it is stored. */
  onMessage: ((m: unknown) => void) | undefined;
  private waiters: Array<() => void> = [];
  constructor(readonly serializer: Serializer) {}

  protected notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  protected received(payload: Buffer): void {
    try {
      const m = this.serializer.decode(payload);
      this.messages.push(m);
      this.onMessage?.(m);
    } catch {
      this.undecodable++;
    }
    this.notify();
  }
  protected ended(): void {
    if (this.closed) return;
    this.closed = true;
    this.notify();
  }

  /** Waits until `pred` holds or `ms` pass; returns pred's value at the end. */
  async wait(pred: () => boolean, ms = 5000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 100));
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
    return true;
  }

  /** Resolves with the first message (from index `from`) that matches, or undefined after `ms`. */
  async next(pred: (m: unknown[]) => boolean, from = 0, ms = 5000): Promise<unknown[] | undefined> {
    let found: unknown[] | undefined;
    await this.wait(() => {
      for (let i = from; i < this.messages.length; i++) {
        const m = this.messages[i] as unknown[];
        if (Array.isArray(m) && pred(m)) { found = m; return true; }
      }
      return false;
    }, ms);
    return found;
  }

  sendMessage(m: unknown): void {
    this.sendPayload(this.serializer.encode(m as unknown[]));
  }
  /** One WAMP message's worth of bytes, framed as the transport frames messages. */
  abstract sendPayload(bytes: Buffer, opts?: { text?: boolean }): void;
  abstract close(): void;
}

export class WsConn extends FuzzConn {
  private constructor(private readonly ws: WebSocket, serializer: Serializer) {
    super(serializer);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      // The router must send JSON in text frames and the binary serializers in binary frames.
      if (isBinary === (serializer.name === 'json')) this.undecodable++;
      this.received(data);
    });
    ws.on('close', () => this.ended());
    ws.on('error', () => this.ended());
  }

  static open(url: string, name: SerializerName, protocol = `wamp.2.${name}`): Promise<WsConn> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocol, { maxPayload: 64 * 1024 * 1024 });
      const conn = new WsConn(ws, getSerializer(name));
      ws.once('open', () => resolve(conn));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  sendPayload(bytes: Buffer, opts: { text?: boolean } = {}): void {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(bytes, { binary: !(opts.text ?? this.serializer.name === 'json') });
  }

  close(): void {
    this.ws.terminate();
  }
}

export class RawConn extends FuzzConn {
  private buffer = Buffer.alloc(0);
  handshakeReply: Buffer | undefined;
  private constructor(readonly socket: Socket, serializer: Serializer) {
    super(serializer);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.ended());
    socket.on('error', () => this.ended());
  }

  /** Connects and sends the 4-byte handshake (16 MiB limit, the serializer asked for). */
  static open(port: number, name: SerializerName): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const conn = new RawConn(socket, getSerializer(name));
      socket.once('connect', () => {
        socket.write(Buffer.from([0x7f, 0xf0 | RAW_IDS[name], 0, 0]));
        conn.wait(() => conn.handshakeReply !== undefined || conn.closed, 5000).then(() => {
          const reply = conn.handshakeReply;
          // Accepted: 0x7F, (our length << 4) | the serializer asked for, 0, 0.
          if (reply && reply[0] === 0x7f && (reply[1]! & 0x0f) === RAW_IDS[name]) resolve(conn);
          else reject(new Error(`RawSocket handshake refused: ${conn.handshakeReply?.toString('hex')}`));
        }, reject);
      });
      socket.once('error', reject);
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (!this.handshakeReply) {
      if (this.buffer.length < 4) return;
      this.handshakeReply = this.buffer.subarray(0, 4);
      this.buffer = this.buffer.subarray(4);
      this.notify();
    }
    while (this.buffer.length >= 4) {
      const b0 = this.buffer[0]!;
      const length = (b0 & 0x08 ? 2 ** 24 : 0) + this.buffer.readUIntBE(1, 3);
      if (this.buffer.length < 4 + length) return;
      const payload = this.buffer.subarray(4, 4 + length);
      this.buffer = this.buffer.subarray(4 + length);
      const type = b0 & 0x07;
      if (type === 0) this.received(payload);
      else if (type === 1) this.socket.write(Buffer.concat([header(2, payload.length), payload]));
      else this.notify();
    }
  }

  sendPayload(bytes: Buffer): void {
    this.sendRaw(Buffer.concat([header(0, bytes.length), bytes]));
  }

  sendRaw(bytes: Buffer): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }
}

export function header(type: number, length: number): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type | (length === 2 ** 24 ? 0x08 : 0);
  h.writeUIntBE(length & 0xffffff, 1, 3);
  return h;
}

/** A raw TCP connection to watch what the router does with arbitrary bytes (handshakes, HTTP). */
export function tcp(port: number): Promise<{ socket: Socket; data: () => Buffer; closed: () => boolean; waitClosed(ms: number): Promise<boolean> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    const waiters: Array<() => void> = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => { closed = true; waiters.splice(0).forEach((w) => w()); });
    socket.on('error', () => {});
    socket.once('connect', () => resolve({
      socket,
      data: () => Buffer.concat(chunks),
      closed: () => closed,
      waitClosed: (ms) => new Promise<boolean>((r) => {
        if (closed) return r(true);
        const t = setTimeout(() => r(closed), ms);
        waiters.push(() => { clearTimeout(t); r(true); });
      }),
    }));
    socket.once('error', reject);
  });
}

/**
 * [PUBLISH, id, {acknowledge: true}, 'com.fuzz.deep', [deep]] with `depth` levels of lists (or
 * dicts), written by hand: the serializers' own encoders recurse and would overflow the stack here.
 */
export function deepPublish(name: SerializerName, id: number, depth: number, dicts = false): Buffer {
  const head = getSerializer(name).encode([PUBLISH, id, { acknowledge: true }, 'com.fuzz.deep', [0]]);
  if (name === 'json') {
    const open = dicts ? '{"a":'.repeat(depth) + '{}' + '}'.repeat(depth) : '['.repeat(depth) + ']'.repeat(depth);
    const text = head.toString('utf8');
    return Buffer.from(text.replace('[0]]', `[${open}]]`), 'utf8');
  }
  // MessagePack: fixarray(1) 0x91 / fixmap(1) 0x81 + fixstr "a"; CBOR: array(1) 0x81 / map(1) 0xa1 + text "a".
  const level = name === 'msgpack' ? (dicts ? [0x81, 0xa1, 0x61] : [0x91]) : dicts ? [0xa1, 0x61, 0x61] : [0x81];
  const empty = name === 'msgpack' ? (dicts ? 0x80 : 0x90) : dicts ? 0xa0 : 0x80;
  // The encoded head ends with the args list [0]: one-element list marker, then 0x00.
  const body = Buffer.alloc(depth * level.length + 1);
  for (let i = 0; i < depth; i++) body.set(level, i * level.length);
  body[body.length - 1] = empty;
  return Buffer.concat([head.subarray(0, head.length - 1), body]);
}

