// What answers HTTP under one path prefix of a listener (HttpSite's mounts): static files, the
// dashboard, or one of the self-contained services (json, redirect, reverseproxy, nodeinfo).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { DashboardPathConfig, ListenerConfig, StaticPathConfig, WebServicePathConfig } from '../config/types.js';
import { StaticFiles } from './static-files.js';
import { DashboardFiles } from './dashboard.js';
import { JsonValue } from './json-value.js';
import { Redirect } from './redirect.js';
import { NodeInfo } from './node-info.js';
import { ReverseProxy } from './reverse-proxy.js';

export interface WebMount {
  /** Answers the request (`relativePath`: the URL path below the prefix, still %-encoded); false, having written nothing, if it has nothing there. */
  serve(relativePath: string, urlPath: string, req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Whether it takes every method (a reverse proxy), not only GET and HEAD. */
  readonly anyMethod?: boolean;
  /** Takes an Upgrade request (WebSocket) below its prefix, if it forwards those (a reverse proxy). */
  upgrade?(relativePath: string, req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export function mountFor(s: StaticPathConfig | DashboardPathConfig | WebServicePathConfig, listener: ListenerConfig): WebMount {
  switch (s.type) {
    case 'static': return new StaticFiles(s.directory, s);
    case 'dashboard': return new DashboardFiles(s, listener);
    case 'json': return new JsonValue(s);
    case 'redirect': return new Redirect(s.url);
    case 'nodeinfo': return new NodeInfo();
    case 'reverseproxy': return new ReverseProxy(s);
  }
}
