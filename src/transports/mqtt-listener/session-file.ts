// A listener's `session_file`: its persistent MQTT sessions, so that a restart or a package upgrade
// keeps them (as mosquitto's `persistence true`). Read once at start; rewritten whole (a temporary
// file renamed over it, so a power cut leaves the old or the new one) only after a change, and then
// at most once a second, less often the bigger it is (an SD card must not be rewritten for every
// QoS 1 message), and not at all when what it would hold is what it holds (a connected client
// acknowledging its messages changes the sessions and changes them back). At shutdown it is written
// at once, before the sessions end. With no persistent session there is no file. JSON, payloads in base64: readable with jq when something looks wrong.

import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import type { IPublishPacket } from 'mqtt-packet';
import { log } from '../../log.js';

/** Shortest time between two writes. */
const MIN_WRITE_INTERVAL_MS = 1000;
/** Bytes a second the file may be rewritten with on average (1 MiB of sessions: every 16 s). */
const WRITE_BYTES_PER_SECOND = 64 * 1024;
/** Marks a session file (and its format version). */
const FILE_TAG = 'junction.mqtt.sessions';
const FILE_VERSION = 1;

/** Who owns a session: only a client proving the same identity picks it up (MqttWampSession.owner). */
export interface SavedIdentity {
  authid: string;
  authrole: string;
  authmethod: string;
}

/** One filter with the options it was subscribed with. */
export interface SavedFilter {
  filter: string;
  qos: 0 | 1 | 2;
  noLocal: boolean;
  retainAsPublished: boolean;
  identifier?: number;
}

/** A QoS 1/2 message to the client: sent and not acknowledged (with its packet id), or waiting. */
export interface SavedMessage {
  packet: IPublishPacket;
  /** In flight under this packet id. */
  id?: number;
  /** QoS 2: PUBREC came (PUBREL is owed). */
  released?: boolean;
  /** Date.now() ms its Message Expiry Interval passes; 0 or absent: never. */
  expiresAt?: number;
}

export interface SavedSession {
  clientId: string;
  identity: SavedIdentity;
  version: 3 | 4 | 5;
  /** Where the client was last. */
  peer: string;
  /**
   * The session's expiry interval, and the Date.now() ms at which it ends unless its client is back;
   * no deadline: its client was connected when the file was written (not at shutdown: the process
   * was killed), and the whole interval counts from the restart.
   */
  expiryMs: number;
  deadline?: number;
  filters: SavedFilter[];
  messages: SavedMessage[];
  /** QoS 2 packet ids received from the client and not yet released. */
  qos2Received: number[];
}

export class SessionFile {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private nextDelay = MIN_WRITE_INTERVAL_MS;
  private lastWriteError: string | undefined;
  /** What the file holds: a digest of its text, undefined for no file, null when not known (at start). */
  private written: string | undefined | null = null;
  /** Written for the last time (shutdown): what the sessions do from now on is not kept. */
  private closed = false;

  /** `sessions(shutdown)`: the sessions to keep; `shutdown`: connected clients are about to go. */
  constructor(private readonly path: string, private readonly sessions: (shutdown: boolean) => SavedSession[]) {}

