// Every process the bench starts is tracked here, so that all of them are killed when the bench
// ends, however it ends (normal exit, error, Ctrl-C, SIGTERM). Forked clients also exit on their
// own when the IPC channel to the runner closes. Every wait on a child has a time limit.
import { fork, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const live = new Set();

function track(child) {
  live.add(child);
  child.once('exit', () => live.delete(child));
  // e.g. a send racing the channel's close: kept for reports, never an uncaught 'error' event
  child.on('error', (err) => { child.lastError = err; });
  return child;
}

export function killAll() {
  for (const child of live) child.kill('SIGKILL');
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => process.exit(130));

export const exited = (child) => child.exitCode !== null || child.signalCode !== null;

/** Spawns a non-Node-IPC process (Junction's CLI, bare node); keeps the tail of its stderr for error reports. */
export function spawnTracked(args, env = process.env) {
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env }));
  child.stderrTail = '';
  child.stderr.on('data', (d) => { child.stderrTail = (child.stderrTail + d).slice(-2000); });
  return child;
}

/** Spawns another program (mosquitto) the same way; its stderr tail is kept too. */
export function spawnProgram(file, args) {
  const child = track(spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  child.stderrTail = '';
  child.stderr.on('data', (d) => { child.stderrTail = (child.stderrTail + d).slice(-2000); });
  return child;
}

/**
 * Forks a bench module (path relative to test/bench) and resolves once it says 'ready'. `nodeArgs`:
 * node options for that process (beside the runner's own).
 */
export function start(module, args, timeoutMs = 30_000, nodeArgs = []) {
  const execArgv = [...process.execArgv, ...nodeArgs];
  const child = track(fork(join(HERE, module), args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${module} not ready within ${timeoutMs} ms`)); }, timeoutMs);
    const onExit = (code, signal) => { clearTimeout(timer); reject(new Error(`${module} exited (${code ?? signal}) before ready`)); };
    const onMessage = (m) => {
      if (m !== 'ready') return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('message', onMessage);
      resolve(child);
    };
    child.once('exit', onExit);
    child.on('message', onMessage);
  });
}

/**
 * Sends a command and resolves with the first object the child sends back. `onEvent` sees the
 * plain-string notices in between (e.g. 'measuring').
 */
export function ask(child, command, { timeoutMs = 15_000, onEvent } = {}) {
  return new Promise((resolve, reject) => {
    const done = (fn, value) => { clearTimeout(timer); child.off('message', on); child.off('exit', onExit); fn(value); };
    const on = (m) => (typeof m === 'object' ? done(resolve, m) : onEvent?.(m));
    const onExit = (code, signal) => done(reject, new Error(`a client exited (${code ?? signal}) during '${command}'`));
    const timer = setTimeout(() => done(reject, new Error(`no answer to '${command}' within ${timeoutMs} ms`)), timeoutMs);
    child.on('message', on);
    child.once('exit', onExit);
    child.send(command);
  });
}

/** Asks clients to close their sessions politely and exit; kills those still there after 2 s. */
export function stop(...children) {
  return Promise.all(children.map((child) => new Promise((resolve) => {
    if (exited(child)) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    try { child.send('stop'); } catch { child.kill('SIGKILL'); }
  })));
}
