// Crossbar's `websocket-reverseproxy` path: each client's WebSocket upgrade opens a WebSocket to the
// backend (ws on both sides) offering the client's subprotocols; the client is accepted with the one
// the backend chose, then messages pass both ways unchanged (text stays text, binary stays binary)
// and a close on one side closes the other with the same code and reason.
//
// Bounds: a message is at most the receiving side's max_message_size; past max_send_queue bytes
// waiting to be written to one side, the other side is read no further until they are written
// (ws's pause), so each direction holds at most max_send_queue plus one read chunk and one message.
// An unreachable backend (or one not done within endpoint.timeout) refuses the upgrade with 503,
// as Crossbar does; a backend refusing the handshake, with 502.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { WampTransportOptions, WebSocketBackendConfig, WebSocketReverseProxyPathConfig } from '../config/types.js';
import { DEFAULT_WEBSOCKET_OPTIONS } from '../config/types.js';
import { KeepAlive } from './keepalive.js';
import { FrameLimit, sendFragmented } from './websocket-frames.js';
import { CompressedCount, perMessageDeflate } from './websocket-compression.js';
import { originPattern, originRefused } from './websocket.js';
import { rejectUpgrade } from './http.js';
import { writeWebStatus } from './websocket-status.js';
import { describePeer } from './peer.js';
import { log } from '../log.js';
import { LogBudget } from '../log-budget.js';

/** Close codes (RFC 6455 7.4.1) that are reported, never sent. */
const NO_STATUS = 1005;
const ABNORMAL = 1006;
const MESSAGE_TOO_BIG = 1009;
/** ws's own wait for the peer's close frame, when close_handshake_timeout is 0. */
const WS_CLOSE_TIMEOUT = 30_000;
const MAX_PING_PAYLOAD = 125;
/** Refused upgrades are logged, but a client retrying against a dead backend cannot flood the journal. */
const refusals = new LogBudget('websocket-reverseproxy: upgrades refused', 20);

export class WebSocketReverseProxy {
  private readonly wss: WebSocketServer;
  /** undefined = any origin. */
  private readonly origins: RegExp[] | undefined;
  private readonly compressed: CompressedCount | undefined;
  /** The subprotocol the backend chose, per client upgrade under way (read by handleProtocols). */
  private readonly chosen = new WeakMap<IncomingMessage, string>();
  /** Backend connections open or opening, closed with the listener. */
  private readonly backends = new Set<WebSocket>();

