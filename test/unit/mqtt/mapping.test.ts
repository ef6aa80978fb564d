// The MQTT ⇄ WAMP mapping (src/mqtt/mapping.ts, src/mqtt/level-encoding.ts): every MQTT topic name
// has a URI and comes back from it unchanged, filters match through WAMP exactly the topics MQTT
// says they match, and payloads: JSON as JSON, other UTF-8 text as a string, other bytes as binary.
import { describe, it, expect } from 'vitest';
import { MqttMapping } from '../../../src/mqtt/mapping.js';
import { decodeLevel, encodeLevel } from '../../../src/mqtt/level-encoding.js';
import { isValidPattern, isValidUri, uriMatches } from '../../../src/wamp/uri.js';

const mapping = new MqttMapping({ topicPrefix: 'mqtt.', payload: [{ prefix: '', type: 'native' }, { prefix: 'mqtt.raw.', type: 'passthrough' }] });
const bare = new MqttMapping({ topicPrefix: '', payload: [] });

/** MQTT's own matching of a topic name by a filter [MQTT-4.7.1] (the `$` rule, [MQTT-4.7.2-1], is the listener's, not the mapping's). */
function mqttMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true; // also the parent level: `a/#` matches `a` [MQTT-4.7.1-2]
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Whether the WAMP subscriptions a filter maps to match the URI a topic maps to. */
function wampMatches(m: MqttMapping, filter: string, topic: string): boolean {
  const uri = m.topicToUri(topic)!;
  return m.filterToSubscriptions(filter)!.some((s) => uriMatches(s.uri, s.match, uri));
}

