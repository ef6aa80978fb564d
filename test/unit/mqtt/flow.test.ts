// MQTT 5 flow control and expiry in the listener's parts without sockets: topic aliases
// (topic-aliases.ts), the client's Receive Maximum and Message Expiry in the DeliveryQueue, the
// expiry attributes (mqtt/properties.ts). With real clients: test/interop/mqtt-flow.test.ts.
import { describe, it, expect, vi, afterEach } from 'vitest';
import type { IPublishPacket, Packet } from 'mqtt-packet';
import { DeliveryQueue } from '../../../src/transports/mqtt-listener/delivery-queue.js';
import { InboundAliases, OutboundAliases } from '../../../src/transports/mqtt-listener/topic-aliases.js';
import { clientPacketViolation } from '../../../src/transports/mqtt-listener/checks.js';
import { addPublishOptions, publishProperties } from '../../../src/mqtt/properties.js';

const MIB = 1024 * 1024;
const publish = (topic: string, properties?: IPublishPacket['properties'], qos: 0 | 1 | 2 = 1): IPublishPacket =>
  ({ cmd: 'publish', topic, payload: Buffer.from('x'), qos, retain: false, dup: false, ...(properties ? { properties } : {}) });

afterEach(() => {
  vi.useRealTimers();
});

describe('topic aliases', () => {
  it('[MQTT-3.3.2-12] from the client: an alias with a topic sets it, the alias alone gives the topic; an alias never set gives none', () => {
    const aliases = new InboundAliases();
    expect(aliases.resolve(publish('a/b'), 1)).toBe('a/b');
    const alone = publish('');
    expect(aliases.resolve(alone, 1)).toBe('a/b');
    expect(alone.topic).toBe('a/b');
    expect(aliases.resolve(publish('c'), 1)).toBe('c'); // set again to another topic
    expect(aliases.resolve(publish(''), 2)).toBeUndefined();
  });

  it('[MQTT-3.3.2-8] [MQTT-3.3.2-9] checks: alias 0 and above the maximum are 0x94; an empty topic needs an alias', () => {
    expect(clientPacketViolation(publish('t', { topicAlias: 0 }, 0), MIB, 10)?.reasonCode).toBe(0x94);
    expect(clientPacketViolation(publish('t', { topicAlias: 11 }, 0), MIB, 10)?.reasonCode).toBe(0x94);
    expect(clientPacketViolation(publish('', { topicAlias: 10 }, 0), MIB, 10)).toBeUndefined();
    expect(clientPacketViolation(publish('', undefined, 0), MIB, 10)?.reasonCode).toBe(0x82);
  });

  it('[MQTT-3.3.2-11] to the client: at most its maximum, the name once, then the alias alone; the queued packet is left as it was', () => {
    const aliases = new OutboundAliases(1);
    const sent: IPublishPacket[] = [];
    const out = { send: (p: IPublishPacket) => sent.push(p) > 0 };
    const a = publish('a');
    aliases.send(a, out);
    aliases.send(a, out);
    aliases.send(publish('b'), out);
    expect(sent.map((p) => [p.topic, p.properties?.topicAlias])).toEqual([['a', 1], ['', 1], ['b', undefined]]);
    expect(a).toEqual(publish('a'));
  });

  it('an alias whose first packet was not written (a QoS 0 dropped by a full send queue) is not used', () => {
    const aliases = new OutboundAliases(5);
    const sent: IPublishPacket[] = [];
    aliases.send(publish('a', undefined, 0), { send: () => false });
    aliases.send(publish('a', undefined, 0), { send: (p) => sent.push(p) > 0 });
    expect(sent.map((p) => [p.topic, p.properties?.topicAlias])).toEqual([['a', 1]]);
  });
});

