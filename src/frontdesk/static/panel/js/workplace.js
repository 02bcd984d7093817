// The workplace: conversation list, the dialog, the visitor card, offers and hotkeys.
import { t } from './i18n.js';
import { clear, codePoints, extLink, formatClock, formatDateTime, formatDuration, h, icon, linkify, ratingBadge, serverNow, toast } from './dom.js';
import { waitingSince } from './store.js';
import { explain } from './errors.js';
import { openBanDialog } from './bans.js';
import { api } from './api.js';
import { PhraseSuggest, SpellCheck } from './phrases.js';

const TYPING_IDLE_MS = 3_000;      // stop "operator is typing" after this long without a key
const TYPING_REPEAT_MS = 2_500;    // re-send is_typing:true at most this often while typing
const GROUP_GAP_MS = 5 * 60_000;   // a new message header after 5 minutes of silence
const WAIT_WARN_MS = 60_000;       // waiting time turns amber after a minute (first reply target)
const WAIT_ALARM_MS = 180_000;     // and red after three
// E-mail state of the open offline dialog while some e-mail is still on its way: soon after a reply
// or a retry (1 s, 2 s, 4 s …), then every 10 s (there is no live frame for delivery).
const EMAIL_POLL_FIRST_MS = 1_000;
const EMAIL_POLL_MAX_MS = 10_000;

/** The name the server gives (`display_name`: the name or e-mail the visitor left), else "Посетитель #N". */
export function visitorName(conv) {
  const v = conv.data.visitor || {};
  return (v.display_name && v.display_name.trim()) || (v.name && v.name.trim()) || (v.email && v.email.trim())
    || t('visitor.numbered', { id: v.id ?? conv.id });
}

export class Workplace {
  constructor(root, store, alerts, { maxChars }) {
    this.root = root;
    this.store = store;
    this.alerts = alerts;
    this.maxChars = maxChars;
    this.tab = localStorage.getItem('fd.tab') || 'all';
    this.offers = new Map();        // conversation id → toast element
    this.transferOffers = new Map(); // transfer id → offer card
    this.sentTransfers = new Map();  // transfer id → receiver's name (offers this tab made)
    this.sentConvs = new Map();      // transfer id → conversation id (the sender may cancel while pending)
    this.transferGroups = new Map(); // transfer id → the ids of the same offer to a department's members
    this.overlay = null;             // the transfer dialog or a confirmation
    this.typingState = { convId: null, sentAt: 0, timer: null };
    this.renderedSeqs = { convId: null, last: 0, count: 0 };
    this.showInfo = false;
    this.departmentNames = new Map(); // department id → name (GET /departments), for CONVERSATION.department_id
    this._departmentsAt = 0;
    this._build();
    store.addEventListener('change', (e) => this._onChange(e.detail));
    store.addEventListener('offer', (e) => this._offer(e.detail.conv, e.detail.repeat));
    store.addEventListener('assigned', (e) => this._dropOfferIfTaken(e.detail.conv));
    store.addEventListener('incoming', (e) => this._incoming(e.detail));
    store.addEventListener('transfer-offer', (e) => this._transferOffer(e.detail.conv, e.detail.transfer));
    store.addEventListener('transfer-ended', (e) => this._transferEnded(e.detail));
    store.addEventListener('whisper', (e) => this._whisperArrived(e.detail.conv, e.detail.message));
    store.addEventListener('escalated', (e) => this._escalated(e.detail.conv, e.detail.step));
    store.addEventListener('server-error', (e) => {
      if (e.detail.code !== 'not_found') toast(explain(e.detail), 'error');
    });
    document.addEventListener('keydown', (e) => this._hotkey(e));
    document.addEventListener('visibilitychange', () => {
      const conv = this._active();
      if (conv && document.visibilityState === 'visible') { conv.unread = 0; store.markRead(conv); this._renderList(); this._updateCounts(); }
    });
    setInterval(() => this._tick(), 1_000);
    // warn before sending underlined words (the operator's setting, the Phrases page changes it)
    this.spellWarn = false;
    api('GET', '/phrases/settings').then((r) => { this.spellWarn = !!r.settings.spell_warn; }).catch(() => {});
    window.addEventListener('frontdesk:phrase-settings', (e) => { this.spellWarn = !!e.detail.spell_warn; this._hideSpellWarn(); });
  }

  // --- skeleton -------------------------------------------------------------------------

  _build() {
    this.tabs = h('div', { class: 'tabs', role: 'tablist' });
    this.list = h('ul', { class: 'conv-list', 'aria-label': t('nav.chats') });
    this.listCol = h('aside', { class: 'col col-list' }, this.tabs, this.list);

    this.header = h('header', { class: 'dialog-head' });
    this.mailStrip = h('div', { class: 'mail-strip', testid: 'email-status', hidden: true, role: 'status' });
    this.messages = h('div', { class: 'messages', role: 'log', 'aria-live': 'polite' });
    this.pending = h('div', { class: 'pending' });
    this.typingPreview = h('div', { class: 'typing-preview', testid: 'typing-preview', hidden: true });
    this.scroller = h('div', { class: 'scroller' }, this.messages, this.pending, this.typingPreview);
    this.input = h('textarea', {
      class: 'composer__input', testid: 'chat-input', rows: 2, 'aria-label': t('composer.reply'),
      oninput: () => this._onInput(), onkeydown: (e) => this._onComposerKey(e), onblur: () => this._stopTyping(),
    });
    this.sendButton = h('button', { class: 'btn btn--primary composer__send', testid: 'chat-send', type: 'button', title: 'Enter',
      onclick: () => this._send() });
    this.modeReply = h('button', { type: 'button', class: 'mode', role: 'tab', onclick: () => this._setMode('operator') });
    this.modeNote = h('button', { type: 'button', class: 'mode', role: 'tab', testid: 'note-mode', onclick: () => this._setMode('note') });
    this.charCount = h('span', { class: 'composer__count' });
    this.suggest = new PhraseSuggest({ input: this.input, getConversation: () => this._active(), onPick: (text, p) => this._insertPhrase(text, p.id) });
    this.spell = new SpellCheck({ input: this.input, getConversation: () => this._active(), isAdmin: () => this.store.me?.role === 'admin',
      onChange: () => this._onInput() });
    // the textarea over a mirrored div (spell-check underlines), the suggestions above it
    this.field = h('div', { class: 'composer__field' }, this.spell.mirror, this.input, this.suggest.el, this.spell.menu);
    this.closedNotice = h('div', { class: 'composer__closed', hidden: true });
    this.spellWarnBox = h('div', { class: 'composer__warn', testid: 'spell-warn', role: 'alert', hidden: true });
    this.warnedText = null;   // the text the warning was shown for: Enter again sends it
    this.composer = h('div', { class: 'composer' },
      h('div', { class: 'composer__modes', role: 'tablist' }, this.modeReply, this.modeNote, this.charCount),
      this.spellWarnBox,
      h('div', { class: 'composer__row' }, this.field, this.sendButton), this.closedNotice);
    this.emptyState = h('div', { class: 'dialog-empty' });
    this.whisperBar = h('form', { class: 'whisper', testid: 'whisper-bar', hidden: true });
    this.dialogCol = h('section', { class: 'col col-dialog' }, this.header, this.mailStrip, this.scroller, this.whisperBar, this.composer, this.emptyState);

    this.visitorCol = h('aside', { class: 'col col-visitor', testid: 'visitor-info', 'aria-label': t('info.title') });
    this.offerHost = h('div', { class: 'offers', 'aria-live': 'assertive' });
    this.helpOverlay = null;
    this.workplace = h('div', { class: 'workplace' }, this.listCol, this.dialogCol, this.visitorCol);
    this.root.append(this.workplace, this.offerHost);
    this.renderAll();
  }

  /** The language changed: static labels, then everything. */
  relabel() {
    this.list.setAttribute('aria-label', t('nav.chats'));
    this.visitorCol.setAttribute('aria-label', t('info.title'));
    this.input.setAttribute('aria-label', t('composer.reply'));
    this._setMode(this._active()?.mode || 'operator', { keepFocus: true });
    this.renderAll();
  }

  renderAll() {
    this._renderTabs();
    this._renderList();
    this._renderDialog(true);
    this._renderVisitor();
    this._updateCounts();
  }

