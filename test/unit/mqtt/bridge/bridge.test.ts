// The `bridges` section (Junction's own, beside Crossbar's keys): MQTT bridges parsed into typed
// config with defaults, and every mistake reported with its JSON path. Plus the bridge's own
// building blocks that need no broker: the forward buffer and its buffer file, the echo filter.
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../../../src/config/load.js';
import { filterProblem } from '../../../../src/config/load-bridges.js';
import { ForwardBuffer } from '../../../../src/mqtt/bridge/forward-buffer.js';
import { EchoFilter } from '../../../../src/mqtt/bridge/echo-filter.js';
import { topicMatches } from '../../../../src/mqtt/topic-match.js';
import { errorsOf } from '../../../helpers/config.js';

const TLS = fileURLToPath(new URL('../../../fixtures/tls/', import.meta.url));

const tmp = () => mkdtempSync(join(tmpdir(), 'junction-bridge-config-'));

function doc(bridges: unknown): Record<string, unknown> {
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }] }, { name: 'gateway', permissions: [] }] }],
      transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 8080 } }],
    }],
    bridges,
  };
}

const minimal = { id: 'shed', realm: 'realm1', url: 'mqtt://broker.local', to_wamp: ['sensors/#'] };

describe('bridges config', () => {
  const saved = process.env['JUNCTION_TEST_MQTT_PASSWORD'];
  afterEach(() => {
    if (saved === undefined) delete process.env['JUNCTION_TEST_MQTT_PASSWORD'];
    else process.env['JUNCTION_TEST_MQTT_PASSWORD'] = saved;
  });

  it('fills in the defaults', () => {
    const config = parseConfig(doc({ mqtt: [minimal] }));
    const [b] = config.bridges!.mqtt;
    expect(b).toMatchObject({
      id: 'shed', realm: 'realm1', role: 'trusted', authid: 'mqtt-bridge-shed', urls: ['mqtt://broker.local'],
      protocolVersion: 5, keepalive: 30, reconnect: { initialDelay: 1000, maxDelay: 30_000 }, connectTimeout: 10_000,
      topicPrefix: '', payload: [{ prefix: '', type: 'native' }], toWamp: [{ filter: 'sensors/#', qos: 2 }], toMqtt: [],
      maxBuffered: 10_000, maxInflight: 20,
    });
    expect(b!.clientId).toMatch(/^junction-.+-shed$/);
    expect(b!.bufferFile).toBeUndefined();
    expect(b!.password).toBeUndefined();
  });

  it('reads every key; the password from the environment or a file; files relative to the config', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'pw.txt'), 'from-file\n');
    process.env['JUNCTION_TEST_MQTT_PASSWORD'] = 'from-env';
    const bridge = {
      id: 'b1', realm: 'realm1', role: 'gateway', authid: 'gw', url: 'mqtts://broker.example:8883', client_id: 'gw-1',
      username: 'gw', password: '${JUNCTION_TEST_MQTT_PASSWORD}', protocol_version: 4, keepalive: 60,
      tls: { ca: join(TLS, 'ca.crt'), certificate: join(TLS, 'client.crt'), key: join(TLS, 'client.key'), reject_unauthorized: false, servername: 'broker' },
      reconnect: { initial_delay: 500, max_delay: 8000 }, connect_timeout: 5000,
      topic_prefix: 'mqtt.', payload_mapping: { 'mqtt.raw.': { type: 'passthrough' } },
      to_wamp: ['tele/+/STATE', { filter: 'sensors/#', qos: 1 }],
      to_mqtt: [{ uri: 'mqtt.cmd.', match: 'prefix', qos: 1, retain: true }, 'mqtt.alarm'],
      max_buffered: 500, buffer_file: 'state/b1.jsonl', max_inflight: 5,
    };
    const [b] = parseConfig(doc({ mqtt: [bridge, { ...minimal, id: 'b2', password: { file: 'pw.txt' }, username: 'u' }] }), undefined, dir).bridges!.mqtt;
    expect(b).toMatchObject({
      id: 'b1', role: 'gateway', authid: 'gw', urls: ['mqtts://broker.example:8883'], clientId: 'gw-1', username: 'gw', password: 'from-env',
      protocolVersion: 4, keepalive: 60, reconnect: { initialDelay: 500, maxDelay: 8000 }, connectTimeout: 5000,
      topicPrefix: 'mqtt.', payload: [{ prefix: 'mqtt.raw.', type: 'passthrough' }],
      toWamp: [{ filter: 'tele/+/STATE', qos: 2 }, { filter: 'sensors/#', qos: 1 }],
      toMqtt: [{ uri: 'mqtt.cmd.', match: 'prefix', qos: 1, retain: true }, { uri: 'mqtt.alarm', match: 'exact', qos: 0, retain: false }],
      maxBuffered: 500, bufferFile: join(dir, 'state/b1.jsonl'), maxInflight: 5,
    });
    expect(b!.tls).toMatchObject({ rejectUnauthorized: false, servername: 'broker' });
    expect(b!.tls!.ca).toContain('-----BEGIN CERTIFICATE-----');
    expect(b!.tls!.key).toContain('PRIVATE KEY');
    const b2 = parseConfig(doc({ mqtt: [bridge, { ...minimal, id: 'b2', password: { file: 'pw.txt' }, username: 'u' }] }), undefined, dir).bridges!.mqtt[1];
    expect(b2!.password).toBe('from-file');
  });

  it('reports every mistake with its JSON path', () => {
    const errors = errorsOf(doc({
      mqtt: [
        { id: 'bad id', realm: 'nope', url: 'http://x', to_wamp: ['a/#/b', 'ok/+', 'x+/y'], to_mqtt: [{ uri: 'a..b', match: 'exact' }], protocol_version: 3, colour: 'red' },
        { id: 'two', realm: 'realm1', role: 'ghost', url: 'mqtt://h', to_mqtt: ['cmd.x'], topic_prefix: 'mqtt.', tls: { ca: 'missing.pem' }, max_buffered: -1, reconnect: { initial_delay: 5000, max_delay: 1000 } },
        { id: 'two', realm: 'realm1', url: 'mqtt://user:pw@h', password: 42 },
        { id: 'four', realm: 'realm1', url: 'mqtts://h', protocol_version: 4, username: 'u', password: '${JUNCTION_TEST_UNSET_VAR}', to_wamp: ['a'], tls: { certificate: join(TLS, 'client.crt') } },
      ],
    }));
    expect(errors).toMatchObject({
      'bridges.mqtt[0].id': expect.stringContaining("letters, digits, '-' and '_'"),
      'bridges.mqtt[0].realm': "realm 'nope' is not defined (realms: realm1)",
      'bridges.mqtt[0].url': expect.stringContaining('must start with mqtt:// or mqtts://'),
      'bridges.mqtt[0].to_wamp[0]': expect.stringContaining("'#' must be a whole level and the last one"),
      'bridges.mqtt[0].to_wamp[2]': expect.stringContaining("'+' must be a whole level"),
      'bridges.mqtt[0].to_mqtt[0].uri': expect.stringContaining('is not a valid URI'),
      'bridges.mqtt[0].protocol_version': 'must be one of 4, 5, got number 3',
      'bridges.mqtt[0].colour': expect.stringContaining("unknown key 'colour'"),
      'bridges.mqtt[1].role': "role 'ghost' is not defined in realm 'realm1'",
      'bridges.mqtt[1].to_mqtt[0]': expect.stringContaining('is outside topic_prefix "mqtt."'),
      'bridges.mqtt[1].tls': 'applies only to mqtts:// urls',
      'bridges.mqtt[1].tls.ca': expect.stringContaining('cannot read'),
      'bridges.mqtt[1].max_buffered': 'must be between 0 and 10000000, got -1',
      'bridges.mqtt[1].reconnect.max_delay': 'must not be less than initial_delay (5000)',
      'bridges.mqtt[2].id': "bridge id 'two' is already used by bridges.mqtt[1]",
      'bridges.mqtt[2].url': expect.stringContaining('must not hold credentials'),
      'bridges.mqtt[2].password': expect.stringContaining('(value not shown)'),
      'bridges.mqtt[2]': expect.stringContaining('bridges nothing'),
      'bridges.mqtt[3].password': 'environment variable JUNCTION_TEST_UNSET_VAR is not set',
      'bridges.mqtt[3].tls.key': expect.stringContaining('is required with certificate'),
    });
    expect(errors['bridges.mqtt[0].to_wamp[1]']).toBeUndefined();
    // A secret is never echoed.
    expect(JSON.stringify(errors)).not.toContain('user:pw');
    expect(errorsOf(doc({ mqtt: [{ ...minimal, username: undefined, password: 'p', protocol_version: 4 }] })))
      .toEqual({ 'bridges.mqtt[0].password': 'needs a username with MQTT 3.1.1 (protocol_version 4)' });
    expect(errorsOf(doc({ kafka: [] }))).toEqual({ 'bridges.kafka': "unknown key 'kafka' (supported: mqtt)" });
    expect(errorsOf(doc('yes'))).toEqual({ bridges: 'must be an object, got "yes"' });
  });

  it('issue 18: `url` may be a list of broker nodes (a cluster), tried in order', () => {
    const nodes = ['mqtt://node1.local:1883', 'mqtt://node2.local:1884'];
    expect(parseConfig(doc({ mqtt: [{ ...minimal, url: nodes }] })).bridges!.mqtt[0]!.urls).toEqual(nodes);
    const withTls = { ...minimal, url: ['mqtts://n1:8883', 'mqtts://n2:8883'], tls: { reject_unauthorized: false } };
    expect(parseConfig(doc({ mqtt: [withTls] })).bridges!.mqtt[0]!.tls).toMatchObject({ rejectUnauthorized: false });
    expect(errorsOf(doc({ mqtt: [{ ...minimal, url: [] }] }))).toEqual({ 'bridges.mqtt[0].url': expect.stringContaining('is an empty list') });
    expect(errorsOf(doc({
      mqtt: [{ ...minimal, url: ['mqtt://n1', 'http://n2', 'mqtt://n1', 7, 'mqtt://u:secret@n3'] }],
    }))).toEqual({
      'bridges.mqtt[0].url[1]': expect.stringContaining('must start with mqtt:// or mqtts://, got "http://n2"'),
      'bridges.mqtt[0].url[2]': '"mqtt://n1" is already in the list',
      'bridges.mqtt[0].url[3]': expect.stringContaining('must be a string'),
      'bridges.mqtt[0].url[4]': expect.stringContaining('must not hold credentials'),
    });
    expect(errorsOf(doc({ mqtt: [{ ...minimal, url: ['mqtt://n1', 'mqtts://n2'] }] })))
      .toEqual({ 'bridges.mqtt[0].url': expect.stringContaining('mixes mqtt:// and mqtts://') });
  });

  it('the role "trusted" needs no definition; a config without bridges has none', () => {
    expect(parseConfig(doc({ mqtt: [{ ...minimal, role: 'trusted' }] })).bridges!.mqtt[0]!.role).toBe('trusted');
    const { bridges: _b, ...withoutBridges } = doc(undefined);
    expect(parseConfig(withoutBridges).bridges).toBeUndefined();
  });

  it('knows MQTT filter syntax', () => {
    for (const ok of ['#', 'a/#', '+', '+/b/#', 'a/+/c', '/a', 'a//b']) expect(filterProblem(ok), ok).toBeUndefined();
    for (const bad of ['', 'a/#/b', 'a#', 'a/b+', '$share/g/a']) expect(filterProblem(bad), bad).toBeDefined();
  });
});

