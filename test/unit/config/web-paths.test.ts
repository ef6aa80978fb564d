// Crossbar's remaining web path types and the keys that cannot apply to Junction: what the loader
// makes of them, and its warnings and errors by key path.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../../src/config/load.js';
import { dhParamsProblem } from '../../../src/config/load-tls-options.js';
import { errorsOf } from '../../helpers/config.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/config/', import.meta.url));
const CERTS = join(FIXTURES, 'tls', 'certs');
const T0 = 'workers[0].transports[0]';

type Raw = any; // documents are built loosely and broken on purpose

function withPaths(paths: Record<string, unknown>): Raw {
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true } }] }] }],
      transports: [{ type: 'web', endpoint: { type: 'tcp', port: 8080 }, paths }],
    }],
  };
}

function warningsOf(raw: unknown, baseDir?: string): Record<string, string> {
  return Object.fromEntries((parseConfig(raw, undefined, baseDir).warnings ?? []).map((w) => [w.path, w.message]));
}

describe('web paths json, redirect, reverseproxy, nodeinfo', () => {
  it('reads them as Crossbar documents them, with its defaults', () => {
    const config = parseConfig(withPaths({
      config: { type: 'json', value: { b: 1, a: [1, 2] } },
      flat: { type: 'json', value: { b: 1, a: 2 }, options: { prettify: false, sort_keys: true, allow_cross_origin: true, discourage_caching: true } },
      old: { type: 'redirect', url: 'https://example.com/new' },
      app: { type: 'reverseproxy', host: 'backend.local', path: '/my_path/' },
      api: { type: 'reverseproxy', host: '127.0.0.1', port: 8000, timeout: 5000, max_request_body: 1024 },
      info: { type: 'nodeinfo' },
    }));
    expect(config.warnings).toBeUndefined();
    expect(config.router.listeners[0]!.static).toEqual({
      '/config': { type: 'json', body: '{\n  "b": 1,\n  "a": [\n    1,\n    2\n  ]\n}', allowCrossOrigin: false, discourageCaching: false },
      '/flat': { type: 'json', body: '{"a":2,"b":1}', allowCrossOrigin: true, discourageCaching: true },
      '/old': { type: 'redirect', url: 'https://example.com/new' },
      '/app': { type: 'reverseproxy', host: 'backend.local', port: 80, path: '/my_path', timeout: 30000, maxRequestBody: 16 * 1024 * 1024 },
      '/api': { type: 'reverseproxy', host: '127.0.0.1', port: 8000, path: '', timeout: 5000, maxRequestBody: 1024 },
      '/info': { type: 'nodeinfo' },
    });
  });

  it('bad values are errors by key path', () => {
    const p = `${T0}.paths`;
    expect(errorsOf(withPaths({
      a: { type: 'json' },
      b: { type: 'json', value: null, options: { prettify: 'yes', colour: 1 } },
      c: { type: 'redirect' },
      d: { type: 'redirect', url: 'https://x/\r\nSet-Cookie: a=b' },
      e: { type: 'reverseproxy', port: 0, path: 'nope' },
      f: { type: 'nodeinfo', extra: 1 },
    }))).toEqual({
      [`${p}.a.value`]: 'is required (any JSON value)',
      [`${p}.b.options.colour`]: "unknown key 'colour' (supported: prettify, sort_keys, allow_cross_origin, discourage_caching)",
      [`${p}.b.options.prettify`]: 'must be true or false, got "yes"',
      [`${p}.c.url`]: 'is required',
      [`${p}.d.url`]: 'must be a URL of visible ASCII characters (no spaces or line breaks; %-encode others)',
      [`${p}.e.host`]: 'is required',
      [`${p}.e.port`]: 'must be between 1 and 65535, got 0',
      [`${p}.e.path`]: `must start with '/' (or be empty), got "nope"`,
      [`${p}.f.extra`]: "unknown key 'extra' (supported: id, type)",
    });
  });
});

describe('static paths', () => {
  it('options enable_directory_listing, cache_timeout (null: none), mime_types; a missing directory warns and is kept', () => {
    const web = join(FIXTURES, 'crossbar-node/web');
    const raw = withPaths({
      '/': { type: 'static', directory: web, options: { enable_directory_listing: true, cache_timeout: 3600, mime_types: { '.JGZ': 'text/javascript' } } },
      plain: { type: 'static', directory: web, options: { cache_timeout: null } },
      later: { type: 'static', directory: 'no-such-dir' },
    });
    const config = parseConfig(raw, undefined, FIXTURES);
    expect(config.router.listeners[0]!.static).toEqual({
      '/': { type: 'static', directory: web, listDirectories: true, cacheTimeout: 3600, mimeTypes: { '.jgz': 'text/javascript' } },
      '/plain': { type: 'static', directory: web },
      '/later': { type: 'static', directory: join(FIXTURES, 'no-such-dir') },
    });
    expect(warningsOf(raw, FIXTURES)).toEqual({
      [`${T0}.paths.later.directory`]: `${join(FIXTURES, 'no-such-dir')} does not exist: requests below /later answer 404 until it does`,
    });
  });
});

