// A router link's connection to the remote router over RawSocket (TCP, or TLS with endpoint.tls):
// the client's side of the 4-byte handshake (our serializer and the longest message we take), then
// 4-byte-header frames, a PING answered with a PONG. The framing is the listener's
// (src/transports/rawsocket.ts). A handshake names one serializer: the configured ones are tried in
// order, on a new connection each, until the router takes one. Resolves once the handshake is done.
// From then on it sends a PING every `pingIntervalMs` (auto_ping_interval); one without a PONG within
// `pingTimeoutMs` (auto_ping_timeout) drops the connection, as for WebSocket links.

import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { getSerializer, type Serializer } from '../serializers/index.js';
import type { RLinkTransportConfig } from '../config/types.js';
import type { WampMessage } from '../wamp/message.js';
import type { LocalPeer, WireConnection } from '../client/local-transport.js';
import { ByteQueue } from '../transports/byte-queue.js';
import { FRAME_MESSAGE, FRAME_PING, FRAME_PONG, RAWSOCKET_MAGIC, ERR_SERIALIZER_UNSUPPORTED, frameHeader, lengthExponent, readFrameHeader } from '../transports/rawsocket.js';
import { MAX_MESSAGE_BYTES, MAX_SEND_BACKLOG, type ConnectionTimings } from './websocket-connection.js';
import { tlsConnectOptions } from './tls-options.js';
import { WriteBatcher } from '../transports/outbound.js';
import { log } from '../log.js';

/** A PING's payload: some routers answer an empty PING only with their next frame. */
const PING_PAYLOAD = Buffer.from('junction');
/** How long a closing connection waits for the router to close its side. */
const CLOSE_WAIT_MS = 2000;

/** The router refused the serializer we named: the next one may do. */
class SerializerRefused extends Error {}

const HANDSHAKE_ERRORS: Record<number, string> = {
  0: 'illegal', 1: 'serializer unsupported', 2: 'maximum message length unacceptable', 3: 'use of reserved bits', 4: 'maximum connection count reached',
};

export async function openRawSocket(transport: RLinkTransportConfig, timings: ConnectionTimings): Promise<(peer: LocalPeer) => WireConnection> {
  for (const [i, name] of transport.serializers.entries()) {
    try {
      return await handshake(transport, getSerializer(name), timings);
    } catch (err) {
      if (!(err instanceof SerializerRefused) || i === transport.serializers.length - 1) throw err;
    }
  }
  throw new Error('no serializer configured');
}

function handshake(transport: RLinkTransportConfig, serializer: Serializer, timings: ConnectionTimings): Promise<(peer: LocalPeer) => WireConnection> {
  return new Promise((resolve, reject) => {
    const target = { host: transport.host, port: transport.port };
    const socket: Socket = transport.tls
      ? tlsConnect({ ...target, ...tlsConnectOptions(transport) }, hello)
      : tcpConnect(target, hello);
    const queue = new ByteQueue();
    const timer = setTimeout(() => fail(new Error(`no RawSocket handshake within ${timings.connectTimeoutMs} ms`)), timings.connectTimeoutMs);
    function fail(err: Error): void {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    }
    function hello(): void {
      socket.write(Buffer.from([RAWSOCKET_MAGIC, (lengthExponent(MAX_MESSAGE_BYTES) << 4) | serializer.rawSocketId, 0, 0]));
    }
    socket.setNoDelay(true);
    socket.once('error', fail);
    socket.once('close', () => fail(new Error('connection closed before the RawSocket handshake')));
    const onHandshake = (chunk: Buffer): void => {
      queue.push(chunk);
      if (queue.length < 4) return;
      const reply = queue.peekUInt32();
      queue.skip(4);
      const [magic, second] = [reply >>> 24, (reply >>> 16) & 0xff];
      if (magic !== RAWSOCKET_MAGIC) return fail(new Error('not a RawSocket router (wrong handshake reply)'));
      if ((second & 0x0f) === 0) {
        const code = second >> 4;
        const why = `the router refused the RawSocket handshake: ${HANDSHAKE_ERRORS[code] ?? `error ${code}`}`;
        return fail(code === ERR_SERIALIZER_UNSUPPORTED ? new SerializerRefused(`${why} (${serializer.name})`) : new Error(why));
      }
      if ((second & 0x0f) !== serializer.rawSocketId) return fail(new Error(`the router answered with serializer ${second & 0x0f}, not ${serializer.name}`));
      clearTimeout(timer);
      socket.pause(); // until the session takes the connection: nothing is read without it
      socket.off('data', onHandshake);
      socket.removeAllListeners('error');
      socket.removeAllListeners('close');
      socket.on('error', () => socket.destroy()); // 'close' follows
      resolve((peer) => frames(socket, queue, serializer, 2 ** (9 + (second >> 4)), timings, peer));
    };
    socket.on('data', onHandshake);
  });
}

