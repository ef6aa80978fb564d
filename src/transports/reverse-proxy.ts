// Crossbar's reverse proxy service (`type: reverseproxy`): a request below the path is forwarded
// to http://host:port/<path>/<rest>?<query> with node:http, the answer streamed back. Bounded: a
// request body over `max_request_body` gets 413, a request taking longer than `timeout` 504 (or
// a cut connection once the answer has begun), an unreachable backend 502. Bodies stream both
// ways with backpressure, so the router never holds more than the streams' buffers.
// WebSocket upgrades (any `Upgrade:` request) below the path are forwarded too: once the backend
// answers 101, the two connections are piped together (backpressure both ways).

import { request, type IncomingMessage, type ServerResponse, type OutgoingHttpHeaders, type RequestOptions } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { ReverseProxyPathConfig } from '../config/types.js';
import { log } from '../log.js';

/** Headers of one connection only (RFC 9110 7.6.1), never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export class ReverseProxy {
  readonly anyMethod = true;

  constructor(private readonly config: ReverseProxyPathConfig) {}

  serve(relativePath: string, _urlPath: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const { host, port, timeout, maxRequestBody } = this.config;
    if (leavesBase(relativePath)) return Promise.resolve(answer(res, 404, 'not found\n'));
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxRequestBody) return Promise.resolve(answer(res, 413, 'request body too large\n'));
    return new Promise<boolean>((resolve) => {
      const upstream = request(this.forwarded(relativePath, req));
      const fail = (status: 502 | 504 | 413, message: string) => {
        upstream.destroy();
        if (!res.headersSent) answer(res, status, message);
        else res.destroy();
        resolve(true);
      };
      const timer = setTimeout(() => fail(504, 'backend did not answer in time\n'), timeout);
      res.once('close', () => {
        clearTimeout(timer);
        upstream.destroy();
      });
      upstream.on('error', (err) => {
        log.debug(`reverse proxy to ${host}:${port}: ${err.message}`);
        fail(502, 'backend unreachable\n');
      });
      upstream.on('response', (back) => {
        const out: OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(back.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
        res.writeHead(back.statusCode ?? 502, back.statusMessage, out);
        back.pipe(res);
        back.on('error', () => res.destroy());
        back.on('end', () => clearTimeout(timer));
        resolve(true);
      });
      let received = 0;
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxRequestBody) {
          req.unpipe(upstream);
          fail(413, 'request body too large\n');
        }
      });
      req.pipe(upstream);
    });
  }

  /** Forwards a WebSocket (or other Upgrade) request: the backend's 101 joins the two connections. */
  upgrade(relativePath: string, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (leavesBase(relativePath)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const options = this.forwarded(relativePath, req);
    options.headers = { ...options.headers, connection: 'Upgrade', upgrade: req.headers.upgrade ?? '' };
    const upstream = request(options);
    const fail = (status: string) => {
      upstream.destroy();
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const timer = setTimeout(() => fail('504 Gateway Timeout'), this.config.timeout);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => {
      clearTimeout(timer);
      fail('502 Bad Gateway');
    });
    upstream.on('upgrade', (back, backSocket, backHead) => {
      clearTimeout(timer);
      socket.write(statusAndHeaders(back));
      if (backHead.length > 0) socket.write(backHead);
      if (head.length > 0) backSocket.write(head);
      backSocket.on('error', () => socket.destroy());
      socket.on('close', () => backSocket.destroy());
      backSocket.on('close', () => socket.destroy());
      socket.pipe(backSocket).pipe(socket);
    });
    // The backend refused the upgrade: its answer goes to the client as it is.
    upstream.on('response', (back) => {
      clearTimeout(timer);
      socket.write(statusAndHeaders(back, { connection: 'close' }));
      back.pipe(socket);
    });
    upstream.end();
  }

  /** The request to the backend: the path below the base, the query, the client's headers but
   *  hop-by-hop ones, and the X-Forwarded-* ones Crossbar adds. */
  private forwarded(relativePath: string, req: IncomingMessage): RequestOptions {
    const { host, port, path } = this.config;
    const query = req.url?.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    const encrypted = (req.socket as TLSSocket).encrypted === true;
    Object.assign(headers, {
      host: port === 80 ? host : `${host}:${port}`,
      'x-forwarded-host': req.headers.host ?? '',
      'x-forwarded-for': req.socket.remoteAddress ?? '',
      'x-real-ip': req.socket.remoteAddress ?? '',
      'x-forwarded-port': String(req.socket.localPort ?? ''),
      'x-forwarded-proto': encrypted ? 'https' : 'http',
    });
    return { host, port, method: req.method, path: `${path}/${relativePath}`.replace(/^(?!\/)/, '/') + query, headers };
  }
}

/** Whether a path below the prefix has '.' or '..' segments (%-encoded too), which could reach the backend outside `path`. */
function leavesBase(relativePath: string): boolean {
  return relativePath.split('/').some((segment) => {
    let decoded = segment;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return true;
    }
    return decoded === '.' || decoded === '..' || decoded.includes('/') || decoded.includes('\\');
  });
}

/** A backend answer's status line and headers, raw, for a connection that has no ServerResponse. */
function statusAndHeaders(back: IncomingMessage, override: Record<string, string> = {}): string {
  const lines = [`HTTP/1.1 ${back.statusCode ?? 502} ${back.statusMessage ?? ''}`];
  for (let i = 0; i < back.rawHeaders.length; i += 2) {
    if (!(back.rawHeaders[i]!.toLowerCase() in override)) lines.push(`${back.rawHeaders[i]}: ${back.rawHeaders[i + 1]}`);
  }
  for (const [name, value] of Object.entries(override)) lines.push(`${name}: ${value}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

function answer(res: ServerResponse, status: number, body: string): true {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
  res.end(body);
  return true;
}
