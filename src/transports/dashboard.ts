// Junction's `dashboard` web path: the status page (src/web/, copied to dist/web by the build), the
// Autobahn|JS browser build from the `autobahn-browser` package (gzipped when the browser takes it),
// and `dashboard.json`, which tells the page its realm, WebSocket path and login methods.

// fs.promises is read where used, not imported from node:fs/promises: the bundled CLI then
// loads that module (~0.8 MB) only when a file is actually served or written.
import { promises as fsp } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DashboardPathConfig, ListenerConfig } from '../config/types.js';
import { StaticFiles, sendFile } from './static-files.js';

/**
 * The page may load its own files and talk WebSocket to its own host, nothing else. 'self' covers
 * ws:/wss: to the page's own host and port (CSP Level 3; Chromium, Firefox and Safari do so), so
 * connect-src needs no scheme source, which would allow every host.
 */
export const DASHBOARD_CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

let autobahnDir: string | undefined | null;
function autobahnDirectory(): string | undefined {
  if (autobahnDir === undefined) {
    try {
      autobahnDir = dirname(createRequire(import.meta.url).resolve('autobahn-browser/package.json'));
    } catch {
      autobahnDir = null;
    }
  }
  return autobahnDir ?? undefined;
}

export class DashboardFiles {
  private readonly files: StaticFiles;
  private readonly info: string;

  constructor(config: DashboardPathConfig, listener: ListenerConfig) {
    this.files = new StaticFiles(config.directory);
    const websocket = config.websocket ?? Object.keys(listener.websocket)[0] ?? null;
    const auth = websocket ? listener.websocket[websocket]?.auth : undefined;
    // No auth block: everyone joins anonymously. Of the rest, the page can do anonymous and ticket.
    const authmethods = !auth ? ['anonymous'] : (['anonymous', 'ticket'] as const).filter((m) => auth[m] !== undefined);
    this.info = JSON.stringify({ realm: config.realm, websocket, authmethods, setup: config.setup !== undefined });
  }

  async serve(relativePath: string, urlPath: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
    res.setHeader('Referrer-Policy', 'no-referrer');
    if (relativePath === 'dashboard.json') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(this.info), 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : this.info);
      return true;
    }
    if (relativePath === 'autobahn.min.js') return this.autobahn(req, res);
    return this.files.serve(relativePath, urlPath, req, res);
  }

  /** autobahn-browser's minified build; its gzipped twin (autobahn.min.jgz, ~110 kB) when accepted. */
  private async autobahn(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const dir = autobahnDirectory();
    if (!dir) return false;
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    let path = join(dir, gzip ? 'autobahn.min.jgz' : 'autobahn.min.js');
    let info = await fsp.stat(path).catch(() => undefined);
    let encoded = gzip && info !== undefined;
    if (!info && gzip) {
      path = join(dir, 'autobahn.min.js');
      info = await fsp.stat(path).catch(() => undefined);
      encoded = false;
    }
    if (!info?.isFile()) return false;
    const headers: Record<string, string> = { 'Content-Type': 'text/javascript; charset=utf-8', 'Vary': 'Accept-Encoding' };
    if (encoded) headers['Content-Encoding'] = 'gzip';
    sendFile(req, res, path, info, headers);
    return true;
  }
}
