// Config loading: Crossbar-format files (JSON and YAML) → typed JunctionConfig, and every kind of
// error reported with the JSON path of the key at fault (format: `workers[0].transports[1].port`).
import { describe, it, expect } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import {
  loadConfigFile, parseConfig, defaultConfig, monitorRole, convertStarredUri, ConfigError,
} from '../../../src/config/load.js';
import { starterConfig, writeStarter } from '../../../src/config/starter.js';
import { checkConfigFile } from '../../../src/config/check.js';
import { DEFAULT_TRANSPORT_OPTIONS, type JunctionConfig } from '../../../src/config/types.js';
import { DASHBOARD_DIR } from '../../../src/config/dashboard-dir.js';
import { errorsOf, issuesOf } from '../../helpers/config.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/config/', import.meta.url));
const CERTS = join(FIXTURES, 'tls', 'certs');

function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `junction-${prefix}-`));
}

/** Asserts exactly one error, at `path`, with a message matching `message`. */
function expectOnlyError(raw: unknown, path: string, message: RegExp): void {
  const issues = issuesOf(raw);
  expect(issues.map((i) => i.path)).toEqual([path]);
  expect(issues[0]!.message).toMatch(message);
}

function warningsOf(raw: unknown, baseDir?: string): Record<string, string> {
  return Object.fromEntries((parseConfig(raw, undefined, baseDir).warnings ?? []).map((w) => [w.path, w.message]));
}

type Raw = any; // test documents are built loosely and then broken on purpose

const ALL = { call: true, register: true, publish: true, subscribe: true };

/** A small valid document: realm1 with role anonymous, one websocket transport. */
function minimal(): Raw {
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true } }] }] }],
      transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 8080 } }],
    }],
  };
}

const T0 = 'workers[0].transports[0]';
const R0 = 'workers[0].realms[0]';
const P0 = `${R0}.roles[0].permissions[0]`;

