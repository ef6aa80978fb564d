// Crossbar's web redirection service (`type: redirect`): GET and HEAD on the path and below it
// answer 302 Found with the configured URL (absolute, host-relative or relative, as given).

import type { IncomingMessage, ServerResponse } from 'node:http';

export class Redirect {
  constructor(private readonly url: string) {}

  async serve(_relativePath: string, _urlPath: string, _req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    res.writeHead(302, { Location: this.url, 'Content-Length': 0 });
    res.end();
    return true;
  }
}
