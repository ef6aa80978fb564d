// MQTT packets out of a connection's bytes. The connection cuts its bytes into whole packets
// itself (an MQTT packet announces its length in its first bytes: a type byte, then the remaining
// length as a variable byte integer) and keeps only the bytes of an unfinished one; mqtt-packet's
// parser reads whole packets only, so one parser serves every connection. A parser of one's own
// held ~2 KB per idle connection (its buffer list is a Duplex stream with its states and listeners,
// and it kept the client's CONNECT as its settings): more than all the rest of an idle MQTT
// connection's Junction objects together.

import { createRequire } from 'node:module';
import * as mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';

/** mqtt-packet's own table of the flag bits each packet type must carry, and its messages for them. */
const { requiredHeaderFlags, requiredHeaderFlagsErrors } = createRequire(import.meta.url)('mqtt-packet/constants') as {
  requiredHeaderFlags: Record<number, number>;
  requiredHeaderFlagsErrors: Record<number, string>;
};

/** What the parser reads a connection's packets with: 3, 4 or 5 (properties from 5 on), and bridge mode. */
export interface ParseSettings {
  readonly protocolVersion: 3 | 4 | 5;
  readonly bridgeMode: boolean;
}

/** Where the parser hands what it found. */
export interface PacketSink {
  packetParsed(packet: Packet): void;
  parseFailed(err: Error): void;
}

/** The start of an MQTT packet: its whole size once known. */
export type PacketStart =
  /** Fewer than the header's bytes are in. */
  | { kind: 'short' }
  /** The remaining length is not a valid variable byte integer (a fifth length byte). */
  | { kind: 'malformed' }
  /** `remaining`: the packet's announced length after the fixed header; `total`: with it. */
  | { kind: 'known'; remaining: number; total: number };

const SHORT: PacketStart = { kind: 'short' };
const MALFORMED: PacketStart = { kind: 'malformed' };

/** Reads the fixed header of the packet starting at `at` in `bytes`. */
export function packetStart(bytes: Buffer, at: number): PacketStart {
  let remaining = 0;
  let multiplier = 1;
  for (let i = at + 1; i < at + 5; i++) {
    if (i >= bytes.length) return SHORT;
    const byte = bytes[i];
    remaining += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { kind: 'known', remaining, total: i + 1 - at + remaining };
    multiplier *= 128;
  }
  return MALFORMED;
}

/**
 * What is wrong with a packet's first byte, as mqtt-packet's parser says it, or undefined. The
 * parser checks the first byte as soon as it has it; a packet not yet whole is checked here, so
 * that a client sending bad flags is closed at once [MQTT-2.2.2-2], not once its packet is whole.
 */
export function headerError(firstByte: number): string | undefined {
  const type = firstByte >> 4;
  const required = requiredHeaderFlags[type];
  if (required !== undefined && (firstByte & 0x0f) !== required) return requiredHeaderFlagsErrors[type];
  if (((firstByte >> 1) & 0x03) === 3) return 'Packet must not have both QoS bits set to 1';
  return undefined;
}

/** mqtt-packet's parser with the internals used here: the settings it reads packets with, its error and its buffer. */
type MqttPacketParser = mqttPacket.Parser & { settings: ParseSettings | Packet; error: Error | null; _list: { length: number } };

/**
 * mqtt-packet's parser for whole packets of any connection. Between two parses it holds nothing:
 * every packet it is given is whole, so it ends each parse with an empty buffer, ready for the next
 * connection. A parser that failed is not used again: mqtt-packet's reset after an error keeps the
 * read position inside the failed packet, and the next connection's packets would be read from
 * there (seen as clients left unanswered under the MQTT fuzz).
 */
class SharedParser {
  private readonly parser = mqttPacket.parser() as MqttPacketParser;
  /** The connection it parses for, during a parse. */
  private sink: PacketSink | undefined;

  constructor() {
    this.parser.on('packet', (packet: Packet) => this.sink!.packetParsed(packet));
    this.parser.on('error', (err: Error) => this.sink!.parseFailed(err));
  }

  get busy(): boolean {
    return this.sink !== undefined;
  }

  /** Parses `packets` (whole packets only) for `sink`; false when the parser must not be used again. */
  parse(packets: Buffer, settings: ParseSettings, sink: PacketSink): boolean {
    this.sink = sink;
    // mqtt-packet reads `settings` for the version; a CONNECT it parses replaces them for the rest
    // of this parse, as it should: the packets after it are read with the client's version.
    const parser = this.parser;
    parser.settings = settings;
    let clean = false;
    try {
      parser.parse(packets);
      clean = parser.error === null && parser._list.length === 0;
    } finally {
      this.sink = undefined;
    }
    return clean;
  }
}

let shared: SharedParser | undefined;

/**
 * Parses whole `packets` for a connection. A packet handler that made another connection parse at
 * once (further up this stack: only in-memory streams can) gets a parser of its own for that parse.
 */
export function parsePackets(packets: Buffer, settings: ParseSettings, sink: PacketSink): void {
  shared ??= new SharedParser();
  const parser = shared.busy ? new SharedParser() : shared;
  let clean = false;
  try {
    clean = parser.parse(packets, settings, sink);
  } finally {
    // After a parse error, or a throw out of a handler (the parser stopped inside a packet), the
    // next parse needs a new parser.
    if (!clean && parser === shared) shared = undefined;
  }
}

const SETTINGS: Record<string, ParseSettings> = {};

/** The one settings object for a version and mode (a connection holds a reference, not a copy). */
export function parseSettings(protocolVersion: 3 | 4 | 5, bridgeMode: boolean): ParseSettings {
  const key = `${protocolVersion}${bridgeMode ? 'b' : ''}`;
  return (SETTINGS[key] ??= Object.freeze({ protocolVersion, bridgeMode }));
}

/**
 * `payload` as something to keep for long. A payload the parser cut out of a read shares that
 * read's memory: a 64-byte message retained, or waiting for a QoS 1 subscriber, would hold its
 * whole chunk (up to 64 KiB under load) while the limits count 64 bytes. Copied when the chunk is
 * well over the payload's size.
 */
export function payloadToKeep(payload: Buffer): Buffer {
  // A slice of Node's Buffer pool (8 KiB slabs shared by small Buffers) would only move to another.
  return payload.buffer.byteLength > Math.max(2 * payload.byteLength + 1024, Buffer.poolSize) ? Buffer.from(payload) : payload;
}
