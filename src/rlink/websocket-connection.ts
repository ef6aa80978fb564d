// A router link's connection to the remote router: a WAMP-over-WebSocket client (the serializers
// offered as subprotocols in the config's order, the router picks one). Resolves once open.

import WebSocket from 'ws';
import { getSerializer, serializerFromSubprotocol, subprotocolOf } from '../serializers/index.js';
import type { RLinkTransportConfig } from '../config/types.js';
import type { WampMessage } from '../wamp/message.js';
import type { LocalPeer, WireConnection } from '../client/local-transport.js';
import { tlsConnectOptions } from './tls-options.js';

/** Most bytes one incoming message from the remote router may have. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/**
 * Most bytes waiting to be sent to the remote router. A remote that stops reading would otherwise
 * make the link hold everything forwarded to it: past this the connection is dropped, and the link
 * reconnects and subscribes and registers again, as after any lost connection.
 */
export const MAX_SEND_BACKLOG = 4 * 1024 * 1024;

export function openWebSocket(transport: RLinkTransportConfig, connectTimeoutMs: number): Promise<(peer: LocalPeer) => WireConnection> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(transport.url!, transport.serializers.map(subprotocolOf), {
      handshakeTimeout: connectTimeoutMs, maxPayload: MAX_MESSAGE_BYTES, ...(transport.tls ? tlsConnectOptions(transport) : {}),
    });
    ws.once('error', reject);
    ws.once('close', () => reject(new Error('connection closed before it opened')));
    ws.once('open', () => {
      ws.removeAllListeners('error');
      ws.removeAllListeners('close');
      const serializer = serializerFromSubprotocol(ws.protocol) ?? getSerializer('json');
      resolve((peer) => {
        ws.on('message', (data: Buffer, isBinary) => {
          try {
            peer.onMessage(serializer.decode(data, !isBinary) as WampMessage);
          } catch {
            ws.close(1003, 'cannot decode');
          }
        });
        ws.on('error', () => ws.terminate());
        ws.on('close', () => peer.onClose());
        return {
          send: (m) => {
            if (ws.readyState !== WebSocket.OPEN) return;
            if (ws.bufferedAmount > MAX_SEND_BACKLOG) return ws.terminate();
            ws.send(serializer.encode(m), { binary: serializer.binary });
          },
          close: () => ws.close(1000),
        };
      });
    });
  });
}
