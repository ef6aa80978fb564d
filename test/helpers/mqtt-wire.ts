// A raw MQTT connection for tests that must send what no well-behaved client sends (malformed and
// fuzzed packets): any bytes out, and what the router answers parsed with mqtt-packet.

import { connect, type Socket } from 'node:net';
import * as mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';

export class MqttWire {
  readonly packets: Packet[] = [];
  closed = false;
  /** The router sent bytes that mqtt-packet could not parse (never expected). */
  parseErrors: string[] = [];
  private readonly parser: ReturnType<typeof mqttPacket.parser>;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket, readonly version: 3 | 4 | 5) {
    this.parser = mqttPacket.parser({ protocolVersion: version });
    this.parser.on('packet', (p: Packet) => {
      this.packets.push(p);
      this.notify();
    });
    this.parser.on('error', (err: Error) => this.parseErrors.push(err.message));
    socket.on('data', (chunk: Buffer) => this.parser.parse(chunk));
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    socket.on('error', () => {});
  }

  static open(port: number, version: 3 | 4 | 5): Promise<MqttWire> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new MqttWire(socket, version)));
      socket.once('error', reject);
    });
  }

  /** Opens and connects; resolves once CONNACK came (check its code in `packets[0]`). */
  static async connected(port: number, version: 3 | 4 | 5, connect: Partial<mqttPacket.IConnectPacket> = {}): Promise<MqttWire> {
    const wire = await MqttWire.open(port, version);
    wire.send({ cmd: 'connect', protocolId: version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: version, clean: true, keepalive: 0, clientId: '', ...connect } as Packet);
    await wire.next((p) => p.cmd === 'connack');
    return wire;
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(packet: Packet): void {
    this.write(mqttPacket.generate(packet, { protocolVersion: this.version }));
  }

  write(bytes: Buffer): void {
    if (!this.closed) this.socket.write(bytes);
  }

  async wait(pred: () => boolean, ms = 5000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 100));
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
    return true;
  }

  /** The first packet from index `from` on that matches, or undefined after `ms` (or on close). */
  async next(pred: (p: Packet) => boolean, from = 0, ms = 5000): Promise<Packet | undefined> {
    let found: Packet | undefined;
    await this.wait(() => {
      found = this.packets.slice(from).find(pred);
      return found !== undefined || this.closed;
    }, ms);
    return found ?? this.packets.slice(from).find(pred);
  }

  close(): void {
    this.socket.destroy();
  }
}
