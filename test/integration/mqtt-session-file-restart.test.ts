// Issue 17: the restart a package upgrade does (SIGTERM, a new process on the same config and state
// directory) keeps persistent MQTT sessions of a listener with `session_file`, with the CLI as built
// and mosquitto's own clients; and a killed process (SIGKILL: no shutdown) keeps what the file held
// by then, since it is written within seconds of a change.
import { describe, it, expect, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/free-port.js';
import { Child } from '../helpers/child.js';
import { until } from '../helpers/until.js';
import { MOSQUITTO_PUB, MOSQUITTO_SUB } from '../helpers/mosquitto.js';

const CLI = fileURLToPath(new URL('../../dist/bin/junction.cjs', import.meta.url));

describe('MQTT session_file across a restart of the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'junction-mqtt-restart-'));
  const children: Child[] = [];
  afterAll(() => {
    for (const child of children) child.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(configFile: string): Promise<Child> {
    const child = new Child(spawn(process.execPath, [CLI, 'start', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] }));
    children.push(child);
    await child.waitFor(/Junction ready/);
    return child;
  }

  const run = (program: string, args: string[]) => new Promise<string>((resolve) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', () => resolve(out));
  });

  it('SIGTERM then a new process: mosquitto_sub -c (MQTT 3.1.1 and 5) gets every message published while it was away, once, in order; after SIGKILL what the file held is back', async () => {
    const port = await freePort();
    const configFile = join(dir, 'junction.yaml');
    // A relative session_file: next to the config file.
    writeFileSync(configFile, `version: 2
workers:
  - type: router
    realms: [{ name: realm1, roles: [{ name: anonymous, permissions: [{ uri: "", match: prefix, allow: { call: true, register: true, publish: true, subscribe: true } }] }] }]
    transports:
      - type: mqtt
        endpoint: { type: tcp, port: ${port}, interface: 127.0.0.1 }
        options: { realm: realm1, role: anonymous, session_file: state/mqtt-sessions.json }
`);
    const sessionFile = join(dir, 'state', 'mqtt-sessions.json');
    mkdirSync(join(dir, 'state'));
    /** `count` 0: subscribes and exits once SUBACK came (-E), leaving its session. */
    const sub = (id: string, version: string, count: number) => run(MOSQUITTO_SUB, ['-h', '127.0.0.1', '-p', String(port), '-V', version, '-i', id, '-c', '-q', '1', '-t', 'up/t', '-W', '10',
      ...(count === 0 ? ['-E'] : ['-C', String(count)]), ...(version === 'mqttv5' ? ['-x', '3600'] : [])]);
    const pub = (value: string) => run(MOSQUITTO_PUB, ['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-t', 'up/t', '-m', value]);

    let junction = await start(configFile);
    // Subscribed, then away.
    await Promise.all([sub('sub311', 'mqttv311', 0), sub('sub5', 'mqttv5', 0)]);
    for (const v of ['1', '2', '3']) await pub(v);
    junction.process.kill('SIGTERM');
    expect(await junction.exited).toBe(0);
    junction = await start(configFile);
    for (const v of ['4', '5']) await pub(v);
    const back = await Promise.all([sub('sub311', 'mqttv311', 5), sub('sub5', 'mqttv5', 5)]);
    expect(back.map((out) => out.trim().split('\n'))).toEqual([['1', '2', '3', '4', '5'], ['1', '2', '3', '4', '5']]);

    // Killed: no shutdown write. What the batched writes had put in the file by then is back.
    for (const v of ['6', '7']) await pub(v);
    await until(() => existsSync(sessionFile) && (readFileSync(sessionFile, 'utf8').match(/"topic":"up\/t"/g) ?? []).length === 4, 10_000, 'the file to hold the four messages');
    junction.process.kill('SIGKILL');
    await junction.exited;
    junction = await start(configFile);
    const afterKill = await Promise.all([sub('sub311', 'mqttv311', 2), sub('sub5', 'mqttv5', 2)]);
    expect(afterKill.map((out) => out.trim().split('\n'))).toEqual([['6', '7'], ['6', '7']]);
    junction.process.kill('SIGTERM');
    expect(await junction.exited).toBe(0);
  }, 60_000);
});