describe('loading Crossbar config files', () => {
  it('runs a config shaped like the one `crossbar init` writes (universal transport), unchanged', async () => {
    const config = await loadConfigFile(join(FIXTURES, 'crossbar-node/.crossbar/config.json'));
    expect(config.warnings).toBeUndefined();
    // The embedded default's realm, without its dashboard role (built in, added only when named).
    expect(config.router.realms).toEqual(defaultConfig().router.realms.map((r) => ({ ...r, roles: r.roles.filter((x) => x.name !== 'monitor') })));
    expect(config.router.listeners).toHaveLength(1);
    const [l] = config.router.listeners;
    expect(l).toMatchObject({ id: 'transport0', kind: 'universal', websocketAnyPath: false, endpoint: { type: 'tcp', port: 8080, interface: '0.0.0.0' } });
    expect(Object.keys(l!.websocket)).toEqual(['/ws']);
    expect(l!.websocket['/ws']!.serializers).toEqual(['cbor', 'msgpack', 'json']);
    expect(l!.websocket['/ws']!.options).toEqual(DEFAULT_TRANSPORT_OPTIONS);
    expect(l!.websocket['/ws']!.auth).toBeUndefined();
    expect(l!.rawsocket!.serializers).toEqual(['cbor', 'msgpack', 'json']);
    expect(l!.static).toEqual({ '/': { type: 'static', directory: join(FIXTURES, 'crossbar-node/web') } });
  });

  it("takes Crossbar's WebSocket options of a crossbar init config (compression, frames, close, origins, status page)", async () => {
    const file = join(FIXTURES, 'crossbar-node/.crossbar/config-web.json');
    const config = await loadConfigFile(file);
    const web = config.router.listeners.find((l) => l.websocket['/ws'] !== undefined)!;
    expect(web.websocket['/ws']!.options.websocket).toEqual({
      maxFrameSize: 524288, autoFragmentSize: 32768, failByDrop: true, closeHandshakeTimeout: 2000,
      allowNullOrigin: true, requireSubprotocol: true, webStatus: false,
      deflate: { requestNoContextTakeover: true, requestMaxWindowBits: 0, noContextTakeover: false, maxWindowBits: 12, memoryLevel: 4, threshold: 64, maxConnections: 100 },
    });
  });

  it('reads YAML: roles with starred URIs, allow-by-default, store, ticket + anonymous auth, a Unix socket', async () => {
    const config = await loadConfigFile(join(FIXTURES, 'scaling.yaml'));
    const [app, admin] = config.router.realms;
    expect(app!.uriCheck).toBe('strict');
    expect(app!.enableMetaApi).toBe(true);
    expect(app!.roles[0]!.permissions.map((p) => [p.uri, p.match])).toEqual([['com.example.', 'prefix'], ['sensors..temp', 'wildcard']]);
    expect(app!.store).toEqual({
      type: 'memory', limit: 100,
      callQueue: [{ uri: 'com.example.', match: 'prefix', limit: 50, timeout: 30000 }],
      eventHistory: [{ uri: 'sensors.', match: 'prefix', limit: 20, maxBytes: 1048576 }],
      retained: { maxTopics: 10_000, maxBytes: 16 * 1048576 },
    });
    expect(admin!.roles[0]!.permissions).toEqual([{
      uri: '', match: 'prefix', allow: ALL, disclose: { caller: false, publisher: false }, cache: true,
    }]);
    const [ws, raw] = config.router.listeners;
    expect(ws).toMatchObject({ id: 'ws-main', kind: 'websocket', websocketAnyPath: true, endpoint: { interface: '127.0.0.1', port: 9000 } });
    expect(ws!.websocket['/']!.options).toMatchObject({ maxMessageSize: 65536, autoPingInterval: 10000, autoPingTimeout: 5000 });
    expect(ws!.websocket['/']!.auth).toEqual({
      ticket: { type: 'static', principals: { 'svc-1': { ticket: 'secret', role: 'service' } } },
      anonymous: { type: 'static', role: 'dashboard' },
    });
    expect(raw!.endpoint).toEqual({ type: 'unix', path: join(FIXTURES, 'junction.sock') });
    expect(raw!.rawsocket!.serializers).toEqual(['cbor']);
  });

  it('reads .yml and .json by extension; refuses other extensions, missing files and bad syntax', async () => {
    const dir = tmp('files');
    writeFileSync(join(dir, 'a.yml'), starterConfig());
    expect((await loadConfigFile(join(dir, 'a.yml'))).router.realms[0]!.name).toBe('realm1');
    writeFileSync(join(dir, 'a.json'), JSON.stringify(minimal()));
    expect((await loadConfigFile(join(dir, 'a.json'))).router.listeners).toHaveLength(1);

    const fails = async (file: string, text: string | undefined, message: RegExp) => {
      if (text !== undefined) writeFileSync(join(dir, file), text);
      const err = await loadConfigFile(join(dir, file)).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues).toHaveLength(1);
      expect((err as ConfigError).issues[0]!.path).toBe('');
      expect((err as ConfigError).issues[0]!.message).toMatch(message);
    };
    await fails('a.conf', 'version: 2', /use \.json, \.yaml or \.yml/);
    await fails('nope.json', undefined, /cannot read .*nope\.json: no such file or directory/);
    await fails('broken.json', '{\n  "version": 2,\n}', /^not valid JSON: .*\(line 3, column 1\)$/);
    await fails('broken.yaml', 'version: 2\nworkers: [\n', /^not valid YAML: .*line \d+, column \d+/);
    await fails('dup.yaml', 'version: 2\nversion: 2\n', /^not valid YAML: Map keys must be unique at line 2, column 1$/);
    await fails('empty.yaml', '', /^must be an object/);

    // A repeated JSON key is named by its path and line, wherever it is nested.
    const duplicates = async (text: string) => {
      writeFileSync(join(dir, 'dup.json'), text);
      const err = await loadConfigFile(join(dir, 'dup.json')).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).issues;
    };
    expect(await duplicates('{"version": 2, "workers": [], "version": 2}')).toEqual([
      { path: 'version', message: 'duplicate key "version" (line 1, column 31): JSON keeps only the last' },
    ]);
    const nested = await duplicates('{"version": 2,\n "workers": [{"type": "router",\n  "realms": [{"name": "a", "roles": [], "name": "b"}], "type": "router"}]}');
    expect(nested.map((i) => i.path)).toEqual(['workers[0].realms[0].name', 'workers[0].type']);
    expect(nested[0]!.message).toMatch(/line 3, column/);
    // Equal keys in different objects are not duplicates.
    writeFileSync(join(dir, 'siblings.json'), '{"version": 2, "workers": [{"type": "router", "realms": [], "transports": []}, {"type": "router", "realms": [], "transports": []}]}');
    expect(await loadConfigFile(join(dir, 'siblings.json')).then(() => 'loaded', (e: ConfigError) => e.issues.map((i) => i.message).join())).not.toMatch(/duplicate/);
  });

  it('reads TLS files relative to the config file, checks them, and joins CA and chain files', async () => {
    // The working directory is the repository, not the config's directory.
    const config = await loadConfigFile(join(FIXTURES, 'tls/junction.yaml'));
    const endpoint = config.router.listeners[0]!.endpoint;
    const pem = (f: string) => readFileSync(join(CERTS, f), 'utf8');
    expect(endpoint.tls).toEqual({ key: pem('server.key'), certificate: pem('server.crt'), ca: pem('ca.crt') });

    const dir = tmp('tls');
    for (const f of ['server.key', 'server.crt', 'ca.crt', 'expired.crt', 'expired.key']) copyFileSync(join(CERTS, f), join(dir, f));
    const raw = minimal();
    raw.workers[0].transports[0].endpoint.tls = { key: 'server.key', certificate: 'server.crt', chain_certificates: ['ca.crt'], ca: 'ca.crt', ca_certificates: ['ca.crt'] };
    const tls = parseConfig(raw, undefined, dir).router.listeners[0]!.endpoint.tls!;
    expect(tls.certificate).toBe(pem('server.crt') + pem('ca.crt'));
    expect(tls.ca).toBe(pem('ca.crt') + pem('ca.crt'));

    const tlsPath = `${T0}.endpoint.tls`;
    const withTls = (t: object) => {
      const r = minimal();
      r.workers[0].transports[0].endpoint.tls = t;
      return r;
    };
    expect(errorsOf(withTls({ key: 'missing.key', certificate: 'server.crt' }), dir)).toEqual({
      [`${tlsPath}.key`]: `cannot read ${join(dir, 'missing.key')}: no such file or directory`,
    });
    writeFileSync(join(dir, 'notpem.txt'), 'hello');
    expect(errorsOf(withTls({ key: 'server.key', certificate: 'notpem.txt', ca_certificates: ['ca.crt', 'nope.crt'] }), dir)).toEqual({
      [`${tlsPath}.certificate`]: `${join(dir, 'notpem.txt')} is not a PEM file (no "-----BEGIN" line)`,
      [`${tlsPath}.ca_certificates[1]`]: `cannot read ${join(dir, 'nope.crt')}: no such file or directory`,
    });
    expect(errorsOf(withTls({ key: 'expired.key', certificate: 'server.crt' }), dir)).toEqual({
      [`${tlsPath}.certificate`]: 'does not belong to the private key given in key',
    });
    expect(errorsOf(withTls({ key: 'server.crt', certificate: 'server.key' }), dir)).toMatchObject({
      [`${tlsPath}.key`]: expect.stringMatching(/^not a usable private key/),
      [`${tlsPath}.certificate`]: expect.stringMatching(/^not a usable certificate/),
    });
    const { privateKey } = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    writeFileSync(join(dir, 'encrypted.key'), privateKey);
    expect(errorsOf(withTls({ key: 'encrypted.key', certificate: 'server.crt' }), dir)).toEqual({
      [`${tlsPath}.key`]: 'the private key is encrypted; Junction needs it without a passphrase',
    });
    expect(errorsOf(withTls({ certificate: 'server.crt', dhparam: 'dh.pem', ciphers: 'HIGH' }), dir)).toEqual({
      [`${tlsPath}.key`]: 'is required',
      [`${tlsPath}.dhparam`]: `cannot read ${join(dir, 'dh.pem')}: no such file or directory`,
    });
    expect(warningsOf(withTls({ key: 'expired.key', certificate: 'expired.crt' }), dir)).toEqual({
      [`${tlsPath}.certificate`]: 'the certificate expired on 2021-01-01T00:00:00.000Z',
    });
  });
});

