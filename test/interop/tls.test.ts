// TLS on a universal endpoint with real clients: Autobahn|JS over wss://, Autobahn|Python over
// wss:// and RawSocket-over-TLS verifying the router's certificate; a ticket travels only inside TLS.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { ClientSession, Result } from '../../src/client/client-session.js';
import type { AuthConfig } from '../../src/config/types.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');
const PEER = fileURLToPath(new URL('./python/auth_peer.py', import.meta.url));
const PYTHON = process.env['JUNCTION_PYTHON'] ?? '/usr/bin/python3';
const CERTS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const pem = (name: string) => readFileSync(`${CERTS}${name}`, 'utf8');

const AUTH: AuthConfig = { ticket: { type: 'static', principals: { gateway: { ticket: 'over-tls', role: 'device' } } } };

function runPython(args: string[]): Promise<any> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [PEER, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`auth_peer.py failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

describe('TLS endpoints with real clients', () => {
  let node: TestNode;
  let echo: ClientSession;

  beforeAll(async () => {
    node = await startTestNode({
      realms: [{ name: 'realm1', roles: [allowAll('device'), allowAll('admin')], store: { type: 'memory', limit: 10, callQueue: [], eventHistory: [] } }],
      listener: {
        endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1', tls: { key: pem('server.key'), certificate: pem('server.crt') } },
        rawsocket: service({ auth: AUTH }),
        websocket: { '/ws': service({ auth: AUTH }) },
      },
    });
    echo = await ClientSession.connect(node.node.router, { realm: 'realm1', role: 'admin', name: 'echo' });
    await echo.register('test.echo', (args) => new Result(args));
  });
  afterAll(async () => {
    await echo?.close();
    await node?.stop();
  });

  it('Autobahn|JS joins over wss:// with a ticket and calls', async () => {
    const result = await new Promise<any>((resolve, reject) => {
      const connection = new autobahn.Connection({
        transports: [{ type: 'websocket', url: `wss://localhost:${node.port}/ws`, tlsConfiguration: { ca: pem('ca.crt'), cert: pem('client.crt'), key: pem('client.key') } }],
        realm: 'realm1', max_retries: 0, authmethods: ['ticket'], authid: 'gateway', onchallenge: () => 'over-tls',
      });
      connection.onopen = async (session: any, details: any) => {
        const answer = await session.call('test.echo', ['secure']);
        connection.close();
        resolve({ details, answer });
      };
      connection.onclose = (reason: string, details: unknown) => {
        reject(new Error(`closed: ${reason} ${JSON.stringify(details)}`));
        return true;
      };
      connection.open();
    });
    expect(result.details).toMatchObject({ authid: 'gateway', authrole: 'device', authmethod: 'ticket' });
    expect(result.answer).toBe('secure');
  });

  for (const transport of ['ws', 'rawsocket'] as const) {
    it(`Autobahn|Python over ${transport === 'ws' ? 'wss://' : 'RawSocket over TLS'}, verifying the router's certificate`, async () => {
      const out = await runPython(['--port', String(node.port), '--transport', transport, '--method', 'ticket', '--authid', 'gateway', '--secret', 'over-tls', '--tls', `${CERTS}ca.crt`]);
      expect(out).toMatchObject({ welcome: { authid: 'gateway', authrole: 'device' }, echo: 'hello' });
    });
  }

  it('a client that does not speak TLS gets nothing and is dropped; TLS clients are unaffected', async () => {
    const answered = await new Promise<{ bytes: number; closed: boolean }>((resolve) => {
      const socket = tcpConnect(node.port, '127.0.0.1', () => socket.write(Buffer.from([0x7f, 0xf1, 0, 0, 0x7f, 0xf1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8])));
      let bytes = 0;
      socket.on('data', (d) => (bytes += d.length));
      socket.on('error', () => {});
      socket.on('close', () => resolve({ bytes, closed: true }));
      setTimeout(() => { socket.destroy(); resolve({ bytes, closed: false }); }, 5000);
    });
    expect(answered.closed).toBe(true);
    // Whatever came back is a TLS alert at most, never a RawSocket handshake reply.
    expect(answered.bytes).not.toBe(4);
    const out = await runPython(['--port', String(node.port), '--transport', 'rawsocket', '--method', 'ticket', '--authid', 'gateway', '--secret', 'over-tls', '--tls', `${CERTS}ca.crt`]);
    expect(out.welcome).toBeDefined();
  });
});
