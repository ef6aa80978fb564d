// A TCP port free on 127.0.0.1 now, for a process that must be told its port before it starts (the
// CLI, mosquitto). In-process nodes listen on port 0 instead (test/helpers/node.ts).
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
