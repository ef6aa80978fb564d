// The real firmware in simavr, for tests: builds firmware-bridges/uno/uno.ino (ids uno-1 and uno-2)
// and the simavr harness once per source version (cached in $TMPDIR/junction-firmware-<hash>), and
// runs a simulated board whose UART0 is a pty at a given link path.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FW = join(ROOT, 'firmware-bridges');

/** Builds firmware (ids uno-1 and uno-2) and harness once per source version; returns their paths. */
export function buildAll(): { elf: string; elf2: string; harness: string } {
  const sources = ['uno/uno.ino', 'build.sh', 'simavr/uno_pty.c', 'simavr/build.sh'];
  const hash = createHash('sha256');
  for (const file of sources) hash.update(file).update(readFileSync(join(FW, file)));
  const dir = join(tmpdir(), `junction-firmware-${hash.digest('hex').slice(0, 16)}`);
  const result = { elf: join(dir, 'uno-1', 'firmware.elf'), elf2: join(dir, 'uno-2', 'firmware.elf'), harness: join(dir, 'uno_pty') };
  if (existsSync(join(dir, 'done'))) return result;
  const work = `${dir}.${process.pid}.tmp`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  sizeReport = run(join(FW, 'build.sh'), [join(work, 'uno-1')]);
  run(join(FW, 'build.sh'), ['-d', 'uno-2', join(work, 'uno-2')]);
  run(join(FW, 'simavr', 'build.sh'), [join(work, 'uno_pty')]);
  execFileSync('touch', [join(work, 'done')]);
  try {
    renameSync(work, dir);
  } catch {
    rmSync(work, { recursive: true, force: true }); // another run finished first: use its build
  }
  return result;
}
/** avr-size's report of the last fresh build ('' when the cache was used). */
export let sizeReport = '';

/** A simulated Uno: the harness process, its stdout lines (PTY, LINK, READY, LED n). */
export class Board {
  readonly out: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly listeners = new Set<() => void>();

  constructor(readonly proc: ChildProcess, readonly link: string) {
    let partial = '';
    proc.stdout!.on('data', (d: Buffer) => {
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      this.out.push(...lines);
      for (const l of [...this.listeners]) l();
    });
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  }

  static start(harness: string, elf: string, link: string, extra: string[] = []): Board {
    const proc = spawn(harness, [elf, '--link', link, '--wait', ...extra], { stdio: ['pipe', 'pipe', 'pipe'] });
    return new Board(proc, link);
  }

  line(pred: (l: string) => boolean, ms = 3000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.out.find(pred);
        if (found === undefined) return;
        this.listeners.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => reject(new Error(`harness said ${JSON.stringify(this.out)}`)), ms);
      this.listeners.add(check);
      check();
    });
  }

  /** Lets the MCU run (it waits so that the host's open(), which flushes input, comes first). */
  go(): void {
    this.proc.stdin!.end('go\n');
  }
}

