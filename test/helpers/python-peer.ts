// Runs one of the Autobahn|Python peers of test/interop/python/ to its end and returns the JSON
// object of the last line it printed (its result).
import { execFile } from 'node:child_process';

// Debian's python3-autobahn lives in the system interpreter, not in a pyenv one on PATH.
const PYTHON = process.env['JUNCTION_PYTHON'] ?? '/usr/bin/python3';

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
