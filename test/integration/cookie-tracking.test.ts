// Crossbar's cookie tracking and cookie authentication on a real router, with clients nobody here
// wrote: ws (to read the upgrade response) and Autobahn|JS sending the cookie as a browser would.
// A session authenticated by ticket is remembered under its cookie; a later connection with that
// cookie, offering 'cookie', joins as the same authid without credentials; a file store keeps this
// across a router restart.

import { describe, it, expect, afterEach } from 'vitest';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { until } from '../helpers/until.js';
import type { CookieConfig, RealmConfig } from '../../src/config/types.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

let node: TestNode | undefined;
afterEach(async () => {
  await node?.stop();
  node = undefined;
});

const REALMS: RealmConfig[] = [{ name: 'realm1', roles: [allowAll('user'), allowAll()], store: { type: 'memory', limit: 100, callQueue: [], eventHistory: [] } }];

function cookieConfig(overrides: Partial<CookieConfig> = {}): CookieConfig {
  return { name: 'cbtid', length: 24, maxAge: 604800, store: { type: 'memory' }, maxCookies: 10_000, ...overrides };
}

async function start(cookie: CookieConfig, cookieAuth = true): Promise<TestNode> {
  const s = service({
    cookie,
    auth: { ticket: { type: 'static', principals: { joe: { ticket: 'secret!', role: 'user' } } }, ...(cookieAuth ? { cookie: { type: 'static' as const } } : {}) },
  });
  node = await startTestNode({ realms: REALMS, listener: { websocket: { '/ws': s } } });
  return node;
}

/** Upgrades with ws and reports the Set-Cookie header of the response (undefined if none). */
function setCookieOf(url: string, cookie?: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['wamp.2.json'], cookie ? { headers: { Cookie: cookie } } : {});
    ws.once('upgrade', (res) => {
      const h = res.headers['set-cookie'];
      resolve(h === undefined ? undefined : h.join('; '));
    });
    ws.once('open', () => ws.close());
    ws.once('error', reject);
  });
}

/** Joins with Autobahn|JS, sending `cookie` in the upgrade request as a browser does for its own site. */
function join_(url: string, cookie: string | undefined, authmethods: string[], ticket?: string): Promise<{ details: any; connection: any }> {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({
      transports: [{ type: 'websocket', url, ...(cookie ? { headers: { Cookie: cookie } } : {}) }],
      realm: 'realm1', max_retries: 0, authmethods, authid: ticket ? 'joe' : undefined,
      onchallenge: ticket ? () => ticket : undefined,
    });
    connection.onopen = (_session: any, details: any) => resolve({ details, connection });
    connection.onclose = (reason: string, details: any) => {
      reject(new Error(`closed: ${reason} ${details?.message ?? ''} ${JSON.stringify(details?.reason ?? '')}`));
      return true;
    };
    connection.open();
  });
}

const valueOf = (setCookie: string) => setCookie.split(';')[0]!;

describe('cookie tracking', () => {
  it("sets Crossbar's cookie on the upgrade (cbtid, 24 characters, max-age a week) and recognises it on the next connection", async () => {
    const n = await start(cookieConfig(), false);
    const first = await setCookieOf(n.wsUrl);
    expect(first).toMatch(/^cbtid=[A-Za-z0-9_-]{24};max-age=604800$/);
    expect(await setCookieOf(n.wsUrl, `other=1; ${valueOf(first!)}`)).toBeUndefined();
    // An unknown cookie gets a new one.
    expect(await setCookieOf(n.wsUrl, 'cbtid=AAAAAAAAAAAAAAAAAAAAAAAA')).toMatch(/^cbtid=/);
    await n.stop();
    node = undefined;
    const named = await start(cookieConfig({ name: 'session_id', length: 32, maxAge: 60 }), false);
    expect(await setCookieOf(named.wsUrl)).toMatch(/^session_id=[A-Za-z0-9_-]{32};max-age=60$/);
  });
});

