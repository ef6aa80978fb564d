// MQTT pieces without sockets (the topic and payload mapping: mapping.test.ts): the outbound QoS queue, the `mqtt`
// transport's config, and the broker's forwarding of custom PUBLISH attributes.
import { describe, it, expect } from 'vitest';
import type { Packet, IPublishPacket } from 'mqtt-packet';
import { DeliveryQueue } from '../../../src/transports/mqtt-listener/delivery-queue.js';
import { packetBytes } from '../../../src/transports/mqtt-listener/packet-bytes.js';
import * as mqttPacket from 'mqtt-packet';
import { parseConfig } from '../../../src/config/load.js';
import { makeRouter, join } from '../../helpers/core.js';
import { errorsOf } from '../../helpers/config.js';

const MIB = 1024 * 1024;

describe('delivery queue: QoS 1/2 delivery to one client', () => {
  function sink() {
    const written: Packet[] = [];
    return { written, connected: true, write: (p: Packet) => written.push(p) };
  }
  const publish = (n: number, qos: 0 | 1 | 2 = 1): IPublishPacket => ({ cmd: 'publish', topic: `t/${n}`, payload: Buffer.from(String(n)), qos, retain: false, dup: false });

  it('keeps at most maxInflight unacknowledged, sends the rest in order as acknowledgements come', () => {
    const s = sink();
    const box = new DeliveryQueue(s, { maxInflight: 2, maxWaiting: 10, maxBytes: MIB });
    for (let i = 0; i < 4; i++) box.push(publish(i));
    expect(s.written.map((p) => (p as IPublishPacket).topic)).toEqual(['t/0', 't/1']);
    box.acknowledged((s.written[0] as IPublishPacket).messageId!);
    expect(s.written.map((p) => (p as IPublishPacket).topic)).toEqual(['t/0', 't/1', 't/2']);
  });

  it('QoS 2: PUBREC is answered with PUBREL; after a reconnect a released message is resent as PUBREL, others with DUP', () => {
    const s = sink();
    const box = new DeliveryQueue(s, { maxInflight: 10, maxWaiting: 10, maxBytes: MIB });
    box.push(publish(1, 2));
    box.push(publish(2, 1));
    const [first, second] = s.written as IPublishPacket[];
    box.received(first!.messageId!);
    expect(s.written[2]).toEqual({ cmd: 'pubrel', messageId: first!.messageId, reasonCode: 0 });
    s.written.length = 0;
    box.resume();
    expect(s.written).toEqual([{ cmd: 'pubrel', messageId: first!.messageId, reasonCode: 0 }, { ...second, dup: true }]);
  });

  it('while away: QoS 0 is lost, QoS 1/2 wait (the oldest dropped past the bound), and go out on return', () => {
    const s = sink();
    s.connected = false;
    const box = new DeliveryQueue(s, { maxInflight: 10, maxWaiting: 3, maxBytes: MIB });
    box.push(publish(0, 0));
    for (let i = 1; i <= 5; i++) box.push(publish(i));
    expect(box.dropped).toBe(3);
    expect(box.queued).toBe(3);
    s.connected = true;
    box.resume();
    expect(s.written.map((p) => (p as IPublishPacket).topic)).toEqual(['t/3', 't/4', 't/5']);
  });
});