  constructor(private readonly config: WebSocketReverseProxyPathConfig) {
    const front = config.frontend;
    const deflate = front.websocket?.deflate;
    if (deflate) this.compressed = new CompressedCount(deflate.maxConnections);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: front.maxMessageSize,
      perMessageDeflate: deflate ? perMessageDeflate(deflate) : false,
      handleProtocols: (_offered, request) => this.chosen.get(request) ?? false,
    });
    this.origins = front.allowedOrigins.includes('*') ? undefined : front.allowedOrigins.map(originPattern);
  }

  /** A plain GET on the path: Crossbar's status page (`enable_webstatus`), or 426. */
  serve(_relativePath: string, _urlPath: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const webStatus = (this.config.frontend.websocket ?? DEFAULT_WEBSOCKET_OPTIONS).webStatus;
    writeWebStatus(req, res, webStatus, 'Junction WebSocket reverse proxy', 'This is a WebSocket endpoint (reverse proxy). Connect with a WebSocket client.');
    return Promise.resolve(true);
  }

  /** A client's upgrade on the path or below: the backend first, then the client with the backend's subprotocol. */
  upgrade(_relativePath: string, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const origin = req.headers.origin;
    if (originRefused(this.origins, origin, (this.config.frontend.websocket ?? DEFAULT_WEBSOCKET_OPTIONS).allowNullOrigin)) {
      return rejectUpgrade(socket, 403, `origin ${origin} is not allowed`);
    }
    // Not a WebSocket handshake: refused before the backend is dialled (ws would refuse it later).
    if (req.headers.upgrade?.toLowerCase() !== 'websocket' || req.headers['sec-websocket-key'] === undefined) {
      return rejectUpgrade(socket, 400, 'not a WebSocket handshake');
    }
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
    let backend: WebSocket;
    try {
      backend = this.dial(offered);
    } catch (err) {
      // ws refuses subprotocol names that are not tokens, or named twice.
      return rejectUpgrade(socket, 400, `bad subprotocol list: ${(err as Error).message}`);
    }
    const peer = describePeer(req.socket);
    let refusedWith: number | undefined;
    const clientGone = () => backend.terminate();
    socket.once('close', clientGone);
    backend.once('unexpected-response', (_request, response) => {
      refusedWith = response.statusCode;
      backend.terminate();
    });
    const handshakeFailed = (err: Error) => {
      socket.off('close', clientGone);
      if (socket.destroyed) return;
      refusals.write(() => `websocket-reverseproxy ${peer}: backend ${this.config.backend.url}: ${err.message}`);
      if (refusedWith !== undefined) rejectUpgrade(socket, 502, `the backend refused the WebSocket handshake (HTTP ${refusedWith})`);
      else rejectUpgrade(socket, 503, 'WebSocket reverse proxy backend not reachable');
    };
    backend.once('error', handshakeFailed);
    backend.once('open', () => {
      backend.off('error', handshakeFailed);
      socket.off('close', clientGone);
      if (socket.destroyed) return backend.terminate();
      this.chosen.set(req, backend.protocol);
      this.compressed?.beforeUpgrade(req);
      // A handshake ws refuses (400) ends the socket: the backend goes with it.
      socket.once('close', clientGone);
      this.wss.handleUpgrade(req, socket as Socket, head, (client) => {
        socket.off('close', clientGone);
        this.compressed?.opened(client);
        this.join(client, backend, socket as Socket);
      });
    });
  }

  /** Leaves nothing open when the listener stops. */
  close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    for (const backend of this.backends) backend.terminate();
    this.wss.close();
    return Promise.resolve();
  }

  /** Opens the backend connection, offering the client's subprotocols; throws on a bad subprotocol list. */
  private dial(protocols: string[]): WebSocket {
    const b = this.config.backend;
    const backend = new WebSocket(b.url, protocols, {
      createConnection: () => connectTo(b),
      maxPayload: b.options.maxMessageSize,
      perMessageDeflate: false,
      followRedirects: false,
    });
    // ws's handshakeTimeout does not run with a createConnection of our own: timed here.
    const timer = setTimeout(() => backend.terminate(), handshakeLimit(b, this.config.frontend));
    backend.once('open', () => clearTimeout(timer));
    this.backends.add(backend);
    backend.once('close', () => {
      clearTimeout(timer);
      this.backends.delete(backend);
    });
    // Errors after the handshake are followed by 'close', which ends the pair.
    backend.on('error', (err) => log.debug(`websocket-reverseproxy backend ${b.url}: ${err.message}`));
    return backend;
  }

  /** Both sides open: messages, pings and closes from now on. */
  private join(client: WebSocket, backend: WebSocket, socket: Socket): void {
    const front = this.config.frontend;
    const back = this.config.backend.options;
    client.on('error', (err) => {
      log.debug(`websocket-reverseproxy ${describePeer(socket)}: ${err.message}`);
      if (front.websocket?.failByDrop) client.terminate();
    });
    // max_frame_size: frame headers read beside ws, before it parses the chunk (as on WAMP paths).
    const maxFrame = front.websocket?.maxFrameSize ?? 0;
    let failed = false;
    if (maxFrame > 0) {
      const limit = new FrameLimit(maxFrame);
      socket.prependListener('data', (chunk: Buffer) => {
        if (failed || limit.feed(chunk) === undefined) return;
        failed = true;
        if (front.websocket?.failByDrop) client.terminate();
        else closeWithin(client, MESSAGE_TOO_BIG, 'frame exceeds payload limit', front.websocket?.closeHandshakeTimeout ?? 0);
      });
    }
    backend.on('error', () => {
      if (back.websocket?.failByDrop) backend.terminate();
    });
    relay(client, backend, back, () => failed);
    relay(backend, client, front, () => failed);
    keepAlive(client, front);
    keepAlive(backend, back);
    client.once('close', (code, reason) => mirrorClose(backend, code, reason, back.websocket?.closeHandshakeTimeout ?? 0));
    backend.once('close', (code, reason) => mirrorClose(client, code, reason, front.websocket?.closeHandshakeTimeout ?? 0));
  }
}

