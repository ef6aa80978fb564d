// What the broker keeps of past publications, bounded (issue 19 #11) and found without scanning
// (issue 19 #4): retained events in a topic tree with a topic and byte budget, event history with a
// byte budget, both through a real router and its meta API.
import { describe, it, expect } from 'vitest';
import { Router } from '../../../src/router/router.js';
import { InProcessServices } from '../../../src/router-services/in-process-services.js';
import { EventStore, type StoredEvent } from '../../../src/router/event-store.js';
import { TopicTree } from '../../../src/router/topic-tree.js';
import { uriMatches } from '../../../src/wamp/uri.js';
import type { MatchPolicy, RealmConfig } from '../../../src/config/types.js';
import { allowAll, join, tick } from '../../helpers/core.js';

const KB = 1024;
const MIB = 1024 * KB;

function routerWith(store: Partial<NonNullable<RealmConfig['store']>>): Router {
  return new Router([{ name: 'realm1', roles: [allowAll()], store: { type: 'memory', limit: 100, callQueue: [], eventHistory: [], ...store } }], new InProcessServices());
}

function event(topic: string, seq: number, bytes = 100): StoredEvent {
  return { seq, publication: seq, topic, timestamp: '', args: [seq], kwargs: undefined, publisher: { session: 1, authid: 'a', authrole: 'r' }, disclosed: false, options: {}, bytes };
}

describe('topic tree (retained lookups without a scan)', () => {
  it('issue 19 #4: finds under every match policy exactly what testing each topic would find', () => {
    const topics = ['a', 'a.b', 'a.b.c', 'a.bc', 'a.bc.d', 'a.x.c', 'b.b.c', 'ab', 'ab.c', 'a.b.c.d'];
    const tree = new TopicTree<string>();
    for (const t of topics) tree.set(t, t);
    tree.set('gone.soon', 'gone.soon');
    tree.delete('gone.soon');
    const patterns: Array<[string, MatchPolicy]> = [
      ['a', 'exact'], ['a.b', 'exact'], ['a.q', 'exact'], ['gone.soon', 'exact'],
      ['a', 'prefix'], ['a.', 'prefix'], ['a.b', 'prefix'], ['a.b.', 'prefix'], ['', 'prefix'], ['ab', 'prefix'], ['gone', 'prefix'],
      ['a..c', 'wildcard'], ['..c', 'wildcard'], ['a.', 'wildcard'], ['.', 'wildcard'], ['a.b..d', 'wildcard'], ['gone.', 'wildcard'],
    ];
    for (const [pattern, match] of patterns) {
      const found: string[] = [];
      tree.collect(pattern, match, found);
      expect(found.sort(), `${match} '${pattern}'`).toEqual(topics.filter((t) => uriMatches(pattern, match, t)).sort());
    }
  });
});

describe('retained events of a large match', () => {
  it('issue 19 #4: go out over several event-loop turns, and never an older one after a newer live publication', async () => {
    // Enough that replaying them takes several 10 ms slices even on a fast idle machine (10,000
    // sometimes fitted in one, and the timer below then ran only after the replay).
    const COUNT = 40_000;
    const router = routerWith({ retained: { maxTopics: COUNT, maxBytes: 64 * MIB } });
    const publisher = await join(router);
    for (let i = 0; i < COUNT; i++) await publisher.publish(`r.${i}`, [`old ${i}`], {}, { retain: true, acknowledge: true });
    const reader = await join(router);
    const got = new Map<string, string[]>();
    let timerFiredAfter = -1;
    await reader.subscribe('r.', (args, _kwargs, details) => {
      const topic = details['topic'] as string;
      got.set(topic, [...(got.get(topic) ?? []), args[0] as string]);
    }, { match: 'prefix', get_retained: true });
    setTimeout(() => (timerFiredAfter = got.size), 0);
    // Published while the retained events are still going out: the subscriber gets it live, and
    // the replay must not follow it with the older retained value.
    await publisher.publish(`r.${COUNT - 1}`, ['new'], {}, { acknowledge: true });
    await publisher.publish(`r.${COUNT - 2}`, ['newer, retained'], {}, { acknowledge: true, retain: true });
    const deadline = Date.now() + 10_000;
    while (got.size < COUNT && Date.now() < deadline) await tick(10);
    expect(got.size).toBe(COUNT);
    expect(timerFiredAfter).toBeGreaterThan(-1);
    expect(timerFiredAfter).toBeLessThan(COUNT); // a timer ran before the replay was over
    expect(got.get(`r.${COUNT - 1}`)).toEqual(['new']);
    expect(got.get(`r.${COUNT - 2}`)).toEqual(['newer, retained']);
    expect(got.get('r.0')).toEqual(['old 0']);
  });
});