describe('delivery queue: bounded in bytes', () => {
  const big = (n: number, kb: number): IPublishPacket => ({ cmd: 'publish', topic: `t/${n}`, payload: Buffer.alloc(kb * 1024), qos: 1, retain: false, dup: false });

  it('issue 19 #2: past maxBytes the oldest waiting message is dropped, what is in flight stays, and an empty outbox takes one message of any size', () => {
    const written: Packet[] = [];
    const s = { written, connected: true, write: (p: Packet) => written.push(p) };
    const box = new DeliveryQueue(s, { maxInflight: 2, maxWaiting: 1000, maxBytes: 256 * 1024 });
    for (let i = 0; i < 10; i++) box.push(big(i, 64));
    // Two in flight, then as many waiting as fit in 256 kB (payload, topic and a fixed cost each).
    expect(box.bytes).toBeLessThanOrEqual(256 * 1024);
    expect(box.queued).toBe(3);
    expect(box.dropped).toBe(7);
    box.acknowledged((written[0] as IPublishPacket).messageId!);
    box.acknowledged((written[1] as IPublishPacket).messageId!);
    expect(written.map((p) => (p as IPublishPacket).topic)).toEqual(['t/0', 't/1', 't/9']);
    box.acknowledged((written[2] as IPublishPacket).messageId!);
    expect(box.bytes).toBe(0);
    box.push(big(10, 1024));
    expect(written.at(-1)).toMatchObject({ topic: 't/10' });
  });
});

