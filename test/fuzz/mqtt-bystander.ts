// The MQTT bystander: an MQTT.js client and a WAMP session (a raw WebSocket, wamp.2.json) that keep
// exchanging messages while fuzzed MQTT connections attack the router. Every `intervalMs` the MQTT
// client publishes {"seq": n} at QoS 1 on `bystander/up`, which the WAMP session must receive as an
// event on `bystander.up`; the WAMP session publishes [n] on `bystander.down`, which the MQTT client
// must receive on `bystander/down`. Fuzzers may publish there too: only the bystander's own
// sequence numbers count.

import mqtt, { type MqttClient } from 'mqtt';
import { WsConn } from '../helpers/wamp-wire.js';

export class MqttBystander {
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private request = 100;
  private readonly upExpected = new Set<number>();
  private readonly downExpected = new Set<number>();
  sent = 0;
  up = 0;
  down = 0;
  readonly errors: string[] = [];
  private stopping = false;

  private constructor(private readonly client: MqttClient, private readonly wamp: WsConn) {}

  static async start(mqttPort: number, wsUrl: string, credentials: { username: string; password: string }, intervalMs = 20): Promise<MqttBystander> {
    const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 5, clientId: 'bystander-mqtt', reconnectPeriod: 0, connectTimeout: 5000, ...credentials });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const wamp = await WsConn.open(wsUrl, 'json');
    wamp.sendMessage([1, 'realm1', { roles: { publisher: {}, subscriber: {} } }]);
    if (!(await wamp.next((m) => m[0] === 2))) throw new Error(`MQTT bystander's WAMP session not welcomed: ${JSON.stringify(wamp.messages)}`);
    const b = new MqttBystander(client, wamp);
    wamp.sendMessage([32, 1, {}, 'bystander.up']);
    if (!(await wamp.next((m) => m[0] === 33 && m[1] === 1))) throw new Error('MQTT bystander could not subscribe to bystander.up');
    wamp.onMessage = (m) => b.onWamp(m as unknown[]);
    await client.subscribeAsync('bystander/down', { qos: 1 });
    client.on('message', (topic, payload) => b.onMqtt(topic, payload));
    client.on('close', () => {
      if (!b.stopping && !b.errors.includes('MQTT client closed')) b.errors.push('MQTT client closed');
    });
    b.timer = setInterval(() => b.tick(), intervalMs);
    return b;
  }

  private tick(): void {
    const n = ++this.seq;
    this.sent++;
    this.upExpected.add(n);
    this.downExpected.add(n);
    this.client.publish('bystander/up', JSON.stringify({ seq: n }), { qos: 1 }, (err) => {
      if (err) this.errors.push(`MQTT publish ${n}: ${err.message}`);
    });
    this.wamp.sendMessage([16, ++this.request, { acknowledge: true }, 'bystander.down', [n]]);
  }

  private onWamp(m: unknown[]): void {
    if (m[0] === 36) {
      const seq = ((m[4] as unknown[] | undefined)?.[0] as { seq?: unknown } | undefined)?.seq;
      if (typeof seq === 'number' && this.upExpected.delete(seq)) this.up++;
    } else if (m[0] === 8 || m[0] === 3 || m[0] === 6) {
      this.errors.push(`WAMP: unexpected ${JSON.stringify(m).slice(0, 300)}`);
    }
  }

  private onMqtt(topic: string, payload: Buffer): void {
    if (topic !== 'bystander/down') return;
    let n: unknown;
    try {
      n = JSON.parse(payload.toString());
    } catch {
      return; // a fuzzer's
    }
    if (typeof n === 'number' && this.downExpected.delete(n)) this.down++;
  }

  /** Stops; waits until every message arrived both ways. */
  async stop(ms = 10_000): Promise<void> {
    clearInterval(this.timer);
    const ok = await this.wamp.wait(() => this.upExpected.size === 0 && this.downExpected.size === 0, ms);
    if (!ok) this.errors.push(`${this.upExpected.size} MQTT→WAMP and ${this.downExpected.size} WAMP→MQTT messages missing after ${ms} ms`);
    this.stopping = true;
    this.wamp.close();
    this.client.end(true);
  }
}
