// Quick phrases: the "Фразы" page, the suggestions under the chat input, Alt+digit phrases, and the
// spell check of the chat input (underlines drawn in a mirrored div behind the textarea).
import { api } from './api.js';
import { t } from './i18n.js';
import { clear, h, toast } from './dom.js';
import { explain } from './errors.js';

const SEARCH_DEBOUNCE_MS = 150;
const SPELL_DEBOUNCE_MS = 400;
const SPELL_RETRY_MS = 3_000;

function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'field__label' }, label), control,
    hint ? h('span', { class: 'field__hint' }, hint) : null);
}

// --- the page -------------------------------------------------------------------------------

export async function renderPhrases(root, ctx) {
  let data = await api('GET', '/phrases');
  const siteName = (id) => data.sites.find((s) => s.id === id)?.name || `#${id}`;
  const search = h('input', { type: 'search', class: 'phrases__search', testid: 'phrase-search', placeholder: t('phrases.search'),
    'aria-label': t('phrases.search'), oninput: () => renderList() });
  const list = h('div', { class: 'phrases__list', testid: 'phrase-list' });
  const formHost = h('div', { class: 'phrases__form' });
  const fileInput = h('input', { type: 'file', accept: '.csv,text/csv', hidden: true, testid: 'phrase-import-file', onchange: () => importFile() });
  const scopeSelect = () => {
    const sel = h('select', { testid: 'phrase-scope' }, h('option', { value: 'personal' }, t('phrases.scope.personal')),
      ...(data.can_edit_shared ? data.sites.map((s) => h('option', { value: `site:${s.id}` }, t('phrases.scope.site', { site: s.name }))) : []));
    return sel;
  };
  const ioScope = scopeSelect();
  ioScope.setAttribute('data-testid', 'phrase-io-scope');
  const exportLink = h('a', { class: 'btn', testid: 'phrase-export', download: 'phrases.csv', href: '/api/v1/phrases/export?scope=personal' }, t('phrases.export'));
  ioScope.addEventListener('change', () => { exportLink.href = exportHref(ioScope.value); });

  function exportHref(v) {
    return v === 'personal' ? '/api/v1/phrases/export?scope=personal' : `/api/v1/phrases/export?scope=site&site_id=${v.split(':')[1]}`;
  }

  async function reload() { data = await api('GET', '/phrases'); renderList(); }

  async function importFile() {
    const file = fileInput.files[0];
    if (!file) return;
    const csv = await file.text();
    const v = ioScope.value;
    try {
      const res = await api('POST', '/phrases/import', v === 'personal' ? { scope: 'personal', csv } : { scope: 'site', site_id: Number(v.split(':')[1]), csv });
      toast(t('phrases.imported', res));
      await reload();
    } catch (err) { toast(explain(err), 'error'); }
    fileInput.value = '';
  }

  function openForm(p) {
    const key = h('input', { type: 'text', maxlength: 33, testid: 'phrase-key', value: p?.key || '' });
    const title = h('input', { type: 'text', maxlength: 200, testid: 'phrase-title', value: p?.title || '' });
    const text = h('textarea', { rows: 5, maxlength: 4000, testid: 'phrase-text' });
    text.value = p?.text || '';
    const group = h('input', { type: 'text', maxlength: 100, testid: 'phrase-group', value: p?.group || '', list: 'phrase-groups' });
    const groups = h('datalist', { id: 'phrase-groups' }, ...[...new Set(data.phrases.map((x) => x.group).filter(Boolean))].map((g) => h('option', { value: g })));
    const scope = p ? null : scopeSelect();
    const status = h('span', { class: 'form-status', testid: 'phrase-form-status' });
    const save = h('button', { type: 'submit', class: 'btn btn--primary', testid: 'phrase-save' }, t('phrases.save'));
    const form = h('form', { class: 'form', testid: 'phrase-form', onsubmit: async (e) => {
      e.preventDefault();
      save.disabled = true;
      const body = { key: key.value, title: title.value, text: text.value, group: group.value };
      try {
        if (p) await api('PATCH', `/phrases/${p.id}`, body);
        else {
          const v = scope.value;
          await api('POST', '/phrases', v === 'personal' ? { ...body, scope: 'personal' } : { ...body, scope: 'site', site_id: Number(v.split(':')[1]) });
        }
        toast(t('phrases.saved'));
        clear(formHost);
        await reload();
      } catch (err) {
        status.textContent = explain(err);
        status.className = 'form-status form-status--error';
      } finally { save.disabled = false; }
    } },
    h('h2', {}, p ? t('phrases.edit') : t('phrases.new')),
    scope ? field(t('phrases.scope'), scope) : null,
    field(t('phrases.key'), key, t('phrases.keyHint')), field(t('phrases.titleField'), title),
    field(t('phrases.text'), text, t('phrases.textHint')), field(t('phrases.group'), group), groups,
    h('div', { class: 'form__actions' }, save, h('button', { type: 'button', class: 'btn', onclick: () => clear(formHost) }, t('common.cancel')), status));
    clear(formHost).append(form);
    (p ? text : key).focus();
  }

  function hotkeySelect(p) {
    const taken = new Map(data.phrases.filter((x) => x.hotkey).map((x) => [x.hotkey, x]));
    const sel = h('select', { class: 'phrase__hotkey', testid: 'phrase-hotkey', 'aria-label': t('phrases.hotkey'), onchange: async () => {
      try {
        if (sel.value) await api('PUT', `/phrases/hotkeys/${sel.value}`, { phrase_id: p.id });
        else if (p.hotkey) await api('PUT', `/phrases/hotkeys/${p.hotkey}`, { phrase_id: null });
        await reload();
        ctx.phrasesChanged?.();
      } catch (err) { toast(explain(err), 'error'); }
    } }, h('option', { value: '' }, t('phrases.hotkeyNone')),
    ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => h('option', { value: String(d), selected: p.hotkey === d },
      `Alt+${d}${taken.has(d) && taken.get(d).id !== p.id ? ' •' : ''}`)));
    return sel;
  }

  function renderList() {
    const q = search.value.trim().toLowerCase();
    const shown = data.phrases.filter((p) => !q || [p.key, p.title, p.text, p.group].some((f) => (f || '').toLowerCase().includes(q)));
    const groups = new Map();
    for (const p of shown) {
      const g = p.group || '';
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(p);
    }
    clear(list);
    if (!shown.length) { list.append(h('p', { class: 'muted', testid: 'phrases-empty' }, t('phrases.empty'))); return; }
    for (const [g, items] of [...groups.entries()].sort((a, b) => (a[0] === '') - (b[0] === '') || a[0].localeCompare(b[0]))) {
      list.append(h('section', { class: 'phrase-group', testid: 'phrase-list-group', dataset: { group: g } },
        h('h2', { class: 'phrase-group__title' }, g || t('phrases.noGroup')),
        ...items.map((p) => {
          const editable = p.scope === 'personal' || data.can_edit_shared;
          return h('article', { class: 'phrase', testid: 'phrase-item', dataset: { phraseId: p.id } },
            h('div', { class: 'phrase__head' },
              p.key ? h('code', { class: 'phrase__key' }, p.key) : null,
              h('span', { class: 'phrase__title' }, p.title || ''),
              h('span', { class: 'tag' }, p.scope === 'personal' ? t('phrases.scope.personal') : t('phrases.scope.site', { site: siteName(p.site_id) })),
              p.uses ? h('span', { class: 'muted phrase__uses' }, t('phrases.uses', { n: p.uses })) : null),
            h('div', { class: 'phrase__text' }, p.text),
            h('div', { class: 'phrase__actions' }, h('label', { class: 'phrase__hotkey-label' }, h('span', { class: 'muted' }, t('phrases.hotkey')), hotkeySelect(p)),
              editable ? h('button', { type: 'button', class: 'link', testid: 'phrase-edit', onclick: () => openForm(p) }, t('phrases.edit')) : null,
              editable ? h('button', { type: 'button', class: 'link link--danger', testid: 'phrase-delete', onclick: async () => {
                if (!window.confirm(t('phrases.confirmDelete', { title: p.title || p.key || p.text.slice(0, 40) }))) return;
                try { await api('DELETE', `/phrases/${p.id}`); await reload(); } catch (err) { toast(explain(err), 'error'); }
              } }, t('phrases.delete')) : null));
        })));
    }
  }

  // the operator's composer setting: warn before sending a reply with underlined words
  const warn = h('input', { type: 'checkbox', testid: 'spell-warn-toggle', checked: !!data.settings?.spell_warn, onchange: async () => {
    try {
      const { settings } = await api('PUT', '/phrases/settings', { spell_warn: warn.checked });
      window.dispatchEvent(new CustomEvent('frontdesk:phrase-settings', { detail: settings }));
      toast(t('spell.warnSaved'));
    } catch (err) { warn.checked = !warn.checked; toast(explain(err), 'error'); }
  } });

  clear(root).append(h('div', { class: 'page page--phrases' },
    h('h1', {}, t('phrases.title')), h('p', { class: 'field__hint' }, t('phrases.intro')),
    h('label', { class: 'check phrases__setting' }, warn, ' ', t('spell.warnSetting')),
    h('div', { class: 'phrases__bar' },
      h('button', { type: 'button', class: 'btn btn--primary', testid: 'phrase-new', onclick: () => openForm(null) }, t('phrases.new')),
      search, ioScope, exportLink,
      h('button', { type: 'button', class: 'btn', testid: 'phrase-import', onclick: () => fileInput.click() }, t('phrases.import')), fileInput),
    formHost, list));
  renderList();
}

