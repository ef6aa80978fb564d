// The bridges' part of the meta API, one per realm that has bridges: the procedures
// junction.bridge.mqtt.list → [ids] and junction.bridge.mqtt.get(id) → the bridge's state, and the
// event junction.bridge.mqtt.on_state [id, state] on every connect and disconnect. It joins the
// realm as an ordinary in-process session with the role 'trusted' (which every realm has).

import { TRUSTED_ROLE } from '../../wamp/roles.js';
import { ClientSession, WampError } from '../../client/client-session.js';
import type { SessionFactory } from '../../core-boundary.js';
import { log } from '../../log.js';
import type { MqttBridge } from './bridge.js';

export const BRIDGE_META = {
  list: 'junction.bridge.mqtt.list',
  get: 'junction.bridge.mqtt.get',
  onState: 'junction.bridge.mqtt.on_state',
  noSuchBridge: 'junction.error.no_such_bridge',
} as const;

export class BridgeMetaApi {
  private session: ClientSession | undefined;

  /** `bridges`: the realm's bridges at the time of asking (a reload may add, replace or remove some). */
  constructor(readonly realm: string, private readonly bridges: () => MqttBridge[]) {}

  async start(factory: SessionFactory): Promise<void> {
    const session = await ClientSession.connect(factory, {
      realm: this.realm, role: TRUSTED_ROLE, authid: 'junction-bridges', name: 'mqtt-bridge-meta', privileged: true,
    });
    this.session = session;
    await session.register(BRIDGE_META.list, () => this.bridges().map((b) => b.id));
    await session.register(BRIDGE_META.get, (args) => {
      const bridge = this.bridges().find((b) => b.id === args[0]);
      if (!bridge) throw new WampError(BRIDGE_META.noSuchBridge, [`no MQTT bridge '${String(args[0])}' in realm '${this.realm}'`]);
      return bridge.state();
    });
  }

  /** Publishes a bridge's state (on connect and disconnect). */
  stateChanged(bridge: MqttBridge): void {
    this.session?.publish(BRIDGE_META.onState, [bridge.id, bridge.state()]).catch((err: Error) => {
      log.debug(`mqtt bridge '${bridge.id}': cannot publish ${BRIDGE_META.onState}: ${err.message}`);
    });
  }

  async stop(): Promise<void> {
    await this.session?.close().catch(() => {});
    this.session = undefined;
  }
}
