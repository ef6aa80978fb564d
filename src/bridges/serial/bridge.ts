// A serial bridge: the ports its config names (a path, a /dev/serial/by-id name, or a glob in the
// last part), each watched by a PortLink; ports matching a glob are picked up when they appear.
// Its state is visible through its own in-process session: `junction.serial.<id>.devices` returns
// every port's status, and `junction.serial.<id>.on_change` is published when a port's state changes.

import { readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { SerialBridgeConfig } from '../../config/types.js';
import type { SessionFactory } from '../../core-boundary.js';
import { ClientSession } from '../../client/client-session.js';
import { TRUSTED_ROLE } from '../../wamp/roles.js';
import { PortLink } from './port-link.js';
import { log } from '../../log.js';

/** How often globs are matched against the device directory again. */
const SCAN_INTERVAL_MS = 2000;

export class SerialBridge {
  private readonly links = new Map<string, PortLink>();
  private session: ClientSession | undefined;
  private scanTimer: NodeJS.Timeout | undefined;

  constructor(readonly config: SerialBridgeConfig, private readonly factory: SessionFactory) {}

  async start(): Promise<void> {
    const session = await ClientSession.connect(this.factory, { realm: this.config.realm, role: TRUSTED_ROLE, authid: `junction-serial-${this.config.id}`, name: `serial:${this.config.id}`, privileged: true });
    this.session = session;
    await session.register(`junction.serial.${this.config.id}.devices`, () => [...this.links.values()].map((l) => l.status()));
    this.scan();
    this.scanGlobs();
  }

  /**
   * The ports of a reloaded config (nothing else of the bridge changed): ports no longer listed,
   * or listed with another baud rate, are let go; new ones are watched; the other ports' boards
   * stay connected.
   */
  async setPorts(ports: SerialBridgeConfig['ports']): Promise<void> {
    this.config.ports = ports;
    for (const [path, link] of [...this.links]) {
      if (ports.some((p) => p.baudRate === link.baudRate && (p.path === path || (isGlob(p.path) && globMatches(p.path, path))))) continue;
      this.links.delete(path);
      await link.stop();
      log.info(`serial ${this.config.id}: no longer watching ${path}`);
    }
    this.scan();
    this.scanGlobs();
  }

  async stop(): Promise<void> {
    clearInterval(this.scanTimer);
    await Promise.all([...this.links.values()].map((l) => l.stop()));
    this.links.clear();
    await this.session?.close().catch(() => {});
  }

  /** Globs are matched again every SCAN_INTERVAL_MS while the config has any. */
  private scanGlobs(): void {
    const wanted = this.config.ports.some((p) => isGlob(p.path));
    if (wanted && !this.scanTimer) this.scanTimer = setInterval(() => this.scan(), SCAN_INTERVAL_MS);
    if (!wanted && this.scanTimer) {
      clearInterval(this.scanTimer);
      this.scanTimer = undefined;
    }
  }

  private scan(): void {
    for (const { path, baudRate } of this.config.ports) {
      for (const match of isGlob(path) ? expand(path) : [path]) {
        if (this.links.has(match)) continue;
        const link = new PortLink(match, baudRate, this.config, this.factory, (l) => this.changed(l));
        this.links.set(match, link);
        log.info(`serial ${this.config.id}: watching ${match} (${baudRate} baud)`);
        link.start();
      }
    }
  }

  private changed(link: PortLink): void {
    // Retained: a dashboard that joins later learns from it that this bridge exists (an anonymous
    // visitor's role may not list registrations) and asks .devices for every port.
    void this.session?.publish(`junction.serial.${this.config.id}.on_change`, [link.status()], {}, { retain: true });
  }
}

function isGlob(path: string): boolean {
  return /[*?]/.test(path);
}

function globRegExp(pattern: string): RegExp {
  return new RegExp(`^${basename(pattern).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

/** Whether a device path is one the glob (in its last part) stands for. */
function globMatches(pattern: string, path: string): boolean {
  return dirname(pattern) === dirname(path) && globRegExp(pattern).test(basename(path));
}

/** The device paths a glob in the last part matches now. */
function expand(pattern: string): string[] {
  const dir = dirname(pattern);
  const re = globRegExp(pattern);
  try {
    return readdirSync(dir).filter((name) => re.test(name)).sort().map((name) => `${dir}/${name}`);
  } catch {
    return []; // e.g. /dev/serial/by-id does not exist until a USB serial device is plugged in
  }
}