  _onChange(parts) {
    const activeId = this.store.activeId;
    if (parts.list || parts.welcome) { this._renderTabs(); this._renderList(); this._updateCounts(); }
    if (parts.active) { this._renderDialog(true); this._renderVisitor(); }
    else {
      if (parts.conv === activeId) { this._renderHeader(); this._renderComposerState(); this._renderVisitor(); this._renderMail(); }
      if (parts.messages === activeId) this._renderMessages();
    }
    if (parts.emails != null && parts.emails === activeId) this._renderMail();
    if (parts.viewers != null && parts.viewers === activeId) this._renderViewers();
    if (parts.typing != null) {
      if (parts.typing === activeId) this._renderTyping();
      this._renderList();
    }
  }

  _active() { return this.store.activeId == null ? null : this.store.convs.get(this.store.activeId) || null; }

  // --- list -----------------------------------------------------------------------------

  _visible() {
    const s = this.store;
    const all = [...s.convs.values()];
    const byCreated = (a, b) => (a.data.created_at || '').localeCompare(b.data.created_at || '') || a.id - b.id;
    let items;
    if (this.tab === 'waiting') items = all.filter((c) => s.isWaiting(c)).sort(byCreated);
    else if (this.tab === 'mine') items = all.filter((c) => s.isMine(c)).sort(byCreated);
    else {
      const rank = (c) => (s.isWaiting(c) ? 0 : s.isMine(c) ? 1 : 2);
      items = all.filter((c) => c.data.status === 'open').sort((a, b) => rank(a) - rank(b) || byCreated(a, b));
    }
    const active = this._active();
    if (active && !items.includes(active)) items.unshift(active);   // a closed one opened from history, or another tab's
    return items;
  }

  _renderTabs() {
    const counts = this.store.counts();
    const tab = (key, count, urgent) => h('button', {
      type: 'button', role: 'tab', class: `tab${this.tab === key ? ' tab--on' : ''}`, testid: `tab-${key}`,
      'aria-selected': String(this.tab === key), onclick: () => this.setTab(key),
    }, t(`tabs.${key}`), h('span', { class: `tab__count${urgent && count ? ' tab__count--urgent' : ''}` }, String(count)));
    clear(this.tabs).append(tab('waiting', counts.waiting, true), tab('mine', counts.mine), tab('all', counts.all));
  }

  setTab(key) {
    this.tab = key;
    localStorage.setItem('fd.tab', key);
    this._renderTabs();
    this._renderList();
  }

  _renderList() {
    const items = this._visible();
    const rows = items.map((conv) => h('li', {}, this._item(conv)));
    clear(this.list).append(...rows);
    if (!rows.length) this.list.append(h('li', { class: 'conv-list__empty' }, t(`list.empty.${this.tab}`)));
  }

  _item(conv) {
    const s = this.store;
    const d = conv.data;
    const waiting = s.isWaiting(conv);
    const typing = s.typingText(conv);
    let preview = '';
    if (typing) preview = h('span', { class: 'conv__typing' }, t('list.typing'));
    else if (d.last_message) {
      const prefix = d.last_message.kind === 'operator' ? this._authorPrefix(d)
        : d.last_message.kind === 'note' ? t('list.note') : '';
      preview = prefix + d.last_message.text.replace(/\s+/g, ' ').slice(0, 120);
    }
    const right = waiting
      ? h('span', { class: 'conv__wait', dataset: { since: String(waitingSince(conv)) } }, formatDuration(serverNow() - waitingSince(conv)))
      : h('span', { class: 'conv__time' }, formatClock(d.last_message_at || d.created_at));
    const owner = d.status !== 'open' ? t('list.closed')
      : d.assignee && d.assignee.id !== s.me.id ? d.assignee.name : '';
    const kind = d.status !== 'open' ? 'closed' : waiting ? 'waiting' : s.isMine(conv) ? 'mine' : 'other';
    const needsReply = d.status === 'open' && d.last_message?.kind === 'visitor';
    return h('button', {
      type: 'button', class: `conv conv--${kind}${conv.id === s.activeId ? ' conv--active' : ''}${needsReply ? ' conv--needs-reply' : ''}`,
      testid: 'conversation-item', dataset: { conversationId: conv.id, state: kind },
      'aria-current': conv.id === s.activeId ? 'true' : null,
      onclick: () => this.open(conv.id),
    },
    h('span', { class: 'conv__dot', 'aria-hidden': 'true' }),
    h('span', { class: 'conv__main' },
      h('span', { class: 'conv__top' }, h('span', { class: 'conv__name' }, visitorName(conv)), d.is_offline ? offlineBadge() : null, right),
      h('span', { class: 'conv__preview' }, preview),
      h('span', { class: 'conv__meta' }, [d.site_name, this._departmentName(d), owner].filter(Boolean).join(' · '))),
    conv.unread ? h('span', { class: 'badge', testid: 'unread-count', title: t('list.unread', { n: conv.unread }) }, String(conv.unread)) : null);
  }

  /** "Вы: " only for my own replies; a colleague's reply is labelled with their name. */
  _authorPrefix(d) {
    const me = this.store.me.id, author = d.last_message.author_id;
    if (author === me) return t('list.you');
    if (author != null && d.assignee?.id === author) return t('list.operator', { name: d.assignee.name });
    if (author == null && (!d.assignee || d.assignee.id === me)) return t('list.you');   // author unknown: as before
    return t('list.colleague');
  }

  _updateCounts() {
    const counts = this.store.counts();
    this.alerts.setCounts({ waiting: counts.waiting, unread: counts.unread });
  }

  _tick() {
    const now = serverNow();
    for (const el of this.list.querySelectorAll('[data-since]')) {
      const waited = now - Number(el.dataset.since);
      el.textContent = formatDuration(waited);
      el.classList.toggle('conv__wait--warn', waited >= WAIT_WARN_MS && waited < WAIT_ALARM_MS);
      el.classList.toggle('conv__wait--alarm', waited >= WAIT_ALARM_MS);
    }
    // a preview that stopped updating long ago is stale (visitor gone mid-word)
    const conv = this._active();
    if (conv && !this.typingPreview.hidden && !this.store.typingText(conv)) this._renderTyping();
    // e-mail on its way: ask again now and then (no live frame for delivery yet)
    const mail = conv && conv.data.is_offline ? this.store.emails.get(conv.id) : null;
    if (mail && !mail.loading && document.visibilityState === 'visible' && this.store.emailsBusy(conv) &&
        Date.now() - mail.at >= Math.min(EMAIL_POLL_MAX_MS, EMAIL_POLL_FIRST_MS * 2 ** mail.polls)) {
      this.store.loadEmails(conv, { poll: true });
    }
  }

  // --- opening and switching --------------------------------------------------------------

  open(id, { focus = true } = {}) {
    const previous = this._active();
    if (previous && previous.id !== id) { this._saveDraft(previous); this._stopTyping(); }
    this.store.setActive(id);
    this.workplace.classList.toggle('workplace--dialog', id != null);
    const conv = this._active();
    if (conv) this._dropOffer(conv.id);
    if (focus && conv && !this.input.disabled) this.input.focus();
  }

  close() {
    const conv = this._active();
    if (conv) { this._saveDraft(conv); this._stopTyping(); }
    this._showInfo(false);
    this.store.setActive(null);
    this.workplace.classList.remove('workplace--dialog');
    this.list.querySelector('.conv')?.focus();
  }

  step(delta) {
    const items = this._visible();
    if (!items.length) return;
    const at = items.findIndex((c) => c.id === this.store.activeId);
    const next = at < 0 ? (delta > 0 ? 0 : items.length - 1) : (at + delta + items.length) % items.length;
    this.open(items[next].id);
  }

  async takeNext() {
    const waiting = [...this.store.convs.values()].filter((c) => this.store.isWaiting(c))
      .sort((a, b) => waitingSince(a) - waitingSince(b));
    if (!waiting.length) return;
    await this.take(waiting[0]);
  }

  async take(conv) {
    const holder = conv.data.status === 'open' && conv.data.assignee && conv.data.assignee.id !== this.store.me.id
      ? conv.data.assignee : null;
    if (holder && !await this._confirm(t('take.confirmTitle'), t('take.confirmText', { name: holder.name }), t('take.confirm'))) return;
    try {
      await this.store.act(conv, 'take', holder ? { force: true } : undefined);
      this._dropOffer(conv.id);
      this.open(conv.id);
    } catch (err) {
      toast(explain(err), 'error');
    }
  }

