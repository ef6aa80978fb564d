// How a router link reaches its hub: RawSocket with each serializer, TLS (wss:// and RawSocket over
// TLS) trusting the hub's CA from `endpoint.tls.ca`, and a cryptosign log-in. Two Junctions in this
// process, a board linked to a hub; the board's own meta API (junction.rlink.*) says how the link is.
import { describe, it, expect, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { service, startTestNode, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { until } from '../helpers/until.js';
import { captureStderr } from '../helpers/capture-log.js';
import { ClientSession, Result, type Payload } from '../../src/client/client-session.js';
import { cryptosignKeyPair } from '../../src/auth/cryptosign.js';
import type { AuthConfig, ListenerConfig, RLinkConfig, RLinkSerializer, RLinkTransportConfig, TlsConfig } from '../../src/config/types.js';

const CERTS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const pem = (name: string) => readFileSync(join(CERTS, name), 'utf8');
const HUB_TLS: TlsConfig = { key: pem('server.key'), certificate: pem('server.crt') };

const nodes: TestNode[] = [];
const sessions: ClientSession[] = [];
afterEach(async () => {
  await Promise.allSettled(sessions.splice(0).map((s) => s.close()));
  await Promise.allSettled(nodes.splice(0).map((n) => n.stop()));
});

/** A hub whose realm1 has `hub.echo`; its RawSocket and WebSocket services take `serializers` and `auth`. */
async function startHub(opts: { serializers?: RLinkSerializer[]; auth?: AuthConfig; tls?: TlsConfig } = {}): Promise<TestNode> {
  const svc = service({ ...(opts.serializers ? { serializers: opts.serializers } : {}), ...(opts.auth ? { auth: opts.auth } : {}) });
  const listener: Partial<ListenerConfig> = {
    endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1', ...(opts.tls ? { tls: opts.tls } : {}) },
    rawsocket: svc, websocket: { '/ws': svc },
  };
  const hub = await startTestNode({ realms: [{ name: 'realm1', roles: [allowAll(), { name: 'board', permissions: allowAll().permissions }] }], listener });
  nodes.push(hub);
  const callee = await ClientSession.connect(hub.node.router, { realm: 'realm1', authid: 'hub-service' });
  sessions.push(callee);
  await callee.register('hub.echo', (args) => new Result(args));
  return hub;
}

function link(transport: Partial<RLinkTransportConfig>, overrides: Partial<RLinkConfig> = {}): RLinkConfig {
  return {
    id: 'to-hub', realm: 'realm1',
    transport: { type: 'websocket', host: '127.0.0.1', port: 0, tls: false, serializers: ['json'], ...transport },
    forwardLocalEvents: true, forwardRemoteEvents: true, forwardLocalInvocations: true, forwardRemoteInvocations: true,
    excludeAuthid: [], excludeAuthrole: [], excludeUri: [],
    ...overrides,
  };
}

async function startBoard(rlink: RLinkConfig): Promise<{ board: TestNode; local: ClientSession }> {
  const board = await startTestNode({ realms: [{ name: 'realm1', roles: [allowAll()], rlinks: [rlink] }] });
  nodes.push(board);
  const local = await ClientSession.connect(board.node.router, { realm: 'realm1', authid: 'board-app' });
  sessions.push(local);
  return { board, local };
}

/** junction.rlink.get on the board, once the link is in `state`. */
async function linkIn(local: ClientSession, state: string): Promise<Record<string, unknown>> {
  let got: Record<string, unknown> = {};
  await until(async () => {
    got = (await local.call('junction.rlink.get', ['to-hub'])).args[0] as Record<string, unknown>;
    return got['state'] === state;
  }, 10_000, `the link ${state} (last: ${JSON.stringify(got)})`);
  return got;
}

/** The hub's procedure, called on the board through the link (it is there once the link has registered it). */
async function echoThroughLink(local: ClientSession, value: unknown): Promise<unknown> {
  let result: Payload | undefined;
  await until(async () => {
    result = await local.call('hub.echo', [value]).catch(() => undefined);
    return result !== undefined;
  }, 10_000, 'hub.echo callable on the board');
  return result!.args[0];
}

/** The link's session on the hub (the one that is not the hub's own service). */
function linkSessionOnHub(hub: TestNode) {
  return [...hub.node.router.realm('realm1')!.sessions.values()].find((s) => !s.internal && s.authid !== 'hub-service');
}

/**
 * A RawSocket relay between the board and the hub that reads the board's frames: it counts the
 * PINGs, and once `deaf` it drops them instead of passing them on, while the connection (and every
 * other frame) goes on as before: a hub that hangs without closing.
 */
async function pingRelay(hubPort: number): Promise<{ port: number; pings: number[]; deafen(): void; close(): void }> {
  const pings: number[] = [];
  const open: Array<{ board: Socket; hub: Socket; deaf: boolean }> = [];
  const server = createServer((board) => {
    const pair = { board, hub: createConnection(hubPort, '127.0.0.1'), deaf: false };
    open.push(pair);
    let buffered = Buffer.alloc(0);
    let handshaken = false;
    pair.hub.on('data', (chunk) => board.write(chunk));
    board.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!handshaken) {
        if (buffered.length < 4) return;
        pair.hub.write(buffered.subarray(0, 4));
        buffered = buffered.subarray(4);
        handshaken = true;
      }
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUIntBE(1, 3)) {
        const frame = buffered.subarray(0, 4 + buffered.readUIntBE(1, 3));
        buffered = buffered.subarray(frame.length);
        if (frame[0] === 1) {
          pings.push(Date.now());
          if (pair.deaf) continue;
        }
        pair.hub.write(frame);
      }
    });
    const end = () => { board.destroy(); pair.hub.destroy(); };
    for (const s of [board, pair.hub]) { s.on('close', end); s.on('error', end); }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    pings,
    deafen: () => { for (const pair of open) pair.deaf = true; },
    close: () => {
      for (const pair of open) { pair.board.destroy(); pair.hub.destroy(); }
      server.close();
    },
  };
}

