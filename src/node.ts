// A running Junction: the router built from a validated config, and its listeners.
// Start and graceful stop; nothing here parses files (see config/).

import type { JunctionConfig } from './config/types.js';
import { Router } from './router/router.js';
import { InProcessServices } from './router-services/in-process-services.js';
import { Listener } from './transports/listener.js';
import { IncomingBudget } from './transports/incoming-budget.js';
import { SendQueueTotal } from './transports/send-queue-total.js';
import { log } from './log.js';
import type { MqttBridges } from './mqtt/bridge/bridges.js';
import type { SerialBridge } from './bridges/serial/bridge.js';
import type { RouterLinks } from './rlink/router-links.js';
import { startBoard, type BoardComponents } from './board/components.js';
import { SetupReveal } from './board/setup-reveal.js';
import { applyReload, type ReloadReport } from './reload.js';

export class JunctionNode {
  readonly router: Router;
  readonly listeners: Listener[];
  // Components are loaded only when configured: a router without MQTT bridges or serial ports does
  // not carry the mqtt or serialport libraries in memory.
  /** Bridges to external MQTT brokers (`bridges.mqtt`), started once the router is ready. */
  mqttBridges: MqttBridges | undefined;
  /** Serial bridges (`serial`), started once the router is ready. */
  serialBridges: SerialBridge[] = [];
  /** Router links to remote routers (realms' `rlinks`), started once the router is ready. */
  routerLinks: RouterLinks | undefined;
  /** Board telemetry and schedules (`telemetry`, `schedules`), started once the router is ready. */
  board: BoardComponents | undefined;
  /** junction.setup.reveal, for `dashboard` web paths with a `setup` file (one per realm and file). */
  readonly setupReveals: SetupReveal[];
  private stopping: Promise<void> | undefined;
  private reloads: Promise<unknown> = Promise.resolve();

  /** The meta API and the service caller. */
  private readonly services = new InProcessServices();

  constructor(readonly config: JunctionConfig) {
    // The meta API and the service caller join the realms as in-process sessions.
    this.router = new Router(config.router.realms, this.services);
    // One budget for all listeners: max_incoming_bytes is the router's total.
    const incoming = IncomingBudget.for(config.router.listeners, config.router.maxIncomingBytes);
    // One total for all listeners' send queues: max_send_queue_total is the router's.
    const sendQueues = new SendQueueTotal(config.router.maxSendQueueTotal);
    // An MQTT over WebSocket path may share another listener's MQTT service (its `transport`).
    const mqttServiceOf = (id: string) => this.listeners.find((l) => l.config.id === id)?.mqtt;
    this.listeners = config.router.listeners.map((l) => new Listener(l, this.router, incoming, sendQueues, mqttServiceOf));
    const setups = new Map<string, SetupReveal>();
    for (const l of config.router.listeners) {
      for (const p of Object.values(l.static)) {
        if (p.type === 'dashboard' && p.setup) setups.set(`${p.realm}\0${p.setup}`, new SetupReveal(p.realm, p.setup, peerIn(this.router, p.realm)));
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
        const { MqttBridges } = await import('./mqtt/bridge/bridges.js');
        this.mqttBridges = new MqttBridges(mqttBridges, this.router);
        await this.mqttBridges.start();
      }
      if (this.config.serial?.length) {
        const { SerialBridge } = await import('./bridges/serial/bridge.js');
        this.serialBridges = this.config.serial.map((s) => new SerialBridge(s, this.router));
        for (const bridge of this.serialBridges) await bridge.start();
      }
      if (this.config.router.realms.some((r) => r.rlinks?.length)) {
        const { RouterLinks } = await import('./rlink/router-links.js');
        this.routerLinks = new RouterLinks(this.config.router.realms, this.router);
        this.services.showRouterLinks(this.routerLinks.links);
        this.routerLinks.start();
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
   * Applies a reloaded config without dropping sessions: what can change live is applied, every
   * other difference is reported by its key path as needing a restart (see reload.ts). Reloads
   * run one at a time, in the order asked.
   */
  reload(next: JunctionConfig): Promise<ReloadReport> {
    const done = this.reloads.then(() => applyReload(this, next));
    this.reloads = done.catch(() => undefined);
    return done;
  }

  /**
   * Frees the ports first (a new process may start at once; clients retrying meanwhile are refused,
   * not let in), stops the components, then ends every session the way clients reconnect after
   * (Router.shutdown) and closes the listeners. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const listener of this.listeners) listener.stopAccepting();
      await this.board?.stop();
      await Promise.allSettled(this.setupReveals.map((r) => r.stop()));
      await this.routerLinks?.stop();
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

/** Looks a session's transport peer up in a realm, for limits that count per address. */
function peerIn(router: Router, realm: string): (sessionId: number) => string | undefined {
  return (sessionId) => router.realm(realm)?.sessions.get(sessionId)?.transport.info.peer;
}
