// The messages on their way to one client of the MQTT listener, by the protocol's rules (the
// bridge's store-and-forward buffer toward a broker is another thing: mqtt/bridge/forward-buffer.ts).
// QoS 0 goes out or is lost; QoS 1 waits for PUBACK, QoS 2 for PUBREC then PUBCOMP, each under a
// packet ID, at most `maxInflight` at once; the rest wait in order. What the queue holds (in flight
// and waiting) is bounded in messages and in bytes: past either bound the oldest waiting message is
// dropped and counted (a message in flight stays: the client may still acknowledge it). While the
// client is away (a persistent session) QoS 1/2 messages wait here, and on its return the
// unacknowledged ones are sent again (DUP set, or PUBREL for a QoS 2 message already received),
// then the waiting ones. MQTT 5: the client's Receive Maximum bounds what is in flight too
// [MQTT-3.3.4-9], and a message with a Message Expiry Interval that passes while it waits is dropped
// [MQTT-3.3.2-5]; one sent later carries what is left of its interval [MQTT-3.3.2-6].

import type { IPublishPacket, Packet } from 'mqtt-packet';
import type { SavedMessage } from './session-file.js';

interface Inflight {
  packet: IPublishPacket;
  bytes: number;
  /** QoS 2: PUBREC came, PUBREL sent, waiting for PUBCOMP. */
  released: boolean;
  /** Not resent yet after a reconnect: the client's new Receive Maximum had no room for it. */
  held?: boolean;
}

export interface DeliverySink {
  /** The connected client's socket, or undefined while it is away. */
  write(packet: Packet): void;
  readonly connected: boolean;
}

export interface DeliveryLimits {
  /** Messages sent and not yet acknowledged, at most. */
  maxInflight: number;
  /** Messages waiting to be sent, at most. */
  maxWaiting: number;
  /** Bytes held (in flight and waiting), at most; one message is always accepted into an empty queue. */
  maxBytes: number;
}

interface Waiting {
  packet: IPublishPacket;
  bytes: number;
  /** Date.now() ms at which its Message Expiry Interval passes; 0 = never. */
  expiresAt: number;
}

/** The in-flight map of a queue that never sent a QoS 1/2 message, shared (never written to). */
const NONE_INFLIGHT: ReadonlyMap<number, Inflight> = new Map();

export class DeliveryQueue {
  /** Made on the first QoS 1/2 message sent (an idle client's queue has none: ~200 bytes saved). */
  private inflight = NONE_INFLIGHT as Map<number, Inflight>;
  private readonly waiting: Waiting[] = [];
  /** In flight at most: the config's maxInflight, or less when the connected client's Receive Maximum says so. */
  private maxInflight: number;
  /** Entries of `inflight` waiting to be resent (held), beyond the client's Receive Maximum. */
  private held = 0;
  private nextId = 1;
  /** QoS 1/2 messages dropped because the queue was full; QoS 0 messages lost while away. */
  dropped = 0;
  /** Messages whose Message Expiry Interval passed while they waited. */
  expired = 0;
  /** Bytes of the messages held, in flight and waiting (payload and topic). */
  bytes = 0;

  constructor(private readonly sink: DeliverySink, private readonly limits: DeliveryLimits) {
    this.maxInflight = limits.maxInflight;
  }

  /** The connected client's Receive Maximum (MQTT 5 CONNECT; 65,535 when it gave none). */
  receiveMaximum(value: number): void {
    this.maxInflight = Math.min(this.limits.maxInflight, value);
  }

  get queued(): number {
    return this.waiting.length + this.inflight.size;
  }

  /** `packet` becomes the queue's own: it is numbered (messageId) in place when it goes out. */
  push(packet: IPublishPacket): void {
    if (packet.qos === 0) {
      if (this.sink.connected) this.sink.write(packet);
      else this.dropped++;
      return;
    }
    const bytes = packetBytes(packet);
    const { maxWaiting, maxBytes } = this.limits;
    // Room is made by dropping the oldest waiting message; what is in flight cannot be dropped.
    while (this.waiting.length > 0 && (this.waiting.length >= maxWaiting || this.bytes + bytes > maxBytes)) {
      this.bytes -= this.waiting.shift()!.bytes;
      this.dropped++;
    }
    if (this.queued > 0 && this.bytes + bytes > maxBytes) {
      this.dropped++;
      return;
    }
    this.bytes += bytes;
    if (this.sink.connected && this.inflight.size < this.maxInflight && this.waiting.length === 0) {
      this.sendNew(packet, bytes);
      return;
    }
    if (maxWaiting === 0) {
      this.bytes -= bytes;
      this.dropped++;
      return;
    }
    const expiry = packet.properties?.messageExpiryInterval;
    this.waiting.push({ packet, bytes, expiresAt: expiry === undefined ? 0 : Date.now() + expiry * 1000 });
  }

  /** PUBACK (QoS 1) or PUBCOMP (QoS 2): delivered. */
  acknowledged(id: number): void {
    const entry = this.inflight.get(id);
    if (!entry) return;
    this.inflight.delete(id);
    this.bytes -= entry.bytes;
    if (entry.held) this.held--;
    this.pump();
  }

