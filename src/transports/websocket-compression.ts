// permessage-deflate (RFC 7692) through ws, from Crossbar's `compression.deflate` keys, and the cap
// on how many connections of a service compress at once: each keeps a zlib compressor and
// decompressor (about 90 KiB at Junction's defaults, README), so past `max_connections` a client's
// offer is ignored and it is served uncompressed, as a client without the extension is.

import type { IncomingMessage } from 'node:http';
import type { PerMessageDeflateOptions, WebSocket } from 'ws';
import type { DeflateOptions } from '../config/types.js';

/** ws's perMessageDeflate options for Crossbar's deflate keys. */
export function perMessageDeflate(d: DeflateOptions): PerMessageDeflateOptions {
  const options: PerMessageDeflateOptions = {
    serverNoContextTakeover: d.noContextTakeover,
    clientNoContextTakeover: d.requestNoContextTakeover,
    serverMaxWindowBits: d.maxWindowBits,
    zlibDeflateOptions: { memLevel: d.memoryLevel },
    threshold: d.threshold,
  };
  // Asking for a client window only works with a client that offers to accept one (ws, like
  // Crossbar, then declines the offer of a client that does not).
  if (d.requestMaxWindowBits > 0) options.clientMaxWindowBits = d.requestMaxWindowBits;
  return options;
}

export class CompressedCount {
  private count = 0;

  constructor(private readonly max: number) {}

  /** Past the cap, the client's extension offer is removed before ws reads it. */
  beforeUpgrade(request: IncomingMessage): void {
    if (this.count >= this.max) delete request.headers['sec-websocket-extensions'];
  }

  opened(ws: WebSocket): void {
    if (!ws.extensions.includes('permessage-deflate')) return;
    this.count++;
    ws.once('close', () => this.count--);
  }
}
