// The TSP demo's page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
// served by Junction's static web path at /tsp/ with Autobahn|JS's browser build; the test starts
// a run from the page's controls and watches the best tour length fall and both workers' bars
// move, then saves test/integration/artifacts/tsp.png.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Page } from 'playwright-core';
import { openBrowser, type Browser } from '../helpers/chromium.js';
// @ts-ignore -- plain JavaScript module of the demo
import { startCluster } from '../../src/demos/tsp/cluster.mjs';

describe('TSP demo page in headless Chromium', () => {
  let cluster: any;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await openBrowser({ width: 1280, height: 800 });
    page = browser.page;
    cluster = await startCluster({ workers: 2, cores: 1, roundMs: 150 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
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
    await browser.screenshot('tsp');

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
    expect(browser.pageErrors).toEqual([]);
  }, 60_000);
});
