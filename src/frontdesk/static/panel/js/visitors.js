// Visitor context (docs/visitor-context.md): the live list of visitors on the site now, and the
// visit's part of the visitor card beside the dialog (source, location, device, visits, the pages
// of this visit, earlier conversations). Live data: `visitor.updated` frames, one row each (deltas).
import { api } from './api.js';
import { explain } from './errors.js';
import { openBanDialog } from './bans.js';
import { language, t } from './i18n.js';
import { clear, extLink, formatClock, formatDateTime, formatDuration, h, parseTime, serverNow } from './dom.js';
import { inviteBox } from './invitations.js';

const FIELD_LABELS = {
  name: 'info.name', email: 'info.email', phone: 'info.phone', page: 'info.page', source: 'info.source',
  location: 'info.location', device: 'info.device', visits: 'info.visits', 'time-on-site': 'info.timeOnSite',
  'first-seen': 'info.firstSeen', started: 'info.started', language: 'info.language', site: 'info.site',
};
const TICK_MS = 10_000;         // time-on-site cells and expiry of rows
const CARD_CACHE = 50;          // visitors whose context is kept for an instant card

export function labelOf(part) {
  const l = part?.label || {};
  return l[language()] || l.ru || l.en || '';
}

/** A visitor is shown by the name or e-mail it gave, else by number. */
export function displayName(v) {
  return (v?.display_name && v.display_name.trim()) || (v?.name && v.name.trim()) || (v?.email && v.email.trim()) || t('visitor.numbered', { id: v?.id });
}

/** "/demo/catalog.html?q=плед": the address without the scheme and host, escapes of text decoded. */
function shortUrl(url) {
  try {
    const u = new URL(url);
    const rest = u.pathname + u.search + u.hash;
    try { return decodeURI(rest); } catch { return rest; }
  } catch { return url; }
}

function visitText(visitor) {
  const n = visitor.visit?.number || visitor.visits || 1;
  return `${t('visit.number', { n })} · ${n > 1 ? t('visit.returning') : t('visit.first')}`;
}

function since(iso) {
  const ms = parseTime(iso);
  return h('span', { class: 'since', dataset: { since: ms ?? '' } }, ms == null ? '' : formatDuration(serverNow() - ms));
}

function tickSince(root) {
  for (const el of root.querySelectorAll('[data-since]')) {
    const ms = Number(el.dataset.since);
    if (ms) el.textContent = formatDuration(serverNow() - ms);
  }
}

/** The rows of visitors on line, kept up to date from `visitor.updated` frames. */
export class VisitorsLive extends EventTarget {
  constructor() {
    super();
    this.rows = new Map();   // visitor id → VISITOR_ONLINE row
    this.gapMs = 30 * 60_000;
    this.loaded = false;
  }

  async load() {
    const res = await api('GET', '/visitors/online');
    this.gapMs = (res.visit_gap_seconds || 1800) * 1000;
    this.rows = new Map(res.visitors.map((r) => [r.id, r]));
    this.loaded = true;
    this.dispatchEvent(new CustomEvent('reset'));
  }

  onFrame(frame) {
    if (frame.type !== 'visitor.updated' || !frame.visitor) return;
    this.rows.set(frame.visitor.id, frame.visitor);
    this.dispatchEvent(new CustomEvent('row', { detail: frame.visitor }));
  }

  expired(row) {
    const last = parseTime(row.visit?.last_seen_at);
    return last == null || serverNow() - last > this.gapMs;
  }
}

// --- the visitors page --------------------------------------------------------------------

const COLS = ['visitors.visitor', 'visitors.page', 'visitors.source', 'visitors.location', 'visitors.device',
  'visitors.time', 'visitors.visit', 'visitors.chat'];

