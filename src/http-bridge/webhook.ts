// `webhook`: any POST body (UTF-8 text, JSON or not) is published on the configured topic as one
// argument {"headers": {Name: [values]}, "body": text}; the answer is 202 with `success_response`
// ("OK"), or 500 with `error_response` ("NOT OK") when the publication fails.

import type { IncomingMessage } from 'node:http';
import type { ClientSession } from '../client/client-session.js';
import type { HttpBridgePathConfig } from '../config/types.js';
import type { BridgeAnswer } from './responses.js';
import { FAILURE_LOG } from './wamp-answers.js';

export async function webhookRequest(session: ClientSession, body: string, req: IncomingMessage, config: HttpBridgePathConfig, service: string): Promise<BridgeAnswer> {
  const message = { headers: headerLists(req.rawHeaders), body };
  try {
    await session.publish(config.topic!, [message], {}, { acknowledge: true });
    return { status: 202, body: config.successResponse ?? 'OK' };
  } catch (err) {
    FAILURE_LOG.write(() => `http bridge ${service}: cannot publish the webhook from ${req.socket.remoteAddress ?? 'unix'} to '${config.topic}': ${(err as Error).message}`);
    return { status: 500, body: config.errorResponse ?? 'NOT OK' };
  }
}

/** Names spelled as Twisted (Crossbar's web server) spells them, each with its values in order. */
function headerLists(raw: string[]): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) (headers[canonicalName(raw[i]!)] ??= []).push(raw[i + 1]!);
  return headers;
}

const SPECIAL_NAMES: Record<string, string> = {
  'content-md5': 'Content-MD5', dnt: 'DNT', etag: 'ETag', p3p: 'P3P', te: 'TE',
  'www-authenticate': 'WWW-Authenticate', 'x-xss-protection': 'X-XSS-Protection',
};

/** 'x-github-event' → 'X-Github-Event'. */
function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return SPECIAL_NAMES[lower] ?? lower.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('-');
}
