// How a bridge connects to its broker: the `mqtt` client options from its config (a clean session
// each time; the bridge reconnects by itself, with backoff, and resubscribes), and the `to_wamp`
// filters it subscribes to: MQTT 5 with No Local and Retain As Published, so the broker does not
// send back what the bridge published and retained messages stay marked as such.

import type { IClientOptions, IClientSubscribeOptions } from 'mqtt';
import type { MqttBridgeConfig } from '../../config/types.js';

export function brokerClientOptions(c: MqttBridgeConfig): IClientOptions {
  const options: IClientOptions = {
    clientId: c.clientId,
    protocolVersion: c.protocolVersion,
    keepalive: c.keepalive,
    clean: true,
    reconnectPeriod: 0, // the bridge reconnects itself, with backoff
    connectTimeout: c.connectTimeout,
    resubscribe: false,
    queueQoSZero: false,
  };
  if (c.username !== undefined) options.username = c.username;
  if (c.password !== undefined) options.password = c.password;
  if (c.tls) {
    if (c.tls.ca) options.ca = c.tls.ca;
    if (c.tls.certificate) options.cert = c.tls.certificate;
    if (c.tls.key) options.key = c.tls.key;
    options.rejectUnauthorized = c.tls.rejectUnauthorized;
    if (c.tls.servername) options.servername = c.tls.servername;
  }
  return options;
}

/** The SUBSCRIBE of the `to_wamp` filters, by filter. */
export function toWampSubscriptions(config: MqttBridgeConfig): Record<string, Pick<IClientSubscribeOptions, 'qos' | 'nl' | 'rap'>> {
  const v5 = config.protocolVersion === 5;
  const map: Record<string, { qos: 0 | 1 | 2; nl?: boolean; rap?: boolean }> = {};
  for (const rule of config.toWamp) map[rule.filter] = v5 ? { qos: rule.qos, nl: true, rap: true } : { qos: rule.qos };
  return map;
}
