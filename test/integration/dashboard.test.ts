// The status dashboard in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core),
// configured as the SD image's first boot configures it: anonymous visitors get the built-in role
// 'dashboard' (counts and state), the admin signs in with a ticket as 'monitor' (everything,
// read-only). The page opens with the board's recent CPU history, reveals the admin ticket for the
// setup code and signs in with it, then lists a session this test opens, a shared registration with
// its policy and concurrency, calls in flight, the bridges' state as events change it, and a router
// link to a hub going down when the hub stops.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openBrowser, type Browser } from '../helpers/chromium.js';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { ClientSession } from '../../src/client/client-session.js';
import { dashboardRole, monitorRole } from '../../src/config/load.js';
import { DASHBOARD_DIR } from '../../src/config/dashboard-dir.js';
import type { Telemetry } from '../../src/board/telemetry.js';
const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

describe('status dashboard in headless Chromium', () => {
  let t: TestNode;
  let hub: TestNode;
  let dir: string;
  let setupFile: string;
  let browser: Browser;
  let page: Page;
  let sensor: ClientSession;
  let telemetry: Telemetry;
  const transferred = new Map<string, number>();
  const TICKET = 'generated-ticket-123';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'junction-dashboard-'));
    setupFile = join(dir, 'setup.json');
    writeFileSync(setupFile, JSON.stringify({ setup_code: 'K7QM-4XZP', admin: { authid: 'admin', ticket: TICKET }, created: '2026-01-01T00:00:00Z' }));
    hub = await startTestNode();
    t = await startTestNode({
      realms: [{
        name: 'realm1',
        roles: [allowAll(), dashboardRole(), monitorRole()],
        rlinks: [{
          id: 'to-hub', realm: 'realm1',
          transport: { type: 'rawsocket', host: '127.0.0.1', port: hub.port, tls: false, serializers: ['cbor'] },
          forwardLocalEvents: true, forwardRemoteEvents: true, forwardLocalInvocations: true, forwardRemoteInvocations: true,
          excludeAuthid: [], excludeAuthrole: [], excludeUri: [],
        }],
        store: { type: 'memory', limit: 100, callQueue: [{ uri: 'com.example.', match: 'prefix', limit: 10, timeout: 30000 }], eventHistory: [] },
      }],
      listener: {
        websocket: {
          '/ws': service(),
          '/dashboard-ws': { ...service(), auth: { anonymous: { type: 'static', role: 'dashboard' }, ticket: { type: 'static', principals: { admin: { ticket: TICKET, role: 'monitor' } } } } },
        },
        static: { '/': { type: 'dashboard', directory: DASHBOARD_DIR, realm: 'realm1', websocket: '/dashboard-ws', setup: setupFile } },
      },
      // Real telemetry; its schedule never fires during the test: the test takes the samples.
      telemetry: { realm: 'realm1', role: 'trusted', authid: 'junction-telemetry', board: 'testboard', cron: '0 0 0 1 1 *' },
    });
    telemetry = t.node.board!.telemetry!;
    // privileged: it also stands in for the router's components, which alone serve junction.* URIs.
    sensor = await ClientSession.connect(t.node.router, { realm: 'realm1', role: 'anonymous', authid: 'kitchen-sensor-7', name: 'test', privileged: true });
    await sensor.register('com.example.add', (args) => (args[0] as number) + (args[1] as number), { invoke: 'roundrobin', concurrency: 3 });
    await sensor.subscribe('com.example.alerts', () => {});
    browser = await openBrowser({ width: 1200, height: 900 });
    page = browser.page;
    page.on('response', async (r) => {
      const body = await r.body().catch(() => undefined);
      const encoded = Number(r.headers()['content-length'] ?? body?.length ?? 0);
      transferred.set(new URL(r.url()).pathname, encoded);
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await sensor?.close().catch(() => {});
    await t?.stop();
    await hub?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('issue 20 #10: the CPU chart opens with the board\'s recent samples, then grows with new ones', async () => {
    // Three more samples before the page opens: four in the telemetry's history.
    for (let i = 0; i < 3; i++) await telemetry.tick();
    expect(telemetry.history()).toHaveLength(4);
    await page.goto(`http://127.0.0.1:${t.port}/`);
    await page.waitForSelector('#status.ok', { timeout: 15_000 });
    await page.waitForFunction(() => document.getElementById('chart')!.dataset['samples'] === '4', undefined, { timeout: 10_000 });
    const inkBefore = await inkOf(page);
    await telemetry.tick();
    await page.waitForFunction(() => document.getElementById('chart')!.dataset['samples'] === '5', undefined, { timeout: 10_000 });
    expect(await page.textContent('#load-now')).toBe(`${telemetry.last!.load.toFixed(1)}%`);
    expect(await page.textContent('#boards')).toMatch(/^testboard: \d+\.\d% CPU · \d+ cores/);
    expect(await inkOf(page)).toBeGreaterThan(inkBefore); // the line grew
  }, 60_000);

  it('issue 19 #10: an anonymous visitor sees counts and the bridges\' state, not who is connected', async () => {
    expect(await page.textContent('#status')).toMatch(/^connected as .+ \(dashboard\)$/);
    // Counts: the sensor, the telemetry's session and the page's own (internal sessions are not listed).
    const count = async (id: string) => Number(/\((\d+)\)/.exec((await page.textContent(id)) ?? '')?.[1] ?? -1);
    await page.waitForFunction(() => /\(\d+\)/.test(document.getElementById('subscriptions-count')!.textContent ?? ''), undefined, { timeout: 10_000 });
    expect(await count('#sessions-count')).toBeGreaterThanOrEqual(1);
    expect(await count('#registrations-count')).toBeGreaterThanOrEqual(1);
    expect(await page.textContent('#sessions tbody')).toContain('sign in to see who is connected');
    expect(await page.textContent('#registrations tbody')).toContain('sign in to see the procedures');
    const text = (await page.textContent('body'))!;
    for (const secret of ['kitchen-sensor-7', 'com.example.add', 'com.example.alerts', 'tcp4:127.0.0.1']) expect(text).not.toContain(secret);
    expect(await page.isVisible('#sign-in')).toBe(true);
  });

  it('issue 19 #10: the setup code reveals the admin ticket, and the page signs in with it as monitor', async () => {
    await page.fill('#setup-code', 'WRONG-CODE');
    await page.click('#setup button[type=submit]');
    await page.locator('#setup-result.bad', { hasText: 'wrong setup code' }).waitFor({ timeout: 10_000 });
    await page.fill('#setup-code', 'K7QM-4XZP');
    await page.click('#setup button[type=submit]');
    await page.locator('#setup-result', { hasText: TICKET }).waitFor({ timeout: 10_000 });
    expect(await page.textContent('#setup-result')).toContain('authid: admin');
    await page.click('#setup-sign-in');
    await page.locator('#status.ok', { hasText: 'connected as admin (monitor)' }).waitFor({ timeout: 10_000 });
    expect(await page.isVisible('#sign-in')).toBe(false);
    // The whole view now: the session this test opened, with its authid, role and transport.
    const sessionRow = page.locator('#sessions tbody tr', { hasText: 'kitchen-sensor-7' });
    await sessionRow.waitFor({ timeout: 10_000 });
    expect(await sessionRow.textContent()).toContain('anonymous');
    // The chart kept its history across the sign-in (a new session reads it again).
    await page.waitForFunction(() => Number(document.getElementById('chart')!.dataset['samples']) >= 5, undefined, { timeout: 10_000 });
  });

  it('signed in: sessions, registrations, calls in flight; issue 20 #7: a poll answered before an event never overwrites it', async () => {
    // A session that joins while the page is open appears through wamp.session.on_join.
    const late = new autobahn.Connection({ url: t.wsUrl, realm: 'realm1' });
    await new Promise<void>((resolve) => { late.onopen = () => resolve(); late.open(); });
    await page.locator('#sessions tbody tr', { hasText: 'websocket' }).first().waitFor({ timeout: 10_000 });

    // The registration with its invocation policy, its callee's concurrency and the queue.
    const regRow = page.locator('#registrations tbody tr', { hasText: 'com.example.add' });
    await regRow.waitFor({ timeout: 10_000 });
    const regText = (await regRow.textContent())!;
    expect(regText).toContain('roundrobin');
    expect(regText).toContain(`${sensor.id}: 0 / 3`);
    await page.locator('#subscriptions tbody tr', { hasText: 'com.example.alerts' }).waitFor({ timeout: 10_000 });

    // Calls in flight show up on the next poll: a callee that holds its calls. Their outcome is
    // taken at once, so a failure below leaves no unhandled rejection behind.
    let release!: () => void;
    const held = new Promise<number>((resolve) => { release = () => resolve(0); });
    await sensor.register('com.example.slow', () => held, { concurrency: 1 });
    const caller = late.session;
    const calls = [caller.call('com.example.slow'), caller.call('com.example.slow')].map((p: Promise<unknown>) => p.then(() => 'ok', (e: { error?: string }) => e.error ?? String(e)));
    try {
      await page.locator('#registrations tbody tr', { hasText: 'com.example.slow' }).filter({ hasText: ': 1 / 1' }).waitFor({ timeout: 10_000 });
      const slowRow = (await page.locator('#registrations tbody tr', { hasText: 'com.example.slow' }).textContent())!;
      expect(slowRow).toMatch(/1 \/ 1\s*1\s*1$/); // 1 in flight, 1 queued
    } finally {
      release();
    }
    expect(await Promise.all(calls)).toEqual(['ok', 'ok']);

    // Bridges, found by their state procedures (shapes of src/bridges/serial/port-link.ts and
    // src/mqtt/bridge/bridge.ts; stand-ins that keep their state as the real ones do, so the test
    // needs neither ptys nor a broker).
    const port = (state: string) => ({
      path: '/dev/ttyACM0', state, since: new Date().toISOString(), lines: 120, invalid: 0, overlong: 0, calls: 4,
      device: { id: 'uno-1', firmware: '1.0', publishes: ['temp'], procedures: ['led.set', 'relay.set'], concurrency: 1, heartbeat: 1000 },
    });
    let usb = port('ready');
    await sensor.register('junction.serial.usb.devices', () => [usb]);
    const mqttState = (connected: boolean) => ({
      id: 'cloud', realm: 'realm1', url: 'mqtt://broker.example:1883', connected, since: new Date().toISOString(),
      buffered: connected ? 0 : 3, messages_in: 10, messages_out: 7, dropped: 0, last_error: connected ? null : 'ECONNREFUSED',
    });
    let cloud = mqttState(true);
    // The state procedure can be made to answer late: its answer is taken when the call comes
    // in, and delivered when the test lets it go.
    let hold: Promise<void> | undefined;
    let heldGets = 0;
    let gets = 0;
    await sensor.register('junction.bridge.mqtt.list', () => ['cloud']);
    await sensor.register('junction.bridge.mqtt.get', async () => {
      const answer = cloud;
      gets++;
      if (hold) { heldGets++; await hold; }
      return answer;
    });
    const cloudRow = page.locator('#bridges tbody tr', { hasText: 'MQTT cloud' });
    await page.locator('#bridges tbody tr', { hasText: 'serial usb /dev/ttyACM0' }).filter({ hasText: 'uno-1 (2 procedures)' }).waitFor({ timeout: 10_000 });
    await cloudRow.filter({ hasText: 'connected' }).waitFor({ timeout: 10_000 });

    // The race: a poll asks for the state (connected) and gets its answer only after the bridge
    // has announced that it disconnected.
    let letGo!: () => void;
    hold = new Promise<void>((resolve) => { letGo = resolve; });
    await expect.poll(() => heldGets, { timeout: 10_000 }).toBeGreaterThan(0);
    cloud = mqttState(false);
    await sensor.publish('junction.bridge.mqtt.on_state', ['cloud', cloud], {}, { acknowledge: true });
    await cloudRow.filter({ hasText: 'ECONNREFUSED' }).waitFor({ timeout: 10_000 });
    await page.locator('#events li', { hasText: 'MQTT bridge cloud disconnected' }).waitFor({ timeout: 10_000 });
    // Every state the row shows from now on.
    await page.evaluate(() => {
      const seen: string[] = ((window as any).cloudStates = []);
      const look = () => {
        const row = [...document.querySelectorAll('#bridges tbody tr')].find((r) => r.textContent!.includes('MQTT cloud'));
        if (row) seen.push(row.children[1]!.textContent!);
      };
      new MutationObserver(look).observe(document.getElementById('bridges')!, { childList: true, subtree: true, characterData: true });
    });
    hold = undefined;
    letGo();
    // The late answer is in once the next poll asks again; that poll's own answer is current.
    const after = gets;
    await expect.poll(() => gets, { timeout: 15_000 }).toBeGreaterThan(after);
    await page.waitForTimeout(1000);
    expect(await cloudRow.textContent()).toContain('ECONNREFUSED');
    // The poll's late answer ("connected") never replaced the newer event's state, not even briefly.
    const states: string[] = await page.evaluate(() => (window as any).cloudStates);
    expect(states.length).toBeGreaterThan(0);
    expect(new Set(states)).toEqual(new Set(['disconnected']));

    usb = port('waiting-hello');
    await sensor.publish('junction.serial.usb.on_change', [usb], {}, { acknowledge: true });
    await page.locator('#bridges tbody tr', { hasText: 'serial usb /dev/ttyACM0' }).filter({ hasText: 'waiting-hello' }).waitFor({ timeout: 10_000 });

    await browser.screenshot('dashboard');
    late.close();

    expect(browser.pageErrors).toEqual([]);
    const total = [...transferred.values()].reduce((a, b) => a + b, 0);
    const own = [...transferred].filter(([p]) => !p.endsWith('autobahn.min.js')).reduce((a, [, b]) => a + b, 0);
    console.log(`dashboard page weight: ${total} bytes transferred (${own} of them the page's own files): ${JSON.stringify(Object.fromEntries(transferred))}`);
    expect(own).toBeLessThan(40_000);
    expect(transferred.get('/autobahn.min.js')).toBeLessThan(150_000); // gzipped
  }, 60_000);

  it('issue 18: the router links table shows the link to the hub, and its state as it changes', async () => {
    const linkRow = page.locator('#rlinks tbody tr', { hasText: 'to-hub' });
    await linkRow.filter({ hasText: 'up' }).waitFor({ timeout: 10_000 });
    expect(await linkRow.textContent()).toContain(`rs://127.0.0.1:${hub.port} · realm1`);
    await hub.stop();
    await linkRow.filter({ hasText: 'down' }).waitFor({ timeout: 10_000 });
    await page.locator('#events li', { hasText: `router link to-hub down: the connection to rs://127.0.0.1:${hub.port} closed` }).waitFor({ timeout: 10_000 });
    expect(await linkRow.locator('td').nth(2).locator('span').getAttribute('title')).toMatch(/closed|cannot connect/);
    expect(browser.pageErrors).toEqual([]);
  });

  it('issue 19 #12e: the page may open WebSockets to its own host and port only', async () => {
    expect((await fetch(`http://127.0.0.1:${t.port}/`)).headers.get('content-security-policy')).toMatch(/connect-src 'self';/);
    const p3 = await browser.context.newPage();
    try {
      await p3.goto(`http://127.0.0.1:${t.port}/`);
      await p3.waitForSelector('#status.ok', { timeout: 15_000 }); // its own WebSocket: allowed by 'self'
      const attempt = (url: string) => p3.evaluate((target) => new Promise<string>((resolve) => {
        document.addEventListener('securitypolicyviolation', (e) => resolve(`blocked by ${e.effectiveDirective}`), { once: true });
        let ws: WebSocket;
        try {
          ws = new WebSocket(target, ['wamp.2.json']);
        } catch (e) {
          return resolve(`threw ${(e as Error).name}`);
        }
        ws.onopen = () => { ws.close(); resolve('open'); };
        ws.onerror = () => setTimeout(() => resolve('error'), 1000);
      }), url);
      expect(await attempt(`ws://127.0.0.1:${t.port}/dashboard-ws`)).toBe('open');
      // The same router under another host name is another origin: refused before any connection.
      expect(await attempt(`ws://localhost:${t.port}/dashboard-ws`)).toBe('blocked by connect-src');
    } finally {
      await p3.close();
    }
  });

  it('asks for a ticket when its WebSocket path has no anonymous login', async () => {
    const t2 = await startTestNode({
      realms: [{ name: 'realm1', roles: [allowAll(), monitorRole()] }],
      listener: {
        websocket: {
          '/ws': service(),
          '/dashboard-ws': { ...service(), auth: { ticket: { type: 'static', principals: { ops: { ticket: 's3cret', role: 'monitor' } } } } },
        },
        static: { '/': { type: 'dashboard', directory: DASHBOARD_DIR, realm: 'realm1', websocket: '/dashboard-ws' } },
      },
    });
    const p2 = await browser.context.newPage();
    try {
      await p2.goto(`http://127.0.0.1:${t2.port}/`);
      await p2.waitForSelector('#login:not([hidden])', { timeout: 10_000 });
      await p2.fill('#login-authid', 'ops');
      await p2.fill('#login-ticket', 'wrong');
      await p2.click('#login button');
      await p2.locator('#status', { hasText: 'Wrong authid or ticket' }).waitFor({ timeout: 10_000 });
      await p2.fill('#login-ticket', 's3cret');
      await p2.click('#login button');
      await p2.waitForSelector('#status.ok', { timeout: 10_000 });
      expect(await p2.textContent('#status')).toBe('connected as ops (monitor)');
      // The credentials stay for this tab's session only: a reload connects at once.
      await p2.reload();
      await p2.waitForSelector('#status.ok', { timeout: 10_000 });
    } finally {
      await p2.close();
      await t2.stop();
    }
  });

  it('issue 19 #10: the dashboard role reads counts and state only, monitor reads sessions; neither can kill, publish or register', async () => {
    const open = (extra: Record<string, unknown>) => {
      const conn = new autobahn.Connection({ url: `ws://127.0.0.1:${t.port}/dashboard-ws`, realm: 'realm1', ...extra });
      return new Promise<{ conn: any; s: any; role: string }>((resolve) => {
        conn.onopen = (s: unknown, d: { authrole: string }) => resolve({ conn, s, role: d.authrole });
        conn.open();
      });
    };
    const refused = async (p: Promise<unknown>) => (await p.then(() => 'allowed', (e: { error: string }) => e.error));
    const visitor = await open({});
    const admin = await open({ authmethods: ['ticket'], authid: 'admin', onchallenge: () => TICKET });
    try {
      expect(visitor.role).toBe('dashboard');
      expect(admin.role).toBe('monitor');
      expect(await visitor.s.call('wamp.session.count')).toBeGreaterThanOrEqual(1);
      expect(await visitor.s.call('junction.serial.usb.devices')).toHaveLength(1);
      expect(await visitor.s.call('junction.rlink.list')).toEqual(['to-hub']);
      expect(await visitor.s.call('junction.rlink.get', ['to-hub'])).toMatchObject({ id: 'to-hub', state: expect.any(String) });
      expect(await refused(visitor.s.call('wamp.session.list'))).toBe('wamp.error.not_authorized');
      expect(await refused(visitor.s.call('wamp.session.get', [sensor.id]))).toBe('wamp.error.not_authorized');
      expect(await refused(visitor.s.subscribe('wamp.session.on_join', () => {}))).toBe('wamp.error.not_authorized');
      expect(await admin.s.call('wamp.session.list')).toContain(sensor.id);
      for (const { s } of [visitor, admin]) {
        expect(await refused(s.call('wamp.session.kill', [sensor.id]))).toBe('wamp.error.not_authorized');
        expect(await refused(s.call('com.example.add', [1, 2]))).toBe('wamp.error.not_authorized');
        expect(await refused(s.publish('com.example.alerts', ['x'], {}, { acknowledge: true }))).toBe('wamp.error.not_authorized');
        expect(await refused(s.register('com.example.evil', () => 0))).toBe('wamp.error.not_authorized');
        expect(await refused(s.subscribe('junction.', () => {}, { match: 'prefix' }))).toBe('wamp.error.not_authorized');
        expect(await refused(s.call('wamp.subscription.remove_subscriber', [1, 2]))).toBe('wamp.error.not_authorized');
      }
    } finally {
      visitor.conn.close();
      admin.conn.close();
    }
  });

  it('serves dashboard.json and the gzipped Autobahn build', async () => {
    const info = await (await fetch(`http://127.0.0.1:${t.port}/dashboard.json`)).json();
    expect(info).toEqual({ realm: 'realm1', websocket: '/dashboard-ws', authmethods: ['anonymous', 'ticket'], setup: true });
    const ab = await fetch(`http://127.0.0.1:${t.port}/autobahn.min.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(ab.headers.get('content-encoding')).toBe('gzip');
    expect((await ab.text()).length).toBeGreaterThan(300_000); // fetch decodes it
    const html = await fetch(`http://127.0.0.1:${t.port}/`);
    expect(html.headers.get('content-security-policy')).toContain("default-src 'self'");
  });
});

/** Pixels of the first board's line colour (#2563eb) on the chart canvas (the grid is grey). */
function inkOf(page: Page): Promise<number> {
  return page.evaluate(() => {
    const c = document.getElementById('chart') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3]! > 100 && d[i + 2]! > 150 && d[i]! < 120 && d[i + 2]! - d[i]! > 80) n++;
    return n;
  });
}
