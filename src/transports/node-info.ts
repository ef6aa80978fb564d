// Crossbar's node info page (`type: nodeinfo`): a small HTML page naming the software and its
// version, when the router started, its process id and the address the request came from.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { junctionVersion } from '../version.js';
import { escapeHtml } from './escape-html.js';

const STARTED = new Date();

export class NodeInfo {
  async serve(relativePath: string, _urlPath: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (relativePath !== '') return false;
    const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const rows: Array<[string, string]> = [
      ['Release', `Junction ${junctionVersion()}`],
      ['Node started', STARTED.toISOString()],
      ['Process id', String(process.pid)],
      ['Node.js', process.version],
      ['Served for', peer],
    ];
    const body = Buffer.from('<!doctype html>\n<html><head><meta charset="utf-8"><title>Junction node info</title></head><body>\n'
      + '<h1>Junction node info</h1>\n<table>\n'
      + rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n')
      + '\n</table>\n</body></html>\n', 'utf8');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
}