// --- suggestions under the chat input ---------------------------------------------------------

/** What part of the input is the query: "/key…" at the start of the last line, or the last line's words. */
export function phraseQuery(value) {
  const line = value.split('\n').pop();
  if (!line.trim()) return '';
  return line.trim().slice(-60);
}

export class PhraseSuggest {
  constructor({ input, getConversation, onPick }) {
    this.input = input;
    this.getConversation = getConversation;
    this.onPick = onPick;
    this.items = [];
    this.at = 0;
    this.timer = null;
    this.seq = 0;
    this.closedFor = null;
    this.afterPick = false;       // the query Esc closed the list for: not reopened until the text changes
    this.el = h('ul', { class: 'suggest', testid: 'phrase-suggestions', role: 'listbox', 'aria-label': t('phrases.suggestions'), hidden: true });
  }

  get open() { return !this.el.hidden; }

  onInput() {
    clearTimeout(this.timer);
    const q = phraseQuery(this.input.value);
    // words typed after a reply has started are not a search: only "/…" or a short first line
    if (!this.input.value.trim()) this.afterPick = false;
    const asked = q.startsWith('/') || (q && !this.afterPick && this.input.value.length <= 40 && !this.input.value.includes('\n'));
    if (!asked || q.replace('/', '').length < 2 || q === this.closedFor) { this.close(); return; }
    this.timer = setTimeout(() => this._search(q), SEARCH_DEBOUNCE_MS);
  }