  // --- dialog ---------------------------------------------------------------------------

  _renderDialog(switched) {
    const conv = this._active();
    this.dialogCol.classList.toggle('col-dialog--empty', !conv);
    this.header.hidden = this.scroller.hidden = this.composer.hidden = !conv;
    this.emptyState.hidden = !!conv;
    if (!conv) this.mailStrip.hidden = true;
    if (!conv) {
      clear(this.emptyState).append(h('div', { class: 'dialog-empty__title' }, t('dialog.empty.title')),
        h('div', { class: 'dialog-empty__text' }, t('dialog.empty.text')));
      return;
    }
    this._renderHeader();
    if (switched) {
      this.input.value = conv.draft || '';
      this.suggest.close();
      this.spell.clear();
      if (this.input.value) this.spell.check();
      this._setMode(conv.mode, { keepFocus: true });
      this._autoGrow();
    }
    this._renderComposerState();
    this._renderMessages(true);
    this._renderTyping();
    this._renderMail();
    if (switched && conv.data.is_offline) this.store.loadEmails(conv);
  }

  _renderHeader() {
    const conv = this._active();
    if (!conv) return;
    const s = this.store, d = conv.data;
    const state = d.status !== 'open' ? t('dialog.state.closed') : s.isWaiting(conv) ? t('dialog.state.waiting')
      : s.isMine(conv) ? t('dialog.state.mine') : t('dialog.state.other', { name: d.assignee.name });
    const buttons = [];
    if (d.status === 'open' && !s.isMine(conv)) {
      buttons.push(h('button', { type: 'button', class: 'btn btn--primary', testid: 'conversation-take', onclick: () => this.take(conv) }, t('dialog.take')));
    }
    if (d.status === 'open') {
      buttons.push(h('button', { type: 'button', class: 'btn', testid: 'conversation-transfer', onclick: () => this._openTransfer(conv) }, t('transfer.button')));
      buttons.push(h('button', { type: 'button', class: 'btn', testid: 'conversation-close', onclick: () => this._act(conv, 'close') }, t('dialog.close')));
    } else {
      buttons.push(h('button', { type: 'button', class: 'btn', testid: 'conversation-reopen', onclick: () => this._act(conv, 'reopen') }, t('dialog.reopen')));
    }
    clear(this.header).append(
      h('button', { type: 'button', class: 'btn btn--ghost dialog-head__back', 'aria-label': t('dialog.back'), onclick: () => this.close() }, icon('back')),
      h('div', { class: 'dialog-head__who' },
        h('div', { class: 'dialog-head__top' },
          h('div', { class: 'dialog-head__name', testid: 'dialog-title' }, visitorName(conv)), d.is_offline ? offlineBadge() : null,
          d.origin === 'proactive' ? proactiveBadge(d.invitation) : null),
        h('div', { class: `dialog-head__state dialog-head__state--${d.status === 'open' ? (s.isWaiting(conv) ? 'waiting' : 'open') : 'closed'}`, testid: 'dialog-state' },
          state, d.site_name ? ` · ${d.site_name}` : '',
          this._departmentName(d) ? h('span', { testid: 'conversation-department', dataset: { departmentId: d.department_id } }, ` · ${this._departmentName(d)}`) : null,
          d.status !== 'open' && d.rating ? ' · ' : null,
          d.status !== 'open' ? ratingBadge(d.rating) : null),
        this.viewersLine = h('div', { class: 'dialog-head__viewers', testid: 'conversation-viewers', hidden: true, 'aria-live': 'polite' }),
        this._pendingTransferLine(conv)),
      h('div', { class: 'dialog-head__actions' }, ...buttons,
        h('button', { type: 'button', class: 'btn btn--ghost dialog-head__info', testid: 'dialog-info', 'aria-label': t('dialog.info'), title: t('dialog.info'),
          'aria-pressed': String(this.showInfo), onclick: () => this._showInfo(!this.showInfo) }, icon('info'))));
    this._renderViewers();
    this._renderWhisper();
  }

  /** Colleagues who have this dialog open too, and whether they are typing. */
  _renderViewers() {
    const conv = this._active();
    const line = this.viewersLine;
    if (!line) return;
    const viewers = conv ? this.store.viewers(conv) : [];
    line.hidden = !viewers.length;
    clear(line);
    if (!viewers.length) return;
    line.append(t('viewers.label'), ...viewers.flatMap((v, i) => [
      ...(i ? [', '] : []),
      h('span', { class: `viewer${v.typing ? ' viewer--typing' : ''}`, dataset: { operatorId: v.operator.id } },
        v.operator.name, v.typing ? h('span', { class: 'viewer__typing' }, ` ${t('viewers.typing')}`) : null),
    ]));
  }

  // --- departments (docs/protocol.md § Departments and routing) -----------------------------

  /** The name of the conversation's department; an unknown id reloads the list (at most every 30 s). */
  _departmentName(d) {
    if (d.department_id == null) return '';
    const name = this.departmentNames.get(d.department_id);
    if (name == null && Date.now() - this._departmentsAt > 30_000) {
      this._departmentsAt = Date.now();
      api('GET', '/departments').then(({ departments }) => {
        for (const dep of departments) this.departmentNames.set(dep.id, dep.name);
        if (departments.length) { this._renderList(); if (this._active()) this._renderHeader(); }
      }).catch(() => {});
    }
    return name || '';
  }

  // --- transfer ---------------------------------------------------------------------------

  async _openTransfer(conv) {
    this._closeOverlay();
    let targets;
    try {
      targets = await this.store.transferTargets(conv);
    } catch (err) {
      toast(explain(err), 'error');
      return;
    }
    let chosen = null;
    const status = h('p', { class: 'form-status', role: 'status' });
    const note = h('textarea', { class: 'transfer__note', testid: 'transfer-note', rows: 3, maxlength: this.maxChars,
      placeholder: t('transfer.notePlaceholder'), 'aria-label': t('transfer.note') });
    const departments = this.store.transferDepartments || [];
    const submit = h('button', { type: 'button', class: 'btn btn--primary', testid: 'transfer-submit', disabled: !targets.length && !departments.length },
      t('transfer.submit'));
    const rows = targets.map((op) => h('button', {
      type: 'button', class: 'transfer__target', testid: 'transfer-target', role: 'radio', 'aria-checked': 'false',
      dataset: { target: op.id }, onclick: (e) => {
        chosen = op;
        for (const b of list.querySelectorAll('.transfer__target')) b.setAttribute('aria-checked', String(b === e.currentTarget));
        status.textContent = '';
      },
    }, avatar(op), h('span', { class: 'transfer__name' }, op.name),
    h('span', { class: `transfer__status transfer__status--${op.status}` }, h('span', { class: `dot dot--${op.status}`, 'aria-hidden': 'true' }), t(`status.${op.status}.short`))));
    // departments: the offer goes to each of their online members (data-target "department-<id>")
    rows.push(...departments.map((d) => h('button', {
      type: 'button', class: 'transfer__target transfer__target--department', testid: 'transfer-target', role: 'radio', 'aria-checked': 'false',
      dataset: { target: `department-${d.id}` }, onclick: (e) => {
        chosen = { department: d, name: d.name };
        for (const b of list.querySelectorAll('.transfer__target')) b.setAttribute('aria-checked', String(b === e.currentTarget));
        status.textContent = '';
      },
    }, h('span', { class: 'avatar transfer__dep', 'aria-hidden': 'true' }, icon('users', 18)), h('span', { class: 'transfer__name' }, d.name),
    h('span', { class: 'transfer__status' }, t('transfer.departmentOnline', { n: d.online })))));
    const list = h('div', { class: 'transfer__targets', role: 'radiogroup', 'aria-label': t('transfer.to') },
      ...(rows.length ? rows : [h('p', { class: 'muted' }, t('transfer.none'))]));
    submit.addEventListener('click', async () => {
      if (!chosen) { status.textContent = t('transfer.pick'); return; }
      submit.disabled = true;
      if (chosen.department) {
        try {
          const res = await this.store.transferToDepartment(conv, chosen.department.id, note.value);
          const group = res.offers.map((offer) => offer.id); // one toast for the department's offers, not one each
          for (const offer of res.offers) { this.sentTransfers.set(offer.id, offer.to?.name || chosen.name); this.transferGroups.set(offer.id, group); }
          this._closeOverlay();
          toast(t(res.queued ? 'transfer.departmentQueued' : 'transfer.departmentSent', { name: chosen.name }));
        } catch (err) {
          submit.disabled = false;
          status.textContent = explain(err);
          status.classList.add('form-status--error');
        }
        return;
      }
      try {
        const transfer = await this.store.transfer(conv, chosen.id, note.value);
        this.sentTransfers.set(transfer.id, chosen.name);
        this.sentConvs.set(transfer.id, conv.id);
        this._closeOverlay();
        if (this._active()?.id === conv.id) this._renderHeader();
        toast(t('transfer.sent', { name: chosen.name }));
      } catch (err) {
        submit.disabled = false;
        status.textContent = explain(err);
        status.classList.add('form-status--error');
      }
    });
    const box = h('div', { class: 'overlay__box transfer', role: 'dialog', 'aria-modal': 'true', 'aria-label': t('transfer.title') },
      h('h2', {}, t('transfer.title'), h('span', { class: 'transfer__who' }, ` · ${visitorName(conv)}`)),
      h('div', { class: 'transfer__label' }, t('transfer.to')), list,
      h('label', { class: 'transfer__label' }, t('transfer.note'), note), status,
      h('div', { class: 'overlay__actions' },
        h('button', { type: 'button', class: 'btn btn--ghost', onclick: () => this._closeOverlay() }, t('transfer.cancel')), submit));
    this._showOverlay(box, 'transfer-dialog');
    (list.querySelector('.transfer__target') || note).focus();
  }

