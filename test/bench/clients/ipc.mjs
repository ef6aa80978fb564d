// The client side of the runner's protocol over the fork IPC channel. The client says 'ready'
// once set up; the runner sends command names and gets the handler's object back. 'stop' closes
// the client's connections politely before exiting, because a router that sees sockets vanish
// mid-write may crash (fox-wamp 0.7.28 does). A client whose runner is gone exits at once.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function serve(handlers, close = async () => {}) {
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (msg) => {
    if (msg === 'stop') {
      await Promise.race([close().catch(() => {}), sleep(1500)]);
      process.exit(0);
    }
    const handler = handlers[msg];
    if (!handler) return;
    const answer = await handler();
    if (answer !== undefined) process.send(answer);
  });
  process.send('ready');
}

export const now = () => performance.timeOrigin + performance.now(); // ms, µs resolution, shared clock

export function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * The measuring window every load generator uses: warm up, tell the runner 'measuring' (it reads
 * the router's CPU time then), count for `durationMs`, stop counting. Returns the window's length.
 */
export async function measuringWindow(warmupMs, durationMs, setCounting) {
  await sleep(warmupMs);
  setCounting(true);
  const t0 = Date.now();
  process.send('measuring');
  await sleep(durationMs);
  setCounting(false);
  return Date.now() - t0;
}

export { sleep };
