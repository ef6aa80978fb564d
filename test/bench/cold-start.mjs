// Cold start: from spawning `node dist/bin/junction.cjs start --config FILE` to the first answered WAMP call
// (HELLO, then CALL wamp.session.count over a raw WebSocket), beside a bare `node -e` start (spawn
// to its first output line) measured alternately in the same run. Median of several starts each.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { JUNCTION_CLI, junctionConfig, freePort } from './routers.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function bareStart() {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, ['-e', "process.stdout.write('up\\n')"], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.once('data', () => resolve(Number(process.hrtime.bigint() - t0) / 1e6));
    child.once('error', reject);
  });
}

/** One WAMP round trip on a fresh connection; rejects when nothing listens yet. */
function firstCall(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'wamp.2.json');
    const fail = (err) => { ws.terminate(); reject(err); };
    ws.once('error', fail);
    ws.once('open', () => ws.send(JSON.stringify([1, 'realm1', { roles: { caller: {} } }])));
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m[0] === 2) ws.send(JSON.stringify([48, 1, {}, 'wamp.session.count']));
      else if (m[0] === 50) { ws.terminate(); resolve(); } else fail(new Error(`unexpected ${data}`));
    });
  });
}

async function junctionStart() {
  const port = await freePort();
  const file = join(mkdtempSync(join(tmpdir(), 'junction-cold-')), 'config.json');
  writeFileSync(file, JSON.stringify(junctionConfig(port, false)));
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [JUNCTION_CLI, 'start', '--config', file], { stdio: 'ignore', env: { ...process.env, JUNCTION_LOG: 'warn' } });
  try {
    for (;;) {
      try {
        await firstCall(`ws://127.0.0.1:${port}/`);
        return Number(process.hrtime.bigint() - t0) / 1e6;
      } catch {
        if (child.exitCode !== null) throw new Error('junction exited during start');
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  } finally {
    child.kill('SIGKILL');
  }
}

export async function coldStart(rounds = 5) {
  const bare = [];
  const junction = [];
  for (let i = 0; i < rounds; i++) {
    bare.push(await bareStart());
    junction.push(await junctionStart());
  }
  return { bareMs: median(bare), junctionMs: median(junction), rounds };
}
