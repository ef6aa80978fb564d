// Advanced PubSub and meta events with real clients: authrole exclusion, retained events for
// wildcard subscribers, testaments on a cut connection, on_leave for a dropped sensor.
// Sensors join over ticket auth (role "sensor"), dashboards anonymously (role "dashboard").
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createRequire } from 'node:module';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { until } from '../helpers/until.js';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');
const PEER = fileURLToPath(new URL('./python/pubsub_peer.py', import.meta.url));
const PYTHON = process.env['JUNCTION_PYTHON'] ?? '/usr/bin/python3';

let node: TestNode;
const open: Array<{ close(): void }> = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  node = await startTestNode({
    realms: [{ name: 'realm1', roles: [allowAll('dashboard'), allowAll('sensor')], store: { type: 'memory', limit: 100, callQueue: [], eventHistory: [] } }],
    listener: {
      rawsocket: undefined,
      websocket: {
        '/ws': service({ auth: { anonymous: { type: 'static', role: 'dashboard' } } }),
        '/sensor': service({ auth: { ticket: { type: 'static', principals: { 'sensor-1': { ticket: 's3cret', role: 'sensor' }, 'sensor-2': { ticket: 's3cret', role: 'sensor' } } } } }),
      },
    },
  });
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const o of open) o.close();
  await node?.stop();
});

function join(kind: 'dashboard' | 'sensor', authid = 'sensor-1'): Promise<{ session: any; connection: any; details: any }> {
  const options = kind === 'dashboard'
    ? { url: `ws://127.0.0.1:${node.port}/ws`, realm: 'realm1', max_retries: 0 }
    : { url: `ws://127.0.0.1:${node.port}/sensor`, realm: 'realm1', max_retries: 0, authmethods: ['ticket'], authid, onchallenge: () => 's3cret' };
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection(options);
    connection.onopen = (session: any, details: any) => { open.push(connection); resolve({ session, connection, details }); };
    connection.onclose = (reason: string, details: any) => { reject(new Error(`${reason} ${details?.reason ?? ''}`)); return true; };
    connection.open();
  });
}

function python(args: string[]): { child: ChildProcess; lines: string[]; ready: Promise<void> } {
  const child = spawn(PYTHON, [PEER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  let err = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n').filter(Boolean)) {
        lines.push(line);
        if (line === 'READY') resolve();
      }
    });
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => reject(new Error(`python exited ${code}: ${err}`)));
  });
  return { child, lines, ready };
}