  _transferOffer(conv, transfer) {
    this.alerts.play('chat');
    const from = transfer.from?.name || '';
    this.alerts.notify(t('transfer.offerTitle', { name: from }), transfer.note || visitorName(conv), `transfer-${transfer.id}`, () => this.open(conv.id));
    this.transferOffers.get(transfer.id)?.remove();
    const accept = h('button', { type: 'button', class: 'btn btn--primary', testid: 'transfer-accept', onclick: async () => {
      accept.disabled = true;
      try {
        const accepted = await this.store.acceptTransfer(transfer.id);
        this._dropTransferOffer(transfer.id);
        this.open(accepted.id);
      } catch (err) {
        this._dropTransferOffer(transfer.id);
        toast(err.code === 'transfer_ended' ? t('transfer.gone') : explain(err), 'error');
      }
    } }, t('transfer.accept'));
    const el = h('div', { class: 'offer offer--transfer', testid: 'transfer-offer', role: 'alert', dataset: { transferId: transfer.id, conversationId: conv.id } },
      h('div', { class: 'offer__title' }, t('transfer.offerTitle', { name: from })),
      h('div', { class: 'offer__who' }, visitorName(conv), conv.data.site_name ? ` · ${conv.data.site_name}` : ''),
      transfer.note ? h('div', { class: 'offer__note', testid: 'transfer-offer-note' }, transfer.note) : null,
      h('div', { class: 'offer__actions' }, accept,
        h('button', { type: 'button', class: 'btn', testid: 'transfer-decline', onclick: async (e) => {
          e.currentTarget.disabled = true;
          try { await this.store.declineTransfer(transfer.id); } catch (err) {
            if (err.code !== 'transfer_ended') toast(explain(err), 'error');
          }
          this._dropTransferOffer(transfer.id);
        } }, t('transfer.decline')),
        h('button', { type: 'button', class: 'btn', onclick: () => this.open(conv.id) }, t('offer.open')),
        h('button', { type: 'button', class: 'btn btn--ghost', 'aria-label': t('offer.dismiss'), onclick: () => this._dropTransferOffer(transfer.id) }, icon('close', 16))));
    this.transferOffers.set(transfer.id, el);
    this.offerHost.prepend(el);
  }

  _dropTransferOffer(id) {
    this.transferOffers.get(id)?.remove();
    this.transferOffers.delete(id);
  }

  _transferEnded(frame) {
    if (this.transferOffers.has(frame.transfer_id) && frame.result === 'cancelled') toast(t('transfer.cancelledByFrom'));
    this._dropTransferOffer(frame.transfer_id);
    const name = this.sentTransfers.get(frame.transfer_id);
    if (name == null) return;
    this.sentTransfers.delete(frame.transfer_id);
    const convId = this.sentConvs.get(frame.transfer_id);
    this.sentConvs.delete(frame.transfer_id);
    if (convId != null && this._active()?.id === convId) this._renderHeader();
    for (const id of this.transferGroups.get(frame.transfer_id) || []) { this.sentTransfers.delete(id); this.transferGroups.delete(id); }
    if (frame.result === 'accepted') toast(t('transfer.accepted', { name }));
    else if (frame.result === 'expired') toast(t('transfer.expired'), 'error');
    else if (frame.result === 'declined') toast(t('transfer.declined', { name }), 'error');
    else if (frame.result === 'cancelled') toast(t('transfer.cancelled'));
  }

  /** "Transferring to B · Cancel the transfer" in the header while an offer this tab made is pending. */
  _pendingTransferLine(conv) {
    const id = [...this.sentConvs].find(([, cid]) => cid === conv.id)?.[0];
    if (id == null) return null;
    const cancel = h('button', { type: 'button', class: 'link', testid: 'transfer-cancel', onclick: async () => {
      cancel.disabled = true;
      try { await this.store.cancelTransfer(id); } catch (err) {
        if (err.code === 'transfer_ended') { this.sentConvs.delete(id); this._renderHeader(); } else toast(explain(err), 'error');
        cancel.disabled = false;
      }
    } }, t('transfer.cancelOffer'));
    return h('div', { class: 'dialog-head__pending', testid: 'transfer-pending' },
      t('transfer.pending', { name: this.sentTransfers.get(id) || '' }), ' · ', cancel);
  }

  // --- supervision: whisper to the operator, escalation alerts --------------------------------

