// The checks of a request that need no body: its content type and charset, the client's address
// (`require_ip`) and TLS (`require_tls`). Each returns the refusal, or undefined when it passes.

import { BlockList } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { IpNetwork } from '../config/types.js';
import { refusal, type BridgeAnswer } from './responses.js';

/**
 * A JSON service takes `application/json` (or no content type); every service takes only UTF-8
 * (`charset=utf-8`, or no charset). Parameters must be `name=value`, each name once.
 */
export function contentTypeProblem(header: string | undefined, json: boolean): BridgeAnswer | undefined {
  const parts = header === undefined ? [] : header.split(';').map((p) => p.trim().toLowerCase());
  if (json && parts.length > 0 && parts[0] !== 'application/json') {
    return refusal(400, `content type must be application/json, not '${parts[0]}'`);
  }
  const params = new Map<string, string>();
  for (const part of parts.slice(1)) {
    if (!part.includes('=')) continue;
    const pair = part.split('=');
    const name = pair[0]!.trim();
    if (pair.length !== 2 || params.has(name)) return refusal(400, 'malformed content type: the request body must be UTF-8');
    params.set(name, pair[1]!.trim());
  }
  const charset = params.get('charset') ?? 'utf-8';
  if (charset !== 'utf-8' && charset !== 'utf8') return refusal(400, `the request body must be UTF-8, not '${charset}'`);
  return undefined;
}

/** `require_ip` as a list of the networks allowed. */
export function allowedNetworks(networks: readonly IpNetwork[]): BlockList {
  const list = new BlockList();
  for (const n of networks) list.addSubnet(n.address, n.prefix, n.family);
  return list;
}

export function addressProblem(req: IncomingMessage, allowed: BlockList | undefined): BridgeAnswer | undefined {
  if (!allowed) return undefined;
  const address = req.socket.remoteAddress;
  // A Unix socket's client has no address: no network can include it.
  if (address && allowed.check(address, req.socket.remoteFamily === 'IPv6' ? 'ipv6' : 'ipv4')) return undefined;
  return refusal(400, 'request denied based on the client address (require_ip)');
}

export function tlsProblem(req: IncomingMessage, requireTls: boolean): BridgeAnswer | undefined {
  if (!requireTls || (req.socket as TLSSocket).encrypted === true) return undefined;
  return refusal(400, 'request denied because it does not use TLS (require_tls)');
}
