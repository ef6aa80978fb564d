// MQTT 5 topic aliases, both ways, for one network connection (aliases never outlive it
// [MQTT-3.3.2-7]): a number standing for a topic name, so a client publishing on one topic again
// and again sends the name once.
// - From the client (InboundAliases): a PUBLISH with a topic and an alias sets the alias, one with
//   the alias alone (empty topic) means that topic. Aliases run 1..TOPIC_ALIAS_MAXIMUM, the maximum
//   the router announces in CONNACK; checks.ts refuses 0 and larger ones (0x94).
// - To the client (OutboundAliases), when its CONNECT allowed them (Topic Alias Maximum > 0): the
//   first topics up to its maximum get an alias the first time they go out, and later messages on
//   them carry the alias alone. Using them is optional, so topics past the maximum go out in full
//   and no alias is ever reassigned [MQTT-3.3.2-11].

import type { IPublishPacket } from 'mqtt-packet';

/** The highest topic alias a client may use (CONNACK Topic Alias Maximum; mosquitto's default too). */
export const TOPIC_ALIAS_MAXIMUM = 10;

export class InboundAliases {
  /** Topic names by alias; index 0 is never used. */
  private readonly topics: Array<string | undefined> = [];

  /**
   * The PUBLISH's topic name, its alias set or looked up (the packet's topic is filled in);
   * undefined when it has the alias alone and that alias was never set on this connection.
   */
  resolve(packet: IPublishPacket, alias: number): string | undefined {
    if (packet.topic !== '') {
      this.topics[alias] = packet.topic;
      return packet.topic;
    }
    const topic = this.topics[alias];
    if (topic !== undefined) packet.topic = topic;
    return topic;
  }
}

/** Where packets are written (the connection): false when one was not. */
export interface PacketWriter {
  send(packet: IPublishPacket): boolean;
}

export class OutboundAliases {
  private readonly aliases = new Map<string, number>();

  constructor(private readonly maximum: number) {}

  /**
   * Sends the packet on this connection naming its topic by alias (with the name too the first
   * time), or in full when the topic gets none. The packet itself is not changed: a queued QoS 1/2
   * message may go out again on another connection, with other aliases. An alias counts as set
   * only once the packet carrying it was written (a QoS 0 message may be dropped by a full queue).
   */
  send(packet: IPublishPacket, out: PacketWriter): void {
    const known = this.aliases.get(packet.topic);
    if (known !== undefined) {
      out.send({ ...packet, topic: '', properties: { ...packet.properties, topicAlias: known } });
      return;
    }
    if (this.aliases.size >= this.maximum) {
      out.send(packet);
      return;
    }
    const alias = this.aliases.size + 1;
    if (out.send({ ...packet, properties: { ...packet.properties, topicAlias: alias } })) this.aliases.set(packet.topic, alias);
  }
}