describe('config: mqtt transports', () => {
  const base = (transport: object) => ({
    version: 2,
    workers: [{ type: 'router', realms: [{ name: 'realm1', roles: [{ name: 'anonymous', 'allow-by-default': true }] }], transports: [transport] }],
  });
  const T = 'workers[0].transports[0]';

  it('reads realm, payload mapping, prefix, limits and rpc rules, with defaults', () => {
    const config = parseConfig(base({
      type: 'mqtt', endpoint: { type: 'tcp', port: 1883 },
      options: {
        realm: 'realm1', topic_prefix: 'mqtt.', payload_mapping: { '': { type: 'native', serializer: 'json' }, 'mqtt.cam.': { type: 'passthrough' } },
        max_offline_messages: 50, rpc: { to_mqtt: [{ procedure: 'lamp.set', topic: 'devices/lamp/set' }], from_mqtt: [{ topic: 'rpc/call', procedure: 'svc.' }] },
      },
    }));
    expect(config.router.listeners[0]!.mqtt).toMatchObject({
      realm: 'realm1', topicPrefix: 'mqtt.', maxOfflineMessages: 50, maxInflight: 100, sessionExpiry: 86_400_000,
      payload: [{ prefix: '', type: 'native' }, { prefix: 'mqtt.cam.', type: 'passthrough' }],
      rpc: { role: 'trusted', toMqtt: [{ procedure: 'lamp.set', topic: 'devices/lamp/set', timeout: 10_000 }], fromMqtt: [{ topic: 'rpc/call', procedure: 'svc.' }] },
    });
    const universal = parseConfig(base({ type: 'universal', endpoint: { type: 'tcp', port: 8080 }, mqtt: { options: { realm: 'realm1' } } }));
    expect(universal.router.listeners[0]!.mqtt?.realm).toBe('realm1');
  });

  it('issue 15: rpc topics may be any MQTT topic name (empty levels, dots, spaces), since every one maps to a URI', () => {
    const config = parseConfig(base({
      type: 'mqtt', endpoint: { type: 'tcp', port: 1883 },
      options: { realm: 'realm1', rpc: { to_mqtt: [{ procedure: 'lamp.set', topic: '/lamp v1.2/set' }], from_mqtt: [{ topic: 'rpc//call', procedure: 'svc.' }] } },
    }));
    expect(config.router.listeners[0]!.mqtt?.rpc).toMatchObject({ toMqtt: [{ topic: '/lamp v1.2/set' }], fromMqtt: [{ topic: 'rpc//call' }] });
  });

  it('errors name their path: unknown realm, wrong payload type, methods MQTT cannot use, bad rpc topics', () => {
    expect(errorsOf(base({
      type: 'mqtt', endpoint: { type: 'tcp', port: 1883 },
      options: { realm: 'nowhere', topic_prefix: 'mqtt', payload_mapping: { '': { type: 'dynamic' } }, role: 'anonymous', rpc: { to_mqtt: [{ procedure: 'p', topic: 'a/+/b' }] } },
      auth: { wampcra: { type: 'static', users: { u: { secret: 's', role: 'anonymous' } } } },
    }))).toEqual({
      [`${T}.options.realm`]: "realm 'nowhere' is not defined (realms: realm1)",
      [`${T}.options.topic_prefix`]: 'must be a URI prefix ending in \'.\', e.g. "mqtt.", got "mqtt"',
      [`${T}.options.payload_mapping[""]`]: 'a "dynamic" rule needs an "encoder", a "decoder" or both',
      [`${T}.options.role`]: "applies only without an auth block: with one, roles come from it (auth.anonymous.role, each principal's role)",
      [`${T}.options.rpc.to_mqtt[0].topic`]: 'must be an MQTT topic name (no wildcards), got "a/+/b"',
      [`${T}.auth.wampcra`]: 'does not apply to MQTT: MQTT clients log in with username/password (ticket) or anonymously',
    });
    expect(errorsOf(base({ type: 'mqtt', endpoint: { type: 'tcp', port: 1883 } }))).toEqual({
      [`${T}.options`]: 'is required: at least { realm: <the realm MQTT clients join> }',
    });
  });

  it("issue 16: Crossbar's dynamic payload mapping: encoder, decoder and realm read; errors name their key; not on a bridge", () => {
    const mqttOf = (payload_mapping: object) => parseConfig(base({ type: 'mqtt', endpoint: { type: 'tcp', port: 1883 }, options: { realm: 'realm1', payload_mapping } })).router.listeners[0]!.mqtt;
    expect(mqttOf({ '': { type: 'dynamic', realm: 'realm1', encoder: 'com.example.mqtt.encode', decoder: 'com.example.mqtt.decode' }, 'raw.': { type: 'passthrough' } })?.payload).toEqual([
      { prefix: '', type: 'dynamic', realm: 'realm1', encoder: 'com.example.mqtt.encode', decoder: 'com.example.mqtt.decode' },
      { prefix: 'raw.', type: 'passthrough' },
    ]);
    const P = `${T}.options.payload_mapping`;
    expect(errorsOf(base({
      type: 'mqtt', endpoint: { type: 'tcp', port: 1883 },
      options: { realm: 'realm1', payload_mapping: { 'a.': { type: 'dynamic', decoder: 'not a uri', realm: 'elsewhere' }, 'b.': { type: 'native', encoder: 'x.y' } } },
    }))).toEqual({
      [`${P}["a."].decoder`]: 'must be a procedure URI, got "not a uri"',
      [`${P}["a."]`]: 'a "dynamic" rule needs an "encoder", a "decoder" or both',
      [`${P}["a."].realm`]: "realm 'elsewhere' is not defined (realms: realm1)",
      [`${P}["b."].encoder`]: 'applies only to type "dynamic"',
    });
    const withBridge = {
      version: 2,
      workers: [{ type: 'router', realms: [{ name: 'realm1', roles: [{ name: 'anonymous', 'allow-by-default': true }] }], transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 8080 } }] }],
      bridges: { mqtt: [{ id: 'b', realm: 'realm1', url: 'mqtt://127.0.0.1:1883', payload_mapping: { '': { type: 'dynamic', decoder: 'x.y' } } }] },
    };
    expect(Object.entries(errorsOf(withBridge)).filter(([k]) => k.endsWith('.type'))).toEqual([
      [expect.stringMatching(/payload_mapping\[""\]\.type$/), 'must be one of "native", "passthrough", got "dynamic"'],
    ]);
  });

  it('issue 19 #2, #11: memory limits in bytes, with defaults for a 256 MB board, errors by key path', () => {
    const mqttOf = (options: object) => parseConfig(base({ type: 'mqtt', endpoint: { type: 'tcp', port: 1883 }, options: { realm: 'realm1', ...options } })).router.listeners[0]!.mqtt;
    expect(mqttOf({})).toMatchObject({ maxSendQueue: MIB, sendQueuePolicy: 'drop-events', maxOfflineBytes: MIB, maxOfflineBytesTotal: 32 * MIB });
    expect(mqttOf({ max_send_queue: 65536, send_queue_policy: 'disconnect', max_offline_bytes: 4096, max_offline_bytes_total: 8192 }))
      .toMatchObject({ maxSendQueue: 65536, sendQueuePolicy: 'disconnect', maxOfflineBytes: 4096, maxOfflineBytesTotal: 8192 });
    expect(errorsOf(base({
      type: 'mqtt', endpoint: { type: 'tcp', port: 1883 },
      options: { realm: 'realm1', max_send_queue: 10, send_queue_policy: 'block', max_offline_bytes: 2 * MIB, max_offline_bytes_total: MIB },
    }))).toEqual({
      [`${T}.options.max_send_queue`]: 'must be between 1024 and 1073741824, got 10',
      [`${T}.options.send_queue_policy`]: 'must be one of "drop-events", "disconnect", got "block"',
      [`${T}.options.max_offline_bytes_total`]: `must be at least max_offline_bytes (${2 * MIB}), got ${MIB}`,
    });
  });

  it('issue 17: session_file keeps persistent sessions across restarts: absent = memory only, relative to the config file, one per service, errors by key path', () => {
    const mqttOf = (options: object) => parseConfig(base({ type: 'mqtt', endpoint: { type: 'tcp', port: 1883 }, options: { realm: 'realm1', ...options } }), undefined, '/etc/junction').router.listeners[0]!.mqtt;
    expect(mqttOf({})!.sessionFile).toBeUndefined();
    expect(mqttOf({ session_file: '/var/lib/junction/mqtt-1.json' })!.sessionFile).toBe('/var/lib/junction/mqtt-1.json');
    expect(mqttOf({ session_file: 'state/mqtt.json' })!.sessionFile).toBe('/etc/junction/state/mqtt.json');
    expect(errorsOf(base({ type: 'mqtt', endpoint: { type: 'tcp', port: 1883 }, options: { realm: 'realm1', session_file: 5 } })))
      .toEqual({ [`${T}.options.session_file`]: expect.stringContaining('must be a string') });
    const two = {
      version: 2,
      workers: [{
        type: 'router', realms: [{ name: 'realm1', roles: [{ name: 'anonymous', 'allow-by-default': true }] }],
        transports: [1883, 1884].map((port) => ({ type: 'mqtt', endpoint: { type: 'tcp', port }, options: { realm: 'realm1', session_file: '/var/lib/junction/mqtt.json' } })),
      }],
    };
    expect(errorsOf(two)).toEqual({ 'workers[0].transports[1].options.session_file': "is also workers[0].transports[0].options.session_file's file: each MQTT service needs its own" });
  });

  it('issue 15: sys_interval (seconds between $SYS/ refreshes) defaults to 10 as mosquitto, 0 turns the tree off, errors by key path', () => {
    const mqttOf = (options: object) => parseConfig(base({ type: 'mqtt', endpoint: { type: 'tcp', port: 1883 }, options: { realm: 'realm1', ...options } })).router.listeners[0]!.mqtt;
    expect(mqttOf({})!.sysInterval).toBe(10);
    expect(mqttOf({ sys_interval: 0 })!.sysInterval).toBe(0);
    expect(mqttOf({ sys_interval: 60 })!.sysInterval).toBe(60);
    const errors = (value: unknown) => errorsOf(base({ type: 'mqtt', endpoint: { type: 'tcp', port: 1883 }, options: { realm: 'realm1', sys_interval: value } }));
    expect(errors(-1)).toEqual({ [`${T}.options.sys_interval`]: 'must be between 0 and 86400, got -1' });
    expect(errors('10s')).toEqual({ [`${T}.options.sys_interval`]: 'must be a whole number, got "10s"' });
    expect(errors(1.5)).toEqual({ [`${T}.options.sys_interval`]: expect.stringContaining('whole number') });
  });

  it('issue 19 #11: store.retained and event-history max_bytes are read and checked by key path', () => {
    const raw = base({ type: 'mqtt', endpoint: { type: 'tcp', port: 1883 }, options: { realm: 'realm1' } }) as any;
    raw.workers[0].realms[0].store = { type: 'memory', retained: { limit: 500, max_bytes: MIB }, 'event-history': [{ uri: 'log.', match: 'prefix', max_bytes: 65536 }] };
    expect(parseConfig(raw).router.realms[0]!.store).toMatchObject({ retained: { maxTopics: 500, maxBytes: MIB }, eventHistory: [{ uri: 'log.', maxBytes: 65536 }] });
    raw.workers[0].realms[0].store = { type: 'memory', retained: { limit: -1, max_bytes: 'lots', keep: true }, 'event-history': [{ uri: 'log.', match: 'prefix', max_bytes: 1 }] };
    const R = 'workers[0].realms[0].store';
    expect(errorsOf(raw)).toEqual({
      [`${R}.retained.limit`]: 'must be between 0 and 10000000, got -1',
      [`${R}.retained.max_bytes`]: 'must be a whole number, got "lots"',
      [`${R}.retained.keep`]: "unknown key 'keep' (supported: limit, max_bytes)",
      [`${R}.event-history[0].max_bytes`]: 'must be between 1024 and 1073741824, got 1',
    });
  });
});

