// All the MQTT bridges of a node (`bridges.mqtt`): started once the router is ready, stopped before
// the router shuts down (so their buffers are written and their sessions leave cleanly).

import type { MqttBridgeConfig } from '../../config/types.js';
import type { SessionFactory } from '../../router/transport.js';
import { MqttBridge } from './bridge.js';
import { BridgeMetaApi } from './meta.js';

export class MqttBridges {
  readonly bridges: MqttBridge[];
  private readonly metas: BridgeMetaApi[] = [];

  constructor(configs: MqttBridgeConfig[], private readonly router: SessionFactory) {
    this.bridges = configs.map((c) => new MqttBridge(c, router));
    const realms = [...new Set(configs.map((c) => c.realm))];
    for (const realm of realms) {
      const meta = new BridgeMetaApi(realm, this.bridges.filter((b) => b.config.realm === realm));
      this.metas.push(meta);
      for (const b of this.bridges) if (b.config.realm === realm) b.onState = (bridge) => meta.stateChanged(bridge);
    }
  }

  get(id: string): MqttBridge | undefined {
    return this.bridges.find((b) => b.id === id);
  }

  async start(): Promise<void> {
    try {
      for (const meta of this.metas) await meta.start(this.router);
      for (const bridge of this.bridges) await bridge.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.bridges.map((b) => b.stop()));
    await Promise.allSettled(this.metas.map((m) => m.stop()));
  }
}
