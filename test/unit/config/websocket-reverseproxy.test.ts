// Crossbar's `websocket-reverseproxy` web path: what the loader makes of its documented keys, and
// its errors and warnings by key path.
import { describe, it, expect } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import type { WebSocketReverseProxyPathConfig } from '../../../src/config/types.js';
import { errorsOf } from '../../helpers/config.js';

const P = 'workers[0].transports[0].paths.proxy1';

type Raw = any; // documents are built loosely and broken on purpose

function withProxy(proxy: Raw): Raw {
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true } }] }] }],
      transports: [{ type: 'web', endpoint: { type: 'tcp', port: 8080 }, paths: { proxy1: proxy } }],
    }],
  };
}

/** Crossbar's documented example. */
const EXAMPLE = {
  type: 'websocket-reverseproxy',
  backend: { type: 'websocket', endpoint: { type: 'tcp', host: '127.0.0.1', port: 9000 }, url: 'ws://localhost:9000' },
};

function proxyOf(raw: Raw): WebSocketReverseProxyPathConfig {
  return parseConfig(raw).router.listeners[0]!.static['/proxy1'] as WebSocketReverseProxyPathConfig;
}

function warningsOf(raw: Raw): Record<string, string> {
  return Object.fromEntries((parseConfig(raw).warnings ?? []).map((w) => [w.path, w.message]));
}

describe('websocket-reverseproxy config', () => {
  it('reads Crossbar\'s documented example with its defaults', () => {
    const proxy = proxyOf(withProxy(EXAMPLE));
    expect(proxy.type).toBe('websocket-reverseproxy');
    expect(proxy.backend.url).toBe('ws://localhost:9000');
    expect(proxy.backend.endpoint).toEqual({ type: 'tcp', host: '127.0.0.1', port: 9000 });
    expect(proxy.backend.connectTimeout).toBe(10_000); // Crossbar's 10 s
    expect(proxy.backend.tls).toBeUndefined();
    expect(proxy.frontend.maxMessageSize).toBe(1024 * 1024);
    expect(proxy.frontend.maxSendQueue).toBe(4 * 1024 * 1024);
    expect(proxy.backend.options.maxSendQueue).toBe(4 * 1024 * 1024);
    expect(warningsOf(withProxy(EXAMPLE))).toEqual({});
  });

  it('reads options of both sides, a unix endpoint and its timeout', () => {
    const proxy = proxyOf(withProxy({
      id: 'proxy', type: 'websocket-reverseproxy', url: 'wss://example.com/proxy1',
      options: { max_message_size: 65536, auto_ping_interval: 10000, auto_ping_timeout: 5000, allowed_origins: ['https://example.com'], max_send_queue: 65536 },
      backend: { endpoint: { type: 'unix', path: '/run/backend.sock', timeout: 3 }, url: 'ws://backend/ws', options: { max_message_size: 4096, close_handshake_timeout: 2000 } },
    }));
    expect(proxy.frontend).toMatchObject({ maxMessageSize: 65536, autoPingInterval: 10000, autoPingTimeout: 5000, allowedOrigins: ['https://example.com'], maxSendQueue: 65536 });
    expect(proxy.backend.endpoint).toEqual({ type: 'unix', path: '/run/backend.sock' });
    expect(proxy.backend.connectTimeout).toBe(3000);
    expect(proxy.backend.options.maxMessageSize).toBe(4096);
    expect(proxy.backend.options.websocket?.closeHandshakeTimeout).toBe(2000);
  });

  it('names the key path of every bad value', () => {
    expect(errorsOf(withProxy({ type: 'websocket-reverseproxy' }))).toEqual({ [`${P}.backend`]: 'is required' });
    expect(errorsOf(withProxy({
      type: 'websocket-reverseproxy', url: 'http://x/', extra: 1,
      options: { max_message_size: 0, bogus: true },
      backend: { type: 'rawsocket', endpoint: { type: 'tcp', host: '', port: 70000, version: 5, timeout: 601, tls: { ca_certificates: [] } }, url: 'localhost:9000' },
    }))).toEqual({
      [`${P}.extra`]: expect.stringContaining("unknown key 'extra'"),
      [`${P}.url`]: expect.stringContaining('must be a ws:// or wss:// URL'),
      [`${P}.options.max_message_size`]: expect.stringContaining('must be between 1 and'),
      [`${P}.options.bogus`]: expect.stringContaining("unknown key 'bogus'"),
      [`${P}.backend.type`]: 'must be one of "websocket", got "rawsocket"',
      [`${P}.backend.url`]: expect.stringContaining('must be a ws:// or wss:// URL'),
      [`${P}.backend.endpoint.host`]: 'must not be empty',
      [`${P}.backend.endpoint.port`]: 'must be between 1 and 65535, got 70000',
      [`${P}.backend.endpoint.version`]: 'must be one of 4, 6, got number 5',
      [`${P}.backend.endpoint.timeout`]: 'must be between 0 and 600, got 601',
      [`${P}.backend.endpoint.tls.hostname`]: 'is required',
      [`${P}.backend.endpoint.tls.ca_certificates`]: 'must not be empty',
    });
    expect(errorsOf(withProxy({ ...EXAMPLE, backend: { url: 'ws://x/' } }))).toEqual({
      [`${P}.backend.endpoint`]: 'is required: an object with type "tcp" (host, port) or "unix" (path)',
    });
    expect(errorsOf(withProxy({ ...EXAMPLE, backend: { url: 'ws://x/', endpoint: { type: 'twisted', client_string: 'tcp:x:1' } } }))).toEqual({
      [`${P}.backend.endpoint.type`]: 'endpoint type "twisted" is not supported by Junction (use "tcp" or "unix")',
    });
    expect(errorsOf(withProxy({ ...EXAMPLE, backend: { ...EXAMPLE.backend, endpoint: { ...EXAMPLE.backend.endpoint, tls: { hostname: 'b', certificate: 'c.pem' } } } })))
      .toMatchObject({ [`${P}.backend.endpoint.tls.key`]: 'is required with certificate (a client certificate needs both)' });
  });

  it('warns once for each key that cannot apply to a proxied connection', () => {
    const warnings = warningsOf(withProxy({
      ...EXAMPLE,
      options: { require_websocket_subprotocol: false, send_queue_policy: 'disconnect', tcp_nodelay: true },
      backend: { ...EXAMPLE.backend, serializers: ['json'], options: { allowed_origins: ['*'], compression: { deflate: {} } } },
    }));
    expect(Object.keys(warnings).sort()).toEqual([
      `${P}.backend.options.allowed_origins`,
      `${P}.backend.options.compression`,
      `${P}.backend.serializers`,
      `${P}.options.require_websocket_subprotocol`,
      `${P}.options.send_queue_policy`,
      `${P}.options.tcp_nodelay`,
    ]);
    expect(warnings[`${P}.options.require_websocket_subprotocol`]).toContain('the backend chooses');
    expect(warnings[`${P}.backend.serializers`]).toContain('messages pass unchanged');
  });
});
