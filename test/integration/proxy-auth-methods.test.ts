// Crossbar's `anonymous-proxy` auth method beside `ticket`: accepted with a warning and not offered.
// Autobahn|JS clients written as Crossbar's docs show: one asking for anonymous is refused, one
// with its ticket joins.
import { describe, it, expect, afterAll } from 'vitest';
import { createRequire } from 'node:module';
import { parseConfig } from '../../src/config/load.js';
import { startNode, type JunctionNode } from '../../src/node.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

/** Opens an Autobahn|JS connection; resolves with the joined session's authmethod, or the close reason. */
function attempt(url: string, options: object): Promise<{ joined?: string; closed?: string }> {
  return new Promise((resolve) => {
    const connection = new autobahn.Connection({ url, realm: 'realm1', max_retries: 0, ...options });
    connection.onopen = (session: { close?: () => void }, details: { authmethod: string }) => {
      resolve({ joined: details.authmethod });
      connection.close();
    };
    connection.onclose = (reason: string, details: { reason?: string }) => {
      resolve({ closed: details.reason ?? reason });
      return true;
    };
    connection.open();
  });
}

describe('auth method anonymous-proxy', () => {
  let node: JunctionNode | undefined;
  afterAll(() => node?.stop());

  it('is not offered; the other methods of the transport are', async () => {
    const config = parseConfig({
      version: 2,
      workers: [{
        type: 'router',
        realms: [{ name: 'realm1', roles: [{ name: 'user', 'allow-by-default': true }, { name: 'anonymous', 'allow-by-default': true }] }],
        transports: [{
          type: 'websocket',
          endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
          auth: {
            'anonymous-proxy': { type: 'static', role: 'anonymous' },
            ticket: { type: 'static', principals: { sensor1: { ticket: 'secret123', role: 'user' } } },
          },
        }],
      }],
    });
    expect(config.warnings?.map((w) => w.path)).toEqual(['workers[0].transports[0].auth.anonymous-proxy']);
    node = await startNode(config);
    const address = node.listeners[0]!.address();
    const url = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    expect(await attempt(url, { authmethods: ['anonymous'] })).toEqual({ closed: 'wamp.error.no_matching_auth_method' });
    expect(await attempt(url, { authmethods: ['ticket'], authid: 'sensor1', onchallenge: () => 'secret123' })).toEqual({ joined: 'ticket' });
  });
});
