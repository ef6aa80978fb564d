// An MQTT packet as the bytes to write. mqtt-packet's generate() copies a PUBLISH's payload into one
// new Buffer per packet, so an event going to many MQTT subscribers was held once per subscriber in
// their send queues (slow ones hold up to max_send_queue each). A large payload is written as it is
// instead: the packet's header bytes, then the payload Buffer itself, one copy shared by every queue.
// The packets of the sensor path (a PUBLISH without properties, a PUBACK that says success) are
// written here directly: mqtt-packet's generic writer (a write per field, then a concat) cost
// about a tenth of the router's CPU per message (`npm run bench`, MQTT QoS 0 and 1).

import * as mqttPacket from 'mqtt-packet';
import type { IPublishPacket, Packet } from 'mqtt-packet';

/** Payloads from this size on are shared; below it one copy costs less than a second write. */
const SHARED_PAYLOAD_BYTES = 1024;
/** The largest Remaining Length MQTT can say (four length bytes). */
const MAX_REMAINING_LENGTH = 268_435_455;

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
  if (packet.cmd === 'puback' && packet.properties === undefined && (protocolVersion !== 5 || packet.reasonCode === 0) && isPacketId(packet.messageId)) {
    return [puback(packet.messageId)];
  }
  if (packet.cmd === 'publish' && packet.properties === undefined) {
    const plain = plainPublish(packet, protocolVersion);
    if (plain) return plain;
  }
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

const isPacketId = (id: unknown): id is number => typeof id === 'number' && id >= 0 && id <= 0xffff && Number.isInteger(id);

/** A PUBACK without properties: MQTT 5 leaves out a success reason code [MQTT-3.4.2-1], as mqtt-packet does. */
function puback(id: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out[0] = 0x40;
  out[1] = 2;
  out[2] = id >> 8;
  out[3] = id & 0xff;
  return out;
}

/**
 * A PUBLISH without properties, byte for byte as mqtt-packet writes it: fixed header, topic,
 * packet identifier (QoS 1/2), an empty property length (MQTT 5), payload. Undefined for what is
 * left to mqtt-packet (which also reports what cannot be written).
 */
function plainPublish(packet: IPublishPacket, protocolVersion: number): Buffer[] | undefined {
  const { topic, payload, qos } = packet;
  if (typeof topic !== 'string' || !Buffer.isBuffer(payload) || (qos !== 0 && qos !== 1 && qos !== 2)) return undefined;
  if (qos !== 0 && !isPacketId(packet.messageId)) return undefined;
  const topicBytes = Buffer.byteLength(topic);
  if (topicBytes > 0xffff) return undefined;
  const remaining = 2 + topicBytes + (qos === 0 ? 0 : 2) + (protocolVersion === 5 ? 1 : 0) + payload.length;
  if (remaining > MAX_REMAINING_LENGTH) return undefined;
  const lengthBytes = remaining < 0x80 ? 1 : remaining < 0x4000 ? 2 : remaining < 0x200000 ? 3 : 4;
  const shared = payload.length >= SHARED_PAYLOAD_BYTES;
  const headerSize = 1 + lengthBytes + remaining - payload.length;
  const out = Buffer.allocUnsafe(shared ? headerSize : headerSize + payload.length);
  out[0] = 0x30 | (packet.dup ? 0x08 : 0) | (qos << 1) | (packet.retain ? 0x01 : 0);
  let at = 1;
  for (let left = remaining; ; ) { // Remaining Length: 7 bits a byte, least significant first
    const digit = left & 0x7f;
    left >>>= 7;
    out[at++] = left > 0 ? digit | 0x80 : digit;
    if (left === 0) break;
  }
  out[at++] = topicBytes >> 8;
  out[at++] = topicBytes & 0xff;
  at += out.write(topic, at, 'utf8');
  if (qos !== 0) {
    out[at++] = packet.messageId! >> 8;
    out[at++] = packet.messageId! & 0xff;
  }
  if (protocolVersion === 5) out[at++] = 0;
  if (shared) return [out, payload];
  payload.copy(out, at);
  return [out];
}
