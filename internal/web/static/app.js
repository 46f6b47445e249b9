// Wolfpack web console. Plain JavaScript, no framework, nothing fetched but this node's
// API. Data goes into the page as text (textContent), never as markup.
//
// The API token lives in this tab's sessionStorage (or only in memory) and travels in
// the Authorization header of every request, the live stream's too (read with fetch,
// since EventSource cannot send a header): never in a URL.
'use strict';

const TOKEN_KEY = 'wolfpack.token';

const S = {
  token: null,
  me: null,           // {name, level, node}
  node: '',           // the node this page talks to
  nodes: [],
  groups: new Map(),
  resources: new Map(),
  etcd: null,
  types: null,        // resource types with their properties
  haveState: false,
  stream: null,       // AbortController of the watch stream
  painted: false,
  eventFilter: { node: '', log: '', source: '', id: '', level: '', c: '200' },
  events: null,       // the events view's records
  reg: { node: '', path: '', open: new Set(), sel: '', subtree: false },
};

// ---------- small DOM helpers ----------

function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const k of kids.flat()) {
    if (k === undefined || k === null || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}
const $ = (sel, root = document) => root.querySelector(sel);
// fill replaces el's children, skipping the absent ones (null: a part a ReadOnly token does not get).
const fill = (el, ...kids) => el.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
const full = () => S.me && S.me.level === 'Full';

function stateClass(s) {
  switch (s) {
    case 'Up': case 'Online': case 'Healthy': case 'OK': return 'ok';
    case 'Down': case 'Failed': case 'Unhealthy': case 'Lost': case 'Error': case 'Critical': return 'bad';
    case 'Paused': case 'Pending': case 'OnlinePending': case 'OfflinePending': case 'PartialOnline': case 'Warning': return 'warn';
    case 'Joining': case 'Information': return 'info';
    default: return 'off';
  }
}
const badge = (s) => h('span', { class: 'state ' + stateClass(s), text: s || 'Unknown' });

function fmtTime(t) {
  if (!t) return '–';
  const d = new Date(t);
  if (isNaN(d)) return t;
  return d.toLocaleString(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
function fmtBytes(n) {
  if (n === undefined || n === null) return '–';
  if (n < 1024) return n + ' B';
  if (n < 1 << 20) return (n / 1024).toFixed(1) + ' KiB';
  return (n / (1 << 20)).toFixed(1) + ' MiB';
}

function toast(msg, bad) {
  const t = $('#toast');
  t.textContent = msg;
  t.classList.toggle('bad', !!bad);
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, bad ? 12000 : 5000);
}

// ---------- API ----------

class ApiError extends Error {
  constructor(status, message, code, detail) { super(message); this.status = status; this.code = code; this.detail = detail; }
}

async function api(method, path, body, token) {
  const headers = { 'Authorization': 'Bearer ' + (token || S.token) };
  const opts = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
  if (body !== undefined) { headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(body); }
  const r = await fetch(path, opts);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!r.ok) {
    const msg = data && data.error ? data.error : (text.trim() || r.statusText);
    const err = new ApiError(r.status, msg, data && data.code, data && data.detail);
    if (r.status === 401 && !token) signOut('The node no longer accepts your token (revoked, or the node cannot check it). Sign in again.');
    throw err;
  }
  return data;
}
const enc = encodeURIComponent;
// relay: a node's own routes (registry, event logs) through the node this page talks to.
const relay = (node, path) => '/v1/nodes/' + enc(node) + '/api' + path;

// ---------- sign-in ----------

function showSignIn(message) {
  $('#app').hidden = true;
  $('#signin').hidden = false;
  const err = $('#signin-error');
  err.hidden = !message;
  err.textContent = message || '';
  $('#token').value = '';
  $('#token').focus();
}

async function signIn(ev) {
  ev.preventDefault();
  const tok = $('#token').value.trim();
  if (!tok) return;
  const btn = $('#signin-button');
  btn.disabled = true;
  try {
    const me = await api('GET', '/v1/whoami', undefined, tok);
    S.token = tok;
    if ($('#remember').checked) sessionStorage.setItem(TOKEN_KEY, tok);
    else sessionStorage.removeItem(TOKEN_KEY);
    $('#token').value = '';
    start(me);
  } catch (e) {
    const msg = e.status === 401 ? 'Sign-in refused: this node does not accept that token (wrong, revoked, or not of this cluster).'
      : 'Sign-in failed: ' + e.message;
    showSignIn(msg);
  } finally {
    btn.disabled = false;
  }
}

function signOut(message) {
  if (S.stream) S.stream.abort();
  S.stream = null;
  S.token = null;
  S.me = null;
  S.haveState = false;
  sessionStorage.removeItem(TOKEN_KEY);
  $('#main').replaceChildren();
  $('#toast').hidden = true;
  S.events = null;
  S.etcd = null;
  S.painted = false;
  showSignIn(message);
}

function start(me) {
  S.me = me;
  S.node = me.node;
  document.body.classList.toggle('readonly', !full());
  $('#signin').hidden = true;
  $('#app').hidden = false;
  $('#whoami').textContent = me.name + ' · ' + me.level;
  openStream();
  route();
}

// ---------- the live stream ----------

function setLive(text, ok) {
  const l = $('#live');
  l.textContent = text;
  l.className = 'live ' + (ok ? 'ok' : 'bad');
}

async function openStream() {
  if (S.stream) S.stream.abort();
  const ctrl = new AbortController();
  S.stream = ctrl;
  let delay = 1000;
  while (!ctrl.signal.aborted) {
    try {
      const r = await fetch('/v1/cluster/watch', {
        headers: { 'Authorization': 'Bearer ' + S.token }, signal: ctrl.signal, cache: 'no-store', credentials: 'omit',
      });
      if (r.status === 401) { signOut('The node no longer accepts your token. Sign in again.'); return; }
      if (!r.ok) throw new Error('watch: ' + r.status);
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          onBlock(block);
          delay = 1000;
        }
      }
    } catch (e) {
      if (ctrl.signal.aborted) return;
    }
    setLive('reconnecting…', false);
    await new Promise((res) => setTimeout(res, delay));
    delay = Math.min(delay * 2, 10000);
  }
}

function onBlock(block) {
  let kind = 'message';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) kind = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
  }
  if (!data) return;
  const v = JSON.parse(data);
  switch (kind) {
    case 'state':
      S.node = v.node;
      S.nodes = v.nodes;
      S.groups = new Map(v.groups.map((g) => [g.name, g]));
      S.resources = new Map(v.resources.map((r) => [r.name, r]));
      S.haveState = true;
      setLive('live · ' + S.node, true);
      render(true);
      break;
    case 'change':
      if (v.nodes) S.nodes = v.nodes;
      for (const g of v.groups || []) S.groups.set(g.name, g);
      for (const n of v.removedGroups || []) S.groups.delete(n);
      for (const r of v.resources || []) S.resources.set(r.name, r);
      for (const n of v.removedResources || []) S.resources.delete(n);
      render(false, v);
      break;
    case 'etcd':
      S.etcd = v;
      if (view().name === 'cluster') render(false);
      break;
    case 'event':
      onLiveEvent(v);
      break;
  }
}

// ---------- routing ----------

function view() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [p, q] = hash.split('?');
  const parts = p.split('/').map(decodeURIComponent);
  return { name: parts[0] || 'cluster', arg: parts[1] || '', params: new URLSearchParams(q || '') };
}

function route() {
  if (!S.me) return;
  const v = view();
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.view === v.name || (v.name === 'resource' && a.dataset.view === 'resources')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  $('#nav').classList.remove('open');
  $('#menu').setAttribute('aria-expanded', 'false');
  render(true);
}

