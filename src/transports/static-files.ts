// Static files under a URL path prefix (Crossbar's `static` path type), GET and HEAD only.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.htm': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif',
  '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8', '.wasm': 'application/wasm', '.map': 'application/json',
  '.woff2': 'font/woff2', '.woff': 'font/woff',
};

export class StaticFiles {
  private readonly root: string;

  constructor(directory: string) {
    this.root = resolve(directory);
  }

  /** Serves `relativePath` (already stripped of the mount prefix); false if nothing is there. */
  async serve(relativePath: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(relativePath);
    } catch {
      return false;
    }
    if (decoded.includes('\0')) return false;
    let file = resolve(join(this.root, decoded));
    // Never outside the mounted directory, whatever '..' or encoded separators the URL holds.
    if (file !== this.root && !file.startsWith(this.root + sep)) return false;
    let info = await stat(file).catch(() => undefined);
    if (info?.isDirectory()) {
      file = join(file, 'index.html');
      info = await stat(file).catch(() => undefined);
    }
    if (!info?.isFile()) return false;
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': info.size,
      'Cache-Control': 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
    return true;
  }
}
