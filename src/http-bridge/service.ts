// One HTTP bridge service (a web path of type publisher, caller or webhook): it joins its realm
// as an ordinary in-process session with its role (so the realm's authorization decides what it
// may publish or call), and turns each POST into a publication or a call. The checks and their
// statuses are Crossbar's: 405 for a method other than POST, PUT or OPTIONS; 413 for a body over
// `post_body_limit`; 400 for a malformed request or one `require_ip`/`require_tls` refuse; 401 for
// a wrong key or signature. Bounded: at most `max_concurrent_requests` requests at once (503 for
// more), each holding at most `post_body_limit` bytes of body.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlockList } from 'node:net';
import type { HttpBridgePathConfig } from '../config/types.js';
import type { SessionFactory } from '../core-boundary.js';
import { ComponentSession } from '../client/component-session.js';
import { WampError } from '../client/client-session.js';
import { log } from '../log.js';
import { readBody } from './request-body.js';
import { addressProblem, allowedNetworks, contentTypeProblem, tlsProblem } from './request-checks.js';
import { githubSignatureProblem, signatureProblem } from './signature.js';
import { refusal, send, type BridgeAnswer } from './responses.js';
import { failureAnswer, isDict } from './wamp-answers.js';
import { publishRequest } from './publisher.js';
import { callRequest } from './caller.js';
import { webhookRequest } from './webhook.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export class HttpBridgeService {
  private readonly session: ComponentSession;
  private readonly allowed: BlockList | undefined;
  /** Requests being worked on (body being read, or waiting for the router). */
  private active = 0;

  /** `name`: the service in logs and as its session's peer, e.g. 'publisher /publish'. */
  constructor(private readonly config: HttpBridgePathConfig, factory: SessionFactory, private readonly name: string) {
    this.session = new ComponentSession(factory, { realm: config.realm, role: config.role, name: `http-bridge:${name}` });
    this.allowed = config.requireIp ? allowedNetworks(config.requireIp) : undefined;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    void this.answer(req, res).then((answer) => {
      if (this.config.debug) log.info(`${this.name}: ${req.method} ${req.url} from ${req.socket.remoteAddress ?? 'unix'}: ${answer.status} ${answer.body.slice(0, 200)}`);
      send(req, res, answer);
    }, (err: Error) => {
      // The client went away while its body was coming in: nobody to answer.
      if (this.config.debug) log.info(`${this.name}: ${req.method} ${req.url}: ${err.message}`);
      res.destroy();
    });
  }

  /** Ends the service's session (the node is stopping). */
  close(): Promise<void> {
    return this.session.close();
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<BridgeAnswer> {
    if (req.method === 'OPTIONS') {
      return { status: 200, body: '', headers: { Allow: 'POST,PUT,OPTIONS', 'Access-Control-Allow-Methods': 'POST,PUT,OPTIONS' } };
    }
    if (req.method !== 'POST' && req.method !== 'PUT') {
      return refusal(405, `method ${req.method} not allowed, only POST and PUT`, { Allow: 'POST,PUT,OPTIONS' });
    }
    if (this.active >= this.config.maxConcurrentRequests) {
      req.resume();
      return refusal(503, `too many requests at once (max_concurrent_requests ${this.config.maxConcurrentRequests}); retry`, { 'Retry-After': '1' });
    }
    this.active++;
    const clientGone = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) clientGone.abort();
    };
    res.once('close', onClose);
    try {
      return await this.work(req, clientGone.signal);
    } finally {
      this.active--;
      res.off('close', onClose);
    }
  }

  private async work(req: IncomingMessage, clientGone: AbortSignal): Promise<BridgeAnswer> {
    const { config } = this;
    const json = config.type !== 'webhook';
    const early = contentTypeProblem(req.headers['content-type'], json) ?? tooLarge(req, config.postBodyLimit) ??
      addressProblem(req, this.allowed) ?? tlsProblem(req, config.requireTls);
    if (early) {
      req.resume();
      return early;
    }
    const body = await readBody(req, config.postBodyLimit);
    if (body === 'too-large') return refusal(413, `request body longer than accepted (post_body_limit ${config.postBodyLimit})`);
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    const signed = githubSignatureProblem(req.headers, body, config.githubSecret) ?? signatureProblem(query, body, config);
    if (signed) return signed;
    let text: string;
    try {
      text = UTF8.decode(body);
    } catch {
      return refusal(400, 'request body is not valid UTF-8');
    }
    let session;
    try {
      session = await this.session.get();
    } catch (err) {
      const why = err instanceof WampError ? err.message : (err as Error).message;
      return failureAnswer(new Error(`cannot join realm '${config.realm}' as role '${config.role}': ${why}`), this.name);
    }
    if (config.type === 'webhook') return webhookRequest(session, text, req, config, this.name);
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      return refusal(400, 'request body is not valid JSON');
    }
    if (!isDict(event)) return refusal(400, 'request body must be a JSON object');
    return config.type === 'publisher' ? publishRequest(session, event, this.name) : callRequest(session, event, this.name, clientGone);
  }
}

/** A body announced (Content-Length) longer than the limit is refused before it is read. */
function tooLarge(req: IncomingMessage, limit: number): BridgeAnswer | undefined {
  const length = Number(req.headers['content-length']);
  if (!(length > limit)) return undefined;
  return refusal(413, `request body of ${length} bytes is longer than accepted (post_body_limit ${limit})`);
}
