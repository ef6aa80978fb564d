// The plain-HTTP side of a listener: static files under their path prefixes, a short info page
// at '/' when no static file answers there, 404 for the rest.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ListenerConfig } from '../config/types.js';
import { StaticFiles } from './static-files.js';
import { DashboardFiles } from './dashboard.js';
import { log } from '../log.js';
import { answerWebStatus } from './websocket-status.js';

export class HttpSite {
  /** Longest prefix first, so '/app' wins over '/'. */
  private readonly mounts: Array<{ prefix: string; files: Pick<StaticFiles, 'serve'> }>;

  constructor(private readonly config: ListenerConfig) {
    this.mounts = Object.entries(config.static)
      .map(([prefix, s]) => ({ prefix, files: s.type === 'dashboard' ? new DashboardFiles(s, config) : new StaticFiles(s.directory) }))
      .sort((a, b) => b.prefix.length - a.prefix.length);
  }

  get prefixes(): string[] {
    return this.mounts.map((m) => m.prefix);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.answer(req, res).catch((err: Error) => {
      log.warn(`http ${req.method} ${req.url}: ${err.message}`);
      if (!res.headersSent) plain(res, 500, 'internal error\n');
      else res.destroy();
    });
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = urlPath(req.url);
    // Only origin-form targets ('/...'); an absolute-form one ('http://host/...') names no file here.
    if ((req.method === 'GET' || req.method === 'HEAD') && path.startsWith('/')) {
      for (const { prefix, files } of this.mounts) {
        const below = pathBelow(path, prefix);
        if (below !== undefined && (await files.serve(below, path, req, res))) return;
      }
      if (answerWebStatus(this.config, path, req, res)) return;
      if (path === '/') {
        const ws = Object.keys(this.config.websocket);
        const lines = ['Junction WAMP router.', `WebSocket: ${this.config.websocketAnyPath ? 'any path' : ws.join(', ') || '(none)'}`];
        if (this.config.rawsocket) lines.push('RawSocket on this port.');
        const mqttPaths = Object.keys(this.config.mqttWebsocket ?? {});
        if (mqttPaths.length > 0) lines.push(`MQTT over WebSocket (subprotocol mqtt): ${mqttPaths.join(', ')}`);
        return plain(res, 200, lines.join('\n') + '\n');
      }
    }
    plain(res, 404, 'not found\n');
  }
}

/** The part of `path` below mount point `prefix`, or undefined if it is not below it. */
function pathBelow(path: string, prefix: string): string | undefined {
  if (prefix === '/') return path.slice(1);
  if (path === prefix) return '';
  return path.startsWith(prefix) && path[prefix.length] === '/' ? path.slice(prefix.length + 1) : undefined;
}

/** The path part of a request target, still %-encoded. */
export function urlPath(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function plain(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Refuses an upgrade request on its raw socket (no ServerResponse exists for upgrades). */
export function rejectUpgrade(socket: Socket, status: 400 | 403 | 404 | 503, message: string): void {
  const reason = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status];
  const body = `${message}\n`;
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  // A client that does not close its end in turn is not kept around.
  setTimeout(() => socket.destroy(), 2000).unref();
}
