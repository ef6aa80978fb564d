// MQTT 5 shared subscriptions (`$share/<group>/<filter>`, also accepted from MQTT 3.1.1 clients
// as mosquitto does): the clients subscribed with the same group name and filter on one listener
// form a group, and each message goes to one member of it, round-robin over the connected members.
// Every member's WAMP session subscribes the filter's URIs as usual, so the broker hands each
// publication to all of them in one synchronous pass; the first member's EVENT routes it and the
// others' (the same publication ID) are dropped.
// A member that loses its connection or leaves (UNSUBSCRIBE, session end) gives its unacknowledged
// messages of the group to the other members: QoS 1 ones in flight or waiting, QoS 2 ones not yet
// sent. A QoS 2 message already sent stays with its member, to be completed when it reconnects or
// lost with its session [MQTT-4.8.2-4] [MQTT-4.8.2-5].

import type { IPublishPacket } from 'mqtt-packet';
import type * as M from '../../wamp/message.js';
import type { EncodingCache } from '../../core-boundary.js';

/** Marks a queued PUBLISH as a message of a group (a symbol key: copied by spreads, never written by mqtt-packet). */
export const SHARE_GROUP = Symbol('shared subscription group');
export type SharedPacket = IPublishPacket & { [SHARE_GROUP]?: SharedGroup };

/** A client of a group, as the group uses it (its MqttWampSession). */
export interface ShareMember {
  /** Its client is connected (a member away, with a persistent session, is chosen only when none is). */
  readonly connected: boolean;
  /** Sends one message of the group to the client, at its subscription's QoS and with its identifier. */
  receive(group: SharedGroup, event: M.WampMessage, cache: EncodingCache | undefined): void;
  /** Sends a message another member gave back. */
  receiveGiven(group: SharedGroup, packet: IPublishPacket): void;
  /** Takes out of its delivery queue the group's messages it may give to another member. */
  giveBack(group: SharedGroup): IPublishPacket[];
}

/** `$share/<group>/<filter>`: its group name and filter; `invalid` when the shape is wrong [MQTT-4.8.2-1] [MQTT-4.8.2-2]; undefined when not shared. */
export function parseShared(topic: string): { group: string; filter: string } | 'invalid' | undefined {
  if (!topic.startsWith('$share/')) return undefined;
  const slash = topic.indexOf('/', 7);
  if (slash < 0) return 'invalid';
  const group = topic.slice(7, slash);
  const filter = topic.slice(slash + 1);
  if (group === '' || /[+#]/.test(group) || filter === '') return 'invalid';
  return { group, filter };
}

export class SharedGroup {
  readonly members: ShareMember[] = [];
  /** The member chosen last (round-robin goes on from the next one). */
  private turn = -1;
  /** The publication routed last: the other members' EVENTs of it are dropped. */
  private lastPublication: unknown;

  constructor(readonly name: string, readonly filter: string, private readonly groups: SharedGroups) {}

  /** An EVENT one member's session got: to one member, once per publication. */
  route(event: M.WampMessage, cache: EncodingCache | undefined): void {
    if (event[2] === this.lastPublication) return;
    this.lastPublication = event[2];
    this.pick(undefined)?.receive(this, event, cache);
  }

  /** The next member round-robin, a connected one if any; never `except`. */
  private pick(except: ShareMember | undefined): ShareMember | undefined {
    const count = this.members.length;
    let away: ShareMember | undefined;
    for (let i = 1; i <= count; i++) {
      const index = (this.turn + i) % count;
      const member = this.members[index]!;
      if (member === except) continue;
      if (member.connected) {
        this.turn = index;
        return member;
      }
      away ??= member;
    }
    return away;
  }

  join(member: ShareMember): void {
    if (!this.members.includes(member)) this.members.push(member);
  }

  /** The member's client lost its connection: a connected member takes over its messages. */
  disconnected(member: ShareMember): void {
    this.handOver(member, true);
  }

  /** The member unsubscribed or its session ended: its messages go to the others, then the group forgets it. */
  leave(member: ShareMember): void {
    const index = this.members.indexOf(member);
    if (index < 0) return;
    this.handOver(member, false);
    this.members.splice(index, 1);
    if (index <= this.turn) this.turn--;
    if (this.members.length === 0) this.groups.forget(this);
  }

  private handOver(from: ShareMember, connectedOnly: boolean): void {
    // Given only to someone who can take them: a member away keeps its own until it is back.
    const first = this.pick(from);
    if (!first || (connectedOnly && !first.connected)) return;
    const packets = from.giveBack(this);
    for (let i = 0; i < packets.length; i++) {
      const to = i === 0 ? first : this.pick(from)!;
      to.receiveGiven(this, packets[i]!);
    }
  }
}

/** The groups of one listener, by group name and filter. */
export class SharedGroups {
  private readonly groups = new Map<string, SharedGroup>();

  /** The group of `$share/<name>/<filter>`, made when its first member joins. */
  group(name: string, filter: string): SharedGroup {
    const key = `${name}/${filter}`;
    let group = this.groups.get(key);
    if (!group) this.groups.set(key, (group = new SharedGroup(name, filter, this)));
    return group;
  }

  forget(group: SharedGroup): void {
    const key = `${group.name}/${group.filter}`;
    if (this.groups.get(key) === group) this.groups.delete(key);
  }

  get size(): number {
    return this.groups.size;
  }
}