describe('defaults', () => {
  it('the embedded default: universal 127.0.0.1:8080, rawsocket + /ws, realm1, anonymous may do everything', () => {
    const service = { serializers: ['json', 'msgpack', 'cbor', 'ubjson'], options: DEFAULT_TRANSPORT_OPTIONS };
    expect(defaultConfig()).toEqual({
      router: {
        realms: [{
          name: 'realm1', uriCheck: 'loose', enableMetaApi: true,
          roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: ALL, disclose: { caller: false, publisher: false }, cache: true }] }, monitorRole()],
        }],
        listeners: [{
          id: 'default', kind: 'universal', endpoint: { type: 'tcp', port: 8080, interface: '127.0.0.1' },
          rawsocket: service,
          websocket: { '/ws': service, '/dashboard-ws': { ...service, auth: { anonymous: { type: 'static', role: 'monitor' } } } },
          websocketAnyPath: false,
          static: { '/': { type: 'dashboard', directory: DASHBOARD_DIR, realm: 'realm1', websocket: '/dashboard-ws' } },
        }],
      },
    } satisfies JunctionConfig);
    const a = defaultConfig().router.listeners[0]!;
    expect(a.rawsocket!.options).not.toBe(a.websocket['/ws']!.options); // no shared mutable objects
  });

  it('fills in every default of a minimal file', () => {
    const config = parseConfig(minimal(), 'inline');
    expect(config.source).toBe('inline');
    expect(config.router.realms[0]).toEqual({
      name: 'realm1', uriCheck: 'loose', enableMetaApi: true,
      roles: [{ name: 'anonymous', permissions: [{
        uri: '', match: 'prefix', cache: true,
        allow: { call: true, register: false, publish: false, subscribe: false },
        disclose: { caller: false, publisher: false },
      }] }],
    });
    expect(config.router.listeners[0]).toEqual({
      id: 'transport0', kind: 'websocket', endpoint: { type: 'tcp', port: 8080, interface: '0.0.0.0' },
      websocket: { '/': { serializers: ['json', 'msgpack', 'cbor', 'ubjson'], options: DEFAULT_TRANSPORT_OPTIONS } },
      websocketAnyPath: true, static: {},
    });
    const v6 = minimal();
    v6.workers[0].transports[0].endpoint.version = 6;
    expect(parseConfig(v6).router.listeners[0]!.endpoint).toEqual({ type: 'tcp', port: 8080, interface: '::', version: 6 });
  });

  it('store defaults: limit 100, call-queue timeout 30000 ms, event-history limit from the store', () => {
    const raw = minimal();
    raw.workers[0].realms[0].store = {
      type: 'memory', limit: 7,
      'call-queue': [{ uri: 'com.example.add', limit: 0 }],
      'event-history': [{ uri: 'sensors.*' }, { uri: 'a', match: 'exact', limit: 3 }],
    };
    expect(parseConfig(raw).router.realms[0]!.store).toEqual({
      type: 'memory', limit: 7,
      callQueue: [{ uri: 'com.example.add', match: 'exact', limit: 0, timeout: 30000 }],
      eventHistory: [{ uri: 'sensors.', match: 'prefix', limit: 7, maxBytes: 1048576 }, { uri: 'a', match: 'exact', limit: 3, maxBytes: 1048576 }],
      retained: { maxTopics: 10_000, maxBytes: 16 * 1048576 },
    });
    raw.workers[0].realms[0].store = { type: 'memory' };
    expect(parseConfig(raw).router.realms[0]!.store).toEqual({ type: 'memory', limit: 100, callQueue: [], eventHistory: [], retained: { maxTopics: 10_000, maxBytes: 16 * 1048576 } });
  });
});

describe('starred URIs (permissions without match)', () => {
  it('converts as Crossbar does', () => {
    expect(convertStarredUri('com.example.add')).toEqual({ uri: 'com.example.add', match: 'exact' });
    expect(convertStarredUri('com.example.*')).toEqual({ uri: 'com.example.', match: 'prefix' });
    expect(convertStarredUri('com.ex*')).toEqual({ uri: 'com.ex', match: 'prefix' });
    expect(convertStarredUri('*')).toEqual({ uri: '', match: 'prefix' });
    expect(convertStarredUri('com.*.add')).toEqual({ uri: 'com..add', match: 'wildcard' });
    expect(convertStarredUri('*.add')).toEqual({ uri: '.add', match: 'wildcard' });
    expect(convertStarredUri('com.*.*')).toEqual({ uri: 'com..', match: 'wildcard' });
    expect(convertStarredUri('com.ex*ple.add').error).toMatch(/whole URI component/);
  });

  it('applies the conversion in permissions, and only without match', () => {
    const raw = minimal();
    raw.workers[0].realms[0].roles[0].permissions = [
      { uri: '*', allow: ALL }, { uri: 'a.*.c' }, { uri: 'a.b' }, { uri: 'a.b.*', match: 'prefix' }, { uri: 'a.b*c' },
    ];
    const errors = errorsOf(raw);
    expect(Object.keys(errors)).toEqual([`${R0}.roles[0].permissions[3].uri`, `${R0}.roles[0].permissions[4].uri`]);
    expect(errors[`${R0}.roles[0].permissions[3].uri`]).toMatch(/only understood without 'match'/);
    raw.workers[0].realms[0].roles[0].permissions.splice(3, 2);
    expect(parseConfig(raw).router.realms[0]!.roles[0]!.permissions.map((p) => [p.uri, p.match])).toEqual([
      ['', 'prefix'], ['a..c', 'wildcard'], ['a.b', 'exact'],
    ]);
  });
});

