// Static files from one directory (Crossbar's `static` path type), GET and HEAD only.

// fs.promises is read where used, not imported from node:fs/promises: the bundled CLI then
// loads that module (~0.8 MB) only when a file is actually served or written.
import { createReadStream, type Stats, promises as fsp } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import type { StaticPathConfig } from '../config/types.js';
import { sendDirectoryListing } from './directory-listing.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.htm': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif',
  '.webp': 'image/webp', '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8', '.wasm': 'application/wasm',
  '.map': 'application/json', '.woff2': 'font/woff2', '.woff': 'font/woff', '.xml': 'application/xml',
  '.pdf': 'application/pdf', '.csv': 'text/csv; charset=utf-8',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Answers a GET/HEAD with the file at `path` (`info` its stat), revalidated by modification time:
 * no-cache + Last-Modified, so browsers ask again and usually get a bodiless 304.
 */
export function sendFile(req: IncomingMessage, res: ServerResponse, path: string, info: Stats, extraHeaders: Record<string, string>): void {
  const headers: Record<string, string | number> = {
    'Last-Modified': info.mtime.toUTCString(),
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    ...extraHeaders,
  };
  const since = req.headers['if-modified-since'];
  if (since !== undefined && Date.parse(since) >= Math.floor(info.mtimeMs / 1000) * 1000) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': info.size });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(path).on('error', () => res.destroy()).pipe(res);
}

export class StaticFiles {
  private readonly root: string;

  /** `options`: a static path's listing, cache timeout and extra content types (load-static.ts). */
  constructor(directory: string, private readonly options: Partial<Pick<StaticPathConfig, 'listDirectories' | 'cacheTimeout' | 'mimeTypes' | 'defaultFile'>> = {}) {
    this.root = resolve(directory);
  }

  /**
   * Answers a GET/HEAD for `relativePath` (the URL path below the mount point, still %-encoded);
   * `urlPath` is the whole URL path, for the redirect that puts a '/' after a directory. Returns
   * false, having written nothing, when there is no such file here.
   */
  async serve(relativePath: string, urlPath: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const file = this.fileFor(relativePath);
    if (file === undefined) return false;
    let info = await statOf(file);
    let path = file;
    if (info?.isDirectory()) {
      // Relative links in the index page resolve against the URL, which must end in '/'.
      if (!urlPath.endsWith('/')) {
        const query = req.url?.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
        res.writeHead(301, { Location: `${pathOnThisHost(urlPath)}/${query}`, 'Content-Length': 0 });
        res.end();
        return true;
      }
      path = join(file, 'index.html');
      info = await statOf(path);
      if (!info && this.options.listDirectories) {
        await sendDirectoryListing(file, urlPath, req, res);
        return true;
      }
    }
    if (!info?.isFile()) return this.serveDefaultFile(req, res, path === file ? file : undefined);
    sendFile(req, res, path, info, { 'Content-Type': this.contentTypeOf(path), ...cacheHeaders(this.options.cacheTimeout) });
    return true;
  }

  /**
   * `default_file` (HttpSite asks only for GET and HEAD) where Crossbar serves it (Twisted's
   * childNotFound): for a name `missing` from a directory that exists, or for a directory without
   * index.html (`missing` undefined). A URL whose missing part is a directory in the middle
   * (/no-such-dir/x.js) stays a 404, as there. False while the file does not exist. Without
   * `cache_timeout`'s headers, as Crossbar serves it: a single-page app's shell must not be cached for hours.
   */
  private async serveDefaultFile(req: IncomingMessage, res: ServerResponse, missing: string | undefined): Promise<boolean> {
    const file = this.options.defaultFile;
    if (file === undefined) return false;
    if (missing !== undefined && !(await statOf(dirname(missing)))?.isDirectory()) return false;
    const info = await statOf(file);
    if (!info?.isFile()) return false;
    sendFile(req, res, file, info, { 'Content-Type': this.contentTypeOf(file) });
    return true;
  }

  /** A `mime_types` entry for the file's extension, else the built-in table's. */
  private contentTypeOf(path: string): string {
    return this.options.mimeTypes?.[extname(path).toLowerCase()] ?? contentTypeOf(path);
  }

  /** The absolute file path for a URL path below the mount point; undefined if it would leave the directory. */
  fileFor(relativePath: string): string | undefined {
    let decoded: string;
    try {
      decoded = decodeURIComponent(relativePath);
    } catch {
      return undefined;
    }
    if (decoded.includes('\0')) return undefined;
    const file = resolve(join(this.root, decoded));
    // Never outside the directory, whatever '..' or encoded separators the URL holds.
    return file === this.root || file.startsWith(this.root + sep) ? file : undefined;
  }
}

/**
 * `urlPath` as a Location that stays on this host: a browser reads a Location starting with '//'
 * (or '/\', which it treats alike) as another host's URL, so a request for '//evil.example/dir'
 * must not be redirected to '//evil.example/dir/'. Leading slashes and backslashes become one '/'.
 */
export function pathOnThisHost(urlPath: string): string {
  return urlPath.replace(/^[/\\]+/, '/');
}

/** `cache_timeout` as Crossbar sends it (max-age and Expires); none = sendFile's no-cache. */
function cacheHeaders(seconds: number | undefined): Record<string, string> {
  if (seconds === undefined) return {};
  return { 'Cache-Control': `max-age=${seconds}, public`, Expires: new Date(Date.now() + seconds * 1000).toUTCString() };
}

function statOf(path: string): Promise<Stats | undefined> {
  return fsp.stat(path).catch(() => undefined);
}
