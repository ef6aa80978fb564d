// Cookie authentication as a browser does it: headless Chromium (Debian's, via playwright-core)
// loads a page served by Junction's static path, which joins with Autobahn|JS's browser build
// (authmethods ['cookie', 'ticket']). The first visit answers the ticket challenge and the browser
// keeps the cookie set on the WebSocket upgrade; after a reload the page joins by that cookie alone.

import { describe, it, expect, afterEach } from 'vitest';
import { createRequire } from 'node:module';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { openBrowser, type Browser } from '../helpers/chromium.js';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';

const PAGE = `<!DOCTYPE html><html><head><meta charset="utf-8"><script src="autobahn.min.js"></script></head><body><script>
const challenges = [];
const connection = new autobahn.Connection({
  url: 'ws://' + location.host + '/ws', realm: 'realm1', max_retries: 0,
  authmethods: ['cookie', 'ticket'], authid: 'joe',
  onchallenge: (session, method) => { challenges.push(method); return 'secret!'; },
});
connection.onopen = (session, details) => {
  window.result = { authid: details.authid, authrole: details.authrole, authmethod: details.authmethod, authprovider: details.authprovider, challenges };
  connection.close();
};
connection.onclose = (reason, details) => {
  if (!window.result) window.result = { error: reason + ' ' + JSON.stringify(details) };
  return true;
};
connection.open();
</script></body></html>`;

let browser: Browser | undefined;
let node: TestNode | undefined;
afterEach(async () => {
  await browser?.close();
  await node?.stop();
});

describe('cookie authentication in a browser', () => {
  it('Autobahn|JS in Chromium joins by ticket, then after a reload by the cookie alone, as the same authid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-cookie-page-'));
    writeFileSync(join(dir, 'index.html'), PAGE);
    const autobahnDir = dirname(createRequire(import.meta.url).resolve('autobahn-browser/package.json'));
    copyFileSync(join(autobahnDir, 'autobahn.min.js'), join(dir, 'autobahn.min.js'));
    const ws = service({
      cookie: { name: 'cbtid', length: 24, maxAge: 604800, store: { type: 'memory' }, maxCookies: 10_000 },
      auth: { ticket: { type: 'static', principals: { joe: { ticket: 'secret!', role: 'user' } } }, cookie: { type: 'static' } },
    });
    node = await startTestNode({
      realms: [{ name: 'realm1', roles: [allowAll('user')], store: { type: 'memory', limit: 100, callQueue: [], eventHistory: [] } }],
      listener: { kind: 'web', rawsocket: undefined, websocket: { '/ws': ws }, static: { '/': { type: 'static', directory: dir } } },
    });
    browser = await openBrowser({ width: 800, height: 600 });
    const page = browser.page;
    const resultOf = async () => {
      await page.waitForFunction(() => (window as any).result !== undefined, undefined, { timeout: 15_000 });
      return page.evaluate(() => (window as any).result);
    };
    await page.goto(`http://127.0.0.1:${node.port}/`);
    expect(await resultOf()).toEqual({ authid: 'joe', authrole: 'user', authmethod: 'ticket', authprovider: 'static', challenges: ['ticket'] });
    const cookies = await browser.context.cookies();
    expect(cookies.map((c) => c.name)).toEqual(['cbtid']);
    await page.reload();
    expect(await resultOf()).toEqual({ authid: 'joe', authrole: 'user', authmethod: 'ticket', authprovider: 'cookie', challenges: [] });
    // The page has no favicon: Chromium logs its 404, nothing else.
    expect(browser.pageErrors.filter((e) => !e.includes('404'))).toEqual([]);
  }, 60_000);
});
