// A request's body, read up to a limit: a body announced larger is refused before any of it is
// read, one that turns out larger (chunked) as soon as it passes the limit. What arrives after is
// read and dropped, so the answer reaches the client and the connection can serve its next request.

import type { IncomingMessage } from 'node:http';

/** The body, or 'too-large'; rejects when the client goes away before it is in. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length <= limit) return void chunks.push(chunk);
      chunks.length = 0;
      cleanup();
      req.resume(); // drop the rest
      resolve('too-large');
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, length));
    };
    const onGone = () => {
      cleanup();
      reject(new Error('client went away'));
    };
    const onClose = () => {
      if (!req.complete) onGone();
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onGone);
      req.off('error', onGone);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onGone);
    req.on('error', onGone);
    req.on('close', onClose);
  });
}
