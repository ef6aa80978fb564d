// Starts a real Junction node (sockets and all) on ephemeral ports for interop tests.

import type { JunctionConfig, ListenerConfig, RealmConfig, WampServiceConfig } from '../../src/config/types.js';
import { DEFAULT_TRANSPORT_OPTIONS } from '../../src/config/types.js';
import { startNode, type JunctionNode } from '../../src/node.js';
import { allowAll } from './core.js';
import type { CallQueueConfig } from '../../src/config/types.js';

export const service = (overrides: Partial<WampServiceConfig> = {}): WampServiceConfig => ({
  serializers: ['json', 'msgpack', 'cbor', 'ubjson'],
  options: { ...DEFAULT_TRANSPORT_OPTIONS },
  ...overrides,
});

export interface TestNode {
  node: JunctionNode;
  port: number;
  wsUrl: string;
  stop(): Promise<void>;
}

/** One universal listener on 127.0.0.1:<ephemeral>: RawSocket, WebSocket at /ws. */
export async function startTestNode(opts: { callQueue?: CallQueueConfig[]; realms?: RealmConfig[]; listener?: Partial<ListenerConfig>; bridges?: JunctionConfig['bridges']; telemetry?: JunctionConfig['telemetry']; maxIncomingBytes?: number; maxSendQueueTotal?: number } = {}): Promise<TestNode> {
  const listener: ListenerConfig = {
    id: 'test',
    kind: 'universal',
    endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
    rawsocket: service(),
    websocket: { '/ws': service() },
    websocketAnyPath: false,
    static: {},
    ...opts.listener,
  };
  const config: JunctionConfig = {
    router: {
      realms: opts.realms ?? [{
        name: 'realm1',
        roles: [allowAll()],
        store: { type: 'memory', limit: 100, callQueue: opts.callQueue ?? [], eventHistory: [] },
      }],
      listeners: [listener],
    },
  };
  if (opts.bridges) config.bridges = opts.bridges;
  if (opts.telemetry) config.telemetry = opts.telemetry;
  if (opts.maxIncomingBytes !== undefined) config.router.maxIncomingBytes = opts.maxIncomingBytes;
  if (opts.maxSendQueueTotal !== undefined) config.router.maxSendQueueTotal = opts.maxSendQueueTotal;
  const node = await startNode(config);
  const address = node.listeners[0]!.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { node, port, wsUrl: `ws://127.0.0.1:${port}/ws`, stop: () => node.stop() };
}
