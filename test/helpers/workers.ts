// Microservice worker processes (Autobahn|JS or Autobahn|Python callees) for scale-out tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const JS_WORKER = fileURLToPath(new URL('../interop/workers/worker.cjs', import.meta.url));
const PY_WORKER = fileURLToPath(new URL('../interop/python/worker.py', import.meta.url));
const PYTHON = process.env['JUNCTION_PYTHON'] ?? '/usr/bin/python3';

export type WorkerKind = 'js' | 'python';

export interface WorkerSpec {
  procedure: string;
  name: string;
  invoke?: string;
  concurrency?: number;
  delayMs?: number;
  cpuMs?: number;
}

export interface Worker {
  name: string;
  process: ChildProcess;
  kill(): void;
}

const running = new Set<ChildProcess>();
process.on('exit', () => { for (const p of running) p.kill('SIGKILL'); });

export function startWorker(kind: WorkerKind, url: string, spec: WorkerSpec): Promise<Worker> {
  const args = [url, 'realm1', spec.procedure, spec.name, spec.invoke ?? 'single', String(spec.concurrency ?? 0), String(spec.delayMs ?? 0), String(spec.cpuMs ?? 0)];
  const child = kind === 'js'
    ? spawn(process.execPath, [JS_WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(PYTHON, [PY_WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.on('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`worker ${spec.name} not ready:\n${output}`)), 15_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('READY')) {
        clearTimeout(timer);
        resolve({ name: spec.name, process: child, kill: () => child.kill('SIGKILL') });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    child.on('exit', (code) => { clearTimeout(timer); if (!output.includes('READY')) reject(new Error(`worker ${spec.name} exited ${code}:\n${output}`)); });
  });
}

export function stopWorkers(workers: Worker[]): void {
  for (const w of workers) w.kill();
}

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

/** An Autobahn|JS caller session in the test process. */
export function connectCaller(url: string): Promise<{ session: any; close(): void }> {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({ url, realm: 'realm1', max_retries: 0 });
    connection.onopen = (session: any) => resolve({ session, close: () => connection.close() });
    connection.onclose = (reason: string) => { reject(new Error(reason)); return true; };
    connection.open();
  });
}

/** Settles a call into { ok, value } or { ok: false, error } (Autobahn errors carry `.error`). */
export async function outcome(p: Promise<any>): Promise<{ ok: true; value: any } | { ok: false; error: string; args: unknown[] }> {
  try {
    return { ok: true, value: await p };
  } catch (e: any) {
    return { ok: false, error: e?.error ?? String(e), args: e?.args ?? [] };
  }
}
