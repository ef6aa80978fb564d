// What answers HTTP under one path prefix of a listener (HttpSite's mounts): static files, the
// dashboard, one of the self-contained services (json, redirect, reverseproxy, nodeinfo), or an
// HTTP bridge service (publisher, caller, webhook: src/http-bridge/).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { DashboardPathConfig, HttpBridgePathConfig, ListenerConfig, StaticPathConfig, WebServicePathConfig } from '../config/types.js';
import type { SessionFactory } from '../core-boundary.js';
import { HttpBridgeService } from '../http-bridge/service.js';
import { StaticFiles } from './static-files.js';
import { DashboardFiles } from './dashboard.js';
import { JsonValue } from './json-value.js';
import { Redirect } from './redirect.js';
import { NodeInfo } from './node-info.js';
import { ReverseProxy } from './reverse-proxy.js';
import { WebSocketReverseProxy } from './websocket-reverse-proxy.js';
import { NotFound } from './not-found.js';

export interface WebMount {
  /** Answers the request (`relativePath`: the URL path below the prefix, still %-encoded); false, having written nothing, if it has nothing there. */
  serve(relativePath: string, urlPath: string, req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Whether it takes every method (a reverse proxy), not only GET and HEAD. */
  readonly anyMethod?: boolean;
  /** Takes an Upgrade request (WebSocket) below its prefix, if it forwards those (a reverse proxy). */
  upgrade?(relativePath: string, req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Leaves what it joined (an HTTP bridge service's session) when the listener stops. */
  close?(): Promise<void>;
}

/** An HTTP bridge service answers every method on its path and below (Crossbar's are leaves). */
class BridgeMount implements WebMount {
  readonly anyMethod = true;

  constructor(private readonly service: HttpBridgeService) {}

  serve(_relativePath: string, _urlPath: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    this.service.handle(req, res);
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    return this.service.close();
  }
}

export function mountFor(s: StaticPathConfig | DashboardPathConfig | WebServicePathConfig | HttpBridgePathConfig, listener: ListenerConfig, factory: SessionFactory, prefix: string): WebMount {
  switch (s.type) {
    case 'publisher':
    case 'caller':
    case 'webhook': return new BridgeMount(new HttpBridgeService(s, factory, `${s.type} ${prefix}`));
    case 'static': return new StaticFiles(s.directory, s);
    case 'dashboard': return new DashboardFiles(s, listener);
    case 'json': return new JsonValue(s);
    case 'redirect': return new Redirect(s.url);
    case 'nodeinfo': return new NodeInfo();
    case 'reverseproxy': return new ReverseProxy(s);
    case 'websocket-reverseproxy': return new WebSocketReverseProxy(s);
    case 'notfound': return new NotFound();
  }
}
