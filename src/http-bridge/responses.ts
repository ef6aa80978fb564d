// What every answer of an HTTP bridge service carries (as Crossbar's): CORS headers that let any
// page post, no caching, a JSON content type; and the JSON body of a refused request.

import type { IncomingMessage, ServerResponse } from 'node:http';

/** An answer to an HTTP request: a status and its body. */
export interface BridgeAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** A request refused before it reached the router: `{"error": why, "args": [], "kwargs": {}}`. */
export function refusal(status: number, message: string, headers?: Record<string, string>): BridgeAnswer {
  return { status, body: JSON.stringify({ error: message, args: [], kwargs: {} }), headers };
}

export function send(req: IncomingMessage, res: ServerResponse, answer: BridgeAnswer): void {
  if (res.headersSent || res.destroyed) return;
  const origin = req.headers.origin;
  const headers: Record<string, string | number> = {
    'Access-Control-Allow-Origin': origin === undefined || origin === 'null' ? '*' : origin,
    'Access-Control-Allow-Credentials': 'true',
    'Cache-Control': 'no-store,no-cache,must-revalidate,max-age=0',
    'Content-Type': 'application/json; charset=UTF-8',
    'Content-Length': Buffer.byteLength(answer.body),
    ...answer.headers,
  };
  const asked = req.headers['access-control-request-headers'];
  if (asked !== undefined) headers['Access-Control-Allow-Headers'] = asked;
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}
