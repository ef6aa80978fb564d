// Crossbar's `type: twisted` endpoints: the Twisted server descriptions read as the tcp or unix
// endpoint they name; others refused by key path. And one listening for real, with Autobahn|JS.
import { describe, it, expect, afterEach } from 'vitest';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/load.js';
import { startNode, type JunctionNode } from '../../src/node.js';
import { splitDescription } from '../../src/config/load-twisted-endpoint.js';
import { errorsOf, routerWithTransport } from '../helpers/config.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');
const FIXTURES = fileURLToPath(new URL('../fixtures/tls', import.meta.url));
const T0 = 'workers[0].transports[0]';
const E = `${T0}.endpoint`;

const withEndpoint = (endpoint: object) => routerWithTransport({ type: 'websocket', endpoint });
const endpointOf = (server_string: string) => parseConfig(withEndpoint({ type: 'twisted', server_string }), undefined, FIXTURES).router.listeners[0]!.endpoint;

let node: JunctionNode | undefined;
afterEach(async () => {
  await node?.stop();
  node = undefined;
});

describe("endpoint type twisted (Crossbar's server_string)", () => {
  it('splits at colons not escaped by a backslash', () => {
    expect(splitDescription('unix:address=/run/a\\:b.sock:backlog=5')).toEqual(['unix', 'address=/run/a:b.sock', 'backlog=5']);
  });

  it('tcp, tcp6, unix and ssl descriptions are the endpoints they name', () => {
    expect(endpointOf('tcp:8080:interface=127.0.0.1:backlog=10')).toEqual({ type: 'tcp', port: 8080, interface: '127.0.0.1', backlog: 10 });
    expect(endpointOf('tcp6:9000')).toEqual({ type: 'tcp', port: 9000, interface: '::', version: 6 });
    expect(endpointOf('tcp:port=8081')).toMatchObject({ type: 'tcp', port: 8081 });
    expect(endpointOf('unix:/tmp/junction-twisted.sock')).toEqual({ type: 'unix', path: '/tmp/junction-twisted.sock' });
    expect(endpointOf('unix:address=/tmp/a\\:b.sock:backlog=5')).toEqual({ type: 'unix', path: '/tmp/a:b.sock', backlog: 5 });
    const ssl = endpointOf('ssl:8443:privateKey=server.key:certKey=server.crt');
    expect(ssl).toMatchObject({ type: 'tcp', port: 8443, tls: { key: expect.stringContaining('PRIVATE KEY'), certificate: expect.stringContaining('BEGIN CERTIFICATE') } });
  });

  it('other descriptions, bad values and options Junction does not read: named under server_string', () => {
    expect(errorsOf(withEndpoint({ type: 'twisted', server_string: 'systemd:domain=INET:index=0' }))).toEqual({
      [`${E}.server_string`]: '"systemd" descriptions are not supported by Junction: use "tcp:PORT", "tcp6:PORT", "unix:PATH" or "ssl:PORT:privateKey=KEY.pem:certKey=CERT.pem" (or an endpoint of type "tcp" or "unix")',
    });
    expect(errorsOf(withEndpoint({ type: 'twisted', server_string: 'tcp:http' }))).toEqual({ [`${E}.server_string.port`]: expect.stringMatching(/must be a whole number/) });
    expect(errorsOf(withEndpoint({ type: 'twisted' }))).toEqual({ [`${E}.server_string`]: expect.stringMatching(/required/) });
    const warned = parseConfig(withEndpoint({ type: 'twisted', server_string: 'unix:/tmp/x.sock:mode=660:lockfile=1' })).warnings ?? [];
    expect(warned.map((w) => w.path)).toEqual([`${E}.server_string`, `${E}.server_string`]);
    expect(warned[0]!.message).toMatch(/^"mode=" is not used by Junction/);
  });

  it('a Junction listening on a tcp description serves Autobahn|JS', async () => {
    node = await startNode(parseConfig(withEndpoint({ type: 'twisted', server_string: 'tcp:0:interface=127.0.0.1' })));
    const address = node.listeners[0]!.address() as { port: number };
    const session = await new Promise<any>((resolve, reject) => {
      const c = new autobahn.Connection({ url: `ws://127.0.0.1:${address.port}/`, realm: 'realm1', max_retries: 0 });
      c.onopen = resolve;
      c.onclose = (reason: string) => { reject(new Error(reason)); return true; };
      c.open();
    });
    await session.register('com.example.add', (args: number[]) => args[0]! + args[1]!);
    expect(await session.call('com.example.add', [2, 3])).toBe(5);
    session.leave();
  });
});
