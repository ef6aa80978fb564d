// The TSP demo's page: plain JavaScript and Autobahn|JS's browser build. It lists the instances
// (tsp.instances), starts runs (tsp.solve with progressive results), follows every run on
// tsp.progress, and draws a bar pair per compute worker from tsp.worker.status.
/* global autobahn */
'use strict';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const wsUrl = params.get('ws') ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
const realm = params.get('realm') ?? 'realm1';

let session = null;
let instances = {};
let shown = null;      // {instance, tour, length} on the map
let run = null;        // the run followed: its id and what it reported
let history = [];      // [{at, length}] of the followed run
let ourCall = false;
const workers = new Map(); // name → {el, status, seen}
let maxRate = 1;

function setStatus(text, cls) {
  const s = $('status');
  s.textContent = text;
  s.className = `pill ${cls ?? ''}`;
}
const fmt = (n) => Math.round(n).toLocaleString('en-US');

// ---- drawing ---------------------------------------------------------------------------------------

function fitCanvas(c) {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.round(c.clientWidth * ratio), h = Math.round(c.clientHeight * ratio);
  if (w > 0 && h > 0 && (c.width !== w || c.height !== h)) { c.width = w; c.height = h; }
  return { ctx: c.getContext('2d'), w: c.width, h: c.height, ratio };
}

