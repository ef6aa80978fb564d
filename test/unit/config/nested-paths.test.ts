// Crossbar's web path type `path` (a `paths` map mounted below a path) and the static option
// `default_file`: what the loader makes of them, and its errors and warnings by key path.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../src/config/load.js';
import { MAX_PATH_NESTING } from '../../../src/config/load-nested-path.js';
import { errorsOf } from '../../helpers/config.js';

const T0 = 'workers[0].transports[0]';

type Raw = any; // documents are built loosely and broken on purpose

function withPaths(paths: Record<string, unknown>, type = 'web'): Raw {
  const transport = type === 'web'
    ? { type: 'web', endpoint: { type: 'tcp', port: 8080 }, paths }
    : { type: 'universal', endpoint: { type: 'tcp', port: 8080 }, web: { paths } };
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true } }] }] }],
      transports: [transport],
    }],
  };
}

function warningsOf(raw: unknown, baseDir?: string): Record<string, string> {
  return Object.fromEntries((parseConfig(raw, undefined, baseDir).warnings ?? []).map((w) => [w.path, w.message]));
}

/** `depth` `path` entries inside each other, the innermost serving a json value at "/". */
function nested(depth: number): Raw {
  let entry: Raw = { type: 'json', value: 1 };
  for (let i = 0; i < depth; i++) entry = { type: 'path', paths: { '/': entry } };
  return entry;
}

describe('web path type path', () => {
  it('mounts its map below its key, "/" at the key itself, every path type and nested path again (web and universal)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-nested-'));
    for (const type of ['web', 'universal']) {
      const listener = parseConfig(withPaths({
        '/': { type: 'static', directory: dir },
        api: {
          type: 'path',
          id: 'api',
          paths: {
            '/': { type: 'json', value: { api: 1 } },
            ws: { type: 'websocket' },
            lp: { type: 'longpoll' },
            old: { type: 'redirect', url: 'https://example.com/' },
            v1: { type: 'path', paths: { info: { type: 'nodeinfo' }, pub: { type: 'publisher', realm: 'realm1', role: 'anonymous' } } },
          },
        },
      }, type)).router.listeners[0]!;
      expect(Object.keys(listener.static).sort()).toEqual(['/', '/api', '/api/old', '/api/v1', '/api/v1/info', '/api/v1/pub']);
      expect(listener.static['/api']).toMatchObject({ type: 'json' });
      // No "/" entry in v1's map: /api/v1 itself answers 404, as in Crossbar.
      expect(listener.static['/api/v1']).toEqual({ type: 'notfound' });
      expect(listener.static['/api/v1/pub']).toMatchObject({ type: 'publisher', realm: 'realm1' });
      expect(Object.keys(listener.websocket)).toEqual(['/api/ws']);
      expect(Object.keys(listener.longpoll ?? {})).toEqual(['/api/lp']);
    }
  });

  it('a websocket as the "/" entry serves the path itself (404 for HTTP below it); an empty map answers 404 there', () => {
    const listener = parseConfig(withPaths({ wamp: { type: 'path', paths: { '/': { type: 'websocket' } } }, none: { type: 'path', paths: {} } })).router.listeners[0]!;
    expect(Object.keys(listener.websocket)).toEqual(['/wamp']);
    expect(listener.static).toEqual({ '/wamp': { type: 'notfound' }, '/none': { type: 'notfound' } });
  });

  it('errors name the nested key path', () => {
    const p = `${T0}.paths`;
    expect(errorsOf(withPaths({
      api: {
        type: 'path',
        colour: 1,
        paths: {
          info: { type: 'nodeinfo', extra: 1 },
          bad: { type: 'teapot' },
          'a/b': { type: 'nodeinfo' },
          deeper: { type: 'path', paths: { x: { type: 'json' } } },
        },
      },
      list: { type: 'path', paths: [] },
      missing: { type: 'path' },
    }))).toEqual({
      [`${p}.api.colour`]: "unknown key 'colour' (supported: id, type, paths)",
      [`${p}.api.paths.info.extra`]: "unknown key 'extra' (supported: id, type)",
      [`${p}.api.paths.bad.type`]: expect.stringMatching(/^web service type "teapot" is not supported by Junction \(supported: .*"path"\)$/),
      [`${p}.api.paths["a/b"]`]: `"a/b" is not a valid path: use "/" or one segment of letters, digits, '_' and '-' (e.g. "ws")`,
      [`${p}.api.paths.deeper.paths.x.value`]: 'is required (any JSON value)',
      [`${p}.list.paths`]: 'must be an object, got a list',
      [`${p}.missing.paths`]: 'is required: the map of what this path serves below it ("/" for the path itself)',
    });
  });

  it(`nests at most ${MAX_PATH_NESTING} deep`, () => {
    expect(errorsOf(withPaths({ a: nested(MAX_PATH_NESTING) }))).toEqual({});
    const deepest = `${T0}.paths.a${'.paths["/"]'.repeat(MAX_PATH_NESTING)}.type`;
    expect(errorsOf(withPaths({ a: nested(MAX_PATH_NESTING + 1) }))).toEqual({
      [deepest]: `"path" entries nest at most ${MAX_PATH_NESTING} deep (this one is inside ${MAX_PATH_NESTING}): flatten the map`,
    });
  });
});

describe('static option default_file', () => {
  function site(): string {
    const dir = mkdtempSync(join(tmpdir(), 'junction-default-file-'));
    mkdirSync(join(dir, 'app'));
    writeFileSync(join(dir, 'app', 'index.html'), '<p>app</p>');
    return dir;
  }

  it('is kept as a file of the directory; "" is none', () => {
    const dir = site();
    const raw = withPaths({
      '/': { type: 'static', directory: dir, options: { default_file: 'app/index.html' } },
      plain: { type: 'static', directory: dir, options: { default_file: '' } },
    });
    expect(parseConfig(raw).router.listeners[0]!.static).toEqual({
      '/': { type: 'static', directory: dir, defaultFile: join(dir, 'app', 'index.html') },
      '/plain': { type: 'static', directory: dir },
    });
    expect(warningsOf(raw)).toEqual({});
  });

  it('one that does not exist is a warning; one outside the directory or not a string an error', () => {
    const dir = site();
    const o = `${T0}.paths`;
    expect(warningsOf(withPaths({ spa: { type: 'static', directory: dir, options: { default_file: 'index.html' } }, sub: { type: 'static', directory: dir, options: { default_file: 'app' } } }))).toEqual({
      [`${o}.spa.options.default_file`]: `${join(dir, 'index.html')}: no such file or directory: requests below /spa that match no file answer 404 until it exists`,
      [`${o}.sub.options.default_file`]: `${join(dir, 'app')} is not a file: requests below /sub that match no file answer 404`,
    });
    expect(errorsOf(withPaths({
      a: { type: 'static', directory: dir, options: { default_file: '../etc/passwd' } },
      b: { type: 'static', directory: dir, options: { default_file: '/etc/passwd' } },
      c: { type: 'static', directory: dir, options: { default_file: 1 } },
    }))).toEqual({
      [`${o}.a.options.default_file`]: `must name a file inside the directory ${dir}, got "../etc/passwd"`,
      [`${o}.b.options.default_file`]: `must name a file inside the directory ${dir}, got "/etc/passwd"`,
      [`${o}.c.options.default_file`]: 'must be a string, got number 1',
    });
  });
});
