// The listener's $SYS/ tree without sockets: what it publishes, to whom, and when.
import { describe, it, expect } from 'vitest';
import type { IPublishPacket } from 'mqtt-packet';
import { MqttTraffic, SysTopics, isSysTopic, isValidFilter, type BrokerFigures } from '../../../../src/transports/mqtt-listener/sys-topics.js';

class Client {
  connected = true;
  readonly got: Array<{ topic: string; payload: string; retain: boolean; qos: number }> = [];
  deliver(packet: IPublishPacket): void {
    this.got.push({ topic: packet.topic, payload: packet.payload.toString(), retain: packet.retain, qos: packet.qos });
  }
}

function tree(figures: Partial<BrokerFigures> = {}) {
  const traffic = new MqttTraffic();
  const now: BrokerFigures = { connected: 1, disconnected: 0, subscriptions: 0, retained: 0, ...figures };
  return { traffic, now, sys: new SysTopics(10, traffic, () => now) };
}

describe('$SYS/ tree', () => {
  it('isSysTopic: the first level is $SYS; isValidFilter: + and # only as whole levels, # last', () => {
    expect(['$SYS', '$SYS/#', '$SYS/broker/uptime'].every(isSysTopic)).toBe(true);
    expect(['$SYSTEM/x', '#', '+/broker', 'a/$SYS', '$sys/x'].some(isSysTopic)).toBe(false);
    expect(['$SYS/#', '$SYS/+/clients/+', '$SYS/broker/retained messages/count'].every(isValidFilter)).toBe(true);
    expect(['$SYS/#/x', '$SYS/bro+', '$SYS/a#'].some(isValidFilter)).toBe(false);
  });

  it('a subscription gets the retained values at once (retain set); refreshes send what changed, not flagged retained, at QoS 0', () => {
    const { sys, traffic, now } = tree();
    sys.refresh();
    const client = new Client();
    sys.subscribe(client, '$SYS/broker/clients/+', false);
    sys.sendRetained(client, '$SYS/broker/clients/+');
    expect(client.got.map((m) => m.topic).sort()).toEqual(['$SYS/broker/clients/connected', '$SYS/broker/clients/disconnected', '$SYS/broker/clients/maximum', '$SYS/broker/clients/total']);
    expect(client.got.every((m) => m.retain && m.qos === 0)).toBe(true);
    client.got.length = 0;
    traffic.messagesReceived = 5; // not under the filter
    now.connected = 3;
    sys.refresh();
    expect(client.got).toEqual([
      { topic: '$SYS/broker/clients/connected', payload: '3', retain: false, qos: 0 },
      { topic: '$SYS/broker/clients/maximum', payload: '3', retain: false, qos: 0 },
      { topic: '$SYS/broker/clients/total', payload: '3', retain: false, qos: 0 },
    ]);
    client.got.length = 0;
    now.connected = 2; // the maximum stays 3
    sys.refresh();
    expect(client.got.map((m) => `${m.topic} ${m.payload}`)).toEqual(['$SYS/broker/clients/connected 2', '$SYS/broker/clients/total 2']);
  });

  it('one message per client however many of its filters match; Retain As Published keeps the flag; unsubscribe and forget stop it', () => {
    const { sys, traffic } = tree();
    sys.refresh();
    const client = new Client();
    sys.subscribe(client, '$SYS/#', false);
    sys.subscribe(client, '$SYS/broker/messages/+', true);
    traffic.messagesSent = 7;
    sys.refresh();
    const sent = client.got.filter((m) => m.topic === '$SYS/broker/messages/sent');
    expect(sent).toEqual([{ topic: '$SYS/broker/messages/sent', payload: '7', retain: true, qos: 0 }]);
    expect(sys.filterCount).toBe(2);
    // A persistent session waiting for its client is not sent figures (QoS 0: they would count as lost).
    client.connected = false;
    client.got.length = 0;
    traffic.messagesSent = 9;
    sys.refresh();
    expect(client.got).toEqual([]);
    client.connected = true;
    expect(sys.unsubscribe(client, '$SYS/broker/messages/+')).toBe(true);
    expect(sys.unsubscribe(client, '$SYS/broker/messages/+')).toBe(false);
    sys.forget(client);
    expect(sys.filterCount).toBe(0);
    client.got.length = 0;
    traffic.messagesSent = 8;
    sys.refresh();
    expect(client.got).toEqual([]);
  });

  it('without a known retained count the topic is left out; interval 0 publishes nothing', () => {
    const { sys } = tree({ retained: undefined });
    sys.refresh();
    const client = new Client();
    sys.sendRetained(client, '$SYS/#');
    expect(client.got.map((m) => m.topic)).not.toContain('$SYS/broker/retained messages/count');
    expect(client.got.map((m) => m.topic)).toContain('$SYS/broker/version');
    const off = new SysTopics(0, new MqttTraffic(), () => ({ connected: 0, disconnected: 0, subscriptions: 0, retained: 0 }));
    off.start();
    const silent = new Client();
    off.sendRetained(silent, '$SYS/#');
    off.stop();
    expect(silent.got).toEqual([]);
  });
});
