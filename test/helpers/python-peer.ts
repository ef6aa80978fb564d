// An Autobahn|Python script run by Debian's system python3 (python3-autobahn lives there, not in a
// pyenv interpreter on PATH): its stdout lines as they come, `ready` at its READY line, `exited`
// when it ends (with the lines it printed); or run to its end for the JSON result it prints last.
import { execFile, spawn, type ChildProcess } from 'node:child_process';

export const PYTHON = process.env['JUNCTION_PYTHON'] ?? '/usr/bin/python3';

export interface PythonPeer {
  child: ChildProcess;
  lines: string[];
  ready: Promise<void>;
  exited: Promise<string[]>;
}

export function spawnPython(script: string, args: string[]): PythonPeer {
  const child = spawn(PYTHON, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let err = '';
  let onReady: () => void = () => {};
  child.stdout!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean)) {
      lines.push(line);
      if (line === 'READY') onReady();
    }
  });
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<string[]>((resolve, reject) => {
    child.on('exit', (code) => (code === 0 ? resolve(lines) : reject(new Error(`python exited ${code}: ${err}`))));
  });
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    exited.then(() => reject(new Error(`python ended before READY: ${err}`)), reject);
  });
  return { child, lines, ready, exited };
}

/** Runs a peer to its end and returns the JSON object of the last line it printed (its result). */
export function runPythonPeer(script: string, args: string[]): Promise<any> {
  const name = script.split('/').pop();
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [script, ...args], { timeout: 40_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${name} failed: ${err.message}\n${stderr}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      } catch {
        reject(new Error(`${name} printed no result:\n${stdout}\n${stderr}`));
      }
    });
  });
}
