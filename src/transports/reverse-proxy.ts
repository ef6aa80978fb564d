// Crossbar's reverse proxy service (`type: reverseproxy`): a request below the path is forwarded
// to http://host:port/<path>/<rest>?<query> with node:http, the answer streamed back. Bounded: a
// request body over `max_request_body` gets 413, a request taking longer than `timeout` 504 (or
// a cut connection once the answer has begun), an unreachable backend 502. Bodies stream both
// ways with backpressure, so the router never holds more than the streams' buffers.
// WebSocket upgrades are not forwarded (the listener answers them 404).

import { request, type IncomingMessage, type ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ReverseProxyPathConfig } from '../config/types.js';
import { log } from '../log.js';

/** Headers of one connection only (RFC 9110 7.6.1), never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export class ReverseProxy {
  readonly anyMethod = true;

  constructor(private readonly config: ReverseProxyPathConfig) {}

  serve(relativePath: string, _urlPath: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const { host, port, path, timeout, maxRequestBody } = this.config;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxRequestBody) return Promise.resolve(answer(res, 413, 'request body too large\n'));
    const query = req.url?.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    const target = `${path}/${relativePath}`.replace(/^(?!\/)/, '/') + query;
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
    return new Promise<boolean>((resolve) => {
      const upstream = request({ host, port, method: req.method, path: target, headers });
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
}

function answer(res: ServerResponse, status: number, body: string): true {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
  res.end(body);
  return true;
}
