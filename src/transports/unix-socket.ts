// Unix socket paths outlive the process that listened on them when it dies without closing.

// fs.promises is read where used, not imported from node:fs/promises: the bundled CLI then
// loads that module (~0.8 MB) only when a file is actually served or written.
import { promises as fsp } from 'node:fs';
import { connect } from 'node:net';

/**
 * Before listening on `path`: removes a socket file nobody listens on any more. Refuses (throws)
 * when a process still accepts connections there, or when the path is something else than a socket.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  const info = await fsp.lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!info) return;
  if (!info.isSocket()) throw new Error(`${path} exists and is not a socket`);
  const probe = await new Promise<string | undefined>((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
  if (probe === undefined) throw new Error(`address in use: another process is listening on ${path}`);
  if (probe !== 'ECONNREFUSED' && probe !== 'ENOENT') throw new Error(`cannot probe ${path}: ${probe}`);
  await fsp.unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
