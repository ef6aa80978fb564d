// Peer routers that only the bench runs (fox-wamp, aedes) stay out of package.json: `npm ci` must not
// download or compile anything for them (fox-wamp pulls in sqlite3, a native build). The bench
// installs each pinned version on first use into .bench-peers/ (gitignored, outside node_modules)
// with `npm install --prefix`, install scripts off: the bench never loads sqlite3.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// JUNCTION_BENCH_PEERS: another cache folder (e.g. one shared by several checkouts).
export const PEERS_DIR = process.env.JUNCTION_BENCH_PEERS || fileURLToPath(new URL('../../.bench-peers/', import.meta.url));

export const FOX_WAMP = { name: 'fox-wamp', version: '0.7.28' };
export const AEDES = { name: 'aedes', version: '1.2.0' };

function installedVersion(name) {
  const pkg = join(PEERS_DIR, 'node_modules', name, 'package.json');
  return existsSync(pkg) ? JSON.parse(readFileSync(pkg, 'utf8')).version : undefined;
}

/** Installs `name@version` into PEERS_DIR unless that version is there already. */
export function ensurePeer({ name, version }) {
  if (installedVersion(name) === version) return;
  mkdirSync(PEERS_DIR, { recursive: true });
  // Its own package.json, so npm never walks up to the repo's and touches its lock file.
  const manifest = join(PEERS_DIR, 'package.json');
  if (!existsSync(manifest)) writeFileSync(manifest, JSON.stringify({ name: 'junction-bench-peers', private: true }, null, 2) + '\n');
  process.stderr.write(`bench: installing ${name}@${version} into ${PEERS_DIR} (once)\n`);
  execFileSync('npm', ['install', '--prefix', PEERS_DIR, '--ignore-scripts', '--no-audit', '--no-fund', '--save-exact', `${name}@${version}`],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  if (installedVersion(name) !== version) throw new Error(`${name}@${version} is not in ${PEERS_DIR} after npm install`);
}

const peerRequire = createRequire(join(PEERS_DIR, 'package.json'));

/** `require` that resolves packages from the peers' folder. */
export function requirePeer(name) {
  return peerRequire(name);
}

/** `import()` of a package in the peers' folder (for ES-module-only packages such as aedes 1.x). */
export function importPeer(name) {
  return import(pathToFileURL(peerRequire.resolve(name)).href);
}
