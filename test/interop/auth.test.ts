// Authentication with clients nobody here wrote: Autobahn|JS and Autobahn|Python log in with
// ticket, salted WAMP-CRA and Cryptosign over WebSocket and RawSocket; wrong secrets and replayed
// signatures are refused.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { ClientSession, Result } from '../../src/client/client-session.js';
import { craDeriveKey } from '../../src/auth/wampcra.js';
import type { AuthConfig } from '../../src/config/types.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');
const nacl = require('tweetnacl');

const PEER = fileURLToPath(new URL('./python/auth_peer.py', import.meta.url));
const PYTHON = process.env['JUNCTION_PYTHON'] ?? '/usr/bin/python3';

const jsSeed = randomBytes(32);
const jsKeys = nacl.sign.keyPair.fromSeed(jsSeed);
const pySeed = randomBytes(32);
const pyPublic = Buffer.from(nacl.sign.keyPair.fromSeed(pySeed).publicKey).toString('hex');

const AUTH: AuthConfig = {
  ticket: { type: 'static', principals: { 'ticket-user': { ticket: 'tkt-123', role: 'device' } } },
  wampcra: { type: 'static', users: { 'cra-user': { secret: craDeriveKey('pw-456', 'pepper', 500, 32), role: 'admin', salt: 'pepper', iterations: 500, keylen: 32 } } },
  cryptosign: {
    type: 'static',
    principals: {
      'js-board': { authorizedKeys: [Buffer.from(jsKeys.publicKey).toString('hex')], role: 'device' },
      'py-board': { authorizedKeys: [pyPublic], role: 'device' },
    },
  },
};

function runPython(args: string[]): Promise<any[]> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [PEER, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`auth_peer.py failed: ${err.message}\n${stderr}`));
      resolve(stdout.trim().split('\n').map((l) => JSON.parse(l)));
    });
  });
}

interface JsLogin { authmethods: string[]; authid?: string; authextra?: object; onchallenge: (session: unknown, method: string, extra: any) => string }

function jsLogin(node: TestNode, transport: 'ws' | 'rawsocket', login: JsLogin): Promise<{ details?: any; echo?: unknown; closed?: { reason: string; details: any } }> {
  const transports = transport === 'ws' ? [{ type: 'websocket', url: node.wsUrl }] : [{ type: 'rawsocket', host: '127.0.0.1', port: node.port }];
  return new Promise((resolve) => {
    const connection = new autobahn.Connection({ transports, realm: 'realm1', max_retries: 0, ...login });
    connection.onopen = async (session: any, details: any) => {
      const echo = await session.call('test.echo', ['hello']);
      connection.close();
      resolve({ details, echo });
    };
    connection.onclose = (reason: string, details: any) => {
      resolve({ closed: { reason, details } });
      return true;
    };
    connection.open();
  });
}

describe('authentication with Autobahn clients', () => {
  let node: TestNode;
  let echo: ClientSession;

  beforeAll(async () => {
    node = await startTestNode({
      realms: [{ name: 'realm1', roles: [allowAll('device'), allowAll('admin'), allowAll('anonymous')], store: { type: 'memory', limit: 10, callQueue: [], eventHistory: [] } }],
      listener: { rawsocket: service({ auth: AUTH }), websocket: { '/ws': service({ auth: AUTH }) } },
    });
    echo = await ClientSession.connect(node.node.router, { realm: 'realm1', role: 'admin', name: 'echo' });
    await echo.register('test.echo', (args) => new Result(args));
  });
  afterAll(async () => {
    await echo?.close();
    await node?.stop();
  });

  for (const transport of ['ws', 'rawsocket'] as const) {
    it(`Autobahn|JS over ${transport}: ticket, salted WAMP-CRA and Cryptosign log in; wrong secrets do not`, async () => {
      const ticket = await jsLogin(node, transport, { authmethods: ['ticket'], authid: 'ticket-user', onchallenge: () => 'tkt-123' });
      expect(ticket.details).toMatchObject({ authid: 'ticket-user', authrole: 'device', authmethod: 'ticket', authprovider: 'static' });
      expect(ticket.echo).toBe('hello');

      const cra = await jsLogin(node, transport, {
        authmethods: ['wampcra'], authid: 'cra-user',
        onchallenge: (_s, _m, extra) => autobahn.auth_cra.sign(autobahn.auth_cra.derive_key('pw-456', extra.salt, extra.iterations, extra.keylen), extra.challenge),
      });
      expect(cra.details).toMatchObject({ authid: 'cra-user', authrole: 'admin', authmethod: 'wampcra' });

      const cs = await jsLogin(node, transport, {
        authmethods: ['cryptosign'], authextra: { pubkey: autobahn.auth_cryptosign.public_key(jsKeys) },
        onchallenge: (_s, _m, extra) => autobahn.auth_cryptosign.sign_challenge(jsKeys, extra),
      });
      expect(cs.details).toMatchObject({ authid: 'js-board', authrole: 'device', authmethod: 'cryptosign' });
      expect(cs.echo).toBe('hello');

      const wrongCra = await jsLogin(node, transport, {
        authmethods: ['wampcra'], authid: 'cra-user',
        onchallenge: (_s, _m, extra) => autobahn.auth_cra.sign(autobahn.auth_cra.derive_key('guess', extra.salt, extra.iterations, extra.keylen), extra.challenge),
      });
      expect(wrongCra.closed?.details).toMatchObject({ reason: 'wamp.error.not_authorized' });
      const stranger = nacl.sign.keyPair();
      const wrongKey = await jsLogin(node, transport, {
        authmethods: ['cryptosign'], authextra: { pubkey: autobahn.auth_cryptosign.public_key(stranger) },
        onchallenge: (_s, _m, extra) => autobahn.auth_cryptosign.sign_challenge(stranger, extra),
      });
      expect(wrongKey.closed?.details).toMatchObject({ reason: 'wamp.error.not_authorized' });
    });
  }

  for (const transport of ['ws', 'rawsocket'] as const) {
    it(`Autobahn|Python over ${transport}: ticket, salted WAMP-CRA and Cryptosign; a replayed Cryptosign signature is refused`, async () => {
      const base = ['--port', String(node.port), '--transport', transport];
      const [ticket] = await runPython([...base, '--method', 'ticket', '--authid', 'ticket-user', '--secret', 'tkt-123']);
      expect(ticket).toMatchObject({ welcome: { authid: 'ticket-user', authrole: 'device', authmethod: 'ticket' }, echo: 'hello' });
      const [cra] = await runPython([...base, '--method', 'wampcra', '--authid', 'cra-user', '--secret', 'pw-456']);
      expect(cra).toMatchObject({ welcome: { authid: 'cra-user', authrole: 'admin', authmethod: 'wampcra', authprovider: 'static' } });
      const [badCra] = await runPython([...base, '--method', 'wampcra', '--authid', 'cra-user', '--secret', 'nope']);
      expect(badCra).toMatchObject({ abort: 'wamp.error.not_authorized' });

      const keyArgs = [...base, '--method', 'cryptosign', '--private-key', pySeed.toString('hex')];
      const [signed, cs] = await runPython(keyArgs);
      expect(cs).toMatchObject({ welcome: { authid: 'py-board', authrole: 'device', authmethod: 'cryptosign' }, echo: 'hello' });
      // The same signature sent again on a new session: its challenge is new, so it fails.
      const [replayed] = await runPython([...keyArgs, '--replay', signed.signature]);
      expect(replayed).toMatchObject({ abort: 'wamp.error.not_authorized' });
    });
  }
});

