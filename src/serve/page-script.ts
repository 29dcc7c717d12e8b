// The page's script, as a string served inline (see page.ts). Plain browser JavaScript, no build step:
// every value from the manifest reaches the DOM through textContent (never innerHTML), so an error
// message holding markup shows as the text it is.
export const PAGE_SCRIPT = `
'use strict';
const COLORS = { pending: '#8b95a3', running: '#3b82f6', done: '#16a34a', failed: '#dc2626', expired: '#f59e0b' };
const S = { info: null, runs: [], id: null, shards: [], hosts: [], events: [], rates: [], es: null, poll: null, geo: null };
const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'text') e.textContent = v; else if (k === 'on') for (const [ev, f] of Object.entries(v)) e.addEventListener(ev, f); else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}
function fill(node, rows) { node.replaceChildren(...rows); }
function bytes(n) { const u = ['B', 'KB', 'MB', 'GB', 'TB']; let i = 0; while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; } return (i ? n.toFixed(1) : n) + ' ' + u[i]; }
function age(iso) { if (!iso) return '-'; const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000); return s < 90 ? s.toFixed(0) + ' s' : s < 5400 ? (s / 60).toFixed(0) + ' min' : (s / 3600).toFixed(1) + ' h'; }
function banner(text) { const b = $('#banner'); b.textContent = text || ''; b.hidden = !text; }

async function api(path, opts) {
  const r = await fetch(path, Object.assign({ credentials: 'same-origin', headers: { accept: 'application/json' } }, opts || {}));
  const body = await r.json().catch(() => ({ error: 'HTTP ' + r.status }));
  if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status));
  return body;
}
const runPath = (id) => '/api/runs/' + encodeURIComponent(id);

let runsLoadedAt = 0;
/** The run list again, at most every 2 s however fast the stream says things change. */
function maybeLoadRuns() { if (Date.now() - runsLoadedAt > 2000) loadRuns(); }

async function loadRuns() {
  runsLoadedAt = Date.now();
  try {
    S.runs = (await api('/api/runs')).runs;
    banner('');
  } catch (e) { banner(e.message); return; }
  fill($('#runs tbody'), S.runs.map((r) => el('tr', { 'data-run': r.id, class: r.id === S.id ? 'sel' : '', on: { click: () => { location.hash = 'run=' + encodeURIComponent(r.id); } } },
    el('td', { text: r.id, title: r.manifest + ' · ' + r.file }), el('td', { text: r.op }),
    el('td', { class: 'st-' + r.state, text: r.state }),
    el('td', { text: r.shards.done + '/' + r.shards.total + (r.shards.failed ? ' (' + r.shards.failed + ' failed)' : '') }),
    el('td', { text: r.hosts_alive + '/' + r.hosts }), el('td', { text: bytes(r.bytes_per_s) + '/s' }),
    el('td', { text: r.eta_seconds === null ? '-' : r.eta_seconds + ' s' }))));
  // a link to a run (#run=ID) wins; otherwise show the newest
  if (!S.id && S.runs.length && !/run=/.test(location.hash)) location.hash = 'run=' + encodeURIComponent(S.runs[0].id);
}

function shardColor(s) {
  if (s.state === 'running' && s.lease_expires_at && Date.parse(s.lease_expires_at) < Date.now()) return COLORS.expired;
  return COLORS[s.state] || '#000';
}

function drawMap() {
  const c = $('#shardmap');
  const n = S.shards.length;
  const width = Math.max(200, c.parentElement.clientWidth - 2);
  const cell = Math.max(3, Math.min(28, Math.floor(Math.sqrt((width * 220) / Math.max(1, n)))));
  const cols = Math.max(1, Math.floor(width / cell));
  const rows = Math.ceil(n / cols);
  c.width = cols * cell; c.height = Math.max(cell, rows * cell);
  c.dataset.cell = cell; c.dataset.cols = cols;
  S.geo = { cell, cols };
  const g = c.getContext('2d');
  g.clearRect(0, 0, c.width, c.height);
  const gap = cell > 6 ? 1 : 0;
  for (const s of S.shards) {
    g.fillStyle = shardColor(s);
    g.fillRect((s.shard % cols) * cell, Math.floor(s.shard / cols) * cell, cell - gap, cell - gap);
  }
  const count = (st) => S.shards.filter((s) => s.state === st).length;
  $('#legend').textContent = ['pending', 'running', 'done', 'failed'].map((st) => st + ' ' + count(st)).join(' · ');
}

function shardAt(ev) {
  if (!S.geo) return null;
  const r = ev.target.getBoundingClientRect();
  const x = Math.floor((ev.clientX - r.left) / S.geo.cell), y = Math.floor((ev.clientY - r.top) / S.geo.cell);
  if (x >= S.geo.cols) return null;
  return S.shards[y * S.geo.cols + x] || null;
}

function tip(ev) {
  const s = shardAt(ev), t = $('#tip');
  if (!s) { t.hidden = true; return; }
  t.textContent = 'shard ' + s.shard + ' · ' + s.state + ' · token ' + s.token + (s.owner ? ' · ' + s.owner.host + ':' + s.owner.pid : '') +
    ' · attempts ' + s.attempts + (s.last_error ? ' · ' + s.last_error : '');
  t.hidden = false;
  t.style.left = (ev.pageX + 12) + 'px'; t.style.top = (ev.pageY + 12) + 'px';
}

async function history(ev) {
  const s = shardAt(ev);
  if (!s) return;
  const box = $('#history');
  box.replaceChildren(el('h3', { text: 'Shard ' + s.shard + ': every token' }));
  const evs = (await api(runPath(S.id) + '/events?shard=' + s.shard + '&limit=5000')).events;
  const tokens = new Map();
  for (const e of evs) {
    const k = e.token === null ? '-' : e.token;
    if (!tokens.has(k)) tokens.set(k, []);
    tokens.get(k).push(e);
  }
  const list = el('ol', { class: 'tokens' });
  for (const [tok, es] of tokens) {
    const who = es.find((e) => e.type === 'claimed') || es[0];
    const end = es.filter((e) => e.type !== 'claimed').map((e) => e.type + ' by ' + e.host + ':' + e.pid + (e.detail && e.detail.error ? ' (' + e.detail.error + ')' : '')).join(', ');
    list.append(el('li', { text: 'token ' + tok + ': held by ' + who.host + ':' + who.pid + ' from ' + who.time + ' — ' + (end || 'still held') }));
  }
  box.append(list);
}

function drawHosts() {
  fill($('#hosts tbody'), S.hosts.map((h) => el('tr', {},
    el('td', { text: h.host }), el('td', { text: h.pid }), el('td', { class: h.alive ? 'st-done' : 'st-failed', text: h.alive ? 'alive' : 'silent' }),
    el('td', { text: age(h.last_seen) }), el('td', { text: h.shards_done }), el('td', { text: bytes(h.bytes_done) }),
    el('td', { text: bytes(h.bytes_per_s) + '/s' }), el('td', { text: h.current.map((c) => c.shard + '#' + c.token).join(' ') || '-' }))));
}

function drawFailures() {
  const bad = S.shards.filter((s) => s.last_error);
  $('#failures-empty').hidden = bad.length > 0;
  $('#failures').hidden = bad.length === 0;
  fill($('#failures tbody'), bad.map((s) => el('tr', { 'data-shard': s.shard },
    el('td', { text: s.shard }), el('td', { class: 'st-' + s.state, text: s.state }), el('td', { text: s.attempts }), el('td', { class: 'err', text: s.last_error }))));
  const canRetry = S.info && S.info.retry && S.shards.some((s) => s.state === 'failed');
  $('#retry').hidden = !canRetry;
}

function drawTrail() {
  const type = $('#f-type').value, host = $('#f-host').value.trim(), shard = $('#f-shard').value.trim();
  const shown = S.events.filter((e) => (!type || e.type === type) && (!host || e.host === host) && (shard === '' || String(e.shard) === shard)).slice(-300).reverse();
  fill($('#trail tbody'), shown.map((e) => el('tr', { class: 'ev-' + e.type },
    el('td', { text: e.id }), el('td', { text: e.time.slice(11, 23) }), el('td', { text: e.type }), el('td', { text: e.shard === null ? '-' : e.shard }),
    el('td', { text: e.token === null ? '-' : e.token }), el('td', { text: e.host + ':' + e.pid }), el('td', { class: 'detail', text: e.detail ? JSON.stringify(e.detail) : '' }))));
}

function drawSpark() {
  const c = $('#spark'), g = c.getContext('2d');
  c.width = c.clientWidth || 300; c.height = 40;
  g.clearRect(0, 0, c.width, c.height);
  const pts = S.rates.slice(-120);
  const max = Math.max(1, ...pts.map((p) => p.v));
  g.strokeStyle = COLORS.running; g.beginPath();
  pts.forEach((p, i) => { const x = (i / Math.max(1, pts.length - 1)) * c.width, y = c.height - 2 - (p.v / max) * (c.height - 4); i ? g.lineTo(x, y) : g.moveTo(x, y); });
  g.stroke();
  $('#rate').textContent = pts.length ? bytes(pts[pts.length - 1].v) + '/s' : '';
}

function summary(run) {
  if (!run) return;
  S.rates.push({ t: Date.now(), v: run.bytes_per_s });
  $('#title').textContent = run.id + ' — ' + run.op + ' over ' + run.file + ' (' + bytes(run.file_bytes) + ') · ' + run.state;
  drawSpark();
}

function redraw() { drawMap(); drawHosts(); drawFailures(); drawTrail(); }

function onShard(s) {
  S.shards[s.shard] = s;
  drawMap(); drawFailures();
}

function stopLive() {
  if (S.es) { S.es.close(); S.es = null; }
  if (S.poll) { clearInterval(S.poll); S.poll = null; }
}

/** Live updates: Server-Sent Events, or a poll every 2 s where they are not available or keep failing. */
function live(id) {
  stopLive();
  if (!window.EventSource) { S.poll = setInterval(() => refresh(id), 2000); return; }
  const es = new EventSource(runPath(id) + '/stream');
  S.es = es;
  let failures = 0;
  es.addEventListener('snapshot', (m) => { const d = JSON.parse(m.data); S.shards = d.shards; S.hosts = d.hosts; summary(d.run); failures = 0; redraw(); });
  es.addEventListener('shard', (m) => onShard(JSON.parse(m.data)));
  es.addEventListener('trail', (m) => { const e = JSON.parse(m.data); if (!S.events.length || S.events[S.events.length - 1].id < e.id) S.events.push(e); drawTrail(); });
  es.addEventListener('hosts', (m) => { const d = JSON.parse(m.data); S.hosts = d.hosts; summary(d.run); drawHosts(); maybeLoadRuns(); });
  es.onerror = () => { if (++failures > 5 && S.es === es) { es.close(); S.es = null; S.poll = setInterval(() => refresh(id), 2000); } };
}

async function refresh(id) {
  try {
    const [d, sh] = await Promise.all([api(runPath(id)), api(runPath(id) + '/shards')]);
    const after = S.events.length ? S.events[S.events.length - 1].id : 0;
    const ev = await api(runPath(id) + '/events?after=' + after + '&limit=5000');
    if (id !== S.id) return;
    S.shards = sh.shards; S.hosts = d.host_rows; S.events.push(...ev.events); S.events = S.events.slice(-2000);
    summary(d.summary); redraw();
    // clear only the banner a failed refresh put up: a retry's result must stay readable
    if (S.refreshFailed) { S.refreshFailed = false; banner(''); }
  } catch (e) { S.refreshFailed = true; banner(e.message); }
}

async function select(id) {
  if (!id || id === S.id) return;
  S.id = id; S.events = []; S.rates = []; S.shards = [];
  $('#history').replaceChildren();
  for (const tr of document.querySelectorAll('#runs tbody tr')) tr.classList.toggle('sel', tr.dataset.run === id);
  $('#detail').hidden = false;
  await refresh(id);
  live(id);
}

function fromHash() { const m = /run=([^&]+)/.exec(location.hash); if (m) select(decodeURIComponent(m[1])); }

async function retry() {
  try { const r = await api(runPath(S.id) + '/retry', { method: 'POST' }); await refresh(S.id); banner(r.reset + ' shard(s) reset to pending'); } catch (e) { banner(e.message); }
}

async function start() {
  try { S.info = await api('/api/info'); } catch (e) { banner(e.message); }
  $('#manifests').textContent = S.info ? S.info.manifests.join(', ') : '';
  const map = $('#shardmap');
  map.addEventListener('mousemove', tip);
  map.addEventListener('mouseleave', () => { $('#tip').hidden = true; });
  map.addEventListener('click', (ev) => { tip(ev); history(ev); });
  for (const f of ['#f-type', '#f-host', '#f-shard']) $(f).addEventListener('input', drawTrail);
  $('#retry').addEventListener('click', retry);
  window.addEventListener('hashchange', fromHash);
  window.addEventListener('resize', () => { if (S.shards.length) drawMap(); });
  await loadRuns();
  fromHash();
  setInterval(loadRuns, 5000);
  setInterval(drawHosts, 1000);
}
start();
`;
