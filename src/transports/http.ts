// The plain-HTTP side of a listener: static files under their path prefixes, a short info page
// at '/' when no static file answers there, 404 for the rest.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ListenerConfig } from '../config/types.js';
import { mountFor, type WebMount } from './web-services.js';
import type { SessionFactory } from '../core-boundary.js';
import { log } from '../log.js';
import { answerWebStatus } from './websocket-status.js';
import { NotFound } from './not-found.js';

export class HttpSite {
  /** Longest prefix first, so '/app' wins over '/'. */
  private readonly mounts: Array<{ prefix: string; files: WebMount }>;

  /** `factory`: how the HTTP bridge services' sessions join their realms. */
  constructor(
    private readonly config: ListenerConfig,
    factory: SessionFactory,
    /** Services that answer any method below their path (long-poll), by URL path. */
    private readonly services: ReadonlyMap<string, { handle(req: IncomingMessage, res: ServerResponse, below: string): void }> = new Map(),
  ) {
    this.mounts = Object.entries(config.static)
      .map(([prefix, s]) => ({ prefix, files: mountFor(s, config, factory, prefix) }))
      .sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The prefixes something is served at, for the startup log (a nested path's own 404 is not). */
  get prefixes(): string[] {
    return this.mounts.filter((m) => !(m.files instanceof NotFound)).map((m) => m.prefix);
  }

  /** The listener stops: mounts with sessions of their own (HTTP bridge services) leave their realms. */
  async close(): Promise<void> {
    await Promise.allSettled(this.mounts.map((m) => m.files.close?.()));
  }

  /** Hands an Upgrade request no WebSocket service takes to a mount that forwards it; false if none does. */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): boolean {
    const path = urlPath(req.url);
    const mount = this.mounts.find((m) => m.files.upgrade && pathBelow(path, m.prefix) !== undefined);
    mount?.files.upgrade!(pathBelow(path, mount.prefix)!, req, socket, head);
    return mount !== undefined;
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
    // The longest prefix owns the path, as in Crossbar: what it does not have is a 404, not a file
    // of a shorter one (a "/" directory's default_file must not answer for a missing /static/x.js).
    // Only origin-form targets ('/...'); an absolute-form one ('http://host/...') names no file here.
    const mount = path.startsWith('/') ? this.mounts.find((m) => pathBelow(path, m.prefix) !== undefined) : undefined;
    const service = longestBelow(path, this.services.keys());
    if (service !== undefined && !(mount && mount.prefix.length > service.length)) return this.services.get(service)!.handle(req, res, pathBelow(path, service)!);
    const readOnly = req.method === 'GET' || req.method === 'HEAD';
    if (path.startsWith('/')) {
      // A WebSocket path is its own, as in Crossbar: not a file of a static directory mounted above it.
      if (readOnly && answerWebStatus(this.config, path, req, res)) return;
      if (mount && (readOnly || mount.files.anyMethod) && (await mount.files.serve(pathBelow(path, mount.prefix)!, path, req, res))) return;
      if (readOnly && path === '/') {
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

/** The longest of `prefixes` that `path` is below, if any. */
function longestBelow(path: string, prefixes: Iterable<string>): string | undefined {
  let longest: string | undefined;
  for (const p of prefixes) if (pathBelow(path, p) !== undefined && (longest === undefined || p.length > longest.length)) longest = p;
  return longest;
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
export function rejectUpgrade(socket: Duplex, status: 400 | 403 | 404 | 502 | 503, message: string): void {
  const reason = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 502: 'Bad Gateway', 503: 'Service Unavailable' }[status];
  const body = `${message}\n`;
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  // A client that does not close its end in turn is not kept around.
  setTimeout(() => socket.destroy(), 2000).unref();
}