/** A small deterministic generator, so a failure can be run again. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x80000000;
  };
}

// Characters a topic level may hold, the awkward ones many times over: URI separators and
// whitespace, the escape itself, look-alike escapes, non-ASCII and non-BMP.
const ALPHABET = ['a', 'B', '1', '_', '-', '.', '.', '%', '%', ' ', ' ', '\t', '\n', '\u00a0', '\u3000', '\u2028', '2', 'E', 'F', 'ü', '€', '😀', '$', ':', '\u0001'];

function randomTopic(next: () => number): string {
  const levels = 1 + Math.floor(next() * 5);
  const out: string[] = [];
  for (let l = 0; l < levels; l++) {
    const length = Math.floor(next() * 4); // 0: an empty level
    let level = '';
    for (let c = 0; c < length; c++) level += ALPHABET[Math.floor(next() * ALPHABET.length)];
    out.push(level);
  }
  const topic = out.join('/');
  return topic === '' ? '/' : topic; // the empty string is no topic name [MQTT-4.7.3-1]
}

describe('topic ↔ URI: reversible for every topic name', () => {
  it('the common case is unchanged: `a/b/c` ↔ `<prefix>a.b.c`, capitals, dashes, `$` and non-ASCII as they are', () => {
    expect(mapping.topicToUri('home/kitchen/temp')).toBe('mqtt.home.kitchen.temp');
    expect(mapping.uriToTopic('mqtt.home.kitchen.temp')).toBe('home/kitchen/temp');
    expect(bare.topicToUri('tele/Plug-1/STATE')).toBe('tele.Plug-1.STATE');
    expect(bare.topicToUri('sensors/ü/temp')).toBe('sensors.ü.temp');
    expect(bare.uriToTopic('sensors.ü.temp')).toBe('sensors/ü/temp');
    expect(mapping.uriToTopic('other.topic')).toBeUndefined(); // outside the prefix
  });

  it('[MQTT-4.7.1] empty levels are topic levels: `/TopicA` ↔ `%.TopicA`, `a//b` ↔ `a.%.b`, `a/` ↔ `a.%`, `/` ↔ `%.%`', () => {
    const cases: Array<[string, string]> = [['/TopicA', '%.TopicA'], ['a//b', 'a.%.b'], ['a/', 'a.%'], ['/', '%.%'], ['//', '%.%.%'], ['/a/', '%.a.%']];
    for (const [topic, uri] of cases) {
      expect(bare.topicToUri(topic), topic).toBe(uri);
      expect(bare.uriToTopic(uri), uri).toBe(topic);
      expect(mapping.topicToUri(topic), topic).toBe(`mqtt.${uri}`);
      expect(mapping.uriToTopic(`mqtt.${uri}`), uri).toBe(topic);
    }
  });

  it('characters a URI component cannot hold are percent-escaped, and so is % itself: `.` %2E, space %20, `%` %25, U+00A0 %C2%A0', () => {
    expect(bare.topicToUri('my room/v1.2')).toBe('my%20room.v1%2E2');
    expect(bare.topicToUri('load/100%')).toBe('load.100%25');
    expect(bare.topicToUri('a\tb/c\nd')).toBe('a%09b.c%0Ad');
    expect(bare.topicToUri('x\u00a0y/\u3000')).toBe('x%C2%A0y.%E3%80%80');
    expect(bare.topicToUri('.')).toBe('%2E');
    expect(bare.uriToTopic('my%20room.v1%2E2')).toBe('my room/v1.2');
    expect(bare.uriToTopic('load.100%25')).toBe('load/100%');
  });

  it('random topics: each maps to a valid WAMP URI (loose, the default check) that maps back to the same topic; different topics, different URIs', () => {
    const next = random(15);
    const seen = new Map<string, string>();
    for (let i = 0; i < 5000; i++) {
      const topic = randomTopic(next);
      for (const m of [mapping, bare]) {
        const uri = m.topicToUri(topic);
        expect(uri !== undefined && isValidUri(uri), JSON.stringify(topic)).toBe(true);
        expect(m.uriToTopic(uri!), JSON.stringify(uri)).toBe(topic);
        if (m === bare) {
          const before = seen.get(uri!);
          expect(before === undefined || before === topic, `${JSON.stringify(before)} and ${JSON.stringify(topic)} share ${uri}`).toBe(true);
          seen.set(uri!, topic);
        }
      }
    }
  });

  it('what is no MQTT topic name has no URI: empty, a wildcard [MQTT-3.3.2-2], U+0000 [MQTT-1.5.4-2]', () => {
    for (const bad of ['', 'a/+', 'a/#', 'a+b', '#', 'a/\u0000']) expect(mapping.topicToUri(bad), JSON.stringify(bad)).toBeUndefined();
  });

  it('a URI has a topic only when each component is what some level encodes to: not `%41`, `%2e`, `%2F`, `%zz`, `a/b`, `+`, U+0000, nor the empty topic `%`', () => {
    for (const uri of ['%41', 'a.%2e', 'a%2Fb', '%23', '%2B', 'a.%zz', 'a/b', 'a.+', 'a.b+c%20', 'a.\u0000', '%', '%%', 'a.%C3', 'a.%80', 'a..b', '.a']) {
      expect(bare.uriToTopic(uri), JSON.stringify(uri)).toBeUndefined();
    }
    expect(mapping.uriToTopic('mqtt.%')).toBeUndefined();
    expect(mapping.uriToTopic('mqtt.')).toBeUndefined();
  });

  it('level encoding: a level and its component, both ways; only canonical components decode', () => {
    for (const level of ['', 'a', '.', '%', '%25', ' ', 'ä.ö', '😀']) expect(decodeLevel(encodeLevel(level))).toBe(level);
    expect(encodeLevel('%25')).toBe('%2525');
    expect(decodeLevel('%2525')).toBe('%25');
    expect(decodeLevel('%2e')).toBeUndefined();
  });

  it('the same topic twice maps to the same URI (the second time from the cache), and the cache has a bound', () => {
    const m = new MqttMapping({ topicPrefix: '', payload: [] });
    expect(m.topicToUri('a b/c')).toBe('a%20b.c');
    expect(m.topicToUri('a b/c')).toBe('a%20b.c');
    expect(m.topicToUri('a/+')).toBeUndefined();
    expect(m.topicToUri('a/+')).toBeUndefined(); // "has no URI" is remembered too
    for (let i = 0; i < 5000; i++) expect(m.topicToUri(`t/${i}`)).toBe(`t.${i}`);
    expect(m.uriToTopic('x.%')).toBe('x/');
    expect(m.uriToTopic('x.%')).toBe('x/');
    const long = `${'x'.repeat(300)}/y`;
    expect(m.topicToUri(long)).toBe(`${'x'.repeat(300)}.y`);
  });
});

describe('filters ↔ WAMP subscriptions', () => {
  it('`+` is a wildcard component, a trailing `#` a prefix (and its parent level), literal levels encoded as topics are', () => {
    expect(mapping.filterToSubscription('home/+/temp')).toEqual({ uri: 'mqtt.home..temp', match: 'wildcard' });
    expect(mapping.filterToSubscription('home/kitchen')).toEqual({ uri: 'mqtt.home.kitchen', match: 'exact' });
    expect(mapping.filterToSubscriptions('home/#')).toEqual([{ uri: 'mqtt.home.', match: 'prefix' }, { uri: 'mqtt.home', match: 'exact' }]);
    expect(mapping.filterToSubscriptions('#')).toEqual([{ uri: 'mqtt.', match: 'prefix' }]);
    expect(bare.filterToSubscriptions('/+')).toEqual([{ uri: '%.', match: 'wildcard' }]);
    expect(bare.filterToSubscriptions('a//#')).toEqual([{ uri: 'a.%.', match: 'prefix' }, { uri: 'a.%', match: 'exact' }]);
    expect(bare.filterToSubscriptions('/#')).toEqual([{ uri: '%.', match: 'prefix' }]); // its parent is the empty topic
    expect(bare.filterToSubscriptions('my room/+')).toEqual([{ uri: 'my%20room.', match: 'wildcard' }]);
  });

  it('`a/+/#` is the prefix `a.` and `+/#` everything: the same topics', () => {
    expect(bare.filterToSubscriptions('a/+/#')).toEqual([{ uri: 'a.', match: 'prefix' }]);
    expect(mapping.filterToSubscriptions('+/#')).toEqual([{ uri: 'mqtt.', match: 'prefix' }]);
  });

  it('[MQTT-4.7.1-1] [MQTT-4.7.1-2] invalid filters are refused: `a/b#`, `a/#/b`, `a+`, empty', () => {
    for (const bad of ['a/b#', 'a/#/b', 'a+', '+a/b', '', 'a/\u0000']) expect(mapping.filterToSubscriptions(bad), JSON.stringify(bad)).toBeUndefined();
  });

  it('[MQTT-4.7.1] filters with `+` before `#` that no WAMP pattern holds (`+/b/#`, `a/+/+/#`, `a/+/b/#`) take the prefix of their levels before the first `+`, marked broader (the listener checks each message)', () => {
    expect(mapping.filterToSubscriptions('+/b/#')).toEqual([{ uri: 'mqtt.', match: 'prefix', broader: true }]);
    expect(bare.filterToSubscriptions('a/+/+/#')).toEqual([{ uri: 'a.', match: 'prefix', broader: true }]);
    expect(bare.filterToSubscriptions('my room/x/+/b/#')).toEqual([{ uri: 'my%20room.x.', match: 'prefix', broader: true }]);
    expect(bare.filterToSubscriptions('+/b/#')).toEqual([{ uri: '', match: 'prefix', broader: true }]);
  });

  it('every pattern a filter maps to is a valid WAMP pattern for its match policy', () => {
    for (const filter of ['/+', 'a//#', '/#', '+', '+/+', 'a/+/#', '+/#', 'x y/+/z.w', '%/#']) {
      for (const m of [mapping, bare]) {
        for (const s of m.filterToSubscriptions(filter)!) expect(isValidPattern(s.uri, s.match), `${filter} → ${s.uri} (${s.match})`).toBe(true);
      }
    }
  });

  it('[MQTT-4.7.1] through WAMP a filter matches exactly the topics MQTT matches: the Paho interop topics and wildcards, and random ones', () => {
    // The Eclipse Paho interoperability suite's topics and wildcard filters (facts of that suite).
    const topics = ['TopicA', 'TopicA/B', 'Topic/C', 'TopicA/C', '/TopicA'];
    const filters = ['TopicA/+', '+/C', '#', '/#', '/+', '+/+', 'TopicA/#'];
    const next = random(4);
    const randomTopics = Array.from({ length: 300 }, () => randomTopic(next));
    const randomFilters = randomTopics.slice(0, 60).flatMap((t) => {
      const levels = t.split('/');
      const plus = levels.map((l, i) => (i % 2 === 0 ? '+' : l)).join('/');
      return [t, plus, `${levels[0]}/#`, `${levels.slice(0, -1).join('/')}/#`, `${levels[0]}/+/#`];
    });
    const allTopics = [...topics, ...randomTopics, 'a', 'a/', 'a//', 'a//b', '/', '//'];
    for (const filter of [...filters, ...randomFilters, 'a//#', 'a/+', '+/#', 'a/+/#']) {
      for (const m of [mapping, bare]) {
        const targets = m.filterToSubscriptions(filter);
        if (!targets) throw new Error(`refused: ${JSON.stringify(filter)}`);
        expect(targets.some((t) => t.broader), filter).toBe(false);
        for (const topic of allTopics) {
          expect(wampMatches(m, filter, topic), `${JSON.stringify(filter)} on ${JSON.stringify(topic)}`).toBe(mqttMatches(filter, topic));
        }
      }
    }
  });
});

describe('broader filters', () => {
  it('[MQTT-4.7.1] a broader subscription matches every topic its filter matches (the listener narrows it down)', () => {
    const next = random(7);
    const topics = [...Array.from({ length: 300 }, () => randomTopic(next)), 'a/b', 'x/b', 'x/b/c', '/b', 'a/x/b', 'a//b/c'];
    const filters = ['+/b/#', 'a/+/+/#', 'a/+/b/#', '+/+/#', '/+/#', ...topics.slice(0, 40).map((t) => `+/${t.split('/').slice(1).join('/')}/#`)];
    for (const filter of filters) {
      for (const m of [mapping, bare]) {
        const targets = m.filterToSubscriptions(filter)!;
        for (const topic of topics) if (mqttMatches(filter, topic)) expect(wampMatches(m, filter, topic), `${filter} on ${topic}`).toBe(true);
        expect(targets.every((t) => isValidPattern(t.uri, t.match)), filter).toBe(true);
      }
    }
  });
});

describe('payloads (issue 15 item 4: text)', () => {
  const native = 'mqtt.x';
  const raw = 'mqtt.raw.x';

  it('native: JSON as before: {"args", "kwargs"} gives both, other JSON one argument', () => {
    expect(mapping.decode(native, Buffer.from('{"args":[1,2],"kwargs":{"a":1}}'))).toEqual({ args: [1, 2], kwargs: { a: 1 } });
    expect(mapping.decode(native, Buffer.from('{"args":[1],"other":2}'))).toEqual({ args: [{ args: [1], other: 2 }] });
    expect(mapping.decode(native, Buffer.from('21.5'))).toEqual({ args: [21.5] });
    expect(mapping.decode(native, Buffer.from('"on"'))).toEqual({ args: ['on'] });
    expect(mapping.decode(native, Buffer.from(' \r\n\t[true, null]'))).toEqual({ args: [[true, null]] });
    expect(mapping.decode(native, Buffer.from('-3'))).toEqual({ args: [-3] });
    expect(mapping.decode(native, Buffer.alloc(0))).toEqual({});
  });

  it('native: UTF-8 text that is not JSON is one string argument: `ON`, `ON\\n`, `23.5 °C`, `{oops`, blanks, non-ASCII', () => {
    for (const text of ['ON', 'ON\n', 'offline', '23.5 °C', '{oops', '   ', 'Grüße 😀', 'tab\tand\r\nlines', 'nul']) {
      expect(mapping.decode(native, Buffer.from(text)), JSON.stringify(text)).toEqual({ args: [text] });
    }
  });

  it('native: bytes that are not UTF-8, or hold control characters, stay one binary argument (even when they look like JSON)', () => {
    const cases = [
      [0xff, 0xd8, 0xff, 0xe0], // JPEG
      [0x89, 0x50, 0x4e, 0x47], // PNG
      [0x22, 0xff, 0x22], // "\xff": JSON-looking, not UTF-8
      [0x31, 0xc3], // `1` and half a character
      [0x17, 0x00, 0x00, 0x00], // a little-endian 23: valid UTF-8, but control characters
      [0x4f, 0x4e, 0x00], // `ON` and U+0000
      [0x4f, 0x7f], // DEL
      [0x4f, 0xc2, 0x85], // U+0085, a C1 control
    ];
    for (const bytes of cases) expect(mapping.decode(native, Buffer.from(bytes)), bytes.join(' ')).toEqual({ args: [Buffer.from(bytes)] });
    expect(mapping.decode(native, Buffer.from('é\u00a0', 'utf8'))).toEqual({ args: ['é\u00a0'] }); // U+00A0 (0xC2 0xA0) is no control
  });

  it('back: one string argument is sent as its UTF-8 bytes (`ON`, not `"ON"`), native and passthrough alike; other values as their JSON, as before', () => {
    expect(mapping.encode(native, ['ON'], {})!.toString()).toBe('ON');
    expect(mapping.encode(native, ['Grüße'], undefined)).toEqual(Buffer.from('Grüße', 'utf8'));
    expect(mapping.encode(native, [''], undefined)!.length).toBe(0);
    expect(mapping.encode(raw, ['plain text'], undefined)!.toString()).toBe('plain text');
    expect(mapping.encode(native, [21.5], {})!.toString()).toBe('21.5');
    expect(mapping.encode(native, [true], {})!.toString()).toBe('true');
    expect(mapping.encode(native, [{ POWER: 'ON' }], {})!.toString()).toBe('{"POWER":"ON"}');
    expect(mapping.encode(native, [Buffer.from([1, 2])], undefined)).toEqual(Buffer.from([1, 2]));
    expect(mapping.encode(native, [1, 'x'], { k: true })!.toString()).toBe('{"args":[1,"x"],"kwargs":{"k":true}}');
    expect(mapping.encode(native, ['x'], { k: 1 })!.toString()).toBe('{"args":["x"],"kwargs":{"k":1}}');
    expect(mapping.encode(native, [], { k: 1 })!.toString()).toBe('{"kwargs":{"k":1}}');
    expect(mapping.encode(native, [], {})!.length).toBe(0);
    expect(mapping.encode(native, [10n], undefined)).toBeUndefined(); // not JSON: not sent
  });

  it('text round trip: MQTT `ON` → WAMP "ON" → MQTT `ON`', () => {
    const { args } = mapping.decode(native, Buffer.from('ON'));
    expect(mapping.encode(native, args, undefined)!.toString()).toBe('ON');
  });

  it('MQTT to MQTT, byte for byte: args decoded from a payload (remembering it: the bridge) are written back as the very bytes they came from (JSON spacing, {"args"} bodies, text), not written anew', () => {
    for (const text of ['{ "t" : 21.50 }', '{"args":[1],"kwargs":{"k":2}}', '{"kwargs":{"k":2}}', 'ON', '1e3', '[1, 2]']) {
      const bytes = Buffer.from(text);
      const { args, kwargs } = mapping.decode(native, bytes, true);
      expect(mapping.encode(native, args, kwargs), text).toBe(bytes);
    }
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);
    expect(mapping.encode(native, mapping.decode(raw, jpeg, true).args, undefined)).toBe(jpeg);
    // Not remembering (the listener: its messages carry their bytes), the args are written as JSON.
    expect(mapping.encode(native, mapping.decode(native, Buffer.from('{ "t" : 21.50 }')).args, undefined)!.toString()).toBe('{"t":21.5}');
    // Args that came from anywhere else (a WAMP publisher) are written as their JSON.
    expect(mapping.encode(native, [{ t: 21.5 }], undefined)!.toString()).toBe('{"t":21.5}');
  });

  it('passthrough: bytes are always one binary argument', () => {
    expect(mapping.decode(raw, Buffer.from('{"args":[1]}'))).toEqual({ args: [Buffer.from('{"args":[1]}')] });
    expect(mapping.decode(raw, Buffer.from('ON'))).toEqual({ args: [Buffer.from('ON')] });
  });
});
