// One compute thread of the TSP compute service (worker.mjs starts one per core): runs annealing
// sub-searches posted by the service, one at a time, and counts the routes it evaluates in a
// shared counter the service reads every second.
import { parentPort, workerData } from 'node:worker_threads';
import { prepare, anneal } from './sa.mjs';

const counter = new Int32Array(workerData.counter);
/** Prepared instances (distance matrix, neighbour lists) by key; a handful at most. */
const problems = new Map();

function problemFor(instance) {
  const key = `${instance.name}:${instance.coords.length}:${checksum(instance.coords)}`;
  let p = problems.get(key);
  if (!p) {
    p = prepare(instance.coords);
    problems.set(key, p);
    if (problems.size > 8) problems.delete(problems.keys().next().value);
  }
  return p;
}

function checksum(coords) {
  let h = 0;
  for (const [x, y] of coords) h = (Math.imul(h, 31) + Math.round(x * 7 + y * 13)) | 0;
  return h;
}

parentPort.on('message', ({ id, job }) => {
  try {
    const result = anneal(problemFor(job.instance), job.tour, job, counter);
    parentPort.postMessage({ id, result });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err?.message ?? err) });
  }
});