  async _search(q) {
    const conv = this.getConversation();
    if (!conv) return;
    const my = ++this.seq;
    let res;
    try {
      res = await api('GET', `/phrases/search?conversation_id=${conv.id}&q=${encodeURIComponent(q)}`);
    } catch { return; }
    if (my !== this.seq || phraseQuery(this.input.value) !== q) return;
    this.items = res.phrases;
    // "/key": the first is chosen, Enter takes it; plain words: nothing is chosen until an arrow
    // key, so Enter still sends a short reply that happens to match a phrase
    this.at = q.startsWith('/') ? 0 : -1;
    this._render();
  }

  _render() {
    if (!this.items.length) { this.close(); return; }
    clear(this.el).append(...this.items.map((p, i) => h('li', {
      class: `suggest__item${i === this.at ? ' suggest__item--on' : ''}`, role: 'option', 'aria-selected': String(i === this.at),
      testid: 'phrase-suggestion', dataset: { phraseId: p.id },
      onmousedown: (e) => { e.preventDefault(); this.pick(i); },
    },
    h('span', { class: 'suggest__head' }, p.key ? h('code', {}, p.key) : null, h('span', { class: 'suggest__title' }, p.title || ''),
      p.hotkey ? h('kbd', {}, `Alt+${p.hotkey}`) : null),
    h('span', { class: 'suggest__text' }, p.filled))));
    this.el.hidden = false;
    this.el.querySelector('.suggest__item--on')?.scrollIntoView({ block: 'nearest' });
  }

