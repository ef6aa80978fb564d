// All the MQTT bridges of a node (`bridges.mqtt`): started once the router is ready, stopped before
// the router shuts down (so their buffers are written and their sessions leave cleanly), and
// changed one by one by a reload.

import type { MqttBridgeConfig } from '../../config/types.js';
import type { SessionFactory } from '../../core-boundary.js';
import { sameConfig } from '../../config/diff.js';
import { MqttBridge } from './bridge.js';
import { BridgeMetaApi } from './meta.js';

export class MqttBridges {
  readonly bridges: MqttBridge[];
  /** One meta API per realm that has bridges. */
  private readonly metas = new Map<string, BridgeMetaApi>();

  constructor(configs: MqttBridgeConfig[], private readonly router: SessionFactory) {
    this.bridges = configs.map((c) => new MqttBridge(c, router));
    this.addMetas();
  }

  get(id: string): MqttBridge | undefined {
    return this.bridges.find((b) => b.id === id);
  }

  async start(): Promise<void> {
    try {
      for (const meta of this.metas.values()) await meta.start(this.router);
      for (const bridge of this.bridges) await bridge.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.bridges.map((b) => b.stop()));
    await Promise.allSettled([...this.metas.values()].map((m) => m.stop()));
  }

  /**
   * A reloaded `bridges.mqtt`: a bridge no longer listed stops, a new one starts, a changed one is
   * replaced by one with its new config (which reconnects, keeping the waiting messages: see
   * MqttBridge.handOver); an unchanged one is not touched. Returns why bridges could not start.
   */
  async reload(configs: MqttBridgeConfig[]): Promise<string[]> {
    const starting: MqttBridge[] = [];
    const next: MqttBridge[] = [];
    for (const config of configs) {
      const old = this.get(config.id);
      if (old && sameConfig(old.config, config)) {
        next.push(old);
        continue;
      }
      const bridge = new MqttBridge(config, this.router, await old?.handOver(config));
      next.push(bridge);
      starting.push(bridge);
    }
    await Promise.allSettled(this.bridges.filter((b) => !configs.some((c) => c.id === b.id)).map((b) => b.stop()));
    this.bridges.splice(0, this.bridges.length, ...next);
    for (const meta of this.addMetas()) await meta.start(this.router);
    for (const [realm, meta] of this.metas) {
      if (this.bridges.some((b) => b.config.realm === realm)) continue;
      this.metas.delete(realm);
      await meta.stop();
    }
    const failures: string[] = [];
    for (const bridge of starting) {
      await bridge.start().catch((err: Error) => failures.push(`mqtt bridge '${bridge.id}': not started: ${err.message}`));
    }
    return failures;
  }

  /** Meta APIs for realms that have none yet (returned, not started); every bridge reports to its realm's. */
  private addMetas(): BridgeMetaApi[] {
    const added: BridgeMetaApi[] = [];
    for (const bridge of this.bridges) {
      const realm = bridge.config.realm;
      let meta = this.metas.get(realm);
      if (!meta) {
        meta = new BridgeMetaApi(realm, () => this.bridges.filter((b) => b.config.realm === realm));
        this.metas.set(realm, meta);
        added.push(meta);
      }
      const reportTo = meta;
      bridge.onState = (b) => reportTo.stateChanged(b);
    }
    return added;
  }
}
