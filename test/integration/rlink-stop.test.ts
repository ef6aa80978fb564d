// A router link whose remote router stops answering (the network is gone, the hub hangs) must not
// hold up the board's shutdown: systemd would otherwise kill it after its stop timeout, and a
// restart would wait that long.
import { describe, it, expect, afterEach } from 'vitest';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import type { RLinkConfig } from '../../src/config/types.js';
import { startTestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { until } from '../helpers/until.js';

const servers: WebSocketServer[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    for (const c of s.clients) c.terminate();
    s.close();
  }
});

/** A "router" that welcomes every session and then never answers anything (no GOODBYE either). */
async function silentRouter(): Promise<{ port: number; heard: unknown[][] }> {
  const heard: unknown[][] = [];
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => 'wamp.2.json' });
  servers.push(server);
  server.on('connection', (ws) => {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as unknown[];
      heard.push(msg);
      if (msg[0] === 1) ws.send(JSON.stringify([2, 4242, { roles: { broker: {}, dealer: {} } }]));
    });
  });
  await new Promise((r) => server.once('listening', r));
  return { port: (server.address() as AddressInfo).port, heard };
}

describe('issue 18: router links and shutdown', () => {
  it('a board whose hub stopped answering still stops within a few seconds', async () => {
    const hub = await silentRouter();
    const link: RLinkConfig = {
      id: 'to-hub', realm: 'realm1',
      transport: { type: 'websocket', url: `ws://127.0.0.1:${hub.port}/ws`, host: '127.0.0.1', port: hub.port, tls: false, serializers: ['json'] },
      forwardLocalEvents: true, forwardRemoteEvents: true, forwardLocalInvocations: true, forwardRemoteInvocations: true,
      excludeAuthid: [], excludeAuthrole: [], excludeUri: [],
    };
    const board = await startTestNode({ realms: [{ name: 'realm1', roles: [allowAll()], rlinks: [link] }] });
    await until(() => hub.heard.some((m) => m[0] === 1), 10_000, 'the link saying HELLO to the hub');
    await new Promise((r) => setTimeout(r, 200)); // the link is waiting on the hub now
    const started = Date.now();
    await board.stop();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(hub.heard.some((m) => m[0] === 6)).toBe(true); // it did say GOODBYE first
  });
});
