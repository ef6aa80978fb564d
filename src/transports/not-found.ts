// The URL of a `path` entry whose `paths` have no "/" entry, or a WebSocket one (nothing else there
// answers HTTP; src/config/load-nested-path.ts): it and everything below it that no nested entry
// serves answer 404, for every method, as in Crossbar, not a shorter path (a "/" directory, say).

import type { IncomingMessage, ServerResponse } from 'node:http';

export class NotFound {
  readonly anyMethod = true;

  serve(_relativePath: string, _urlPath: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const body = 'not found\n';
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return Promise.resolve(true);
  }
}
