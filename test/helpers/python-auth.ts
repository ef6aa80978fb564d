// Authentication tests: a node to log in to (startEchoNode), and the Autobahn|Python clients of
// test/interop/python/: auth_peer.py (asyncio, an ApplicationSession) and
// auth_component_twisted.py (a Twisted Component with an `authentication` dict); each prints one
// JSON result, resolved here.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestNode, service, type TestNode } from './node.js';
import { allowAll } from './core.js';
import { ClientSession, Result } from '../../src/client/client-session.js';
import type { AuthConfig, TlsConfig } from '../../src/config/types.js';

const PYTHON = process.env['JUNCTION_PYTHON'] ?? '/usr/bin/python3';
const ASYNCIO = fileURLToPath(new URL('../interop/python/auth_peer.py', import.meta.url));
const TWISTED = fileURLToPath(new URL('../interop/python/auth_component_twisted.py', import.meta.url));

/** auth_peer.py's output lines, parsed (the last one is the result). */
export function runAuthPeerLines(args: string[], timeout = 30_000): Promise<any[]> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [ASYNCIO, ...args], { timeout }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`auth_peer.py failed: ${err.message}\n${stderr}`));
      resolve(stdout.trim().split('\n').map((l) => JSON.parse(l)));
    });
  });
}

/** auth_peer.py's result. */
export async function runAuthPeer(args: string[], timeout?: number): Promise<any> {
  return (await runAuthPeerLines(args, timeout)).pop();
}

/** auth_component_twisted.py's result (its line starting with "RESULT "). */
export function runTwistedComponent(args: string[], timeout = 30_000): Promise<any> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [TWISTED, ...args], { timeout, env: { ...process.env, AUTH_PEER_LOG: process.env['AUTH_PEER_LOG'] ?? 'error' } }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`auth_component_twisted.py failed: ${err.message}\n${stderr}`));
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) return reject(new Error(`auth_component_twisted.py printed no result:\n${stdout}\n${stderr}`));
      resolve(JSON.parse(line.slice('RESULT '.length)));
    });
  });
}

/**
 * A node for authentication tests: realm1 with roles device and admin, `auth` on RawSocket and on
 * WebSocket /ws (over TLS with `tls`), and test.echo registered by an admin session.
 */
export async function startEchoNode(auth: AuthConfig, tls?: TlsConfig): Promise<{ node: TestNode; stop(): Promise<void> }> {
  const node = await startTestNode({
    realms: [{ name: 'realm1', roles: [allowAll('device'), allowAll('admin')], store: { type: 'memory', limit: 10, callQueue: [], eventHistory: [] } }],
    listener: {
      ...(tls ? { endpoint: { type: 'tcp' as const, port: 0, interface: '127.0.0.1', tls } } : {}),
      rawsocket: service({ auth }),
      websocket: { '/ws': service({ auth }) },
    },
  });
  const echo = await ClientSession.connect(node.node.router, { realm: 'realm1', role: 'admin', name: 'echo' });
  await echo.register('test.echo', (args) => new Result(args));
  return { node, stop: async () => { await echo.close(); await node.stop(); } };
}
