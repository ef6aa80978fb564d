// Hostile and heavy peers for the whole-router budget tests (test/integration/budget-process.test.ts): half-sent
// messages before authentication on each transport, idle connections, MQTT clients that stop
// reading. Raw sockets where a real client would not misbehave; mqtt-packet builds MQTT packets.

import { connect, type Socket } from 'node:net';
import * as mqttPacket from 'mqtt-packet';

/** Sockets opened by the floods, destroyed by closeAll(). */
const sockets = new Set<Socket>();

export function open(port: number): Socket {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  // Read (and drop) whatever comes, so that a close by the router is seen.
  socket.resume();
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
  return socket;
}

export function closeAll(): void {
  for (const s of sockets) s.destroy();
  sockets.clear();
}

/** Writes `total` filler bytes in 64 KiB pieces, as fast as the socket takes them; stops once it closes. */
async function writeFiller(socket: Socket, total: number, fill = 0x61): Promise<void> {
  const piece = Buffer.alloc(64 * 1024, fill);
  for (let sent = 0; sent < total && !socket.destroyed; sent += piece.length) {
    const chunk = total - sent < piece.length ? piece.subarray(0, total - sent) : piece;
    if (!socket.write(chunk)) await new Promise<void>((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.once('drain', done);
      socket.once('close', done);
    });
  }
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (!socket.connecting) return resolve();
    socket.once('connect', () => resolve());
    socket.once('close', () => resolve());
  });
}

/** RawSocket: handshake (JSON, largest length), then a frame announcing `announced` bytes of which `sent` follow. */
export async function rawsocketHalfMessage(port: number, announced: number, sent: number): Promise<Socket> {
  const s = open(port);
  await connected(s);
  s.write(Buffer.from([0x7f, 0xf1, 0, 0]));
  const header = Buffer.alloc(4);
  header.writeUInt32BE(announced & 0xffffff);
  s.write(header);
  await writeFiller(s, sent);
  return s;
}

/** A masked WebSocket frame header (64-bit length, zero mask): `first` is FIN/opcode, e.g. 0x81 a whole text message. */
export function websocketFrameHeader(first: number, length: number): Buffer {
  const header = Buffer.alloc(14);
  header[0] = first;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

/** A WebSocket upgrade offering `protocol`, by hand: the socket, and whether the router answered 101. */
export async function websocketUpgrade(port: number, path: string, protocol = 'wamp.2.json'): Promise<{ socket: Socket; upgraded: boolean }> {
  const s = open(port);
  await connected(s);
  s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`);
  const upgraded = await new Promise<boolean>((resolve) => {
    s.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1').startsWith('HTTP/1.1 101')));
    s.once('close', () => resolve(false));
  });
  return { socket: s, upgraded };
}

/** One frame (`first`: 0x81 text, 0x01 the first fragment of a message, 0x82 binary) announcing `announced` bytes, of which `sent` follow. */
export async function websocketHalfFrame(s: Socket, announced: number, sent: number, first = 0x81): Promise<void> {
  // A zero mask leaves the filler as it is.
  s.write(websocketFrameHeader(first, announced));
  await writeFiller(s, sent);
}

/**
 * WebSocket: an upgrade for wamp.2.json, then one text frame announcing `announced` bytes of which
 * `sent` follow (`first`: 0x01 for the first fragment of a message instead).
 */
export async function websocketHalfMessage(port: number, path: string, announced: number, sent: number, first = 0x81): Promise<Socket> {
  const { socket, upgraded } = await websocketUpgrade(port, path);
  if (upgraded) await websocketHalfFrame(socket, announced, sent, first);
  return socket;
}

/** MQTT: a CONNECT's fixed header announcing `announced` bytes, of which `sent` follow. */
export async function mqttHalfConnect(port: number, announced: number, sent: number): Promise<Socket> {
  const s = open(port);
  await connected(s);
  const header = [0x10];
  for (let n = announced; ; ) {
    const byte = n % 128;
    n = Math.floor(n / 128);
    header.push(n > 0 ? byte | 0x80 : byte);
    if (n === 0) break;
  }
  s.write(Buffer.from(header));
  await writeFiller(s, sent);
  return s;
}

/**
 * An MQTT 3.1.1 client that logs in, subscribes to `filter` at `qos`, and then never reads again:
 * what the router sends it piles up on the router's side (bounded by the router, or not).
 */
export async function stalledMqttSubscriber(port: number, opts: { clientId: string; username: string; password: string; filter: string; qos: 0 | 1; clean?: boolean }): Promise<Socket> {
  const s = open(port);
  await connected(s);
  s.write(mqttPacket.generate({
    cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: opts.clean ?? true, keepalive: 0,
    clientId: opts.clientId, username: opts.username, password: Buffer.from(opts.password),
  }));
  s.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: opts.filter, qos: opts.qos }] }));
  // Wait for CONNACK and SUBACK, then stop reading.
  await new Promise<void>((resolve) => {
    let seen = 0;
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen >= 9) { // CONNACK (4 bytes) + SUBACK (5 bytes)
        s.off('data', onData);
        s.pause();
        resolve();
      }
    };
    s.on('data', onData);
    s.once('close', () => resolve());
  });
  return s;
}

/** Opens `count` connections that send nothing. */
export async function idleConnections(port: number, count: number): Promise<void> {
  const all: Promise<void>[] = [];
  for (let i = 0; i < count; i++) all.push(connected(open(port)));
  await Promise.all(all);
}
