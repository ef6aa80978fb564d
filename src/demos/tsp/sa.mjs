// Simulated annealing sub-search for the TSP: 2-opt moves (segment reversals) picked from each
// city's nearest neighbours, and or-opt moves (a segment of 1–3 cities moved next to a neighbour),
// Metropolis acceptance, geometric cooling from t0 to t1 over the iteration budget. One iteration
// evaluates one candidate route; that is what "routes/s" counts.
import { distanceMatrix, tourLength, isPermutation } from './tsplib.mjs';

const NEIGHBOURS = 10;

/** Distance matrix and neighbour lists for an instance's coordinates. */
export function prepare(coords, k = NEIGHBOURS) {
  const n = coords.length;
  const dist = distanceMatrix(coords);
  k = Math.min(k, n - 1);
  const neigh = new Int32Array(n * k);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let a = 0; a < n; a++) {
    const sorted = order.filter((c) => c !== a).sort((x, y) => dist[a * n + x] - dist[a * n + y]);
    for (let i = 0; i < k; i++) neigh[a * k + i] = sorted[i];
  }
  return { n, k, dist, neigh };
}

/** xorshift32: fast and seedable, so a sub-search can be replayed. */
function rng(seed) {
  let s = (seed >>> 0) || 0x9e3779b9;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

/**
 * Runs one sub-search. `counter` (optional Int32Array on a SharedArrayBuffer) gets the routes
 * evaluated added every 4096 iterations, so a monitor can read the rate while it runs.
 * Returns the best tour seen, its length, and counts.
 */
export function anneal(problem, startTour, { t0, t1, iterations, seed = 1 }, counter) {
  const { n, k, dist, neigh } = problem;
  if (!isPermutation(startTour, n)) throw new Error(`start tour is not a permutation of ${n} cities`);
  if (!(t0 > 0) || !(t1 > 0) || !(iterations >= 1)) throw new Error('t0, t1 must be > 0 and iterations ≥ 1');
  const started = performance.now();
  const tour = Int32Array.from(startTour);
  const pos = new Int32Array(n);
  for (let i = 0; i < n; i++) pos[tour[i]] = i;
  const random = rng(seed);
  let cur = tourLength(tour, dist, n);
  let best = cur;
  const bestTour = Int32Array.from(tour);
  let accepted = 0;
  let improvements = 0;
  const STEP = 256;
  const alphaStep = Math.pow(t1 / t0, STEP / iterations);
  let T = t0;
  let pending = 0;

  // Reverses the tour between positions i and j (inclusive, going forward, wrapping); the
  // shorter of the segment and its complement is reversed — the same cycle either way.
  const reverse = (i, j) => {
    let len = ((j - i + n) % n) + 1;
    if (len * 2 > n) { const ni = (j + 1) % n; j = (i - 1 + n) % n; i = ni; len = n - len; }
    for (let s = len >> 1; s > 0; s--) {
      const x = tour[i], y = tour[j];
      tour[i] = y; pos[y] = i;
      tour[j] = x; pos[x] = j;
      i = i + 1 === n ? 0 : i + 1;
      j = j === 0 ? n - 1 : j - 1;
    }
  };
  // Replaces the tour edges {x1,x2} and {y1,y2} by {x1,y1} and {x2,y2}, whichever way the tour
  // runs now (a reversal above may have mirrored it).
  const exchange = (x1, x2, y1, y2) => {
    if (tour[pos[x1] + 1 === n ? 0 : pos[x1] + 1] === x2) reverse(pos[x2], pos[y1]);
    else reverse(pos[x1], pos[y2]);
  };
  const next = (c) => tour[pos[c] + 1 === n ? 0 : pos[c] + 1];
  const prev = (c) => tour[pos[c] === 0 ? n - 1 : pos[c] - 1];
  const accept = (delta) => delta <= 0 || (delta < 30 * T && random() < Math.exp(-delta / T));

  for (let it = 0; it < iterations; it++) {
    if ((it & (STEP - 1)) === 0 && it > 0) {
      T *= alphaStep;
      pending += STEP;
      if (counter && pending >= 4096) { Atomics.add(counter, 0, pending); pending = 0; }
    }
    const a = (random() * n) | 0;
    const c = neigh[a * k + ((random() * k) | 0)];
    const r = random();
    let delta;
    if (r < 0.35) {
      // 2-opt on successors: a→b … c→d becomes a→c … b→d.
      const b = next(a), d = next(c);
      if (c === b || d === a) continue;
      delta = dist[a * n + c] + dist[b * n + d] - dist[a * n + b] - dist[c * n + d];
      if (!accept(delta)) continue;
      reverse(pos[b], pos[c]);
    } else if (r < 0.7) {
      // 2-opt on predecessors: b→a … d→c becomes b→d … a→c.
      const b = prev(a), d = prev(c);
      if (c === b || d === a) continue;
      delta = dist[a * n + c] + dist[b * n + d] - dist[b * n + a] - dist[d * n + c];
      if (!accept(delta)) continue;
      reverse(pos[a], pos[d]);
    } else {
      // Or-opt: the segment a … e (1–3 cities) leaves p→a, e→q and goes between c and its
      // successor g, in whichever orientation is shorter.
      const len = 1 + ((random() * 3) | 0);
      if (n < len + 4) continue;
      let e = a;
      let inSeg = c === a;
      for (let s = 1; s < len; s++) { e = next(e); if (e === c) inSeg = true; }
      if (inSeg) continue;
      const p = prev(a), q = next(e);
      const g = next(c);
      if (c === p || g === a) continue; // already adjacent on that side: no move
      const removed = dist[p * n + a] + dist[e * n + q] + dist[c * n + g];
      const forward = dist[c * n + a] + dist[e * n + g]; // c→a…e→g
      const backward = dist[c * n + e] + dist[a * n + g]; // c→e…a→g
      const reversed = backward < forward;
      delta = dist[p * n + q] + (reversed ? backward : forward) - removed;
      if (!accept(delta)) continue;
      // As three 2-opt exchanges: p→a…e→q … c→g  ⇒  p→c … q→e…a→g  ⇒  p→q … c→e…a→g
      // (the segment reversed between c and g)  ⇒  c→a…e→g when the forward orientation is shorter.
      exchange(p, a, c, g);
      exchange(p, c, q, e);
      if (!reversed) exchange(c, e, a, g);
    }
    cur += delta;
    accepted++;
    if (cur < best) {
      best = cur;
      improvements++;
      bestTour.set(tour);
    }
  }
  pending += iterations % STEP;
  if (counter && pending > 0) Atomics.add(counter, 0, pending);
  return {
    tour: Array.from(bestTour),
    length: best,
    routes: iterations,
    accepted,
    improvements,
    ms: performance.now() - started,
  };
}