// render draws the current view; full says whether from scratch (navigation, first
// state) or as an update to a change, which views with inputs apply in place.
function render(fresh, change) {
  const main = $('#main');
  const v = view();
  if (!S.haveState && v.name !== 'registry' && v.name !== 'events') {
    if (fresh) main.replaceChildren(h('h1', { text: 'Loading…' }), h('p', { class: 'sub', text: 'Reading the cluster from ' + (S.node || 'this node') + '.' }));
    return;
  }
  switch (v.name) {
    case 'cluster': renderCluster(main); break;
    case 'groups': fresh || !$('#groups-table') ? renderGroups(main) : updateGroups(change); break;
    case 'resources': fresh || !$('#resources-table') ? renderResources(main) : updateResources(change); break;
    case 'resource': if (fresh) renderResource(main, v.arg, v.params.get('key')); else updateResource(v.arg); break;
    case 'checkpoints': if (fresh || S.haveState) renderCheckpoints(main); break;
    case 'events': if (fresh) renderEvents(main, v.params); break;
    case 'registry': if (fresh) renderRegistry(main, v.params); break;
    default: main.replaceChildren(h('h1', { text: 'No such view' }), h('p', {}, h('a', { href: '#/cluster', text: 'Go to the cluster' })));
  }
}

// ---------- cluster ----------

function countBy(items, f) {
  const m = new Map();
  for (const x of items) m.set(f(x), (m.get(f(x)) || 0) + 1);
  return m;
}
function countText(m) {
  return [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => n + ' ' + k).join(', ') || 'none';
}

function tile(key, value, detail, cls, id) {
  return h('div', { class: 'tile ' + (cls || ''), id }, h('div', { class: 'k', text: key }), h('div', { class: 'v', text: value }), h('div', { class: 'd', text: detail }));
}

// keepFocus runs draw, which rebuilds root, and gives the keyboard focus back to the
// control that had it — found again by its row and its label, else the first control of
// its row (a Pause that became Resume) — so that a live update never throws a keyboard
// user back to the top of the page.
function keepFocus(root, draw) {
  const rowOf = (e) => e.closest('tr[data-node], tr[data-group], tr[data-resource]');
  const a = document.activeElement;
  let want = null;
  if (a && a !== document.body && root.contains(a)) {
    const row = rowOf(a);
    want = { tag: a.tagName, id: a.id, text: a.textContent, row: row ? JSON.stringify({ ...row.dataset }) : null };
  }
  draw();
  if (!want) return;
  const sameRow = (e) => {
    const r = rowOf(e);
    return want.row === null ? r === null : r !== null && JSON.stringify({ ...r.dataset }) === want.row;
  };
  const all = [...root.querySelectorAll('button, a[href], input, select, textarea')].filter(sameRow);
  const hit = all.find((e) => e.tagName === want.tag && (want.id ? e.id === want.id : e.textContent === want.text)) || (want.row !== null && all[0]);
  if (hit) hit.focus();
}

