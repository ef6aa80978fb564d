// The status dashboard in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
// the page joins through its read-only WebSocket path, lists a session this test opens and a shared
// registration with its policy and concurrency, and draws two telemetry samples on its chart.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openBrowser, type Browser } from '../helpers/chromium.js';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { ClientSession } from '../../src/client/session.js';
import { dashboardRole } from '../../src/config/load.js';
import { DASHBOARD_DIR } from '../../src/transports/dashboard.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

describe('status dashboard in headless Chromium', () => {
  let t: TestNode;
  let dir: string;
  let setupFile: string;
  let browser: Browser;
  let page: Page;
  let sensor: ClientSession;
  const transferred = new Map<string, number>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'junction-dashboard-'));
    setupFile = join(dir, 'setup.json');
    writeFileSync(setupFile, JSON.stringify({ setup_code: 'K7QM-4XZP', admin: { authid: 'admin', ticket: 'generated-ticket-123' }, created: '2026-01-01T00:00:00Z' }));
    t = await startTestNode({
      realms: [{
        name: 'realm1',
        roles: [allowAll(), dashboardRole()],
        store: { type: 'memory', limit: 100, callQueue: [{ uri: 'com.example.', match: 'prefix', limit: 10, timeout: 30000 }], eventHistory: [] },
      }],
      listener: {
        websocket: {
          '/ws': service(),
          '/dashboard-ws': { ...service(), auth: { anonymous: { type: 'static', role: 'dashboard' } } },
        },
        static: { '/': { type: 'dashboard', directory: DASHBOARD_DIR, realm: 'realm1', websocket: '/dashboard-ws', setup: setupFile } },
      },
    });
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
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads, joins read-only, shows our session, registration and the CPU chart; screenshot', async () => {
    await page.goto(`http://127.0.0.1:${t.port}/`);
    await page.waitForSelector('#status.ok', { timeout: 15_000 });
    expect(await page.textContent('#status')).toContain('(dashboard)');

    // The session this test opened, with its authid, role and transport.
    const sessionRow = page.locator('#sessions tbody tr', { hasText: 'kitchen-sensor-7' });
    await sessionRow.waitFor({ timeout: 10_000 });
    expect(await sessionRow.textContent()).toContain('anonymous');

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

    // Two load samples on the telemetry topic (retained, as src/board/telemetry.ts publishes them).
    const sample = (load: number) => ({
      load, cores: [load - 5, load + 5], temperature: 47.5, uptime: 7260,
      memory: { used: 180 * 2 ** 20, total: 512 * 2 ** 20, available: 332 * 2 ** 20 }, timestamp: new Date().toISOString(),
    });
    await sensor.publish('junction.board.testboard.load', [], sample(23.5), { retain: true, acknowledge: true });
    await page.waitForFunction(() => document.getElementById('chart')!.dataset['samples'] === '1', undefined, { timeout: 10_000 });
    const pixelsAfterOne = await inkOf(page);
    await sensor.publish('junction.board.testboard.load', [], sample(61), { retain: true, acknowledge: true });
    await page.waitForFunction(() => document.getElementById('chart')!.dataset['samples'] === '2', undefined, { timeout: 10_000 });
    expect(await page.textContent('#load-now')).toBe('61.0%');
    expect(await page.textContent('#boards')).toContain('testboard: 61.0% CPU · 2 cores · 47.5 °C');
    expect(await inkOf(page)).toBeGreaterThan(pixelsAfterOne); // the line was drawn

    // Calls in flight show up on the next poll: a callee that holds its calls.
    let release!: () => void;
    const held = new Promise<number>((resolve) => { release = () => resolve(0); });
    await sensor.register('com.example.slow', () => held, { concurrency: 1 });
    const caller = late.session;
    const calls = [caller.call('com.example.slow'), caller.call('com.example.slow')];
    await page.locator('#registrations tbody tr', { hasText: 'com.example.slow' }).filter({ hasText: ': 1 / 1' }).waitFor({ timeout: 10_000 });
    const slowRow = (await page.locator('#registrations tbody tr', { hasText: 'com.example.slow' }).textContent())!;
    expect(slowRow).toMatch(/1 \/ 1\s*1\s*1$/); // 1 in flight, 1 queued

    // Bridges, found by their state procedures (shapes of src/bridges/serial/port-link.ts and
    // src/bridges/mqtt/bridge.ts; stand-ins here, so the test needs neither ptys nor a broker).
    const port = (state: string) => ({
      path: '/dev/ttyACM0', state, since: new Date().toISOString(), lines: 120, invalid: 0, overlong: 0, calls: 4,
      device: { id: 'uno-1', firmware: '1.0', publishes: ['temp'], procedures: ['led.set', 'relay.set'], concurrency: 1, heartbeat: 1000 },
    });
    await sensor.register('junction.serial.usb.devices', () => [port('ready')]);
    const mqttState = (connected: boolean) => ({
      id: 'cloud', realm: 'realm1', url: 'mqtt://broker.example:1883', connected, since: new Date().toISOString(),
      buffered: connected ? 0 : 3, messages_in: 10, messages_out: 7, dropped: 0, last_error: connected ? null : 'ECONNREFUSED',
    });
    await sensor.register('junction.bridge.mqtt.list', () => ['cloud']);
    await sensor.register('junction.bridge.mqtt.get', () => mqttState(true));
    await page.locator('#bridges tbody tr', { hasText: 'serial usb /dev/ttyACM0' }).filter({ hasText: 'uno-1 (2 procedures)' }).waitFor({ timeout: 10_000 });
    await page.locator('#bridges tbody tr', { hasText: 'MQTT cloud' }).filter({ hasText: 'connected' }).waitFor({ timeout: 10_000 });
    await sensor.publish('junction.bridge.mqtt.on_state', ['cloud', mqttState(false)], {}, { acknowledge: true });
    await page.locator('#bridges tbody tr', { hasText: 'MQTT cloud' }).filter({ hasText: 'ECONNREFUSED' }).waitFor({ timeout: 10_000 });
    await page.locator('#events li', { hasText: 'MQTT bridge cloud disconnected' }).waitFor({ timeout: 10_000 });
    await sensor.publish('junction.serial.usb.on_change', [port('waiting-hello')], {}, { acknowledge: true });
    await page.locator('#bridges tbody tr', { hasText: 'serial usb /dev/ttyACM0' }).filter({ hasText: 'waiting-hello' }).waitFor({ timeout: 10_000 });

    // First boot: the generated credentials only for the setup code.
    await page.fill('#setup-code', 'WRONG-CODE');
    await page.click('#setup button');
    await page.locator('#setup-result.bad', { hasText: 'wrong setup code' }).waitFor({ timeout: 10_000 });
    await page.fill('#setup-code', 'K7QM-4XZP');
    await page.click('#setup button');
    await page.locator('#setup-result', { hasText: 'generated-ticket-123' }).waitFor({ timeout: 10_000 });
    expect(await page.textContent('#setup-result')).toContain('authid: admin');

    await browser.screenshot('dashboard');
    release();
    await Promise.all(calls);
    late.close();

    expect(browser.pageErrors).toEqual([]);
    const total = [...transferred.values()].reduce((a, b) => a + b, 0);
    const own = [...transferred].filter(([p]) => !p.endsWith('autobahn.min.js')).reduce((a, [, b]) => a + b, 0);
    console.log(`dashboard page weight: ${total} bytes transferred (${own} of them the page's own files): ${JSON.stringify(Object.fromEntries(transferred))}`);
    expect(own).toBeLessThan(40_000);
    expect(transferred.get('/autobahn.min.js')).toBeLessThan(150_000); // gzipped
  }, 60_000);

  it('asks for a ticket when its WebSocket path has no anonymous login', async () => {
    const t2 = await startTestNode({
      realms: [{ name: 'realm1', roles: [allowAll(), dashboardRole()] }],
      listener: {
        websocket: {
          '/ws': service(),
          '/dashboard-ws': { ...service(), auth: { ticket: { type: 'static', principals: { ops: { ticket: 's3cret', role: 'dashboard' } } } } },
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
      expect(await p2.textContent('#status')).toBe('connected as ops (dashboard)');
      // The credentials stay for this tab's session only: a reload connects at once.
      await p2.reload();
      await p2.waitForSelector('#status.ok', { timeout: 10_000 });
    } finally {
      await p2.close();
      await t2.stop();
    }
  });

  it('the dashboard role reads but cannot kill, publish or register', async () => {
    const conn = new autobahn.Connection({ url: `ws://127.0.0.1:${t.port}/dashboard-ws`, realm: 'realm1' });
    let welcome: { authrole?: string } = {};
    const s = await new Promise<any>((resolve) => { conn.onopen = (x: unknown, d: typeof welcome) => { welcome = d; resolve(x); }; conn.open(); });
    try {
      expect(welcome.authrole).toBe('dashboard');
      expect(await s.call('wamp.session.list')).toContain(sensor.id);
      const refused = async (p: Promise<unknown>) => (await p.then(() => 'allowed', (e: { error: string }) => e.error));
      expect(await refused(s.call('wamp.session.kill', [sensor.id]))).toBe('wamp.error.not_authorized');
      expect(await refused(s.call('com.example.add', [1, 2]))).toBe('wamp.error.not_authorized');
      expect(await refused(s.publish('com.example.alerts', ['x'], {}, { acknowledge: true }))).toBe('wamp.error.not_authorized');
      expect(await refused(s.register('com.example.evil', () => 0))).toBe('wamp.error.not_authorized');
      expect(await s.call('junction.serial.usb.devices')).toHaveLength(1);
      expect(await refused(s.subscribe('junction.', () => {}, { match: 'prefix' }))).toBe('wamp.error.not_authorized');
      expect(await refused(s.call('wamp.subscription.remove_subscriber', [1, 2]))).toBe('wamp.error.not_authorized');
    } finally {
      conn.close();
    }
  });

  it('serves dashboard.json and the gzipped Autobahn build', async () => {
    const info = await (await fetch(`http://127.0.0.1:${t.port}/dashboard.json`)).json();
    expect(info).toEqual({ realm: 'realm1', websocket: '/dashboard-ws', authmethods: ['anonymous'], setup: true });
    const ab = await fetch(`http://127.0.0.1:${t.port}/autobahn.min.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(ab.headers.get('content-encoding')).toBe('gzip');
    expect((await ab.text()).length).toBeGreaterThan(300_000); // fetch decodes it
    const html = await fetch(`http://127.0.0.1:${t.port}/`);
    expect(html.headers.get('content-security-policy')).toContain("default-src 'self'");
  });
});

/** Non-transparent pixels on the chart canvas. */
function inkOf(page: Page): Promise<number> {
  return page.evaluate(() => {
    const c = document.getElementById('chart') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
    return n;
  });
}