/** The backend's socket: TCP (with TLS if configured) or a Unix socket, whatever host the URL names. */
function connectTo(b: WebSocketBackendConfig): Duplex {
  const e = b.endpoint;
  if (e.type === 'unix') return netConnect({ path: e.path });
  const tcp = netConnect({ host: e.host, port: e.port, family: e.version ?? 0, noDelay: true });
  if (!b.tls) return tcp;
  return tlsConnect({ socket: tcp, servername: b.tls.servername, ca: b.tls.ca, cert: b.tls.certificate, key: b.tls.key });
}

/** How long the backend may take to accept: endpoint.timeout (0: none) and both sides' open_handshake_timeout. */
function handshakeLimit(b: WebSocketBackendConfig, front: WampTransportOptions): number {
  return Math.min(...[b.connectTimeout, b.options.openHandshakeTimeout, front.openHandshakeTimeout].filter((ms) => ms > 0));
}

/**
 * Every message of `from` goes to `to` as it came. While more than `toOptions.maxSendQueue` bytes
 * wait to be written to `to`, `from` is paused; it resumes once they are down to half.
 */
function relay(from: WebSocket, to: WebSocket, toOptions: WampTransportOptions, failed: () => boolean): void {
  const limit = toOptions.maxSendQueue;
  const fragment = toOptions.websocket?.autoFragmentSize ?? 0;
  let paused = false;
  const written = () => {
    if (paused && to.bufferedAmount <= limit / 2) {
      paused = false;
      from.resume();
    }
  };
  from.on('message', (data: RawData, isBinary: boolean) => {
    if (failed() || to.readyState !== WebSocket.OPEN) return;
    const payload = data as Buffer; // binaryType 'nodebuffer': one Buffer per message
    if (fragment > 0 && payload.length > fragment) sendFragmented(to, payload, isBinary, fragment, written);
    else to.send(payload, { binary: isBinary }, written);
    if (!paused && to.bufferedAmount > limit) {
      paused = true;
      from.pause();
    }
  });
}

/** auto_ping_interval/timeout/size on one side: a side that does not answer is dropped (and the other closed). */
function keepAlive(ws: WebSocket, o: WampTransportOptions): void {
  const payload = Buffer.alloc(Math.max(0, Math.min(o.autoPingSize, MAX_PING_PAYLOAD)));
  const k = new KeepAlive(o.autoPingInterval, o.autoPingTimeout, () => ws.ping(payload), () => ws.terminate());
  ws.on('pong', () => k.alive());
  ws.once('close', () => k.stop());
  k.start();
}

/**
 * One side closed: the other is closed with the same code and reason. A side that closed without
 * a code (1005) closes the other without one; a side that was dropped (1006) drops the other.
 */
function mirrorClose(other: WebSocket, code: number, reason: Buffer, closeTimeout: number): void {
  if (other.readyState === WebSocket.CLOSED) return;
  if (code === ABNORMAL || other.readyState === WebSocket.CONNECTING) return other.terminate();
  closeWithin(other, code === NO_STATUS ? undefined : code, reason.toString(), closeTimeout);
}

/** Sends a close frame and drops the connection if the peer's does not come within `timeout` ms (0: ws's 30 s). */
function closeWithin(ws: WebSocket, code: number | undefined, reason: string, timeout: number): void {
  try {
    if (code === undefined) ws.close();
    else ws.close(code, reason);
  } catch {
    ws.close(1000); // a code ws will not send (reported-only codes)
  }
  const timer = setTimeout(() => ws.terminate(), timeout > 0 ? timeout : WS_CLOSE_TIMEOUT);
  timer.unref();
  ws.once('close', () => clearTimeout(timer));
}