describe('issue 19 with Autobahn|JS: authentication and authorization holes closed', () => {
  let node: TestNode;
  let admin: ClientSession;
  const boardKeys = nacl.sign.keyPair();
  const boardPub = Buffer.from(boardKeys.publicKey).toString('hex');
  const DYNAMIC: AuthConfig = {
    anonymous: { type: 'static', role: 'reader' },
    cryptosign: { type: 'dynamic', authenticator: 'com.example.authenticate' },
  };
  const reader = {
    name: 'reader',
    permissions: [
      { uri: 'public.news', match: 'exact' as const, cache: true, allow: { call: false, register: false, publish: false, subscribe: true }, disclose: { caller: false, publisher: false } },
      { uri: 'svc.', match: 'prefix' as const, cache: true, allow: { call: true, register: false, publish: false, subscribe: false }, disclose: { caller: false, publisher: false } },
    ],
  };

  beforeAll(async () => {
    node = await startTestNode({
      realms: [{ name: 'realm1', roles: [allowAll('admin'), allowAll('device'), reader], store: { type: 'memory', limit: 10, callQueue: [], eventHistory: [] } }],
      listener: { rawsocket: service({ auth: DYNAMIC }), websocket: { '/ws': service({ auth: DYNAMIC }) } },
    });
    admin = await ClientSession.connect(node.node.router, { realm: 'realm1', role: 'admin', name: 'admin' });
    await admin.register('test.echo', (args) => new Result(args));
    await admin.register('com.example.authenticate', (args) => {
      const authid = args[1];
      if (authid === 'board') return { role: 'device', pubkey: boardPub };
      return { role: 'admin' }; // a role alone: vouches for no key
    });
    await admin.register('svc.who', (_a, _k, ctx) => ctx.details['caller_authid'] ?? null, { disclose_caller: true });
  });
  afterAll(async () => {
    await admin?.close();
    await node?.stop();
  });

  it('issue 19 #7: a dynamic Cryptosign authenticator that names no key lets no key in; one that names the key does', async () => {
    const login = (authid: string, keys: typeof boardKeys) => jsLogin(node, 'ws', {
      authmethods: ['cryptosign'], authid, authextra: { pubkey: autobahn.auth_cryptosign.public_key(keys) },
      onchallenge: (_s, _m, extra) => autobahn.auth_cryptosign.sign_challenge(keys, extra),
    });
    expect((await login('root', nacl.sign.keyPair())).closed?.details).toMatchObject({ reason: 'wamp.error.not_authorized' });
    expect((await login('board', nacl.sign.keyPair())).closed?.details).toMatchObject({ reason: 'wamp.error.not_authorized' });
    expect((await login('board', boardKeys)).details).toMatchObject({ authid: 'board', authrole: 'device', authmethod: 'cryptosign' });
  });

  it('issue 19 #6, #12: pattern subscriptions beyond the permission, callee disclose_caller and junction.* registrations are refused', async () => {
    const connection = new autobahn.Connection({ url: node.wsUrl, realm: 'realm1', max_retries: 0 });
    const session: any = await new Promise((resolve) => { connection.onopen = resolve; connection.open(); });
    try {
      await session.subscribe('public.news', () => {});
      await expect(session.subscribe('public.news', () => {}, { match: 'prefix' })).rejects.toMatchObject({ error: 'wamp.error.not_authorized' });
      await expect(session.subscribe('public.', () => {}, { match: 'wildcard' })).rejects.toMatchObject({ error: 'wamp.error.not_authorized' });
      // The reader's role does not disclose callers: the callee's disclose_caller does not override it.
      expect(await session.call('svc.who')).toBeNull();
      expect(await session.call('svc.who', [], {}, { disclose_me: true })).toEqual(expect.any(String));
      await expect(session.register('junction.setup.reveal', () => 'forged')).rejects.toMatchObject({ error: 'wamp.error.invalid_uri' });
    } finally {
      connection.close();
    }
  });
});
