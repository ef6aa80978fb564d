// Issue 18, the real target of the bridge's node list: a two-node RabbitMQ cluster with the MQTT
// plugin (Debian's rabbitmq-server, both nodes on this machine, test/helpers/rabbitmq.ts). The
// bridge starts on the first node; an npm `mqtt` subscriber is on the second; the first node is
// SIGKILLed mid-stream of 10,000 QoS 1 messages from an Autobahn|JS publisher. Every message must
// arrive, in order (a message the dead node took but had not acknowledged may come twice).
import { describe, it, expect, afterAll } from 'vitest';
import { createRequire } from 'node:module';
import { connect as mqttConnect } from 'mqtt';
import { startTestNode } from '../helpers/node.js';
import { RabbitCluster } from '../helpers/rabbitmq.js';
import { until } from '../helpers/until.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

const STREAM = 10_000;
const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('MQTT bridge over a RabbitMQ cluster', () => {
  it(`keeps all of ${STREAM} QoS 1 messages, in order, when the node in use is killed mid-stream`, async () => {
    const cluster = new RabbitCluster();
    cleanups.push(() => cluster.stop());
    await cluster.start();
    const [first, second] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0]];

    const node = await startTestNode({
      bridges: {
        mqtt: [{
          id: 'rabbit', realm: 'realm1', role: 'trusted', authid: 'mqtt-bridge-rabbit', urls: [first.url, second.url],
          clientId: 'junction-test-rabbit', protocolVersion: 4, keepalive: 30,
          reconnect: { initialDelay: 60_000, maxDelay: 60_000 }, connectTimeout: 10_000,
          topicPrefix: '', payload: [{ prefix: '', type: 'native' }],
          toWamp: [], toMqtt: [{ uri: 'stream.', match: 'prefix', qos: 1, retain: false }], maxBuffered: 20_000, maxInflight: 20,
        }],
      },
    });
    cleanups.push(() => node.stop());
    const session: any = await new Promise((resolve, reject) => {
      const connection = new autobahn.Connection({ url: `ws://127.0.0.1:${node.port}/ws`, realm: 'realm1', max_retries: 0 });
      connection.onopen = (s: any) => { cleanups.push(() => connection.close()); resolve(s); };
      connection.onclose = (reason: string) => { reject(new Error(reason)); return true; };
      connection.open();
    });
    const state = async (): Promise<Record<string, any>> => session.call('junction.bridge.mqtt.get', ['rabbit']);
    await until(async () => (await state())['connected'] === true, 60_000, 'the bridge to connect');
    expect((await state())['url']).toBe(first.url);

    const subscriber = mqttConnect(second.url, { protocolVersion: 4, clean: true, reconnectPeriod: 0 });
    cleanups.push(() => subscriber.end(true));
    subscriber.on('error', () => {});
    await new Promise<void>((resolve) => subscriber.once('connect', () => resolve()));
    const received: number[] = [];
    const killAt = STREAM * 0.3;
    let killed = false;
    subscriber.on('message', (_topic, payload) => {
      received.push(Number(payload.toString()));
      if (received.length === killAt && !killed) { killed = true; cluster.kill(0); }
    });
    await subscriber.subscribeAsync('stream/#', { qos: 1 });

    // As with mosquitto: the kill must not fall inside the cluster's own hand-over of messages it
    // had confirmed, so the publisher waits at the kill point for the subscriber, then runs free.
    const started = Date.now();
    for (let seq = 1; seq <= STREAM; seq++) {
      const ahead = seq <= killAt ? 100 : 1;
      while (!killed && seq - received.length > ahead) await new Promise((r) => setTimeout(r, 1));
      session.publish('stream.seq', [seq], {}, { _mqtt_qos: 1 });
    }
    await until(() => new Set(received).size === STREAM, 120_000, 'every message at the subscriber on the second node');

    // 1..k, then (after the failover) j..STREAM with j ≤ k+1: nothing lost, nothing out of order.
    const drop = received.findIndex((v, i) => i > 0 && v <= received[i - 1]!);
    const before = drop === -1 ? received : received.slice(0, drop);
    const after = drop === -1 ? [] : received.slice(drop);
    expect(before).toEqual(Array.from({ length: before.length }, (_, i) => i + 1));
    if (after.length > 0) expect(after).toEqual(Array.from({ length: STREAM - after[0]! + 1 }, (_, i) => after[0]! + i));
    expect(received.at(-1)).toBe(STREAM);
    const repeats = received.length - STREAM;
    expect(repeats).toBeLessThanOrEqual(20);
    await until(async () => (await state())['buffered'] === 0, 30_000, 'the second node to acknowledge everything');
    expect(await state()).toMatchObject({ url: second.url, connected: true, dropped: 0, connects: 2, disconnects: 1 });
    console.log(`rabbitmq failover: ${STREAM} messages in ${Date.now() - started} ms, ${repeats} repeated`);
  }, 400_000);
});