describe('errors name the path of the key at fault', () => {
  it('document shape: root, version, controller, unknown keys ($schema is fine)', () => {
    expectOnlyError([], '', /^must be an object/);
    const noVersion = minimal();
    delete noVersion.version;
    expectOnlyError(noVersion, 'version', /is required/);
    expectOnlyError({ ...minimal(), version: 1 }, 'version', /must be 2/);
    expectOnlyError({ ...minimal(), extra: 1 }, 'extra', /^unknown key 'extra' \(supported: \$schema, version, controller, workers, bridges, serial, telemetry, schedules\)$/);
    expect(issuesOf({ ...minimal(), $schema: 'https://example.com/schema.json', controller: {} })).toEqual([]);
    expect(issuesOf({ ...minimal(), controller: { id: 'node1' } })).toEqual([]);
    expectOnlyError({ ...minimal(), controller: { id: 3 } }, 'controller.id', /must be a string/);
    expectOnlyError({ ...minimal(), controller: { options: {} } }, 'controller.options', /not supported/);
  });

  it('workers: exactly one router worker', () => {
    const raw = minimal();
    raw.workers.push({ type: 'container', components: [] }, { type: 'router', realms: [], transports: [] }, 'x', {});
    expect(errorsOf(raw)).toEqual({
      'workers[1].type': 'worker type "container" is not supported: Junction runs exactly one worker of type "router"',
      'workers[2]': 'only one router worker is supported (the first is workers[0])',
      'workers[3]': 'must be an object, got "x"',
      'workers[4].type': 'is required (Junction runs one worker of type "router")',
    });
    expectOnlyError({ version: 2, workers: [] }, 'workers', /must hold one worker of type "router"/);
    expectOnlyError({ version: 2 }, 'workers', /is required/);
    const w = minimal();
    w.workers[0].options = { title: 'r', env: {}, colour: 'red' };
    w.workers[0].components = [];
    expect(errorsOf(w)).toEqual({
      'workers[0].options.colour': "unknown key 'colour' (supported: title, max_incoming_bytes, max_send_queue_total, python, pythonpath, cpu_affinity, env, expose_controller, expose_shared, reactor)",
    });
    const empty = minimal();
    empty.workers[0].realms = [];
    delete empty.workers[0].transports;
    expect(errorsOf(empty)).toEqual({ 'workers[0].realms': 'must not be empty', 'workers[0].transports': 'is required' });
  });

  it('realms: name, duplicates, options, unsupported keys', () => {
    const raw = minimal();
    raw.workers[0].realms.push({ name: 'realm1' }, { name: 'not a uri' }, { roles: [], inventory: {} });
    raw.workers[0].realms[0].options = { uri_check: 'medium', enable_meta_api: 'yes', event_dispatching_chunk_size: 10, wire: 'autobahn' };
    expect(errorsOf(raw)).toEqual({
      'workers[0].realms[1].name': "realm 'realm1' is already defined at workers[0].realms[0]",
      'workers[0].realms[2].name': '"not a uri" is not a valid realm name (a URI like "realm1" or "com.example")',
      'workers[0].realms[3].name': 'is required',
      'workers[0].realms[3].inventory.catalogs': 'is required',
      [`${R0}.options.uri_check`]: 'must be one of "loose", "strict", got "medium"',
      [`${R0}.options.enable_meta_api`]: 'must be true or false, got "yes"',
      [`${R0}.options.wire`]: 'must be one of "crossbar", "spec", got "autobahn"',
    });
    const chunked = minimal();
    chunked.workers[0].realms[0].options = { event_dispatching_chunk_size: 10 };
    expect(warningsOf(chunked)[`${R0}.options.event_dispatching_chunk_size`]).toMatch(/^ignored: Junction dispatches each event/);
    const ok = minimal();
    ok.workers[0].realms[0].options = { uri_check: 'strict', enable_meta_api: false, wire: 'spec' };
    expect(parseConfig(ok).router.realms[0]).toMatchObject({ uriCheck: 'strict', enableMetaApi: false, wire: 'spec' });
  });

  it('roles: duplicates in a realm, authorizer, allow-by-default', () => {
    const raw = minimal();
    const roles = raw.workers[0].realms[0].roles;
    roles.push({ name: 'anonymous' }, { name: 'dyn', authorizer: 'com.example.authorize', permissions: [] }, { name: 'both', 'allow-by-default': true, permissions: [] }, { permissions: [] });
    expect(errorsOf(raw)).toEqual({
      [`${R0}.roles[1].name`]: `role 'anonymous' is already defined in this realm at ${R0}.roles[0]`,
      [`${R0}.roles[2].permissions`]: 'cannot be combined with an authorizer (the authorizer decides every action)',
      [`${R0}.roles[3].allow-by-default`]: 'applies only to a role without permissions; remove one of the two',
      [`${R0}.roles[4].name`]: 'is required',
    });
    // The same role name in two realms is fine.
    const two = minimal();
    two.workers[0].realms.push({ name: 'realm2', roles: [{ name: 'anonymous', 'allow-by-default': false }] });
    expect(parseConfig(two).router.realms[1]!.roles).toEqual([{ name: 'anonymous', permissions: [] }]);
    const dynamic = minimal();
    dynamic.workers[0].realms[0].roles.push({ name: 'dyn', authorizer: 'com.example.authorize' });
    expect(parseConfig(dynamic).router.realms[0]!.roles[1]).toEqual({ name: 'dyn', permissions: [], authorizer: 'com.example.authorize' });
  });

  it('permissions: uri, match, allow, disclose, cache, validate, duplicates', () => {
    const raw = minimal();
    raw.workers[0].realms[0].roles[0].permissions.push(
      { uri: 'bad uri', match: 'exact' },
      { uri: 'a', match: 'fuzzy' },
      { match: 'prefix', allow: { fly: true, call: 'yes' }, disclose: { caller: 1, subscriber: true }, cache: 'no' },
      { uri: 'a.b', validate: { call: 'x' } },
      { uri: '', match: 'prefix' },
      { uri: '', match: 'exact' },
      'x',
    );
    const perm = (i: number) => `${R0}.roles[0].permissions[${i}]`;
    expect(errorsOf(raw)).toEqual({
      [`${perm(1)}.uri`]: '"bad uri" is not a valid URI for match \'exact\'',
      [`${perm(2)}.match`]: 'must be one of "exact", "prefix", "wildcard", got "fuzzy"',
      [`${perm(3)}.uri`]: 'is required',
      [`${perm(3)}.allow.fly`]: "unknown key 'fly' (supported: call, register, publish, subscribe)",
      [`${perm(3)}.allow.call`]: 'must be true or false, got "yes"',
      [`${perm(3)}.disclose.caller`]: 'must be true or false, got number 1',
      [`${perm(3)}.disclose.subscriber`]: "unknown key 'subscriber' (supported: caller, publisher)",
      [`${perm(3)}.cache`]: 'must be true or false, got "no"',
      [`${perm(4)}.validate`]: 'names payload types, but the realm has no `inventory` to find them in',
      [`${perm(5)}.uri`]: `duplicate permission: prefix "" is already listed at ${perm(0)}`,
      [`${perm(6)}.uri`]: '"" is not a valid URI for match \'exact\'',
      [perm(7)]: 'must be an object, got "x"',
    });
  });

  it('store: type, call-queue and event-history entries', () => {
    const raw = minimal();
    raw.workers[0].realms[0].store = {
      limit: -1,
      'call-queue': [{ uri: 'a' }, { uri: 'b', limit: 5, timeout: 0 }, { uri: 'a', match: 'exact', limit: 1 }, { uri: 'c', limit: 1, priority: 2 }],
      'event-history': [{ uri: 'x', match: 'sideways', limit: 'many' }],
      retain: true,
    };
    const s = `${R0}.store`;
    expect(errorsOf(raw)).toEqual({
      [`${s}.type`]: 'is required (one of "memory")',
      [`${s}.limit`]: 'must be between 0 and 1000000, got -1',
      [`${s}.retain`]: "unknown key 'retain' (supported: type, limit, call-queue, event-history, retained)",
      [`${s}.call-queue[0].limit`]: 'is required',
      [`${s}.call-queue[1].timeout`]: 'must be between 1 and 86400000, got 0',
      [`${s}.call-queue[2].uri`]: `duplicate call-queue entry: exact "a" is already listed at ${s}.call-queue[0]`,
      [`${s}.call-queue[3].priority`]: "unknown key 'priority' (supported: uri, match, limit, timeout)",
      [`${s}.event-history[0].match`]: 'must be one of "exact", "prefix", "wildcard", got "sideways"',
      [`${s}.event-history[0].limit`]: 'must be a whole number, got "many"',
    });
    // cfxdb: kept in memory, with a warning (test/unit/config/crossbar-leftover-keys.test.ts).
    raw.workers[0].realms[0].store = { type: 'cfxdb', path: 'db' };
    expect(errorsOf(raw)).toEqual({});
  });

  it('transports: type and endpoint', () => {
    const raw = minimal();
    raw.workers[0].transports = [
      { type: 'mqtt', endpoint: { type: 'tcp', port: 1883 } },
      { type: 'http' },
      { endpoint: { type: 'tcp', port: 1 } },
      { type: 'websocket' },
      { type: 'websocket', endpoint: { type: 'onion', port: 80, tor_control_endpoint: { type: 'udp' } } },
      { type: 'websocket', endpoint: { type: 'tcp', port: 70000, interface: 'localhost', backlog: 0, shared: true } },
      { type: 'websocket', endpoint: { type: 'tcp', port: 'eighty', version: 5 } },
      { type: 'websocket', endpoint: { type: 'tcp', interface: '::1', version: 4 } },
      { type: 'rawsocket', endpoint: { type: 'unix', path: `/tmp/${'x'.repeat(120)}.sock`, backlog: 10 } },
      { type: 'rawsocket', endpoint: { type: 'unix' } },
      'x',
    ];
    const t = (i: number) => `workers[0].transports[${i}]`;
    expect(errorsOf(raw)).toEqual({
      [`${t(0)}.options`]: 'is required: at least { realm: <the realm MQTT clients join> }',
      [`${t(1)}.type`]: 'must be one of "websocket", "rawsocket", "universal", "web", "mqtt", "websocket.testee", "stream.testee", got "http"',
      [`${t(2)}.type`]: 'is required (one of "websocket", "rawsocket", "universal", "web", "mqtt", "websocket.testee", "stream.testee")',
      [`${t(3)}.endpoint`]: 'is required: an object with type "tcp" (port, interface) or "unix" (path)',
      [`${t(4)}.endpoint.tor_control_endpoint.type`]: 'must be "tcp" or "unix", got "udp"',
      [`${t(4)}.endpoint.private_key_file`]: 'is required',
      [`${t(5)}.endpoint.port`]: 'must be between 0 and 65535, got 70000',
      [`${t(5)}.endpoint.interface`]: 'must be an IP address such as "127.0.0.1", "0.0.0.0" or "::", got "localhost"',
      [`${t(5)}.endpoint.backlog`]: 'must be between 1 and 65535, got 0',
      [`${t(6)}.endpoint.port`]: 'must be a whole number, got "eighty"',
      [`${t(6)}.endpoint.version`]: 'must be one of 4, 6, got number 5',
      [`${t(7)}.endpoint.port`]: 'is required',
      [`${t(7)}.endpoint.interface`]: '::1 is an IPv6 address but version is 4',
      [`${t(8)}.endpoint.path`]: expect.stringMatching(/is too long for a Unix socket \(at most 107 bytes\)$/),
      [`${t(9)}.endpoint.path`]: 'is required',
      [t(10)]: 'must be an object, got "x"',
    });
  });

  it('serializers: subset of json, msgpack, cbor, ubjson', () => {
    const raw = minimal();
    raw.workers[0].transports[0].serializers = ['json', 'ubjson', 'flatbuffers', 'xml', 'json'];
    expect(errorsOf(raw)).toEqual({
      [`${T0}.serializers[3]`]: 'must be one of "json", "msgpack", "cbor", "ubjson", got "xml"',
      [`${T0}.serializers[4]`]: 'serializer "json" is listed twice',
    });
    raw.workers[0].transports[0].serializers = [];
    expectOnlyError(raw, `${T0}.serializers`, /must not be empty/);
    raw.workers[0].transports[0].serializers = 'json';
    expectOnlyError(raw, `${T0}.serializers`, /must be a list/);
  });

  it('WebSocket options: known keys, ranges, milliseconds, unknown keys', () => {
    const raw = minimal();
    raw.workers[0].transports[0].options = {
      max_message_size: 0, auto_ping_interval: 10, auto_ping_timeout: 99, auto_ping_size: 126,
      open_handshake_timeout: 0, allowed_origins: 'https://example.com', require_websocket_subprotocol: 'no',
    };
    const o = `${T0}.options`;
    expect(errorsOf(raw)).toEqual({
      [`${o}.max_message_size`]: 'must be between 1 and 67108864, got 0',
      [`${o}.auto_ping_interval`]: 'is in milliseconds; 10 is too small (at least 100, or 0 for off)',
      [`${o}.auto_ping_timeout`]: 'is in milliseconds; 99 is too small (at least 100, or 0 for off)',
      [`${o}.auto_ping_size`]: 'must be between 0 and 125, got 126',
      [`${o}.open_handshake_timeout`]: 'must be at least 1000 ms (Junction always limits the opening handshake)',
      [`${o}.allowed_origins`]: 'must be a list, got "https://example.com"',
      [`${o}.require_websocket_subprotocol`]: 'must be true or false, got "no"',
    });
    raw.workers[0].transports[0].options = { auto_ping_timeout: 500, allowed_origins: ['https://*.example.com', 'null'], compression: false, enable_webstatus: false };
    const config = parseConfig(raw);
    expect(config.router.listeners[0]!.websocket['/']!.options).toMatchObject({ autoPingTimeout: 500, allowedOrigins: ['https://*.example.com', 'null'] });
    expect(Object.keys(warningsOf(raw))).toEqual([`${o}.auto_ping_timeout`]);
  });

  it("WebSocket options: Crossbar's defaults, compression bounds, Autobahn knobs accepted with a warning", () => {
    const raw = minimal();
    const o = `${T0}.options`;
    const optionsOf = () => parseConfig(raw).router.listeners[0]!.websocket['/']!.options.websocket;
    raw.workers[0].transports[0].options = {};
    expect(optionsOf()).toEqual({ maxFrameSize: 0, autoFragmentSize: 0, failByDrop: false, closeHandshakeTimeout: 1000, allowNullOrigin: true, requireSubprotocol: true, webStatus: true });
    raw.workers[0].transports[0].options = { compression: { deflate: {} } };
    expect(optionsOf()!.deflate).toEqual({ requestNoContextTakeover: false, requestMaxWindowBits: 0, noContextTakeover: false, maxWindowBits: 13, memoryLevel: 5, threshold: 64, maxConnections: 100 });
    raw.workers[0].transports[0].options = { compression: { deflate: { max_window_bits: 16, memory_level: 0, request_max_window_bits: 3, zstd: 1 } }, max_frame_size: -1 };
    expect(errorsOf(raw)).toEqual({
      [`${o}.compression.deflate.max_window_bits`]: 'must be between 8 and 15, got 16',
      [`${o}.compression.deflate.request_max_window_bits`]: 'must be 0 (do not ask) or 8..15',
      [`${o}.compression.deflate.zstd`]: expect.stringMatching(/^unknown key 'zstd'/),
      [`${o}.max_frame_size`]: 'must be between 0 and 67108864, got -1',
    });
    raw.workers[0].transports[0].options = { validate_utf8: true, tcp_nodelay: false, enable_hixie76: false };
    expect(warningsOf(raw)).toEqual({
      [`${o}.validate_utf8`]: expect.stringMatching(/^has no effect in Junction: Junction always checks the UTF-8/),
      [`${o}.tcp_nodelay`]: expect.stringMatching(/^has no effect in Junction: Junction always sets TCP_NODELAY/),
      [`${o}.enable_hixie76`]: expect.stringMatching(/^has no effect in Junction/),
    });
  });

  it('RawSocket: options (Junction) or max_message_size beside serializers (older Crossbar), not both', () => {
    const raw = minimal();
    raw.workers[0].transports[0] = { type: 'rawsocket', endpoint: { type: 'tcp', port: 8080 }, max_message_size: 4096, serializers: ['msgpack'] };
    expect(parseConfig(raw).router.listeners[0]!.rawsocket!.options.maxMessageSize).toBe(4096);
    raw.workers[0].transports[0].options = { max_message_size: 2048, compression: {}, auto_ping_size: 4 };
    raw.workers[0].transports[0].url = 'ws://x';
    expect(errorsOf(raw)).toEqual({
      [`${T0}.max_message_size`]: 'is also set in options; keep one',
      [`${T0}.options.compression`]: "unknown key 'compression' (supported: max_message_size, auto_ping_interval, auto_ping_timeout, open_handshake_timeout)",
      [`${T0}.options.auto_ping_size`]: "unknown key 'auto_ping_size' (supported: max_message_size, auto_ping_interval, auto_ping_timeout, open_handshake_timeout)",
      [`${T0}.url`]: "unknown key 'url' (supported: id, type, endpoint, serializers, options, max_message_size, auth, debug)",
    });
  });

  it('url and debug are accepted (type-checked, no effect); cookie is read (load-cookie.test.ts)', () => {
    const raw = minimal();
    Object.assign(raw.workers[0].transports[0], { url: 'ws://example.com:8080/ws', debug: true });
    expect(issuesOf(raw)).toEqual([]);
    Object.assign(raw.workers[0].transports[0], { url: 'http://example.com', debug: 'yes', cookie: { length: 3 } });
    expect(errorsOf(raw)).toEqual({
      [`${T0}.url`]: 'must be a ws:// or wss:// URL, got "http://example.com"',
      [`${T0}.debug`]: 'must be true or false, got "yes"',
      [`${T0}.cookie.length`]: 'must be between 12 and 256, got 3',
    });
  });

  it('auth: anonymous, ticket, wampcra, cryptosign, scram, tls, static or dynamic; everything else is refused by path', () => {
    const raw = minimal();
    const supported = '(supported: anonymous, ticket, wampcra, cryptosign, scram, tls, cookie)';
    raw.workers[0].transports[0].auth = {
      cookie: {}, 'ticket-proxy': {},
      anonymous: { type: 'dynamic', authenticator: 'com.example.auth', role: 'x' },
      ticket: { type: 'function', create: 'x' },
      wampcra: { type: 'static', users: {}, authenticator: 'com.example.auth' },
      cryptosign: { type: 'dynamic', 'authenticator-realm': 'not a uri!' },
    };
    const a = `${T0}.auth`;
    expect(errorsOf(raw)).toEqual({
      [`${a}.ticket-proxy`]: `unknown key 'ticket-proxy' ${supported}`,
      [`${a}.anonymous.role`]: 'does not apply to type "dynamic" (the authenticator decides)',
      [`${a}.wampcra.users`]: 'must list at least one principal',
      [`${a}.wampcra.authenticator`]: 'applies only to type "dynamic"',
      [`${a}.cryptosign.authenticator`]: 'is required',
      [`${a}.cryptosign.authenticator-realm`]: 'must be a URI, got "not a uri!"',
    });
    // A Python function cannot run here: the method is not offered, with a warning saying what to use.
    const python = minimal();
    python.workers[0].transports[0].auth = { ticket: { type: 'function', create: 'x' }, anonymous: { type: 'static', role: 'anonymous' } };
    expect(warningsOf(python)[`${a}.ticket.type`]).toMatch(/^type "function" is a Python function inside Crossbar: Junction does not offer this method/);
    raw.workers[0].transports[0].auth = {};
    expectOnlyError(raw, a, /must enable at least one authentication method/);
    raw.workers[0].transports[0].auth = { ticket: { type: 'static', principals: {} }, anonymous: { role: 'anonymous' } };
    expect(errorsOf(raw)).toEqual({
      [`${a}.ticket.principals`]: 'must list at least one principal',
      [`${a}.anonymous.type`]: 'is required (one of "static", "dynamic")',
    });
    raw.workers[0].transports[0].auth = { ticket: { type: 'static', principals: { dev: { role: 'anonymous' }, dev2: { ticket: 's', realm: 'not a uri!' }, dev3: { ticket: 123456, role: 'anonymous' } } } };
    expect(errorsOf(raw)).toEqual({
      [`${a}.ticket.principals.dev.ticket`]: 'is required',
      [`${a}.ticket.principals.dev3.ticket`]: 'must be a string, "${ENV_VAR}" or { file: path } (value not shown)',
      [`${a}.ticket.principals.dev2.role`]: 'is required',
      [`${a}.ticket.principals.dev2.realm`]: 'must be a URI, got "not a uri!"',
    });
    const key = 'ab'.repeat(32);
    raw.workers[0].transports[0].auth = {
      wampcra: { type: 'static', users: { u1: { secret: 's', role: 'anonymous', iterations: 10 }, u2: { secret: 'k', role: 'anonymous', salt: 'salt', keylen: 0 } } },
      cryptosign: { type: 'static', principals: { d1: { authorized_keys: [key, 'zz'], role: 'anonymous' }, d2: { authorized_keys: [key.toUpperCase()], role: 'anonymous', realm: 'r' }, d3: { authorized_keys: [], role: 'anonymous' } } },
    };
    expect(errorsOf(raw)).toEqual({
      [`${a}.wampcra.users.u1.iterations`]: 'applies only with a salt (the salted WAMP-CRA variant)',
      [`${a}.wampcra.users.u2.keylen`]: 'must be between 1 and 1024, got 0',
      [`${a}.cryptosign.principals.d1.authorized_keys[1]`]: 'must be an Ed25519 public key as 64 hex characters, got "zz"',
      [`${a}.cryptosign.principals.d2.authorized_keys[0]`]: `this key is already authorized for ${a}.cryptosign.principals.d1`,
      [`${a}.cryptosign.principals.d3.authorized_keys`]: 'must not be empty',
    });
  });

  it('auth: secrets come from the file, the environment or a file beside it, and are parsed into the typed config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-secret-'));
    writeFileSync(join(dir, 'cra.key'), 'derived-key==\n');
    process.env['JUNCTION_TEST_TICKET'] = 'from-env';
    try {
      const raw = minimal();
      raw.workers[0].transports[0].auth = {
        ticket: { type: 'static', principals: { dev: { ticket: '${JUNCTION_TEST_TICKET}', role: 'anonymous' } } },
        wampcra: { type: 'static', users: { u: { secret: { file: 'cra.key' }, role: 'anonymous', salt: 's1' }, v: { secret: { file: 'missing.key' }, role: 'anonymous' } } },
      };
      expect(errorsOf(raw, dir)).toEqual({
        [`${T0}.auth.wampcra.users.v.secret.file`]: `cannot read ${join(dir, 'missing.key')}: ENOENT`,
      });
      delete raw.workers[0].transports[0].auth.wampcra.users.v;
      raw.workers[0].transports[0].auth.cryptosign = { type: 'dynamic', authenticator: 'com.example.authenticate', 'authenticator-realm': 'auth' };
      const auth = parseConfig(raw, undefined, dir).router.listeners[0]!.websocket['/']!.auth!;
      expect(auth.ticket).toEqual({ type: 'static', principals: { dev: { ticket: 'from-env', role: 'anonymous' } } });
      expect(auth.wampcra).toEqual({ type: 'static', users: { u: { secret: 'derived-key==', role: 'anonymous', salt: 's1', iterations: 1000, keylen: 32 } } });
      expect(auth.cryptosign).toEqual({ type: 'dynamic', authenticator: 'com.example.authenticate', authenticatorRealm: 'auth' });
    } finally {
      delete process.env['JUNCTION_TEST_TICKET'];
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('auth: roles must exist in some realm (trusted is built in); anonymous defaults to role anonymous', () => {
    const raw = minimal();
    raw.workers[0].transports[0].auth = {
      anonymous: { type: 'static', role: 'ghost' },
      ticket: { type: 'static', principals: { a: { ticket: 'x', role: 'trusted' }, b: { ticket: 'y', role: 'nobody' } } },
    };
    expect(errorsOf(raw)).toEqual({
      [`${T0}.auth.anonymous.role`]: "role 'ghost' is not defined in any realm",
      [`${T0}.auth.ticket.principals.b.role`]: "role 'nobody' is not defined in any realm",
    });
    raw.workers[0].transports[0].auth = { anonymous: { type: 'static', authid: 'kiosk' } };
    expect(parseConfig(raw).router.listeners[0]!.websocket['/']!.auth).toEqual({ anonymous: { type: 'static', role: 'anonymous', authid: 'kiosk' } });
    raw.workers[0].realms[0].roles[0].name = 'user';
    expectOnlyError(raw, `${T0}.auth.anonymous`, /^role 'anonymous' is not defined in any realm$/);
  });

  it('auth: a ticket "${NAME}" comes from the environment (as in Crossbar), and must be set', () => {
    const raw = minimal();
    raw.workers[0].transports[0].auth = { ticket: { type: 'static', principals: { dev: { ticket: '${JUNCTION_TEST_TICKET}', role: 'anonymous' } } } };
    process.env['JUNCTION_TEST_TICKET'] = 's3cret';
    try {
      expect(parseConfig(raw).router.listeners[0]!.websocket['/']!.auth!.ticket!.principals['dev']!.ticket).toBe('s3cret');
    } finally {
      delete process.env['JUNCTION_TEST_TICKET'];
    }
    expectOnlyError(raw, `${T0}.auth.ticket.principals.dev.ticket`, /^environment variable JUNCTION_TEST_TICKET is not set$/);
  });

  it('web transports: paths, path types, static directories', () => {
    const webDir = join(FIXTURES, 'crossbar-node/web');
    const raw = minimal();
    raw.workers[0].transports[0] = {
      type: 'web', endpoint: { type: 'tcp', port: 8080 }, options: { hsts: true },
      paths: {
        '/': { type: 'static', directory: webDir, options: { cache_timeout: 10 } },
        pages: { type: 'static', directory: webDir, options: { cache_timeout: -1, mime_types: { svg: 'image/svg+xml', '.x': 3 } } },
        ws: { type: 'websocket', serializers: ['json'], endpoint: {} },
        api: { type: 'caller', realm: 'realm1', role: 'anonymous' },
        pub: { type: 'publisher' }, wsgi: { type: 'wsgi' }, proxy: { type: 'reverseproxy' },
        'a/b': { type: 'static', directory: webDir },
        missing: { type: 'static', directory: 'no-such-dir' },
        file: { type: 'static', directory: join(webDir, 'index.html') },
        pkg: { type: 'static', package: 'x', resource: 'y' },
        none: {},
      },
    };
    const p = `${T0}.paths`;
    expect(errorsOf(raw, FIXTURES)).toEqual({
      [`${p}.pages.options.cache_timeout`]: 'must be between 0 and 31536000, got -1',
      [`${p}.pages.options.mime_types.svg`]: `must be a file extension starting with '.', such as ".svg"`,
      [`${p}.pages.options.mime_types[".x"]`]: 'must be a content type such as "image/svg+xml", got number 3',
      [`${p}.ws.endpoint`]: "unknown key 'endpoint' (supported: id, type, serializers, options, auth, url, debug, cookie)",
      [`${p}.pub.realm`]: 'is required',
      [`${p}.pub.role`]: 'is required',
      [`${p}.proxy.host`]: 'is required',
      [`${p}["a/b"]`]: '"a/b" is not a valid path: use "/" or one segment of letters, digits, \'_\' and \'-\' (e.g. "ws")',
      [`${p}.file.directory`]: `${join(webDir, 'index.html')} is not a directory`,
      [`${p}.none.type`]: 'is required (one of "static", "websocket", "longpoll", "mqtt", "dashboard", "json", "redirect", "reverseproxy", "websocket-reverseproxy", "nodeinfo", "publisher", "caller", "webhook", "path")',
    });
    // Twisted's site options and a Python package's files: accepted, each with what Junction does.
    const site = minimal();
    site.workers[0].transports[0] = { type: 'web', endpoint: { type: 'tcp', port: 8080 }, options: { hsts: true }, paths: { '/': { type: 'nodeinfo' }, pkg: { type: 'static', package: 'x', resource: 'y' } } };
    const warned = warningsOf(site);
    expect(warned[`${T0}.options.hsts`]).toMatch(/^ignored: Junction sends no Strict-Transport-Security header/);
    expect(warned[`${p}.pkg.package`]).toMatch(/^a Python package's resources cannot be served by Junction: \/pkg answers 404/);
    raw.workers[0].transports[0] = { type: 'web', endpoint: { type: 'tcp', port: 8080 }, paths: {} };
    expectOnlyError(raw, `${T0}.paths`, /must serve at least one path/);
  });

  it('universal transports: sub-items share the endpoint, need at least one service, paths do not collide', () => {
    const raw = minimal();
    raw.workers[0].transports[0] = {
      type: 'universal', endpoint: { type: 'tcp', port: 8080 }, mqtt: {},
      rawsocket: { endpoint: { type: 'tcp', port: 1 }, type: 'websocket' },
      websocket: { ws: { endpoint: {}, type: 'rawsocket' }, 'bad path': {} },
      web: { endpoint: {}, paths: { ws: { type: 'static', directory: '.' } } },
    };
    const u = T0;
    const ownEndpoint = "a universal transport's sub-items share its endpoint; remove this one";
    expect(errorsOf(raw)).toEqual({
      [`${u}.mqtt.options`]: 'is required: at least { realm: <the realm MQTT clients join> }',
      [`${u}.rawsocket.endpoint`]: ownEndpoint,
      [`${u}.rawsocket.type`]: 'must be one of "rawsocket", got "websocket"',
      [`${u}.websocket.ws.endpoint`]: ownEndpoint,
      [`${u}.websocket.ws.type`]: 'must be one of "websocket", got "rawsocket"',
      [`${u}.websocket["bad path"]`]: expect.stringMatching(/is not a valid path/),
      [`${u}.web.endpoint`]: ownEndpoint,
      [`${u}.web.paths.ws`]: 'path /ws is already served by this transport',
    });
    raw.workers[0].transports[0] = { type: 'universal', endpoint: { type: 'tcp', port: 8080 } };
    expectOnlyError(raw, T0, /needs at least one of rawsocket, websocket, web or mqtt/);
  });

  it('listeners: duplicate ports, Unix paths and ids across transports', () => {
    const raw = minimal();
    raw.workers[0].transports = [
      { type: 'websocket', id: 'a', endpoint: { type: 'tcp', port: 8080, interface: '127.0.0.1' } },
      { type: 'rawsocket', id: 'b', endpoint: { type: 'tcp', port: 8080, interface: '10.0.0.1' } }, // other interface: fine
      { type: 'rawsocket', id: 'c', endpoint: { type: 'tcp', port: 8080 } }, // all interfaces: clashes
      { type: 'rawsocket', id: 'a', endpoint: { type: 'unix', path: '/tmp/j.sock' } },
      { type: 'rawsocket', endpoint: { type: 'unix', path: '/tmp/j.sock' } },
      { type: 'rawsocket', endpoint: { type: 'tcp', port: 0 } },
      { type: 'rawsocket', endpoint: { type: 'tcp', port: 0 } }, // port 0 (any free port) never clashes
    ];
    const t = (i: number) => `workers[0].transports[${i}]`;
    expect(errorsOf(raw)).toEqual({
      [`${t(2)}.endpoint`]: `TCP port 8080 is already used by ${t(0)}`,
      [`${t(3)}.id`]: `transport id 'a' is already used by ${t(0)}`,
      [`${t(4)}.endpoint`]: `Unix socket /tmp/j.sock is already used by ${t(3)}`,
    });
  });

  it('warns when a transport lets clients in as "anonymous" but no realm defines that role', () => {
    const raw = minimal();
    raw.workers[0].realms[0].roles[0].name = 'user';
    expect(warningsOf(raw)).toEqual({
      [T0]: "has no auth block, so clients join as role 'anonymous', which no realm defines: nobody can join through it",
    });
  });

  it('collects every error of a file in one run, one line each', async () => {
    const raw = minimal();
    raw.extra = 1;
    raw.workers[0].transports[0].endpoint.port = 'eighty';
    raw.workers[0].transports[0].serializers = ['json', 'xml'];
    raw.workers[0].realms[0].roles[0].permissions[0].allow.fly = true;
    raw.workers[0].realms[0].roles[0].permissions[0].match = 'fuzzy';
    raw.workers[0].realms.push({ name: 'realm1', roles: [] });
    raw.workers[0].transports.push({ type: 'websocket', endpoint: { type: 'tcp', port: 70000 }, options: { compression: {}, foo: 1 }, auth: { wampcra: {} } });
    const dir = tmp('many');
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(raw, null, 2));
    const err = await loadConfigFile(file).then(() => undefined, (e: unknown) => e) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    const expected = [
      'extra',
      'workers[0].realms[0].roles[0].permissions[0].match',
      'workers[0].realms[0].roles[0].permissions[0].allow.fly',
      'workers[0].realms[1].name',
      'workers[0].transports[0].endpoint.port',
      'workers[0].transports[0].serializers[1]',
      'workers[0].transports[1].endpoint.port',
      'workers[0].transports[1].options.foo',
      'workers[0].transports[1].auth.wampcra.type',
    ];
    expect(err.issues.map((i) => i.path).sort()).toEqual([...expected].sort());
    expect(err.source).toBe(file);
    const lines = err.message.split('\n');
    expect(lines[0]).toBe(`${file}: ${expected.length} errors`);
    expect(lines).toHaveLength(expected.length + 1);
    expect(lines).toContain('  workers[0].transports[0].endpoint.port: must be a whole number, got "eighty"');

    const check = await checkConfigFile(file);
    expect(check.ok).toBe(false);
    expect(check.lines).toHaveLength(expected.length);
    expect(check.lines).toContain('extra: unknown key \'extra\' (supported: $schema, version, controller, workers, bridges, serial, telemetry, schedules)');
    expect(check.lines.every((l) => /^[\w$[\]".-]+: /.test(l))).toBe(true);
  });

  it('check names the whole file as (root) when it cannot be read or parsed', async () => {
    const dir = tmp('check');
    writeFileSync(join(dir, 'broken.json'), '{ "version": 2,');
    const check = await checkConfigFile(join(dir, 'broken.json'));
    expect(check).toEqual({ ok: false, lines: [expect.stringMatching(/^\(root\): not valid JSON: /)] });
    expect(await checkConfigFile(join(FIXTURES, 'crossbar-node/.crossbar/config.json'))).toEqual({
      ok: true, lines: [`${join(FIXTURES, 'crossbar-node/.crossbar/config.json')}: OK (1 realm, 1 transport)`],
    });
  });
});

describe('junction init: the starter config', () => {
  it('parses to exactly the embedded default', () => {
    expect(parseConfig(parseYaml(starterConfig()))).toEqual(defaultConfig());
    // Every key is explained by a comment.
    expect(starterConfig().split('\n').filter((l) => /^\s*#/.test(l)).length).toBeGreaterThan(30);
  });

  it('is written as junction.yaml, loads back, and is never overwritten', async () => {
    const dir = tmp('init');
    const path = await writeStarter(dir);
    expect(path).toBe(join(dir, 'junction.yaml'));
    const loaded = await loadConfigFile(path);
    expect(loaded).toEqual({ ...defaultConfig(), source: path });
    writeFileSync(path, '# mine\n');
    await expect(writeStarter(dir)).rejects.toThrow(`${resolve(path)} already exists; not overwriting it`);
    expect(readFileSync(path, 'utf8')).toBe('# mine\n');
    // issue 20 #6: a directory that does not exist yet is created.
    expect(await writeStarter(join(dir, 'new', 'dir'))).toBe(join(dir, 'new', 'dir', 'junction.yaml'));
  });

  it('its commented-out examples are valid once uncommented', () => {
    // Uncomment the example blocks (lines like "#   key: value" or "# key:"), keep the prose.
    const dir = tmp('starter');
    mkdirSync(join(dir, 'web'));
    for (const f of ['server.key', 'server.crt']) copyFileSync(join(CERTS, f), join(dir, f === 'server.key' ? 'key.pem' : 'cert.pem'));
    const text = starterConfig().split('\n').map((line) => {
      const m = /^(\s*)# ?(\s*)((?:[\w-]+|"\/"):(?:\s.*)?|-\s.*)$/.exec(line);
      return m ? `${m[1]}${m[2]}${m[3]}` : line;
    }).join('\n');
    process.env['DEVICE1_TICKET'] = 'd1';
    try {
      const config = parseConfig(parseYaml(text), undefined, dir);
      const [l] = config.router.listeners;
      expect(config.router.realms[0]!.store!.callQueue).toHaveLength(1);
      expect(l!.endpoint.tls).toBeDefined();
      expect(l!.websocket['/ws']!.options.autoPingInterval).toBe(10000);
      expect(l!.websocket['/ws']!.auth!.ticket!.principals['device-1']!.ticket).toBe('d1');
      expect(l!.static['/']).toEqual({ type: 'dashboard', directory: DASHBOARD_DIR, realm: 'realm1', websocket: '/dashboard-ws', setup: '/var/lib/junction/setup.json' });
    } finally {
      delete process.env['DEVICE1_TICKET'];
    }
  });
});