describe('bridge forward buffer', () => {
  const message = (n: number, qos: 1 | 2 = 1) => ({ topic: `t/${n}`, payload: Buffer.from(String(n)), qos, retain: n % 3 === 0 });

  it('is bounded, sends in order within a window, re-sends what was in flight after a lost connection', () => {
    const box = new ForwardBuffer(3);
    expect([1, 2, 3, 4].map((n) => box.push(message(n)))).toEqual([true, true, true, false]);
    expect(box.size).toBe(3);
    const a = box.next()!;
    const b = box.next()!;
    expect([a.topic, b.topic, box.inflight]).toEqual(['t/1', 't/2', 2]);
    box.done(b.seq); // acknowledgements may come out of order
    expect([box.size, box.inflight]).toEqual([2, 1]);
    box.requeueInflight();
    expect(box.inflight).toBe(0);
    expect(box.next()!.topic).toBe('t/1');
    expect(box.next()!.topic).toBe('t/3');
    expect(box.next()).toBeUndefined();
    expect(box.push(message(5))).toBe(true);
    expect(box.next()!.topic).toBe('t/5');
  });

  it('keeps what is waiting in the buffer file across a restart, compacted once delivered', () => {
    const file = join(tmp(), 'deep', 'box.jsonl');
    const first = new ForwardBuffer(100, file);
    for (let n = 1; n <= 5; n++) first.push({ ...message(n, n === 2 ? 2 : 1), properties: n === 1 ? { responseTopic: 'r/1', correlationData: Buffer.from([0, 1, 2]) } : undefined });
    first.done(first.next()!.seq); // 1 delivered
    first.next(); // 2 in flight when the process stops
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(6); // 5 added, 1 delivered
    first.close();
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(4);

    // A torn last line (a crash in the middle of a write) is skipped.
    writeFileSync(file, readFileSync(file, 'utf8') + '{"s":99,"t":"t/9');
    const second = new ForwardBuffer(100, file);
    expect(second.size).toBe(4);
    const order = [];
    for (let m = second.next(); m; m = second.next()) order.push(m);
    expect(order.map((m) => [m.topic, m.qos, m.retain, m.payload.toString()])).toEqual([['t/2', 2, false, '2'], ['t/3', 1, true, '3'], ['t/4', 1, false, '4'], ['t/5', 1, false, '5']]);
    expect(second.push(message(6))).toBe(true);
    for (const m of order) second.done(m.seq);
    second.close();
    const left = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(left).toEqual([{ s: 6, t: 't/6', p: Buffer.from('6').toString('base64'), q: 1, r: true }]);

  });

  it('round-trips MQTT 5 properties through the buffer file', () => {
    const file = join(tmp(), 'props.jsonl');
    const first = new ForwardBuffer(10, file);
    first.push({ ...message(1), properties: { responseTopic: 'r/1', correlationData: Buffer.from([0, 1, 255]), contentType: 'application/json', userProperties: { a: 'b' } } });
    first.close();
    const m = new ForwardBuffer(10, file).next()!;
    expect(m.properties).toEqual({ responseTopic: 'r/1', correlationData: Buffer.from([0, 1, 255]), contentType: 'application/json', userProperties: { a: 'b' } });
  });
});