  /** A supervisor (administrator) looking at a chat another operator holds gets a whisper line. */
  _renderWhisper() {
    const conv = this._active();
    const bar = this.whisperBar;
    const d = conv?.data;
    const show = !!(d && d.status === 'open' && d.assignee && !this.store.isMine(conv) && this.store.me?.role === 'admin');
    bar.hidden = !show;
    if (!show) { bar.replaceChildren(); bar.dataset.conversationId = ''; return; }
    if (bar.dataset.conversationId === String(conv.id) && bar.dataset.lang === document.documentElement.lang) return;
    bar.dataset.conversationId = String(conv.id);
    bar.dataset.lang = document.documentElement.lang;
    const input = h('textarea', { class: 'whisper__input', testid: 'whisper-input', rows: 1, maxlength: this.maxChars,
      'aria-label': t('whisper.label'), placeholder: t('whisper.placeholder', { name: d.assignee.name }) });
    const send = h('button', { type: 'submit', class: 'btn whisper__send', testid: 'whisper-send' }, t('whisper.send'));
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); bar.requestSubmit(); } });
    bar.onsubmit = async (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      send.disabled = true;
      try {
        await this.store.whisper(conv, text);
        input.value = '';
        toast(t('whisper.sent'));
      } catch (err) { toast(explain(err), 'error'); }
      send.disabled = false;
    };
    bar.replaceChildren(h('span', { class: 'whisper__label' }, t('whisper.label')), input, send);
  }

  /** A supervisor's whisper in a chat I hold: shown at once, whichever chat is open. */
  _whisperArrived(conv, m) {
    this.alerts.play('chat');
    const title = t('whisper.from', { name: m.author?.name || '' });
    this.alerts.notify(title, m.text, `whisper-${m.id}`, () => this.open(conv.id));
    const el = h('div', { class: 'offer offer--whisper', testid: 'whisper-toast', role: 'alert', dataset: { conversationId: conv.id } },
      h('div', { class: 'offer__title' }, title),
      h('div', { class: 'offer__who' }, visitorName(conv)),
      h('div', { class: 'offer__note' }, m.text.slice(0, 500)),
      h('div', { class: 'offer__actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => { el.remove(); this.open(conv.id); } }, t('offer.open')),
        h('button', { type: 'button', class: 'btn btn--ghost', 'aria-label': t('offer.dismiss'), onclick: () => el.remove() }, icon('close', 16))));
    this.offerHost.prepend(el);
  }

  /** An unanswered chat reached an escalation step: alert (again), or offered to everyone online. */
  _escalated(conv, step) {
    if (step !== 'alert' && step !== 'offer_all') return;
    if (this.store.isWaiting(conv)) { this._offer(conv, 1); return; }
    this.alerts.play('chat');
    this.alerts.notify(t('esc.alert'), visitorName(conv), `escalated-${conv.id}`, () => this.open(conv.id));
  }

  // --- overlays -----------------------------------------------------------------------------

  _showOverlay(box, testid) {
    this._closeOverlay();
    this.overlay = h('div', { class: 'overlay', testid, onclick: (e) => { if (e.target === this.overlay) this._closeOverlay(); } }, box);
    document.body.append(this.overlay);
  }

  _closeOverlay() {
    this.overlay?.remove();
    this.overlay = null;
    if (this._confirmDone) { this._confirmDone(false); this._confirmDone = null; }
  }

  /** A confirmation in the panel (not the browser's confirm()): resolves true when confirmed. */
  _confirm(title, text, okLabel) {
    return new Promise((resolve) => {
      const ok = h('button', { type: 'button', class: 'btn btn--primary', testid: 'confirm-ok', onclick: () => { this._confirmDone = null; this._closeOverlay(); resolve(true); } }, okLabel);
      const box = h('div', { class: 'overlay__box', role: 'alertdialog', 'aria-modal': 'true', 'aria-label': title },
        h('h2', {}, title), h('p', {}, text),
        h('div', { class: 'overlay__actions' },
          h('button', { type: 'button', class: 'btn btn--ghost', testid: 'confirm-cancel', onclick: () => this._closeOverlay() }, t('transfer.cancel')), ok));
      this._showOverlay(box, 'confirm-dialog');
      this._confirmDone = resolve;
      ok.focus();
    });
  }

  /** Narrow screens: the visitor card over the dialog (a drawer; on a phone a screen of its own). */
  _showInfo(show) {
    this.showInfo = show;
    this.workplace.classList.toggle('workplace--info', show);
    this.header.querySelector('.dialog-head__info')?.setAttribute('aria-pressed', String(show));
  }

  async _act(conv, action) {
    try {
      await this.store.act(conv, action);
      if (action === 'reopen') this.input.focus();
    } catch (err) {
      toast(explain(err), 'error');
    }
  }

  _renderComposerState() {
    const conv = this._active();
    if (!conv) return;
    const closed = conv.data.status !== 'open';
    this.input.disabled = closed;
    this.sendButton.disabled = closed;
    this.closedNotice.hidden = !closed;
    const rating = closed ? conv.data.rating : null;
    clear(this.closedNotice).append(...[closed ? t('dialog.closedNotice') : '',
      rating ? h('div', { class: 'rating-line', testid: 'conversation-rating-comment' }, t('rating.visitor'), ' ', ratingBadge(rating),
        rating.comment ? h('q', { class: 'rating-line__comment', dir: 'auto' }, rating.comment) : null) : null,
      closed ? this._qualityBlock(conv) : null, closed ? this._transcriptForm(conv) : null].filter((x) => x != null));
  }

  // --- the quality coach's score of a closed dialog; the transcript by e-mail (issue 13) ---------------

  /** The coach's score and criteria (fetched once per close; "being scored" is asked again in 5 s). */
  _qualityBlock(conv) {
    this.quality ??= new Map();
    const key = `${conv.id}:${conv.data.closed_at}`;
    const q = this.quality.get(key);
    if (!q) this._loadQuality(conv, key);
    if (!q || q.state !== 'scored') {
      return h('div', { class: 'quality', testid: 'quality-pending' }, q?.error ? explain(q.error) : t('quality.pending'));
    }
    const cls = q.score == null ? '' : q.score >= 80 ? ' quality__score--good' : q.score >= 50 ? ' quality__score--mid' : ' quality__score--bad';
    const details = h('details', { class: 'quality', testid: 'quality-panel', open: this.qualityOpen || null,
      ontoggle: () => { this.qualityOpen = details.open; } },
    h('summary', { class: 'quality__head', testid: 'quality-toggle' }, t('quality.dialog'),
      h('span', { class: `quality__score${cls}`, testid: 'quality-score', dataset: { score: q.score ?? '' } },
        q.score == null ? '—' : t('quality.outOf', { n: q.score }))),
    h('ul', { class: 'quality__list' }, ...q.criteria.map((c) => {
      const mark = c.passed === true ? ['pass', '✓'] : c.passed === false ? ['fail', '✗'] : ['na', '–'];
      return h('li', { class: 'quality__item', testid: 'quality-criterion', dataset: { criterion: c.id, passed: String(c.passed) } },
        h('span', { class: `quality__mark quality__mark--${mark[0]}`, 'aria-hidden': 'true' }, mark[1]),
        h('span', {}, t(`quality.c.${c.id}`), c.passed == null ? ` (${t('quality.na')})` : '', criterionDetail(c)),
        c.messages.length && c.passed !== null ? h('span', { class: 'quality__msgs' }, ...c.messages.map((m) => h('a', {
          class: 'quality__msg', testid: 'quality-message', dataset: { seq: m.seq }, tabindex: 0, dir: 'auto',
          onclick: () => this._flashMessage(m.seq) }, `«${m.text}»`))) : null);
    })));
    return details;
  }

  async _loadQuality(conv, key) {
    const prev = this.quality.get(key);
    this.quality.set(key, { ...(prev || {}), state: prev?.state || 'pending', loading: true, at: Date.now() });
    let q;
    try {
      q = await api('GET', `/conversations/${conv.id}/quality`);
    } catch (err) {
      q = { state: 'error', error: err };
    }
    this.quality.set(key, { ...q, at: Date.now() });
    const active = this._active();
    if (!active || active.id !== conv.id) return;
    // not scored yet (the coach runs every few seconds): ask again while this dialog stays open
    if (q.state === 'pending') setTimeout(() => { if (this._active()?.id === conv.id) this._loadQuality(conv, key); }, 3_000);
    this._renderComposerState();
  }

  _flashMessage(seq) {
    const el = this.messages.querySelector(`[data-testid="chat-message"][data-seq="${seq}"]`);
    if (!el) return;
    el.scrollIntoView({ block: 'center' });
    el.classList.add('msg--flash');
    setTimeout(() => el.classList.remove('msg--flash'), 1_500);
  }

  /** "Send the transcript": to the address the visitor left, or one the operator types. */
  _transcriptForm(conv) {
    const input = h('input', { type: 'email', testid: 'transcript-email', 'aria-label': t('transcript.email'),
      placeholder: t('transcript.email'), value: conv.data.visitor?.email || '' });
    const button = h('button', { type: 'submit', class: 'btn btn--small', testid: 'transcript-send' }, t('transcript.send'));
    return h('form', { class: 'transcript-form', onsubmit: async (e) => {
      e.preventDefault();
      button.disabled = true;
      try {
        const res = await api('POST', `/conversations/${conv.id}/transcript`, { email: input.value.trim() || null });
        toast(t('transcript.queued', { to: res.email.to }));
      } catch (err) {
        toast(explain(err), 'error');
      } finally { button.disabled = false; }
    } }, input, button);
  }

  _renderMessages(full = false) {
    const conv = this._active();
    if (!conv) return;
    const nearBottom = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 80;
    const msgs = this.store.sortedMessages(conv);
    const r = this.renderedSeqs;
    const last = msgs.length ? msgs[msgs.length - 1].seq : 0;
    const appendOnly = !full && r.convId === conv.id && msgs.length > r.count && !this.messages.querySelector('.messages__status') &&
      msgs.length - r.count === msgs.filter((m) => m.seq > r.last).length;
    if (appendOnly) {
      const fresh = msgs.filter((m) => m.seq > r.last);
      let prev = msgs[msgs.length - fresh.length - 1] || null;
      for (const m of fresh) { this.messages.append(this._message(m, prev)); prev = m; }
    } else {
      clear(this.messages);
      if (conv.loading && !msgs.length) this.messages.append(h('div', { class: 'messages__status' }, t('dialog.loading')));
      if (conv.loadError) this.messages.append(h('div', { class: 'messages__status messages__status--error' }, t('dialog.loadFailed', { message: explain(conv.loadError) })));
      let prev = null;
      for (const m of msgs) { this.messages.append(this._message(m, prev)); prev = m; }
    }
    this.renderedSeqs = { convId: conv.id, last, count: msgs.length };
    this._renderPending(conv);
    if (full || nearBottom) this._scrollToEnd();
  }

  _scrollToEnd() { this.scroller.scrollTop = this.scroller.scrollHeight; }

  _message(m, prev) {
    const author = m.kind;   // visitor | operator | system | note
    const sameGroup = prev && prev.kind === m.kind && (prev.author?.id ?? null) === (m.author?.id ?? null) &&
      Date.parse(m.created_at) - Date.parse(prev.created_at) < GROUP_GAP_MS;
    const who = author === 'visitor' ? visitorName(this._active())
      : author === 'system' ? t('msg.system')
        : (m.author?.name || '');
    const meta = sameGroup && author !== 'note' ? null : h('div', { class: 'msg__meta' },
      h('span', { class: 'msg__author' }, who),
      author === 'note' ? h('span', { class: 'msg__note-label' }, t(String(m.client_id || '').startsWith('whisper:') ? 'msg.whisper' : 'msg.note')) : null,
      h('time', { class: 'msg__time', datetime: m.created_at }, formatClock(m.created_at)));
    const mails = h('div', { class: 'msg__mails', dataset: { messageId: m.id } });
    this._fillMails(mails);
    return h('div', {
      class: `msg msg--${author}${sameGroup ? ' msg--cont' : ''}`, testid: 'chat-message',
      dataset: { author, seq: m.seq }, title: formatDateTime(m.created_at),
    }, meta, h('div', { class: 'msg__text' }, linkify(m.text)),
    // profanity (the site's setting, docs/moderation.md): a mark the visitor never sees
    m.flagged ? h('div', { class: 'msg__flag', testid: 'message-flagged', title: t('msg.flaggedHint') }, `⚑ ${t('msg.flagged')}`) : null,
    mails);
  }

  // --- e-mail of offline conversations ------------------------------------------------------

  /** The strip under the header and the delivery line under each message that was e-mailed. */
  _renderMail() {
    const conv = this._active();
    const offline = !!conv && !!conv.data.is_offline;
    this.mailStrip.hidden = !offline;
    if (offline) {
      const v = conv.data.visitor || {};
      const state = this.store.emails.get(conv.id);
      const failed = state ? state.list.filter((e) => e.state === 'failed').length : 0;
      clear(this.mailStrip).append(...[
        h('div', { class: 'mail-strip__line' }, h('span', { class: 'mail__icon', 'aria-hidden': 'true' }, '✉'),
          v.email ? t('mail.strip', { email: v.email }) : t('mail.noEmail')),
        failed ? h('div', { class: 'mail-strip__failed' }, t('mail.failedCount', { n: failed })) : null,
        state && !state.smtp_configured
          ? h('div', { class: 'mail-strip__warn', testid: 'smtp-off', title: state.smtp_problem || '' }, t('mail.smtpOff'), ' ',
            h('a', { href: '/#email', target: '_blank', rel: 'noopener', testid: 'smtp-help' }, t('mail.howTo'))) : null,
        state?.error ? h('div', { class: 'mail-strip__warn' }, t('mail.loadFailed', { message: explain(state.error) })) : null,
      ].filter(Boolean));
    }
    for (const box of this.messages.querySelectorAll('.msg__mails')) this._fillMails(box);
  }

  _fillMails(box) {
    const conv = this._active();
    const state = conv && this.store.emails.get(conv.id);
    const id = Number(box.dataset.messageId);
    const mine = state ? state.list.filter((e) => e.message_id === id).sort((a, b) => a.id - b.id) : [];
    clear(box).append(...mine.map((e) => this._mailLine(conv, e)));
    box.hidden = !mine.length;
  }

  _mailLine(conv, e) {
    const texts = {
      sent: () => t('mail.sent'),
      queued: () => t('mail.queued'),
      sending: () => t('mail.sending'),
      retrying: () => t('mail.retrying', { time: formatClock(e.next_attempt_at), n: e.attempts, max: e.max_attempts }),
      failed: () => t('mail.failed'),
      waiting_for_configuration: () => t('mail.waiting'),
    };
    const text = (texts[e.state] || texts.queued)();
    const retry = e.state === 'failed' ? h('button', { type: 'button', class: 'link mail__retry', testid: 'email-retry', onclick: async (ev) => {
      ev.target.disabled = true;
      try { await this.store.retryEmail(conv, e.id); toast(t('mail.retried')); } catch (err) { toast(explain(err), 'error'); }
    } }, t('mail.retry')) : null;
    return h('div', { class: `mail mail--${e.state}`, testid: 'email-state', dataset: { state: e.state, emailId: e.id, kind: e.kind },
      title: `${t(`mail.kind.${e.kind}`)}: ${e.to}${e.sent_at ? ` · ${formatDateTime(e.sent_at)}` : ''}` },
    h('span', { class: 'mail__icon', 'aria-hidden': 'true' }, '✉'),
    h('span', { class: 'mail__to' }, e.to), ' — ', h('span', { class: 'mail__state' }, text),
    e.state === 'failed' ? h('span', { class: 'mail__detail' }, ` ${e.last_error || '—'}`) : null, retry,
    e.state === 'retrying' && e.last_error ? h('div', { class: 'mail__error' }, t('mail.lastError', { error: e.last_error })) : null);
  }

  _renderPending(conv) {
    clear(this.pending);
    for (const p of this.store.pendingFor(conv.id)) {
      this.pending.append(h('div', { class: `msg msg--${p.kind} msg--pending${p.failed ? ' msg--failed' : ''}`, testid: 'chat-message-pending' },
        h('div', { class: 'msg__meta' },
          p.kind === 'note' ? h('span', { class: 'msg__note-label' }, t('msg.note')) : null,
          h('span', { class: 'msg__state' }, p.failed ? t('msg.failed', { message: explain({ code: p.errorCode, message: p.error }) }) : t('msg.sending')),
          p.failed ? h('button', { type: 'button', class: 'link', onclick: () => this.store.retry(p.client_id) }, t('msg.retry')) : null,
          p.failed ? h('button', { type: 'button', class: 'link', onclick: () => this.store.discard(p.client_id) }, t('msg.discard')) : null),
        h('div', { class: 'msg__text' }, linkify(p.text))));
    }
  }

  _renderTyping() {
    const conv = this._active();
    const text = conv ? this.store.typingText(conv) : '';
    this.typingPreview.hidden = !text;
    if (!text) { clear(this.typingPreview); return; }
    const nearBottom = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 80;
    clear(this.typingPreview).append(h('span', { class: 'typing-preview__label' }, t('dialog.typing')), ' ',
      h('span', { class: 'typing-preview__text' }, text));
    if (nearBottom) this._scrollToEnd();
  }

  // --- composer -------------------------------------------------------------------------

  _setMode(mode, { keepFocus = false } = {}) {
    const conv = this._active();
    if (conv) conv.mode = mode;
    const note = mode === 'note';
    this.composer.classList.toggle('composer--note', note);
    this.modeReply.textContent = t('composer.reply');
    this.modeNote.textContent = t('composer.note');
    this.modeReply.setAttribute('aria-selected', String(!note));
    this.modeNote.setAttribute('aria-selected', String(note));
    this.modeReply.classList.toggle('mode--on', !note);
    this.modeNote.classList.toggle('mode--on', note);
    this.input.placeholder = note ? t('composer.placeholderNote') : t('composer.placeholder');
    this.sendButton.textContent = t('composer.send');
    if (note) this._stopTyping();
    if (!keepFocus) this.input.focus();
  }

  _onComposerKey(e) {
    if (this.suggest.onKey(e)) { e.preventDefault(); e.stopPropagation(); return; }
    if (e.key === 'Escape' && !this.spell.menu.hidden) { this.spell.menu.hidden = true; e.preventDefault(); e.stopPropagation(); return; }
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.isComposing) {
      e.preventDefault();
      this._send();
    }
  }

  _onInput() {
    const conv = this._active();
    if (!conv) return;
    if (this.warnedText !== null && this.input.value.trim() !== this.warnedText) this._hideSpellWarn();
    this.store.saveDraft(conv, this.input.value);
    this._autoGrow();
    this._renderCount();
    this.suggest.onInput();
    this.spell.onInput();
    if (conv.mode === 'note' || conv.data.status !== 'open') return;
    const ts = this.typingState;
    const now = Date.now();
    if (!this.input.value.trim()) { this._stopTyping(); return; }
    if (ts.convId !== conv.id || now - ts.sentAt > TYPING_REPEAT_MS) {
      this.store.typing(conv, true);
      ts.convId = conv.id;
      ts.sentAt = now;
    }
    clearTimeout(ts.timer);
    ts.timer = setTimeout(() => this._stopTyping(), TYPING_IDLE_MS);
  }

  _stopTyping() {
    const ts = this.typingState;
    clearTimeout(ts.timer);
    if (ts.convId != null) {
      const conv = this.store.convs.get(ts.convId);
      if (conv) this.store.typing(conv, false);
    }
    ts.convId = null;
    ts.sentAt = 0;
  }

  _renderCount() {
    const n = codePoints(this.input.value.trim());   // as the server counts
    const over = n > this.maxChars;
    this.charCount.textContent = n > this.maxChars * 0.8 ? `${n} / ${this.maxChars}` : '';
    this.charCount.classList.toggle('composer__count--over', over);
    this.sendButton.disabled = over || this.input.disabled;
  }

  _autoGrow() {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight + 2, 160)}px`;
  }

  _send() {
    const conv = this._active();
    if (!conv || conv.data.status !== 'open') return;
    const text = this.input.value.trim();
    if (!text) return;
    if (codePoints(text) > this.maxChars) {
      toast(t('composer.tooLong', { n: codePoints(text), max: this.maxChars }), 'error');
      return;
    }
    // the operator's setting: a reply with underlined words asks once; Enter again sends it as it is
    const unknown = this.spellWarn && conv.mode === 'operator' ? this.spell.words() : [];
    if (unknown.length && this.warnedText !== text) {
      this.warnedText = text;
      this.spellWarnBox.textContent = t('spell.warn', { words: unknown.map((w) => t('spell.quote', { w })).join(', ') });
      this.spellWarnBox.hidden = false;
      return;
    }
    this._hideSpellWarn();
    this._stopTyping();
    const kind = conv.mode;
    this.store.sendMessage(conv, text, kind);
    if (kind === 'note') this._setMode('operator', { keepFocus: true });   // a note is an aside: the next line is a reply again
    this.input.value = '';
    this.suggest.close();
    this.spell.clear();
    this.store.saveDraft(conv, '');
    this._autoGrow();
    this._renderCount();
    this._scrollToEnd();
    this.input.focus();
  }

  /** A phrase goes into the input (editable before sending); the server counts its use. */
  _insertPhrase(text, phraseId, { atCaret = false } = {}) {
    const conv = this._active();
    if (!conv || this.input.disabled) return;
    if (atCaret) {
      const a = this.input.selectionStart, b = this.input.selectionEnd;
      this.input.setRangeText(text, a, b, 'end');
    } else {
      this.input.value = text;
      this.input.setSelectionRange(text.length, text.length);
    }
    this.input.focus();
    this._onInput();
    this.suggest.close();
    if (phraseId != null) api('POST', `/phrases/${phraseId}/use`, { conversation_id: conv.id }).catch(() => {});
  }

  /** Alt+digit: the phrase bound to that digit (the Phrases page), filled from this dialog. */
  async _hotkeyPhrase(digit) {
    const conv = this._active();
    if (!conv || this.input.disabled) return;
    try {
      const { phrases } = await api('GET', '/phrases');
      const p = phrases.find((x) => x.hotkey === digit);
      if (!p) { toast(t('phrases.noHotkey', { n: digit })); return; }
      const { phrase } = await api('POST', `/phrases/${p.id}/use`, { conversation_id: conv.id });
      if (this._active() !== conv) return;
      const a = this.input.selectionStart, b = this.input.selectionEnd;
      this.input.setRangeText(phrase.text, a, b, 'end');
      this.input.focus();
      this.suggest.afterPick = true;
      this._onInput();
      this.suggest.close();
    } catch (err) { toast(explain(err), 'error'); }
  }

  _saveDraft(conv) { this.store.saveDraft(conv, this.input.value); }

  _hideSpellWarn() {
    this.warnedText = null;
    this.spellWarnBox.hidden = true;
  }

  // --- visitor card -----------------------------------------------------------------------

  _renderVisitor() {
    const conv = this._active();
    clear(this.visitorCol);
    if (!conv) {
      this.visitorCol.classList.add('col-visitor--empty');
      this._showInfo(false);
      this.visitorCol.append(h('h2', { class: 'info-title' }, t('info.title')),
        h('p', { class: 'info-empty', testid: 'visitor-info-empty' }, t('info.empty')));
      return;
    }
    this.visitorCol.classList.remove('col-visitor--empty');
    const d = conv.data, v = d.visitor || {};
    const none = () => h('span', { class: 'muted' }, t('info.none'));
    const row = (label, value, testid) => h('div', { class: 'info-row' },
      h('dt', {}, label), h('dd', { testid }, value ?? none()));
    const page = v.page_url
      ? h('div', { class: 'info-page', testid: 'visitor-current-page' },
        h('div', { class: 'info-page__title', testid: 'visitor-page-title' }, v.page_title || v.page_url),
        extLink(v.page_url, v.page_url))
      : null;
    // the visit's part (visitors.js): source, location, device, visits, pages, earlier conversations
    const visit = this.card ? this.card.parts(conv, row) : { rows: [], after: [] };
    const known = visit.rows.length > 0;
    const arrange = (dl) => (this.card ? this.card.arrange(dl) : dl);   // the operator's order and hidden fields
    this.visitorCol.append(
      h('div', { class: 'info-head' },
        h('button', { type: 'button', class: 'btn btn--ghost info-back', testid: 'visitor-back', onclick: () => this._showInfo(false) },
          icon('back'), t('info.back')),
        h('h2', { class: 'info-title' }, t('info.title'))),
      h('div', { class: 'info-who' }, h('div', { class: 'info-who__name', testid: 'visitor-name' }, visitorName(conv))),
      arrange(h('dl', { class: 'info' },
        row(t('info.name'), v.name || null, 'visitor-field-name'),
        row(t('info.email'), v.email ? h('span', { class: 'info-email' }, v.email) : null, 'visitor-field-email'),
        row(t('info.phone'), v.phone || null, 'visitor-field-phone'),
        // the site's own fields (window.frontdesk.setUser): the key is the label, text only
        ...Object.entries(v.fields || {}).map(([key, value]) => h('div', { class: 'info-row info-row--custom' },
          h('dt', { title: key }, key), h('dd', { testid: `visitor-field-${key}` }, String(value)))),
        row(t('info.page'), page, 'visitor-field-page'),
        ...visit.rows,
        known ? null : row(t('info.referrer'), v.referrer ? extLink(v.referrer, v.referrer) : t('info.direct'), 'visitor-field-referrer'),
        row(t('info.started'), formatDateTime(d.created_at), 'visitor-field-started'),
        known ? null : row(t('info.firstSeen'), formatDateTime(v.first_seen_at), 'visitor-field-first-seen'),
        v.language ? row(t('info.language'), v.language, 'visitor-field-language') : null,
        !known && v.user_agent ? row(t('info.browser'), h('span', { class: 'info-ua', title: v.user_agent }, shortAgent(v.user_agent)), 'visitor-field-browser') : null,
        row(t('info.site'), d.site_name || null, 'visitor-field-site'))),
      ...visit.after,
      // bans (bans.js): block the visitor, its address or subnet, from the dialog's visitor card
      v.id ? h('div', { class: 'info-actions' }, h('button', { type: 'button', class: 'btn btn--small info-ban', testid: 'visitor-ban',
        onclick: () => openBanDialog({ visitorId: v.id, conversationId: conv.id, name: visitorName(conv),
          ip: this.card?.cache.get(v.id)?.visit?.ip || '' }) }, t('ban.button'))) : null);
  }

  // --- alerts ---------------------------------------------------------------------------

  _offer(conv, repeat) {
    const a = this.alerts;
    a.stats.offers += 1;
    a.play('chat');
    const name = visitorName(conv);
    const text = conv.data.last_message?.text || '';
    a.notify(t('notify.newChat', { name }), text, `offer-${conv.id}`, () => this.open(conv.id));
    let el = this.offers.get(conv.id);
    if (el) el.remove();
    el = h('div', { class: `offer${repeat ? ' offer--repeat' : ''}`, testid: 'offer-toast', role: 'alert', dataset: { conversationId: conv.id, repeat } },
      h('div', { class: 'offer__title' }, repeat ? t('offer.again') : t('offer.title')),
      h('div', { class: 'offer__who' }, name, conv.data.site_name ? ` · ${conv.data.site_name}` : ''),
      text ? h('div', { class: 'offer__text' }, text.slice(0, 140)) : null,
      h('div', { class: 'offer__actions' },
        h('button', { type: 'button', class: 'btn btn--primary', testid: 'offer-take', onclick: () => this.take(conv) }, t('offer.take')),
        h('button', { type: 'button', class: 'btn', onclick: () => this.open(conv.id) }, t('offer.open')),
        h('button', { type: 'button', class: 'btn btn--ghost', 'aria-label': t('offer.dismiss'), onclick: () => this._dropOffer(conv.id) }, icon('close', 16))));
    this.offers.set(conv.id, el);
    this.offerHost.prepend(el);
  }

  _dropOfferIfTaken(conv) { if (!this.store.isWaiting(conv)) this._dropOffer(conv.id); }

  _dropOffer(id) {
    const el = this.offers.get(id);
    if (el) { el.remove(); this.offers.delete(id); }
  }

  _incoming({ conv, message, background }) {
    if (!background || !this.store.isMine(conv)) return;
    this.alerts.play('message');
    this.alerts.notify(t('notify.newMessage', { name: visitorName(conv) }), message.text, `msg-${conv.id}`, () => this.open(conv.id));
  }

  // --- hotkeys --------------------------------------------------------------------------

  _hotkey(e) {
    if (this.root.hidden) return;
    const editable = e.target instanceof HTMLElement && (e.target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName));
    if (e.key === 'Escape') {
      if (this.overlay) { this._closeOverlay(); e.preventDefault(); return; }
      if (this.helpOverlay) { this.toggleHelp(false); e.preventDefault(); return; }
      if (this.offers.size) { for (const id of [...this.offers.keys()]) this._dropOffer(id); e.preventDefault(); return; }
      if (this.showInfo && !editable) { this._showInfo(false); e.preventDefault(); return; }
      if (editable) { e.target.blur(); this.list.querySelector('.conv--active')?.focus(); e.preventDefault(); return; }
      if (this.store.activeId != null) { this.close(); e.preventDefault(); }
      return;
    }
    if (this.helpOverlay) return;
    const alt = e.altKey && !e.ctrlKey && !e.metaKey;
    if (alt && !e.shiftKey && /^Digit[1-9]$/.test(e.code)) { e.preventDefault(); this._hotkeyPhrase(Number(e.code.slice(5))); return; }
    const ctrl = (e.ctrlKey || e.metaKey) && !e.altKey;
    let handled = true;
    if ((alt && e.code === 'ArrowDown') || (ctrl && e.code === 'BracketRight')) this.step(1);
    else if ((alt && e.code === 'ArrowUp') || (ctrl && e.code === 'BracketLeft')) this.step(-1);
    else if (alt && e.code === 'KeyN') this.takeNext();
    else if (alt && e.code === 'KeyT') { const c = this._active(); if (c && c.data.status === 'open') this.take(c); }
    else if (alt && e.code === 'KeyM') { const c = this._active(); if (c) this._setMode(c.mode === 'note' ? 'operator' : 'note'); }
    else if (alt && e.shiftKey && e.code === 'Digit1') this.setTab('waiting');
    else if (alt && e.shiftKey && e.code === 'Digit2') this.setTab('mine');
    else if (alt && e.shiftKey && e.code === 'Digit3') this.setTab('all');
    else if (!editable && e.key === '?') this.toggleHelp(true);
    else if (!editable && e.key === '/' && this._active()) this.input.focus();
    else handled = false;
    if (handled) e.preventDefault();
  }

  toggleHelp(show) {
    if (!show) { this.helpOverlay?.remove(); this.helpOverlay = null; return; }
    if (this.helpOverlay) return;
    const keys = [
      [['Alt', '↓'], ['Ctrl', ']']], 'help.next',
      [['Alt', '↑'], ['Ctrl', '[']], 'help.prev',
      [['Alt', 'N']], 'help.takeNext',
      [['Alt', 'T']], 'help.take',
      [['Alt', 'M']], 'help.note',
      [['Alt', 'Shift', '1 / 2 / 3']], 'help.tabs',
      [['Alt', '1…9']], 'help.phrase',
      [['/']], 'help.focus',
      [['Enter']], 'help.send',
      [['Shift', 'Enter']], 'help.newline',
      [['Esc']], 'help.esc',
      [['?']], 'help.help',
    ];
    const rows = [];
    for (let i = 0; i < keys.length; i += 2) {
      const combos = keys[i].map((combo) => h('span', { class: 'combo' }, combo.map((k) => h('kbd', {}, k))));
      rows.push(h('tr', {}, h('td', { class: 'help__keys' }, combos.flatMap((c, j) => (j ? [h('span', { class: 'muted' }, ' / '), c] : [c]))), h('td', {}, t(keys[i + 1]))));
    }
    const closeBtn = h('button', { type: 'button', class: 'btn', onclick: () => this.toggleHelp(false) }, t('help.close'));
    this.helpOverlay = h('div', { class: 'overlay', testid: 'help-overlay', onclick: (e) => { if (e.target === this.helpOverlay) this.toggleHelp(false); } },
      h('div', { class: 'overlay__box', role: 'dialog', 'aria-modal': 'true', 'aria-label': t('help.title') },
        h('h2', {}, t('help.title')), h('table', { class: 'help' }, h('tbody', {}, rows)), h('div', { class: 'overlay__actions' }, closeBtn)));
    document.body.append(this.helpOverlay);
    closeBtn.focus();
  }
}

function avatar(op) {
  return h('span', { class: 'avatar avatar--small', 'aria-hidden': 'true' },
    op.photo_url ? h('img', { src: op.photo_url, alt: '' }) : (op.name || '?').slice(0, 1).toUpperCase());
}

/** Started from an invitation (docs/invitations.md): the rule's name, or "manual" when an operator invited. */
function proactiveBadge(inv) {
  const name = inv?.name || (inv && inv.rule_id == null ? t('badge.proactiveManual') : '');
  const text = name ? t('badge.proactiveRule', { name }) : t('badge.proactive');
  return h('span', { class: 'tag tag--proactive', testid: 'conversation-proactive', title: `${t('badge.proactiveHint')}. ${text}` }, text);
}

function offlineBadge() {
  return h('span', { class: 'tag tag--offline', testid: 'offline-badge', title: t('badge.offlineHint') }, t('badge.offline'));
}

function shortAgent(ua) {
  const browser = /Edg\/(\d+)/.exec(ua) ? `Edge ${RegExp.$1}` : /YaBrowser\/(\d+)/.exec(ua) ? `Yandex ${RegExp.$1}`
    : /OPR\/(\d+)/.exec(ua) ? `Opera ${RegExp.$1}` : /Firefox\/(\d+)/.exec(ua) ? `Firefox ${RegExp.$1}`
      : /Chrome\/(\d+)/.exec(ua) ? `Chrome ${RegExp.$1}` : /Version\/(\d+).*Safari/.exec(ua) ? `Safari ${RegExp.$1}` : '';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Windows/.test(ua) ? 'Windows'
    : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  return [browser, os].filter(Boolean).join(', ') || ua.slice(0, 60);
}

/** "(2 min 30 s)", "(2 of 3 questions)" … the detail a criterion carries, in words. */
function criterionDetail(c) {
  const d = c.detail || {};
  if (c.id === 'first_reply' && d.seconds != null) return ` — ${t('quality.seconds', { n: Math.round(d.seconds) })}`;
  if (c.id === 'no_long_silence' && d.longest_seconds >= 60) return ` — ${t('quality.longest', { m: Math.round(d.longest_seconds / 60) })}`;
  if (c.id === 'questions_answered' && d.questions) return ` — ${t('quality.questions', { n: d.questions })}`;
  if (c.id === 'spelling' && d.words?.length) return ` — ${d.words.slice(0, 5).join(', ')}`;
  return '';
}