/** The connection after the handshake; `queue` may already hold the first frames. */
function frames(socket: Socket, queue: ByteQueue, serializer: Serializer, peerMaxLength: number, timings: ConnectionTimings, peer: LocalPeer): WireConnection {
  const batcher = new WriteBatcher(socket);
  const write = (type: number, payload: Buffer): void => {
    batcher.hold();
    socket.write(frameHeader(type, payload.length));
    if (payload.length > 0) socket.write(payload);
  };
  const read = (): void => {
    while (!socket.destroyed && queue.length >= 4) {
      const frame = readFrameHeader(queue.peekUInt32());
      if (!frame || frame.length > MAX_MESSAGE_BYTES) return void socket.destroy();
      if (queue.length < 4 + frame.length) return;
      queue.skip(4);
      const payload = queue.take(frame.length);
      if (frame.type === FRAME_PING) write(FRAME_PONG, payload);
      else if (frame.type === FRAME_PONG) pinger.answered();
      else if (frame.type === FRAME_MESSAGE) {
        let message: WampMessage;
        try {
          message = serializer.decode(payload) as WampMessage;
        } catch {
          return void socket.destroy();
        }
        peer.onMessage(message);
      }
    }
  };
  const pinger = autoPing(socket, timings, () => write(FRAME_PING, PING_PAYLOAD));
  socket.on('data', (chunk: Buffer) => {
    queue.push(chunk);
    read();
  });
  // Closed while nobody listened (between the handshake and now): told once the session is set up.
  if (socket.destroyed) setImmediate(() => peer.onClose());
  else socket.on('close', () => peer.onClose());
  socket.once('close', () => pinger.stop());
  read(); // frames that came with the handshake reply
  socket.resume();
  return {
    send: (m) => {
      if (socket.destroyed || socket.writableEnded) return;
      if (socket.writableLength > MAX_SEND_BACKLOG) return void socket.destroy();
      const encoded = serializer.encode(m);
      // The router would have to drop the connection for it; one message is not worth the link.
      if (encoded.length > peerMaxLength) return log.warn(`rlink: a message of ${encoded.length} bytes is longer than the remote router takes (${peerMaxLength}); not sent`);
      write(FRAME_MESSAGE, encoded);
    },
    close: () => {
      socket.end();
      // A router that does not close its side (hung, or the network gone) is not waited for.
      setTimeout(() => socket.destroy(), CLOSE_WAIT_MS).unref();
    },
  };
}

/** Pings every interval; a ping unanswered within the timeout destroys the socket. */
function autoPing(socket: Socket, { pingIntervalMs, pingTimeoutMs }: ConnectionTimings, ping: () => void): { answered(): void; stop(): void } {
  let deadline: NodeJS.Timeout | undefined;
  const interval = pingIntervalMs > 0 ? setInterval(() => {
    if (deadline !== undefined || socket.destroyed) return; // still waiting for the last PONG
    ping();
    if (pingTimeoutMs > 0) deadline = setTimeout(() => socket.destroy(), pingTimeoutMs);
  }, pingIntervalMs) : undefined;
  interval?.unref();
  return {
    answered: () => {
      clearTimeout(deadline);
      deadline = undefined;
    },
    stop: () => {
      clearInterval(interval);
      clearTimeout(deadline);
    },
  };
}