  close() { clearTimeout(this.timer); this.seq += 1; this.el.hidden = true; this.items = []; }

  /** Keys while the list is open: true when handled. */
  onKey(e) {
    if (!this.open) return false;
    if (e.key === 'ArrowDown' && !e.altKey) { this.at = (this.at + 1) % this.items.length; this._render(); return true; }
    if (e.key === 'ArrowUp' && !e.altKey) { this.at = this.at <= 0 ? this.items.length - 1 : this.at - 1; this._render(); return true; }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && this.at >= 0) { this.pick(this.at); return true; }
    if (e.key === 'Tab' && !e.shiftKey) { this.pick(Math.max(0, this.at)); return true; }
    if (e.key === 'Escape') { this.closedFor = phraseQuery(this.input.value); this.close(); return true; }
    return false;
  }

  pick(i) {
    const p = this.items[i];
    if (!p) return;
    this.close();
    this.afterPick = true;   // editing the picked text is not a new search (a "/key" still is)
    // the query (the last line) is replaced by the phrase, filled from this dialog
    const lines = this.input.value.split('\n');
    lines[lines.length - 1] = p.filled;
    this.onPick(lines.join('\n'), p);
  }
}

// --- spell check ----------------------------------------------------------------------------

/** Underlines in a div mirrored behind the textarea (same box, font and scroll; transparent text),
 * a click on an underlined word opens its suggestions. */
export class SpellCheck {
  constructor({ input, getConversation, isAdmin, onChange }) {
    this.input = input;
    this.getConversation = getConversation;
    this.isAdmin = isAdmin;
    this.onChange = onChange;
    this.issues = [];
    this.checked = '';
    this.timer = null;
    this.seq = 0;
    this.mirror = h('div', { class: 'spell-mirror', 'aria-hidden': 'true' });
    this.menu = h('div', { class: 'spell-menu', testid: 'spell-menu', hidden: true, role: 'menu' });
    input.addEventListener('scroll', () => { this.mirror.scrollTop = input.scrollTop; });
    input.addEventListener('click', () => this._clicked());
    document.addEventListener('mousedown', (e) => { if (!this.menu.contains(e.target)) this.menu.hidden = true; });
  }

  onInput() {
    clearTimeout(this.timer);
    this.menu.hidden = true;
    this.input.dataset.spellChecked = 'false';   // true again once the check of this very text is drawn
    this._draw();   // move the old underlines with the text at once (dropped where the text changed)
    this.timer = setTimeout(() => this.check(), SPELL_DEBOUNCE_MS);
  }

  async check() {
    const text = this.input.value;
    const conv = this.getConversation();
    if (!text.trim() || !conv) { this.issues = []; this.checked = text; this._draw(); return; }
    const my = ++this.seq;
    let res;
    try { res = await api('POST', '/spellcheck', { text, conversation_id: conv.id }); } catch { return; }
    if (my !== this.seq || this.input.value !== text) return;
    // the server is still loading its dictionaries: no underlines yet, ask again a little later
    if (!res.ready) { clearTimeout(this.timer); this.timer = setTimeout(() => this.check(), SPELL_RETRY_MS); }
    this.issues = res.ready ? res.issues : [];
    this.checked = text;
    this._draw();
    this.input.dataset.spellChecked = String(!!res.ready);
  }

