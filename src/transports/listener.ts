// One listening socket serving what its config asks for: RawSocket (first byte 0x7F), WebSocket
// upgrades on configured paths, static files, and a small answer for any other HTTP request.

import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { unlink } from 'node:fs/promises';
import type { ListenerConfig } from '../config/types.js';
import type { SessionFactory } from '../router/transport.js';
import { RawSocketTransport, RAWSOCKET_MAGIC } from './rawsocket.js';
import { WebSocketService } from './websocket.js';
import { StaticFiles } from './static-files.js';
import { log } from '../log.js';

export class Listener {
  private readonly server: NetServer;
  private readonly http: HttpServer | undefined;
  private readonly websockets = new Map<string, WebSocketService>();
  private readonly statics: Array<[prefix: string, files: StaticFiles]> = [];
  private readonly sockets = new Set<Socket>();

  constructor(readonly config: ListenerConfig, private readonly factory: SessionFactory) {
    for (const [path, service] of Object.entries(config.websocket)) this.websockets.set(path, new WebSocketService(service, factory));
    // Longest prefix first, so '/app/' wins over '/'.
    for (const [path, s] of Object.entries(config.static).sort((a, b) => b[0].length - a[0].length)) {
      this.statics.push([path, new StaticFiles(s.directory)]);
    }
    const servesHttp = this.websockets.size > 0 || this.statics.length > 0;
    if (servesHttp) {
      this.http = createHttpServer((req, res) => void this.onRequest(req, res));
      this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(req, socket, head));
      this.http.on('clientError', (_err, socket) => socket.destroy());
    }
    const tls = config.endpoint.tls;
    const onSocket = (socket: Socket) => this.onConnection(socket);
    this.server = tls
      ? createTlsServer({ key: tls.key, cert: tls.certificate, ca: tls.ca, requestCert: tls.ca !== undefined, rejectUnauthorized: false }, onSocket)
      : createNetServer(onSocket);
    this.server.on('error', (err) => log.error(`listener ${config.id}: ${err.message}`));
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    const rawsocket = this.config.rawsocket;
    if (rawsocket && !this.http) {
      new RawSocketTransport(socket, rawsocket, this.factory);
      return;
    }
    if (!rawsocket) {
      this.http!.emit('connection', socket);
      return;
    }
    // Both on one port: the first byte tells RawSocket (0x7F, never the start of HTTP) from HTTP.
    // A client that connects and says nothing is dropped after the handshake timeout.
    const silence = setTimeout(() => socket.destroy(), rawsocket.options.openHandshakeTimeout);
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(silence);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === RAWSOCKET_MAGIC) new RawSocketTransport(socket, rawsocket, this.factory);
      else this.http!.emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const path = pathOf(req.url);
    const service = this.websockets.get(path) ?? (this.config.websocketAnyPath ? this.websockets.values().next().value : undefined);
    if (!service) {
      socket.end(`HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    service.handleUpgrade(req, socket, head);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req.url);
    if (req.method === 'GET' || req.method === 'HEAD') {
      for (const [prefix, files] of this.statics) {
        if (path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)) {
          if (await files.serve(path.slice(prefix.length), req, res)) return;
        }
      }
      if (path === '/' && this.statics.length === 0) {
        const ws = [...this.websockets.keys()].join(', ');
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`Junction WAMP router.\nWebSocket paths: ${ws || '(none)'}${this.config.rawsocket ? '\nRawSocket on this port.' : ''}\n`);
        return;
      }
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  }

  async start(): Promise<void> {
    const endpoint = this.config.endpoint;
    if (endpoint.type === 'unix') await unlink(endpoint.path).catch(() => {});
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => reject(new Error(`listener '${this.config.id}' cannot listen on ${this.where()}: ${err.message}`));
      this.server.once('error', fail);
      const done = () => {
        this.server.off('error', fail);
        resolve();
      };
      if (endpoint.type === 'unix') this.server.listen(endpoint.path, done);
      else {
        const host = endpoint.interface ?? (endpoint.version === 6 ? '::' : '0.0.0.0');
        this.server.listen({ port: endpoint.port, host, backlog: endpoint.backlog, ipv6Only: endpoint.version === 6 }, done);
      }
    });
  }

  async stop(): Promise<void> {
    for (const ws of this.websockets.values()) ws.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  address(): AddressInfo | string | null {
    return this.server.address();
  }

  private where(): string {
    const e = this.config.endpoint;
    return e.type === 'unix' ? `unix:${e.path}` : `${e.interface ?? '*'}:${e.port}`;
  }

  /** For the log line: every URL this listener serves. */
  get url(): string {
    const e = this.config.endpoint;
    const secure = e.tls !== undefined;
    const address = this.address();
    const hostPort = e.type === 'unix'
      ? `unix:${e.path}`
      : `${formatHost(e.interface ?? '0.0.0.0')}:${typeof address === 'object' && address ? address.port : e.port}`;
    const parts: string[] = [];
    for (const path of this.websockets.keys()) parts.push(`${secure ? 'wss' : 'ws'}://${hostPort}${path}`);
    if (this.config.rawsocket) parts.push(`rawsocket ${secure ? 'tls' : 'tcp'}://${hostPort}`);
    if (this.statics.length > 0) parts.push(`${secure ? 'https' : 'http'}://${hostPort}${this.statics.map(([p]) => p).join(',')}`);
    return `${this.config.id} (${this.config.kind}): ${parts.join(' · ')}`;
  }
}

function pathOf(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0]!;
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
