// CORS response headers as Crossbar sets them for services with `allow_cross_origin`: the
// requesting origin (any) is allowed, with credentials, and the headers it asks for.

import type { IncomingMessage } from 'node:http';

export function crossOriginHeaders(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  const headers: Record<string, string> = {
    'Access-Control-Allow-Origin': origin === undefined || origin === 'null' ? '*' : origin,
    'Access-Control-Allow-Credentials': 'true',
  };
  const asked = req.headers['access-control-request-headers'];
  if (asked !== undefined) headers['Access-Control-Allow-Headers'] = asked;
  return headers;
}
