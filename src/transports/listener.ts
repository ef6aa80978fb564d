// One listening socket serving what its config asks for: RawSocket (first byte 0x7F), MQTT (first
// byte 0x10, CONNECT), WebSocket upgrades on configured paths (WAMP, or MQTT over WebSocket),
// static files, and a small answer for any other HTTP request.

import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { ListenerConfig, TlsConfig, WampServiceConfig } from '../config/types.js';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_TRANSPORT_OPTIONS } from '../config/types.js';
import { IncomingBudget } from './incoming-budget.js';
import { SendQueueTotal } from './send-queue-total.js';
import type { SessionFactory } from '../core-boundary.js';
import { RawSocketTransport, RAWSOCKET_MAGIC, ERR_MAX_CONNECTIONS, resetOrDestroy } from './rawsocket.js';
import { WebSocketService } from './websocket.js';
import type { MqttService } from './mqtt-listener/service.js';
import type { MqttWebSocketPath } from './mqtt-listener/websocket-path.js';
import { HttpSite, rejectUpgrade, urlPath } from './http.js';
import { LongPollService } from './longpoll.js';
import { removeStaleSocket } from './unix-socket.js';
import { listenInRange } from './port-range.js';
import { WebSocketEcho, echoStream } from './testee.js';
import { log } from '../log.js';
import { startOnionService, type OnionService } from './onion-service.js';

/** At most this many refused connections wait for their first bytes (to be answered); more are dropped at once. */
const MAX_REFUSING = 256;
/** How long a refused connection may take to send its first bytes. */
const REFUSE_WAIT_MS = 2000;
/** Bytes read and discarded from a refused connection before it is dropped without waiting. */
const REFUSED_DISCARD_BYTES = 64 * 1024;
/** At most one "connection limit reached" warning per this many ms. */
const REFUSE_LOG_INTERVAL_MS = 10_000;
/** The first byte of an MQTT CONNECT packet. */
const MQTT_CONNECT = 0x10;
const RAWSOCKET_FULL = Buffer.from([RAWSOCKET_MAGIC, ERR_MAX_CONNECTIONS << 4, 0, 0]);
const HTTP_FULL = 'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 5\r\n' +
  'Connection: close\r\nContent-Length: 40\r\n\r\nmaximum connection count reached; retry\n';

/** A socket's errors are followed by 'close', which ends whatever uses it: nothing to do here. */
function ignoreSocketError(): void {}

export class Listener {
  private readonly server: NetServer;
  private readonly http: HttpServer | undefined;
  private readonly site: HttpSite;
  private readonly websockets = new Map<string, WebSocketService>();
  /** WAMP over HTTP long-poll by URL path. */
  private readonly longpolls = new Map<string, LongPollService>();
  /** MQTT clients' sessions, when the listener serves MQTT (loaded at start: only then is the MQTT code in memory). */
  mqtt: MqttService | undefined;
  /** MQTT over WebSocket by URL path (made at start, as `mqtt`). */
  private readonly mqttPaths = new Map<string, MqttWebSocketPath>();
  /** The MQTT services of this listener's own `mqtt` paths (those sharing another transport's are that one's). */
  private readonly mqttPathServices: MqttService[] = [];
  private readonly sockets = new Set<Socket>();
  /** Connections refused for `max_connections`, until they are answered and closed. */
  private readonly refusing = new Set<Socket>();
  /** Refusals not logged yet: logged in one line per REFUSE_LOG_INTERVAL_MS at most. */
  private refusedSinceLog = 0;
  private lastRefusalLog = -Infinity;
  private refusalLogTimer: NodeJS.Timeout | undefined;
  /** Resolves once the server stopped accepting and its last connection closed. */
  private serverClosed: Promise<void> | undefined;
  /**
   * Connections that have not yet shown what they are (RawSocket handshake byte, HTTP request or
   * upgrade): dropped when that takes longer than the opening-handshake timeout. Node's own HTTP
   * header timeouts do not run here, because the HTTP server never listens itself.
   */
  private readonly undecided = new Map<Socket, NodeJS.Timeout>();
  /** Until an HTTP request's headers are in: the longest of the WebSocket services' timeouts (the path is not known yet). */
  private readonly httpHandshakeTimeout: number;
  /** Until the first byte on a shared port: the shortest timeout of all; both protocols' clients speak first, at once. */
  private readonly firstByteTimeout: number;
  /** A `websocket.testee` transport's echo (testee.ts). */
  private readonly echo: WebSocketEcho | undefined;
  /** An `onion` endpoint's publication by the Tor daemon. */
  private onion: OnionService | undefined;

