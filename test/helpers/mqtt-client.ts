// An npm `mqtt` (MQTT.js) client connected to a test node's MQTT listener, without reconnecting.

import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import type { IConnackPacket } from 'mqtt-packet';

/** Resolves once CONNACK accepted the client; rejects on a refusal or a connection error. */
export async function connectMqtt(port: number, options: IClientOptions = {}): Promise<MqttClient> {
  return (await connectMqttWithConnack(port, options)).client;
}

/** The same, with the CONNACK (session present, MQTT 5 properties) the client got. */
export function connectMqttWithConnack(port: number, options: IClientOptions = {}): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  return connectMqttUrl(`mqtt://127.0.0.1:${port}`, options);
}

/** Any URL MQTT.js takes: mqtt://, mqtts://, ws:// and wss:// (MQTT over WebSocket). */
export async function connectMqttUrl(url: string, options: IClientOptions = {}): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  return { client, connack };
}