  /** PUBREC (QoS 2): the client has it; release it with PUBREL. */
  received(id: number): void {
    const entry = this.inflight.get(id);
    if (!entry) {
      // Not ours (any more): answer so the client can finish its side.
      this.sink.write({ cmd: 'pubrel', messageId: id, reasonCode: 0 });
      return;
    }
    entry.released = true;
    if (entry.held) {
      entry.held = false;
      this.held--;
    }
    this.sink.write({ cmd: 'pubrel', messageId: id, reasonCode: 0 });
  }

  /**
   * Takes out the messages `pick` chooses, in flight (`sent`) or waiting, for another client to
   * have (a shared subscription's member leaving): they are no longer this client's to acknowledge.
   */
  takeBack(pick: (packet: IPublishPacket, sent: boolean) => boolean): IPublishPacket[] {
    const taken: IPublishPacket[] = [];
    for (const [id, entry] of this.inflight) {
      if (entry.released || !pick(entry.packet, true)) continue;
      this.inflight.delete(id);
      if (entry.held) this.held--;
      this.bytes -= entry.bytes;
      taken.push(entry.packet);
    }
    for (let i = 0; i < this.waiting.length; i++) {
      const entry = this.waiting[i]!;
      if (!pick(entry.packet, false)) continue;
      this.waiting.splice(i--, 1);
      this.bytes -= entry.bytes;
      taken.push(entry.packet);
    }
    if (taken.length > 0) this.pump();
    return taken;
  }

  /** What the queue holds, for the session file: in flight (with packet ids) first, then waiting, in order. */
  saved(): SavedMessage[] {
    const out: SavedMessage[] = [];
    for (const [id, entry] of this.inflight) out.push(entry.released ? { packet: entry.packet, id, released: true } : { packet: entry.packet, id });
    for (const entry of this.waiting) out.push(entry.expiresAt === 0 ? { packet: entry.packet } : { packet: entry.packet, expiresAt: entry.expiresAt });
    return out;
  }

  /** Takes back what a session file held (the session waits for its client: resume() sends it). */
  restore(messages: SavedMessage[]): void {
    for (const { packet, id, released, expiresAt } of messages) {
      const bytes = packetBytes(packet);
      this.bytes += bytes;
      if (id !== undefined && !this.inflight.has(id)) {
        if (this.inflight === NONE_INFLIGHT) this.inflight = new Map();
        packet.messageId = id;
        this.inflight.set(id, { packet, bytes, released: released === true });
      } else {
        this.waiting.push({ packet, bytes, expiresAt: expiresAt ?? 0 });
      }
    }
  }

  /** The client is back (persistent session): resend what it has not acknowledged, then the rest. */
  resume(): void {
    // PUBRELs are never held back [MQTT-3.3.4-10], but count against Receive Maximum until PUBCOMP;
    // PUBLISHes beyond it wait for room, with their packet IDs [MQTT-3.3.4-9].
    let room = this.maxInflight;
    for (const [id, entry] of this.inflight) {
      if (entry.released) {
        this.sink.write({ cmd: 'pubrel', messageId: id, reasonCode: 0 });
        room--;
      }
    }
    this.held = 0;
    for (const entry of this.inflight.values()) {
      entry.held = !entry.released && room <= 0;
      if (entry.held) this.held++;
      else if (!entry.released) {
        this.sink.write({ ...entry.packet, dup: true });
        room--;
      }
    }
    this.pump();
  }

  /** The oldest held PUBLISH goes out again. */
  private resendHeld(): void {
    for (const entry of this.inflight.values()) {
      if (!entry.held) continue;
      entry.held = false;
      this.held--;
      if (this.sink.connected) this.sink.write({ ...entry.packet, dup: true });
      return;
    }
    this.held = 0; // none left (never expected): the count must not keep pump() looping
  }

  private pump(): void {
    // Held PUBLISHes first (room counts what was resent): they are older than anything waiting.
    while (this.held > 0 && this.sink.connected && this.inflight.size - this.held < this.maxInflight) this.resendHeld();
    while (this.sink.connected && this.inflight.size < this.maxInflight && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      if (next.expiresAt !== 0 && !this.stillValid(next)) continue;
      this.sendNew(next.packet, next.bytes);
    }
  }

  /** False (and forgotten) when its expiry interval passed; else the interval it goes out with is what is left. */
  private stillValid(entry: Waiting): boolean {
    const left = entry.expiresAt - Date.now();
    if (left <= 0) {
      this.bytes -= entry.bytes;
      this.expired++;
      return false;
    }
    // The packet and its properties are this client's own (made per subscriber).
    entry.packet.properties!.messageExpiryInterval = Math.ceil(left / 1000);
    return true;
  }

  private sendNew(packet: IPublishPacket, bytes: number): void {
    const id = this.freeId();
    // Numbered in place: a packet pushed here is this queue's own (made per subscriber), and a
    // copy per message (an object spread) was the largest cost of a QoS 1 delivery.
    packet.messageId = id;
    packet.dup = false;
    if (this.inflight === NONE_INFLIGHT) this.inflight = new Map();
    this.inflight.set(id, { packet, bytes, released: false });
    this.sink.write(packet);
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

/** What a queued message costs: its payload and topic (properties are small and bounded by the packet size). */
function packetBytes(packet: IPublishPacket): number {
  const payload = typeof packet.payload === 'string' ? Buffer.byteLength(packet.payload) : packet.payload.length;
  return payload + packet.topic.length + 64;
}
