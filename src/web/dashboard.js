// Junction's status dashboard: one WAMP session (Autobahn|JS browser build) with a read-only role.
// Reads the meta API (sessions, registrations, subscriptions), the bridges' state procedures and
// the board's retained telemetry and recent history; listens to meta events; redraws at most 4
// times a second. Two views, by what the role may read (src/config/dashboard-roles.ts): 'monitor'
// sees everything; 'dashboard' (anonymous visitors) sees counts and state only, and may sign in.
//
// Events and polls reconcile: each event-set entry remembers the event counter at that moment,
// and a poll's answer (asked before the event, so possibly older) never replaces or removes an
// entry an event set after the poll began.
'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var MAX_ROWS = 300;            // rows per table; the count in the heading says how many there are
  var MAX_SAMPLES = 120;         // chart points per board (10 min at telemetry's default 5 s)
  var POLL_MS = 3000;            // registrations' in-flight counts and queues change without events
  var COLORS = ['#2563eb', '#c2410c', '#15803d', '#7c3aed', '#be123c'];

  var info = null, session = null, conn = null, pollTimer = 0, drawTimer = 0;
  var st, changes = 0;           // changes: events applied so far (see above)
  function reset() {
    st = {
      full: true,                // false: the role may not read sessions (anonymous visitor)
      counts: {},                // sessions / registrations / subscriptions, for the public view
      sessions: new Map(),       // id → junction.session.get result (+ .seq: change counter when an event set it)
      left: new Set(),           // sessions whose on_leave came (a late get must not bring them back)
      regs: new Map(),           // id → wamp.registration.get result
      subs: new Map(),           // id → wamp.subscription.get result (+ subscribers)
      mqtt: new Map(),           // bridge id → state (+ .seq)
      links: new Map(),          // router link id → junction.rlink.get result (+ .seq)
      serial: new Map(),         // bridge id → Map(path → port status (+ .seq))
      boards: new Map(),         // board → { samples: [{ at, load }], last: kwargs }
      events: [],
    };
  }
  reset();

  // ---- connection ----

  function setStatus(text, cls) { var s = $('status'); s.textContent = text; s.className = 'pill ' + (cls || ''); }

  fetch('dashboard.json').then(function (r) { return r.json(); }).then(function (i) {
    info = i;
    $('realm').textContent = 'realm ' + i.realm;
    var saved = sessionStorage.getItem('junction.dashboard.login');
    if (saved && i.authmethods.indexOf('ticket') >= 0) return connect(JSON.parse(saved));
    if (i.authmethods.indexOf('anonymous') >= 0) return connect(null);
    showLogin();
  }).catch(function (e) { setStatus('no dashboard.json: ' + e.message, 'bad'); });

  function showLogin(problem, creds) {
    setStatus(problem || 'sign in', 'bad');
    var form = $('login');
    form.hidden = false;
    if (creds) { $('login-authid').value = creds.authid; $('login-ticket').value = creds.ticket; }
    form.onsubmit = function (ev) {
      ev.preventDefault();
      form.hidden = true;
      signIn({ authid: $('login-authid').value, ticket: $('login-ticket').value });
    };
  }

  /** Leaves the current session (if any) and joins again with a ticket. */
  function signIn(creds) {
    var old = conn;
    conn = null;
    try { if (old) old.close(); } catch (e) { /* already closed (a refused login) */ }
    connect(creds);
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
    var c = new autobahn.Connection(opts);
    conn = c;
    c.onopen = function (s, welcome) {
      if (conn !== c) return;
      session = s;
      welcome = welcome || {};
      if (creds) sessionStorage.setItem('junction.dashboard.login', JSON.stringify(creds));
      // Our own session, from WELCOME: the one session every role may see.
      setStatus('connected as ' + (welcome.authid || '?') + ' (' + (welcome.authrole || '?') + ')', 'ok');
      $('status').title = 'session ' + s.id;
      $('sign-in').hidden = !!creds || info.authmethods.indexOf('ticket') < 0;
      // A (re)join starts from scratch: what the page holds may have changed while it was away.
      reset();
      clearInterval(pollTimer);
      start(s).catch(function (e) { logEvent('bad', 'loading: ' + errText(e)); });
    };
    c.onclose = function (reason, details) {
      if (conn !== c) return true;   // replaced by a sign-in: no retries, no status
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
    c.open();
  }

  $('sign-in').onclick = function () { $('sign-in').hidden = true; showLogin('sign in for the whole view'); };

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
        if (info.authmethods.indexOf('ticket') >= 0 && c.authid && c.ticket) {
          var b = $('setup-sign-in');
          b.hidden = false;
          b.textContent = 'Sign in as ' + c.authid;
          b.onclick = function () { b.hidden = true; signIn({ authid: c.authid, ticket: c.ticket }); };
        }
      }, function (e) {
        out.className = 'mono bad';
        out.textContent = e && e.error === 'junction.error.no_setup' ? 'No setup pending (the credentials were given, or already shown).' : errText(e);
      });
    };
  }

  // ---- loading and events ----

  function notAuthorized(e) { return !!e && e.error === 'wamp.error.not_authorized'; }

  async function start(s) {
    // Meta events, Junction's alerts, bridges' state and board telemetry (retained: the latest
    // load at once). Patterns match the built-in roles' permissions (README, "Status dashboard");
    // a role that may not subscribe to some of them simply gets fewer events.
    await Promise.all([
      ['wamp.', onMeta, { match: 'prefix' }],
      ['junction.registration.', onJunction, { match: 'prefix' }],
      ['junction.session.', onJunction, { match: 'prefix' }],
      ['junction.bridge.mqtt.on_state', onJunction, {}],
      ['junction.rlink.on_state', onLinkState, {}],
      ['junction.serial..on_change', onJunction, { match: 'wildcard', get_retained: true }],
      ['junction.board..load', onJunction, { match: 'wildcard', get_retained: true }],
    ].map(function (x) { return s.subscribe(x[0], x[1], x[2]).catch(function () { return null; }); }));
    if (session !== s) return;
    if (info.setup) showSetup();
    await loadSessions();
    await Promise.all([loadRegistrations(), st.full ? loadSubscriptions() : null]);
    var polls = 0;
    pollTimer = setInterval(function () {
      if (document.hidden) return;
      loadRegistrations().catch(function () {});
      // Sessions' send queues and pending calls change without events: every 5th poll. The public
      // view has no session events: its counts are polled each time.
      if (!st.full || ++polls % 5 === 0) loadSessions().catch(function () {});
      if (!st.full) loadSubscriptions().catch(function () {});
    }, POLL_MS);
    redraw();
  }

  /** Sets a heading's count; `text` replaces the table body when the role may not read the rows. */
  function setCount(name, n) { st.counts[name] = n; $(name + '-count').textContent = '(' + n + ')'; }

  async function loadSessions() {
    var asOf = changes;
    if (!st.full) return setCount('sessions', await call('wamp.session.count'));
    var ids;
    try {
      ids = (await call('wamp.session.list')) || [];
    } catch (e) {
      if (!notAuthorized(e)) throw e;
      st.full = false;   // the public view: counts only, from now on
      return loadSessions();
    }
    var keep = new Set(ids);
    // Sessions that joined after this poll began (their event is newer) stay.
    st.sessions.forEach(function (v, id) { if (!keep.has(id) && !(v.seq > asOf)) st.sessions.delete(id); });
    await Promise.all(ids.slice(0, MAX_ROWS).map(function (id) { return loadSession(id, asOf); }));
    setCount('sessions', Math.max(ids.length, st.sessions.size));
    redraw();
  }

  /** `asOf`: the change counter when the caller's poll began; undefined for an event's own load. */
  function loadSession(id, asOf) {
    var seq = asOf === undefined ? ++changes : asOf;
    return tryCall('junction.session.get', [id]).then(function (s) {
      var had = st.sessions.get(id);
      if (!s || (had && had.seq > seq) || st.left.has(id)) return;
      s.seq = seq;
      st.sessions.set(id, s);
    });
  }

  var loadingRegs = null, regsAgain = false;
  /** One load at a time; a request while one runs loads again after it (that one may predate it). */
  function loadRegistrations() {
    if (loadingRegs) { regsAgain = true; return loadingRegs; }
    loadingRegs = loadRegistrationsNow().finally(function () {
      loadingRegs = null;
      if (regsAgain) { regsAgain = false; loadRegistrations().catch(function () {}); }
    });
    return loadingRegs;
  }

  async function loadRegistrationsNow() {
    var asOf = changes;
    var list = (await call('wamp.registration.list')) || {};
    var ids = [].concat(list.exact || [], list.prefix || [], list.wildcard || []);
    setCount('registrations', ids.length);
    var regs = [];
    if (st.full) {
      regs = await Promise.all(ids.slice(0, MAX_ROWS).map(function (id) { return tryCall('junction.registration.get', [id]); }));
      st.regs = new Map();
      regs.forEach(function (r) { if (r) st.regs.set(r.id, r); });
    }
    await Promise.all([loadBridges(regs, asOf), loadLinks(asOf)]);
    redraw();
  }

  /**
   * Bridges: found by their state procedures among the registrations (the public view cannot read
   * those: it asks for the serial bridges it heard of, and the MQTT bridges' list).
   */
  async function loadBridges(regs, asOf) {
    var serial = new Set(st.serial.keys()), hasMqtt = !st.full;
    regs.forEach(function (r) {
      if (!r) return;
      var m = /^junction\.serial\.([^.]+)\.devices$/.exec(r.uri);
      if (m) serial.add(m[1]);
      if (r.uri === 'junction.bridge.mqtt.get') hasMqtt = true;
    });
    await Promise.all(Array.from(serial).map(function (id) {
      return tryCall('junction.serial.' + id + '.devices').then(function (ports) {
        var now = new Map();
        (ports || []).forEach(function (p) { now.set(p.path, p); });
        var known = st.serial.get(id) || new Map();
        known.forEach(function (p, path) { if (p.seq > asOf) now.set(path, p); });   // newer, from an event
        if (ports === undefined && known.size === 0) st.serial.delete(id); else st.serial.set(id, now);
      });
    }));
    var ids = hasMqtt ? await tryCall('junction.bridge.mqtt.list') : [];
    var mqttNow = new Map();
    await Promise.all((ids || []).map(function (id) {
      return tryCall('junction.bridge.mqtt.get', [id]).then(function (b) { if (b) mqttNow.set(id, b); });
    }));
    st.mqtt.forEach(function (b, id) { if (b.seq > asOf) mqttNow.set(id, b); });
    st.mqtt = mqttNow;
  }

  /** Router links (junction.rlink.*, the meta API's own: not among the registrations). */
  async function loadLinks(asOf) {
    var ids = await tryCall('junction.rlink.list'), now = new Map();
    await Promise.all((ids || []).map(function (id) {
      return tryCall('junction.rlink.get', [id]).then(function (l) { if (l) now.set(id, l); });
    }));
    st.links.forEach(function (l, id) {
      if (!now.has(id)) return;
      if (l.seq > asOf) now.set(id, Object.assign(now.get(id), l)); else now.get(id).logged = l.logged;
    });
    st.links = now;
  }

  async function loadSubscriptions() {
    var list = (await call('wamp.subscription.list')) || {};
    var ids = [].concat(list.exact || [], list.prefix || [], list.wildcard || []);
    setCount('subscriptions', ids.length);
    if (!st.full) return redraw();
    var subs = await Promise.all(ids.slice(0, MAX_ROWS).map(function (id) {
      return Promise.all([tryCall('wamp.subscription.get', [id]), tryCall('wamp.subscription.count_subscribers', [id])])
        .then(function (r) { if (r[0]) r[0].subscribers = r[1]; return r[0]; });
    }));
    st.subs = new Map();
    subs.forEach(function (s) { if (s) st.subs.set(s.id, s); });
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

  /** A board's recent samples (telemetry's history procedure), before the live ones. */
  function loadHistory(name) {
    tryCall('junction.board.' + name + '.history').then(function (r) {
      var b = st.boards.get(name), recent = (r && r.kwargs ? r.kwargs.samples : r && r.samples) || [];
      if (!b || !recent.length) return;
      // Asked after the first live sample, so it holds that one too: it replaces what the page has,
      // except samples that arrived since (later than its newest). Timestamps may repeat (ms).
      var history = recent.map(function (k) { return { at: String(k.timestamp), load: Number(k.load) || 0 }; });
      var newest = history[history.length - 1].at;
      b.samples = history.concat(b.samples.filter(function (x) { return x.at > newest; })).slice(-MAX_SAMPLES);
      redraw();
    });
  }

  function onMeta(args, _kwargs, details) {
    var topic = details.topic;
    if (topic === 'wamp.session.on_join') {
      var d = args[0];
      st.left.delete(d.session);
      loadSession(d.session).then(function () { setCount('sessions', st.sessions.size); redraw(); });
    } else if (topic === 'wamp.session.on_leave') {
      st.sessions.delete(args[0]);
      if (st.left.size > 1000) st.left.clear();
      st.left.add(args[0]);   // a get already under way must not bring it back
      setCount('sessions', st.sessions.size);
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
      var b = st.boards.get(m[1]);
      if (!b) { b = { samples: [], last: null }; st.boards.set(m[1], b); loadHistory(m[1]); }
      var at = String(kwargs.timestamp || new Date().toISOString());
      var prev = b.samples[b.samples.length - 1];
      if (!prev || prev.at !== at) b.samples.push({ at: at, load: Number(kwargs.load) || 0 });
      if (b.samples.length > MAX_SAMPLES) b.samples.shift();
      b.last = kwargs;
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
      var state = args[1] || {};
      state.seq = ++changes;
      st.mqtt.set(args[0], state);
      logEvent(state.connected ? 'ok' : 'warn', 'MQTT bridge ' + args[0] + (state.connected ? ' connected' : ' disconnected'));
      redraw();
    } else if ((m = /^junction\.serial\.([^.]+)\.on_change$/.exec(topic))) {
      var p = args[0] || {}, ports = st.serial.get(m[1]);
      if (!ports) { ports = new Map(); st.serial.set(m[1], ports); loadRegistrationsSoon(); }   // a bridge new to us: all its ports
      p.seq = ++changes;
      ports.set(p.path, p);
      if (!details.retained) logEvent(p.state === 'ready' ? 'ok' : 'warn', 'serial ' + m[1] + ': ' + p.path + ' ' + p.state);
      redraw();
    }
  }

  /** junction.rlink.on_state: {id, state, since, last_error}; the rest of the row stays. */
  function onLinkState(args) {
    var s = args[0] || {}, had = st.links.get(s.id) || {}, link = Object.assign({}, had, s);
    link.seq = ++changes;
    st.links.set(s.id, link);
    // Each retry goes connecting → down: the log says up and down, once each.
    if (s.state !== 'connecting' && s.state !== had.logged) {
      link.logged = s.state;
      logEvent(s.state === 'up' ? 'ok' : 'warn', 'router link ' + s.id + ' ' + s.state + (s.state !== 'up' && s.last_error ? ': ' + s.last_error : ''));
    }
    redraw();
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

  /** The public view's stand-in for a table it may not read. */
  function hidden(what) {
    return info.authmethods.indexOf('ticket') >= 0 ? 'sign in to see ' + what : what + ': not shown to this role';
  }

  function render() {
    if (!st.full) {
      fill('sessions', [], hidden('who is connected'), 9);
      fill('registrations', [], hidden('the procedures'), 6);
      fill('subscriptions', [], hidden('the topics'), 3);
    } else renderMeta();
    renderBridges();
    var ev = $('events');
    ev.textContent = '';
    st.events.slice(0, 20).forEach(function (e) { ev.appendChild(h('li', e.at.toLocaleTimeString() + '  ' + e.text, e.cls)); });
    drawChart();
  }

  function renderMeta() {
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
  }

  function renderBridges() {
    var rows = [];
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

    rows = [];
    st.links.forEach(function (l, id) {
      var since = h('span', ago(l.since)); since.title = l.since || '';
      var state = h('span', l.state, l.state === 'up' ? 'ok' : 'bad'); state.title = l.last_error || '';
      rows.push(row([id, { text: l.url + (l.realm ? ' · ' + l.realm : ''), cls: 'mono' }, state, since, { text: l.buffered || 0, cls: 'num' }]));
    });
    fill('rlinks', rows, 'no router links in this realm', 5);
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
      var color = COLORS[n++ % COLORS.length], s = b.samples.map(function (x) { return x.load; });
      if (!s.length) return;
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
    var total = 0;
    st.boards.forEach(function (b) { total += b.samples.length; });
    canvas.dataset.samples = String(total);
    if (legend.length) {
      $('boards').textContent = legend.join('   ');
      var first = st.boards.values().next().value.samples;
      $('load-now').textContent = first[first.length - 1].load.toFixed(1) + '%';
    }
  }

  // "5 s ago" columns age between events.
  setInterval(function () { if (session && !document.hidden) redraw(); }, 10000);
  window.addEventListener('resize', redraw);
})();
