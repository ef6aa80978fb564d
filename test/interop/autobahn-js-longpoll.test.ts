// Autobahn|JS's own long-poll transport ({type: 'longpoll', url}) against a web path of type
// longpoll. The transport needs XMLHttpRequest, which Node does not have (and no XHR package is
// installed), so the client is Autobahn|JS's browser build (npm autobahn-browser, the same 22.11
// code) in headless Chromium, on a page from another origin (another port, served by the test):
// the XHRs are cross-origin, with credentials, so the browser checks
// the CORS answers (a preflight for each POST with its JSON content type). The other party is
// Autobahn|JS over WebSocket in Node.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { openBrowser, type Browser } from '../helpers/chromium.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { until } from '../helpers/until.js';
import { autobahnWs, type AutobahnClient } from '../helpers/autobahn-ws.js';
import { LONGPOLL_DEFAULTS } from '../../src/config/load-longpoll.js';

const require = createRequire(import.meta.url);
const AUTOBAHN_BROWSER = readFileSync(require.resolve('autobahn-browser/autobahn.min.js'), 'utf8');

/** The test page, from a server of its own on another port: another origin than the router's. */
async function servePage(html: string): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

describe('Autobahn|JS long-poll transport (browser build, headless Chromium, another origin)', () => {
  let node: TestNode;
  let browser: Browser;
  let page: Page;
  let ws: AutobahnClient;
  let pageServer: { server: Server; url: string };

  beforeAll(async () => {
    node = await startTestNode({ listener: { longpoll: { '/lp': { ...LONGPOLL_DEFAULTS, requestTimeout: 2000 } } } });
    ws = await autobahnWs(node.wsUrl);
    pageServer = await servePage(`<!doctype html><html><head><script>${AUTOBAHN_BROWSER}</script></head><body>long-poll test page</body></html>`);
    browser = await openBrowser({ width: 800, height: 600 });
    page = browser.page;
    await page.goto(pageServer.url);
    // The page's client: long-poll only, as a fallback list would end up with when WebSocket is unavailable.
    // The outcome as a string: an error thrown in the page would carry the page's URL as its stack.
    const opened = await page.evaluate((url) => {
      const w = window as any;
      w.events = [];
      return new Promise<string>((resolve) => {
        const connection = new w.autobahn.Connection({ transports: [{ type: 'longpoll', url }], realm: 'realm1', max_retries: 0 });
        connection.onopen = (session: any) => {
          w.session = session;
          w.connection = connection;
          resolve('open');
        };
        connection.onclose = (reason: string, details: unknown) => {
          resolve(`closed: ${reason} ${JSON.stringify(details)}`);
          return true;
        };
        connection.open();
      });
    }, `http://127.0.0.1:${node.port}/lp`);
    expect(opened, `the page's long-poll connection (page errors: ${browser.pageErrors.join('; ')})`).toBe('open');
  }, 20_000);

  afterAll(async () => {
    await browser?.close();
    pageServer?.server.close();
    ws?.connection.close();
    await node?.stop();
  });

  it('joins over long-poll: the transport says so, the router sees a longpoll session', async () => {
    const info = await page.evaluate(() => {
      const w = window as any;
      return { id: w.session.id, transport: w.connection.transport.info };
    });
    expect(info.id).toBeGreaterThan(0);
    expect(info.transport.type).toBe('longpoll');
    expect(info.transport.protocol).toBe('wamp.2.json');
    const joined = await ws.session.call('wamp.session.get', [info.id]);
    expect(joined.transport.channel_framing).toBe('longpoll'); // Crossbar's SessionDetails shape
  });

  it('calls across: the browser calls a WebSocket callee and is called back', async () => {
    await ws.session.register('lp.js.add2', (args: number[]) => args[0]! + args[1]!);
    expect(await page.evaluate(() => (window as any).session.call('lp.js.add2', [20, 22]))).toBe(42);
    await page.evaluate(() => (window as any).session.register('lp.js.shout', (args: string[]) => args[0]!.toUpperCase()));
    expect(await ws.session.call('lp.js.shout', ['grüße ✓'])).toBe('GRÜSSE ✓');
  });

  it('subscribes across: events from the WebSocket client reach the page, and the page publishes to it', async () => {
    await page.evaluate(() => {
      const w = window as any;
      return w.session.subscribe('lp.js.news', (args: unknown[]) => w.events.push(args[0]));
    });
    for (let i = 0; i < 3; i++) await ws.session.publish('lp.js.news', [i], {}, { acknowledge: true });
    await until(async () => (await page.evaluate(() => (window as any).events.length)) === 3, 10_000, 'three events in the page');
    expect(await page.evaluate(() => (window as any).events)).toEqual([0, 1, 2]);

    const got: unknown[] = [];
    await ws.session.subscribe('lp.js.from-page', (args: unknown[]) => got.push(args[0]));
    await page.evaluate(() => (window as any).session.publish('lp.js.from-page', [{ k: 'v' }], {}, { acknowledge: true }));
    await until(() => got.length === 1, 5000, 'the page\'s event');
    expect(got).toEqual([{ k: 'v' }]);
  });

  it('survives idle polls (request_timeout answers 204) and leaves cleanly: GOODBYE, then /close, onclose "closed"', async () => {
    await new Promise((r) => setTimeout(r, 2500)); // at least one poll timed out meanwhile
    expect(await page.evaluate(() => (window as any).session.call('lp.js.add2', [1, 2]))).toBe(3);
    const sessionId = await page.evaluate(() => (window as any).session.id);
    const left: number[] = [];
    await ws.session.subscribe('wamp.session.on_leave', (args: unknown[]) => left.push(args[0] as number));
    const reason = await page.evaluate(() => new Promise((resolve) => {
      const w = window as any;
      w.connection.onclose = (why: string) => {
        resolve(why);
        return true;
      };
      w.connection.close();
    }));
    expect(reason).toBe('closed');
    await until(() => left.includes(sessionId), 5000, 'the page\'s session to leave');
    expect(browser.pageErrors).toEqual([]);
  });
});
