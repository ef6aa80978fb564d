// A web path of `type: mqtt`: WebSocket upgrades with the subprotocol `mqtt` (MQTT.js, MQTT
// Explorer, Node-RED; `mqttv3.1` from older clients) become connections of an MQTT service (the
// path's own, or the one of the transport it shares), the same service code as an `mqtt`
// transport's (service.ts), through a WebSocket byte stream (websocket-bytes.ts). Any other
// subprotocol, or none, is refused at the upgrade.

import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { rejectUpgrade } from '../http.js';
import { originPattern } from '../websocket.js';
import { ONE_READ } from '../incoming-budget.js';
import type { MqttService } from './service.js';
import { WebSocketBytes } from './websocket-bytes.js';

/** Subprotocols of MQTT over WebSocket: `mqtt` (MQTT 3.1.1 and 5, section 6), `mqttv3.1` (MQTT 3.1's name). */
export const MQTT_SUBPROTOCOLS: readonly string[] = ['mqtt', 'mqttv3.1'];

function pickProtocol(offered: Iterable<string>): string | undefined {
  for (const p of offered) if (MQTT_SUBPROTOCOLS.includes(p)) return p;
  return undefined;
}

export class MqttWebSocketPath {
  private readonly wss = new WebSocketServer({
    noServer: true,
    // Compression costs a small board more CPU and memory per connection than it saves.
    perMessageDeflate: false,
    handleProtocols: (protocols) => pickProtocol(protocols) ?? false,
  });

  /** undefined = any origin. */
  private readonly origins: RegExp[] | undefined;

  /** `service`: the MQTT service its clients join; undefined while the transport it shares has not started. */
  constructor(private readonly service: () => MqttService | undefined, private readonly path: string, allowedOrigins: string[]) {
    this.origins = allowedOrigins.includes('*') ? undefined : allowedOrigins.map(originPattern);
  }

  /** An HTTP upgrade request for this path: refused (403, 400, 503) or made an MQTT connection. */
  handleUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    // Browsers always send Origin; other clients need not, and are not restricted by it (as on WAMP paths).
    const origin = request.headers.origin;
    if (this.origins && origin !== undefined && !this.origins.some((r) => r.test(origin))) {
      return rejectUpgrade(socket, 403, `origin ${origin} is not allowed`);
    }
    const header = request.headers['sec-websocket-protocol'];
    const offered = (header ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
    if (pickProtocol(offered) === undefined) {
      const got = offered.length > 0 ? `offered: ${offered.join(', ')}` : 'none offered';
      return rejectUpgrade(socket, 400, `${this.path} serves MQTT over WebSocket: use the subprotocol mqtt (${got})`);
    }
    const service = this.service();
    if (!service) return rejectUpgrade(socket, 503, `the MQTT service of ${this.path} has not started yet; retry`);
    // ws holds a whole message before handing it on: at most one largest packet and one read more,
    // as a TCP connection's parser may hold, so that a packet over `max_message_size` is answered
    // as on TCP (MQTT 5: DISCONNECT 0x95) and a flood is cut. Read for each upgrade, as
    // `max_message_size` may change on a reload.
    this.wss.options.maxPayload = service.config.maxMessageSize + ONE_READ;
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      const bytes = new WebSocketBytes(ws, socket);
      const connection = service.accept(bytes);
      bytes.watchReceiver(connection, service.incoming, service.config.maxUnauthenticatedBytes);
    });
  }

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }
}
