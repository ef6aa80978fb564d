// Crossbar's `cookie` block of a WebSocket service and the `cookie` authentication method, read from
// config documents: defaults, bounds, the file store's path, errors by path, and the warning when
// cookie authentication has no cookie tracking to rely on.

import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { parseConfig } from '../../../src/config/load.js';
import { errorsOf } from '../../helpers/config.js';

type Raw = any; // test documents are built loosely and then broken on purpose

function doc(transport: Raw): Raw {
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [] }, { name: 'user', permissions: [] }] }],
      transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 8080 }, ...transport }],
    }],
  };
}

const T0 = 'workers[0].transports[0]';
const TICKET = { type: 'static', principals: { joe: { ticket: 'x', role: 'user' } } };

describe('cookie tracking config', () => {
  it("Crossbar's defaults: cbtid, 24 characters, a week, in memory; Junction's bound of 10000 cookies", () => {
    const config = parseConfig(doc({ cookie: {} }));
    expect(config.router.listeners[0]!.websocket['/']!.cookie).toEqual({ name: 'cbtid', length: 24, maxAge: 604800, store: { type: 'memory' }, maxCookies: 10000 });
  });

  it("a file store: filename against the config's directory, max_cookies; purge_on_startup accepted with a warning", () => {
    const config = parseConfig(doc({ cookie: { name: 'sid', length: 32, max_age: 3600, store: { type: 'file', filename: 'cookies.dat', max_cookies: 50, purge_on_startup: true } } }), undefined, '/etc/junction');
    expect(config.router.listeners[0]!.websocket['/']!.cookie).toEqual({ name: 'sid', length: 32, maxAge: 3600, store: { type: 'file', filename: join('/etc/junction', 'cookies.dat') }, maxCookies: 50 });
    expect(config.warnings?.map((w) => w.path)).toEqual([`${T0}.cookie.store.purge_on_startup`]);
  });

  it('bad values are errors by path', () => {
    expect(errorsOf(doc({ cookie: { name: 'a b', length: 1, max_age: 0, store: { type: 'database', filename: 'x' }, foo: 1 } }))).toEqual({
      [`${T0}.cookie.name`]: expect.stringMatching(/^must be a cookie name/),
      [`${T0}.cookie.length`]: 'must be between 12 and 256, got 1',
      [`${T0}.cookie.max_age`]: 'must be between 1 and 315360000, got 0',
      [`${T0}.cookie.store.type`]: expect.stringMatching(/^must be one of/),
      [`${T0}.cookie.foo`]: expect.stringMatching(/^unknown key 'foo'/),
    });
    expect(errorsOf(doc({ cookie: { store: { type: 'file' } } }))).toEqual({ [`${T0}.cookie.store.filename`]: 'is required' });
    expect(errorsOf(doc({ cookie: { store: { type: 'memory', filename: 'x' } } }))).toEqual({ [`${T0}.cookie.store.filename`]: 'applies only to type "file"' });
  });
});

describe('cookie authentication config', () => {
  it('auth.cookie {type: static} beside another method; a warning without cookie tracking; other types refused', () => {
    const config = parseConfig(doc({ cookie: {}, auth: { ticket: TICKET, cookie: { type: 'static' } } }));
    expect(config.router.listeners[0]!.websocket['/']!.auth!.cookie).toEqual({ type: 'static' });
    expect(config.warnings ?? []).toEqual([]);
    const untracked = parseConfig(doc({ auth: { ticket: TICKET, cookie: { type: 'static' } } }));
    expect(untracked.warnings?.map((w) => `${w.path}: ${w.message}`)).toEqual([`${T0}.auth.cookie: has no effect without cookie tracking: add a 'cookie' block to this transport (Crossbar's docs require both)`]);
    expect(errorsOf(doc({ cookie: {}, auth: { cookie: { type: 'dynamic' } } }))).toEqual({ [`${T0}.auth.cookie.type`]: expect.stringMatching(/^must be one of/) });
  });
});
