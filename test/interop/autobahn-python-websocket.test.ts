// Crossbar's WebSocket `compression` with Autobahn|Python (Debian python3-autobahn, asyncio), which
// offers permessage-deflate when told to, as Autobahn's docs show: the router accepts the offer,
// with Junction's window and request_max_window_bits, and a 100 kB result goes through compressed.
import { describe, it, expect, afterEach } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { runPythonPeer } from '../helpers/python-peer.js';
import { DEFAULT_DEFLATE, DEFAULT_TRANSPORT_OPTIONS, DEFAULT_WEBSOCKET_OPTIONS, type DeflateOptions } from '../../src/config/types.js';

const PEER = fileURLToPath(new URL('./python/deflate_peer.py', import.meta.url));
const runPeer = (args: string[]) => runPythonPeer(PEER, args);

let node: TestNode | undefined;
afterEach(async () => {
  await node?.stop();
  node = undefined;
});

async function start(deflate: DeflateOptions | undefined): Promise<TestNode> {
  const websocket = { ...DEFAULT_WEBSOCKET_OPTIONS, ...(deflate ? { deflate } : {}) };
  node = await startTestNode({ listener: { websocket: { '/ws': service({ options: { ...DEFAULT_TRANSPORT_OPTIONS, websocket } }) } } });
  return node;
}

describe('Autobahn|Python and compression', () => {
  it('negotiates permessage-deflate with the window Junction names, and asks for the client window when configured', async () => {
    let n = await start({ ...DEFAULT_DEFLATE });
    let out = await runPeer(['--port', String(n.port)]);
    expect(out.length).toBe(100_000);
    expect(out.extensions).toHaveLength(1);
    expect(out.extensions[0]).toMatchObject({ extension: 'permessage-deflate', server_max_window_bits: 13 });
    await n.stop();
    n = await start({ ...DEFAULT_DEFLATE, requestMaxWindowBits: 10, requestNoContextTakeover: true });
    out = await runPeer(['--port', String(n.port)]);
    expect(out.extensions[0]).toMatchObject({ client_max_window_bits: 10, client_no_context_takeover: true });
  });

  it('without compression (Crossbar default) the offer is declined and the call still goes through', async () => {
    const n = await start(undefined);
    const out = await runPeer(['--port', String(n.port)]);
    expect(out).toEqual({ length: 100_000, extensions: [] });
  });
});
