// Process measurements from /proc (Linux): CPU time and resident memory of a process by pid.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Clock ticks per second, the unit of /proc/PID/stat's utime and stime (100 on Linux if getconf fails). */
function clockTicks() {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
}
const TICK_MS = 1000 / clockTicks();

/** utime + stime of a process, in milliseconds. */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** utime + stime of a process and of the children it has waited for (cutime + cstime), in ms. */
export function cpuWithChildrenMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

/** Resident set size of a process, in KiB. */
export function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * ms to wait before reading an idle process's RSS: long enough for V8's memory reducer (which runs
 * some seconds after the last allocation) to have given back start-up garbage. Every process
 * measured (bare node, the relay, each router) waits the same, so ratios compare steady states.
 */
export const SETTLE_MS = 12_000;
