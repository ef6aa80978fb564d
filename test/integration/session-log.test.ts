// Issue 20 #10: every WAMP session's join and leave is one info line in the log (who, from where,
// and on leave why), and a flood of connections cannot flood the journal.
import { describe, it, expect, afterEach, vi } from 'vitest';
import { WebSocket } from 'ws';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { join, makeRouter } from '../helpers/core.js';
import { SESSION_LINES_PER_WINDOW } from '../../src/router/session-log.js';
import { until } from '../helpers/until.js';

/** Log lines written to stdout (info) while `capture` is on. */
function captureLog() {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  return { lines, stop: () => spy.mockRestore() };
}

/** A WebSocket client that joins realm1 and returns its WELCOME details and local port. */
async function wsJoin(t: TestNode): Promise<{ ws: WebSocket; id: number; authid: string; peer: string }> {
  const ws = new WebSocket(t.wsUrl, 'wamp.2.json');
  await new Promise((r) => ws.once('open', r));
  const welcome = new Promise<unknown[]>((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))));
  ws.send(JSON.stringify([1, 'realm1', { roles: { subscriber: {} } }]));
  const [, id, details] = (await welcome) as [number, number, { authid: string }];
  const local = (ws as unknown as { _socket: { localPort: number } })._socket.localPort;
  return { ws, id, authid: details.authid, peer: `tcp4:127.0.0.1:${local}` };
}

describe('issue 20 #10: session joins and leaves in the log', () => {
  let t: TestNode | undefined;
  let log: ReturnType<typeof captureLog> | undefined;
  afterEach(async () => {
    log?.stop();
    vi.useRealTimers();
    await t?.stop();
    t = undefined;
  });

  it('issue 20 #10: a join and a leave are one info line each: session id, authid, role, realm, transport, peer; the leave says why', async () => {
    t = await startTestNode();
    log = captureLog();
    const a = await wsJoin(t);
    const who = `session ${a.id} (authid '${a.authid}', role 'anonymous', realm 'realm1', websocket ${a.peer})`;
    await until(() => log!.lines.some((l) => l.includes(who)));
    expect(log.lines.filter((l) => l.includes(who))).toEqual([expect.stringMatching(new RegExp(`^\\S+ INFO  ${escape(who)} joined$`))]);

    a.ws.send(JSON.stringify([6, {}, 'wamp.close.normal']));
    await until(() => log!.lines.some((l) => l.includes(`${who} left`)));
    expect(log.lines.filter((l) => l.includes(`${who} left`))).toEqual([expect.stringMatching(/ INFO  .* left: client said goodbye \(wamp\.close\.normal\)$/)]);

    // A dropped connection, and the router's own components (in-process sessions).
    const b = await wsJoin(t);
    b.ws.terminate();
    await until(() => log!.lines.some((l) => l.includes(`session ${b.id} `) && l.includes('left')));
    expect(log.lines.find((l) => l.includes(`session ${b.id} `) && l.includes('left'))).toMatch(/ left: connection closed$/);
    const component = await join(t.node.router, 'anonymous', 'thermostat-service');
    await component.close();
    await until(() => log!.lines.filter((l) => l.includes("authid 'thermostat-service'")).length === 2);
    expect(log.lines.filter((l) => l.includes("authid 'thermostat-service'"))).toEqual([
      expect.stringMatching(/role 'anonymous', realm 'realm1', local local:\S+\) joined$/),
      expect.stringMatching(/ left: client said goodbye/),
    ]);
  });

  it(`issue 20 #10: a burst of sessions is logged up to ${SESSION_LINES_PER_WINDOW} lines per 10 s, then one summary line`, async () => {
    const router = makeRouter();
    await router.ready;
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    vi.setSystemTime(Date.now() + 3_600_000); // a fresh window, whatever came before in this process
    log = captureLog();
    const burst = 200;
    const sessions = await Promise.all(Array.from({ length: burst }, (_, i) => join(router, 'anonymous', `flood-${i}`)));
    await Promise.all(sessions.map((s) => s.close()));
    const sessionLines = () => log!.lines.filter((l) => /session \d+ .* (joined|left: )/.test(l));
    expect(sessionLines()).toHaveLength(SESSION_LINES_PER_WINDOW);
    expect(log.lines.some((l) => /not logged/.test(l))).toBe(false);

    vi.advanceTimersByTime(10_000);
    const summary = log.lines.filter((l) => /not logged/.test(l));
    expect(summary).toEqual([expect.stringMatching(new RegExp(`INFO  session joins and leaves: ${2 * burst - SESSION_LINES_PER_WINDOW} more line\\(s\\) in the last 10 s not logged`))]);

    // The next window logs again.
    const late = await join(router, 'anonymous', 'after-the-burst');
    expect(log.lines.some((l) => l.includes("authid 'after-the-burst'") && l.endsWith('joined'))).toBe(true);
    await late.close();
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