function drawMap() {
  const { ctx, w, h, ratio } = fitCanvas($('map'));
  ctx.clearRect(0, 0, w, h);
  const inst = instances[shown?.instance ?? $('instance').value];
  if (!inst) return;
  const xs = inst.coords.map((c) => c[0]), ys = inst.coords.map((c) => c[1]);
  const minX = Math.min(...xs), maxX = Math.max(...xs), minY = Math.min(...ys), maxY = Math.max(...ys);
  const pad = 18 * ratio;
  const scale = Math.min((w - 2 * pad) / (maxX - minX || 1), (h - 2 * pad) / (maxY - minY || 1));
  const ox = (w - (maxX - minX) * scale) / 2, oy = (h - (maxY - minY) * scale) / 2;
  const px = (c) => [ox + (c[0] - minX) * scale, h - oy - (c[1] - minY) * scale];
  if (shown?.tour && shown.instance === inst.name) {
    ctx.beginPath();
    shown.tour.forEach((city, i) => { const [x, y] = px(inst.coords[city]); if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
    ctx.closePath();
    ctx.strokeStyle = '#2563eb';
    ctx.lineWidth = 2 * ratio;
    ctx.lineJoin = 'round';
    ctx.stroke();
  }
  ctx.fillStyle = '#1d2330';
  for (const c of inst.coords) {
    const [x, y] = px(c);
    ctx.beginPath();
    ctx.arc(x, y, 3.2 * ratio, 0, 2 * Math.PI);
    ctx.fill();
  }
}

function drawHistory() {
  const { ctx, w, h, ratio } = fitCanvas($('history'));
  ctx.clearRect(0, 0, w, h);
  $('history').dataset.points = String(history.length);
  if (history.length < 1 || !run) return;
  const budget = run.budget || 1;
  const opt = run.optimum ?? Math.min(...history.map((p) => p.length));
  // From the optimum (bottom) to the first improvement on the random start tour (which is far
  // above it and drawn clipped at the top).
  const later = history.length > 1 ? history.slice(1) : history;
  const top = Math.max(...later.map((p) => p.length), opt + 1) * 1.01;
  const y = (len) => h - 4 * ratio - ((Math.min(len, top) - opt) / (top - opt || 1)) * (h - 8 * ratio);
  const x = (t) => 2 * ratio + (Math.min(t, budget) / budget) * (w - 4 * ratio);
  ctx.strokeStyle = '#c9ced8';
  ctx.setLineDash([4 * ratio, 4 * ratio]);
  ctx.beginPath(); ctx.moveTo(0, y(opt)); ctx.lineTo(w, y(opt)); ctx.stroke();
  ctx.setLineDash([]);
  ctx.strokeStyle = '#2563eb';
  ctx.lineWidth = 2 * ratio;
  ctx.beginPath();
  history.forEach((p, i) => {
    if (i) ctx.lineTo(x(p.at), y(history[i - 1].length));
    if (i) ctx.lineTo(x(p.at), y(p.length)); else ctx.moveTo(x(p.at), y(p.length));
  });
  ctx.lineTo(x(run.elapsed ?? history[history.length - 1].at), y(history[history.length - 1].length));
  ctx.stroke();
}

// ---- runs ------------------------------------------------------------------------------------------

/** A tsp.progress message or a progressive result of our own call. */
function onProgress(m) {
  if (!m || !m.run) return;
  if (m.kind === 'started') {
    run = m;
    history = [];
    if (!ourCall) $('run-state').textContent = `following a run of ${m.instance} started elsewhere`;
  }
  if (!run || m.run !== run.run) {
    if (m.kind === 'retry' || !run) return;
    run = m; // joined while another run was going
    history = [];
  }
  if (m.kind === 'retry') {
    $('retries').textContent = String(Number($('retries').textContent) + 1 || 1);
    return;
  }
  run = { ...run, ...m };
  if (!history.length || m.length < history[history.length - 1].length) history.push({ at: m.elapsed, length: m.length });
  if (!shown || shown.instance !== m.instance || m.length !== shown.length) {
    shown = { instance: m.instance, tour: m.tour, length: m.length };
    if ($('instance').value !== m.instance) $('instance').value = m.instance;
    drawMap();
  }
  const len = $('length');
  len.textContent = fmt(m.length);
  len.dataset.values = `${len.dataset.values ? len.dataset.values + ',' : ''}${m.length}`;
  $('optimum').textContent = m.optimum ? `optimum ${fmt(m.optimum)}` : '';
  $('gap').textContent = m.gap === null || m.gap === undefined ? '–' : `${(m.gap * 100).toFixed(2)}%`;
  $('round').textContent = String(m.round);
  $('elapsed').textContent = `${m.elapsed.toFixed(1)} / ${m.budget} s`;
  $('rate').textContent = fmt(m.routes_per_s);
  $('retries').textContent = String(m.retries ?? 0);
  if (m.kind === 'done') $('run-state').textContent = `done: ${m.instance} ${fmt(m.length)} in ${m.elapsed.toFixed(1)} s`;
  drawHistory();
}

async function solve(ev) {
  ev.preventDefault();
  if (!session) return;
  const name = $('instance').value;
  const budget = Math.max(1, Math.min(600, Number($('budget').value) || 10));
  $('start').disabled = true;
  $('run-state').textContent = `solving ${name} for ${budget} s…`;
  $('retries').textContent = '0';
  $('length').dataset.values = '';
  $('run-state').dataset.progressive = '0';
  delete $('run-state').dataset.done;
  ourCall = true;
  try {
    const result = await session.call('tsp.solve', [name, budget], {}, { receive_progress: true })
      .then((r) => r, (e) => { throw e; }, (p) => {
        $('run-state').dataset.progressive = String(Number($('run-state').dataset.progressive ?? 0) + 1);
        onProgress(p);
      });
    onProgress(result);
    $('run-state').textContent = `done: ${name} ${fmt(result.length)} (gap ${(result.gap * 100).toFixed(2)}%) in ${result.elapsed.toFixed(1)} s, ${result.rounds} rounds`;
    $('run-state').dataset.done = 'true';
  } catch (e) {
    $('run-state').textContent = `failed: ${e.error ?? e}${e.args?.length ? ` (${e.args[0]})` : ''}`;
  } finally {
    ourCall = false;
    $('start').disabled = false;
  }
}

// ---- workers ---------------------------------------------------------------------------------------

function onWorker(s) {
  if (!s || !s.worker) return;
  let w = workers.get(s.worker);
  if (s.gone) {
    if (w) { w.el.remove(); workers.delete(s.worker); }
    renderWorkerCount();
    return;
  }
  if (!w) {
    const el = document.createElement('div');
    el.className = 'worker';
    el.dataset.worker = s.worker;
    el.innerHTML = '<div class="name"><span class="label"></span><span class="nums"></span></div>'
      + '<div class="bar load"><span></span></div><div class="bar rate"><span></span></div>';
    el.querySelector('.label').textContent = s.worker;
    $('workers').appendChild(el);
    w = { el };
    workers.set(s.worker, w);
    $('no-workers')?.remove();
  }
  w.status = s;
  w.seen = Date.now();
  maxRate = Math.max(maxRate * 0.999, s.routes_per_s, 1);
  w.el.classList.remove('stale');
  w.el.dataset.load = String(s.load);
  w.el.dataset.routes = String(s.routes_per_s);
  w.el.querySelector('.nums').textContent = `${s.load.toFixed(0)}% of ${s.cores} core${s.cores === 1 ? '' : 's'} · ${fmt(s.routes_per_s)} routes/s`;
  w.el.querySelector('.bar.load > span').style.width = `${Math.min(100, s.load)}%`;
  for (const [, other] of workers) {
    other.el.querySelector('.bar.rate > span').style.width = `${Math.min(100, (other.status.routes_per_s / maxRate) * 100)}%`;
  }
  renderWorkerCount();
}

function renderWorkerCount() {
  $('worker-count').textContent = workers.size ? `(${workers.size})` : '';
}

// A worker that stops reporting (killed, network gone) fades after 3 s and goes after 10 s.
setInterval(() => {
  const now = Date.now();
  for (const [name, w] of workers) {
    if (now - w.seen > 10_000) { w.el.remove(); workers.delete(name); }
    else if (now - w.seen > 3_000) w.el.classList.add('stale');
  }
  renderWorkerCount();
}, 1000);

// ---- connection ------------------------------------------------------------------------------------

async function loadInstances() {
  for (;;) {
    try {
      const list = await session.call('tsp.instances');
      instances = Object.fromEntries(list.map((i) => [i.name, i]));
      const sel = $('instance');
      const before = sel.value;
      sel.innerHTML = '';
      for (const i of list) {
        const o = document.createElement('option');
        o.value = i.name;
        o.textContent = `${i.name} (${i.n} cities${i.optimum ? `, optimum ${fmt(i.optimum)}` : ''})`;
        sel.appendChild(o);
      }
      if (before && instances[before]) sel.value = before;
      $('start').disabled = false;
      drawMap();
      return;
    } catch (e) {
      setStatus('waiting for the orchestrator (tsp.instances)…', 'bad');
      await new Promise((r) => setTimeout(r, 2000));
      if (!session) return;
    }
  }
}

function connect() {
  const connection = new autobahn.Connection({ url: wsUrl, realm, max_retries: -1, initial_retry_delay: 1, max_retry_delay: 5 });
  connection.onopen = async (s) => {
    session = s;
    setStatus(`connected to ${realm}`, 'ok');
    await s.subscribe('tsp.progress', (args) => onProgress(args[0]));
    await s.subscribe('tsp.worker.status', (args) => onWorker(args[0]));
    await loadInstances();
    if (session) setStatus(`connected to ${realm}`, 'ok');
  };
  connection.onclose = (reason) => {
    session = null;
    $('start').disabled = true;
    setStatus(`disconnected (${reason}), retrying…`, 'bad');
    return false;
  };
  connection.open();
}

$('controls').addEventListener('submit', solve);
$('instance').addEventListener('change', () => { if (shown && shown.instance !== $('instance').value) shown = null; drawMap(); });
window.addEventListener('resize', () => { drawMap(); drawHistory(); });
connect();
