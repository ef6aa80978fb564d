// Cryptosign with `tls-exporter` channel binding (RFC 9266) over TLS 1.3. No Autobahn client offers
// it yet (Autobahn|Python 22.7 knows only tls-unique), so the client here is the `ws` library over
// Node's TLS, signing with tweetnacl: it binds the challenge to the connection's exported keying
// material (label "EXPORTER-Channel-Binding", no context, 32 bytes) the way Autobahn binds tls-unique
// (challenge XOR channel ID). The same signature without the binding is refused.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import type { TestNode } from '../helpers/node.js';
import { startEchoNode } from '../helpers/python-auth.js';

const nacl = createRequire(import.meta.url)('tweetnacl');
const CERTS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const pem = (name: string) => readFileSync(`${CERTS}${name}`, 'utf8');
const keys = nacl.sign.keyPair();
const PUBKEY = Buffer.from(keys.publicKey).toString('hex');

/** Logs in with Cryptosign asking for tls-exporter; `bind` false signs the bare challenge. */
function login(port: number, bind: boolean): Promise<{ challenge?: any; answer: unknown[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://localhost:${port}/ws`, ['wamp.2.json'], { ca: pem('ca.crt'), minVersion: 'TLSv1.3' });
    let challenge: any;
    ws.on('open', () => ws.send(JSON.stringify([1, 'realm1', {
      roles: { caller: {} }, authmethods: ['cryptosign'], authid: 'board', authextra: { pubkey: PUBKEY, channel_binding: 'tls-exporter' },
    }])));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data));
      if (msg[0] !== 4) {
        ws.close();
        return resolve({ challenge, answer: msg });
      }
      challenge = msg[2];
      const socket = (ws as unknown as { _socket: TLSSocket })._socket;
      const message = Buffer.from(challenge.challenge, 'hex');
      if (bind) {
        const channelId = socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
        for (let i = 0; i < 32; i++) message[i]! ^= channelId[i]!;
      }
      const signature = Buffer.from(nacl.sign.detached(message, keys.secretKey));
      ws.send(JSON.stringify([5, Buffer.concat([signature, message]).toString('hex'), {}]));
    });
    ws.on('error', reject);
  });
}

describe('Cryptosign tls-exporter channel binding over TLS 1.3', () => {
  let node: TestNode;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ node, stop } = await startEchoNode(
      { cryptosign: { type: 'static', principals: { board: { authorizedKeys: [PUBKEY], role: 'device' } } } },
      { key: pem('server.key'), certificate: pem('server.crt') },
    ));
  });
  afterAll(async () => stop?.());

  it('the CHALLENGE names tls-exporter; a signature bound to the connection joins, an unbound one is refused', async () => {
    const bound = await login(node.port, true);
    expect(bound.challenge).toMatchObject({ channel_binding: 'tls-exporter' });
    expect(bound.answer[0]).toBe(2);
    expect(bound.answer[2]).toMatchObject({ authid: 'board', authmethod: 'cryptosign' });
    const unbound = await login(node.port, false);
    expect(unbound.answer).toEqual([3, expect.any(Object), 'wamp.error.not_authorized']);
  });
});
