// The router's deferred work (issue 19 #4): long jobs are cut into slices per event-loop turn, in
// the order they came, and I/O callbacks run between slices.
import { describe, it, expect } from 'vitest';
import { SlicedWork } from '../../../src/router/sliced-work.js';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* a step that costs `ms` */ }
}

describe('sliced work', () => {
  it('issue 19 #4: a short job runs at once; a long one yields to timers between slices; jobs keep their order; a cancelled job stops', async () => {
    const work = new SlicedWork(10);
    const log: string[] = [];
    work.run(3, (i) => log.push(`short ${i}`), () => false);
    expect(log).toEqual(['short 0', 'short 1', 'short 2']);

    let stepsBeforeTimer = -1;
    let longSteps = 0;
    setTimeout(() => (stepsBeforeTimer = longSteps), 0);
    work.run(40, () => { busy(2); longSteps++; }, () => false);
    const cancelAfter = 3;
    let cancelledSteps = 0;
    work.run(100, () => cancelledSteps++, () => cancelledSteps >= cancelAfter);
    work.run(1, () => log.push('last'), () => false);
    expect(longSteps).toBeLessThan(40);
    for (let waited = 0; log.at(-1) !== 'last' && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(longSteps).toBe(40);
    // The timer ran while the long job was only partly done: the loop was not held for 80 ms.
    expect(stepsBeforeTimer).toBeGreaterThan(0);
    expect(stepsBeforeTimer).toBeLessThan(40);
    expect(cancelledSteps).toBe(cancelAfter);
    expect(log.at(-1)).toBe('last');
  });
});
