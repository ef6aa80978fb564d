// Issue 20 #1, RawSocket: on shutdown the connection must end in a way the client notices even when
// it keeps its half open after our FIN (Autobahn|JS's Node RawSocket client does: allowHalfOpen), or
// it waits forever for a router that is back. Over plain TCP that is a reset; TLS and Unix sockets
// cannot be reset and get an ordinary close (and the shutdown must not trip over them).
import { describe, it, expect, afterEach } from 'vitest';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ListenerConfig } from '../../src/config/types.js';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { until } from '../helpers/until.js';

const CERTS = fileURLToPath(new URL('../fixtures/config/tls/certs/', import.meta.url));
const pem = (name: string) => readFileSync(join(CERTS, name), 'utf8');

/** RawSocket JSON client: handshake, HELLO; records what it reads and how the connection ends. */
async function rawSocketJoin(socket: Socket) {
  const seen = { bytes: Buffer.alloc(0), ended: false, closed: false, error: '' };
  socket.on('data', (d: Buffer) => (seen.bytes = Buffer.concat([seen.bytes, d])));
  socket.on('end', () => (seen.ended = true));
  socket.on('close', () => (seen.closed = true));
  socket.on('error', (e: NodeJS.ErrnoException) => (seen.error = e.code ?? e.message));
  socket.write(Buffer.from([0x7f, 0xf1, 0, 0])); // JSON, 16 MiB
  const hello = Buffer.from(JSON.stringify([1, 'realm1', { roles: { subscriber: {} } }]));
  const header = Buffer.alloc(4);
  header.writeUInt32BE(hello.length);
  socket.write(Buffer.concat([header, hello]));
  await until(() => seen.bytes.length > 8 && seen.bytes.subarray(8).toString().startsWith('[2,'));
  return seen;
}

describe('issue 20 #1: RawSocket connections on shutdown', () => {
  let t: TestNode | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  const rawsocketOnly = (endpoint: ListenerConfig['endpoint']): Partial<ListenerConfig> => ({ kind: 'rawsocket', endpoint, rawsocket: service(), websocket: {} });

  it('issue 20 #1: a TCP client that keeps its half open after FIN sees its connection reset, with nothing but WELCOME sent', async () => {
    t = await startTestNode({ listener: rawsocketOnly({ type: 'tcp', port: 0, interface: '127.0.0.1' }) });
    const seen = await rawSocketJoin(netConnect({ port: t.port, host: '127.0.0.1', allowHalfOpen: true }));
    const welcomeBytes = seen.bytes.length;
    await t.stop();
    await until(() => seen.closed);
    expect(seen).toMatchObject({ closed: true, error: 'ECONNRESET' });
    expect(seen.bytes.length).toBe(welcomeBytes); // no GOODBYE or ABORT
  });

  it('issue 20 #1: over TLS and Unix sockets (which cannot be reset) the connection is closed and the shutdown completes', async () => {
    t = await startTestNode({ listener: rawsocketOnly({ type: 'tcp', port: 0, interface: '127.0.0.1', tls: { key: pem('server.key'), certificate: pem('server.crt') } }) });
    const overTls = await rawSocketJoin(tlsConnect({ port: t.port, host: '127.0.0.1', servername: 'localhost', ca: pem('server.crt') }));
    await t.stop();
    await until(() => overTls.ended);
    expect(overTls.ended).toBe(true);

    const path = join(mkdtempSync(join(tmpdir(), 'junction-shutdown-')), 'j.sock');
    t = await startTestNode({ listener: rawsocketOnly({ type: 'unix', path }) });
    const overUnix = await rawSocketJoin(netConnect({ path }));
    await t.stop();
    await until(() => overUnix.closed);
    expect(overUnix).toMatchObject({ ended: true, closed: true });
  });
});