describe("config: an mqtt transport's options.role (Crossbar's key)", () => {
  const base = (mqtt: object, roles: object[] = [{ name: 'sensor', 'allow-by-default': true }]) => ({
    version: 2,
    workers: [{ type: 'router', realms: [{ name: 'realm1', roles }], transports: [{ type: 'mqtt', endpoint: { type: 'tcp', port: 1883 }, ...mqtt }] }],
  });
  const T = 'workers[0].transports[0]';

  it('issue 20 #8: options.role is accepted and becomes the role of clients on a transport without auth', () => {
    const config = parseConfig(base({ options: { realm: 'realm1', role: 'sensor' } }));
    expect(config.router.listeners[0]!.mqtt).toMatchObject({ realm: 'realm1', role: 'sensor' });
    expect(config.router.listeners[0]!.mqtt!.auth).toBeUndefined();
  });

  it('issue 20 #8: options.role must name a role of the realms, and is refused beside an auth block', () => {
    expect(errorsOf(base({ options: { realm: 'realm1', role: 'nobody' } }))).toEqual({
      [`${T}.options.role`]: "role 'nobody' is not defined in any realm",
    });
    expect(errorsOf(base({ options: { realm: 'realm1', role: 'sensor' }, auth: { anonymous: { type: 'static', role: 'sensor' } } }))).toEqual({
      [`${T}.options.role`]: "applies only without an auth block: with one, roles come from it (auth.anonymous.role, each principal's role)",
    });
  });

  it('issue 20 #6: topic_prefix "" (no prefix, as the README writes it) passes for transports and bridges', () => {
    expect(parseConfig(base({ options: { realm: 'realm1', topic_prefix: '' } }, [{ name: 'anonymous', 'allow-by-default': true }])).router.listeners[0]!.mqtt!.topicPrefix).toBe('');
  });
});

