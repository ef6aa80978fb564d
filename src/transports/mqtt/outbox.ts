// Messages on their way to one MQTT client, by the protocol's rules: QoS 0 goes out or is lost;
// QoS 1 waits for PUBACK, QoS 2 for PUBREC then PUBCOMP, each under a packet ID, at most
// `maxInflight` at once; the rest wait in order, bounded (the oldest is dropped and counted past
// the bound). While the client is away (a persistent session) QoS 1/2 messages wait here, and on
// its return the unacknowledged ones are sent again (DUP set, or PUBREL for a QoS 2 message
// already received), then the waiting ones.

import type { IPublishPacket, Packet } from 'mqtt-packet';

interface Inflight {
  packet: IPublishPacket;
  /** QoS 2: PUBREC came, PUBREL sent, waiting for PUBCOMP. */
  released: boolean;
}

export interface OutboxSink {
  /** The connected client's socket, or undefined while it is away. */
  write(packet: Packet): void;
  readonly connected: boolean;
}

export class Outbox {
  private readonly inflight = new Map<number, Inflight>();
  private readonly waiting: IPublishPacket[] = [];
  private nextId = 1;
  /** QoS 1/2 messages dropped because the queue was full; QoS 0 messages lost while away. */
  dropped = 0;

  constructor(private readonly sink: OutboxSink, private readonly maxInflight: number, private readonly maxWaiting: number) {}

  get queued(): number {
    return this.waiting.length + this.inflight.size;
  }

  push(packet: IPublishPacket): void {
    if (packet.qos === 0) {
      if (this.sink.connected) this.sink.write(packet);
      else this.dropped++;
      return;
    }
    if (this.sink.connected && this.inflight.size < this.maxInflight && this.waiting.length === 0) {
      this.sendNew(packet);
      return;
    }
    if (this.waiting.length >= this.maxWaiting) {
      this.waiting.shift();
      this.dropped++;
      if (this.maxWaiting === 0) return;
    }
    this.waiting.push(packet);
  }

  /** PUBACK (QoS 1) or PUBCOMP (QoS 2): delivered. */
  acknowledged(id: number): void {
    if (this.inflight.delete(id)) this.pump();
  }

  /** PUBREC (QoS 2): the client has it; release it with PUBREL. */
  received(id: number): void {
    const entry = this.inflight.get(id);
    if (!entry) {
      // Not ours (any more): answer so the client can finish its side.
      this.sink.write({ cmd: 'pubrel', messageId: id });
      return;
    }
    entry.released = true;
    this.sink.write({ cmd: 'pubrel', messageId: id });
  }

  /** The client is back (persistent session): resend what it has not acknowledged, then the rest. */
  resume(): void {
    for (const [id, entry] of this.inflight) {
      if (entry.released) this.sink.write({ cmd: 'pubrel', messageId: id });
      else this.sink.write({ ...entry.packet, dup: true });
    }
    this.pump();
  }

  private pump(): void {
    while (this.sink.connected && this.inflight.size < this.maxInflight && this.waiting.length > 0) {
      this.sendNew(this.waiting.shift()!);
    }
  }

  private sendNew(packet: IPublishPacket): void {
    const id = this.freeId();
    const out: IPublishPacket = { ...packet, messageId: id, dup: false };
    this.inflight.set(id, { packet: out, released: false });
    this.sink.write(out);
  }

  private freeId(): number {
    // At most maxInflight (≤ 65535) IDs are in use, so a free one is always found.
    for (;;) {
      const id = this.nextId;
      this.nextId = id === 65535 ? 1 : id + 1;
      if (!this.inflight.has(id)) return id;
    }
  }
}