export async function renderVisitors(root, live, store, openConversation) {
  const body = h('tbody', { testid: 'visitors-list' });
  const count = h('p', { class: 'visitors__count', role: 'status' });
  const empty = h('p', { class: 'form-status', hidden: true }, t('visitors.empty'));
  clear(root).append(h('div', { class: 'page page--wide' }, h('h1', {}, t('visitors.title')), count,
    h('table', { class: 'table table--cards table--visitors' },
      h('thead', {}, h('tr', {}, ...COLS.map((k) => h('th', {}, t(k))), h('th', { 'aria-label': t('ban.button') }))), body), empty));
  const trs = new Map();   // visitor id → <tr>
  const invite = inviteBox();   // a manual invitation (invitations.js)
  count.after(invite.el);

  const chattingIds = () => {   // visitor id → its open conversation (the panel's own list)
    const ids = new Map();
    for (const c of store.convs.values()) if (c.data.status === 'open' && c.data.visitor) ids.set(c.data.visitor.id, c.id);
    return ids;
  };
  const isChatting = (r, ids) => ids.has(r.id)
    || (!!r.chatting && store.convs.get(r.conversation_id)?.data.status !== 'closed');
  const conversationOf = (id) => chattingIds().get(id) || live.rows.get(id)?.conversation_id || null;
  const cell = (i, value, cls) => h('td', { class: cls, 'data-label': t(COLS[i]) }, value);
  const chatCell = (on) => h('span', { class: on ? 'badge badge--on' : 'muted' }, on ? t('visitors.chatting') : t('info.none'));
  function build(r, chatting) {
    const v = r.visit || {};
    const open = () => { const cid = conversationOf(r.id); if (cid) openConversation(cid); };   // a chatting row opens its dialog
    return h('tr', { testid: 'visitor-row', dataset: { visitorId: r.id }, class: chatting ? 'row--click' : null,
      tabindex: 0, onclick: open, onkeydown: (e) => { if (e.key === 'Enter') open(); } },
    cell(0, displayName(r), 'cell-title'),
    cell(1, h('div', { class: 'visitors__page', testid: 'visitor-row-page' },
      h('div', { class: 'visitors__page-title' }, r.page_title || r.page_url), h('div', { class: 'muted visitors__url' }, r.page_url)), 'cell-text'),
    cell(2, h('span', { testid: 'visitor-row-source' }, labelOf(v.source))),
    cell(3, labelOf(v.location)),
    cell(4, labelOf(v.device)),
    cell(5, since(v.started_at), 'cell-nowrap'),
    cell(6, h('span', { testid: 'visitor-row-visit' }, String(v.number || 1)), 'cell-nowrap'),
    cell(7, h('span', { class: 'visitors__chat' }, h('span', { testid: 'visitor-row-chat', dataset: { chatting: chatting ? '1' : '0' } }, chatCell(chatting)),
      chatting ? null : invite.button(r.id, displayName(r))), 'cell-nowrap'),
    h('td', { class: 'cell-nowrap visitors__ban' }, h('button', { type: 'button', class: 'btn btn--small btn--ghost', testid: 'visitor-ban',
      title: t('ban.title'), onclick: (e) => { e.stopPropagation(); openBanDialog({ visitorId: r.id, name: displayName(r), ip: v.ip || '' }); },
      onkeydown: (e) => e.stopPropagation() }, t('ban.button'))));
  }
  function renderCount() {
    count.textContent = t('visitors.count', { n: trs.size });
    empty.hidden = trs.size > 0;
  }
  function upsert(r, ids = chattingIds()) {
    const old = trs.get(r.id);
    if (live.expired(r)) { old?.remove(); trs.delete(r.id); return; }
    const tr = build(r, isChatting(r, ids));
    if (old) old.replaceWith(tr); else body.prepend(tr);   // a newcomer on top; the others stay put
    trs.set(r.id, tr);
  }
  function all() {
    clear(body);
    trs.clear();
    const ids = chattingIds();
    const rows = [...live.rows.values()].sort((a, b) => (parseTime(a.visit?.last_seen_at) || 0) - (parseTime(b.visit?.last_seen_at) || 0));
    for (const r of rows) upsert(r, ids);
    renderCount();
  }
  const onRow = (e) => {
    if (!body.isConnected) { detach(); return; }
    upsert(e.detail);
    renderCount();
  };
  const onReset = () => { if (body.isConnected) all(); else detach(); };
  const onStore = (e) => {
    if (!body.isConnected) { detach(); return; }
    if (!e.detail.list && !e.detail.welcome && e.detail.conv == null) return;
    const ids = chattingIds();
    for (const [id, tr] of trs) {
      const el = tr.querySelector('[data-testid="visitor-row-chat"]');
      const r = live.rows.get(id);
      const on = !!r && isChatting(r, ids);
      if (el && el.dataset.chatting !== (on ? '1' : '0')) {
        el.dataset.chatting = on ? '1' : '0';
        el.replaceChildren(chatCell(on));
        tr.classList.toggle('row--click', on);
      }
    }
  };
  const timer = setInterval(() => {
    if (!body.isConnected) { detach(); return; }
    for (const [id] of trs) { const r = live.rows.get(id); if (!r || live.expired(r)) { trs.get(id).remove(); trs.delete(id); } }
    tickSince(body);
    renderCount();
  }, TICK_MS);
  function detach() {
    live.removeEventListener('row', onRow);
    live.removeEventListener('reset', onReset);
    store.removeEventListener('change', onStore);
    clearInterval(timer);
  }
  live.addEventListener('row', onRow);
  live.addEventListener('reset', onReset);
  store.addEventListener('change', onStore);
  all();
  await live.load();   // fresh rows ('reset' renders them); frames that come meanwhile are kept
}