  /** `incoming`: unfinished incoming messages of all listeners together (max_incoming_bytes);
   *  `sendQueues`: bytes waiting to be written, all listeners' connections together (max_send_queue_total). */
  constructor(
    readonly config: ListenerConfig,
    private readonly factory: SessionFactory,
    private readonly incoming = IncomingBudget.for([config]),
    private readonly sendQueues = new SendQueueTotal(),
    /** The MQTT service of the transport with this id, once it started (for `mqtt` paths sharing it). */
    private readonly mqttServiceOf: (transportId: string) => MqttService | undefined = () => undefined,
  ) {
    for (const [path, service] of Object.entries(config.websocket)) this.websockets.set(path, new WebSocketService(service, factory, incoming, sendQueues));
    for (const [path, lp] of Object.entries(config.longpoll ?? {})) this.longpolls.set(path, new LongPollService(path, lp, factory, incoming));
    this.site = new HttpSite(config, factory, this.longpolls);
    if (config.testee?.kind === 'websocket') this.echo = new WebSocketEcho(config.testee.options);
    const timeouts = (services: WampServiceConfig[]) => services.map((s) => s.options.openHandshakeTimeout);
    const mqttPaths = Object.values(config.mqttWebsocket ?? {});
    const mqttTimeouts = mqttPaths.flatMap((p) => (p.service ? [p.service.openHandshakeTimeout] : []));
    const websocketTimeouts = [...timeouts(Object.values(config.websocket)), ...mqttTimeouts];
    this.httpHandshakeTimeout = websocketTimeouts.length > 0 ? Math.max(...websocketTimeouts) : DEFAULT_TRANSPORT_OPTIONS.openHandshakeTimeout;
    this.firstByteTimeout = Math.min(this.httpHandshakeTimeout, ...timeouts(config.rawsocket ? [config.rawsocket] : []),
      ...(config.mqtt ? [config.mqtt.openHandshakeTimeout || DEFAULT_TRANSPORT_OPTIONS.openHandshakeTimeout] : []));
    // HTTP unless the port is RawSocket and/or MQTT only (then any other first byte ends the connection).
    if (this.websockets.size > 0 || this.longpolls.size > 0 || mqttPaths.length > 0 || Object.keys(config.static).length > 0 || (!config.rawsocket && !config.mqtt)) {
      this.http = createHttpServer((req, res) => {
        this.handshakeSeen(req.socket);
        // Keep-alive: the next request's headers on this connection get the same time limit (Node's
        // own headersTimeout does not run either), or a client could drip them forever.
        res.once('finish', () => {
          if (!req.socket.destroyed) this.awaitHandshake(req.socket, this.httpHandshakeTimeout);
        });
        if (this.echo) this.echo.answerPlain(req, res);
        else this.site.handle(req, res);
      });
      this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
        this.handshakeSeen(socket);
        this.onUpgrade(req, socket, head);
      });
      this.http.on('clientError', (_err, socket: Socket) => socket.destroy());
    }
    const tls = config.endpoint.tls;
    const onSocket = (socket: Socket) => this.onConnection(socket);
    this.server = tls
      ? createTlsServer({
          key: tls.key,
          cert: tls.certificate,
          // With a CA, ask for client certificates but let clients without one in: authentication
          // decides. A check of a presented certificate must look at socket.authorized.
          ca: tls.ca,
          requestCert: tls.ca !== undefined,
          rejectUnauthorized: false,
          ciphers: tls.ciphers,
          dhparam: tls.dhparam,
          handshakeTimeout: Math.max(this.httpHandshakeTimeout, config.rawsocket?.options.openHandshakeTimeout ?? 0),
          noDelay: true,
        }, onSocket)
      : createNetServer({ noDelay: true }, onSocket);
    if (tls) this.server.on('tlsClientError', (err: Error) => log.debug(`listener ${config.id}: TLS: ${err.message}`));
  }

  private onConnection(socket: Socket): void {
    const max = this.config.endpoint.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (this.sockets.size >= max) return this.refuse(socket, max);
    this.sockets.add(socket);
    socket.on('close', this.socketClosed);
    socket.on('error', ignoreSocketError);
    if (this.config.testee?.kind === 'stream') return echoStream(socket);
    const rawsocket = this.config.rawsocket;
    const mqtt = this.mqtt;
    // One protocol on the port: no need to look at the first byte.
    if (rawsocket && !this.http && !mqtt) {
      new RawSocketTransport(socket, rawsocket, this.factory, this.incoming, this.sendQueues); // it times its own handshake
      return;
    }
    if (mqtt && !this.http && !rawsocket) {
      mqtt.accept(socket); // it times its own CONNECT
      return;
    }
    if (!rawsocket && !mqtt) {
      this.awaitHandshake(socket, this.httpHandshakeTimeout);
      this.http!.emit('connection', socket);
      return;
    }
    // Several on one port: the first byte tells RawSocket (0x7F) and MQTT (0x10, CONNECT) from
    // HTTP (a method name's letter) and from each other.
    this.awaitHandshake(socket, this.firstByteTimeout);
    socket.once('data', (chunk: Buffer) => {
      this.handshakeSeen(socket);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === RAWSOCKET_MAGIC && rawsocket) {
        new RawSocketTransport(socket, rawsocket, this.factory, this.incoming, this.sendQueues);
      } else if (chunk[0] === MQTT_CONNECT && mqtt) {
        mqtt.accept(socket);
      } else if (this.http) {
        this.awaitHandshake(socket, this.httpHandshakeTimeout);
        this.http.emit('connection', socket);
      } else {
        socket.destroy();
      }
      // Deliver the byte(s) put back once the new owner has its listeners in place.
      process.nextTick(() => socket.resume());
    });
  }

  /**
   * Over `max_connections`: answered by what it speaks once its first bytes are in (RawSocket:
   * handshake error 4, "maximum connection count reached"; HTTP and WebSocket upgrades: 503),
   * then closed. Nothing of it is parsed, and no session is opened.
   */
  private refuse(socket: Socket, max: number): void {
    this.refusedSinceLog++;
    if (this.refusalLogTimer === undefined) {
      const wait = Math.max(0, this.lastRefusalLog + REFUSE_LOG_INTERVAL_MS - Date.now());
      this.refusalLogTimer = setTimeout(() => {
        this.refusalLogTimer = undefined;
        this.lastRefusalLog = Date.now();
        log.warn(`listener ${this.config.id}: ${this.refusedSinceLog} connection(s) refused: max_connections (${max}) reached`);
        this.refusedSinceLog = 0;
      }, wait);
      this.refusalLogTimer.unref();
    }
    socket.on('error', ignoreSocketError);
    if (this.refusing.size >= MAX_REFUSING) {
      socket.destroy();
      return;
    }
    this.refusing.add(socket);
    const timer = setTimeout(() => socket.destroy(), REFUSE_WAIT_MS);
    socket.on('close', () => {
      clearTimeout(timer);
      this.refusing.delete(socket);
    });
    socket.once('data', (chunk: Buffer) => {
      if (chunk[0] === RAWSOCKET_MAGIC && this.config.rawsocket) socket.end(RAWSOCKET_FULL);
      else if (this.http) socket.end(HTTP_FULL);
      else socket.destroy();
      // What else arrives is read and discarded, so that closing does not reset the answer away;
      // but only a little: reading a flood only to discard it would still cost memory.
      let discarded = 0;
      socket.on('data', (more: Buffer) => {
        discarded += more.length;
        if (discarded > REFUSED_DISCARD_BYTES) socket.destroy();
      });
    });
  }

  private awaitHandshake(socket: Socket, timeout: number): void {
    this.handshakeSeen(socket); // at most one timer per connection
    this.undecided.set(socket, setTimeout(() => {
      log.info(`listener ${this.config.id}: ${socket.remoteAddress ?? 'unix'}:${socket.remotePort ?? ''}: no opening handshake within ${timeout} ms; dropped`);
      socket.destroy();
    }, timeout));
  }

  /** The connection showed what it is: no handshake timeout for it any more. */
  /** One 'close' listener for all of this listener's sockets (`this` is the socket), not a closure each. */
  private readonly socketClosed = ((listener: Listener) =>
    function (this: Socket): void {
      listener.sockets.delete(this);
      listener.handshakeSeen(this);
    })(this);

  private handshakeSeen(socket: Socket): void {
    const timer = this.undecided.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.undecided.delete(socket);
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    if (this.echo) return this.echo.handleUpgrade(req, socket, head);
    let path = urlPath(req.url);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1); // '/ws/' is '/ws'
    const mqtt = this.mqttPaths.get(path);
    if (mqtt) return mqtt.handleUpgrade(req, socket, head);
    const service = this.websockets.get(path) ?? (this.config.websocketAnyPath ? this.websockets.values().next().value : undefined);
    if (!service && this.site.upgrade(req, socket, head)) return; // a reverse proxy path forwards it
    if (!service) return rejectUpgrade(socket, 404, `no WebSocket service at ${path}`);
    service.handleUpgrade(req, socket, head);
  }

  /** Opens the endpoint. Rejects with an error naming the listener and its address (EADDRINUSE, EACCES, …). */
  async start(): Promise<void> {
    const endpoint = this.config.endpoint;
    if (this.config.mqtt) {
      // Before the first connection can arrive.
      const { MqttService } = await import('./mqtt-listener/service.js');
      this.mqtt = new MqttService(this.config.mqtt, this.factory, this.config.id, this.incoming, this.sendQueues);
    }
    const mqttPaths = Object.entries(this.config.mqttWebsocket ?? {});
    if (mqttPaths.length > 0) {
      const [{ MqttService }, { MqttWebSocketPath }] = await Promise.all([import('./mqtt-listener/service.js'), import('./mqtt-listener/websocket-path.js')]);
      for (const [path, config] of mqttPaths) {
        let service: () => MqttService | undefined;
        if (config.service) {
          const own = new MqttService(config.service, this.factory, `${this.config.id}${path}`, this.incoming, this.sendQueues);
          this.mqttPathServices.push(own);
          service = () => own;
        } else {
          // Looked up at each upgrade: the transport shared may start after this one.
          const transport = config.transport ?? '';
          service = () => this.mqttServiceOf(transport);
        }
        this.mqttPaths.set(path, new MqttWebSocketPath(service, path, config.allowedOrigins));
      }
    }
    try {
      if (endpoint.type === 'unix') await removeStaleSocket(endpoint.path);
      if (endpoint.type === 'tcp' && endpoint.portRange) await listenInRange(this.server, endpoint.portRange, { host: this.host(), backlog: endpoint.backlog, ipv6Only: endpoint.version === 6 });
      else await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        const done = () => {
          this.server.off('error', reject);
          resolve();
        };
        if (endpoint.type === 'unix') this.server.listen({ path: endpoint.path, backlog: endpoint.backlog }, done);
        else this.server.listen({ port: endpoint.port, host: this.host(), backlog: endpoint.backlog, ipv6Only: endpoint.version === 6 }, done);
      });
      // From now on: accept errors (EMFILE and the like) are logged, not fatal.
      this.server.on('error', (err) => log.error(`listener ${this.config.id}: ${err.message}`));
    } catch (err) {
      throw new Error(`listener '${this.config.id}' cannot listen on ${this.where()}: ${(err as Error).message}`);
    }
    await this.mqtt?.start();
    for (const service of this.mqttPathServices) await service.start();
    if (endpoint.type === 'tcp' && endpoint.onion) this.onion = startOnionService(endpoint.onion, this.address(), this.config.id);
  }

  /**
   * New TLS material from a reloaded config (a renewed certificate, say), for the connections
   * accepted from now on. Whether client certificates are asked for (a `ca` or none) is set when
   * the server is made: a change there needs a restart.
   */
  replaceTls(tls: TlsConfig): void {
    (this.server as TlsServer).setSecureContext({ key: tls.key, cert: tls.certificate, ca: tls.ca, ciphers: tls.ciphers, dhparam: tls.dhparam });
  }

  /**
   * Frees the port at once (a restarted process can listen while this one still closes its
   * sessions, and clients retrying early are refused instead of joining a router that is going
   * away); open connections stay.
   */
  stopAccepting(): void {
    this.serverClosed ??= new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Stops accepting and drops every connection (the router closes the sessions before). */
  async stop(): Promise<void> {
    this.onion?.stop();
    this.stopAccepting();
    const siteClosed = this.site.close(); // HTTP bridge services leave their realms
    for (const ws of this.websockets.values()) ws.close();
    for (const lp of this.longpolls.values()) lp.close();
    this.echo?.close();
    this.mqtt?.stop();
    for (const path of this.mqttPaths.values()) path.close();
    for (const service of this.mqttPathServices) service.stop();
    // Whatever is still open after the router closed its sessions goes with a reset, not a FIN: a
    // RawSocket client keeping its half open after a FIN (Autobahn|JS's Node client does) would
    // never notice, nor reconnect (a RawSocket's reset waiting for its queue to drain ends here).
    for (const socket of this.sockets) resetOrDestroy(socket);
    for (const socket of this.refusing) socket.destroy();
    if (this.refusalLogTimer !== undefined) {
      clearTimeout(this.refusalLogTimer);
      log.warn(`listener ${this.config.id}: ${this.refusedSinceLog} connection(s) refused: max_connections reached`);
    }
    await Promise.all([this.serverClosed, siteClosed]);
  }

  /** The bound address: the actual port when port 0 was configured; the path for Unix sockets. */
  address(): AddressInfo | string | null {
    return this.server.address();
  }

  private host(): string {
    const e = this.config.endpoint;
    if (e.type !== 'tcp') return '';
    return e.interface ?? (e.version === 6 ? '::' : '0.0.0.0');
  }

  private where(): string {
    const e = this.config.endpoint;
    if (e.type === 'unix') return `unix:${e.path}`;
    return `${formatHost(this.host())}:${e.portRange ? `${e.portRange.first}-${e.portRange.last}` : e.port}`;
  }

  /** For the log line: every URL this listener serves, e.g. 'ws://127.0.0.1:8080/ws'. */
  get url(): string {
    const e = this.config.endpoint;
    const secure = e.tls !== undefined;
    const address = this.address();
    const hostPort = e.type === 'unix'
      ? `unix:${e.path}`
      : `${formatHost(this.host())}:${typeof address === 'object' && address ? address.port : e.port}`;
    const parts: string[] = [];
    for (const path of this.websockets.keys()) parts.push(`${secure ? 'wss' : 'ws'}://${hostPort}${path}`);
    if (this.config.rawsocket) parts.push(`rawsocket ${secure ? 'tls' : 'tcp'}://${hostPort}`);
    if (this.config.testee) parts.push(this.config.testee.kind === 'websocket' ? `echo ${secure ? 'wss' : 'ws'}://${hostPort}/` : `echo ${secure ? 'tls' : 'tcp'}://${hostPort}`);
    if (this.config.mqtt) parts.push(`${secure ? 'mqtts' : 'mqtt'}://${hostPort} (realm ${this.config.mqtt.realm})`);
    for (const [path, mqtt] of Object.entries(this.config.mqttWebsocket ?? {})) {
      parts.push(`MQTT ${secure ? 'wss' : 'ws'}://${hostPort}${path} (${mqtt.service ? `realm ${mqtt.service.realm}` : `transport '${mqtt.transport}'`})`);
    }
    for (const path of this.longpolls.keys()) parts.push(`long-poll ${secure ? 'https' : 'http'}://${hostPort}${path}`);
    const prefixes = this.site.prefixes;
    if (prefixes.length > 0) parts.push(`${secure ? 'https' : 'http'}://${hostPort}${prefixes.join(',')}`);
    return `${this.config.id} (${this.config.kind}): ${parts.join(' · ')}`;
  }
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