describe("delivery queue: the client's Receive Maximum and Message Expiry", () => {
  function sink() {
    const written: Packet[] = [];
    return { written, connected: true, write: (p: Packet) => written.push(p) };
  }

  it('[MQTT-3.3.4-9] at most the Receive Maximum in flight, below the configured maxInflight', () => {
    const s = sink();
    const box = new DeliveryQueue(s, { maxInflight: 10, maxWaiting: 100, maxBytes: MIB });
    box.receiveMaximum(2);
    for (let i = 0; i < 5; i++) box.push(publish(`t/${i}`));
    expect(s.written).toHaveLength(2);
    box.acknowledged((s.written[0] as IPublishPacket).messageId!);
    expect(s.written).toHaveLength(3);
    box.receiveMaximum(65_535); // a client with none: the config's bound
    for (let i = 5; i < 20; i++) box.push(publish(`t/${i}`));
    box.acknowledged((s.written[1] as IPublishPacket).messageId!);
    expect(s.written).toHaveLength(12); // 2 acknowledged, 10 in flight
  });

  it('[MQTT-3.3.4-9] [MQTT-3.3.4-10] after a reconnect with a smaller Receive Maximum: PUBRELs go out, PUBLISHes beyond it are resent (same IDs) as room is made', () => {
    const s = sink();
    const box = new DeliveryQueue(s, { maxInflight: 10, maxWaiting: 100, maxBytes: MIB });
    for (let i = 0; i < 4; i++) box.push(publish(`t/${i}`, undefined, 2));
    box.push(publish('t/4'));
    const ids = s.written.map((p) => (p as IPublishPacket).messageId!);
    box.received(ids[0]!); // PUBREC: released
    s.written.length = 0;
    s.connected = false;
    box.receiveMaximum(2);
    s.connected = true;
    box.resume();
    const sent = () => s.written.map((p) => (p.cmd === 'pubrel' ? ['pubrel', p.messageId] : [(p as IPublishPacket).topic, p.messageId, (p as IPublishPacket).dup]));
    expect(sent()).toEqual([['pubrel', ids[0]], ['t/1', ids[1], true]]);
    box.acknowledged(ids[0]!); // PUBCOMP
    expect(sent().slice(2)).toEqual([['t/2', ids[2], true]]);
    box.acknowledged(ids[1]!);
    box.acknowledged(ids[2]!);
    expect(sent().slice(3)).toEqual([['t/3', ids[3], true], ['t/4', ids[4], true]]);
    box.push(publish('t/5'));
    expect(sent()).toHaveLength(5); // two in flight: t/5 waits
    box.acknowledged(ids[3]!);
    expect(sent().slice(5)).toEqual([['t/5', expect.any(Number), false]]);
  });

  it('[MQTT-3.3.4-9] a PUBLISH held after a reconnect goes out when a shared group takes a sent one back', () => {
    const s = sink();
    const box = new DeliveryQueue(s, { maxInflight: 10, maxWaiting: 100, maxBytes: MIB });
    for (let i = 0; i < 3; i++) box.push(publish(`t/${i}`));
    s.written.length = 0;
    box.receiveMaximum(1);
    box.resume();
    expect(s.written.map((p) => (p as IPublishPacket).topic)).toEqual(['t/0']);
    expect(box.takeBack((p) => p.topic === 't/0').map((p) => p.topic)).toEqual(['t/0']);
    expect(s.written.map((p) => (p as IPublishPacket).topic)).toEqual(['t/0', 't/1']);
    expect(box.takeBack((p) => p.topic === 't/2').map((p) => p.topic)).toEqual(['t/2']); // held: taken, never sent
    box.acknowledged((s.written[1] as IPublishPacket).messageId!);
    expect(box.queued).toBe(0);
  });

  it('[MQTT-3.3.2-5] [MQTT-3.3.2-6] a waiting message goes out with what is left of its interval, or not at all once it passed', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const s = sink();
    s.connected = false;
    const box = new DeliveryQueue(s, { maxInflight: 10, maxWaiting: 100, maxBytes: MIB });
    box.push(publish('short', { messageExpiryInterval: 2 }));
    box.push(publish('long', { messageExpiryInterval: 10 }));
    box.push(publish('none'));
    vi.setSystemTime(1_000_000 + 2_500);
    s.connected = true;
    box.resume();
    expect(s.written.map((p) => [(p as IPublishPacket).topic, (p as IPublishPacket).properties?.messageExpiryInterval])).toEqual([['long', 8], ['none', undefined]]);
    expect(box.expired).toBe(1);
    box.acknowledged((s.written[0] as IPublishPacket).messageId!);
    box.acknowledged((s.written[1] as IPublishPacket).messageId!);
    expect(box.bytes).toBe(0);
  });
});

describe('MQTT 5 properties ↔ WAMP attributes', () => {
  it('[MQTT-3.3.2-4] [MQTT-3.3.2-20] Payload Format Indicator and Content Type go to WAMP and back unaltered', () => {
    const options: Record<string, unknown> = {};
    addPublishOptions(options, false, Buffer.from('ON'), { payloadFormatIndicator: true, contentType: 'text/plain' });
    expect(options).toEqual({ _mqtt_payload_format_indicator: 1, _mqtt_content_type: 'text/plain' });
    expect(publishProperties(options).properties).toEqual({ payloadFormatIndicator: true, contentType: 'text/plain' });
    expect(publishProperties({ _mqtt_payload_format_indicator: 0 }).properties).toEqual({ payloadFormatIndicator: false });
    expect(publishProperties({ _mqtt_payload_format_indicator: 'yes' }).dropped).toEqual(['payload format indicator']);
  });

  it('[MQTT-3.3.2-6] Message Expiry Interval: the interval and its deadline go to WAMP; each delivery forwards what is left, none once passed', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(5_000_000);
    const options: Record<string, unknown> = {};
    addPublishOptions(options, false, Buffer.from('1'), { messageExpiryInterval: 60 });
    expect(options).toEqual({ _mqtt_message_expiry_interval: 60, _mqtt_expires_at: 5_060_000 });
    vi.setSystemTime(5_000_000 + 20_500);
    expect(publishProperties(options)).toMatchObject({ properties: { messageExpiryInterval: 40 }, expired: false });
    vi.setSystemTime(5_060_000);
    expect(publishProperties(options)).toMatchObject({ properties: {}, expired: true });
    // A WAMP publisher's interval alone counts from each delivery.
    expect(publishProperties({ _mqtt_message_expiry_interval: 30 }).properties).toEqual({ messageExpiryInterval: 30 });
    expect(publishProperties({ _mqtt_message_expiry_interval: -1 }).dropped).toEqual(['message expiry interval']);
  });
});
