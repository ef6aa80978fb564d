import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { loadConfigFile, parseConfig, defaultConfig, convertStarredUri, ConfigError, type ConfigIssue } from '../../src/config/load.js';
import { starterConfig } from '../../src/config/starter.js';
import { checkConfigFile } from '../../src/config/check.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));

function issuesOf(raw: unknown): ConfigIssue[] {
  try {
    parseConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

const minimal = () => ({
  version: 2,
  workers: [{
    type: 'router',
    realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true } }] }] }],
    transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 8080 } }],
  }],
});

describe('config loading', () => {
  it('runs the config `crossbar init` writes, unchanged', async () => {
    const config = await loadConfigFile(join(FIXTURES, 'crossbar-default.json'));
    expect(config.router.realms).toHaveLength(1);
    const [listener] = config.router.listeners;
    expect(listener).toMatchObject({ kind: 'universal', endpoint: { type: 'tcp', port: 8080, interface: '0.0.0.0' } });
    expect(Object.keys(listener!.websocket)).toEqual(['/ws']);
    expect(listener!.rawsocket?.serializers).toEqual(['json', 'msgpack', 'cbor']);
    expect(listener!.static['/']!.directory).toBe(resolve(FIXTURES, '../web'));
  });

  it('reads YAML with roles, starred URIs, store, auth and a Unix socket', async () => {
    const config = await loadConfigFile(join(FIXTURES, 'scaling.yaml'));
    const [app, admin] = config.router.realms;
    expect(app!.uriCheck).toBe('strict');
    expect(app!.roles[0]!.permissions.map((p) => [p.uri, p.match])).toEqual([['com.example.', 'prefix'], ['sensors..temp', 'wildcard']]);
    expect(app!.store).toMatchObject({ callQueue: [{ uri: 'com.example.', match: 'prefix', limit: 50, timeout: 30000 }], eventHistory: [{ limit: 20 }] });
    expect(admin!.roles[0]!.permissions[0]).toMatchObject({ uri: '', match: 'prefix', allow: { call: true, publish: true } });
    const [ws, raw] = config.router.listeners;
    expect(ws).toMatchObject({ id: 'ws-main', websocketAnyPath: true });
    expect(ws!.websocket['/']!.options).toMatchObject({ maxMessageSize: 65536, autoPingInterval: 10000, autoPingTimeout: 5000 });
    expect(ws!.websocket['/']!.auth?.ticket?.principals['svc-1']).toEqual({ ticket: 'secret', role: 'service' });
    expect(raw!.endpoint).toEqual({ type: 'unix', path: join(FIXTURES, 'junction.sock') });
    expect(raw!.rawsocket!.serializers).toEqual(['cbor']);
  });

  it('converts Crossbar starred URIs', () => {
    expect(convertStarredUri('com.example.add')).toEqual({ uri: 'com.example.add', match: 'exact' });
    expect(convertStarredUri('com.example.*')).toEqual({ uri: 'com.example.', match: 'prefix' });
    expect(convertStarredUri('*')).toEqual({ uri: '', match: 'prefix' });
    expect(convertStarredUri('com.*.add')).toEqual({ uri: 'com..add', match: 'wildcard' });
  });

  it('reports every error at once, each with the path of the key at fault', () => {
    const raw = minimal() as any;
    raw.workers[0].transports[0].endpoint.port = 'eighty';
    raw.workers[0].transports[0].serializers = ['json', 'ubjson'];
    raw.workers[0].realms[0].roles[0].permissions[0].allow.fly = true;
    raw.workers[0].realms[0].roles[0].permissions[0].match = 'fuzzy';
    raw.workers[0].realms.push({ name: 'realm1', roles: [] });
    raw.workers[0].transports.push({ type: 'websocket', endpoint: { type: 'tcp', port: 70000 }, options: { compression: {} } });
    raw.extra = 1;
    const paths = issuesOf(raw).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining([
      'extra',
      'workers[0].transports[0].endpoint.port',
      'workers[0].transports[0].serializers[1]',
      'workers[0].realms[0].roles[0].permissions[0].allow.fly',
      'workers[0].realms[0].roles[0].permissions[0].match',
      'workers[0].realms[1].name',
      'workers[0].transports[1].endpoint.port',
      'workers[0].transports[1].options.compression',
    ]));
  });

  it('refuses what Junction does not support, naming the key', () => {
    const raw = minimal() as any;
    raw.workers[0].transports[0].auth = { wampcra: { type: 'static', users: {} }, anonymous: { type: 'dynamic', authenticator: 'x' } };
    raw.workers[0].realms[0].roles[0].authorizer = 'com.example.authorize';
    raw.workers.push({ type: 'container' });
    raw.workers[0].transports.push({ type: 'web', endpoint: { type: 'tcp', port: 8081 }, paths: { info: { type: 'nodeinfo' } } });
    const issues = issuesOf(raw);
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(byPath['workers[0].transports[0].auth.wampcra']).toMatch(/not supported/);
    expect(byPath['workers[0].transports[0].auth.anonymous.type']).toMatch(/not supported/);
    expect(byPath['workers[0].realms[0].roles[0].authorizer']).toMatch(/not supported/);
    expect(byPath['workers[1].type']).toMatch(/not supported/);
    expect(byPath['workers[0].transports[1].paths.info.type']).toMatch(/not supported/);
  });

  it('checks references and uniqueness: unknown auth roles, invalid URIs, duplicate ports and roles', () => {
    const raw = minimal() as any;
    raw.workers[0].transports[0].auth = { anonymous: { type: 'static', role: 'ghost' } };
    raw.workers[0].transports.push({ type: 'rawsocket', endpoint: { type: 'tcp', port: 8080 } });
    raw.workers[0].realms[0].roles.push({ name: 'anonymous' });
    raw.workers[0].realms[0].roles[0].permissions.push({ uri: 'bad uri', match: 'exact' });
    raw.workers[0].realms[0].name = 'not a realm';
    const paths = issuesOf(raw).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining([
      'workers[0].transports[0].auth.anonymous.role',
      'workers[0].transports[1].endpoint',
      'workers[0].realms[0].roles[1].name',
      'workers[0].realms[0].roles[0].permissions[1].uri',
      'workers[0].realms[0].name',
    ]));
  });

  it('resolves TLS files against the config file and names a missing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-tls-'));
    writeFileSync(join(dir, 'key.pem'), 'KEY');
    writeFileSync(join(dir, 'cert.pem'), 'CERT');
    const raw = minimal() as any;
    raw.workers[0].transports[0].endpoint.tls = { key: 'key.pem', certificate: 'cert.pem' };
    writeFileSync(join(dir, 'ok.json'), JSON.stringify(raw));
    const config = await loadConfigFile(join(dir, 'ok.json'));
    expect(config.router.listeners[0]!.endpoint.tls).toEqual({ key: 'KEY', certificate: 'CERT' });
    raw.workers[0].transports[0].endpoint.tls.ca = 'missing.pem';
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(raw));
    const check = await checkConfigFile(join(dir, 'bad.json'));
    expect(check.ok).toBe(false);
    expect(check.lines.join('\n')).toMatch(/workers\[0\]\.transports\[0\]\.endpoint\.tls\.ca: cannot read/);
  });

  it('reports syntax errors in the file itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-bad-'));
    writeFileSync(join(dir, 'broken.json'), '{ "version": 2,');
    const check = await checkConfigFile(join(dir, 'broken.json'));
    expect(check.ok).toBe(false);
    expect(check.lines[0]).toMatch(/not valid JSON/);
  });

  it('the starter config is valid and equivalent to the embedded default', () => {
    const fromStarter = parseConfig(parseYaml(starterConfig()));
    const embedded = defaultConfig();
    expect(fromStarter.router.realms).toEqual(embedded.router.realms);
    const [s] = fromStarter.router.listeners;
    const [e] = embedded.router.listeners;
    expect(s!.endpoint).toEqual(e!.endpoint);
    expect(Object.keys(s!.websocket)).toEqual(Object.keys(e!.websocket));
    expect(s!.rawsocket!.serializers).toEqual(e!.rawsocket!.serializers);
  });
});
