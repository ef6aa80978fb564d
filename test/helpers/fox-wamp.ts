// fox-wamp (npm), a Node WAMP router nobody here wrote, as the remote router of router-link tests.
// It stays out of package.json (it pulls sqlite3, a native build, into every user's `npm ci`):
// `.ci/run` installs the bench's pinned version into .bench-peers/ (test/bench/peers.mjs) before
// `npm test`. Missing, the test fails and says how to install it. It runs in a child process
// (test/bench/fox.mjs), so its console output and its state stay out of the test's.
import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error a plain ES module of the bench
import { FOX_WAMP, PEERS_DIR } from '../bench/peers.mjs';
import { freePort } from './free-port.js';

export interface FoxWamp {
  url: string;
  stop(): void;
}

export async function startFoxWamp(): Promise<FoxWamp> {
  const manifest = join(PEERS_DIR, 'node_modules', 'fox-wamp', 'package.json');
  const version = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version : undefined;
  if (version !== FOX_WAMP.version) {
    throw new Error(`fox-wamp@${FOX_WAMP.version} is not installed in ${PEERS_DIR} (found: ${version ?? 'none'}); ` +
      `install it with: node -e "import('./test/bench/peers.mjs').then((p) => p.ensurePeer(p.FOX_WAMP))" (.ci/run does)`);
  }
  const port = await freePort();
  const child = fork(fileURLToPath(new URL('../bench/fox.mjs', import.meta.url)), [String(port)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`fox-wamp exited (${code}) before it listened: ${stderr}`)));
  });
  return { url: `ws://127.0.0.1:${port}/ws`, stop: () => child.kill('SIGKILL') };
}
