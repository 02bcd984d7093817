// The panel's state and what every server frame does to it. No DOM here: the
// views listen to the "change" events and read the state.
//
// Delivery rules (docs/protocol.md § Delivery guarantees) live here:
// * the resume point of a conversation is the highest seq held without a gap,
//   counted from message.created / replay / sync.result / REST history — an ack
//   alone never moves it past a missing message;
// * a message whose seq is already held is dropped (replay and live overlap);
// * `reset` throws a conversation's messages away and loads them again;
// * unsent replies wait in an outbox and are re-sent with the same client_id
//   after every reconnect (the server stores each client_id once).
import { api } from './api.js';
import { randomId, serverNow, parseTime } from './dom.js';

const HISTORY_PAGE = 200;
const GAP_SYNC_DELAY_MS = 1_500;  // live and replay may briefly arrive out of order; only then ask
const TYPING_STALE_MS = 30_000;   // a visitor who closed the tab mid-word stops "typing"
const RESUME_MAX = 200;           // the server reads at most 200 resume entries
const RETRY_INTERNAL_MS = 2_000;
const EMAIL_BUSY = new Set(['queued', 'retrying', 'sending']);   // states that will still change
const VIEW_REPEAT_MS = 15_000;     // "I still have this dialog open", for colleagues' panels
const VIEWER_STALE_MS = 45_000;    // a colleague not heard from for this long has closed it
const COLLEAGUE_TYPING_MS = 6_000; // a colleague's "typing" without a repeat goes stale

export class Store extends EventTarget {
  constructor(me) {
    super();
    this.me = me;
    this.status = me.status;
    this.convs = new Map();
    this.activeId = null;
    this.outbox = new Map();   // client_id → {conversation_id, client_id, text, kind, failed, error}
    this.conn = null;
    this.connState = 'connecting';
    this.welcomed = false;
    this._gapTimers = new Map();
    this._syncRefs = 0;
    // conversation id → {list: OUTBOX_EMAIL[], smtp_configured, smtp_problem, at, loading, error}
    this.emails = new Map();
    this.transfers = new Map();   // transfer id → TRANSFER offered to me (still pending)
    this.viewing = null;          // the conversation id this tab announced with conversation.view
    const timer = setInterval(() => {
      if (this.viewing != null && Date.now() - (this._viewSentAt || 0) >= VIEW_REPEAT_MS) this._sendView();
      this._expireViewers();
    }, VIEW_REPEAT_MS / 3);
    timer.unref?.();   // node --test (the store's unit tests) must be able to exit
  }

  emit(what, detail = {}) { this.dispatchEvent(new CustomEvent(what, { detail })); }
  changed(parts) { this.emit('change', parts); }

  // --- conversations ------------------------------------------------------------------

  _conv(data) {
    let conv = this.convs.get(data.id);
    if (!conv) {
      conv = {
        id: data.id, data, messages: new Map(), loaded: false, loading: null, loadError: null,
        knownSeq: data.last_seq || 0, unread: 0, typingText: '', typingAt: 0,
        draft: loadDraft(this.me.id, data.id), mode: 'operator',
        viewers: new Map(),   // operator id → {operator, at, typingAt} (colleagues with it open)
      };
      this.convs.set(data.id, conv);
    } else {
      conv.data = { ...conv.data, ...data };
    }
    conv.knownSeq = Math.max(conv.knownSeq, data.last_seq || 0);
    return conv;
  }

  heldSeq(conv) {
    if (!conv.loaded) return conv.knownSeq;
    let seq = 0;
    while (conv.messages.has(seq + 1)) seq += 1;
    return seq;
  }

  /** conversation id → last seq held, for hello.resume */
  resume() {
    const entries = [...this.convs.values()]
      .filter((c) => c.data.status === 'open' || c.loaded)
      .sort((a, b) => (b.id === this.activeId) - (a.id === this.activeId) || b.id - a.id)
      .slice(0, RESUME_MAX);
    return Object.fromEntries(entries.map((c) => [String(c.id), this.heldSeq(c)]));
  }

