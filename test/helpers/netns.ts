// Network namespaces for fleet tests: each board of a test runs in its own namespace, joined to the
// root namespace (where the hub and the test run) by a veth pair, so the test can cut a board's
// network (`ip link set down` inside its namespace) and restore it, as when a cable is pulled.
// Needs root (CI runs as root). Names carry the test process's pid: a run that crashed leaves
// namespaces behind, and the next run removes those whose process is gone before making its own.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const PREFIX = 'jfleet';

/** One board's namespace: `address` is the board's side of its veth pair, `gateway` the root side. */
export interface Host {
  name: string;
  netns: string;
  address: string;
  gateway: string;
  /** The veth end inside the namespace (the one `cut` takes down). */
  inside: string;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why these tests cannot run here, or undefined when they can. */
export function cannotRun(): string | undefined {
  if (process.getuid?.() !== 0) return `fleet tests make network namespaces and veth pairs, which needs root (CI runs as root); running as uid ${process.getuid?.()}`;
  try {
    ip('-V');
  } catch {
    return 'fleet tests need the `ip` command (Debian package iproute2; .ci/run installs it)';
  }
  return undefined;
}

function removeNamespace(netns: string): void {
  // Processes still inside keep the namespace (and its veth pair) alive after `ip netns del`.
  let pids: number[] = [];
  try {
    pids = ip('netns', 'pids', netns).split('\n').filter(Boolean).map(Number);
  } catch { /* already gone */ }
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  try { ip('netns', 'del', netns); } catch { /* already gone */ }
}

/** Namespaces left by runs whose process is gone. */
function removeStale(): void {
  const names = ip('netns', 'list').split('\n').map((l) => l.split(' ')[0] ?? '');
  for (const name of names) {
    const m = new RegExp(`^${PREFIX}-(\\d+)-`).exec(name);
    if (m && !alive(Number(m[1]))) removeNamespace(name);
  }
}

/** A free 10.x.y.0/24 for this run (not on any interface here now), as "10.x.y". */
function pickSubnet(): string {
  const taken = ip('-4', '-o', 'addr').concat(ip('-4', 'route'));
  for (;;) {
    const [a, b] = randomBytes(2);
    const net = `10.${100 + (a! % 150)}.${b}`;
    if (!taken.includes(`${net}.`)) return net;
  }
}

export class Lab {
  readonly hosts: Host[] = [];
  private readonly run = randomBytes(2).toString('hex');
  private readonly subnet = pickSubnet();
  private readonly children: ChildProcess[] = [];

  /** Throws saying why when not root or without `ip`; removes what crashed runs left. */
  constructor() {
    const why = cannotRun();
    if (why) throw new Error(why);
    removeStale();
  }

  /** A namespace with loopback up and a veth pair to the root namespace (a /30 of this run's subnet). */
  addHost(name: string): Host {
    const i = this.hosts.length;
    const netns = `${PREFIX}-${process.pid}-${this.run}-${name}`;
    const outside = `jf${this.run}${i}r`;
    const inside = `jf${this.run}${i}n`;
    const gateway = `${this.subnet}.${4 * i + 1}`;
    const address = `${this.subnet}.${4 * i + 2}`;
    const host: Host = { name, netns, address, gateway, inside };
    this.hosts.push(host);
    ip('netns', 'add', netns);
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    ip('link', 'set', inside, 'netns', netns);
    ip('addr', 'add', `${gateway}/30`, 'dev', outside);
    ip('link', 'set', outside, 'up');
    ip('-n', netns, 'addr', 'add', `${address}/30`, 'dev', inside);
    ip('-n', netns, 'link', 'set', inside, 'up');
    ip('-n', netns, 'link', 'set', 'lo', 'up');
    return host;
  }

  /** Takes the host's link down inside its namespace: packets stop both ways, connections stay open. */
  cut(host: Host): void {
    ip('-n', host.netns, 'link', 'set', host.inside, 'down');
  }

  restore(host: Host): void {
    ip('-n', host.netns, 'link', 'set', host.inside, 'up');
  }

  /** Runs a program inside the host's namespace (`ip netns exec` execs it: the child's pid is the program's). */
  spawn(host: Host, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', host.netns, command, ...args], options);
    this.children.push(child);
    return child;
  }

  /** Kills what runs inside, removes the namespaces (and with them the veth pairs). Safe to call twice. */
  cleanup(): void {
    for (const child of this.children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    for (const host of this.hosts.splice(0)) removeNamespace(host.netns);
  }
}
