// Endpoint `portrange` (Crossbar's): two Junctions started with the same config take the first and
// the next port of the range; each serves an Autobahn|JS client; a third finds none free and stops
// with an error naming the key path and the range.
import { describe, it, expect, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../helpers/cli.js';
import { Child } from '../helpers/child.js';
import { freePort } from '../helpers/free-port.js';
import { autobahnWs } from '../helpers/autobahn-ws.js';

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port p with p + 1 free as well. */
async function twoFreePorts(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const p = await freePort();
    if (p < 65535 && await portFree(p + 1)) return p;
  }
  throw new Error('no two consecutive free ports');
}

/** Joins realm1 with Autobahn|JS and calls wamp.session.count. */
async function countSessions(port: number): Promise<number> {
  const { session, connection } = await autobahnWs(`ws://127.0.0.1:${port}/`);
  try {
    return await session.call('wamp.session.count');
  } finally {
    connection.close();
  }
}

describe('endpoint portrange', () => {
  const children: Child[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'junction-portrange-'));
  afterAll(() => {
    for (const child of children) child.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the second Junction takes the next port; with none free, start fails naming the key and range', async () => {
    const first = await twoFreePorts();
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({
      version: 2,
      workers: [{
        type: 'router',
        realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }] }] }],
        transports: [{ type: 'websocket', endpoint: { type: 'tcp', interface: '127.0.0.1', portrange: [first, first + 1] } }],
      }],
    }));
    const start = () => {
      const child = new Child(spawn(process.execPath, [CLI, 'start', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] }));
      children.push(child);
      return child;
    };
    const a = start();
    await a.waitFor(/Junction ready/);
    expect(a.output).toContain(`listening: transport0 (websocket): ws://127.0.0.1:${first}/`);
    const b = start();
    await b.waitFor(/Junction ready/);
    expect(b.output).toContain(`listening: transport0 (websocket): ws://127.0.0.1:${first + 1}/`);
    expect(await countSessions(first)).toBe(1);
    expect(await countSessions(first + 1)).toBe(1);

    const c = start();
    expect(await c.exited).not.toBe(0);
    expect(c.output).toContain(`no free port in workers[0].transports[0].endpoint.portrange [${first}, ${first + 1}]`);
  });
});