describe('issue 18: router links over RawSocket, TLS and with cryptosign', () => {
  for (const serializer of ['json', 'msgpack', 'cbor'] as const) {
    it(`a RawSocket link with ${serializer}: the board calls the hub's procedure through it`, async () => {
      const hub = await startHub({ serializers: [serializer] });
      const { local } = await startBoard(link({ type: 'rawsocket', port: hub.port, serializers: [serializer] }));
      const details = await linkIn(local, 'up');
      expect(details).toMatchObject({ id: 'to-hub', realm: 'realm1', url: `rs://127.0.0.1:${hub.port}`, connects: 1, last_error: null, buffered: 0 });
      expect(await echoThroughLink(local, { n: 42, text: 'über' })).toEqual({ n: 42, text: 'über' });
      expect(linkSessionOnHub(hub)!.transport.info).toMatchObject({ type: 'rawsocket', serializer });
    });
  }

  it("a RawSocket link's handshake asks for msgpack and 16 MiB messages, and it answers the router's PING with a PONG of the same payload", async () => {
    const heard: Array<{ type: number; payload: Buffer }> = [];
    let handshake: Buffer | undefined;
    const sockets: Socket[] = [];
    const server: Server = createServer((socket) => {
      sockets.push(socket);
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (!handshake) {
          if (buffered.length < 4) return;
          handshake = buffered.subarray(0, 4);
          buffered = buffered.subarray(4);
          socket.write(Buffer.from([0x7f, 0xf2, 0, 0])); // msgpack, 16 MiB
        }
        while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUIntBE(1, 3)) {
          const length = buffered.readUIntBE(1, 3);
          const frame = { type: buffered[0]!, payload: buffered.subarray(4, 4 + length) };
          buffered = buffered.subarray(4 + length);
          heard.push(frame);
          // After the HELLO: a PING.
          if (frame.type === 0 && heard.length === 1) socket.write(Buffer.concat([Buffer.from([1, 0, 0, 5]), Buffer.from('ping!')]));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await startBoard(link({ type: 'rawsocket', port, serializers: ['msgpack'] }));
      await until(() => heard.some((f) => f.type === 2), 10_000, 'a PONG');
      expect([...handshake!]).toEqual([0x7f, 0xf2, 0, 0]);
      expect(heard[0]!.type).toBe(0); // HELLO
      expect(heard.find((f) => f.type === 2)!.payload.toString()).toBe('ping!');
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });

  it('a RawSocket link pings its hub every auto_ping_interval: a hub that answers keeps the link; one that stops answering is dropped within interval + timeout, and the link connects again', async () => {
    const hub = await startHub({ serializers: ['json'] });
    const relay = await pingRelay(hub.port);
    try {
      const options = { autoPingInterval: 300, autoPingTimeout: 300, retryInitial: 50, retryMax: 200 };
      const { board, local } = await startBoard(link({ type: 'rawsocket', port: relay.port, options }));
      const routerLink = board.node.routerLinks!.links[0]!;
      await linkIn(local, 'up');
      const states: string[] = [];
      routerLink.onStateChange((l) => states.push(l.state));
      await until(() => relay.pings.length >= 4, 10_000, 'four PINGs');
      // One PING an interval (none sent while the last is unanswered, none bunched up).
      const gaps = relay.pings.slice(1).map((t, i) => t - relay.pings[i]!);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(250);
      expect(states).toEqual([]); // answered: the link stayed up all along
      expect(routerLink.connects).toBe(1);

      relay.deafen();
      const deafSince = Date.now();
      await until(() => routerLink.state !== 'up', 5000, 'the link dropped');
      // The next PING comes within an interval and its timeout runs out: the slack is for a busy machine.
      expect(Date.now() - deafSince).toBeLessThan(300 + 300 + 1000);
      await linkIn(local, 'up');
      expect(states).toEqual(['down', 'connecting', 'up']);
      expect(routerLink.connects).toBe(2);
      expect(await echoThroughLink(local, 'after a hang')).toBe('after a hang');
    } finally {
      relay.close();
    }
  });

  it('a router that takes the connection but never welcomes the session is given up on after connect_timeout, and tried again', async () => {
    const hellos: number[] = [];
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      let handshaken = false;
      socket.on('data', (chunk) => {
        if (!handshaken) {
          handshaken = true;
          socket.write(Buffer.from([0x7f, 0xf1, 0, 0])); // json, 16 MiB
          if (chunk.length > 4) hellos.push(Date.now());
        } else hellos.push(Date.now()); // the HELLO, never answered
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const options = { autoPingInterval: 0, autoPingTimeout: 0, retryInitial: 50, retryMax: 200, connectTimeout: 400 };
      const { local } = await startBoard(link({ type: 'rawsocket', port, options }));
      const down = await linkIn(local, 'down');
      expect(down['last_error']).toMatch(/did not welcome the session within 400 ms \(transport\.options\.connect_timeout\)/);
      await until(() => hellos.length >= 2, 5000, 'a second HELLO on a new connection');
      expect(sockets.length).toBeGreaterThanOrEqual(2);
      expect(down['connects']).toBe(0);
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });

  it('a RawSocket link offers its serializers in order: the first the hub takes is used', async () => {
    const hub = await startHub({ serializers: ['cbor'] });
    const { local } = await startBoard(link({ type: 'rawsocket', port: hub.port, serializers: ['json', 'cbor'] }));
    await linkIn(local, 'up');
    expect(linkSessionOnHub(hub)!.transport.info.serializer).toBe('cbor');
  });

  it('logs in with cryptosign (the key named in HELLO, the challenge signed); a key the hub does not know is refused', async () => {
    const known = cryptosignKeyPair();
    const hub = await startHub({ auth: { cryptosign: { type: 'static', principals: { 'board-1': { authorizedKeys: [known.publicKey], role: 'board' } } } } });
    const { local } = await startBoard(link({ url: `ws://127.0.0.1:${hub.port}/ws`, port: hub.port }, { authid: 'board-1', privateKey: known.privateSeed }));
    await linkIn(local, 'up');
    expect(await echoThroughLink(local, 'signed')).toBe('signed');
    expect(linkSessionOnHub(hub)).toMatchObject({ authid: 'board-1', authrole: 'board', authmethod: 'cryptosign' });

    const stranger = cryptosignKeyPair();
    const other = await startBoard(link({ type: 'rawsocket', port: hub.port }, { authid: 'board-1', privateKey: stranger.privateSeed }));
    const refused = await linkIn(other.local, 'down');
    expect(refused['last_error']).toMatch(/wamp\.error\.not_authorized/);
  });

  it('wss:// and RawSocket over TLS trust the hub through endpoint.tls.ca', async () => {
    const hub = await startHub({ tls: HUB_TLS });
    const ws = await startBoard(link({ url: `wss://localhost:${hub.port}/ws`, host: 'localhost', port: hub.port, tls: true, tlsOptions: { ca: pem('ca.crt') } }));
    expect(await linkIn(ws.local, 'up')).toMatchObject({ url: `wss://localhost:${hub.port}/ws` });
    expect(await echoThroughLink(ws.local, 'over wss')).toBe('over wss');
    const rs = await startBoard(link({ type: 'rawsocket', host: 'localhost', port: hub.port, tls: true, tlsOptions: { ca: pem('ca.crt') }, serializers: ['msgpack'] }));
    expect(await linkIn(rs.local, 'up')).toMatchObject({ url: `rss://localhost:${hub.port}` });
    expect(await echoThroughLink(rs.local, 'over rss')).toBe('over rss');
  });

  it('a hub that authenticates TLS client certificates: the link logs in with endpoint.tls.certificate and key', async () => {
    const hub = await startHub({ tls: { ...HUB_TLS, ca: pem('ca.crt') }, auth: { tls: { type: 'static', principals: { 'junction-test-client': { role: 'board' } } } } });
    const { local } = await startBoard(link({
      url: `wss://localhost:${hub.port}/ws`, host: 'localhost', port: hub.port, tls: true,
      tlsOptions: { ca: pem('ca.crt'), certificate: pem('client.crt'), key: pem('client.key') },
    }));
    await linkIn(local, 'up');
    expect(linkSessionOnHub(hub)).toMatchObject({ authid: 'junction-test-client', authrole: 'board', authmethod: 'tls' });
  });

  it('a hub certificate from another CA: the log says the certificate is not trusted and where to give the CA, and the link keeps trying', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-rlink-ca-'));
    const log = captureStderr(/rlink 'to-hub'/);
    try {
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=Some other CA'], { encoding: 'utf8' });
      expect(made.status, made.stderr).toBe(0);
      const hub = await startHub({ tls: HUB_TLS });
      const { local } = await startBoard(link({ url: `wss://localhost:${hub.port}/ws`, host: 'localhost', port: hub.port, tls: true, tlsOptions: { ca: readFileSync(join(dir, 'c.pem'), 'utf8') } }));
      const down = await linkIn(local, 'down');
      expect(down['last_error']).toMatch(/certificate is not trusted .*transport\.endpoint\.tls\.ca/);
      // Tried again after the first delay (1 s), and refused again.
      await until(() => log.lines.filter((l) => /down: cannot connect to wss:.*not trusted.*; connecting again in \d+ ms/.test(l)).length >= 2, 10_000, 'a second attempt');
      expect(log.lines.find((l) => /connecting again in 1000 ms/.test(l))).toMatch(/WARN +rlink 'to-hub': down: cannot connect to wss:\/\/localhost:\d+\/ws: TLS: the remote router's certificate is not trusted/);
      expect((await local.call('junction.rlink.get', ['to-hub'])).args[0]).toMatchObject({ connects: 0 });
    } finally {
      log.restore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
