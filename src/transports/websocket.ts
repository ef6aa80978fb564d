// WAMP over WebSocket (ws): one WAMP message per WebSocket message, text frames for JSON,
// binary frames for MessagePack and CBOR, the serializer chosen by subprotocol.

import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { WampServiceConfig } from '../config/types.js';
import type { WampMessage } from '../wamp/message.js';
import type { EncodingCache, SessionFactory, SessionHandle, Transport, TransportInfo } from '../router/transport.js';
import { getSerializer, serializerFromSubprotocol, type Serializer } from '../serializers/index.js';
import { KeepAlive } from './keepalive.js';
import { encodeOnce, WriteBatcher } from './outbound.js';
import { describePeer } from './peer.js';
import { log } from '../log.js';

const TEXT = { binary: false };
const BINARY = { binary: true };
/** How long a close handshake may take before the socket is dropped. */
const CLOSE_GRACE_MS = 2000;

export class WebSocketTransport implements Transport {
  readonly info: TransportInfo;
  private readonly session: SessionHandle;
  private readonly keepAlive: KeepAlive;
  private closed = false;
  private readonly batcher: WriteBatcher;

  constructor(
    private readonly ws: WebSocket,
    private readonly serializer: Serializer,
    private readonly service: WampServiceConfig,
    factory: SessionFactory,
    request: IncomingMessage,
  ) {
    const socket = request.socket as Socket & { encrypted?: boolean };
    socket.setNoDelay(true);
    this.batcher = new WriteBatcher(socket);
    this.info = {
      type: 'websocket',
      serializer: serializer.name,
      peer: describePeer(socket),
      protocol: ws.protocol,
      tls: socket.encrypted === true,
    };
    const pingPayload = Buffer.alloc(service.options.autoPingSize);
    this.keepAlive = new KeepAlive(service.options.autoPingInterval, service.options.autoPingTimeout,
      () => ws.ping(pingPayload), () => {
        log.info(`websocket ${this.info.peer}: no pong within ${service.options.autoPingTimeout} ms, dropping`);
        ws.terminate();
      });
    this.session = factory.openSession(this, { auth: service.auth });
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('pong', () => this.keepAlive.alive());
    ws.on('error', (err) => log.debug(`websocket ${this.info.peer}: ${err.message}`));
    ws.on('close', () => {
      this.closed = true;
      this.keepAlive.stop();
      this.session.transportClosed();
    });
    this.keepAlive.start();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    let message: unknown;
    try {
      // ws has already checked a text frame's UTF-8.
      message = this.serializer.decode(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data), !isBinary);
    } catch (err) {
      this.session.protocolError(`cannot decode ${this.serializer.name} message: ${(err as Error).message}`);
      return;
    }
    this.session.receive(message);
  }

  send(message: WampMessage, cache?: EncodingCache): boolean {
    if (this.closed) return true;
    const encoded = encodeOnce(this.serializer, message, cache, this.info.peer);
    if (encoded === undefined || encoded.length > this.service.options.maxMessageSize) return false;
    this.batcher.hold();
    this.ws.send(encoded, this.serializer.binary ? BINARY : TEXT);
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.keepAlive.stop();
    this.ws.close(1000);
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
  }
}

/** Accepts WebSocket upgrades for one WAMP service (one path, or any path). */
export class WebSocketService {
  private readonly wss: WebSocketServer;
  private readonly origins: RegExp[] | undefined;

  constructor(private readonly service: WampServiceConfig, private readonly factory: SessionFactory) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: service.options.maxMessageSize,
      perMessageDeflate: false,
      handleProtocols: (protocols) => this.pickProtocol([...protocols]) ?? false,
    });
    const allowed = service.options.allowedOrigins;
    this.origins = allowed.includes('*')
      ? undefined
      : allowed.map((o) => new RegExp(`^${o.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i'));
  }

  /** The first subprotocol the client offers that this service speaks. */
  private pickProtocol(offered: string[]): string | undefined {
    return offered.find((p) => {
      const s = serializerFromSubprotocol(p);
      return s !== undefined && this.service.serializers.includes(s.name);
    });
  }

  handleUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    const origin = request.headers.origin;
    if (this.origins && origin && !this.origins.some((r) => r.test(origin))) {
      return refuse(socket, 403, `origin ${origin} is not allowed`);
    }
    const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
    const protocol = this.pickProtocol(offered);
    if (!protocol) {
      const supported = this.service.serializers.map((s) => `wamp.2.${s}`).join(', ');
      return refuse(socket, 400, `no supported WAMP subprotocol offered (supported: ${supported})`);
    }
    const timer = setTimeout(() => socket.destroy(), this.service.options.openHandshakeTimeout);
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      clearTimeout(timer);
      new WebSocketTransport(ws, getSerializer(serializerFromSubprotocol(protocol)!.name), this.service, this.factory, request);
    });
  }

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }
}

function refuse(socket: Socket, status: number, message: string): void {
  const reason = status === 403 ? 'Forbidden' : 'Bad Request';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(message) + 1}\r\n\r\n${message}\n`);
}
