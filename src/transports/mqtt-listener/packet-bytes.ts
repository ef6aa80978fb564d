// An MQTT packet as the bytes to write. mqtt-packet's generate() copies a PUBLISH's payload into one
// new Buffer per packet, so an event going to many MQTT subscribers was held once per subscriber in
// their send queues (slow ones hold up to max_send_queue each). A large payload is written as it is
// instead: the packet's header bytes, then the payload Buffer itself, one copy shared by every queue.

import * as mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';

/** Payloads from this size on are shared; below it one copy costs less than a second write. */
const SHARED_PAYLOAD_BYTES = 1024;

/** What mqtt-packet's writer writes, kept as pieces (it reports an invalid packet by destroying the stream). */
class Pieces {
  readonly chunks: Array<Buffer | string> = [];

  write(chunk: Buffer | string): boolean {
    this.chunks.push(chunk);
    return true;
  }

  destroy(err?: Error): void {
    if (err) throw err;
  }
}

/** The packet's bytes: one Buffer, or the header and the PUBLISH's own payload. Throws when it cannot be encoded. */
export function packetBytes(packet: Packet, protocolVersion: number): Buffer[] {
  const payload = packet.cmd === 'publish' ? packet.payload : undefined;
  if (!Buffer.isBuffer(payload) || payload.length < SHARED_PAYLOAD_BYTES) return [mqttPacket.generate(packet, { protocolVersion })];
  const pieces = new Pieces();
  mqttPacket.writeToStream(packet, pieces as unknown as Parameters<typeof mqttPacket.writeToStream>[1], { protocolVersion });
  const { chunks } = pieces;
  // The payload is the writer's last piece; anything else (an older writer) goes as one copy.
  if (chunks[chunks.length - 1] !== payload) return [Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)))];
  chunks.pop();
  return [Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))), payload];
}
