// A router link's connection to the remote router: a WAMP-over-WebSocket client (the serializers
// offered as subprotocols in the config's order, the router picks one). Resolves once open. From
// then on it pings the router every `pingIntervalMs` (auto_ping_interval); a ping without a pong
// within `pingTimeoutMs` (auto_ping_timeout) drops the connection: a router behind a cut cable or
// a hung process is noticed, not waited for.

import WebSocket from 'ws';
import { getSerializer, serializerFromSubprotocol, subprotocolOf } from '../serializers/index.js';
import type { RLinkTransportConfig } from '../config/types.js';
import type { WampMessage } from '../wamp/message.js';
import type { LocalPeer, WireConnection } from '../client/local-transport.js';

/** Most bytes one incoming message from the remote router may have. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/**
 * Most bytes waiting to be sent to the remote router. A remote that stops reading would otherwise
 * make the link hold everything forwarded to it: past this the connection is dropped, and the link
 * reconnects and subscribes and registers again, as after any lost connection.
 */
const MAX_SEND_BACKLOG = 4 * 1024 * 1024;

/** How long a closing connection waits for the router's close frame. */
const CLOSE_WAIT_MS = 2000;

export interface WebSocketTimings {
  connectTimeoutMs: number;
  /** 0: no pings. */
  pingIntervalMs: number;
  /** 0: an unanswered ping does not drop the connection. */
  pingTimeoutMs: number;
}

export function openWebSocket(transport: RLinkTransportConfig, timings: WebSocketTimings): Promise<(peer: LocalPeer) => WireConnection> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(transport.url!, transport.serializers.map(subprotocolOf), { handshakeTimeout: timings.connectTimeoutMs, maxPayload: MAX_MESSAGE_BYTES });
    ws.once('error', reject);
    ws.once('close', () => reject(new Error('connection closed before it opened')));
    ws.once('open', () => {
      ws.removeAllListeners('error');
      ws.removeAllListeners('close');
      const stopPinging = autoPing(ws, timings);
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
        ws.on('close', () => {
          stopPinging();
          peer.onClose();
        });
        return {
          send: (m) => {
            if (ws.readyState !== WebSocket.OPEN) return;
            if (ws.bufferedAmount > MAX_SEND_BACKLOG) return ws.terminate();
            ws.send(serializer.encode(m), { binary: serializer.binary });
          },
          close: () => {
            ws.close(1000);
            // A router that does not answer the closing handshake (hung, or the network gone) is not waited for.
            setTimeout(() => ws.terminate(), CLOSE_WAIT_MS).unref();
          },
        };
      });
    });
  });
}

/** Pings every interval; an unanswered ping terminates the connection. Returns what stops it. */
function autoPing(ws: WebSocket, { pingIntervalMs, pingTimeoutMs }: WebSocketTimings): () => void {
  if (pingIntervalMs <= 0) return () => {};
  let deadline: NodeJS.Timeout | undefined;
  ws.on('pong', () => {
    clearTimeout(deadline);
    deadline = undefined;
  });
  const interval = setInterval(() => {
    if (deadline !== undefined) return; // still waiting for the last pong
    ws.ping();
    if (pingTimeoutMs > 0) deadline = setTimeout(() => ws.terminate(), pingTimeoutMs);
  }, pingIntervalMs);
  interval.unref();
  return () => {
    clearInterval(interval);
    clearTimeout(deadline);
  };
}
