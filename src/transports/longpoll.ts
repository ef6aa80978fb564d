// WAMP over HTTP long-poll at one web path (Crossbar's `longpoll` path type), as Autobahn|JS's
// long-poll transport speaks it: every request is a POST below the path,
//   <path>/open               body {"protocols": [...]}: a new transport, answered {"transport": id, "protocol": p}
//   <path>/<id>/send          body: the client's message(s), answered 204
//   <path>/<id>/receive       held until the router has something for the client (200 with it) or request_timeout (204)
//   <path>/<id>/close         the transport and its session end, answered 204
// An unknown id is a 404, a body that cannot be read a 400, as in Crossbar. Every answer carries
// Crossbar's CORS headers (the request's Origin allowed, credentials included), and a browser's
// preflight OPTIONS is answered with them, so a page from another origin can use the service.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { SessionFactory } from '../core-boundary.js';
import type { LongPollPathConfig, SerializerName } from '../config/types.js';
import { framingOf, protocolsOf, type LongPollFraming } from './longpoll-framing.js';
import { LongPollTransport } from './longpoll-transport.js';
import { describePeer } from './peer.js';
import { IncomingBudget, type IncomingHolder } from './incoming-budget.js';
import { originPattern } from './websocket.js';
import { crossOriginHeaders } from './cross-origin.js';
import { log } from '../log.js';

/** Crossbar's long-poll offers every serializer it has, each plain and batched. */
const SERIALIZERS: readonly SerializerName[] = ['json', 'msgpack', 'cbor'];
/** Largest /open body: a list of protocol names. */
const MAX_OPEN_BODY = 4096;
/** A request body must be in within this long. */
const BODY_TIMEOUT_MS = 10_000;
/** How long a browser may reuse a preflight answer. */
const PREFLIGHT_MAX_AGE_S = 86_400;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export class LongPollService {
  private readonly transports = new Map<string, LongPollTransport>();
  /** undefined = any origin. */
  private readonly origins: RegExp[] | undefined;

  constructor(
    /** The URL path, e.g. '/lp', for logs. */
    private readonly path: string,
    private readonly config: LongPollPathConfig,
    private readonly factory: SessionFactory,
    /** Request bodies being read count toward the bytes all connections hold unfinished (max_incoming_bytes). */
    private readonly incoming: IncomingBudget = new IncomingBudget(),
  ) {
    this.origins = config.allowedOrigins.includes('*') ? undefined : config.allowedOrigins.map(originPattern);
  }

  /** A request for `below`: the part of its path under the service's ('' for the path itself, 'open', '<id>/send', …). */
  handle(req: IncomingMessage, res: ServerResponse, below: string): void {
    this.answer(req, res, below).catch((err: Error) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) log.warn(`longpoll ${this.path}: ${req.method} ${req.url}: ${err.message}`);
      else if (this.config.debug) log.info(`longpoll ${this.path}: ${req.method} ${req.url}: ${status} ${err.message}`);
      if (res.headersSent) return void res.destroy();
      plain(res, status, err.message);
      // What the client still sends of a refused body is not read.
      if (!req.complete) res.once('finish', () => req.socket.destroy());
    });
  }

  /** Router shutdown, or the listener stops: every transport ends (its session is lost). */
  close(): void {
    for (const t of [...this.transports.values()]) t.end();
  }

  private async answer(req: IncomingMessage, res: ServerResponse, below: string): Promise<void> {
    // Browsers always send Origin; other clients need not, and are not restricted by it.
    const origin = req.headers.origin;
    if (this.origins && origin !== undefined && !this.origins.some((r) => r.test(origin))) {
      throw new HttpError(403, `origin ${origin} is not allowed`);
    }
    corsHeaders(req, res);
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST, GET, OPTIONS');
      res.setHeader('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_S));
      res.writeHead(204);
      return void res.end();
    }
    if (below === '' && (req.method === 'GET' || req.method === 'HEAD')) {
      return plain(res, 200, 'This is a WAMP-over-Longpoll transport endpoint of Junction, a WAMP router.');
    }
    const parts = below.split('/');
    if (parts.length === 1 && parts[0] === 'open') {
      requirePost(req);
      return this.open(req, res);
    }
    const transport = parts.length === 2 ? this.transports.get(parts[0]!) : undefined;
    if (!transport) throw new HttpError(404, parts.length === 2 ? `no WAMP transport '${parts[0]}'` : `not found: ${below}`);
    const op = parts[1];
    if (op !== 'send' && op !== 'receive' && op !== 'close') throw new HttpError(404, `invalid WAMP transport operation '${op}'`);
    requirePost(req);
    if (op === 'receive') {
      transport.receive(res);
      // A receive carries no body; whatever comes is discarded.
      req.resume();
    } else if (op === 'send') {
      const body = await readBody(req, this.config.maxMessageSize, this.incoming, transport.unauthenticated);
      try {
        transport.deliver(body);
      } catch (err) {
        throw new HttpError(400, `could not unserialize WAMP message: ${(err as Error).message}`);
      }
      noContent(res);
    } else {
      req.resume();
      transport.clientClose();
      noContent(res);
    }
  }

  private async open(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, MAX_OPEN_BODY, this.incoming, true);
    let options: unknown;
    try {
      options = JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpError(400, 'could not parse WAMP session open request body');
    }
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new HttpError(400, 'invalid type for WAMP session open request');
    const protocols = (options as { protocols?: unknown }).protocols;
    if (!Array.isArray(protocols)) throw new HttpError(400, "missing attribute 'protocols' in WAMP session open request");
    let framing: LongPollFraming | undefined;
    for (const p of protocols) {
      framing = typeof p === 'string' ? framingOf(p, SERIALIZERS) : undefined;
      if (framing) break;
    }
    if (!framing) throw new HttpError(400, `no common protocol to speak (I speak: ${protocolsOf(SERIALIZERS).join(', ')})`);
    const fixed = this.config.debugTransportId;
    if (fixed !== undefined) this.transports.get(fixed)?.end();
    if (this.transports.size >= this.config.maxTransports) {
      res.setHeader('Retry-After', '5');
      throw new HttpError(503, `this long-poll service has ${this.config.maxTransports} transports open (max_transports); retry later`);
    }
    const id = fixed ?? newTransportId();
    const transport = new LongPollTransport(id, framing, this.config, this.factory, describePeer(req.socket), (t) => {
      if (this.transports.get(t.id) === t) this.transports.delete(t.id);
    });
    if (!transport.ended) this.transports.set(id, transport);
    const answer = JSON.stringify({ transport: id, protocol: framing.protocol });
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(answer) });
    res.end(answer);
  }
}

