// Shared subscription groups without sockets (src/transports/mqtt-listener/shared-groups.ts): the
// shape of `$share/<group>/<filter>`, round-robin over connected members, one delivery per
// publication, and what a leaving member hands over (with its real DeliveryQueue).
import { describe, it, expect } from 'vitest';
import type { IPublishPacket, Packet } from 'mqtt-packet';
import * as M from '../../../../src/wamp/message.js';
import { DeliveryQueue } from '../../../../src/transports/mqtt-listener/delivery-queue.js';
import { parseShared, SharedGroups, SHARE_GROUP, type ShareMember, type SharedGroup, type SharedPacket } from '../../../../src/transports/mqtt-listener/shared-groups.js';

/** A member with a real delivery queue: what its client was sent. */
class Member implements ShareMember {
  readonly written: Packet[] = [];
  connected = true;
  readonly queue = new DeliveryQueue({ write: (p) => this.written.push(p), get connected() { return true; } }, { maxInflight: 10, maxWaiting: 100, maxBytes: 1 << 20 });
  constructor(readonly name: string) {}
  receive(group: SharedGroup, event: M.WampMessage): void {
    const packet: SharedPacket = { cmd: 'publish', topic: 't', payload: Buffer.from(String(event[2])), qos: (event[3] as M.Dict)['_mqtt_qos'] as 0 | 1 | 2, retain: false, dup: false };
    packet[SHARE_GROUP] = group;
    this.queue.push(packet);
  }
  receiveGiven(group: SharedGroup, packet: IPublishPacket): void {
    this.queue.push({ ...packet, [SHARE_GROUP]: group } as SharedPacket);
  }
  giveBack(group: SharedGroup): IPublishPacket[] {
    return this.queue.takeBack((p, sent) => (p as SharedPacket)[SHARE_GROUP] === group && (p.qos === 1 || !sent));
  }
  get got(): string[] {
    return this.written.filter((p): p is IPublishPacket => p.cmd === 'publish').map((p) => String(p.payload));
  }
}

const event = (publication: number, qos = 1): M.WampMessage => [M.EVENT, 1, publication, { _mqtt_qos: qos }];

describe('shared subscriptions: groups', () => {
  it('[MQTT-4.8.2-1] [MQTT-4.8.2-2] $share/<group>/<filter>: a group name of one character or more without / + #, then / and a filter', () => {
    expect(parseShared('a/b')).toBeUndefined();
    expect(parseShared('$share/g/a/#')).toEqual({ group: 'g', filter: 'a/#' });
    expect(parseShared('$share/g//')).toEqual({ group: 'g', filter: '/' });
    for (const bad of ['$share/', '$share/g', '$share//a', '$share/g+/a', '$share/#/a', '$share/g/']) expect(parseShared(bad)).toBe('invalid');
  });

  it('each publication goes to one member, round-robin over the connected ones, however many members got its EVENT', () => {
    const groups = new SharedGroups();
    const group = groups.group('g', 'a/#');
    const members = ['a', 'b', 'c'].map((n) => new Member(n));
    for (const m of members) group.join(m);
    members[1]!.connected = false;
    for (let p = 1; p <= 6; p++) for (let copy = 0; copy < 3; copy++) group.route(event(p), undefined);
    expect(members.map((m) => m.got)).toEqual([['1', '3', '5'], [], ['2', '4', '6']]);
  });

  it('a member leaving gives its unacknowledged QoS 1 messages and its unsent QoS 2 ones to the others; a QoS 2 message already sent stays [MQTT-4.8.2-5]', () => {
    const groups = new SharedGroups();
    const group = groups.group('g', 'a/#');
    const [a, b] = [new Member('a'), new Member('b')];
    group.join(a);
    group.join(b);
    group.route(event(1, 1), undefined); // a
    group.route(event(2, 1), undefined); // b
    group.route(event(3, 2), undefined); // a, sent
    b.connected = false;
    group.route(event(4, 1), undefined); // a
    a.queue.acknowledged((a.written[0] as IPublishPacket).messageId!); // 1 acknowledged
    b.connected = true;
    group.leave(a);
    expect(b.got).toEqual(['2', '4']);
    expect(a.queue.queued).toBe(1); // the QoS 2 message in flight
    expect(group.members).toEqual([b]);
    group.leave(b);
    expect(groups.size).toBe(0);
  });

  it('a member away keeps its messages when no connected member could take them', () => {
    const group = new SharedGroups().group('g', 'x');
    const [a, b] = [new Member('a'), new Member('b')];
    group.join(a);
    group.join(b);
    group.route(event(1), undefined);
    b.connected = false;
    a.connected = false;
    group.disconnected(a);
    expect(a.queue.queued).toBe(1);
    expect(b.got).toEqual([]);
  });
});
