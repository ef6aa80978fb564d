// junction.setup.reveal: the first-boot credentials only for the setup code; attempts limited per
// caller address and for the whole node (src/board/reveal-limiter.ts), counted before the file is read.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SetupReveal } from '../../src/board/setup-reveal.js';
import { RevealLimiter, ATTEMPTS_PER_ADDRESS, NODE_BURST, NODE_INTERVAL_MS, guesserAddress } from '../../src/board/reveal-limiter.js';
import { WampError } from '../../src/client/client-session.js';
import { log } from '../../src/log.js';
import WebSocket from 'ws';
import { startTestNode, service } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { dashboardRole } from '../../src/config/load.js';
import { DASHBOARD_DIR } from '../../src/config/dashboard-dir.js';

const uriOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: WampError) => e.uri);
const SETUP = { setup_code: 'ABCD-1234', admin: { authid: 'admin', ticket: 't0p' }, created: '2026-01-01T00:00:00Z' };

function setupFile(): { file: string; write: () => void; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'junction-setup-'));
  const file = join(dir, 'setup.json');
  const write = () => writeFileSync(file, JSON.stringify(SETUP));
  write();
  return { file, write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('setup reveal', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('answers the setup code once (removes the file), refuses others, 5 attempts per address in 15 min', async () => {
    const { file, write, remove } = setupFile();
    let now = 1_000_000;
    const r = new SetupReveal('realm1', file, undefined, () => now);
    const owner = 'tcp4:10.0.0.2';
    try {
      expect(await r.reveal(' ABCD-1234 ', owner)).toEqual({ authid: 'admin', ticket: 't0p', created: '2026-01-01T00:00:00Z' });
      // Once: the file is gone after a successful reveal.
      expect(await uriOf(r.reveal('ABCD-1234', owner))).toBe('junction.error.no_setup');
      write();
      const guesser = 'tcp4:10.0.0.66';
      for (let i = 0; i < 5; i++) {
        now += NODE_INTERVAL_MS; // keep the node-wide backstop out of this test
        expect(await uriOf(r.reveal('nope', guesser))).toBe('wamp.error.not_authorized');
      }
      expect(await uriOf(r.reveal(42, guesser))).toBe('junction.error.too_many_attempts');
      expect(await uriOf(r.reveal('ABCD-1234', guesser))).toBe('junction.error.too_many_attempts');
      now += 15 * 60_000;
      expect(await uriOf(r.reveal('ABCD-1234', guesser))).toBe('ok');
      expect(await uriOf(r.reveal('ABCD-1234', guesser))).toBe('junction.error.no_setup');
      writeFileSync(file, JSON.stringify({ admin: { authid: 'admin', ticket: 'x' } })); // no code: nothing matches
      now += NODE_INTERVAL_MS;
      expect(await uriOf(r.reveal('', owner))).toBe('wamp.error.not_authorized');
    } finally {
      remove();
    }
  });

  it('reveals once even to two right codes at the same moment', async () => {
    const { file, remove } = setupFile();
    const r = new SetupReveal('realm1', file);
    try {
      const answers = await Promise.all([uriOf(r.reveal('ABCD-1234', 'tcp4:10.0.0.2')), uriOf(r.reveal('ABCD-1234', 'tcp4:10.0.0.3'))]);
      expect(answers.sort()).toEqual(['junction.error.no_setup', 'ok']);
    } finally {
      await r.stop();
      remove();
    }
  });

  it('issue 19 #10: a burst of 3,000 wrong codes has at most 5 evaluated; another address still gets the credentials', async () => {
    const { file, remove } = setupFile();
    const warn = vi.spyOn(log, 'warn');
    const r = new SetupReveal('realm1', file);
    try {
      const burst = Array.from({ length: 3000 }, (_, i) => uriOf(r.reveal(`GUESS-${i}`, 'tcp4:10.0.0.66')));
      const answers = await Promise.all(burst);
      const evaluated = warn.mock.calls.filter(([m]) => /wrong setup code/.test(String(m))).length;
      expect(evaluated).toBeLessThanOrEqual(ATTEMPTS_PER_ADDRESS);
      expect(answers.filter((a) => a === 'wamp.error.not_authorized')).toHaveLength(evaluated);
      expect(answers.filter((a) => a === 'junction.error.too_many_attempts')).toHaveLength(3000 - evaluated);
      // The guesser is refused now, the owner is not (the node-wide backstop spaces the owner's
      // attempt out by at most one interval).
      expect(await uriOf(r.reveal('ABCD-1234', 'tcp4:10.0.0.66'))).toBe('junction.error.too_many_attempts');
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      const owner = r.reveal('ABCD-1234', 'tcp4:10.0.0.2');
      await vi.advanceTimersByTimeAsync(NODE_INTERVAL_MS);
      vi.useRealTimers();
      expect(await owner).toMatchObject({ authid: 'admin', ticket: 't0p' });
    } finally {
      await r.stop();
      remove();
    }
  });
});