// --- the visitor card's visit part --------------------------------------------------------

export class VisitorCard {
  /** onData(visitorId): new context arrived (re-render the card if it shows that visitor). */
  constructor(live, { onData, openConversation }) {
    this.cache = new Map();
    this.loading = new Map();   // visitor id → "fetch again when done"
    this.onData = onData;
    this.openConversation = openConversation;
    live.addEventListener('row', (e) => { if (this.cache.has(e.detail.id)) this.fetch(e.detail.id); });
    this.prefs = null;   // {fields: [names in the operator's order], hidden: [names]} (GET /me/card-fields)
    api('GET', '/me/card-fields').then((p) => { this.prefs = p; this.onData(null); }).catch(() => {});
    setInterval(() => { for (const el of document.querySelectorAll('.info [data-since]')) tickSince(el.parentElement); }, TICK_MS);
  }

  async fetch(id) {
    if (this.loading.has(id)) { this.loading.set(id, true); return; }
    this.loading.set(id, false);
    try {
      const data = await api('GET', `/visitors/${id}`);
      this.cache.delete(id);
      this.cache.set(id, data);
      if (this.cache.size > CARD_CACHE) this.cache.delete(this.cache.keys().next().value);
      this.onData(id);
    } catch { /* the card keeps what it has */ } finally {
      const again = this.loading.get(id);
      this.loading.delete(id);
      if (again) this.fetch(id);
    }
  }

  /** The card's rows in the operator's order, its hidden fields left out (rows named by their
   * dd's `visitor-field-<name>`; a field the choice does not name keeps its place after the named, a
   * custom field after the phone). */
  arrange(dl) {
    const prefs = this.prefs;
    if (!prefs) return dl;
    const nameOf = (row) => (row.querySelector('dd')?.dataset.testid || '').replace('visitor-field-', '');
    const rank = new Map(prefs.fields.map((n, i) => [n, i]));
    const hidden = new Set(prefs.hidden);
    const rows = [...dl.children].filter((r) => !hidden.has(nameOf(r)));
    // the site's own fields (setUser) the choice does not name yet stand after the phone
    const place = (r) => rank.get(nameOf(r))
      ?? (r.classList.contains('info-row--custom') ? (rank.get('phone') ?? 0) + 0.5 : 1e3);
    rows.sort((a, b) => place(a) - place(b));
    dl.replaceChildren(...rows);
    return dl;
  }

  /** The editor: drag a field (or use its arrows) to reorder, untick to hide; saved on the server. */
  editFields(custom = []) {
    if (!this.prefs || document.querySelector('[data-testid="visitor-fields-editor"]')) return;
    const hidden = new Set(this.prefs.hidden);
    // the site's own fields (setUser): those of the visitor shown now, and those already ordered
    const label = (name) => (FIELD_LABELS[name] ? t(FIELD_LABELS[name]) : name);
    // (those not placed yet stand after the phone, as in the card)
    const names = [...this.prefs.fields];
    const unplaced = custom.filter((n) => !names.includes(n));
    names.splice(names.includes('phone') ? names.indexOf('phone') + 1 : names.length, 0, ...unplaced);
    const list = h('ol', { class: 'fields-editor__list' });
    let dragged = null;
    const item = (name) => {
      const box = h('input', { type: 'checkbox', testid: 'visitor-fields-toggle', checked: !hidden.has(name),
        'aria-label': label(name) });
      const li = h('li', { class: 'fields-editor__item', testid: 'visitor-fields-item', draggable: 'true', dataset: { field: name } },
        h('span', { class: 'fields-editor__grip', 'aria-hidden': 'true' }, '⋮⋮'),
        h('label', { class: 'fields-editor__label' }, box, ' ', label(name)),
        h('button', { type: 'button', class: 'btn btn--ghost btn--small', testid: 'visitor-fields-up', 'aria-label': t('fields.up'),
          onclick: () => { if (li.previousElementSibling) li.previousElementSibling.before(li); } }, '↑'),
        h('button', { type: 'button', class: 'btn btn--ghost btn--small', testid: 'visitor-fields-down', 'aria-label': t('fields.down'),
          onclick: () => { if (li.nextElementSibling) li.nextElementSibling.after(li); } }, '↓'));
      li.addEventListener('dragstart', (e) => { dragged = li; e.dataTransfer.effectAllowed = 'move'; e.dataTransfer.setData('text/plain', name); });
      li.addEventListener('dragover', (e) => {
        if (!dragged || dragged === li) return;
        e.preventDefault();
        const r = li.getBoundingClientRect();
        if (e.clientY < r.top + r.height / 2) li.before(dragged); else li.after(dragged);
      });
      li.addEventListener('drop', (e) => e.preventDefault());
      li.addEventListener('dragend', () => { dragged = null; });
      return li;
    };
    list.append(...names.map(item));
    const status = h('p', { class: 'form-status', role: 'status' });
    const close = () => overlay.remove();
    const save = async () => {
      const items = [...list.children];
      const body = { order: items.map((li) => li.dataset.field),
        hidden: items.filter((li) => !li.querySelector('input').checked).map((li) => li.dataset.field) };
      try {
        this.prefs = await api('PUT', '/me/card-fields', body);
        close();
        this.onData(null);
      } catch (err) {
        status.textContent = explain(err);
      }
    };
    const overlay = h('div', { class: 'fields-editor__backdrop', onclick: (e) => { if (e.target === overlay) close(); } },
      h('div', { class: 'fields-editor', role: 'dialog', 'aria-modal': 'true', 'aria-label': t('fields.title'), testid: 'visitor-fields-editor',
        onkeydown: (e) => { if (e.key === 'Escape') close(); } },
      h('h2', { class: 'fields-editor__title' }, t('fields.title')),
      h('p', { class: 'muted' }, t('fields.hint')),
      list, status,
      h('div', { class: 'fields-editor__actions' },
        h('button', { type: 'button', class: 'btn btn--primary', testid: 'visitor-fields-save', onclick: save }, t('fields.save')),
        h('button', { type: 'button', class: 'btn', onclick: close }, t('fields.cancel')))));
    document.body.append(overlay);
    list.querySelector('input')?.focus();
  }