  isWaiting(conv) { return conv.data.status === 'open' && !conv.data.assignee; }
  isMine(conv) { return conv.data.status === 'open' && conv.data.assignee?.id === this.me.id; }

  sortedMessages(conv) { return [...conv.messages.values()].sort((a, b) => a.seq - b.seq); }
  pendingFor(id) { return [...this.outbox.values()].filter((p) => p.conversation_id === id); }

  /** Store one message; false when its seq was already held. */
  _insert(conv, m, { live = false } = {}) {
    if (conv.messages.has(m.seq)) return false;
    conv.messages.set(m.seq, m);
    conv.knownSeq = Math.max(conv.knownSeq, m.seq);
    if (m.seq >= (conv.data.last_seq || 0)) {
      // the automatic holding message is not the preview: the list keeps the visitor's question
      const preview = isHolding(m) ? conv.data.last_message
        : { seq: m.seq, kind: m.kind, text: m.text, author_id: m.author?.id ?? null };
      conv.data = { ...conv.data, last_seq: m.seq, last_message_at: m.created_at, last_message: preview };
    }
    if (m.client_id && this.outbox.get(m.client_id)?.conversation_id === conv.id) this.outbox.delete(m.client_id);
    if (live && conv.loaded) this._checkGap(conv);
    return true;
  }

  _checkGap(conv) {
    const held = this.heldSeq(conv);
    const highest = Math.max(0, ...conv.messages.keys());
    if (highest <= held || this._gapTimers.has(conv.id)) return;
    this._gapTimers.set(conv.id, setTimeout(() => {
      this._gapTimers.delete(conv.id);
      const now = this.heldSeq(conv);
      if (Math.max(0, ...conv.messages.keys()) > now) this.sync(conv.id, now);
    }, GAP_SYNC_DELAY_MS));
  }

  sync(conversationId, afterSeq) {
    this._syncRefs += 1;
    this.conn?.send({ type: 'sync', conversation_id: conversationId, after_seq: afterSeq, ref: `s${this._syncRefs}` });
  }

  /** Full history through REST (first open, or after `reset`). Live frames keep arriving meanwhile. */
  load(conv) {
    if (conv.loaded) return Promise.resolve();
    if (conv.loading) return conv.loading;
    conv.loadError = null;
    conv.loading = (async () => {
      let after = 0;
      for (;;) {
        const page = await api('GET', `/conversations/${conv.id}/messages?after_seq=${after}&limit=${HISTORY_PAGE}`);
        for (const m of page.messages) this._insert(conv, m);
        if (!page.has_more || !page.messages.length) break;
        after = page.messages[page.messages.length - 1].seq;
      }
      conv.loaded = true;
    })().catch((err) => { conv.loadError = err; })
      .finally(() => { conv.loading = null; this.changed({ list: true, messages: conv.id }); });
    this.changed({ messages: conv.id });
    return conv.loading;
  }

  async fetchConversation(id) {
    const { conversation } = await api('GET', `/conversations/${id}`);
    const conv = this._conv(conversation);
    this.changed({ list: true, conv: id });
    return conv;
  }

  setActive(id) {
    this.activeId = id;
    if (this.viewing !== id) { this.viewing = id; this._viewSentAt = 0; this._sendView(); }
    const conv = id == null ? null : this.convs.get(id);
    if (conv) {
      conv.unread = 0;
      if (!conv.loaded) this.load(conv);
      this.markRead(conv);
    }
    this.changed({ list: true, active: true });
  }

  markRead(conv) {
    const seq = this.heldSeq(conv);
    if (seq > 0 && document.visibilityState === 'visible') this.conn?.send({ type: 'read', conversation_id: conv.id, seq });
  }

  // --- e-mail of offline conversations (GET /outbox; there is no live frame for delivery) ---