describe('echo filter (MQTT 3.1.1 has no No Local)', () => {
  it('matches topics to filters as MQTT does', () => {
    expect(topicMatches('a/#', 'a/b/c')).toBe(true);
    expect(topicMatches('a/#', 'a')).toBe(true);
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+', 'a/b/c')).toBe(false);
    expect(topicMatches('#', '$SYS/x')).toBe(false);
    expect(topicMatches('a/b', 'a/b')).toBe(true);
  });

  it('drops exactly the copies of what the bridge published on a subscribed topic', () => {
    const echo = new EchoFilter(['loop/#']);
    echo.published('loop/a', Buffer.from('1'));
    echo.published('loop/a', Buffer.from('1'));
    echo.published('other/a', Buffer.from('1')); // not subscribed: never comes back
    expect(echo.isEcho('loop/a', Buffer.from('2'))).toBe(false);
    expect(echo.isEcho('loop/a', Buffer.from('1'))).toBe(true);
    expect(echo.isEcho('loop/a', Buffer.from('1'))).toBe(true);
    expect(echo.isEcho('loop/a', Buffer.from('1'))).toBe(false); // a third one is someone else's
    expect(echo.isEcho('other/a', Buffer.from('1'))).toBe(false);
    const now = Date.now();
    echo.published('loop/b', Buffer.from('x'), now);
    expect(echo.isEcho('loop/b', Buffer.from('x'), now + 61_000)).toBe(false); // forgotten after a minute
  });
});
