// MQTT packets out of a connection's bytes, with mqtt-packet's parser: one parser for all the
// connections whose packets arrive whole. A parser holds ~1.5 KB (its buffer list is a Duplex
// stream, with its states and listeners, and it kept the client's CONNECT): one per connection was
// the largest part of what an idle MQTT connection cost. The packets of a chunk are parsed and
// handed on within that chunk's read, so the parser is free again after it, unless the chunk ended
// inside a packet: that connection then keeps the parser, with the packet's first bytes, as its
// own until the packet is whole, and the others get another one.

import * as mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';

/** A connection as the parser reads for it. */
export interface PacketReader {
  /** How its packets are read: 3, 4 or 5 (properties from 5 on). */
  readonly protocolVersion: number;
  /** A bridge's CONNECT (protocol version with 0x80) asked for bridge mode: its SUBSCRIBE options read as such. */
  readonly bridgeMode: boolean;
  packetParsed(packet: Packet): void;
  parseFailed(err: Error): void;
}

/** mqtt-packet's parser with the internals read here (the `settings` it reads packets with, its buffer and state). */
type MqttPacketParser = mqttPacket.Parser & {
  settings: { protocolVersion?: number; bridgeMode?: boolean };
  packet: { length: number };
  error: Error | null;
  _list: { length: number };
  _stateCounter: number;
};

export class PacketParser {
  private readonly parser = mqttPacket.parser() as MqttPacketParser;
  /** The connection it is reading for, during a parse. */
  private reader: PacketReader | undefined;

  constructor() {
    this.parser.on('packet', (packet: Packet) => this.reader!.packetParsed(packet));
    this.parser.on('error', (err: Error) => this.reader!.parseFailed(err));
  }

  /** Parses `chunk` for `reader`; returns the bytes of an unfinished packet it then holds. */
  parse(reader: PacketReader, chunk: Buffer): number {
    this.reader = reader;
    // mqtt-packet reads `settings` for the version (and replaces it with a CONNECT it parses).
    this.parser.settings = reader;
    try {
      return this.parser.parse(chunk);
    } finally {
      this.reader = undefined;
    }
  }

  /** The length the unfinished packet announced (-1 until it is known). */
  get announced(): number {
    return this.parser.packet.length;
  }

  /** Holds part of a packet (after a parse error it holds nothing: the next parse starts afresh). */
  get unfinished(): boolean {
    const parser = this.parser;
    return parser.error === null && (parser._list.length > 0 || parser._stateCounter !== 0);
  }

  get busy(): boolean {
    return this.reader !== undefined;
  }
}

/** The parser of the connections without one of their own. */
let shared: PacketParser | undefined;

/**
 * A parser for a connection without one of its own: the shared one, or a new one while the shared
 * one is busy further up the stack (a packet handler that made another connection read at once,
 * as in-memory streams can).
 */
export function freeParser(): PacketParser {
  shared ??= new PacketParser();
  return shared.busy ? new PacketParser() : shared;
}

/** After a parse with `parser`: the parser the connection keeps as its own (undefined: none). */
export function kept(parser: PacketParser): PacketParser | undefined {
  if (parser.unfinished) {
    if (parser === shared) shared = undefined;
    return parser;
  }
  shared ??= parser; // a connection's own parser, free again, serves the others
  return undefined;
}