describe('retained events: bounded in topics and bytes (store.retained)', () => {
  it('issue 19 #11: a full store keeps what it has and refuses new topics; updates that fit still replace', () => {
    const store = new EventStore([], { maxTopics: 3, maxBytes: 1000 }, 'realm1');
    for (let i = 0; i < 3; i++) expect(store.retain(event(`t.${i}`, i))).toBe(true);
    expect(store.retain(event('t.new', 10))).toBe(false);
    expect(store.retainedFor('t.new', 'exact')).toEqual([]);
    expect(store.retain(event('t.1', 11))).toBe(true);
    expect(store.retainedFor('t.', 'prefix').map((e) => e.seq)).toEqual([0, 2, 11]);
    // A new event that does not fit takes the topic's old one with it: it is no longer the latest.
    expect(store.retain(event('t.2', 12, 900))).toBe(false);
    expect(store.retainedFor('t.2', 'exact')).toEqual([]);
    expect(store.retainedUsage).toEqual({ topics: 2, bytes: 200 });
    // Room again: a new topic is retained.
    expect(store.retain(event('t.new', 13, 700))).toBe(true);
    expect(store.retainedUsage).toEqual({ topics: 3, bytes: 900 });
  });

  it('issue 19 #11: 2,000 retained publications of 256 kB keep at most store.retained.max_bytes, and the first topics stay', async () => {
    const router = routerWith({ retained: { maxTopics: 10_000, maxBytes: 4 * MIB } });
    const publisher = await join(router);
    const blob = 'x'.repeat(256 * KB);
    for (let i = 0; i < 2000; i++) await publisher.publish(`big.${i}`, [blob], {}, { retain: true, acknowledge: true });
    const usage = router.realm('realm1')!.broker.store.retainedUsage;
    expect(usage.bytes).toBeLessThanOrEqual(4 * MIB);
    expect(usage.topics).toBe(15); // 4 MiB / (256 kB + the record)
    const reader = await join(router);
    const got: string[] = [];
    await reader.subscribe('big.', (_args, _kwargs, details) => got.push(details['topic'] as string), { match: 'prefix', get_retained: true });
    await tick(5);
    expect(got).toEqual(Array.from({ length: 15 }, (_, i) => `big.${i}`));
  });
});

describe('retained events: MQTT Message Expiry (_mqtt_expires_at)', () => {
  it('[MQTT-3.3.2-5] a retained event whose interval passed is not given out and is forgotten', () => {
    const store = new EventStore([], { maxTopics: 10, maxBytes: 10_000 }, 'realm1');
    const now = Date.now();
    const expiring = (topic: string, seq: number, at: number): StoredEvent => ({ ...event(topic, seq), options: { _mqtt_expires_at: at } });
    store.retain(expiring('m.gone', 1, now - 1));
    store.retain(expiring('m.kept', 2, now + 60_000));
    store.retain(event('m.plain', 3));
    store.retain(expiring('x.gone', 4, now - 1));
    expect(store.retainedFor('m.', 'prefix').map((e) => e.topic)).toEqual(['m.kept', 'm.plain']);
    expect(store.retainedFor('x.gone', 'exact')).toEqual([]);
    expect(store.retainedUsage.topics).toBe(2);
  });
});

describe('event history: bounded in bytes (event-history max_bytes)', () => {
  it('issue 19 #11: an entry keeps its newest events within max_bytes, whatever its count limit', async () => {
    const router = routerWith({ eventHistory: [{ uri: 'log.', match: 'prefix', limit: 1000, maxBytes: 64 * KB }] });
    const publisher = await join(router);
    const reader = await join(router);
    const subscription = await reader.subscribe('log.', () => {}, { match: 'prefix' });
    for (let i = 0; i < 100; i++) await publisher.publish('log.line', [i, 'y'.repeat(16 * KB)], {}, { acknowledge: true });
    const events = (await reader.call('wamp.subscription.get_events', [subscription], { limit: 1000 })).args[0] as Array<{ args: unknown[] }>;
    // 64 kB hold three events of 16 kB and their records; the newest are the ones kept.
    expect(events.map((e) => e.args[0])).toEqual([99, 98, 97]);
  });
});