describe('keys that need Python: one warning each, never refused', () => {
  it('web path types wsgi, resource, wap, cgi, upload, archive', () => {
    const raw = withPaths({
      '/': { type: 'wsgi', module: 'app', object: 'app' },
      res: { type: 'resource', classname: 'a.B' },
      wap: { type: 'wap', templates: 't', sql: {} },
      cgi: { type: 'cgi', directory: 'cgi', processor: '/usr/bin/python' },
      up: { type: 'upload', realm: 'realm1', role: 'anonymous', directory: 'x', form_fields: {} },
      zip: { type: 'archive', archive: 'app.zip' },
    });
    const p = `${T0}.paths`;
    expect(warningsOf(raw)).toEqual({
      [`${p}["/"].type`]: 'a Python WSGI application cannot run inside Junction: / answers 404 (run it as a separate web server and forward to it with a "reverseproxy" path)',
      [`${p}.res.type`]: 'a Twisted Web resource class cannot run inside Junction: /res answers 404 (run it as a separate web server and forward to it with a "reverseproxy" path)',
      [`${p}.wap.type`]: 'a Python WAMP application page (Jinja templates) cannot run inside Junction: /wap answers 404 (run it as a separate web server and forward to it with a "reverseproxy" path)',
      [`${p}.cgi.type`]: 'CGI scripts cannot run inside Junction: /cgi answers 404 (run it as a separate web server and forward to it with a "reverseproxy" path)',
      [`${p}.up.type`]: "Crossbar's file upload service cannot run inside Junction: /up answers 404 (run it as a separate web server and forward to it with a \"reverseproxy\" path)",
      [`${p}.zip.type`]: 'files from a ZIP archive cannot run inside Junction: /zip answers 404 (unpack the archive and serve it with a "static" path)',
    });
    expect(parseConfig(raw).router.listeners[0]!.static).toEqual({});
  });

  it('router worker components, connections, manhole and options pythonpath, python, cpu_affinity, env, expose_*', () => {
    const raw = withPaths({ ws: { type: 'websocket' } });
    Object.assign(raw.workers[0], {
      components: [{ type: 'class', classname: 'app.Backend', realm: 'realm1', transport: { type: 'websocket', endpoint: {} } }],
      connections: [], manhole: { endpoint: { type: 'tcp', port: 6022 }, users: [] },
      options: { title: 'r', pythonpath: ['..'], python: '/usr/bin/python3', cpu_affinity: [0], env: { inherit: true }, expose_controller: true, expose_shared: true },
    });
    const w = warningsOf(raw);
    expect(Object.keys(w).sort()).toEqual([
      'workers[0].components', 'workers[0].connections', 'workers[0].manhole',
      'workers[0].options.cpu_affinity', 'workers[0].options.env', 'workers[0].options.expose_controller',
      'workers[0].options.expose_shared', 'workers[0].options.python', 'workers[0].options.pythonpath',
    ]);
    expect(w['workers[0].components']).toMatch(/Junction does not start them; run each as an ordinary WAMP client/);
    expect(w['workers[0].options.pythonpath']).toBe('Junction loads no Python modules: ignored');
  });
});

describe('endpoint backlog and TLS ciphers, dhparam', () => {
  function withEndpoint(endpoint: Raw): Raw {
    const raw = withPaths({ ws: { type: 'websocket' } });
    raw.workers[0].transports[0].endpoint = endpoint;
    return raw;
  }

  it('backlog on Unix sockets as on TCP', () => {
    const config = parseConfig(withEndpoint({ type: 'unix', path: '/tmp/junction-test.sock', backlog: 64 }));
    expect(config.router.listeners[0]!.endpoint).toEqual({ type: 'unix', path: '/tmp/junction-test.sock', backlog: 64 });
    expect(errorsOf(withEndpoint({ type: 'unix', path: '/tmp/j.sock', backlog: 0 }))).toEqual({ [`${T0}.endpoint.backlog`]: 'must be between 1 and 65535, got 0' });
  });

  it('ciphers checked by Node, dhparam read at load; errors by key path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-tls-'));
    for (const f of ['server.key', 'server.crt', 'dhparam.pem']) copyFileSync(join(CERTS, f), join(dir, f));
    writeFileSync(join(dir, 'bad.pem'), 'hello\n');
    writeFileSync(join(dir, 'small.pem'), '-----BEGIN DH PARAMETERS-----\nMAoCBQD/////AgEC\n-----END DH PARAMETERS-----\n');
    const tls = (extra: Raw) => withEndpoint({ type: 'tcp', port: 8443, tls: { key: 'server.key', certificate: 'server.crt', ...extra } });
    const ok = parseConfig(tls({ ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256', dhparam: 'dhparam.pem' }), undefined, dir);
    const endpoint = ok.router.listeners[0]!.endpoint;
    expect(endpoint.tls?.ciphers).toBe('ECDHE-ECDSA-AES128-GCM-SHA256');
    expect(endpoint.tls?.dhparam).toMatch(/^-----BEGIN DH PARAMETERS-----/);
    const e = `${T0}.endpoint.tls`;
    expect(errorsOf(tls({ ciphers: 'NO-SUCH-CIPHER', dhparam: 'missing.pem' }), dir)).toEqual({
      [`${e}.ciphers`]: expect.stringMatching(/^Node\.js \(OpenSSL\) refuses this cipher list: .*no cipher match/),
      [`${e}.dhparam`]: `cannot read ${join(dir, 'missing.pem')}: no such file or directory`,
    });
    expect(errorsOf(tls({ dhparam: 'bad.pem' }), dir)[`${e}.dhparam`]).toMatch(/bad\.pem: not a PEM file of DH parameters/);
    expect(errorsOf(tls({ dhparam: 'small.pem' }), dir)[`${e}.dhparam`]).toMatch(/the prime has 32 bits; at least 1024 are needed/);
    expect(dhParamsProblem('-----BEGIN DH PARAMETERS-----\nAAAA\n-----END DH PARAMETERS-----')).toBe('the DH PARAMETERS block is not DER-encoded parameters');
  });
});