  clear() { this.issues = []; this.checked = ''; this.seq += 1; clearTimeout(this.timer); this._draw(); this.menu.hidden = true; }

  /** The underlined words now (distinct, in order): what the warning before sending names. */
  words() { return [...new Set(this._live().map((i) => i.word))]; }

  /** Issues still valid for the current text (the word is still where it was). */
  _live() {
    const v = this.input.value;
    return this.issues.filter((i) => v.slice(i.start, i.end) === i.word);
  }

  _draw() {
    const v = this.input.value;
    const parts = [];
    let at = 0;
    for (const i of this._live()) {
      if (i.start < at) continue;
      parts.push(v.slice(at, i.start), h('mark', { class: 'spell-error', testid: 'spell-error', dataset: { word: i.word, start: i.start } }, i.word));
      at = i.end;
    }
    parts.push(v.slice(at), '\u200b');
    clear(this.mirror).append(...parts);
    this.mirror.scrollTop = this.input.scrollTop;
  }

  _clicked() {
    const pos = this.input.selectionStart;
    const issue = this._live().find((i) => pos >= i.start && pos <= i.end && this.input.selectionEnd === pos);
    if (!issue) { this.menu.hidden = true; return; }
    this.openMenu(issue);
  }

  openMenu(issue) {
    const mark = this.mirror.querySelector(`[data-start="${issue.start}"]`);
    const choose = (word) => {
      const v = this.input.value;
      this.input.value = v.slice(0, issue.start) + word + v.slice(issue.end);
      const caret = issue.start + word.length;
      this.input.setSelectionRange(caret, caret);
      this.menu.hidden = true;
      this.issues = this.issues.filter((x) => x !== issue).map((x) => (x.start > issue.start
        ? { ...x, start: x.start + word.length - issue.word.length, end: x.end + word.length - issue.word.length } : x));
      this._draw();
      this.input.focus();
      this.onChange();
    };
    const add = async (scope) => {
      const conv = this.getConversation();
      try {
        await api('POST', '/dictionary', scope === 'site' ? { word: issue.word, scope, site_id: conv.data.site_id } : { word: issue.word, scope });
        toast(t('spell.added', { word: issue.word }));
        this.issues = this.issues.filter((x) => x.word.toLowerCase() !== issue.word.toLowerCase());
        this.menu.hidden = true;
        this._draw();
        this.input.focus();
      } catch (err) { toast(explain(err), 'error'); }
    };
    clear(this.menu).append(...[
      ...(issue.suggestions.length ? issue.suggestions.map((s) => h('button', { type: 'button', class: 'spell-menu__item', role: 'menuitem', testid: 'spell-suggestion',
        onmousedown: (e) => { e.preventDefault(); choose(s); } }, s)) : [h('div', { class: 'muted spell-menu__none' }, t('spell.none'))]),
      h('hr'),
      h('button', { type: 'button', class: 'spell-menu__item spell-menu__add', testid: 'spell-add', onmousedown: (e) => { e.preventDefault(); add('personal'); } }, t('spell.add')),
      this.isAdmin() ? h('button', { type: 'button', class: 'spell-menu__item spell-menu__add', testid: 'spell-add-site', onmousedown: (e) => { e.preventDefault(); add('site'); } }, t('spell.addSite')) : null,
    ].filter(Boolean));
    const host = this.menu.offsetParent || this.menu.parentElement;
    if (mark && host) {
      const r = mark.getBoundingClientRect(), hr = host.getBoundingClientRect();
      this.menu.style.left = `${Math.max(0, r.left - hr.left)}px`;
      this.menu.style.bottom = `${hr.bottom - r.top + 4}px`;
    }
    this.menu.hidden = false;
  }
}