describe('cookie authentication', () => {
  it('a client whose cookie was authenticated by ticket joins again by the cookie alone, as the same authid and role', async () => {
    const n = await start(cookieConfig());
    const cookie = valueOf((await setCookieOf(n.wsUrl))!);
    const first = await join_(n.wsUrl, cookie, ['ticket'], 'secret!');
    expect(first.details).toMatchObject({ authid: 'joe', authrole: 'user', authmethod: 'ticket' });
    first.connection.close();
    // No credentials, 'cookie' offered first as Autobahn|JS in a browser does.
    const again = await join_(n.wsUrl, cookie, ['cookie', 'ticket']);
    expect(again.details).toMatchObject({ authid: 'joe', authrole: 'user', authmethod: 'ticket', authprovider: 'cookie' });
    again.connection.close();
    // Offered after ticket, still the cookie (Crossbar checks it before the list).
    const third = await join_(n.wsUrl, cookie, ['ticket', 'cookie']);
    expect(third.details).toMatchObject({ authid: 'joe', authprovider: 'cookie' });
    third.connection.close();
  });

  it('is refused without the cookie, with a cookie never authenticated, and when the client does not offer cookie', async () => {
    const n = await start(cookieConfig());
    const fresh = valueOf((await setCookieOf(n.wsUrl))!);
    await expect(join_(n.wsUrl, undefined, ['cookie'])).rejects.toThrow(/no_auth_method|no_matching_auth_method|none of the offered/);
    await expect(join_(n.wsUrl, fresh, ['cookie'])).rejects.toThrow(/none of the offered/);
    const cookie = valueOf((await setCookieOf(n.wsUrl))!);
    (await join_(n.wsUrl, cookie, ['ticket'], 'secret!')).connection.close();
    // Not offering 'cookie': the ticket is asked for as usual (a wrong one fails).
    await expect(join_(n.wsUrl, cookie, ['ticket'], 'wrong')).rejects.toThrow(/not_authorized|authentication failed/);
  });

  it("GOODBYE with wamp.close.logout forgets the cookie's login (as Crossbar): the next join needs credentials again", async () => {
    const n = await start(cookieConfig());
    const cookie = valueOf((await setCookieOf(n.wsUrl))!);
    (await join_(n.wsUrl, cookie, ['ticket'], 'secret!')).connection.close();
    const byCookie = await join_(n.wsUrl, cookie, ['cookie']);
    expect(byCookie.details.authprovider).toBe('cookie');
    const left = new Promise((r) => { byCookie.connection.onclose = () => { r(undefined); return true; }; });
    byCookie.connection.close('wamp.close.logout');
    await left;
    await expect(join_(n.wsUrl, cookie, ['cookie'])).rejects.toThrow(/none of the offered/);
  });

  it("a logout closes the cookie's other connections (a browser's other tabs, as Crossbar), not other cookies'", async () => {
    const n = await start(cookieConfig());
    const cookie = valueOf((await setCookieOf(n.wsUrl))!);
    const otherCookie = valueOf((await setCookieOf(n.wsUrl))!);
    (await join_(n.wsUrl, cookie, ['ticket'], 'secret!')).connection.close();
    (await join_(n.wsUrl, otherCookie, ['ticket'], 'secret!')).connection.close();
    const tab1 = await join_(n.wsUrl, cookie, ['cookie']);
    const tab2 = await join_(n.wsUrl, cookie, ['cookie']);
    const elsewhere = await join_(n.wsUrl, otherCookie, ['cookie']);
    const closed: string[] = [];
    const onClose = (name: string) => () => { closed.push(name); return true; }; // true: no reconnect
    tab2.connection.onclose = onClose('tab2');
    elsewhere.connection.onclose = onClose('elsewhere');
    tab1.connection.onclose = onClose('tab1');
    tab1.connection.close('wamp.close.logout');
    await until(() => closed.includes('tab1') && closed.includes('tab2'), 5000, 'both tabs closed');
    await new Promise((r) => setTimeout(r, 200));
    expect(closed.sort()).toEqual(['tab1', 'tab2']);
    expect(await elsewhere.connection.session.call('wamp.session.count')).toBeGreaterThan(0);
    elsewhere.connection.close();
  });

  it('without auth.cookie the cookie is tracked but never authenticates', async () => {
    const n = await start(cookieConfig(), false);
    const cookie = valueOf((await setCookieOf(n.wsUrl))!);
    (await join_(n.wsUrl, cookie, ['ticket'], 'secret!')).connection.close();
    await expect(join_(n.wsUrl, cookie, ['cookie'])).rejects.toThrow(/none of the offered/);
  });
});

describe('file cookie store', () => {
  it('keeps authenticated cookies across a router restart (only those), bounded by max_cookies (oldest dropped), written whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-cookies-'));
    const filename = join(dir, 'cookies.dat');
    const config = cookieConfig({ store: { type: 'file', filename }, maxCookies: 2 });
    let n = await start(config);
    const oldest = valueOf((await setCookieOf(n.wsUrl))!);
    const cookie = valueOf((await setCookieOf(n.wsUrl))!);
    (await join_(n.wsUrl, cookie, ['ticket'], 'secret!')).connection.close();
    await until(() => existsSync(filename) && readFileSync(filename, 'utf8').includes('"joe"'), 5000, 'the store file');
    await n.stop();
    node = undefined;
    const lines = readFileSync(filename, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    // Only the cookie somebody logged in with is kept in the file.
    expect(lines.map((l) => l.cbtid)).toEqual([cookie.slice(6)]);
    expect(lines[0]).toMatchObject({ authid: 'joe', authrole: 'user', authmethod: 'ticket', authrealm: 'realm1', max_age: 604800 });
    expect(existsSync(`${filename}.tmp`)).toBe(false);

    n = await start(config);
    const again = await join_(n.wsUrl, cookie, ['cookie']);
    expect(again.details).toMatchObject({ authid: 'joe', authrole: 'user', authprovider: 'cookie' });
    again.connection.close();
    // The unauthenticated cookie did not survive the restart; past max_cookies 2 the oldest goes.
    expect(await setCookieOf(n.wsUrl, oldest)).toMatch(/^cbtid=/);
    await setCookieOf(n.wsUrl);
    await setCookieOf(n.wsUrl);
    expect(await setCookieOf(n.wsUrl, cookie)).toMatch(/^cbtid=/);
  });
});
