// What the section parsers share while one config file is read: the Checker that collects every
// problem, the config file's directory (file paths in a config are relative to it), and the names
// one section uses that another defines. Those are collected here while the sections are read and
// checked by load.ts once everything is read, so the order of sections in the file does not matter.

import { isAbsolute, resolve } from 'node:path';
import type { AuthConfig, ListenerConfig } from './types.js';
import { Checker } from './check-values.js';
import { parseAuth } from './load-auth.js';

export class LoadContext {
  readonly c = new Checker();
  /** Roles named by auth blocks and components; each must exist in some realm. */
  readonly roleRefs: Array<{ role: string; path: string }> = [];
  /** Realms named by MQTT services, serial bridges and dashboards; each must exist. */
  readonly realmRefs: Array<{ realm: string; path: string }> = [];
  /** Dashboard paths naming a WebSocket path of their listener, checked once the listener is read. */
  readonly dashboardRefs: Array<{ listener: ListenerConfig; websocket: string; path: string }> = [];
  /** MQTT over WebSocket paths naming the transport whose MQTT service they share, checked once all transports are read. */
  readonly mqttServiceRefs: Array<{ transport: string; path: string }> = [];
  /** MQTT session files (resolved) and the key path that named each: two services cannot share one. */
  readonly mqttSessionFiles = new Map<string, string>();
  /** WAMP and MQTT services without an `auth` block: their clients join as role 'anonymous'. */
  readonly openServices: string[] = [];

  constructor(private readonly baseDir: string) {}

  /** A path from the config, resolved against the config file's directory. */
  file(p: string): string {
    return isAbsolute(p) ? p : resolve(this.baseDir, p);
  }

  /** An `auth` block (load-auth.ts); the roles it names join roleRefs. */
  auth(value: unknown, path: string): AuthConfig {
    return parseAuth(this.c, value, path, this);
  }
}
