// Crossbar's testee transports (config: load-testee.ts), echo servers for the Autobahn|Testsuite:
// a WebSocket message comes back as it came (text as text, binary as binary); a stream's bytes
// come back as they came (auto_fragment_size: in frames of that size). Memory is bounded: a
// WebSocket message by max_message_size (ws's maxPayload, inflated size included), and the echoes
// not yet written by max_send_queue: past it the connection is not read until they are. A stream
// is piped into itself (Node's back-pressure: not read while its writes wait).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { DEFAULT_WEBSOCKET_OPTIONS, type WampTransportOptions } from '../config/types.js';
import { KeepAlive } from './keepalive.js';
import { perMessageDeflate } from './websocket-compression.js';
import { originPattern } from './websocket.js';
import { rejectUpgrade } from './http.js';
import { describePeer } from './peer.js';
import { log } from '../log.js';

/** `stream.testee`: every byte the peer sends is written back. */
export function echoStream(socket: Socket): void {
  socket.pipe(socket);
}

/** `websocket.testee`: WebSocket upgrades on any path, every message echoed. */
export class WebSocketEcho {
  private readonly wss: WebSocketServer;
  /** undefined = any origin. */
  private readonly origins: RegExp[] | undefined;

  constructor(private readonly options: WampTransportOptions) {
    const deflate = options.websocket?.deflate;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageSize,
      perMessageDeflate: deflate ? perMessageDeflate(deflate) : false,
      // As Crossbar's testee (an Autobahn server without protocols): no subprotocol is chosen.
      handleProtocols: () => false,
    });
    const allowed = options.allowedOrigins;
    this.origins = allowed.includes('*') ? undefined : allowed.map(originPattern);
  }

  /**
   * A plain HTTP request (no Upgrade), as Crossbar's testee answers it: with `enable_webstatus`
   * (default true) a short status page for GET and HEAD, else 426 Upgrade Required; other methods 405.
   */
  answerPlain(req: IncomingMessage, res: ServerResponse): void {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0 });
      res.end();
      return;
    }
    const status = (this.options.websocket ?? DEFAULT_WEBSOCKET_OPTIONS).webStatus;
    const body = status
      ? '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Junction WebSocket testee</title></head>\n<body><h1>Junction WebSocket testee</h1><p>Every WebSocket message sent here comes back as it came.</p></body></html>\n'
      : 'this is a WebSocket endpoint: an HTTP Upgrade to WebSocket is required\n';
    const type = status ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8';
    res.writeHead(status ? 200 : 426, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...(status ? {} : { Upgrade: 'websocket', Connection: 'Upgrade' }) });
    res.end(head ? undefined : body);
  }

  handleUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    const origin = request.headers.origin;
    const nullAllowed = origin === 'null' && (this.options.websocket ?? DEFAULT_WEBSOCKET_OPTIONS).allowNullOrigin;
    if (this.origins && origin !== undefined && !nullAllowed && !this.origins.some((r) => r.test(origin))) {
      return rejectUpgrade(socket, 403, `origin ${origin} is not allowed`);
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.echo(ws, socket));
  }

  private echo(ws: WebSocket, socket: Socket): void {
    const { maxSendQueue, autoPingInterval, autoPingTimeout, autoPingSize } = this.options;
    const fragment = this.options.websocket?.autoFragmentSize ?? 0;
    const peer = describePeer(socket);
    const keepAlive = new KeepAlive(autoPingInterval, autoPingTimeout, () => ws.ping(Buffer.alloc(Math.min(autoPingSize, 125))), () => {
      log.info(`websocket testee ${peer}: no pong within ${autoPingTimeout} ms, dropping`);
      ws.terminate();
    });
    // Bytes of echoes handed to ws and not yet written to the socket.
    let unwritten = 0;
    const written = (length: number) => () => {
      unwritten -= length;
      if (unwritten <= maxSendQueue && ws.isPaused) ws.resume();
    };
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const message = data as Buffer; // ws's default binaryType: one Buffer per message
      unwritten += message.length;
      const done = written(message.length);
      const size = fragment > 0 ? fragment : message.length;
      if (message.length <= size) ws.send(message, { binary: isBinary }, done);
      else {
        for (let offset = 0; offset < message.length; offset += size) {
          const fin = offset + size >= message.length;
          ws.send(message.subarray(offset, offset + size), { binary: isBinary, fin }, fin ? done : undefined);
        }
      }
      // Past max_send_queue: the connection is not read until its echoes are written (ws's own
      // pause, which its receiver does not undo).
      if (unwritten > maxSendQueue) ws.pause();
    });
    ws.on('pong', () => keepAlive.alive());
    ws.on('error', (err) => log.debug(`websocket testee ${peer}: ${err.message}`));
    ws.once('close', () => keepAlive.stop());
    keepAlive.start();
  }

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }
}
