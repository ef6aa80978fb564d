// A web path of `type: mqtt`: WebSocket upgrades with the subprotocol `mqtt` (MQTT.js, MQTT
// Explorer, Node-RED; `mqttv3.1` from older clients) become connections of an MQTT service,
// the same service code as an `mqtt` transport's (service.ts), through a WebSocket byte stream
// (websocket-bytes.ts). Any other subprotocol, or none, is refused at the upgrade.

import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { rejectUpgrade } from '../http.js';
import type { MqttService } from './service.js';
import { WebSocketBytes } from './websocket-bytes.js';

/** Subprotocols of MQTT over WebSocket: `mqtt` (MQTT 3.1.1 and 5, section 6), `mqttv3.1` (MQTT 3.1's name). */
export const MQTT_SUBPROTOCOLS: readonly string[] = ['mqtt', 'mqttv3.1'];
/** An MQTT packet's fixed header: its type byte and up to four bytes of length. */
const FIXED_HEADER_MAX = 5;

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

  constructor(readonly service: MqttService, private readonly path: string) {}

  /** An HTTP upgrade request for this path: refused (400) or made an MQTT connection. */
  handleUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    const header = request.headers['sec-websocket-protocol'];
    const offered = (header ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
    if (pickProtocol(offered) === undefined) {
      const got = offered.length > 0 ? `offered: ${offered.join(', ')}` : 'none offered';
      return rejectUpgrade(socket, 400, `${this.path} serves MQTT over WebSocket: use the subprotocol mqtt (${got})`);
    }
    // ws holds a whole message before handing it on: one message may hold at most one largest
    // packet. Read for each upgrade, as `max_message_size` may change on a reload.
    this.wss.options.maxPayload = this.service.config.maxMessageSize + FIXED_HEADER_MAX;
    this.wss.handleUpgrade(request, socket, head, (ws) => this.service.accept(new WebSocketBytes(ws, socket)));
  }

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }
}
