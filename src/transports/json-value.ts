// Crossbar's JSON value service (`type: json`): one JSON document from the config, on GET and HEAD.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JsonPathConfig } from '../config/types.js';
import { crossOriginHeaders } from './cross-origin.js';

export class JsonValue {
  private readonly body: Buffer;

  constructor(private readonly config: JsonPathConfig) {
    this.body = Buffer.from(config.body, 'utf8');
  }

  async serve(relativePath: string, _urlPath: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (relativePath !== '') return false; // the value lives at the path itself, nothing below it
    const headers: Record<string, string | number> = { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': this.body.length };
    if (this.config.discourageCaching) Object.assign(headers, { 'Cache-Control': 'no-store, no-cache, must-revalidate, max-age=0', Pragma: 'no-cache', Expires: '0' });
    if (this.config.allowCrossOrigin) Object.assign(headers, crossOriginHeaders(req));
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : this.body);
    return true;
  }
}
