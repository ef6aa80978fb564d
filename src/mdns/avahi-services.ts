// DNS-SD announcements of what this Junction actually listens on, as avahi-daemon service files:
// `_http._tcp` (web and dashboard paths), `_wamp._tcp` (WebSocket path, RawSocket, realm in TXT),
// `_mqtt._tcp` / `_secure-mqtt._tcp`. Written once the listeners are up (the bound ports, so port 0
// and port ranges are announced as they came out), rewritten after each reload, removed on stop
// (a stopped Junction announces nothing). avahi-daemon watches its services directory and
// re-announces on its own; the SD image points that directory at JUNCTION_AVAHI_SERVICES
// (images/rootfs: a bind mount in avahi-daemon's unit), which the service user may write.
// The router core knows nothing of this: it reads the listeners' config and bound addresses.

import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JunctionConfig, ListenerConfig } from '../config/types.js';
import { log } from '../log.js';

/** What the announcements need of a running listener. */
export interface AnnouncedListener {
  config: ListenerConfig;
  /** The bound TCP port; undefined for Unix sockets and listeners not up. */
  port: number | undefined;
}

interface DnssdService {
  type: string;
  port: number;
  txt: string[];
}

/** Every file this module writes starts so: the directory may hold other services too. */
const PREFIX = 'junction-';

/** A listener only reachable from this machine is not announced on the network. */
function loopbackOnly(listener: ListenerConfig): boolean {
  const e = listener.endpoint;
  if (e.type !== 'tcp') return true;
  if (e.onion) return true;
  const at = e.interface;
  return at !== undefined && (at === 'localhost' || at === '::1' || at.startsWith('127.'));
}

/** The DNS-SD services one listener offers (RFC 6763 TXT keys, short and lower case). */
export function servicesOf(listener: AnnouncedListener, config: JunctionConfig): DnssdService[] {
  const { config: l, port } = listener;
  if (port === undefined || loopbackOnly(l) || l.testee) return [];
  const tls = l.endpoint.type === 'tcp' && l.endpoint.tls !== undefined;
  const services: DnssdService[] = [];
  const paths = Object.entries(l.static);
  if (paths.length > 0) {
    const dashboard = paths.find(([, p]) => p.type === 'dashboard')?.[0];
    // The browser goes to the dashboard when there is one (RFC 6763's `path` key for _http._tcp).
    services.push({ type: tls ? '_https._tcp' : '_http._tcp', port, txt: [`path=${dashboard ?? paths[0]![0]}`] });
  }
  // The status page's own WebSocket path is for the page: clients are pointed at the others.
  const pagePaths = new Set(paths.map(([, p]) => (p.type === 'dashboard' ? p.websocket : undefined)));
  const allPaths = Object.keys(l.websocket);
  const wsPaths = allPaths.filter((p) => !pagePaths.has(p) && !pagePaths.has(p.replace(/^\//, '')));
  if (allPaths.length > 0 || l.rawsocket) {
    const realms = config.router.realms.map((r) => r.name);
    const txt: string[] = [];
    // The path clients connect to (the file may spell it without the slash).
    if (wsPaths.length > 0) txt.push(`path=/${wsPaths[0]!.replace(/^\//, '')}`);
    if (l.rawsocket) txt.push('rawsocket=yes');
    if (realms.length > 0) txt.push(`realm=${realms[0]}`);
    if (realms.length > 1) txt.push(`realms=${realms.join(',')}`);
    if (tls) txt.push('tls=yes');
    services.push({ type: '_wamp._tcp', port, txt });
  }
  if (l.mqtt) services.push({ type: tls ? '_secure-mqtt._tcp' : '_mqtt._tcp', port, txt: [`realm=${l.mqtt.realm}`] });
  return services;
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An avahi service group (avahi.service(5)); %h is the board's host name, so a renamed board needs no rewrite. */
function serviceFile(name: string, services: DnssdService[]): string {
  const lines = ['<?xml version="1.0" standalone="no"?>', '<!DOCTYPE service-group SYSTEM "avahi-service.dtd">',
    '<!-- Written by Junction for its listeners; rewritten on reload, removed on stop. -->',
    '<service-group>', `  <name replace-wildcards="yes">${xml(name)}</name>`];
  for (const s of services) {
    lines.push('  <service>', `    <type>${s.type}</type>`, `    <port>${s.port}</port>`);
    for (const t of s.txt) lines.push(`    <txt-record>${xml(t)}</txt-record>`);
    lines.push('  </service>');
  }
  lines.push('</service-group>', '');
  return lines.join('\n');
}

export class AvahiServices {
  constructor(private readonly dir: string) {}

  /** The directory from the environment (the unit sets it), or none: then nothing is announced. */
  static fromEnvironment(): AvahiServices | undefined {
    const dir = process.env['JUNCTION_AVAHI_SERVICES'];
    return dir ? new AvahiServices(dir) : undefined;
  }

  /** Replaces this Junction's files with what the listeners offer now. Failing here never stops the router. */
  write(listeners: AnnouncedListener[], config: JunctionConfig): void {
    try {
      mkdirSync(this.dir, { recursive: true });
      const groups = listeners.map((l) => ({ id: l.config.id, services: servicesOf(l, config) })).filter((g) => g.services.length > 0);
      const wanted = new Set<string>();
      for (const g of groups) {
        // Two listeners offering one type need two instance names; a single one is just "Junction on <host>".
        const name = groups.length === 1 ? 'Junction on %h' : `Junction on %h (${g.id})`;
        const file = `${PREFIX}${g.id.replace(/[^A-Za-z0-9_.-]/g, '_')}.service`;
        wanted.add(file);
        // Written aside and renamed: avahi never reads half a file.
        const tmp = join(this.dir, `.${file}.tmp`);
        writeFileSync(tmp, serviceFile(name, g.services), { mode: 0o644 });
        renameSync(tmp, join(this.dir, file));
      }
      for (const file of this.ours()) if (!wanted.has(file)) rmSync(join(this.dir, file), { force: true });
      log.info(`mDNS: ${groups.reduce((n, g) => n + g.services.length, 0)} DNS-SD service(s) written to ${this.dir}`);
    } catch (err) {
      log.warn(`mDNS: could not write the DNS-SD services to ${this.dir}: ${(err as Error).message}`);
    }
  }

  /** Withdraws every announcement (on stop). */
  remove(): void {
    try {
      for (const file of this.ours()) rmSync(join(this.dir, file), { force: true });
    } catch (err) {
      log.warn(`mDNS: could not remove the DNS-SD services from ${this.dir}: ${(err as Error).message}`);
    }
  }

  private ours(): string[] {
    try {
      return readdirSync(this.dir).filter((f) => f.startsWith(PREFIX) && f.endsWith('.service'));
    } catch {
      return [];
    }
  }
}
