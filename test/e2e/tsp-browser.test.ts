// The TSP demo's page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
// served by Junction's static web path at /tsp/ with Autobahn|JS's browser build; the test starts
// a run from the page's controls and watches the best tour length fall and both workers' bars
// move, then saves test/e2e/artifacts/tsp.png.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
// @ts-ignore -- plain JavaScript module of the demo
import { startCluster } from '../../src/demos/tsp/cluster.mjs';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

// No skipping (as test/e2e/dashboard.test.ts): CI installs Debian's chromium; without it this fails and says why.
describe('TSP demo page in headless Chromium', () => {
  let cluster: any;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    cluster = await startCluster({ workers: 2, cores: 1, roundMs: 150 });
    profile = mkdtempSync(join(tmpdir(), 'junction-tsp-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 800 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await cluster?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('starts a run from the page: the tour length falls, two workers\' bars move; screenshot', async () => {
    await page.goto(cluster.page);
    await page.waitForSelector('#status.ok', { timeout: 15_000 });
    await page.waitForSelector('#start:not([disabled])', { timeout: 15_000 });
    expect(await page.locator('#instance option').allTextContents()).toEqual([
      'berlin52 (52 cities, optimum 7,542)', 'eil51 (51 cities, optimum 426)', 'kroA100 (100 cities, optimum 21,282)']);
    await page.selectOption('#instance', 'kroA100');
    await page.fill('#budget', '4');
    await page.click('#start');

    // Both workers' bars: CPU load and routes/s above zero while the run goes.
    await page.waitForFunction(() => {
      const bars = [...document.querySelectorAll<HTMLElement>('#workers .worker')];
      return bars.length === 2 && bars.every((b) => Number(b.dataset['routes']) > 0 && Number(b.dataset['load']) > 0);
    }, undefined, { timeout: 10_000 });
    const widths = await page.$$eval('#workers .worker .bar > span', (spans) => spans.map((s) => parseFloat((s as HTMLElement).style.width))); // % of the bar
    expect(widths).toHaveLength(4);
    for (const w of widths) expect(w).toBeGreaterThan(0);
    const bars = await page.$$eval('#workers .worker', (els) => els.map((e) => (e as HTMLElement).dataset['worker']).sort());
    expect(bars).toEqual(['worker-1', 'worker-2']);

    await page.waitForFunction(() => Number(document.getElementById('history')!.dataset['points']) >= 3
      && parseFloat(document.getElementById('elapsed')!.textContent!) >= 2.5, undefined, { timeout: 10_000 });
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'tsp.png'), fullPage: true });

    await page.waitForSelector('#run-state[data-done]', { timeout: 15_000 });
    const values = (await page.getAttribute('#length', 'data-values'))!.split(',').map(Number);
    const distinct = [...new Set(values)];
    expect(distinct.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < distinct.length; i++) expect(distinct[i]).toBeLessThan(distinct[i - 1]!); // only ever falls
    const final = distinct[distinct.length - 1]!;
    expect(final / 21282).toBeLessThanOrEqual(1.08);
    expect(Number(await page.getAttribute('#run-state', 'data-progressive'))).toBeGreaterThanOrEqual(2);
    expect(await page.textContent('#run-state')).toMatch(/^done: kroA100 [\d,]+ \(gap \d+\.\d\d%\)/);
    // The tour is drawn: blue pixels on the map.
    const blue = await page.evaluate(() => {
      const c = document.getElementById('map') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 2]! > 200 && d[i]! < 100) n++;
      return n;
    });
    expect(blue).toBeGreaterThan(500);
    console.log(`page: kroA100 lengths ${distinct.join(' → ')}; bars ${JSON.stringify(widths.map(Math.round))}`);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
