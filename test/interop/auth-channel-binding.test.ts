// Cryptosign channel binding (issue 16) with Autobahn|Python and Autobahn|JS: the CHALLENGE always
// names `channel_binding` (null when unused, as Crossbar sends it); over TLS 1.2 a client asking
// for 'tls-unique' signs the challenge XOR the connection's channel ID, and a signature not bound
// to this connection is refused.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { TestNode } from '../helpers/node.js';
import { runAuthPeerLines, startEchoNode } from '../helpers/python-auth.js';
import type { AuthConfig } from '../../src/config/types.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');
const nacl = require('tweetnacl');
const CERTS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const pem = (name: string) => readFileSync(`${CERTS}${name}`, 'utf8');

const seed = randomBytes(32);
const keys = nacl.sign.keyPair.fromSeed(seed);
const AUTH: AuthConfig = {
  cryptosign: { type: 'static', principals: { board: { authorizedKeys: [Buffer.from(keys.publicKey).toString('hex')], role: 'device' } } },
};


describe('Cryptosign channel binding with Autobahn clients', () => {
  let node: TestNode;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ node, stop } = await startEchoNode(AUTH, { key: pem('server.key'), certificate: pem('server.crt'), ca: pem('ca.crt') }));
  });
  afterAll(async () => stop?.());

  for (const transport of ['ws', 'rawsocket'] as const) {
    it(`Autobahn|Python over ${transport} (TLS): channel_binding null without binding; tls-unique over TLS 1.2 joins; an unbound signature and tls-unique over TLS 1.3 are refused`, async () => {
      const base = ['--port', String(node.port), '--transport', transport, '--tls', `${CERTS}ca.crt`, '--method', 'cryptosign', '--private-key', seed.toString('hex')];
      const [plainChallenge, plain] = await runAuthPeerLines(base);
      expect(plainChallenge.challenge).toMatchObject({ channel_binding: null });
      expect(plain).toMatchObject({ welcome: { authid: 'board', authmethod: 'cryptosign' }, echo: 'hello' });

      const [boundChallenge, bound] = await runAuthPeerLines([...base, '--tls12', '--channel-binding', 'tls-unique']);
      expect(boundChallenge.challenge).toMatchObject({ channel_binding: 'tls-unique' });
      expect(bound).toMatchObject({ welcome: { authid: 'board', authmethod: 'cryptosign' }, echo: 'hello' });

      const unbound = (await runAuthPeerLines([...base, '--tls12', '--channel-binding', 'tls-unique', '--sign-unbound'])).pop();
      expect(unbound).toMatchObject({ abort: 'wamp.error.not_authorized' });
      // tls-unique is not defined for TLS 1.3 (Python's client would bind to 32 zero bytes): refused.
      const tls13 = (await runAuthPeerLines([...base, '--channel-binding', 'tls-unique'])).pop();
      expect(tls13).toMatchObject({ abort: 'wamp.error.not_authorized' });
    });
  }

  it('Autobahn|JS over wss://: the CHALLENGE names channel_binding null, and the session joins', async () => {
    let seen: any;
    const result = await new Promise<any>((resolve) => {
      const connection = new autobahn.Connection({
        transports: [{ type: 'websocket', url: `wss://localhost:${node.port}/ws`, tlsConfiguration: { ca: pem('ca.crt'), cert: pem('client.crt'), key: pem('client.key') } }],
        realm: 'realm1', max_retries: 0, authmethods: ['cryptosign'], authextra: { pubkey: autobahn.auth_cryptosign.public_key(keys) },
        onchallenge: (_s: unknown, _m: string, extra: any) => { seen = extra; return autobahn.auth_cryptosign.sign_challenge(keys, extra); },
      });
      connection.onopen = (_session: any, details: any) => { connection.close(); resolve(details); };
      connection.onclose = (reason: string, details: any) => { resolve({ reason, details }); return true; };
      connection.open();
    });
    expect(result).toMatchObject({ authid: "board", authmethod: "cryptosign" });
    expect(seen).toHaveProperty("channel_binding", null);
    expect(result).toMatchObject({ authid: 'board', authmethod: 'cryptosign' });
  });
});
