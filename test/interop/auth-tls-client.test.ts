// TLS client-certificate authentication (issue 16) with Autobahn|Python and Autobahn|JS presenting
// a client certificate: static principals by `certificate-sha1` (Crossbar's) or by the certificate's
// CN, and a dynamic authenticator that gets the certificate as transport.client_cert. No
// certificate, or one the listener's CA did not sign, is refused.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { runAuthPeer } from '../helpers/python-auth.js';
import { ClientSession, Result } from '../../src/client/client-session.js';
import type { AuthConfig } from '../../src/config/types.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');
const CERTS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const pem = (name: string) => readFileSync(`${CERTS}${name}`, 'utf8');
const CLIENT_SHA1 = new X509Certificate(pem('client.crt')).fingerprint;

const BY_SHA1: AuthConfig = { tls: { type: 'static', principals: { gateway: { certificateSha1: CLIENT_SHA1, role: 'device' } } } };
const BY_CN: AuthConfig = { tls: { type: 'static', principals: { 'junction-test-client': { role: 'device' } } } };
const DYNAMIC: AuthConfig = { tls: { type: 'dynamic', authenticator: 'com.example.authenticate' } };


describe('TLS client-certificate authentication with Autobahn clients', () => {
  let node: TestNode;
  let echo: ClientSession;
  const seen: any[] = [];

  beforeAll(async () => {
    node = await startTestNode({
      realms: [{ name: 'realm1', roles: [allowAll('device'), allowAll('admin')], store: { type: 'memory', limit: 10, callQueue: [], eventHistory: [] } }],
      listener: {
        endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1', tls: { key: pem('server.key'), certificate: pem('server.crt'), ca: pem('ca.crt') } },
        rawsocket: service({ auth: BY_CN }),
        websocket: { '/ws': service({ auth: BY_SHA1 }), '/dyn': service({ auth: DYNAMIC }) },
      },
    });
    echo = await ClientSession.connect(node.node.router, { realm: 'realm1', role: 'admin', name: 'echo' });
    await echo.register('test.echo', (args) => new Result(args));
    await echo.register('com.example.authenticate', (args) => {
      const details = args[2] as any;
      seen.push(details);
      const cert = details.transport.client_cert;
      return cert?.subject?.cn === 'junction-test-client' ? { role: 'device', authid: `cert-${cert.sha1.slice(0, 5)}` } : 'nobody';
    });
  });
  afterAll(async () => {
    await echo?.close();
    await node?.stop();
  });

  it('Autobahn|Python: static by certificate-sha1 (wss://) and by CN (RawSocket over TLS); without a certificate refused', async () => {
    const tls = ['--port', String(node.port), '--method', 'tls', '--tls', `${CERTS}ca.crt`];
    const cert = ['--client-cert', `${CERTS}client.crt`, '--client-key', `${CERTS}client.key`];
    expect(await runAuthPeer([...tls, ...cert, '--transport', 'ws'])).toMatchObject({ welcome: { authid: 'gateway', authrole: 'device', authmethod: 'tls', authprovider: 'static' }, echo: 'hello' });
    expect(await runAuthPeer([...tls, ...cert, '--transport', 'rawsocket'])).toMatchObject({ welcome: { authid: 'junction-test-client', authmethod: 'tls' }, echo: 'hello' });
    expect(await runAuthPeer([...tls, '--transport', 'ws'])).toMatchObject({ abort: 'wamp.error.not_authorized' });
    expect(await runAuthPeer([...tls, '--transport', 'rawsocket'])).toMatchObject({ abort: 'wamp.error.not_authorized' });
  });

  it('Autobahn|Python: a dynamic authenticator gets the certificate as transport.client_cert and names the authid', async () => {
    const out = await runAuthPeer(['--port', String(node.port), '--method', 'tls', '--tls', `${CERTS}ca.crt`, '--transport', 'ws', '--path', '/dyn',
      '--client-cert', `${CERTS}client.crt`, '--client-key', `${CERTS}client.key`]);
    expect(out).toMatchObject({ welcome: { authid: `cert-${CLIENT_SHA1.slice(0, 5)}`, authmethod: 'tls', authprovider: 'dynamic' } });
    expect(seen.at(-1)).toMatchObject({ authmethod: 'tls', authid: 'junction-test-client', transport: { tls: true, client_cert: { sha1: CLIENT_SHA1, subject: { cn: 'junction-test-client' }, issuer: { cn: 'Junction test CA' } } } });
  });

  it('Autobahn|JS over wss:// with a client certificate joins by certificate-sha1; another certificate is refused', async () => {
    const login = (cert: string, key: string) => new Promise<any>((resolve) => {
      const connection = new autobahn.Connection({
        transports: [{ type: 'websocket', url: `wss://localhost:${node.port}/ws`, tlsConfiguration: { ca: pem('ca.crt'), cert, key } }],
        realm: 'realm1', max_retries: 0, authmethods: ['tls'],
      });
      connection.onopen = (_s: unknown, details: any) => { connection.close(); resolve(details); };
      connection.onclose = (reason: string, details: any) => { resolve({ reason, details }); return true; };
      connection.open();
    });
    expect(await login(pem('client.crt'), pem('client.key'))).toMatchObject({ authid: 'gateway', authmethod: 'tls' });
    // The server's certificate: signed by the same CA, but not the fingerprint of any principal.
    expect(await login(pem('server.crt'), pem('server.key'))).toMatchObject({ details: { reason: 'wamp.error.not_authorized' } });
  });
});
