/**
 * The status page's script, served from memory (no build step, no framework): polls `status` every 2 s and renders
 * it with textContent only (topics and payloads come from devices: nothing is parsed as HTML), and runs the route
 * tester against `route-test`. Relative URLs, so the page also works behind a proxy under a path prefix. Plain ES5
 * functions and no template literals: the text is embedded in this module as is.
 */
export const STATUS_PAGE_SCRIPT = String.raw`'use strict';
var POLL_MS = 2000, WINDOW_MS = 10000, LIVE_S = 5, samples = [];
function $(id) { return document.getElementById(id); }
function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function tr(cells) {
  var r = el('tr');
  cells.forEach(function (c) { var d = el('td'); if (c instanceof Node) d.appendChild(c); else d.textContent = c; r.appendChild(d); });
  return r;
}
function fill(id, rows, empty, cols) {
  var body = $(id);
  if (rows.length === 0) { var d = el('td', 'muted', empty); d.colSpan = cols; var r = el('tr'); r.appendChild(d); rows = [r]; }
  body.replaceChildren.apply(body, rows);
}
function badge(text, kind) { return el('span', 'badge ' + kind, text); }
function num(n) {
  if (n >= 1e6) return (n / 1e6).toFixed(1) + ' M';
  if (n >= 1e4) return (n / 1e3).toFixed(1) + ' k';
  return String(Math.round(n * 10) / 10);
}
function bytes(n) {
  var u = ['B', 'KiB', 'MiB', 'GiB'], i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
}
function dur(s) {
  if (!isFinite(s)) return '–';
  if (s < 90) return s.toFixed(0) + ' s';
  if (s < 5400) return (s / 60).toFixed(1) + ' min';
  if (s < 172800) return (s / 3600).toFixed(1) + ' h';
  return (s / 86400).toFixed(1) + ' d';
}
function clock(iso) { return iso ? new Date(iso).toLocaleTimeString() : '–'; }
// Per second between the oldest sample of the window and the newest.
function rate(pick) {
  var a = samples[0], b = samples[samples.length - 1];
  if (!a || a === b) return NaN;
  var va = pick(a), vb = pick(b);
  if (va === undefined || vb === undefined) return NaN;
  return (vb - va) / ((b.t - a.t) / 1000);
}
function sinkOf(s, name) { for (var i = 0; i < s.sinks.length; i++) if (s.sinks[i].name === name) return s.sinks[i]; }
function render(s) {
  var t = Date.parse(s.time);
  samples.push({ t: t, s: s });
  while (samples.length > 2 && t - samples[1].t >= WINDOW_MS) samples.shift();
  var m = s.messages;
  $('gateway').textContent = s.gatewayId + ' · ' + s.version + ' · up ' + dur(s.uptimeSeconds);
  $('ready').replaceChildren(s.readiness.ready ? badge('ready', 'ok') : badge('not ready', 'bad'));
  fill('problems', s.readiness.problems.map(function (p) { return tr([p]); }), 'no problems', 1);
  $('mqtt').replaceChildren(s.mqtt.connected ? badge('connected', 'ok') : badge('disconnected', 'bad'),
    el('span', 'muted', ' ' + s.mqtt.connects + ' connects, ' + s.mqtt.disconnects + ' disconnects'));
  $('mqtt-error').textContent = s.mqtt.lastError || '';
  // Live reload adds {loadedAt, source, generation, lastReloadError} to /status; shown when present.
  var c = s.config;
  $('config').textContent = c ? 'config generation ' + c.generation + ' from ' + c.source + ', loaded ' + clock(c.loadedAt) : '';
  $('config-error').textContent = c && c.lastReloadError ? 'last reload refused: ' + c.lastReloadError : '';
  var r = function (k) { return rate(function (x) { return x.s.messages[k]; }); };
  $('rate-in').textContent = num(r('received')) + ' msg/s';
  $('rate-ok').textContent = num(r('accepted')) + ' msg/s';
  $('rate-rejected').textContent = num(r('rejected')) + ' msg/s';
  $('rate-unrouted').textContent = num(r('unrouted')) + ' msg/s';
  $('counts').textContent = m.received + ' received, ' + m.accepted + ' decoded, ' + m.rejected + ' rejected, ' + m.unrouted +
    ' unrouted, ' + m.deadLettered + ' dead-lettered (' + m.deadLetterDropped + ' dropped)';
  var sp = s.spool;
  $('spool').textContent = bytes(sp.bytes) + ' of ' + bytes(sp.maxBytes) + (sp.full ? ' · FULL' : '') + ' · ' + sp.entries + ' entries';
  fill('sinks', s.sinks.map(function (k) {
    var out = rate(function (x) { var y = sinkOf(x.s, k.name); return y && y.pointsWritten; });
    var shrink = -rate(function (x) { var y = sinkOf(x.s, k.name); return y && y.backlog.points; });
    // A young backlog is the batch being filled: live data, nothing to drain.
    var drain = k.backlog.points === 0 ? 'drained' : k.backlog.ageSeconds < LIVE_S ? 'keeping up'
      : shrink > 0 ? dur(k.backlog.points / shrink) : 'not draining';
    var kind = k.breaker === 'closed' ? 'ok' : k.breaker === 'half-open' ? 'warn' : 'bad';
    var row = tr([k.name + ' (' + k.type + ')', badge(k.breaker, kind), num(out) + ' pts/s', num(k.backlog.points),
      bytes(k.backlog.bytes), dur(k.backlog.ageSeconds), drain, num(k.pointsWritten),
      k.lastError ? clock(k.lastError.at) + ' ' + k.lastError.kind + ': ' + k.lastError.message : '']);
    row.dataset.sink = k.name;
    row.dataset.breaker = k.breaker;
    return row;
  }), 'no sinks', 9);
  fill('rejected', s.recent.rejected.map(function (x) {
    return tr([clock(x.at), x.topic, x.reason, x.detail, x.payload + (x.truncated ? '…' : '')]);
  }), 'none', 5);
  fill('latest', s.recent.latest.map(function (x) {
    return tr([x.series, Object.keys(x.fields).map(function (f) { return f + '=' + x.fields[f]; }).join('  '), clock(x.time)]);
  }), 'no points yet', 3);
  $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  document.body.classList.remove('stale');
}
function poll() {
  fetch('status', { cache: 'no-store' }).then(function (res) {
    if (res.status === 401) throw new Error('unauthorized: reload the page and sign in with the token');
    if (!res.ok) throw new Error('status answered ' + res.status);
    return res.json();
  }).then(render).catch(function (e) {
    document.body.classList.add('stale');
    $('updated').textContent = 'gateway unreachable: ' + e.message;
  }).finally(function () { setTimeout(poll, POLL_MS); });
}
// "site=a kind=b site=c": NAME=VALUE words, a repeated NAME sent as the repeated property MQTT allows.
function testerProperties() {
  var user = {}, any = false, ct = $('content-type').value;
  $('props').value.split(/\s+/).forEach(function (w) {
    var eq = w.indexOf('=');
    if (eq <= 0) return;
    var k = w.slice(0, eq), v = w.slice(eq + 1);
    user[k] = Object.prototype.hasOwnProperty.call(user, k) ? [].concat(user[k], v) : v;
    any = true;
  });
  if (!any && ct === '') return undefined;
  var p = {};
  if (any) p.userProperties = user;
  if (ct !== '') p.contentType = ct;
  return p;
}
function tryRoute(ev) {
  ev.preventDefault();
  var out = $('tester-result');
  out.textContent = '…';
  fetch('route-test', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ topic: $('topic').value, payload: $('payload').value, properties: testerProperties() }),
  }).then(function (res) { return res.json(); }).then(function (x) {
    var lines = [];
    if (x.error) lines.push('error: ' + x.error);
    else if (x.kind === 'ok') {
      lines.push(x.points + ' point(s) by route ' + x.route.number + ' ' + x.route.topic + ' [' + x.route.format + ']');
      x.writes.forEach(function (w) { (w.lines || w.commands).forEach(function (l) { lines.push(w.sink + ': ' + l); }); });
      if (x.writes.length === 0) lines.push('no sink');
      (x.suppressed || []).forEach(function (l) { lines.push('suppressed for ' + x.thinned.join(', ') + ': ' + l); });
    } else if (x.kind === 'rejected') lines.push('rejected: ' + x.reason + ' (' + x.detail + ')' + (x.route ? ' by route ' + x.route.number + ' ' + x.route.topic : ''));
    else lines.push(x.why === 'wildcard' ? 'unrouted: a published topic cannot contain + or #' : 'unrouted: no route matches');
    if (x.subscribed === false) lines.push('not subscribed: no filter of mqtt.subscriptions matches; the broker would not deliver it');
    out.dataset.kind = x.kind || 'error';
    out.textContent = lines.join('\n');
  }).catch(function (e) { out.dataset.kind = 'error'; out.textContent = 'error: ' + e.message; });
}
$('tester').addEventListener('submit', tryRoute);
poll();
`;