  /** The sessions the file holds; one that cannot be read is reported once and left out (an empty start). */
  load(): SavedSession[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`mqtt session file ${this.path}: cannot read: ${(err as Error).message}; starting without saved sessions`);
      return [];
    }
    try {
      return decode(text);
    } catch (err) {
      log.warn(`mqtt session file ${this.path}: not a session file (${(err as Error).message}); starting without saved sessions`);
      return [];
    }
  }

  /** A session changed: write soon (changes until then are written together). */
  changed(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, this.nextDelay);
    this.timer.unref();
  }

  /** Writes the sessions now, synchronously, and no more after (the listener stops: its sessions end next). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const data = this.encoded(true);
    try {
      if (data === undefined) rmSync(this.path, { force: true });
      else {
        writeFileSync(`${this.path}.tmp`, data);
        renameSync(`${this.path}.tmp`, this.path);
      }
    } catch (err) {
      log.warn(`mqtt session file ${this.path}: cannot write: ${(err as Error).message}`);
    }
  }

  private encoded(shutdown: boolean): string | undefined {
    const sessions = this.sessions(shutdown);
    return sessions.length === 0 ? undefined : encode(sessions);
  }

  private async write(): Promise<void> {
    await this.writing;
    if (this.closed) return;
    const data = this.encoded(false);
    const digest = data === undefined ? undefined : createHash('sha256').update(data).digest('base64');
    if (digest === this.written && this.lastWriteError === undefined) return;
    this.nextDelay = Math.max(MIN_WRITE_INTERVAL_MS, Math.round(((data?.length ?? 0) / WRITE_BYTES_PER_SECOND) * 1000));
    this.writing = (data === undefined
      ? rm(this.path, { force: true })
      : writeFile(`${this.path}.tmp`, data).then(() => rename(`${this.path}.tmp`, this.path)))
      .then(() => {
        this.lastWriteError = undefined;
        this.written = digest;
      }, (err: Error) => {
        // Said once, not at every write while the directory stays missing or read-only.
        if (err.message !== this.lastWriteError) log.warn(`mqtt session file ${this.path}: cannot write: ${err.message}`);
        this.lastWriteError = err.message;
      });
    await this.writing;
  }
}

// ---- the file's text: Buffers (payloads, correlation data) as base64 ----

function encode(sessions: SavedSession[]): string {
  return JSON.stringify({
    format: FILE_TAG, version: FILE_VERSION,
    sessions: sessions.map((s) => ({ ...s, messages: s.messages.map((m) => ({ ...m, packet: packetToJson(m.packet) })) })),
  });
}

function packetToJson(packet: IPublishPacket): Record<string, unknown> {
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
  const out: Record<string, unknown> = { topic: packet.topic, qos: packet.qos, retain: packet.retain, payload: payload.toString('base64') };
  if (packet.properties) {
    const { correlationData, ...rest } = packet.properties;
    out['properties'] = correlationData ? { ...rest, correlationData: correlationData.toString('base64') } : rest;
  }
  return out;
}

function decode(text: string): SavedSession[] {
  const file = JSON.parse(text) as Record<string, unknown>;
  if (file === null || typeof file !== 'object' || file['format'] !== FILE_TAG || file['version'] !== FILE_VERSION || !Array.isArray(file['sessions'])) {
    throw new Error(`no ${FILE_TAG} version ${FILE_VERSION}`);
  }
  return (file['sessions'] as unknown[]).map((value, i) => {
    const s = value as SavedSession;
    const valid = typeof s === 'object' && s !== null && typeof s.clientId === 'string' && typeof s.peer === 'string'
      && typeof s.identity === 'object' && s.identity !== null && typeof s.identity.authid === 'string' && typeof s.identity.authrole === 'string' && typeof s.identity.authmethod === 'string'
      && (s.version === 3 || s.version === 4 || s.version === 5) && Number.isFinite(s.expiryMs) && (s.deadline === undefined || Number.isFinite(s.deadline))
      && Array.isArray(s.filters) && s.filters.every((f) => typeof f?.filter === 'string' && (f.qos === 0 || f.qos === 1 || f.qos === 2)
        && typeof f.noLocal === 'boolean' && typeof f.retainAsPublished === 'boolean' && (f.identifier === undefined || isIntegerIn(f.identifier, 1, 268_435_455)))
      && Array.isArray(s.messages) && s.messages.every((m) => typeof m?.packet?.topic === 'string' && typeof m.packet.payload === 'string' && (m.packet.qos === 1 || m.packet.qos === 2)
        && (m.id === undefined || isIntegerIn(m.id, 1, 65_535)) && (m.expiresAt === undefined || Number.isFinite(m.expiresAt)))
      && Array.isArray(s.qos2Received) && s.qos2Received.every((id) => isIntegerIn(id, 1, 65_535));
    if (!valid) throw new Error(`session ${i} is incomplete`);
    return { ...s, messages: s.messages.map((m, j) => ({ ...m, packet: packetFromJson(m.packet as unknown as Record<string, unknown>, `session ${i} message ${j}`) })) };
  });
}

/** The PUBLISH properties a queued message may carry, and how each is checked: a hand-edited file must not make a packet that cannot be written. */
const PROPERTY_CHECKS: Record<string, (v: unknown) => boolean> = {
  payloadFormatIndicator: (v) => typeof v === 'boolean',
  messageExpiryInterval: (v) => isIntegerIn(v, 0, 0xffffffff),
  contentType: (v) => typeof v === 'string',
  responseTopic: (v) => typeof v === 'string',
  correlationData: (v) => typeof v === 'string',
  subscriptionIdentifier: (v) => (Array.isArray(v) ? v : [v]).every((id) => isIntegerIn(id, 1, 268_435_455)),
  userProperties: (v) => typeof v === 'object' && v !== null && Object.values(v).every((p) => typeof p === 'string' || (Array.isArray(p) && p.every((s) => typeof s === 'string'))),
};

function isIntegerIn(v: unknown, min: number, max: number): boolean {
  return Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
}

function packetFromJson(json: Record<string, unknown>, where: string): IPublishPacket {
  const packet: IPublishPacket = { cmd: 'publish', topic: json['topic'] as string, qos: json['qos'] as 1 | 2, retain: json['retain'] === true, dup: false, payload: Buffer.from(json['payload'] as string, 'base64') };
  const properties = json['properties'];
  if (properties === undefined) return packet;
  if (typeof properties !== 'object' || properties === null) throw new Error(`${where}: properties is not an object`);
  for (const [key, value] of Object.entries(properties)) {
    if (!PROPERTY_CHECKS[key]?.(value)) throw new Error(`${where}: property ${key} is not one a PUBLISH can carry`);
  }
  const { correlationData, ...rest } = properties as Record<string, unknown>;
  packet.properties = typeof correlationData === 'string' ? { ...rest, correlationData: Buffer.from(correlationData, 'base64') } : rest;
  return packet;
}
