// WAMP-SCRAM (issue 16) with Autobahn|Python's own SCRAM authenticator (auth.AuthScram, as
// Crossbar's docs show): principals made by Autobahn's derive_scram_credential and by
// `junction derive-key --kdf` (scramDeriveKeys) log in, the client verifies the router's
// scram_server_signature, and wrong passwords and unknown authids are refused alike.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import type { TestNode } from '../helpers/node.js';
import { runAuthPeer, runTwistedComponent, startEchoNode } from '../helpers/python-auth.js';
import { scramCredential, scramDeriveKeys } from '../../src/auth/scram.js';
import type { AuthConfig, ScramPrincipal } from '../../src/config/types.js';




/** A principal as Autobahn|Python derives it (Argon2id, t 4096, m 512 KiB, its defaults). */
function autobahnPrincipal(email: string, password: string): ScramPrincipal {
  const out = execFileSync(process.env['JUNCTION_PYTHON'] ?? '/usr/bin/python3', ['-c', 'import json,sys; from autobahn.wamp.auth import derive_scram_credential as d; print(json.dumps(d(sys.argv[1], sys.argv[2])))', email, password]);
  const credential = scramCredential(JSON.parse(String(out)));
  if ('error' in credential) throw new Error(credential.error);
  return { ...credential, role: 'device' };
}

function junctionPrincipal(password: string, kdf: 'argon2id-13' | 'pbkdf2', iterations: number, memory?: number): ScramPrincipal {
  const salt = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
  const keys = scramDeriveKeys(password, kdf, salt, iterations, memory);
  return { kdf, iterations, ...(memory ? { memory } : {}), salt, ...keys, role: 'device' };
}

describe('WAMP-SCRAM with Autobahn|Python', () => {
  let node: TestNode;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const auth: AuthConfig = {
      scram: {
        type: 'static',
        principals: {
          'alice@example.com': autobahnPrincipal('alice@example.com', 'alice-pw'),
          bob: junctionPrincipal('bob-pw', 'argon2id-13', 3, 64),
        },
      },
    };
    ({ node, stop } = await startEchoNode(auth));
  }, 30_000);
  afterAll(async () => stop?.());

  for (const transport of ['ws', 'rawsocket'] as const) {
    it(`Autobahn|Python over ${transport}: Argon2id principals log in and the router's signature verifies; wrong passwords and unknown authids are refused`, async () => {
      const base = ['--port', String(node.port), '--transport', transport, '--method', 'scram'];
      const alice = await runAuthPeer([...base, '--authid', 'alice@example.com', '--secret', 'alice-pw']);
      expect(alice).toMatchObject({ welcome: { authid: 'alice@example.com', authrole: 'device', authmethod: 'scram', authprovider: 'static' }, echo: 'hello' });
      const bob = await runAuthPeer([...base, '--authid', 'bob', '--secret', 'bob-pw']);
      expect(bob).toMatchObject({ welcome: { authid: 'bob', authmethod: 'scram' }, echo: 'hello' });
      expect(await runAuthPeer([...base, '--authid', 'bob', '--secret', 'wrong'])).toMatchObject({ abort: 'wamp.error.not_authorized' });
      expect(await runAuthPeer([...base, '--authid', 'mallory', '--secret', 'bob-pw'])).toMatchObject({ abort: 'wamp.error.not_authorized' });
    }, 60_000);
  }

  it('Autobahn|Python (Twisted Component, authentication={"scram": ...}): Argon2id logs in; a wrong password is refused', async () => {
    const base = ['--url', `${node.wsUrl}`, '--method', 'scram'];
    expect(await runTwistedComponent([...base, '--authid', 'alice@example.com', '--secret', 'alice-pw'])).toMatchObject({ welcome: { authid: 'alice@example.com', authmethod: 'scram' }, echo: 'hello' });
    expect(await runTwistedComponent([...base, '--authid', 'bob', '--secret', 'wrong'])).toMatchObject({ abort: 'wamp.error.not_authorized' });
  }, 60_000);
});