  /** Rows for the card's list and the blocks after it; empty until the context is loaded. */
  parts(conv, row) {
    const id = conv.data.visitor?.id;
    if (id == null) return { rows: [], after: [] };
    const data = this.cache.get(id);
    if (!data) { if (!this.loading.has(id)) this.fetch(id); return { rows: [], after: [] }; }
    const visit = data.visit;
    const rows = [];
    if (visit) {
      const src = visit.source || {};
      rows.push(row(t('info.source'), h('div', {},
        h('span', { testid: 'visitor-source' }, labelOf(src)),
        src.decoded_referrer ? h('div', { class: 'muted info-sub', title: src.decoded_referrer }, src.decoded_referrer) : null),
      'visitor-field-source'));
      rows.push(row(t('info.location'), h('span', { testid: 'visitor-location' }, labelOf(visit.location)), 'visitor-field-location'));
      rows.push(row(t('info.device'), h('span', { testid: 'visitor-device' }, labelOf(visit.device)), 'visitor-field-device'));
    }
    rows.push(row(t('info.visits'), h('span', { testid: 'visitor-visits' }, visitText(data.visitor)), 'visitor-field-visits'));
    if (data.visitor.visit) rows.push(row(t('info.timeOnSite'), since(data.visitor.visit.started_at), 'visitor-field-time-on-site'));
    rows.push(row(t('info.firstSeen'), formatDateTime(data.first_visit_at), 'visitor-field-first-seen'));

    const after = [];
    if (data.pages.length) {
      after.push(h('section', { class: 'info-block' }, h('h3', { class: 'info-block__title' }, t('info.pages')),
        h('ol', { class: 'info-pages', testid: 'visitor-pages' }, ...data.pages.map((p, i) => h('li', { class: 'info-pages__item', testid: 'visitor-page' },
          h('div', { class: 'info-pages__title', title: p.title || p.url }, p.title || p.url),
          extLink(p.url, shortUrl(p.url)),
          h('div', { class: 'muted info-sub' }, formatClock(p.viewed_at), ' · ',
            p.seconds == null ? (i === data.pages.length - 1 ? t('info.pageNow') : '') : formatDuration(p.seconds * 1000)))))));
    }
    const earlier = data.conversations.filter((c) => c.id !== conv.id);
    if (earlier.length) {
      after.push(h('section', { class: 'info-block' }, h('h3', { class: 'info-block__title' }, t('info.previous')),
        h('ul', { class: 'info-convs' }, ...earlier.map((c) => h('li', {},
          h('button', { type: 'button', class: 'info-convs__item', testid: 'visitor-previous-conversation', dataset: { conversationId: c.id },
            onclick: () => this.openConversation(c) },
          h('span', { class: 'info-convs__when' }, formatDateTime(c.created_at)),
          h('span', { class: 'info-convs__text' }, c.last_message?.text || '')))))));
    }
    after.push(h('button', { type: 'button', class: 'btn btn--ghost btn--small info-fields', testid: 'visitor-fields-edit',
      onclick: () => this.editFields(Object.keys(conv.data.visitor?.fields || {})) }, t('fields.edit')));
    return { rows, after };
  }
}