/** 12 characters, as long as Crossbar's transport ids; 72 random bits. */
function newTransportId(): string {
  return randomBytes(9).toString('base64url');
}

function requirePost(req: IncomingMessage): void {
  if (req.method !== 'POST') throw new HttpError(405, `${req.method} is not allowed here: use POST`);
}

/** Crossbar's headers on every answer of its long-poll service. */
function corsHeaders(req: IncomingMessage, res: ServerResponse): void {
  for (const [name, value] of Object.entries(crossOriginHeaders(req))) res.setHeader(name, value);
  res.setHeader('Cache-Control', 'no-store, no-cache, must-revalidate, max-age=0');
  // The answer depends on the Origin: caches must keep one per origin.
  res.setHeader('Vary', 'Origin');
}

/**
 * The whole body, at most `limit` bytes (413 past it; 408 when it takes longer than BODY_TIMEOUT_MS).
 * While it arrives its bytes count in `incoming`, which may drop the connection to stay in budget.
 */
function readBody(req: IncomingMessage, limit: number, incoming: IncomingBudget, unauthenticated: boolean): Promise<Buffer> {
  const announced = Number(req.headers['content-length'] ?? 0);
  if (announced > limit) return Promise.reject(new HttpError(413, `request body over ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const holder: IncomingHolder = {
      heldBytes: 0,
      unauthenticated,
      description: `longpoll ${describePeer(req.socket)}`,
      dropForBudget: () => {
        fail(new HttpError(503, 'the router holds too many unfinished requests'));
        req.socket.destroy();
      },
    };
    const timer = setTimeout(() => fail(new HttpError(408, `request body not complete within ${BODY_TIMEOUT_MS / 1000} s`)), BODY_TIMEOUT_MS);
    const done = () => {
      clearTimeout(timer);
      incoming.hold(holder, 0);
      req.removeAllListeners('data');
    };
    const fail = (err: Error) => {
      done();
      req.pause();
      reject(err);
    };
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) return fail(new HttpError(413, `request body over ${limit} bytes`));
      chunks.push(chunk);
      incoming.hold(holder, length);
    });
    req.once('end', () => {
      done();
      resolve(Buffer.concat(chunks, length));
    });
    req.once('close', () => done());
    req.once('error', (err) => fail(err));
  });
}

function noContent(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}

function plain(res: ServerResponse, status: number, text: string): void {
  const body = `${text}\n`;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
