// An npm `mqtt` (MQTT.js) client connected to a test node's MQTT listener, without reconnecting.

import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';

/** Resolves once CONNACK accepted the client; rejects on a refusal or a connection error. */
export async function connectMqtt(port: number, options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}
