// A WebSocket as the byte stream of an MQTT connection (MQTT over WebSocket, MQTT 5.0 and 3.1.1
// section 6): what the client sends in binary messages is read as one stream of bytes, so a packet
// may span messages and a message may hold several packets [MQTT-6.0.0-2]; what the connection
// writes leaves as binary messages, one per batch of writes (WriteBatcher corks a turn's packets).
// A text message ends the connection [MQTT-6.0.0-1]. MqttConnection reads and writes it exactly as
// it does a TCP socket: same parser, limits, keep-alive and send queue. What ws itself holds of a
// message still arriving counts in the budget of all connections (max_incoming_bytes) and, until
// CONNACK, is held to max_unauthenticated_bytes, as the connection's own parser is.

import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { WebSocket, type RawData } from 'ws';
import type { IncomingBudget, IncomingHolder } from '../incoming-budget.js';
import { announcedByReceiver, heldByReceiver } from '../websocket.js';
import type { MqttConnection } from './connection.js';

const BINARY = { binary: true };
/** WebSocket close codes (RFC 6455 7.4.1). */
const NORMAL_CLOSURE = 1000;
const UNSUPPORTED_DATA = 1003;
/** How long a closing handshake we started may take before the socket is dropped. */
const CLOSING_GRACE_MS = 1000;

export class WebSocketBytes extends Duplex implements IncomingHolder {
  /** The client's address, as a TCP socket shows it (for the connection's peer name). */
  readonly remoteAddress: string | undefined;
  readonly remoteFamily: string | undefined;
  readonly remotePort: number | undefined;
  /** IncomingHolder: what ws holds of unfinished messages, as last reported to the budget. */
  heldBytes = 0;
  private connection: MqttConnection | undefined;

  constructor(private readonly ws: WebSocket, private readonly socket: Socket) {
    // Either side's end is the end of the connection, as with a TCP socket MQTT closes.
    super({ allowHalfOpen: false });
    this.remoteAddress = socket.remoteAddress;
    this.remoteFamily = socket.remoteFamily;
    this.remotePort = socket.remotePort;
    ws.on('message', (data: RawData, isBinary: boolean) => this.received(data as Buffer, isBinary));
    ws.once('close', () => {
      this.push(null);
      this.destroy();
    });
    ws.on('error', (err) => this.destroy(err));
  }

  /**
   * Watches what ws holds of the messages still arriving on the TCP socket, for `connection` (made
   * on this stream): reported to `incoming`, and a message announced longer than
   * `maxUnauthenticatedBytes` before CONNACK ends the connection at once.
   */
  watchReceiver(connection: MqttConnection, incoming: IncomingBudget, maxUnauthenticatedBytes: number): void {
    this.connection = connection;
    this.socket.on('data', () => {
      if (!connection.open) return;
      const announced = announcedByReceiver(this.ws);
      if (connection.unauthenticated && announced > maxUnauthenticatedBytes) {
        return connection.fail(`a WebSocket message of ${announced} bytes before CONNACK (max_unauthenticated_bytes ${maxUnauthenticatedBytes})`);
      }
      incoming.hold(this, heldByReceiver(this.ws));
    });
    this.once('close', () => incoming.hold(this, 0));
  }

  get unauthenticated(): boolean {
    return this.connection?.unauthenticated ?? true;
  }

  get description(): string {
    return this.connection?.description ?? 'mqtt over websocket';
  }

  dropForBudget(): void {
    this.connection?.dropForBudget();
  }

  private received(data: Buffer, isBinary: boolean): void {
    if (!isBinary) {
      // [MQTT-6.0.0-1]: a client sending anything but binary data is disconnected.
      this.ws.close(UNSUPPORTED_DATA, 'MQTT over WebSocket needs binary frames');
      this.destroy();
      return;
    }
    // The connection reads slower than the client sends: stop reading the WebSocket until it catches up.
    if (!this.push(data)) this.ws.pause();
  }

  override _read(): void {
    this.ws.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.send(chunk, done);
  }

  /** A turn's packets (corked by the connection's WriteBatcher) leave as one binary message. */
  override _writev(chunks: Array<{ chunk: Buffer }>, done: (err?: Error | null) => void): void {
    this.send(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), done);
  }

  /**
   * Done once the bytes reached the kernel: until then they count in `writableLength`, the backlog
   * the connection's send queue limit watches, as a TCP socket's unsent bytes do.
   */
  private send(bytes: Buffer, done: (err?: Error | null) => void): void {
    if (this.ws.readyState !== WebSocket.OPEN) return done(new Error('WebSocket closed'));
    this.ws.send(bytes, BINARY, (err) => done(err ?? null));
  }

  /** The connection's orderly close: a WebSocket close handshake. */
  override _final(done: (err?: Error | null) => void): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(NORMAL_CLOSURE);
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    const ws = this.ws;
    if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) ws.terminate();
    // A close frame we sent gets a moment to reach the client, then the socket goes.
    else if (ws.readyState === WebSocket.CLOSING) setTimeout(() => ws.terminate(), CLOSING_GRACE_MS).unref();
    done(err);
  }

  /** A TCP socket's: the listener's sockets already send without delay. */
  setNoDelay(): this {
    return this;
  }
}