  /** Fetch the e-mails of one conversation; a call while one is under way asks for one more after it.
   * ``poll``: a repeat while some e-mail is on its way (counted, so the polls can slow down). */
  loadEmails(conv, { poll = false } = {}) {
    let state = this.emails.get(conv.id);
    if (!state) {
      state = { list: [], smtp_configured: true, smtp_problem: null, at: 0, loading: null, error: null, again: false, polls: 0 };
      this.emails.set(conv.id, state);
    }
    state.polls = poll ? state.polls + 1 : 0;
    if (state.loading) { state.again = true; return state.loading; }
    state.loading = (async () => {
      try {
        const res = await api('GET', `/outbox?conversation_id=${conv.id}&limit=200`);
        state.list = res.emails;
        state.smtp_configured = res.smtp_configured;
        state.smtp_problem = res.smtp_problem;
        state.error = null;
      } catch (err) {
        state.error = err;
      } finally {
        state.at = Date.now();
        state.loading = null;
        this.changed({ emails: conv.id });
        if (state.again) { state.again = false; this.loadEmails(conv); }
      }
    })();
    return state.loading;
  }

  /** Some e-mail of the conversation is still on its way (worth polling). */
  emailsBusy(conv) {
    const state = this.emails.get(conv.id);
    return !!state && state.list.some((e) => EMAIL_BUSY.has(e.state));
  }

  async retryEmail(conv, emailId) {
    try {
      const { email } = await api('POST', `/outbox/${emailId}/retry`);
      const state = this.emails.get(conv.id);
      if (state) state.list = state.list.map((e) => (e.id === email.id ? email : e));
      this.changed({ emails: conv.id });
    } finally {
      this.loadEmails(conv);
    }
  }

  /** After a message in the open offline conversation: its e-mails were queued with it. */
  _emailsMayHaveChanged(conv) {
    if (conv.id === this.activeId && conv.data.is_offline) this.loadEmails(conv);
  }

  // --- operator actions ---------------------------------------------------------------

  sendMessage(conv, text, kind) {
    const item = { conversation_id: conv.id, client_id: randomId('o-'), text, kind, failed: false, error: null };
    this.outbox.set(item.client_id, item);
    this._transmit(item);
    this.changed({ list: true, messages: conv.id });
  }

  _transmit(item) {
    this.conn?.send({ type: 'message.send', conversation_id: item.conversation_id, client_id: item.client_id,
      text: item.text, kind: item.kind });
  }

  retry(clientId) {
    const item = this.outbox.get(clientId);
    if (!item) return;
    item.failed = false;
    item.error = null;
    this._transmit(item);
    this.changed({ messages: item.conversation_id });
  }

  discard(clientId) {
    const item = this.outbox.get(clientId);
    if (!item) return;
    this.outbox.delete(clientId);
    this.changed({ messages: item.conversation_id });
  }

  typing(conv, isTyping) {
    this.conn?.send({ type: 'typing', conversation_id: conv.id, is_typing: isTyping });
  }

  async act(conv, action, body) {
    const { conversation } = await api('POST', `/conversations/${conv.id}/${action}`, body);
    this._conv(conversation);
    this.changed({ list: true, conv: conv.id });
  }

  // --- team: transfer, who is viewing ----------------------------------------------------

  async transferTargets(conv) {
    const targets = await api('GET', `/conversations/${conv.id}/transfer-targets`);
    this.transferDepartments = targets.departments || []; // [{id, name, online}]: the dialog lists them after the colleagues
    return targets.operators;
  }

  async transfer(conv, toOperatorId, note) {
    return (await api('POST', `/conversations/${conv.id}/transfer`, { to_operator_id: toOperatorId, note })).transfer;
  }

  async declineTransfer(transferId) {
    this.transfers.delete(transferId);
    return api('POST', `/transfers/${transferId}/decline`);
  }

  async cancelTransfer(transferId) {
    return api('POST', `/transfers/${transferId}/cancel`);
  }

  async whisper(conv, text) {
    return (await api('POST', `/conversations/${conv.id}/whisper`, { text })).message;
  }

  async transferToDepartment(conv, departmentId, note) {
    return api('POST', `/conversations/${conv.id}/transfer-department`, { department_id: departmentId, note });
  }

