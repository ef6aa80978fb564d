// A running Junction: the router built from a validated config, and its listeners.
// Start and graceful stop; nothing here parses files (see config/).

import type { JunctionConfig, ListenerConfig, RealmConfig, WampServiceConfig } from './config/types.js';
import { Router } from './router/router.js';
import { Listener } from './transports/listener.js';
import { IncomingBudget } from './transports/incoming-budget.js';
import { log } from './log.js';
import type { MqttBridges } from './bridges/mqtt/bridges.js';
import type { SerialBridge } from './bridges/serial/bridge.js';
import { startBoard, type BoardComponents } from './board/components.js';
import { SetupReveal } from './board/setup-reveal.js';

export class JunctionNode {
  readonly router: Router;
  readonly listeners: Listener[];
  // Components are loaded only when configured: a router without MQTT bridges or serial ports does
  // not carry the mqtt or serialport libraries in memory.
  /** Bridges to external MQTT brokers (`bridges.mqtt`), started once the router is ready. */
  mqttBridges: MqttBridges | undefined;
  /** Serial bridges (`serial`), started once the router is ready. */
  serialBridges: SerialBridge[] = [];
  /** Board telemetry and schedules (`telemetry`, `schedules`), started once the router is ready. */
  board: BoardComponents | undefined;
  /** junction.setup.reveal, for `dashboard` web paths with a `setup` file (one per realm and file). */
  readonly setupReveals: SetupReveal[];
  private stopping: Promise<void> | undefined;

  constructor(readonly config: JunctionConfig) {
    this.router = new Router(config.router.realms);
    // One budget for all listeners: max_incoming_bytes is the router's total.
    const incoming = IncomingBudget.for(config.router.listeners, config.router.maxIncomingBytes);
    this.listeners = config.router.listeners.map((l) => new Listener(l, this.router, incoming));
    const setups = new Map<string, SetupReveal>();
    for (const l of config.router.listeners) {
      for (const p of Object.values(l.static)) {
        if (p.type === 'dashboard' && p.setup) setups.set(`${p.realm}\0${p.setup}`, new SetupReveal(p.realm, p.setup));
      }
    }
    this.setupReveals = [...setups.values()];
  }

  async start(): Promise<void> {
    await this.router.ready;
    const started: Listener[] = [];
    try {
      for (const listener of this.listeners) {
        await listener.start();
        started.push(listener);
        log.info(`listening: ${listener.url}`);
      }
      const mqttBridges = this.config.bridges?.mqtt ?? [];
      if (mqttBridges.length > 0) {
        const { MqttBridges } = await import('./bridges/mqtt/bridges.js');
        this.mqttBridges = new MqttBridges(mqttBridges, this.router);
        await this.mqttBridges.start();
      }
      if (this.config.serial?.length) {
        const { SerialBridge } = await import('./bridges/serial/bridge.js');
        this.serialBridges = this.config.serial.map((s) => new SerialBridge(s, this.router));
        for (const bridge of this.serialBridges) await bridge.start();
      }
      this.board = await startBoard(this.config, this.router);
      for (const reveal of this.setupReveals) await reveal.start(this.router);
    } catch (err) {
      await Promise.allSettled(started.map((l) => l.stop()));
      throw err;
    }
    log.info(`Junction ready: realms ${this.router.realmNames.join(', ')}`);
  }

  /**
   * Applies a reloaded config without dropping sessions: realms' roles (cached authorization
   * decisions are discarded; sessions whose role is gone are ended) and transports' `auth` blocks
   * (for connections opened from now on). Any other difference needs a restart and is reported,
   * not applied, so the running router stays consistent with one config.
   */
  reload(next: JunctionConfig): { applied: string[]; needsRestart: string[] } {
    const applied: string[] = [];
    const needsRestart: string[] = [];
    const current = this.config.router;
    const realmNames = (realms: RealmConfig[]) => realms.map((r) => r.name).sort().join(',');
    if (realmNames(current.realms) !== realmNames(next.router.realms)) needsRestart.push('the set of realms changed');
    for (const realmConfig of next.router.realms) {
      const old = current.realms.find((r) => r.name === realmConfig.name);
      const realm = this.router.realm(realmConfig.name);
      if (!old || !realm) continue;
      if (!sameExcept(old, realmConfig, ['roles'])) needsRestart.push(`realm '${realmConfig.name}': settings other than roles changed`);
      if (JSON.stringify(old.roles) !== JSON.stringify(realmConfig.roles)) {
        const ended = realm.replaceRoles(realmConfig.roles);
        old.roles = realmConfig.roles;
        applied.push(`realm '${realmConfig.name}': roles replaced${ended ? `, ${ended} session(s) whose role is gone ended` : ''}`);
      }
    }
    const ids = (ls: ListenerConfig[]) => ls.map((l) => l.id).sort().join(',');
    if (ids(current.listeners) !== ids(next.router.listeners)) needsRestart.push('the set of transports changed');
    for (const listenerConfig of next.router.listeners) {
      const old = current.listeners.find((l) => l.id === listenerConfig.id);
      if (!old) continue;
      // Services keep a reference to their config object: updating `auth` in place takes effect
      // for the next connection.
      const pairs: Array<[WampServiceConfig, WampServiceConfig]> = [];
      if (old.rawsocket && listenerConfig.rawsocket) pairs.push([old.rawsocket, listenerConfig.rawsocket]);
      for (const [path, service] of Object.entries(listenerConfig.websocket)) {
        const was = old.websocket[path];
        if (was) pairs.push([was, service]);
      }
      const withoutAuth = (l: ListenerConfig) => JSON.stringify(l, (k, v) => (k === 'auth' ? undefined : v));
      if (withoutAuth(old) !== withoutAuth(listenerConfig)) needsRestart.push(`transport '${listenerConfig.id}': settings other than auth changed`);
      for (const [was, now] of pairs) {
        if (JSON.stringify(was.auth) === JSON.stringify(now.auth)) continue;
        if (now.auth) was.auth = now.auth;
        else delete was.auth;
        applied.push(`transport '${listenerConfig.id}': auth replaced`);
      }
    }
    if (JSON.stringify(this.config.bridges ?? null) !== JSON.stringify(next.bridges ?? null)) needsRestart.push('the bridges section changed');
    for (const key of ['telemetry', 'schedules'] as const) {
      if (JSON.stringify(this.config[key] ?? null) !== JSON.stringify(next[key] ?? null)) needsRestart.push(`the ${key} section changed`);
    }
    return { applied: [...new Set(applied)], needsRestart };
  }

  /** GOODBYE to every session, then close the listeners. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.board?.stop();
      await Promise.allSettled(this.setupReveals.map((r) => r.stop()));
      await this.mqttBridges?.stop();
      await Promise.allSettled(this.serialBridges.map((b) => b.stop()));
      await this.router.shutdown();
      await Promise.allSettled(this.listeners.map((l) => l.stop()));
    })();
    return this.stopping;
  }
}

export async function startNode(config: JunctionConfig): Promise<JunctionNode> {
  const node = new JunctionNode(config);
  await node.start();
  return node;
}

function sameExcept<T extends object>(a: T, b: T, keys: Array<keyof T>): boolean {
  const strip = (o: T) => JSON.stringify(o, (k, v) => (keys.includes(k as keyof T) ? undefined : v));
  return strip(a) === strip(b);
}
