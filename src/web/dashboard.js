// Junction's status dashboard: one WAMP session (Autobahn|JS browser build) with a read-only role.
// Reads the meta API (sessions, registrations, subscriptions), the bridges' state procedures and
// the board's retained telemetry; listens to meta events; redraws at most 4 times a second.
'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var MAX_ROWS = 300;            // rows per table; the count in the heading says how many there are
  var MAX_SAMPLES = 120;         // chart points per board (10 min at telemetry's default 5 s)
  var POLL_MS = 3000;            // registrations' in-flight counts and queues change without events
  var COLORS = ['#2563eb', '#c2410c', '#15803d', '#7c3aed', '#be123c'];

  var info = null, session = null, pollTimer = 0, drawTimer = 0;
  var st = {
    sessions: new Map(),         // id → wamp.session.get result (+ joined)
    regs: new Map(),             // id → wamp.registration.get result
    subs: new Map(),             // id → wamp.subscription.get result (+ subscribers)
    mqtt: new Map(),             // bridge id → state
    serial: new Map(),           // bridge id → [port status]
    boards: new Map(),           // board → { samples: [load], last: kwargs }
    events: [],
  };

  // ---- connection ----

  function setStatus(text, cls) { var s = $('status'); s.textContent = text; s.className = 'pill ' + (cls || ''); }

  fetch('dashboard.json').then(function (r) { return r.json(); }).then(function (i) {
    info = i;
    $('realm').textContent = 'realm ' + i.realm;
    if (i.authmethods.indexOf('anonymous') >= 0) return connect(null);
    var saved = sessionStorage.getItem('junction.dashboard.login');
    if (saved && i.authmethods.indexOf('ticket') >= 0) return connect(JSON.parse(saved));
    showLogin();
  }).catch(function (e) { setStatus('no dashboard.json: ' + e.message, 'bad'); });

  function showLogin(problem) {
    setStatus(problem || 'sign in', 'bad');
    var form = $('login');
    form.hidden = false;
    form.onsubmit = function (ev) {
      ev.preventDefault();
      var creds = { authid: $('login-authid').value, ticket: $('login-ticket').value };
      form.hidden = true;
      connect(creds);
    };
  }

  function connect(creds) {
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + info.websocket;
    var opts = { url: url, realm: info.realm, max_retries: -1, initial_retry_delay: 1, max_retry_delay: 10 };
    if (creds) {
      opts.authmethods = ['ticket'];
      opts.authid = creds.authid;
      opts.onchallenge = function () { return creds.ticket; };
    } else {
      opts.authmethods = ['anonymous'];
    }
    var conn = new autobahn.Connection(opts);
    conn.onopen = function (s, welcome) {
      session = s;
      welcome = welcome || {};
      if (creds) sessionStorage.setItem('junction.dashboard.login', JSON.stringify(creds));
      setStatus('connected as ' + (welcome.authid || '?') + ' (' + (welcome.authrole || '?') + ')', 'ok');
      start().catch(function (e) { logEvent('error', 'loading: ' + errText(e)); });
    };
    conn.onclose = function (reason, details) {
      session = null;
      clearInterval(pollTimer);
      if (details && details.reason === 'wamp.error.not_authorized' && creds) {
        sessionStorage.removeItem('junction.dashboard.login');
        showLogin('Wrong authid or ticket.');
        return true;   // no retries with these credentials
      }
      // A router restart closes without GOODBYE: 'closed' with will_retry, and we are coming back.
      setStatus(details && details.will_retry ? 'reconnecting…' : 'closed: ' + reason, 'bad');
      return false;   // keep retrying
    };
    conn.open();
  }

  function errText(e) { return e && (e.error || e.message) ? (e.error || e.message) + (e.args && e.args[0] ? ': ' + e.args[0] : '') : String(e); }
  function call(uri, args, kwargs) { return session ? session.call(uri, args || [], kwargs || {}) : Promise.reject(new Error('not connected')); }
  /** Calls that may fail (a procedure not there): undefined instead. */
  function tryCall(uri, args) { return call(uri, args).catch(function () { return undefined; }); }

  /** First boot: the generated credentials, for the setup code (junction.setup.reveal). */
  function showSetup() {
    var form = $('setup'), out = $('setup-result');
    form.hidden = false;
    form.onsubmit = function (ev) {
      ev.preventDefault();
      out.className = 'mono';
      out.textContent = '…';
      call('junction.setup.reveal', [$('setup-code').value]).then(function (c) {
        out.textContent = 'authid: ' + c.authid + '   ticket: ' + c.ticket + (c.created ? '   (created ' + c.created + ')' : '') +
          '   (shown once: write them down now)';
      }, function (e) {
        out.className = 'mono bad';
        out.textContent = e && e.error === 'junction.error.no_setup' ? 'No setup pending (the credentials were given, or already shown).' : errText(e);
      });
    };
  }

  // ---- loading and events ----

  async function start() {
    // Meta events, Junction's alerts, bridges' state and board telemetry (retained: the latest
    // load at once). Patterns match the read-only role's permissions (README, "Status dashboard").
    await Promise.all([
      session.subscribe('wamp.', onMeta, { match: 'prefix' }),
      session.subscribe('junction.registration.', onJunction, { match: 'prefix' }),
      session.subscribe('junction.session.', onJunction, { match: 'prefix' }),
      session.subscribe('junction.bridge.mqtt.on_state', onJunction),
      session.subscribe('junction.serial..on_change', onJunction, { match: 'wildcard' }),
      session.subscribe('junction.board..load', onJunction, { match: 'wildcard', get_retained: true }),
    ]);
    if (info.setup) showSetup();
    await Promise.all([loadSessions(), loadRegistrations(), loadSubscriptions()]);
    var polls = 0;
    pollTimer = setInterval(function () {
      if (document.hidden) return;
      loadRegistrations().catch(function () {});
      // Sessions' send queues and pending calls change without events: every 5th poll.
      if (++polls % 5 === 0) loadSessions().catch(function () {});
    }, POLL_MS);
    redraw();
  }

  async function loadSessions() {
    var ids = (await call('wamp.session.list')) || [];
    var keep = new Set(ids);
    st.sessions.forEach(function (_v, id) { if (!keep.has(id)) st.sessions.delete(id); });
    await Promise.all(ids.slice(0, MAX_ROWS).map(loadSession));
    $('sessions-count').textContent = '(' + ids.length + ')';
    redraw();
  }

  function loadSession(id) {
    return tryCall('wamp.session.get', [id]).then(function (s) { if (s) st.sessions.set(id, s); });
  }

  var loadingRegs = false;
  async function loadRegistrations() {
    if (loadingRegs) return;
    loadingRegs = true;
    try {
      var list = (await call('wamp.registration.list')) || {};
      var ids = [].concat(list.exact || [], list.prefix || [], list.wildcard || []);
      var regs = await Promise.all(ids.slice(0, MAX_ROWS).map(function (id) { return tryCall('wamp.registration.get', [id]); }));
      st.regs = new Map();
      regs.forEach(function (r) { if (r) st.regs.set(r.id, r); });
      $('registrations-count').textContent = '(' + ids.length + ')';
      await loadBridges(regs);
      redraw();
    } finally {
      loadingRegs = false;
    }
  }

  /** Bridges are found by their state procedures among the registrations. */
  async function loadBridges(regs) {
    var serial = [], hasMqtt = false;
    regs.forEach(function (r) {
      if (!r) return;
      var m = /^junction\.serial\.([^.]+)\.devices$/.exec(r.uri);
      if (m) serial.push(m[1]);
      if (r.uri === 'junction.bridge.mqtt.get') hasMqtt = true;
    });
    var serialNow = new Map();
    await Promise.all(serial.map(function (id) {
      return tryCall('junction.serial.' + id + '.devices').then(function (ports) { serialNow.set(id, ports || []); });
    }));
    st.serial = serialNow;
    if (!hasMqtt) { st.mqtt = new Map(); return; }
    var ids = (await tryCall('junction.bridge.mqtt.list')) || [];
    var mqttNow = new Map();
    await Promise.all(ids.map(function (id) {
      return tryCall('junction.bridge.mqtt.get', [id]).then(function (s) { if (s) mqttNow.set(id, s); });
    }));
    st.mqtt = mqttNow;
  }

  async function loadSubscriptions() {
    var list = (await call('wamp.subscription.list')) || {};
    var ids = [].concat(list.exact || [], list.prefix || [], list.wildcard || []);
    var subs = await Promise.all(ids.slice(0, MAX_ROWS).map(function (id) {
      return Promise.all([tryCall('wamp.subscription.get', [id]), tryCall('wamp.subscription.count_subscribers', [id])])
        .then(function (r) { if (r[0]) r[0].subscribers = r[1]; return r[0]; });
    }));
    st.subs = new Map();
    subs.forEach(function (s) { if (s) st.subs.set(s.id, s); });
    $('subscriptions-count').textContent = '(' + ids.length + ')';
    redraw();
  }

  var subsTimer = 0;
  function loadSubscriptionsSoon() {
    clearTimeout(subsTimer);
    subsTimer = setTimeout(function () { loadSubscriptions().catch(function () {}); }, 300);
  }
  var regsTimer = 0;
  function loadRegistrationsSoon() {
    clearTimeout(regsTimer);
    regsTimer = setTimeout(function () { loadRegistrations().catch(function () {}); }, 300);
  }

  function onMeta(args, _kwargs, details) {
    var topic = details.topic;
    if (topic === 'wamp.session.on_join') {
      var d = args[0];
      loadSession(d.session).then(function () { $('sessions-count').textContent = '(' + st.sessions.size + ')'; redraw(); });
    } else if (topic === 'wamp.session.on_leave') {
      st.sessions.delete(args[0]);
      $('sessions-count').textContent = '(' + st.sessions.size + ')';
      redraw();
    } else if (topic.indexOf('wamp.registration.') === 0) {
      loadRegistrationsSoon();
    } else if (topic.indexOf('wamp.subscription.') === 0) {
      loadSubscriptionsSoon();
    }
  }

  function onJunction(args, kwargs, details) {
    var topic = details.topic || 'junction.bridge.mqtt.on_state', m;
    if ((m = /^junction\.board\.([^.]+)\.load$/.exec(topic))) {
      var b = st.boards.get(m[1]) || { samples: [], last: null };
      b.samples.push(Number(kwargs.load) || 0);
      if (b.samples.length > MAX_SAMPLES) b.samples.shift();
      b.last = kwargs;
      st.boards.set(m[1], b);
      redraw();
    } else if (topic === 'junction.registration.on_saturated') {
      logEvent('warn', 'saturated: ' + (args[1] && args[1].uri) + ' (all callees at their concurrency)');
      loadRegistrationsSoon();
    } else if (topic === 'junction.registration.on_queue_full') {
      logEvent('bad', 'call queue full: ' + (args[1] && args[1].uri) + ' (limit ' + (args[1] && args[1].limit) + ')');
      loadRegistrationsSoon();
    } else if (topic === 'junction.session.on_slow_consumer') {
      var q = args[1] || {};
      logEvent(q.disconnected ? 'bad' : 'warn', 'slow consumer: session ' + args[0] + (q.disconnected ? ' disconnected' : ', ' + q.dropped + ' events dropped'));
    } else if (topic === 'junction.bridge.mqtt.on_state') {
      st.mqtt.set(args[0], args[1]);
      logEvent(args[1] && args[1].connected ? 'ok' : 'warn', 'MQTT bridge ' + args[0] + (args[1] && args[1].connected ? ' connected' : ' disconnected'));
      redraw();
    } else if ((m = /^junction\.serial\.([^.]+)\.on_change$/.exec(topic))) {
      var p = args[0] || {}, ports = st.serial.get(m[1]) || [];
      var i = ports.findIndex(function (x) { return x.path === p.path; });
      if (i >= 0) ports[i] = p; else ports.push(p);
      st.serial.set(m[1], ports);
      logEvent(p.state === 'ready' ? 'ok' : 'warn', 'serial ' + m[1] + ': ' + p.path + ' ' + p.state);
      redraw();
    }
  }

  function logEvent(cls, text) {
    st.events.unshift({ at: new Date(), cls: cls, text: text });
    if (st.events.length > 50) st.events.pop();
    redraw();
  }

  // ---- rendering ----

  function redraw() {
    if (drawTimer) return;
    drawTimer = setTimeout(function () { drawTimer = 0; render(); }, 250);
  }

  function h(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function row(cells, cls) {
    var tr = document.createElement('tr');
    if (cls) tr.className = cls;
    cells.forEach(function (c) {
      if (c instanceof Node) { var td = h('td'); td.appendChild(c); tr.appendChild(td); }
      else if (c && typeof c === 'object') tr.appendChild(h('td', c.text, c.cls));
      else tr.appendChild(h('td', c));
    });
    return tr;
  }
  function fill(tableId, rows, empty, cols) {
    var body = $(tableId).tBodies[0];
    body.textContent = '';
    if (rows.length === 0) { var tr = row([{ text: empty, cls: 'muted' }]); tr.firstChild.colSpan = cols; body.appendChild(tr); }
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function ago(iso) {
    if (!iso) return '';
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    return s < 60 ? s + ' s ago' : s < 3600 ? Math.floor(s / 60) + ' min ago' : s < 86400 ? Math.floor(s / 3600) + ' h ago' : Math.floor(s / 86400) + ' d ago';
  }
  function bytes(n) { return n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' kB' : (n / 1048576).toFixed(1) + ' MB'; }

  function render() {
    var rows = [];
    st.sessions.forEach(function (s) {
      var j = s.junction || {}, t = s.transport || {};
      var joined = h('span', ago(j.joined)); joined.title = j.joined || '';
      var q = bytes(j.send_queue_bytes || 0) + (j.dropped_events ? ' / ' + j.dropped_events + ' dropped' : '');
      rows.push(row([{ text: s.session, cls: 'num' }, s.authid, s.authrole, s.authmethod, [t.type, t.serializer].filter(Boolean).join(' · '),
        { text: t.peer || '', cls: 'mono' }, joined, { text: j.pending_calls || 0, cls: 'num' }, q], j.slow_consumer ? 'warn' : ''));
    });
    fill('sessions', rows, 'no sessions', 9);

    rows = [];
    st.regs.forEach(function (r) {
      var tags = h('span'), inflight = 0, cap = 0, unlimited = false;
      (r.callees || []).forEach(function (c) {
        inflight += c.inflight;
        if (c.concurrency === null) unlimited = true; else cap += c.concurrency;
        var full = c.concurrency !== null && c.inflight >= c.concurrency;
        tags.appendChild(h('span', c.session + ': ' + c.inflight + ' / ' + (c.concurrency === null ? '∞' : c.concurrency), 'tag' + (full ? ' full' : '')));
      });
      var saturated = !unlimited && cap > 0 && inflight >= cap;
      rows.push(row([{ text: r.uri, cls: 'mono' }, r.match, r.invoke, tags, { text: inflight, cls: 'num' }, { text: r.queued || 0, cls: 'num' }],
        r.queued > 0 ? 'bad' : saturated ? 'warn' : ''));
    });
    fill('registrations', rows, 'no registrations', 6);

    rows = [];
    st.subs.forEach(function (s) { rows.push(row([{ text: s.uri, cls: 'mono' }, s.match, { text: s.subscribers === undefined ? '' : s.subscribers, cls: 'num' }])); });
    fill('subscriptions', rows, 'no subscriptions', 3);

    rows = [];
    st.mqtt.forEach(function (b, id) {
      rows.push(row(['MQTT ' + id, { text: b.connected ? 'connected' : 'disconnected', cls: b.connected ? 'ok' : 'bad' },
        (b.url || '') + ' · since ' + ago(b.since) + ' · in ' + (b.messages_in || 0) + ', out ' + (b.messages_out || 0) +
        ', buffered ' + (b.buffered || 0) + (b.dropped ? ', dropped ' + b.dropped : '') + (b.last_error ? ' · ' + b.last_error : '')]));
    });
    st.serial.forEach(function (ports, id) {
      ports.forEach(function (p) {
        var dev = p.device ? p.device.id + ' (' + (p.device.procedures || []).length + ' procedures)' : 'no device';
        rows.push(row(['serial ' + id + ' ' + p.path, { text: p.state, cls: p.state === 'ready' ? 'ok' : 'warn' },
          dev + ' · ' + (p.lines || 0) + ' lines' + (p.lastError ? ' · ' + p.lastError : '')]));
      });
    });
    fill('bridges', rows, 'no MQTT or serial bridges in this realm', 3);

    var ev = $('events');
    ev.textContent = '';
    st.events.slice(0, 20).forEach(function (e) { ev.appendChild(h('li', e.at.toLocaleTimeString() + '  ' + e.text, e.cls)); });

    drawChart();
  }

  function drawChart() {
    var canvas = $('chart'), ratio = window.devicePixelRatio || 1;
    var w = canvas.clientWidth, hgt = canvas.clientHeight;
    if (canvas.width !== Math.round(w * ratio)) { canvas.width = Math.round(w * ratio); canvas.height = Math.round(hgt * ratio); }
    var g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, hgt);
    var left = 34, top = 6, bottom = hgt - 6, right = w - 6, ch = bottom - top;
    g.font = '11px system-ui, sans-serif';
    g.textAlign = 'right'; g.textBaseline = 'middle';
    for (var pct = 0; pct <= 100; pct += 25) {
      var y = bottom - ch * pct / 100;
      g.strokeStyle = pct === 0 ? '#c8ccd4' : '#eceef2'; g.beginPath(); g.moveTo(left, y); g.lineTo(right, y); g.stroke();
      g.fillStyle = '#687083'; g.fillText(pct + '%', left - 4, y);
    }
    var step = (right - left) / (MAX_SAMPLES - 1), n = 0, legend = [];
    st.boards.forEach(function (b, name) {
      var color = COLORS[n++ % COLORS.length], s = b.samples;
      g.strokeStyle = color; g.fillStyle = color; g.lineWidth = 2; g.beginPath();
      s.forEach(function (v, i) {
        var x = right - (s.length - 1 - i) * step, y = bottom - ch * Math.min(100, Math.max(0, v)) / 100;
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      });
      g.stroke();
      var last = s[s.length - 1];
      g.beginPath(); g.arc(right, bottom - ch * Math.min(100, Math.max(0, last)) / 100, 3, 0, 2 * Math.PI); g.fill();
      var k = b.last || {}, mem = k.memory || {};
      legend.push(name + ': ' + last.toFixed(1) + '% CPU' + (k.cores ? ' · ' + k.cores.length + ' cores' : '') +
        (typeof k.temperature === 'number' ? ' · ' + k.temperature.toFixed(1) + ' °C' : '') +
        (mem.total ? ' · memory ' + bytes(mem.used) + ' / ' + bytes(mem.total) : '') +
        (k.uptime ? ' · up ' + Math.floor(k.uptime / 3600) + ' h ' + Math.floor(k.uptime % 3600 / 60) + ' min' : ''));
    });
    canvas.dataset.samples = String([].concat.apply([], Array.from(st.boards.values()).map(function (b) { return b.samples; })).length);
    if (legend.length) {
      $('boards').textContent = legend.join('   ');
      var first = st.boards.values().next().value;
      $('load-now').textContent = first.samples[first.samples.length - 1].toFixed(1) + '%';
    }
  }

  // "5 s ago" columns age between events.
  setInterval(function () { if (session && !document.hidden) redraw(); }, 10000);
  window.addEventListener('resize', redraw);
})();
