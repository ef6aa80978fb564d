// TSPLIB instances (EUC_2D only): parsing, the distance matrix with TSPLIB's rounding, tour lengths.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const INSTANCE_DIR = fileURLToPath(new URL('./instances/', import.meta.url));

/** Parses a TSPLIB file with NODE_COORD_SECTION and EDGE_WEIGHT_TYPE EUC_2D. */
export function parseTsplib(text) {
  const header = {};
  const coords = [];
  let inCoords = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line === 'EOF') continue;
    if (line === 'NODE_COORD_SECTION') { inCoords = true; continue; }
    if (!inCoords) {
      const m = /^([A-Z_]+)\s*:\s*(.*)$/.exec(line);
      if (m) header[m[1]] = m[2].trim();
      continue;
    }
    const [, x, y] = line.split(/\s+/).map(Number);
    coords.push([x, y]);
  }
  if (header.EDGE_WEIGHT_TYPE !== 'EUC_2D') throw new Error(`${header.NAME}: only EUC_2D instances are supported, got ${header.EDGE_WEIGHT_TYPE}`);
  if (Number(header.DIMENSION) !== coords.length) throw new Error(`${header.NAME}: DIMENSION ${header.DIMENSION} but ${coords.length} coordinates`);
  return { name: header.NAME, comment: header.COMMENT ?? '', coords };
}

/** Every instance in instances/ with its proven optimum (instances/optima.json), by name. */
export function loadInstances(dir = INSTANCE_DIR) {
  const optima = JSON.parse(readFileSync(`${dir}/optima.json`, 'utf8'));
  const out = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.tsp')).sort()) {
    const inst = parseTsplib(readFileSync(`${dir}/${file}`, 'utf8'));
    out[inst.name] = { ...inst, optimum: optima[inst.name] ?? null };
  }
  return out;
}

/** TSPLIB EUC_2D: nint(sqrt(dx² + dy²)), as an n×n Int32Array. */
export function distanceMatrix(coords) {
  const n = coords.length;
  const d = new Int32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = Math.floor(Math.hypot(coords[i][0] - coords[j][0], coords[i][1] - coords[j][1]) + 0.5);
      d[i * n + j] = v;
      d[j * n + i] = v;
    }
  }
  return d;
}

export function tourLength(tour, dist, n) {
  let len = 0;
  for (let i = 0; i < tour.length; i++) len += dist[tour[i] * n + tour[(i + 1) % tour.length]];
  return len;
}

/** True when `tour` visits each of the n cities exactly once. */
export function isPermutation(tour, n) {
  if (!Array.isArray(tour) && !ArrayBuffer.isView(tour)) return false;
  if (tour.length !== n) return false;
  const seen = new Uint8Array(n);
  for (const c of tour) {
    if (!Number.isInteger(c) || c < 0 || c >= n || seen[c]) return false;
    seen[c] = 1;
  }
  return true;
}

/** Nearest-neighbour tour from city `start`: the orchestrator's starting point. */
export function nearestNeighbourTour(dist, n, start = 0) {
  const used = new Uint8Array(n);
  const tour = [start];
  used[start] = 1;
  for (let k = 1; k < n; k++) {
    const last = tour[tour.length - 1];
    let best = -1;
    for (let c = 0; c < n; c++) if (!used[c] && (best < 0 || dist[last * n + c] < dist[last * n + best])) best = c;
    tour.push(best);
    used[best] = 1;
  }
  return tour;
}
