// A plain HTTP GET on a WAMP WebSocket path (no Upgrade header), as Crossbar answers it:
// `enable_webstatus` true (Crossbar's default) gives a short status page, false gives
// 426 Upgrade Required. Only the transport's own paths are answered here; other paths keep their 404.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ListenerConfig, WampServiceConfig } from '../config/types.js';
import { DEFAULT_WEBSOCKET_OPTIONS } from '../config/types.js';
import { subprotocolOf } from '../serializers/index.js';

/** The WAMP WebSocket service at this request path, as upgrades find it (a trailing '/' ignored). */
export function websocketServiceAt(config: ListenerConfig, path: string): WampServiceConfig | undefined {
  const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if (Object.hasOwn(config.websocket, p)) return config.websocket[p];
  return config.websocketAnyPath ? Object.values(config.websocket)[0] : undefined;
}

/** Answers a GET/HEAD on a WebSocket path: true when it did. */
export function answerWebStatus(config: ListenerConfig, path: string, req: IncomingMessage, res: ServerResponse): boolean {
  const service = websocketServiceAt(config, path);
  if (!service) return false;
  const options = service.options.websocket ?? DEFAULT_WEBSOCKET_OPTIONS;
  const protocols = service.serializers.map(subprotocolOf).join(', ');
  writeWebStatus(req, res, options.webStatus, 'Junction WAMP WebSocket', `This is a WAMP-over-WebSocket endpoint. Connect with a WebSocket client speaking ${protocols}.`);
  return true;
}

/** The answer to a GET/HEAD on a WebSocket path: a status page saying `sentence`, or 426 when `webStatus` is off. */
export function writeWebStatus(req: IncomingMessage, res: ServerResponse, webStatus: boolean, title: string, sentence: string): void {
  if (!webStatus) {
    const body = 'this is a WebSocket endpoint: an HTTP Upgrade to WebSocket is required\n';
    res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Upgrade: 'websocket', Connection: 'Upgrade' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  const body = `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n` +
    `<body><h1>Junction WAMP router</h1><p>${sentence}</p></body></html>\n`;
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