describe('custom PUBLISH attributes', () => {
  it('options in the spec\'s `_name` form reach subscribers in EVENT details; others and _clear_retained do not', async () => {
    const router = makeRouter();
    const [pub, sub] = await Promise.all([join(router), join(router)]);
    const got: Array<Record<string, unknown>> = [];
    await sub.subscribe('t', (_a, _k, details) => got.push(details));
    await pub.publish('t', [1], {}, { acknowledge: true, _mqtt_qos: 1, _mqtt_topic: 'a/b', _x: 'too short', custom: 'no underscore' });
    await pub.publish('t', [1], {}, { acknowledge: true, retain: true });
    await pub.publish('t', [], {}, { acknowledge: true, _clear_retained: true });
    expect(got[0]).toEqual({ publication: expect.any(Number), _mqtt_qos: 1, _mqtt_topic: 'a/b' });
    expect(got[2]).toEqual({ publication: expect.any(Number) });
    const late: unknown[] = [];
    await sub.subscribe('t', () => {}, {});
    const other = await join(router);
    await other.subscribe('t', (a, _k, d) => late.push([a, d]), { get_retained: true });
    await new Promise((r) => setTimeout(r, 20));
    expect(late).toEqual([]); // the retained event was forgotten
  });
});

describe('MQTT packet bytes (issue 19 memory budget)', () => {
  it('a large PUBLISH is its header and its own payload Buffer, byte for byte what mqtt-packet generates', () => {
    const payload = Buffer.alloc(64 * 1024, 'p');
    const packets: IPublishPacket[] = [
      { cmd: 'publish', topic: 'cams/front', payload, qos: 0, retain: false, dup: false },
      { cmd: 'publish', topic: 'cams/ü', payload, qos: 1, messageId: 7, retain: true, dup: true },
      { cmd: 'publish', topic: 'cams/front', payload, qos: 2, messageId: 65535, retain: false, dup: false, properties: { contentType: 'image/jpeg', userProperties: { a: 'b' } } },
    ];
    for (const version of [4, 5]) {
      for (const packet of packets) {
        const pieces = packetBytes(packet, version);
        expect(pieces).toHaveLength(2);
        expect(pieces[1]).toBe(payload); // shared, not copied
        expect(Buffer.concat(pieces)).toEqual(mqttPacket.generate(packet, { protocolVersion: version }));
      }
    }
    // Small payloads and other packets: one Buffer, as generated.
    const small: Packet = { cmd: 'publish', topic: 't', payload: Buffer.from('21.5'), qos: 0, retain: false, dup: false };
    expect(packetBytes(small, 4)).toEqual([mqttPacket.generate(small, { protocolVersion: 4 })]);
    expect(packetBytes({ cmd: 'pingresp' }, 5)).toEqual([mqttPacket.generate({ cmd: 'pingresp' }, { protocolVersion: 5 })]);
    // A packet mqtt-packet cannot write throws, as generate() does (the connection logs it and goes on).
    expect(() => packetBytes({ cmd: 'publish', topic: 't', payload, qos: 1, retain: false, dup: false }, 4)).toThrow();
  });

  it('PUBLISHes without properties and success PUBACKs, written without mqtt-packet, are byte for byte what it generates', () => {
    const topics = ['t', 'bench/x', 'cams/ü/€', 'a'.repeat(300), '/TopicA', 'x'.repeat(20_000)];
    const payloads = [Buffer.alloc(0), Buffer.from('21.5'), Buffer.alloc(100, 1), Buffer.alloc(1023, 2), Buffer.alloc(1024, 3), Buffer.alloc(20_000, 4), Buffer.alloc(2_100_000, 5)];
    for (const version of [3, 4, 5]) {
      for (const topic of topics) {
        for (const payload of payloads) {
          for (const qos of [0, 1, 2] as const) {
            for (const flags of [{ retain: false, dup: false }, { retain: true, dup: true }]) {
              const packet: IPublishPacket = { cmd: 'publish', topic, payload, qos, ...flags, ...(qos > 0 ? { messageId: qos === 1 ? 1 : 65535 } : {}) };
              // Buffer.equals: vitest's toEqual compares megabytes byte by byte, far too slowly.
              expect(Buffer.concat(packetBytes(packet, version)).equals(mqttPacket.generate(packet, { protocolVersion: version }))).toBe(true);
            }
          }
        }
      }
      for (const messageId of [0, 1, 255, 256, 65535]) {
        const ack: Packet = { cmd: 'puback', messageId, ...(version === 5 ? { reasonCode: 0 } : {}) };
        expect(packetBytes(ack, version)).toEqual([mqttPacket.generate(ack, { protocolVersion: version })]);
      }
    }
    // A refusal keeps its reason code (and reason string): mqtt-packet writes it.
    const refused: Packet = { cmd: 'puback', messageId: 9, reasonCode: 0x87, properties: { reasonString: 'no' } };
    expect(packetBytes(refused, 5)).toEqual([mqttPacket.generate(refused, { protocolVersion: 5 })]);
  });
});