  async acceptTransfer(transferId) {
    const { conversation } = await api('POST', `/transfers/${transferId}/accept`);
    this.transfers.delete(transferId);
    const conv = this._conv(conversation);
    this.changed({ list: true, conv: conv.id });
    return conv;
  }

  _sendView() {
    this.conn?.send({ type: 'conversation.view', conversation_id: this.viewing });
    this._viewSentAt = Date.now();
  }

  /** Colleagues who have this conversation open now: [{operator, typing}], by name. */
  viewers(conv) {
    const now = Date.now();
    return [...conv.viewers.values()].filter((v) => now - v.at < VIEWER_STALE_MS)
      .map((v) => ({ operator: v.operator, typing: now - v.typingAt < COLLEAGUE_TYPING_MS }))
      .sort((a, b) => a.operator.name.localeCompare(b.operator.name));
  }

  _expireViewers() {
    const now = Date.now();
    for (const conv of this.convs.values()) {
      let changed = false;
      for (const [id, v] of conv.viewers) {
        if (now - v.at >= VIEWER_STALE_MS) { conv.viewers.delete(id); changed = true; }
        else if (v.typingAt && now - v.typingAt >= COLLEAGUE_TYPING_MS) { v.typingAt = 0; changed = true; }
      }
      if (changed) this.changed({ viewers: conv.id });
    }
  }

  async setStatus(status) {
    const previous = this.status;
    this.status = status;
    this.changed({ status: true });
    try {
      const res = await api('PUT', '/me/status', { status });
      this.status = res.status;
    } catch (err) {
      this.status = previous;
      throw err;
    } finally {
      this.changed({ status: true });
    }
  }

  saveDraft(conv, text) {
    conv.draft = text;
    saveDraft(this.me.id, conv.id, text);
  }

  counts() {
    let waiting = 0, mine = 0, all = 0, unread = 0;
    for (const c of this.convs.values()) {
      if (c.data.status !== 'open') continue;
      all += 1;
      if (this.isWaiting(c)) waiting += 1;
      if (this.isMine(c)) { mine += 1; unread += c.unread; }
    }
    return { waiting, mine, all, unread };
  }

  typingText(conv) {
    return conv.typingText && Date.now() - conv.typingAt < TYPING_STALE_MS ? conv.typingText : '';
  }

  // --- frames -------------------------------------------------------------------------

  onFrame(frame) {
    const handler = FRAME_HANDLERS[frame.type];
    if (handler) handler.call(this, frame);
  }

  _onMessage(m, live) {
    let conv = this.convs.get(m.conversation_id);
    if (!conv) {
      // a conversation we have not heard of yet (created while our welcome was being built)
      this.fetchConversation(m.conversation_id).then((c) => {
        this._insert(c, m);
        this.changed({ list: true, messages: c.id });
      }).catch(() => {});
      return;
    }
    if (!this._insert(conv, m, { live })) return;
    this._emailsMayHaveChanged(conv);
    const background = conv.id !== this.activeId || document.visibilityState !== 'visible';
    if (m.kind === 'visitor') {
      conv.typingText = '';
      if (background) conv.unread += 1;
      else this.markRead(conv);
      this.emit('incoming', { conv, message: m, background });
    }
    // a supervisor's whisper in a chat I hold (docs/protocol.md: a note whose client_id starts with "whisper:")
    if (live && m.kind === 'note' && String(m.client_id || '').startsWith('whisper:') && m.author?.id !== this.me?.id &&
        conv.data.assignee?.id === this.me?.id) this.emit('whisper', { conv, message: m });
    this.changed({ list: true, messages: conv.id });
  }

  onConnState(state) {
    this.connState = state;
    this.changed({ connection: true });
  }
}