describe('setup code limiter', () => {
  afterEach(() => vi.useRealTimers());

  it('issue 19 #10: guessers from many addresses delay the owner but never lock the owner out', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const limiter = new RevealLimiter();
    let checked = 0;
    let stop = false;
    // 40 guessers, each trying again as soon as it has its answer (or its address is refused: then
    // it retries a second later), for as long as the test runs.
    const guess = (address: string): void => {
      if (stop) return;
      limiter.admit(address).then(
        () => { checked++; guess(address); },
        () => { setTimeout(() => guess(address), 1000); },
      );
    };
    for (let i = 0; i < 40; i++) guess(`tcp4:10.0.1.${i}`);
    await vi.advanceTimersByTimeAsync(10 * 60_000); // the attack is in full swing
    const start = Date.now();
    let ownerCheckedAfter = -1;
    limiter.admit('tcp4:10.0.0.2').then(() => { ownerCheckedAfter = Date.now() - start; });
    // The owner waits behind at most one attempt per guessing address.
    for (let waited = 0; ownerCheckedAfter < 0 && waited <= 41 * NODE_INTERVAL_MS; waited += 1000) await vi.advanceTimersByTimeAsync(1000);
    stop = true;
    expect(ownerCheckedAfter).toBeGreaterThanOrEqual(0);
    expect(ownerCheckedAfter).toBeLessThanOrEqual(41 * NODE_INTERVAL_MS);
    // The backstop held: no more checks than the burst plus one per interval.
    const elapsed = Date.now() - (start - 10 * 60_000);
    expect(checked + 1).toBeLessThanOrEqual(NODE_BURST + Math.floor(elapsed / NODE_INTERVAL_MS) + 1);
    limiter.stop();
  });

  it('issue 19 #10: an address is the IPv4 address, or the IPv6 /64 (a host may use any address in it)', () => {
    expect(guesserAddress('tcp4:10.0.0.7:51234')).toBe('tcp4:10.0.0.7');
    const net = 'tcp6:2001:db8:1:2::/64';
    expect(guesserAddress('tcp6:[2001:db8:1:2:a::1]:5000')).toBe(net);
    expect(guesserAddress('tcp6:[2001:0db8:0001:0002:ffff:1:2:3]:6000')).toBe(net);
    expect(guesserAddress('tcp6:[2001:db8:1:3::1]:1')).toBe('tcp6:2001:db8:1:3::/64');
    expect(guesserAddress('tcp6:[::1]:80')).toBe('tcp6:0:0:0:0::/64');
    expect(guesserAddress('tcp6:[fe80::1%eth0]:80')).toBe('tcp6:fe80:0:0:0::/64');
    expect(guesserAddress('unix')).toBe('unix');
  });

  it('issue 19 #10: one waiting attempt per address; a refused attempt is not counted', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const limiter = new RevealLimiter();
    for (let i = 0; i < NODE_BURST; i++) await limiter.admit(`tcp4:10.0.2.${i}`);
    const waiting = limiter.admit('tcp4:10.0.0.9');
    expect(limiter.queued).toBe(1);
    await expect(limiter.admit('tcp4:10.0.0.9')).rejects.toMatchObject({ uri: 'junction.error.too_many_attempts' });
    await vi.advanceTimersByTimeAsync(NODE_INTERVAL_MS);
    await waiting;
    expect(limiter.queued).toBe(0);
    // 1 attempt counted for that address so far (the refused one was not): 4 more fit in its window.
    for (let i = 0; i < ATTEMPTS_PER_ADDRESS - 1; i++) {
      await vi.advanceTimersByTimeAsync(NODE_INTERVAL_MS);
      await limiter.admit('tcp4:10.0.0.9');
    }
    await expect(limiter.admit('tcp4:10.0.0.9')).rejects.toMatchObject({ uri: 'junction.error.too_many_attempts' });
    limiter.stop();
  });
});

describe('setup reveal through the router', () => {
  afterEach(() => vi.restoreAllMocks());

  /** A WAMP JSON client from a chosen source address: joins, calls the procedure once, returns the error or 'ok'. */
  async function callFrom(localAddress: string, url: string, code: string): Promise<string> {
    const ws = new WebSocket(url, ['wamp.2.json'], { localAddress });
    const messages: unknown[][] = [];
    let wake = () => {};
    ws.on('message', (data) => { messages.push(JSON.parse(String(data))); wake(); });
    const next = async (): Promise<unknown[]> => {
      while (messages.length === 0) await new Promise<void>((resolve) => { wake = resolve; });
      return messages.shift()!;
    };
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    ws.send(JSON.stringify([1, 'realm1', { roles: { caller: {} } }]));
    expect((await next())[0]).toBe(2); // WELCOME
    ws.send(JSON.stringify([48, 1, {}, 'junction.setup.reveal', [code]]));
    const answer = await next();
    ws.close();
    return answer[0] === 50 ? 'ok' : String(answer[4]);
  }

  it('issue 19 #10: attempts are counted against the caller\'s own address (its session\'s peer)', async () => {
    const { file, remove } = setupFile();
    const t = await startTestNode({
      realms: [{ name: 'realm1', roles: [allowAll(), dashboardRole()] }],
      listener: {
        websocket: { '/dashboard-ws': { ...service(), auth: { anonymous: { type: 'static', role: 'dashboard' } } } },
        static: { '/': { type: 'dashboard', directory: DASHBOARD_DIR, realm: 'realm1', websocket: '/dashboard-ws', setup: file } },
      },
    });
    const warn = vi.spyOn(log, 'warn');
    try {
      const url = `ws://127.0.0.1:${t.port}/dashboard-ws`;
      expect(await callFrom('127.0.0.2', url, 'WRONG-0001')).toBe('wamp.error.not_authorized');
      expect(await callFrom('127.0.0.3', url, 'WRONG-0002')).toBe('wamp.error.not_authorized');
      const from = warn.mock.calls.map(([m]) => /wrong setup code from (\S+)/.exec(String(m))?.[1]).filter(Boolean);
      expect(from).toEqual(['tcp4:127.0.0.2', 'tcp4:127.0.0.3']);
      expect(await callFrom('127.0.0.3', url, 'ABCD-1234')).toBe('ok');
    } finally {
      await t.stop();
      remove();
    }
  });
});

