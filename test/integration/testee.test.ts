// Crossbar's testee transports, with clients nobody here wrote: Autobahn|Python's WebSocket client
// against `websocket.testee` (echo as it came, with the WebSocket options: permessage-deflate and
// max_message_size; a client that does not read is not read either), curl for the status page,
// socat against `stream.testee` (every byte back).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { curl } from '../helpers/curl.js';
import { parseConfig } from '../../src/config/load.js';
import { startNode, type JunctionNode } from '../../src/node.js';

const PYTHON = process.env['JUNCTION_PYTHON'] ?? '/usr/bin/python3';
const CLIENT = fileURLToPath(new URL('./python/testee_echo_client.py', import.meta.url));

function portOf(node: JunctionNode, i: number): number {
  const address = node.listeners[i]!.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/** Runs the Autobahn|Python client; resolves with its JSON lines. */
function autobahnClient(url: string, size: number): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [CLIENT, url, String(size)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`client exited ${code}: ${stderr}`));
      else resolve(stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>));
    });
  });
}

/** Sends `input` through socat to the port, then half-closes; resolves with all socat read back. */
function socat(port: number, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('socat', ['-t', '5', '-', `TCP:127.0.0.1:${port}`], { stdio: ['pipe', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`socat exited ${code}`))));
    child.stdin.end(input);
  });
}

describe('testee transports', () => {
  let node: JunctionNode;
  beforeAll(async () => {
    const config = parseConfig({
      version: 2,
      workers: [{
        type: 'router',
        realms: [{ name: 'realm1', roles: [{ name: 'anonymous', 'allow-by-default': true }] }],
        transports: [
          { type: 'websocket.testee', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' }, options: { max_message_size: 65536, compression: { deflate: {} } } },
          { type: 'stream.testee', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' } },
        ],
      }],
    });
    expect(config.warnings).toBeUndefined();
    node = await startNode(config);
  });
  afterAll(() => node?.stop());

  it('websocket.testee echoes text as text and binary as binary, compressed as offered; a message over max_message_size closes with 1009', async () => {
    const events = await autobahnClient(`ws://127.0.0.1:${portOf(node, 0)}/`, 70_000);
    expect(events).toEqual([
      { event: 'open', extensions: ['permessage-deflate'] },
      { event: 'message', binary: false, text: 'grüße ✓' },
      { event: 'message', binary: true, hex: Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex') },
      { event: 'close', code: 1009, remote_code: 1009 },
    ]);
  });

  it('websocket.testee answers a plain GET with a status page, as Crossbar\'s testee (curl)', async () => {
    const page = await curl(`http://127.0.0.1:${portOf(node, 0)}/`, { method: 'GET' });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('Junction WebSocket testee');
    expect((await curl(`http://127.0.0.1:${portOf(node, 0)}/`, { method: 'POST', body: 'x' })).status).toBe(405);
  });

  it('stream.testee sends every byte back (socat)', async () => {
    const input = Buffer.concat([Buffer.from('hello testee\n'), randomBytes(200_000)]);
    const output = await socat(portOf(node, 1), input);
    expect(output.length).toBe(input.length);
    expect(Buffer.compare(output, input)).toBe(0);
  });

  it('websocket.testee stops reading a client that does not read its echoes (max_send_queue)', async () => {
    // Over a Unix socket, whose kernel buffers are small: what the router holds shows at once.
    const dir = mkdtempSync(join(tmpdir(), 'junction-testee-'));
    const path = join(dir, 'echo.sock');
    const config = parseConfig({
      version: 2,
      workers: [{
        type: 'router',
        realms: [{ name: 'realm1', roles: [{ name: 'anonymous', 'allow-by-default': true }] }],
        transports: [{ type: 'websocket.testee', endpoint: { type: 'unix', path }, options: { max_send_queue: 65536 } }],
      }],
    });
    const unixNode = await startNode(config);
    try {
      const ws = new WebSocket(`ws+unix://${path}:/`);
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      (ws as unknown as { _socket: Socket })._socket.pause(); // never reads its echoes
      const message = Buffer.alloc(50_000, 1);
      for (let i = 0; i < 200; i++) ws.send(message); // 10 MB
      await new Promise((r) => setTimeout(r, 1000));
      // The router read at most max_send_queue past what the kernel holds; the rest waits with the client.
      expect(ws.bufferedAmount).toBeGreaterThan(8_000_000);
      ws.terminate();
    } finally {
      await unixNode.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the log line names each echo service', () => {
    expect(node.listeners[0]!.url).toBe(`transport0 (websocket.testee): echo ws://127.0.0.1:${portOf(node, 0)}/`);
    expect(node.listeners[1]!.url).toBe(`transport1 (stream.testee): echo tcp://127.0.0.1:${portOf(node, 1)}`);
  });
});