const FRAME_HANDLERS = {
  welcome(frame) {
    this.me = { ...this.me, ...frame.operator };
    this.status = frame.operator.status;
    const open = new Set();
    for (const data of frame.conversations) { this._conv(data); open.add(data.id); }
    // held as open but missing from the welcome: closed while we were away
    for (const conv of this.convs.values()) {
      if (conv.data.status === 'open' && !open.has(conv.id)) conv.data = { ...conv.data, status: 'closed' };
    }
    this.welcomed = true;
    // transfer offers still waiting for me (made while this tab was away, or before a reload)
    const waiting = new Set((frame.transfers || []).map((item) => item.transfer.id));
    for (const id of [...this.transfers.keys()]) {
      if (!waiting.has(id)) { this.transfers.delete(id); this.emit('transfer-ended', { transfer_id: id, result: 'gone' }); }
    }
    for (const item of frame.transfers || []) {
      if (this.transfers.has(item.transfer.id)) continue;
      this.transfers.set(item.transfer.id, item.transfer);
      this.emit('transfer-offer', { conv: this._conv(item.conversation), transfer: item.transfer });
    }
    // replies written while offline (or never acked) go out again, same client_id
    for (const item of this.outbox.values()) if (!item.failed) this._transmit(item);
    const active = this.activeId != null ? this.convs.get(this.activeId) : null;
    if (active && !active.loaded && !active.loading) this.load(active);
    if (this.viewing != null) this._sendView();   // a new socket: tell colleagues again
    this.changed({ list: true, status: true, active: true, welcome: true });
  },

  'message.created'(frame) { this._onMessage(frame.message, true); },

  'message.ack'(frame) {
    const item = this.outbox.get(frame.client_id);
    const m = frame.message;
    if (!m) return;
    const conv = this.convs.get(m.conversation_id);
    if (item) this.outbox.delete(frame.client_id);
    if (conv) {
      // shown at once; heldSeq() still counts only gap-free seqs, so the resume point is safe
      if (this._insert(conv, m)) this._emailsMayHaveChanged(conv);
      this.changed({ list: true, messages: conv.id });
    }
  },

  'sync.result'(frame) {
    const conv = this.convs.get(frame.conversation_id);
    if (!conv) return;
    for (const m of frame.messages) this._insert(conv, m);
    if (frame.has_more && frame.messages.length) this.sync(conv.id, frame.messages[frame.messages.length - 1].seq);
    this.changed({ list: true, messages: conv.id });
  },

  reset(frame) {
    const conv = this.convs.get(frame.conversation_id);
    if (!conv) return;
    conv.messages.clear();
    conv.loaded = false;
    conv.knownSeq = 0;
    this.fetchConversation(conv.id).catch(() => {});
    if (conv.id === this.activeId) this.load(conv);
    this.changed({ list: true, messages: conv.id });
  },

  'conversation.created'(frame) {
    this._conv(frame.conversation);
    this.changed({ list: true, conv: frame.conversation.id });
  },

  'conversation.updated'(frame) {
    const conv = this._conv(frame.conversation);
    this._emailsMayHaveChanged(conv);
    this.changed({ list: true, conv: frame.conversation.id });
  },

  'conversation.offered'(frame) {
    const conv = this._conv(frame.conversation);
    this.changed({ list: true, conv: conv.id });
    if (this.isWaiting(conv)) this.emit('offer', { conv, repeat: frame.repeat || 0 });
  },

  'conversation.assigned'(frame) {
    const conv = this.convs.get(frame.conversation_id);
    if (!conv) { this.fetchConversation(frame.conversation_id).catch(() => {}); return; }
    conv.data = { ...conv.data, assignee: frame.operator };
    this.changed({ list: true, conv: conv.id });
    this.emit('assigned', { conv });
  },

  'conversation.closed'(frame) {
    const conv = this.convs.get(frame.conversation_id);
    if (!conv) return;
    conv.data = { ...conv.data, status: 'closed', closed_at: new Date(serverNow()).toISOString() };
    conv.typingText = '';
    this.changed({ list: true, conv: conv.id });
    this.emit('assigned', { conv });
  },

  'conversation.rated'(frame) {
    const conv = this.convs.get(frame.conversation_id);
    if (!conv) return;
    conv.data = { ...conv.data, rating: frame.rating };
    this.changed({ list: true, conv: conv.id });
  },

  'conversation.reopened'(frame) {
    const conv = this.convs.get(frame.conversation_id);
    if (frame.conversation) this._conv(frame.conversation);
    else if (conv) conv.data = { ...conv.data, status: 'open', closed_at: null };
    else this.fetchConversation(frame.conversation_id).catch(() => {});
    this.changed({ list: true, conv: frame.conversation_id });
  },

  'visitor.typing'(frame) {
    const conv = this.convs.get(frame.conversation_id);
    if (!conv) return;
    conv.typingText = typeof frame.text === 'string' ? frame.text : '';
    conv.typingAt = Date.now();
    this.changed({ typing: conv.id });
  },

  'transfer.offered'(frame) {
    const conv = this._conv(frame.conversation);
    this.transfers.set(frame.transfer.id, frame.transfer);
    this.changed({ list: true, conv: conv.id });
    this.emit('transfer-offer', { conv, transfer: frame.transfer });
  },

  'conversation.escalated'(frame) {
    const conv = this._conv(frame.conversation);
    this.changed({ list: true, conv: conv.id });
    this.emit('escalated', { conv, step: frame.step });
  },

  'transfer.ended'(frame) {
    this.transfers.delete(frame.transfer_id);
    this.emit('transfer-ended', frame);
  },

  'operator.viewing'(frame) {
    const conv = this.convs.get(frame.conversation_id);
    if (!conv || frame.operator.id === this.me.id) return;
    const known = conv.viewers.has(frame.operator.id);
    if (frame.viewing) {
      conv.viewers.set(frame.operator.id, { operator: frame.operator, at: Date.now(), typingAt: known ? conv.viewers.get(frame.operator.id).typingAt : 0 });
      // a colleague just opened the dialog I am looking at: let them see me at once (not in 15 s)
      if (!known && this.viewing === conv.id) this._sendView();
    } else {
      conv.viewers.delete(frame.operator.id);
    }
    this.changed({ viewers: conv.id });
  },

  'operator.typing'(frame) {
    const conv = this.convs.get(frame.conversation_id);
    if (!conv || !frame.operator || frame.operator.id === this.me.id) return;
    const v = conv.viewers.get(frame.operator.id) || { operator: frame.operator, at: Date.now(), typingAt: 0 };
    v.typingAt = frame.is_typing ? Date.now() : 0;
    v.at = Date.now();
    conv.viewers.set(frame.operator.id, v);
    this.changed({ viewers: conv.id });
  },

  'operator.status_changed'(frame) {
    if (frame.operator_id === this.me.id) {
      this.status = frame.status;
      this.changed({ status: true });
    }
  },

  error(frame) {
    const item = frame.ref != null ? this.outbox.get(String(frame.ref)) : null;
    if (item) {
      if (frame.code === 'internal' || frame.code === 'rate_limited') {
        setTimeout(() => this._transmit(item), RETRY_INTERNAL_MS);   // same client_id: stored at most once
      } else {
        item.failed = true;
        item.error = frame.message || frame.code;
        item.errorCode = frame.code;
        this.changed({ messages: item.conversation_id });
      }
      return;
    }
    this.emit('server-error', frame);
  },
};

// Drafts survive a reload: one localStorage entry per operator and conversation.
function draftKey(operatorId, conversationId) { return `fd.draft.${operatorId}.${conversationId}`; }

function loadDraft(operatorId, conversationId) {
  try { return localStorage.getItem(draftKey(operatorId, conversationId)) || ''; } catch { return ''; }
}

function saveDraft(operatorId, conversationId, text) {
  try {
    if (text) localStorage.setItem(draftKey(operatorId, conversationId), text);
    else localStorage.removeItem(draftKey(operatorId, conversationId));
  } catch { /* storage full or private mode: the draft lives in memory */ }
}

/** The no-reply holding message (server: serialize.is_holding) — never a conversation's preview. */
export function isHolding(m) {
  if (typeof m.client_id !== 'string') return false;
  if (m.kind === 'operator') return m.client_id.startsWith('autohold:');   // the automatic "Одну минуточку…"
  return m.kind === 'system' && /^(ask_contacts|hold):/.test(m.client_id);
}

export function waitingSince(conv) {
  return parseTime(conv.data.created_at) ?? serverNow();
}