function renderCluster(main) {
  const nodes = S.nodes;
  const up = nodes.filter((n) => n.state === 'Up').length;
  const groups = [...S.groups.values()];
  const res = [...S.resources.values()];
  const coord = (nodes.find((n) => n.coordinator) || {}).name || 'none elected';
  const failedGroups = groups.filter((g) => g.state === 'Failed').length;
  const q = S.etcd && S.etcd.quorum;
  let quorum = tile('Quorum', 'checking…', 'asking the database members', 'warn', 'tile-quorum');
  if (S.etcd) {
    quorum = q.has ? tile('Quorum', 'OK', q.healthy + ' of ' + q.voters + ' members healthy; ' + q.needed + ' needed', 'ok', 'tile-quorum')
      : tile('Quorum', 'Lost', q.healthy + ' of ' + q.voters + ' members healthy; ' + q.needed + ' needed', 'bad', 'tile-quorum');
  }
  const out = [
    h('h1', { text: 'Cluster' }),
    h('p', { class: 'sub' }, 'Connected to ', h('strong', { id: 'connected-node', text: S.node }), ' · coordinator ', h('strong', { text: coord })),
    h('div', { class: 'tiles' },
      tile('Nodes', up + ' of ' + nodes.length + ' Up', countText(countBy(nodes, (n) => n.state)), up === nodes.length ? 'ok' : 'bad', 'tile-nodes'),
      quorum,
      tile('Groups', String(groups.length), countText(countBy(groups, (g) => g.state)), failedGroups ? 'bad' : 'ok', 'tile-groups'),
      tile('Resources', String(res.length), countText(countBy(res, (r) => r.state)), res.some((r) => r.state === 'Failed') ? 'bad' : 'ok', 'tile-resources')),
    h('h2', { text: 'Nodes' }),
    h('div', { class: 'scroll' }, h('table', { id: 'nodes-table' },
      h('thead', {}, h('tr', {}, ['Node', 'State', 'ID', 'Role', 'Groups owned', 'API', full() ? 'Actions' : null].filter(Boolean).map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, nodes.map((n) => {
        const roles = [];
        if (n.name === S.node) roles.push('you are connected here');
        if (n.coordinator) roles.push('coordinator');
        if (n.witness) roles.push('witness');
        const owned = groups.filter((g) => g.node === n.name).length;
        return h('tr', { dataset: { node: n.name } },
          h('th', { scope: 'row', text: n.name }),
          h('td', { class: 'node-state' }, badge(n.state)),
          h('td', { class: 'num', text: n.id }),
          h('td', {}, roles.map((r) => h('span', { class: 'tag', text: r }))),
          h('td', { class: 'num', text: owned }),
          h('td', { class: 'mono', text: n.api }),
          full() ? h('td', {}, h('div', { class: 'actions' },
            n.paused ? actionButton('Resume', 'node-resume', () => nodeAction(n.name, 'resume'))
              : actionButton('Pause', 'node-pause', () => nodeAction(n.name, 'pause'), n.witness))) : null);
      })))),
    h('h2', { text: 'Cluster database (etcd)' }),
  ];
  if (!S.etcd) out.push(h('p', { class: 'sub', text: 'Asking the members for their status…' }));
  else {
    if (S.etcd.error) out.push(h('p', { class: 'error', text: S.etcd.error }));
    if (S.etcd.external) out.push(h('p', { class: 'sub', text: 'An external etcd cluster (--etcd-endpoints).' }));
    out.push(h('div', { class: 'scroll' }, h('table', { id: 'etcd-table' },
      h('thead', {}, h('tr', {}, ['Member', 'Health', 'Role', 'Version', 'DB size', 'Raft term / index', 'Client URL'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, S.etcd.members.map((m) => h('tr', {},
        h('th', { scope: 'row' }, m.name || '(starting)', h('div', { class: 'sub mono', text: m.id })),
        h('td', {}, badge(m.healthy ? 'Healthy' : 'Unhealthy'), m.error ? h('div', { class: 'reason', text: m.error }) : null),
        h('td', {}, m.leader ? h('span', { class: 'tag', text: 'leader' }) : null, m.learner ? h('span', { class: 'tag', text: 'learner' }) : h('span', { class: 'tag', text: 'voter' })),
        h('td', { text: m.version || '–' }),
        h('td', { class: 'num', text: fmtBytes(m.dbSize) }),
        h('td', { class: 'num', text: m.raftTerm ? m.raftTerm + ' / ' + m.raftIndex : '–' }),
        h('td', { class: 'mono', text: (m.clientURLs || []).join(' ') })))))));
  }
  keepFocus(main, () => main.replaceChildren(...out));
  if (!S.painted) {
    S.painted = true;
    // Mark once the frame with the data has been painted (measured by the browser test).
    requestAnimationFrame(() => setTimeout(() => performance.mark('wolfpack-cluster-painted'), 0));
  }
}

function actionButton(label, action, f, disabled) {
  const b = h('button', { type: 'button', dataset: { action }, disabled });
  b.textContent = label;
  b.addEventListener('click', async () => {
    b.disabled = true;
    try { await f(); } finally { b.disabled = false; }
  });
  return b;
}

async function nodeAction(name, action) {
  try {
    await api('POST', '/v1/nodes/' + enc(name) + '/' + action, {});
    toast('Node ' + name + ': ' + action + ' done.');
  } catch (e) { toast('Node ' + name + ': ' + action + ' failed: ' + e.message, true); }
}

// ---------- groups ----------

function groupReason(g) {
  const bad = [...S.resources.values()].filter((r) => r.group === g.name && (r.error || r.state === 'Failed'));
  return bad.map((r) => r.name + ': ' + (r.error || 'failed')).join('; ');
}

function filterBox(id, placeholder, onInput) {
  return h('label', {}, 'Filter', h('input', { id, type: 'search', placeholder, oninput: onInput }));
}

function renderGroups(main) {
  const tbody = h('tbody', {});
  const table = h('table', { id: 'groups-table' },
    h('thead', {}, h('tr', {}, ['Group', 'State', 'Owner node', 'Preferred owners', 'Problem', full() ? 'Actions' : null].filter(Boolean).map((t) => h('th', { scope: 'col', text: t })))),
    tbody);
  for (const g of S.groups.values()) tbody.append(groupRow(g));
  main.replaceChildren(
    h('h1', { text: 'Groups' }),
    h('p', { class: 'sub', text: S.groups.size + ' groups. Owners and states change here as they change in the cluster.' }),
    h('div', { class: 'toolbar' }, filterBox('groups-filter', 'group or node', () => filterRows(table, $('#groups-filter').value))),
    h('div', { class: 'scroll' }, table));
}

function filterRows(table, text) {
  const t = text.trim().toLowerCase();
  for (const tr of table.tBodies[0].rows) tr.hidden = t !== '' && !tr.textContent.toLowerCase().includes(t);
}

function groupRow(g) {
  const tr = h('tr', { dataset: { group: g.name } });
  fillGroupRow(tr, g);
  return tr;
}

function fillGroupRow(tr, g) {
  const cells = [
    h('th', { scope: 'row', text: g.name }),
    h('td', { class: 'group-state' }, badge(g.state)),
    h('td', { class: 'group-owner', text: g.node || '–' }),
    h('td', { text: (g.preferredOwners || []).join(', ') || 'any' }),
    h('td', { class: 'reason', text: groupReason(g) }),
  ];
  if (full()) {
    // The actions cell is kept across updates, so that a half-made choice survives.
    let act = tr.querySelector('td.group-actions');
    if (!act) act = groupActions(g.name);
    else refreshMoveTargets(act, g);
    cells.push(act);
  }
  tr.replaceChildren(...cells);
}

function moveTargets(g) {
  return S.nodes.filter((n) => n.state === 'Up' && !n.witness && n.name !== g.node).map((n) => n.name);
}

function refreshMoveTargets(act, g) {
  const sel = act.querySelector('select');
  const cur = sel.value;
  const targets = moveTargets(g);
  sel.replaceChildren(...targets.map((n) => h('option', { value: n, text: n })));
  if (targets.includes(cur)) sel.value = cur;
}

function groupActions(name) {
  const g = S.groups.get(name);
  const sel = h('select', { 'aria-label': 'Move ' + name + ' to node', class: 'move-target' });
  const td = h('td', { class: 'group-actions' }, h('div', { class: 'actions' },
    actionButton('Bring online', 'group-online', () => groupAction(name, 'online')),
    actionButton('Take offline', 'group-offline', () => groupAction(name, 'offline')),
    sel,
    actionButton('Move', 'group-move', () => groupAction(name, 'move', { node: sel.value }))));
  refreshMoveTargets(td, g);
  return td;
}

const verbs = { online: 'bring online', offline: 'take offline', move: 'move' };

async function groupAction(name, action, body) {
  if (action === 'move' && !body.node) { toast('No node to move ' + name + ' to: no other node is Up.', true); return; }
  try {
    await api('POST', '/v1/groups/' + enc(name) + '/' + action, body || {});
    toast('Group ' + name + ': ' + verbs[action] + (body && body.node ? ' to ' + body.node : '') + ' requested.');
    if (action === 'move' || action === 'online') watchOutcome(name);
  } catch (e) {
    toast('Could not ' + verbs[action] + ' group ' + name + ': ' + e.message, true);
  }
}

// watchOutcome reports a group that fails after a move or online: with the reason its
// resources give, not only "Failed".
function watchOutcome(name) {
  const until = Date.now() + 60000;
  const check = () => {
    const g = S.groups.get(name);
    if (!g || Date.now() > until) return;
    if (g.state === 'Failed') { toast('Group ' + name + ' failed on ' + (g.node || 'no node') + ': ' + (groupReason(g) || 'no reason given'), true); return; }
    if (g.state === 'Online') return;
    setTimeout(check, 500);
  };
  setTimeout(check, 500);
}

function updateGroups(change) {
  const table = $('#groups-table');
  const tbody = table.tBodies[0];
  const rows = new Map([...tbody.rows].map((tr) => [tr.dataset.group, tr]));
  const changed = new Set((change && change.groups || []).map((g) => g.name));
  if (change && (change.nodes || change.resources)) for (const n of S.groups.keys()) changed.add(n);
  for (const n of (change && change.removedGroups) || []) { const tr = rows.get(n); if (tr) tr.remove(); }
  for (const name of changed) {
    const g = S.groups.get(name);
    if (!g) continue;
    const tr = rows.get(name);
    if (tr) fillGroupRow(tr, g);
    else tbody.append(groupRow(g));
  }
  filterRows(table, $('#groups-filter').value);
}

// ---------- resources ----------

function renderResources(main) {
  const tbody = h('tbody', {});
  const table = h('table', { id: 'resources-table' },
    h('thead', {}, h('tr', {}, ['Resource', 'State', 'Type', 'Group', 'Node', 'Last failure', full() ? 'Actions' : null].filter(Boolean).map((t) => h('th', { scope: 'col', text: t })))),
    tbody);
  for (const r of S.resources.values()) tbody.append(resourceRow(r));
  main.replaceChildren(
    h('h1', { text: 'Resources' }),
    h('p', { class: 'sub', text: S.resources.size + ' resources. Open one for its properties, dependencies and checkpoints.' }),
    h('div', { class: 'toolbar' }, filterBox('resources-filter', 'resource, group, type or node', () => filterRows(table, $('#resources-filter').value))),
    h('div', { class: 'scroll' }, table));
}

function resourceRow(r) {
  const tr = h('tr', { dataset: { resource: r.name } });
  fillResourceRow(tr, r);
  return tr;
}

function fillResourceRow(tr, r) {
  tr.replaceChildren(
    h('th', { scope: 'row' }, h('a', { href: '#/resource/' + enc(r.name), text: r.name })),
    h('td', { class: 'resource-state' }, badge(r.state)),
    h('td', { text: r.type }),
    h('td', { text: r.group }),
    h('td', { text: r.node || '–' }),
    h('td', { class: 'reason', text: r.error || '' }),
    full() ? h('td', {}, h('div', { class: 'actions' },
      actionButton('Online', 'resource-online', () => resourceAction(r.name, 'online')),
      actionButton('Offline', 'resource-offline', () => resourceAction(r.name, 'offline')))) : null);
}

function updateResources(change) {
  const table = $('#resources-table');
  const tbody = table.tBodies[0];
  const rows = new Map([...tbody.rows].map((tr) => [tr.dataset.resource, tr]));
  for (const n of (change && change.removedResources) || []) { const tr = rows.get(n); if (tr) tr.remove(); }
  for (const r of (change && change.resources) || []) {
    const tr = rows.get(r.name);
    if (tr) fillResourceRow(tr, r);
    else tbody.append(resourceRow(r));
  }
  filterRows(table, $('#resources-filter').value);
}

async function resourceAction(name, action, body) {
  try {
    await api('POST', '/v1/resources/' + enc(name) + '/' + action, body || {});
    toast('Resource ' + name + ': ' + action + ' requested.');
  } catch (e) { toast('Resource ' + name + ': ' + action + ' failed: ' + e.message, true); }
}

async function loadTypes() {
  if (!S.types) S.types = await api('GET', '/v1/resourcetypes');
  return S.types;
}

function renderResource(main, name, key) {
  const r = S.resources.get(name);
  if (!r) {
    main.replaceChildren(h('h1', { text: name }), h('p', { class: 'error', text: 'There is no resource ' + name + '.' }));
    return;
  }
  main.replaceChildren(
    h('p', {}, h('a', { href: '#/resources', text: '← Resources' })),
    h('h1', {}, r.name + ' ', h('span', { id: 'resource-state' }, badge(r.state))),
    h('div', { id: 'resource-facts' }),
    h('h2', { text: 'Dependencies' }),
    h('div', { id: 'resource-deps' }),
    h('h2', { text: 'Properties' }),
    h('div', { id: 'resource-props' }),
    h('h2', { text: 'Private properties' }),
    h('div', { id: 'resource-priv' }),
    h('h2', { id: 'checkpoints', text: 'Registry checkpoints' }),
    h('div', { id: 'resource-checkpoints' }, h('p', { class: 'sub', text: 'Loading…' })));
  updateResource(name);
  renderProps(r);
  renderPrivate(r);
  loadCheckpoints(r.name, key);
}

function updateResource(name) {
  const r = S.resources.get(name);
  if (!r || !$('#resource-facts')) return;
  $('#resource-state').replaceChildren(badge(r.state));
  fill($('#resource-facts'), h('dl', { class: 'facts' },
    h('dt', { text: 'Type' }), h('dd', { text: r.type }),
    h('dt', { text: 'Group' }), h('dd', { text: r.group }),
    h('dt', { text: 'Node' }), h('dd', { text: r.node || '–' }),
    h('dt', { text: 'State' }), h('dd', {}, badge(r.state)),
    h('dt', { text: 'Last failure' }), h('dd', { class: r.error ? 'reason' : '', id: 'resource-error', text: r.error || 'none' }),
    h('dt', { text: 'Possible owners' }), h('dd', { text: (r.possibleOwners || []).join(', ') || 'every node' })),
  full() ? h('div', { class: 'actions' },
    actionButton('Bring online', 'resource-online', () => resourceAction(r.name, 'online')),
    actionButton('Take offline', 'resource-offline', () => resourceAction(r.name, 'offline')),
    actionButton('Simulate failure', 'resource-fail', () => resourceAction(r.name, 'fail'))) : null);
  $('#resource-deps').replaceChildren(depGraph(r));
}

// depGraph draws the resource's group as layers: a resource right of what it depends on.
function depGraph(r) {
  const inGroup = [...S.resources.values()].filter((x) => x.group === r.group);
  const byName = new Map(inGroup.map((x) => [x.name.toLowerCase(), x]));
  const depth = new Map();
  const level = (x, seen = new Set()) => {
    const k = x.name.toLowerCase();
    if (depth.has(k)) return depth.get(k);
    if (seen.has(k)) return 0;
    seen.add(k);
    let d = 0;
    for (const dn of x.dependencies || []) { const y = byName.get(dn.toLowerCase()); if (y) d = Math.max(d, level(y, seen) + 1); }
    depth.set(k, d);
    return d;
  };
  inGroup.forEach((x) => level(x));
  const cols = [];
  for (const x of inGroup) { const d = depth.get(x.name.toLowerCase()); (cols[d] = cols[d] || []).push(x); }
  const W = 170, H = 34, GX = 60, GY = 14;
  const pos = new Map();
  cols.forEach((col, i) => col.forEach((x, j) => pos.set(x.name.toLowerCase(), { x: 10 + i * (W + GX), y: 10 + j * (H + GY) })));
  const width = 20 + cols.length * (W + GX) - GX;
  const height = 20 + Math.max(...cols.map((c) => c.length)) * (H + GY) - GY;
  const ns = 'http://www.w3.org/2000/svg';
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svg = el('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Dependencies of the resources of group ' + r.group });
  const defs = el('defs', {});
  const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '10', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' });
  marker.append(el('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }));
  defs.append(marker);
  svg.append(defs);
  for (const x of inGroup) {
    for (const dn of x.dependencies || []) {
      const a = pos.get(dn.toLowerCase()), b = pos.get(x.name.toLowerCase());
      if (!a || !b) continue;
      svg.append(el('path', { class: 'edge', d: `M ${a.x + W} ${a.y + H / 2} C ${a.x + W + GX / 2} ${a.y + H / 2}, ${b.x - GX / 2} ${b.y + H / 2}, ${b.x} ${b.y + H / 2}`, 'marker-end': 'url(#arrow)' }));
    }
  }
  for (const x of inGroup) {
    const p = pos.get(x.name.toLowerCase());
    const g = el('g', { class: 'box' + (x.name === r.name ? ' me' : '') });
    g.append(el('rect', { x: p.x, y: p.y, width: W, height: H, rx: 5 }));
    const label = x.name.length > 20 ? x.name.slice(0, 19) + '…' : x.name;
    g.append(el('text', { x: p.x + 8, y: p.y + 14 }, label));
    g.append(el('text', { x: p.x + 8, y: p.y + 28 }, x.state));
    g.append(el('title', {}, x.name + ' (' + x.state + ')'));
    svg.append(g);
  }
  const deps = r.dependencies || [];
  const dependents = inGroup.filter((x) => (x.dependencies || []).some((d) => d.toLowerCase() === r.name.toLowerCase())).map((x) => x.name);
  return h('div', {},
    h('p', { class: 'sub', id: 'deps-text', text: 'Depends on: ' + (deps.join(', ') || 'nothing') + '. Needed by: ' + (dependents.join(', ') || 'nothing') + '.' }),
    h('div', { class: 'graph' }, svg));
}

function propsTable(rows, id) {
  return h('div', { class: 'scroll' }, h('table', { class: 'props', id },
    h('thead', {}, h('tr', {}, ['Property', 'Value', 'About'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows)));
}

function renderProps(r) {
  const inputs = new Map();
  const rows = (r.properties || []).map((p) => {
    const inp = h('input', { value: p.value, 'aria-label': p.name, readonly: !full(), inputmode: p.type === 'S' ? undefined : 'numeric', dataset: { prop: p.name } });
    inputs.set(p.name, { inp, old: p.value });
    return h('tr', {}, h('th', { scope: 'row', text: p.name }), h('td', {}, inp), h('td', { class: 'desc', text: { D: 'DWORD', S: 'string', M: 'multi-string', I: 'integer' }[p.type] || p.type }));
  });
  fill($('#resource-props'), propsTable(rows, 'props-table'),
    full() ? h('p', {}, actionButton('Save properties', 'resource-prop', () => saveProps(r.name, 'prop', inputs))) : null);
}

async function renderPrivate(r) {
  let types = [];
  try { types = await loadTypes(); } catch (e) { /* the editor falls back to the set values */ }
  const t = types.find((x) => x.name.toLowerCase() === r.type.toLowerCase()) || { properties: [] };
  const cur = new Map((r.private || []).map((p) => [p.name.toLowerCase(), p]));
  const inputs = new Map();
  const rows = [];
  const row = (name, value, decl) => {
    let inp;
    if (decl && decl.values && decl.values.length) {
      inp = h('select', { 'aria-label': name, disabled: !full(), dataset: { prop: name } },
        h('option', { value: '', text: '(default: ' + (decl.default || 'none') + ')' }),
        decl.values.map((v) => h('option', { value: v, text: v })));
      inp.value = value;
    } else if (decl && decl.format === 'MultiString') {
      inp = h('textarea', { 'aria-label': name, readonly: !full(), dataset: { prop: name } });
      inp.value = value;
    } else {
      inp = h('input', { value, 'aria-label': name, readonly: !full(), inputmode: decl && decl.format === 'DWORD' ? 'numeric' : undefined, dataset: { prop: name } });
    }
    inputs.set(name, { inp, old: value });
    const about = decl ? [decl.format, decl.required ? 'required' : null, decl.default ? 'default ' + decl.default : null].filter(Boolean).join(', ') + (decl.description ? ' — ' + decl.description : '') : 'not declared by the type';
    rows.push(h('tr', {}, h('th', { scope: 'row', text: name }), h('td', {}, inp), h('td', { class: 'desc', text: about })));
  };
  for (const d of t.properties || []) {
    const p = cur.get(d.name.toLowerCase());
    row(d.name, p ? p.value : '', d);
    cur.delete(d.name.toLowerCase());
  }
  for (const p of cur.values()) row(p.name, p.value, null);
  fill($('#resource-priv'), 
    h('p', { class: 'sub', text: 'The names ' + r.type + ' declares' + (t.openProperties ? ' (it takes other names too, passed to its program)' : '') + ', and the cluster\u2019s checkpoint policy.' }),
    propsTable(rows, 'priv-table'),
    full() ? h('p', {}, actionButton('Save private properties', 'resource-priv', () => saveProps(r.name, 'priv', inputs))) : null);
}

async function saveProps(name, kind, inputs) {
  const props = {};
  for (const [k, { inp, old }] of inputs) if (inp.value !== old) props[k] = inp.value;
  if (!Object.keys(props).length) { toast('Nothing changed.'); return; }
  try {
    await api('POST', '/v1/resources/' + enc(name) + '/' + kind, { props });
    for (const [k, v] of Object.entries(props)) inputs.get(k).old = v;
    toast('Saved ' + Object.keys(props).join(', ') + ' of ' + name + '.');
  } catch (e) { toast('Could not save the properties of ' + name + ': ' + e.message, true); }
}

// ---------- checkpoints ----------

function renderCheckpoints(main) {
  const withCp = [...S.resources.values()].filter((r) => (r.checkpoints || []).length);
  main.replaceChildren(
    h('h1', { text: 'Registry checkpoints' }),
    h('p', { class: 'sub', text: 'Resources whose registry subtrees the cluster copies to the node that runs them next. Open one for its versions, diffs, drift and rollback.' }),
    withCp.length ? h('div', { class: 'scroll' }, h('table', { id: 'checkpoint-resources' },
      h('thead', {}, h('tr', {}, ['Resource', 'State', 'Node', 'Checkpointed keys'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, withCp.map((r) => h('tr', {},
        h('th', { scope: 'row' }, h('a', { href: '#/resource/' + enc(r.name) + '?key=' + enc(r.checkpoints[0]), text: r.name })),
        h('td', {}, badge(r.state)), h('td', { text: r.node || '–' }),
        h('td', { class: 'mono', text: r.checkpoints.join('\n') }))))))
      : h('p', { class: 'empty', text: 'No resource has registry checkpoints.' }));
}

async function loadCheckpoints(name, openKey) {
  const box = $('#resource-checkpoints');
  let list;
  try { list = await api('GET', '/v1/resources/' + enc(name) + '/checkpoints'); } catch (e) {
    box.replaceChildren(h('p', { class: 'error', text: 'Cannot list the checkpoints: ' + e.message }));
    return;
  }
  if (!list.length) { box.replaceChildren(h('p', { class: 'empty', text: 'No registry key is checkpointed for this resource.' })); return; }
  const detail = h('div', { id: 'checkpoint-detail' });
  box.replaceChildren(
    h('div', { class: 'scroll' }, h('table', { id: 'checkpoint-keys' },
      h('thead', {}, h('tr', {}, ['Key (under HKEY_LOCAL_MACHINE)', 'Newest version', 'Time', 'Node', 'Size', ''].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, list.map((c) => h('tr', {},
        h('th', { scope: 'row', class: 'mono keypath', text: c.key }),
        h('td', { class: 'num', text: c.version || 'none yet' }),
        h('td', { text: fmtTime(c.time) }), h('td', { text: c.node || '–' }), h('td', { class: 'num', text: c.version ? fmtBytes(c.size) : '–' }),
        h('td', {}, h('button', { type: 'button', dataset: { key: c.key }, class: 'history', onclick: () => loadHistory(name, c.key, detail), text: 'Versions' }))))))),
    h('p', {}, h('button', { type: 'button', id: 'verify', onclick: () => verify(name), text: 'Check drift on the running node' })),
    h('div', { id: 'drift' }),
    detail);
  const k = openKey && list.find((c) => c.key.toLowerCase() === openKey.toLowerCase());
  if (k || list.length === 1) loadHistory(name, (k || list[0]).key, detail);
}

async function loadHistory(name, key, box) {
  box.replaceChildren(h('p', { class: 'sub', text: 'Loading the versions of ' + key + '…' }));
  let vs;
  try { vs = await api('GET', '/v1/resources/' + enc(name) + '/checkpoints/history?key=' + enc(key)); } catch (e) {
    box.replaceChildren(h('p', { class: 'error', text: 'Cannot read the versions: ' + e.message }));
    return;
  }
  vs = vs.slice().reverse(); // newest first
  const diffOut = h('div', { id: 'diff' });
  const pickA = (v) => h('input', { type: 'radio', name: 'va', value: v.number, 'aria-label': 'compare from version ' + v.number });
  const pickB = (v) => h('input', { type: 'radio', name: 'vb', value: v.number, 'aria-label': 'compare to version ' + v.number });
  const rows = vs.map((v) => h('tr', { dataset: { version: v.number } },
    h('th', { scope: 'row', class: 'num', text: v.number }),
    h('td', { text: fmtTime(v.time) }), h('td', { text: v.node }), h('td', { class: 'num', text: fmtBytes(v.size) }),
    h('td', { class: 'mono', title: v.hash, text: (v.hash || '').slice(0, 16) }),
    h('td', { text: v.rolledBackFrom ? 'rollback of ' + v.rolledBackFrom : '' }),
    h('td', {}, pickA(v)), h('td', {}, pickB(v)),
    full() ? h('td', {}, actionButton('Roll back to this', 'rollback', () => rollback(name, key, v.number, box))) : null));
  box.replaceChildren(
    h('h3', {}, 'Versions of ', h('span', { class: 'mono', text: key })),
    h('div', { class: 'scroll' }, h('table', { id: 'versions-table' },
      h('thead', {}, h('tr', {}, ['Version', 'Time', 'Node', 'Size', 'SHA-256', 'Origin', 'From', 'To', full() ? 'Rollback' : null].filter(Boolean).map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, rows))),
    h('p', {}, h('button', { type: 'button', id: 'show-diff', onclick: () => showDiff(name, key, box, diffOut), text: 'Show the .reg difference' })),
    diffOut);
  // Preselect the two newest versions.
  const a = box.querySelectorAll('input[name=va]'), b = box.querySelectorAll('input[name=vb]');
  if (vs.length >= 2) { a[1].checked = true; b[0].checked = true; } else if (vs.length === 1) { a[0].checked = true; b[0].checked = true; }
}

function regText(text) {
  const pre = h('pre', { class: 'reg' });
  for (const line of text.split('\n')) {
    let cls = '';
    if (line.startsWith('[-')) cls = 'del';
    else if (line.startsWith('[')) cls = 'key';
    else if (/=-\s*$/.test(line)) cls = 'del';
    pre.append(cls ? h('span', { class: cls, text: line }) : line, '\n');
  }
  return pre;
}

async function showDiff(name, key, box, out) {
  const a = box.querySelector('input[name=va]:checked'), b = box.querySelector('input[name=vb]:checked');
  if (!a || !b) { toast('Choose two versions.', true); return; }
  try {
    const d = await api('GET', '/v1/resources/' + enc(name) + '/checkpoints/diff?key=' + enc(key) + '&v1=' + a.value + '&v2=' + b.value);
    out.replaceChildren(h('h3', { text: 'From version ' + d.v1 + ' to version ' + d.v2 }),
      d.text.trim() ? regText(d.text) : h('p', { class: 'sub', text: 'The two versions are the same.' }));
  } catch (e) { out.replaceChildren(h('p', { class: 'error', text: 'Cannot diff: ' + e.message })); }
}

async function verify(name) {
  const out = $('#drift');
  out.replaceChildren(h('p', { class: 'sub', text: 'Comparing the running node\u2019s registry with the newest checkpoints…' }));
  try {
    const ds = await api('GET', '/v1/resources/' + enc(name) + '/checkpoints/verify');
    out.replaceChildren(...ds.map((d) => h('div', {},
      h('p', {}, h('span', { class: 'mono', text: d.key }), ' on ', h('strong', { text: d.node }), ': ',
        badge(d.inSync ? 'OK' : 'Warning'), ' ', d.inSync ? 'matches version ' + d.version : (d.version ? 'has drifted from version ' + d.version : 'never captured')),
      d.diff ? regText(d.diff) : null)));
  } catch (e) { out.replaceChildren(h('p', { class: 'error', text: 'Cannot check drift: ' + e.message })); }
}

async function rollback(name, key, version, box) {
  if (!confirm('Make version ' + version + ' of ' + key + ' the newest, and restore it on the node that runs ' + name + '?')) return;
  try {
    const a = await api('POST', '/v1/resources/' + enc(name) + '/checkpoints/rollback', { key, version });
    if (a.restored) toast('Version ' + version + ' is now version ' + a.version.number + ', restored on ' + a.node + '.');
    else if (a.restoreError) toast('Version ' + version + ' is now version ' + a.version.number + ', but the restore on ' + a.node + ' failed: ' + a.restoreError, true);
    else toast('Version ' + version + ' is now version ' + a.version.number + '; it is restored when ' + name + ' next comes online.');
    loadHistory(name, key, box);
  } catch (e) { toast('Rollback failed: ' + e.message, true); }
}

// ---------- events ----------

const levelName = (l) => ({ 0: 'Information', 1: 'Critical', 2: 'Error', 3: 'Warning', 4: 'Information', 5: 'Verbose' })[l] || 'Level ' + l;

function renderEvents(main, params) {
  const f = S.eventFilter;
  for (const k of Object.keys(f)) if (params.has(k)) f[k] = params.get(k);
  const sel = (id, label, opts, value) => {
    const s = h('select', { id }, opts.map(([v, t]) => h('option', { value: v, text: t })));
    s.value = value;
    return h('label', {}, label, s);
  };
  const form = h('form', { class: 'toolbar', id: 'events-form' },
    sel('ev-node', 'Node', [['', 'All nodes'], ...S.nodes.map((n) => [n.name, n.name])], f.node),
    sel('ev-log', 'Log', [['', 'All logs'], ['System', 'System'], ['Application', 'Application']], f.log),
    h('label', {}, 'Source', h('input', { id: 'ev-source', value: f.source, placeholder: 'ClusSvc', size: 12 })),
    h('label', {}, 'Event ID', h('input', { id: 'ev-id', value: f.id, inputmode: 'numeric', size: 6 })),
    sel('ev-level', 'Level', [['', 'Any level'], ['Critical', 'Critical'], ['Error', 'Error'], ['Warning', 'Warning'], ['Information', 'Information'], ['Verbose', 'Verbose']], f.level),
    sel('ev-count', 'Newest', [['50', '50'], ['200', '200'], ['1000', '1000']], f.c),
    h('button', { type: 'submit', class: 'primary', id: 'ev-apply', text: 'Apply' }));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    Object.assign(f, { node: $('#ev-node').value, log: $('#ev-log').value, source: $('#ev-source').value.trim(), id: $('#ev-id').value.trim(), level: $('#ev-level').value, c: $('#ev-count').value });
    const q = new URLSearchParams(Object.entries(f).filter(([, v]) => v));
    const hash = '#/events' + (q.toString() ? '?' + q : '');
    if (location.hash === hash) loadEvents(); else location.hash = hash;
  });
  main.replaceChildren(
    h('h1', { text: 'Events' }),
    h('p', { class: 'sub', text: 'The event logs of every node, newest first. New events appear as they are written.' }),
    form,
    h('div', { id: 'events-note' }),
    h('div', { class: 'scroll' }, h('table', { id: 'events-table' },
      h('thead', {}, h('tr', {}, ['Time', 'Node', 'Log', 'Level', 'Source', 'Event ID', 'Description', ''].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}))));
  loadEvents();
}

async function loadEvents() {
  const f = S.eventFilter;
  const q = new URLSearchParams(Object.entries(f).filter(([, v]) => v));
  const tbody = $('#events-table').tBodies[0];
  tbody.replaceChildren(h('tr', {}, h('td', { colspan: 8, class: 'empty', text: 'Reading the logs of every node…' })));
  try {
    const ans = await api('GET', '/v1/cluster/events?' + q);
    S.events = ans.events;
    $('#events-note').replaceChildren(...(ans.unreachable || []).map((u) => h('p', { class: 'notice', text: 'Not included: ' + u.node + ' (' + u.error + ')' })));
    tbody.replaceChildren(...ans.events.flatMap((e) => eventRows(e, false)));
    if (!ans.events.length) tbody.append(h('tr', {}, h('td', { colspan: 8, class: 'empty', text: 'No event matches.' })));
  } catch (e) {
    tbody.replaceChildren(h('tr', {}, h('td', { colspan: 8, class: 'error', text: 'Cannot read the events: ' + e.message })));
  }
}

// holders reads the data items of event 1024 (Holder<n>ProcessName, …ProcessId,
// …UserId, …Key): the processes whose handles blocked the restore.
function holders(e) {
  const m = new Map();
  for (const d of e.data || []) {
    const x = /^Holder(\d+)(ProcessName|ProcessId|UserId|Key)$/.exec(d.name);
    if (!x) continue;
    if (!m.has(x[1])) m.set(x[1], {});
    m.get(x[1])[x[2]] = d.value;
  }
  return [...m.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

function holdersTable(hs) {
  return h('table', { class: 'holders' },
    h('thead', {}, h('tr', {}, ['Process', 'PID', 'User ID', 'Key it holds'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, hs.map((x) => h('tr', { class: 'holder' },
      h('td', { text: x.ProcessName || '?' }), h('td', { class: 'num', text: x.ProcessId || '?' }),
      h('td', { class: 'num', text: x.UserId || '?' }), h('td', { class: 'mono keypath', text: x.Key || '?' })))));
}

function eventRows(e, isNew) {
  const hs = holders(e);
  const detail = h('tr', { class: 'event-detail', hidden: true },
    h('td', { colspan: 8 },
      h('p', { text: e.message || (e.strings || []).join(' ') }),
      hs.length ? h('div', {}, h('strong', { text: 'Processes holding handles in the subtree:' }), holdersTable(hs)) : null,
      h('dl', { class: 'facts' },
        h('dt', { text: 'Record' }), h('dd', { text: e.recordId }),
        h('dt', { text: 'Category' }), h('dd', { text: e.category || 'None' }),
        h('dt', { text: 'Computer' }), h('dd', { text: e.computer }),
        (e.data || []).flatMap((d) => [h('dt', { text: d.name }), h('dd', { class: 'mono keypath', text: d.value })]))));
  const toggle = h('button', { type: 'button', 'aria-expanded': 'false', text: 'Details' });
  toggle.addEventListener('click', () => {
    detail.hidden = !detail.hidden;
    toggle.setAttribute('aria-expanded', String(!detail.hidden));
  });
  const lvl = levelName(e.level);
  const row = h('tr', { class: isNew ? 'event new' : 'event', dataset: { node: e.node, eventId: e.eventId } },
    h('td', { text: fmtTime(e.timeCreated) }), h('td', { text: e.node }), h('td', { text: e.log }),
    h('td', {}, badge(lvl)), h('td', { text: e.source }), h('td', { class: 'num', text: e.eventId }),
    h('td', {}, e.message || (e.strings || []).join(' '),
      hs.length ? h('div', { class: 'reason holder-summary', text: 'Held by: ' + hs.map((x) => (x.ProcessName || '?') + ' (pid ' + (x.ProcessId || '?') + ', uid ' + (x.UserId || '?') + ') on ' + (x.Key || '?')).join('; ') }) : null),
    h('td', {}, toggle));
  return [row, detail];
}

function matches(e) {
  const f = S.eventFilter;
  if (f.node && f.node.toLowerCase() !== e.node.toLowerCase()) return false;
  if (f.log && f.log.toLowerCase() !== (e.log || '').toLowerCase()) return false;
  if (f.source && f.source.toLowerCase() !== (e.source || '').toLowerCase()) return false;
  if (f.id && String(e.eventId) !== f.id) return false;
  if (f.level && levelName(e.level) !== f.level) return false;
  return true;
}

function onLiveEvent(e) {
  if (view().name !== 'events' || !S.events || !matches(e)) return;
  const tbody = $('#events-table').tBodies[0];
  const empty = tbody.querySelector('td.empty');
  if (empty) empty.parentElement.remove();
  S.events.unshift(e);
  tbody.prepend(...eventRows(e, true));
}

// ---------- registry ----------

const REG_TYPES = ['REG_NONE', 'REG_SZ', 'REG_EXPAND_SZ', 'REG_BINARY', 'REG_DWORD', 'REG_DWORD_BIG_ENDIAN', 'REG_LINK', 'REG_MULTI_SZ',
  'REG_RESOURCE_LIST', 'REG_FULL_RESOURCE_DESCRIPTOR', 'REG_RESOURCE_REQUIREMENTS_LIST', 'REG_QWORD'];
const typeName = (t) => REG_TYPES[t] || 'type ' + t;

function b64bytes(s) {
  const bin = atob(s || '');
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
function bytesB64(b) {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}
function utf16(b) {
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode(b[i] | (b[i + 1] << 8));
  return s;
}
function toUtf16(s) {
  const out = new Uint8Array(s.length * 2 + 2);
  for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); out[2 * i] = c & 255; out[2 * i + 1] = c >> 8; }
  return out;
}
const hex = (b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

function valueText(v) {
  const b = b64bytes(v.data);
  switch (v.type) {
    case 1: case 2: case 6: return utf16(b).replace(/\0+$/, '');
    case 7: return utf16(b).replace(/\0+$/, '').split('\0').join('\n');
    case 4: if (b.length === 4) { const n = new DataView(b.buffer).getUint32(0, true); return '0x' + n.toString(16).padStart(8, '0') + ' (' + n + ')'; } break;
    case 5: if (b.length === 4) { const n = new DataView(b.buffer).getUint32(0, false); return '0x' + n.toString(16).padStart(8, '0') + ' (' + n + ')'; } break;
    case 11: if (b.length === 8) { const n = new DataView(b.buffer).getBigUint64(0, true); return '0x' + n.toString(16).padStart(16, '0') + ' (' + n + ')'; } break;
  }
  return hex(b) || '(zero-length binary value)';
}

function editText(v) {
  const b = b64bytes(v.data);
  switch (v.type) {
    case 1: case 2: return utf16(b).replace(/\0+$/, '');
    case 7: return utf16(b).replace(/\0+$/, '').split('\0').join('\n');
    case 4: if (b.length === 4) return String(new DataView(b.buffer).getUint32(0, true)); break;
    case 11: if (b.length === 8) return String(new DataView(b.buffer).getBigUint64(0, true)); break;
  }
  return hex(b);
}

function encodeValue(type, text) {
  switch (type) {
    case 1: case 2: return toUtf16(text);
    case 7: { const parts = text.split('\n').filter((s) => s !== ''); return toUtf16(parts.join('\0') + (parts.length ? '\0' : '')); }
    case 4: case 11: {
      const t = text.trim();
      if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(t)) throw new Error('a number, decimal or 0x hex');
      const n = BigInt(t);
      const out = new Uint8Array(type === 4 ? 4 : 8);
      if (n >= (type === 4 ? 1n << 32n : 1n << 64n)) throw new Error('the number is too large for ' + typeName(type));
      const dv = new DataView(out.buffer);
      if (type === 4) dv.setUint32(0, Number(n), true); else dv.setBigUint64(0, n, true);
      return out;
    }
    default: {
      const t = text.replace(/[\s,]/g, '');
      if (!/^([0-9a-f]{2})*$/i.test(t)) throw new Error('hexadecimal bytes, such as 01 a0 ff');
      const out = new Uint8Array(t.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
      return out;
    }
  }
}

function regPath(...parts) { return parts.filter(Boolean).join('\\'); }

function renderRegistry(main, params) {
  const R = S.reg;
  const nodeParam = params.get('node');
  R.node = nodeParam || R.node || S.node;
  if (params.has('path')) R.sel = params.get('path');
  const nodeSel = h('select', { id: 'reg-node', 'aria-label': 'Node' }, S.nodes.map((n) => h('option', { value: n.name, text: n.name + (n.state !== 'Up' ? ' (' + n.state + ')' : '') })));
  if (!S.nodes.length) nodeSel.append(h('option', { value: S.node, text: S.node }));
  nodeSel.value = R.node;
  nodeSel.addEventListener('change', () => { R.node = nodeSel.value; R.open = new Set(); R.sel = ''; location.hash = '#/registry?node=' + enc(R.node); });
  const pathIn = h('input', { id: 'reg-path', value: R.sel, placeholder: 'HKLM\\SOFTWARE\\…', size: 48, spellcheck: 'false' });
  const go = h('form', { class: 'toolbar', id: 'reg-form' },
    h('label', {}, 'Node', nodeSel),
    h('label', {}, 'Key', pathIn),
    h('button', { type: 'submit', id: 'reg-go', class: 'primary', text: 'Open' }));
  go.addEventListener('submit', (e) => {
    e.preventDefault();
    openKeyPath(pathIn.value.trim());
  });
  const tree = h('div', { class: 'tree', id: 'reg-tree', role: 'tree', 'aria-label': 'Keys of ' + R.node });
  main.replaceChildren(
    h('h1', { text: 'Registry' }),
    h('p', { class: 'sub', text: 'The registry of any node, read through the node this page talks to. Handles show who holds each key open.' }),
    go,
    h('div', { class: 'regpane' }, tree, h('div', { id: 'reg-key' }, h('p', { class: 'empty', text: 'Choose a key.' }))));
  const ul = h('ul', { role: 'group' });
  tree.append(ul);
  for (const root of ['HKEY_LOCAL_MACHINE', 'HKEY_USERS']) ul.append(treeItem(root, root));
  if (R.sel) openKeyPath(R.sel);
}

function normRoot(p) {
  return p.replace(/^HKLM(\\|$)/i, 'HKEY_LOCAL_MACHINE$1').replace(/^HKU(\\|$)/i, 'HKEY_USERS$1');
}

function treeItem(path, label) {
  const li = h('li', { role: 'treeitem', 'aria-expanded': 'false', dataset: { path } });
  const twisty = h('button', { type: 'button', class: 'twisty', 'aria-label': 'Expand ' + label, text: '▸' });
  const name = h('button', { type: 'button', class: 'keyname', text: label });
  twisty.addEventListener('click', () => toggleKey(li));
  name.addEventListener('click', () => selectKey(path));
  li.append(twisty, name);
  return li;
}

async function toggleKey(li, forceOpen) {
  const open = li.getAttribute('aria-expanded') === 'true';
  if (open && !forceOpen) {
    li.setAttribute('aria-expanded', 'false');
    li.querySelector(':scope > button.twisty').textContent = '▸';
    const ul = li.querySelector(':scope > ul');
    if (ul) ul.remove();
    return;
  }
  if (open) return;
  const path = li.dataset.path;
  let key;
  try { key = await api('GET', relay(S.reg.node, '/v1/registry/key?path=' + enc(path))); } catch (e) {
    toast('Cannot open ' + path + ' on ' + S.reg.node + ': ' + e.message, true);
    return;
  }
  li.setAttribute('aria-expanded', 'true');
  li.querySelector(':scope > button.twisty').textContent = '▾';
  const ul = h('ul', { role: 'group' }, key.subkeys.map((s) => treeItem(regPath(path, s), s)));
  li.append(ul);
  return ul;
}

// openKeyPath expands the tree along path and selects it.
async function openKeyPath(p) {
  if (!p) return;
  p = normRoot(p);
  const parts = p.split('\\').filter(Boolean);
  let li = [...document.querySelectorAll('#reg-tree > ul > li')].find((x) => x.dataset.path.toLowerCase() === parts[0].toLowerCase());
  if (!li) { toast('Keys start with HKLM or HKU (HKEY_LOCAL_MACHINE, HKEY_USERS).', true); return; }
  for (let i = 1; i < parts.length && li; i++) {
    await toggleKey(li, true);
    const next = [...li.querySelectorAll(':scope > ul > li')].find((x) => x.dataset.path.split('\\').pop().toLowerCase() === parts[i].toLowerCase());
    if (!next) break;
    li = next;
  }
  selectKey(p);
}

async function selectKey(path) {
  const R = S.reg;
  R.sel = path;
  $('#reg-path').value = path;
  for (const b of document.querySelectorAll('#reg-tree button.keyname')) b.classList.toggle('sel', b.parentElement.dataset.path === path);
  const out = $('#reg-key');
  out.replaceChildren(h('p', { class: 'sub', text: 'Reading ' + path + ' on ' + R.node + '…' }));
  let key, handles;
  try {
    [key, handles] = await Promise.all([
      api('GET', relay(R.node, '/v1/registry/key?path=' + enc(path))),
      api('GET', relay(R.node, '/v1/registry/handles?path=' + enc(path) + (R.subtree ? '&subtree=1' : ''))),
    ]);
  } catch (e) {
    out.replaceChildren(h('p', { class: 'error', text: path + ' on ' + R.node + ': ' + e.message }));
    return;
  }
  const sub = h('input', { type: 'checkbox', id: 'reg-subtree', checked: R.subtree });
  sub.addEventListener('change', () => { R.subtree = sub.checked; selectKey(path); });
  fill(out,
    h('h2', { class: 'keypath mono', id: 'reg-selected', text: path }),
    h('p', { class: 'sub', text: 'On node ' + R.node + ' · ' + key.subkeys.length + ' subkeys' }),
    h('h3', { text: 'Values' }),
    h('div', { class: 'scroll' }, h('table', { id: 'reg-values' },
      h('thead', {}, h('tr', {}, ['Name', 'Type', 'Data', full() ? '' : null].filter((x) => x !== null).map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, key.values.length ? key.values.map((v) => h('tr', { dataset: { value: v.name } },
        h('th', { scope: 'row', text: v.name || '(Default)' }), h('td', { text: typeName(v.type) }),
        h('td', { class: 'mono keypath', text: valueText(v) }),
        full() ? h('td', {}, h('button', { type: 'button', dataset: { action: 'reg-edit' }, onclick: () => editValue(path, v), text: 'Edit' })) : null))
        : h('tr', {}, h('td', { colspan: 4, class: 'empty', text: 'No values.' }))))),
    full() ? h('p', {}, h('button', { type: 'button', dataset: { action: 'reg-new' }, onclick: () => editValue(path, null), text: 'New value' })) : null,
    h('div', { id: 'reg-edit' }),
    h('h3', { text: 'Open handles' }),
    h('label', {}, sub, ' Include the handles to its subkeys'),
    h('div', { class: 'scroll' }, h('table', { id: 'reg-handles' },
      h('thead', {}, h('tr', {}, ['Process', 'PID', 'User ID', 'Opened as', 'Key', 'Access', 'Since'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, handles.length ? handles.map((x) => h('tr', { class: 'handle', dataset: { pid: x.pid } },
        h('td', { text: x.exe || '?' }), h('td', { class: 'num', text: x.pid }), h('td', { class: 'num', text: x.uid }),
        h('td', { class: 'mono keypath', text: x.openedAs }), h('td', { class: 'mono keypath', text: x.resolved }),
        h('td', { class: 'mono', text: '0x' + (x.access >>> 0).toString(16) }), h('td', { text: fmtTime(x.opened) })))
        : h('tr', {}, h('td', { colspan: 7, class: 'empty', text: 'Nobody holds this key open.' }))))));
}

function editValue(path, v) {
  const box = $('#reg-edit');
  const name = h('input', { id: 'reg-edit-name', value: v ? v.name : '', readonly: !!v, 'aria-label': 'Value name' });
  const type = h('select', { id: 'reg-edit-type', 'aria-label': 'Type' }, [1, 2, 3, 4, 7, 11].map((t) => h('option', { value: t, text: typeName(t) })));
  type.value = String(v ? v.type : 1);
  const data = h('textarea', { id: 'reg-edit-data', 'aria-label': 'Data' });
  data.value = v ? editText(v) : '';
  const form = h('form', { class: 'card' },
    h('h3', { text: v ? 'Edit ' + (v.name || '(Default)') : 'New value' }),
    h('div', { class: 'toolbar' }, h('label', {}, 'Name', name), h('label', {}, 'Type', type)),
    h('label', {}, 'Data (strings as text, one line per string of a multi-string, numbers in decimal or 0x hex, binary as hex bytes)', data),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'reg-save', text: 'Save' }),
      h('button', { type: 'button', text: 'Cancel', onclick: () => box.replaceChildren() })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    let bytes;
    try { bytes = encodeValue(Number(type.value), data.value); } catch (err) { toast('Data: ' + err.message, true); return; }
    try {
      await api('PUT', relay(S.reg.node, '/v1/registry/value'), { path, name: name.value, type: Number(type.value), data: bytesB64(bytes) });
      toast('Saved ' + (name.value || '(Default)') + ' in ' + path + ' on ' + S.reg.node + '.');
      selectKey(path);
    } catch (err) { toast('Could not save the value: ' + err.message, true); }
  });
  box.replaceChildren(form);
  (v ? data : name).focus();
}

// ---------- start ----------

document.addEventListener('DOMContentLoaded', () => {
  $('#signin-form').addEventListener('submit', signIn);
  $('#signout').addEventListener('click', () => signOut('Signed out.'));
  $('#menu').addEventListener('click', () => {
    const open = $('#nav').classList.toggle('open');
    $('#menu').setAttribute('aria-expanded', String(open));
  });
  window.addEventListener('hashchange', route);
  const tok = sessionStorage.getItem(TOKEN_KEY);
  if (!tok) { showSignIn(''); return; }
  S.token = tok;
  // The page draws from the stream at once; who the token belongs to comes alongside.
  api('GET', '/v1/whoami').then(start).catch((e) => {
    if (e.status !== 401) showSignIn('Cannot reach the node: ' + e.message);
  });
});
