// The measuring half of `boot-test.sh --sd-writes`, run once the booted image answered a call:
//   node images/sd-writes/measure.mjs CONSOLE_LOG SETTLE_S WINDOW_MIN WAMP_PORT TICKET TOPIC
// Subscribes to the board's telemetry from outside (as a dashboard would) for the whole time, waits
// SETTLE_S, then takes the probe's counters (images/sd-writes/probe.sh, on the serial console) at
// the start and the end of WINDOW_MIN minutes and prints the root disk's writes in MiB per hour,
// with who dirtied which inode in between. Exits 1 above the target or when telemetry stopped.
import { readFileSync } from 'node:fs';
import { joinRealm } from '../wamp-join.mjs';

const [consoleLog, settleS, windowMin, port, ticket, topic] = process.argv.slice(2);
const TARGET_MIB_PER_HOUR = 1;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (...m) => console.log('sd-writes:', ...m);

/** The probe's counter lines so far: {uptime, sectors, writes, ext4Kb, at (index in the log)}. */
function probeLines() {
  const text = readFileSync(consoleLog, 'latin1');
  const lines = [];
  for (const m of text.matchAll(/sd-writes: uptime=([\d.]+) dev=(\S+) sectors_written_writes=(\d+) (\d+) ext4_lifetime_kb=(\d*)/g)) {
    lines.push({ uptime: Number(m[1]), dev: m[2], sectors: Number(m[3]), writes: Number(m[4]), ext4Kb: m[5] === '' ? null : Number(m[5]), at: m.index });
  }
  return { text, lines };
}
async function nextProbeLine(after) {
  for (let i = 0; i < 120; i++) {
    const { lines } = probeLines();
    const line = lines.find((l) => l.at > after);
    if (line) return line;
    await sleep(1000);
  }
  throw new Error('no counter line from the probe on the console for 120 s');
}

let events = 0;
const session = await joinRealm({ port: Number(port), realm: 'realm1', auth: { authid: 'tester', ticket } });
await session.subscribe(topic, () => { events++; });
say(`subscribed to ${topic}; settling ${settleS} s`);
await sleep(Number(settleS) * 1000);
const start = await nextProbeLine(probeLines().lines.at(-1)?.at ?? -1);
const eventsAtStart = events;
say(`window starts at guest uptime ${start.uptime} s: ${start.dev} ${start.sectors} sectors written; ${windowMin} min`);
await sleep(Number(windowMin) * 60_000);
const end = await nextProbeLine(probeLines().lines.at(-1)?.at ?? start.at);
const windowEvents = events - eventsAtStart;
session.close();

const hours = (end.uptime - start.uptime) / 3600;
const mib = ((end.sectors - start.sectors) * 512) / 2 ** 20;
const perHour = mib / hours;
// Who dirtied what in the window (the probe's trace summaries between the two lines).
const dirtied = new Map();
for (const m of probeLines().text.slice(start.at, end.at).matchAll(/sd-writes: dirtied (\d+)x by (\S+) (ino=\d+)/g)) {
  const key = `${m[2]} ${m[3]}`;
  dirtied.set(key, (dirtied.get(key) ?? 0) + Number(m[1]));
}
const top = [...dirtied].sort((a, b) => b[1] - a[1]).slice(0, 15);
for (const [k, n] of top) say(`  inode dirtied ${n}x by ${k}`);
say(`telemetry events received in the window: ${windowEvents}`);
say(`${end.dev}: ${end.sectors - start.sectors} sectors (${mib.toFixed(3)} MiB) in ${(hours * 60).toFixed(1)} min, ${end.writes - start.writes} write requests` +
  (start.ext4Kb !== null ? `; ext4 lifetime_write_kbytes +${end.ext4Kb - start.ext4Kb}` : ''));
say(`RESULT ${perHour.toFixed(3)} MiB/hour written to the root file system (target <= ${TARGET_MIB_PER_HOUR}): ${perHour <= TARGET_MIB_PER_HOUR ? 'met' : 'NOT met'}`);
process.exit(windowEvents > 0 && perHour <= TARGET_MIB_PER_HOUR ? 0 : 1);
