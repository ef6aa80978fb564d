// A static path's directory listing (Crossbar's `enable_directory_listing`), for a directory URL
// without an index.html: an HTML list of its entries, names escaped for HTML and %-encoded in
// links (so a file named `<script>` or `a?b` is shown and linked as itself), at most
// MAX_LISTED entries (a bounded page for huge directories).

import { promises as fsp } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeHtml } from './escape-html.js';

export const MAX_LISTED = 10_000;

/** Writes the listing of `dir` (an absolute path inside the static root), shown as `urlPath`. */
export async function sendDirectoryListing(dir: string, urlPath: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const entries = (await fsp.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let shown: string;
  try {
    shown = decodeURIComponent(urlPath);
  } catch {
    shown = urlPath;
  }
  const items = entries.slice(0, MAX_LISTED).map((e) => {
    const name = e.isDirectory() ? `${e.name}/` : e.name;
    const href = encodeURIComponent(e.name) + (e.isDirectory() ? '/' : '');
    return `<li><a href="./${escapeHtml(href)}">${escapeHtml(name)}</a></li>`;
  });
  if (entries.length > MAX_LISTED) items.push(`<li>… ${entries.length - MAX_LISTED} more not shown</li>`);
  const title = `Directory listing for ${escapeHtml(shown)}`;
  const body = Buffer.from(`<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title></head><body>\n<h1>${title}</h1>\n<ul>\n${items.join('\n')}\n</ul>\n</body></html>\n`, 'utf8');
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