describe('advanced PubSub with Autobahn clients', () => {
  it('joins sensors with ticket auth as role "sensor", dashboards anonymously', async () => {
    const s = await join('sensor');
    expect(s.details.authrole).toBe('sensor');
    expect(s.details.authid).toBe('sensor-1');
    expect((await join('dashboard')).details.authrole).toBe('dashboard');
    await expect(new Promise((resolve, reject) => {
      const c = new autobahn.Connection({ url: `ws://127.0.0.1:${node.port}/sensor`, realm: 'realm1', max_retries: 0, authmethods: ['ticket'], authid: 'sensor-1', onchallenge: () => 'wrong' });
      c.onopen = resolve;
      c.onclose = (_r: string, d: any) => { reject(new Error(d?.reason)); return true; };
      c.open();
    })).rejects.toThrow('wamp.error.not_authorized');
  });

  it('a subscriber excluded by authrole gets nothing while the others get the event (JS and Python subscribers)', async () => {
    const sensor = await join('sensor');
    const dash = await join('dashboard');
    const otherSensor = await join('sensor', 'sensor-2');
    const got = { dash: [] as unknown[], sensor: [] as unknown[] };
    await dash.session.subscribe('home.alert', (a: unknown[]) => got.dash.push(a[0]));
    await otherSensor.session.subscribe('home.alert', (a: unknown[]) => got.sensor.push(a[0]));
    const py = python(['subscribe', String(node.port), '/ws', 'home.alert', 'exact', '1']);
    await py.ready;
    await sensor.session.publish('home.alert', ['smoke'], {}, { acknowledge: true, exclude_authrole: ['sensor'] });
    await until(() => got.dash.length > 0 && py.lines.length > 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(got.dash).toEqual(['smoke']);
    expect(got.sensor).toEqual([]);
    expect(JSON.parse(py.lines[1]!)).toMatchObject({ args: ['smoke'] });
  });

  it('a wildcard subscriber receives retained events (JS and Python)', async () => {
    const sensor = await join('sensor');
    await sensor.session.publish('rooms.kitchen.temp', [21.5], {}, { acknowledge: true, retain: true });
    await sensor.session.publish('rooms.hall.temp', [19], {}, { acknowledge: true, retain: true });
    const dash = await join('dashboard');
    const got: Array<[unknown, string, boolean]> = [];
    await dash.session.subscribe('rooms..temp', (a: unknown[], _k: unknown, d: any) => got.push([a[0], d.topic, d.retained]), { match: 'wildcard', get_retained: true });
    await until(() => got.length >= 2);
    expect(got.sort()).toEqual([[19, 'rooms.hall.temp', true], [21.5, 'rooms.kitchen.temp', true]]);
    const py = python(['subscribe', String(node.port), '/ws', 'rooms..temp', 'wildcard', '2']);
    await new Promise<void>((resolve) => py.child.on('exit', () => resolve()));
    const events = py.lines.filter((l) => l !== 'READY').map((l) => JSON.parse(l));
    expect(events.map((e) => [e.args[0], e.topic, e.retained]).sort()).toEqual([[19, 'rooms.hall.temp', true], [21.5, 'rooms.kitchen.temp', true]]);
  });

  it('a testament fires when a client\'s connection is cut without GOODBYE, and not after flush_testaments', async () => {
    const dash = await join('dashboard');
    const wills: unknown[] = [];
    await dash.session.subscribe('devices.lost', (a: unknown[]) => wills.push(a[0]));
    const cut = python(['testament', String(node.port), '/ws', 'devices.lost']);
    const flushed = python(['flushed', String(node.port), '/ws', 'devices.lost']);
    await Promise.all([cut.ready, flushed.ready]);
    cut.child.kill('SIGKILL');
    flushed.child.kill('SIGKILL');
    await until(() => wills.length > 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(wills).toEqual(['testament-will']);
    // The same with an Autobahn|JS client in a process that is killed.
    const script = `const a=require('autobahn');const c=new a.Connection({url:'ws://127.0.0.1:${node.port}/ws',realm:'realm1',max_retries:0});` +
      `c.onopen=(s)=>s.call('wamp.session.add_testament',['devices.lost',['js-will'],{}]).then(()=>console.log('READY'));c.open();`;
    const js = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'], cwd: fileURLToPath(new URL('../..', import.meta.url)) });
    children.push(js);
    await new Promise<void>((resolve) => js.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('READY')) resolve(); }));
    js.kill('SIGKILL');
    await until(() => wills.length > 1);
    expect(wills).toEqual(['testament-will', 'js-will']);
  });

  it('a dashboard sees wamp.session.on_leave when a sensor drops', async () => {
    const dash = await join('dashboard');
    const leaves: unknown[][] = [];
    await dash.session.subscribe('wamp.session.on_leave', (a: unknown[]) => leaves.push(a));
    const py = python(['testament', String(node.port), '/ws', 'devices.unused']);
    await py.ready;
    const sensorsBefore = (await dash.session.call('wamp.session.list')).length;
    py.child.kill('SIGKILL');
    await until(() => leaves.length > 0);
    expect(leaves[0]).toHaveLength(1);   // Crossbar's on_leave: the session ID only
    expect((await dash.session.call('wamp.session.list')).length).toBe(sensorsBefore - 1);
  });
});
