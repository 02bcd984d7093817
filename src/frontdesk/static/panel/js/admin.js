// Pages besides the workplace: history, sites and operators (administrators), the own profile.
import { api } from './api.js';
import { t, setLanguage, LANGUAGES } from './i18n.js';
import { clear, formatDateTime, h, randomId, ratingBadge, toast } from './dom.js';
import { explain } from './errors.js';
import { escalationForm } from './escalation.js';
import { departmentsForm } from './departments.js';

const PHOTO_TYPES = ['image/png', 'image/jpeg', 'image/webp'];
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'field__label' }, label), control,
    hint ? h('span', { class: 'field__hint' }, hint) : null);
}

function lines(text) { return text.split('\n').map((s) => s.trim()).filter(Boolean); }

function errorText(err) { return explain(err); }

/** Run ``fn`` with the button disabled; errors become a visible message next to it. */
async function busy(button, status, fn) {
  button.disabled = true;
  status.textContent = t('common.saving');
  status.className = 'form-status';
  try {
    const done = await fn();
    status.textContent = done || '';
  } catch (err) {
    status.textContent = errorText(err);
    status.className = 'form-status form-status--error';
  } finally {
    button.disabled = false;
  }
}

function generatePassword() { return randomId('').slice(0, 14); }

// --- history ---------------------------------------------------------------------------

export async function renderHistory(root, ctx) {
  const body = h('tbody');
  const cols = ['history.visitor', 'history.site', 'history.last', 'history.started', 'history.closed', 'history.operator', 'history.rating', 'history.quality'];
  const cell = (i, value, cls) => h('td', { class: cls, 'data-label': t(cols[i]) }, value);
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, t('history.more'));
  const status = h('div', { class: 'form-status' });
  clear(root).append(h('div', { class: 'page page--wide' }, h('h1', {}, t('history.title')),
    h('table', { class: 'table table--click table--cards table--history', testid: 'history-table' },
      h('thead', {}, h('tr', {}, ...cols.map((k, i) => h('th', { class: i === 2 ? 'cell-text' : null }, t(k))))), body), status, more));
  let before = null;
  async function page() {
    try {
      const q = `/conversations?status=closed&limit=50${before ? `&before_id=${before}` : ''}`;
      const res = await api('GET', q);
      for (const c of res.conversations) {
        const v = c.visitor || {};
        body.append(h('tr', { testid: 'history-item', dataset: { conversationId: c.id }, tabindex: 0,
          onclick: () => ctx.openConversation(c), onkeydown: (e) => { if (e.key === 'Enter') ctx.openConversation(c); } },
        cell(0, v.display_name || v.name || v.email || t('visitor.numbered', { id: v.id }), 'cell-title'), cell(1, c.site_name, 'cell-nowrap'),
        cell(2, c.last_message?.text || '', 'cell-text'), cell(3, formatDateTime(c.created_at), 'cell-nowrap'),
        cell(4, formatDateTime(c.closed_at), 'cell-nowrap'), cell(5, c.assignee?.name || '—', 'cell-nowrap'),
        cell(6, ratingBadge(c.rating) || '—', 'cell-nowrap'),
        cell(7, c.quality_score == null ? '—' : h('span', { class: 'quality__score', testid: 'history-quality', dataset: { score: c.quality_score } }, String(c.quality_score)), 'cell-nowrap')));
      }
      if (res.conversations.length) before = res.conversations[res.conversations.length - 1].id;
      more.hidden = !res.has_more;
      if (!body.children.length) status.textContent = t('history.empty');
    } catch (err) {
      status.textContent = errorText(err);
    }
  }
  more.addEventListener('click', page);
  await page();
}

// --- sites -----------------------------------------------------------------------------

export async function renderSites(root) {
  const { sites } = await api('GET', '/sites');
  const list = h('ul', { class: 'side-list' });
  const detail = h('div', { class: 'page__detail' });
  let selected = sites[0]?.id ?? null;

  function renderList() {
    clear(list).append(...sites.map((s) => h('li', {}, h('button', {
      type: 'button', class: `side-list__item${s.id === selected ? ' side-list__item--on' : ''}`, testid: 'site-item',
      onclick: () => { selected = s.id; renderList(); renderDetail(); },
    }, s.name))));
    list.append(h('li', {}, h('button', { type: 'button', class: `side-list__item side-list__new${selected === 'new' ? ' side-list__item--on' : ''}`,
      testid: 'site-new', onclick: () => { selected = 'new'; renderList(); renderDetail(); } }, `+ ${t('sites.new')}`)));
  }

  function renderDetail() {
    clear(detail);
    if (selected === 'new') { detail.append(newSiteForm()); return; }
    const site = sites.find((s) => s.id === selected);
    if (site) detail.append(siteForm(site), hoursForm(site), departmentsForm(site), escalationForm(site), qualityForm(site));
  }

  function newSiteForm() {
    const name = h('input', { type: 'text', required: true, maxlength: 200, testid: 'site-name' });
    const origins = h('textarea', { rows: 3, testid: 'site-origins', placeholder: 'https://shop.example' });
    const button = h('button', { type: 'submit', class: 'btn btn--primary', testid: 'site-create' }, t('sites.create'));
    const status = h('span', { class: 'form-status' });
    return h('form', { class: 'form', onsubmit: (e) => {
      e.preventDefault();
      busy(button, status, async () => {
        const { site } = await api('POST', '/sites', { name: name.value, allowed_origins: lines(origins.value) });
        sites.push(site);
        selected = site.id;
        renderList();
        renderDetail();
        return '';
      });
    } }, h('h2', {}, t('sites.new')), field(t('sites.name'), name), field(t('sites.origins'), origins, t('sites.originsHint')),
    h('div', { class: 'form__actions' }, button, status));
  }

  function siteForm(site) {
    const w = site.widget;
    const name = h('input', { type: 'text', value: site.name, maxlength: 200, testid: 'site-name' });
    const origins = h('textarea', { rows: 3, testid: 'site-origins', placeholder: 'https://shop.example' });
    origins.value = site.allowed_origins.join('\n');
    const notify = h('textarea', { rows: 2 });
    notify.value = site.notify_emails.join('\n');
    const color = h('input', { type: 'color', value: w.color, testid: 'site-color' });
    const position = h('select', { testid: 'site-position' },
      ...['right', 'left'].map((p) => h('option', { value: p, selected: w.position === p }, t(`sites.position.${p}`))));
    const lang = h('select', { testid: 'site-language' },
      h('option', { value: 'auto', selected: w.language === 'auto' }, t('sites.language.auto')),
      h('option', { value: 'ru', selected: w.language === 'ru' }, 'Русский'),
      h('option', { value: 'en', selected: w.language === 'en' }, 'English'));
    const showOp = h('input', { type: 'checkbox', checked: !!w.show_operator });
    // the visitor may e-mail itself the transcript from the widget (docs/reports.md)
    const visitorTranscript = h('input', { type: 'checkbox', checked: w.transcript !== false, testid: 'site-transcript' });
    const rating = h('select', { testid: 'site-rating' },
      ...['stars', 'thumbs'].map((r) => h('option', { value: r, selected: (w.rating || 'stars') === r }, t(`sites.rating.${r}`))));
    // window behaviour (docs/invitations.md): seconds before the launcher shows, before the window opens by itself
    const launcherDelay = h('input', { type: 'number', min: 0, max: 600, step: 1, value: w.launcher_delay || 0, testid: 'site-launcher-delay' });
    const autoOpen = h('input', { type: 'number', min: 0, max: 3600, step: 1, value: w.auto_open_delay || 0, testid: 'site-auto-open-delay' });
    // bans and spam (docs/moderation.md): visitor messages with profanity, in the operators' view
    const profanity = h('select', { testid: 'site-profanity' },
      ...['off', 'flag', 'mask'].map((m) => h('option', { value: m, selected: (w.profanity || 'off') === m }, t(`sites.profanity.${m}`))));
    const texts = {};
    const textBlocks = (keys) => ['ru', 'en'].map((l) => h('fieldset', { class: 'fieldset' }, h('legend', {}, l === 'ru' ? 'Русский' : 'English'),
      ...keys.map((k) => {
        const input = ['title', 'subtitle', 'placeholder', 'offline_title', 'auto_hold', 'launcher'].includes(k)
          ? h('input', { type: 'text', maxlength: 500 }) : h('textarea', { rows: ['greeting', 'offline_text'].includes(k) ? 2 : 3, maxlength: 500 });
        input.dataset.testid = `site-text-${l}-${k}`;
        input.value = w.texts?.[l]?.[k] ?? '';
        texts[`${l}.${k}`] = input;
        return field(t(`sites.text.${k}`), input);
      })));
    const widgetTexts = textBlocks(['title', 'subtitle', 'placeholder', 'offline_title', 'offline_text', 'launcher']);
    // greeting and holding phrases (issue 9): the widget's greeting, the no-reply holding message in its
    // four truthful variants, the automatic "Одну минуточку…" and after how many seconds (0 = off)
    const phraseTexts = textBlocks(['greeting', 'auto_hold', 'hold_online', 'ask_online', 'hold', 'ask']);
    const autoHold = h('input', { type: 'number', min: 0, max: 3600, step: 1, value: String(w.auto_hold_seconds ?? 0),
      class: 'input--short', testid: 'site-auto-hold-seconds' });
    const embed = h('textarea', { class: 'code', rows: 2, readOnly: true, testid: 'site-embed' });
    embed.value = site.embed;
    const copyStatus = h('span', { class: 'form-status' });
    const copy = h('button', { type: 'button', class: 'btn', testid: 'site-embed-copy', onclick: async () => {
      embed.select();
      try { await navigator.clipboard.writeText(site.embed); } catch { document.execCommand?.('copy'); }
      copyStatus.textContent = t('sites.copied');
    } }, t('sites.copy'));
    const save = h('button', { type: 'submit', class: 'btn btn--primary', testid: 'site-save' }, t('sites.save'));
    const status = h('span', { class: 'form-status', testid: 'site-status' });
    return h('form', { class: 'form', onsubmit: (e) => {
      e.preventDefault();
      busy(save, status, async () => {
        const textsOut = { ru: {}, en: {} };
        for (const [key, input] of Object.entries(texts)) { const [l, k] = key.split('.'); textsOut[l][k] = input.value; }
        const res = await api('PATCH', `/sites/${site.id}`, {
          name: name.value, allowed_origins: lines(origins.value), notify_emails: lines(notify.value),
          widget: { color: color.value, position: position.value, language: lang.value, show_operator: showOp.checked, rating: rating.value, profanity: profanity.value, texts: textsOut,
            transcript: visitorTranscript.checked,
            auto_hold_seconds: Math.max(0, Math.min(3600, Math.round(Number(autoHold.value) || 0))),
            launcher_delay: Math.max(0, Math.round(+launcherDelay.value || 0)), auto_open_delay: Math.max(0, Math.round(+autoOpen.value || 0)) },
        });
        Object.assign(site, res.site);
        renderList();
        return t('sites.saved');
      });
    } },
    h('h2', {}, site.name),
    site.allowed_origins.length ? '' : h('div', { class: 'notice notice--warn', role: 'alert', testid: 'site-no-origins' }, t('sites.noOrigins')),
    h('section', { class: 'form__section' }, h('h3', {}, t('sites.embed')),
      h('p', { class: 'field__hint' }, t('sites.embedHint')), embed, h('div', { class: 'form__actions' }, copy, copyStatus)),
    field(t('sites.name'), name),
    field(t('sites.origins'), origins, t('sites.originsHint')),
    field(t('sites.notify'), notify),
    h('section', { class: 'form__section' }, h('h3', {}, t('sites.widget')),
      h('div', { class: 'form__grid' }, field(t('sites.color'), color), field(t('sites.position'), position), field(t('sites.language'), lang),
        field(t('sites.rating'), rating), field(t('sites.profanity'), profanity), field(t('sites.launcherDelay'), launcherDelay, t('sites.secondsHint')),
        field(t('sites.autoOpenDelay'), autoOpen, t('sites.autoOpenHint'))),
      h('label', { class: 'check' }, showOp, ' ', t('sites.showOperator')),
      h('label', { class: 'check' }, visitorTranscript, ' ', t('sites.visitorTranscript'))),
    h('section', { class: 'form__section' }, h('h3', {}, t('sites.texts')), h('div', { class: 'form__grid form__grid--2' }, ...widgetTexts)),
    h('section', { class: 'form__section', testid: 'site-phrases' }, h('h3', {}, t('sites.phrases')),
      h('p', { class: 'field__hint' }, t('sites.phrasesHint')),
      field(t('sites.autoHold'), autoHold, t('sites.autoHoldHint')),
      h('div', { class: 'form__grid form__grid--2' }, ...phraseTexts)),
    h('div', { class: 'form__actions form__actions--sticky' }, save, status));
  }

  // Working hours (GET/PUT /sites/{id}/hours): 24×7, or a time zone and intervals per weekday.
  // Checked here with clear messages; whatever the server still refuses (an unknown time zone) is shown as it says.
  function hoursForm(site) {
    const form = h('form', { class: 'form', testid: 'hours-editor', novalidate: true });
    const status = h('span', { class: 'form-status', testid: 'hours-status', role: 'status' });
    const nowLine = h('p', { class: 'field__hint', testid: 'hours-now' });
    let model = null;   // {always, timezone, days: {mon: [["09:00", "18:00"]], …}}
    let inputs = [];    // [{day, index, which, el}] for marking bad ones

    function paintNow(a) {
      if (!a) { nowLine.textContent = ''; return; }
      const state = !a.within_hours ? 'closed' : a.operators_online ? 'open' : 'noOperators';
      nowLine.textContent = t('hours.now', { state: t(`hours.now.${state}`) });
    }

    function fromServer(hours) {
      const days = {};
      for (const d of DAYS) days[d] = hours ? (hours.days[d] || []).map((p) => [...p]) : [];
      if (!hours) for (const d of DAYS.slice(0, 5)) days[d] = [['09:00', '18:00']];   // a first template
      let tz = hours?.timezone;
      if (!tz) { try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch { tz = ''; } }
      return { always: !hours, timezone: tz || 'Europe/Moscow', days };
    }

    function render() {
      inputs = [];
      const always = h('input', { type: 'checkbox', checked: model.always, testid: 'hours-always', onchange: () => { model.always = always.checked; render(); } });
      const tz = h('input', { type: 'text', value: model.timezone, list: `tz-${site.id}`, class: 'hours-tz', testid: 'hours-timezone',
        autocomplete: 'off', spellcheck: 'false', oninput: () => { model.timezone = tz.value; } });
      let zones = [];
      try { zones = Intl.supportedValuesOf('timeZone'); } catch { /* older browsers: free text */ }
      const rows = DAYS.map((day) => {
        const cell = h('div', { class: 'hours-day' });
        model.days[day].forEach((pair, index) => {
          const one = (which) => {
            const el = h('input', { type: 'text', value: pair[which], inputmode: 'numeric', maxlength: 5, placeholder: which ? '18:00' : '09:00',
              testid: which ? 'hours-end' : 'hours-start', 'aria-label': `${t(`day.${day}`)}: ${t(which ? 'hours.to' : 'hours.from')}`,
              oninput: () => { pair[which] = el.value; el.removeAttribute('aria-invalid'); } });
            inputs.push({ day, index, which, el });
            return el;
          };
          cell.append(h('span', { class: 'hours-int' }, one(0), '–', one(1),
            h('button', { type: 'button', class: 'btn btn--ghost btn--small', testid: 'hours-remove', 'aria-label': t('hours.remove'), title: t('hours.remove'),
              onclick: () => { model.days[day].splice(index, 1); render(); } }, '×')));
        });
        if (!model.days[day].length) cell.append(h('span', { class: 'hours-off' }, t('hours.dayOff')));
        if (model.days[day].length < 8) {
          cell.append(h('button', { type: 'button', class: 'link', testid: 'hours-add', onclick: () => {
            const last = model.days[day][model.days[day].length - 1];
            model.days[day].push(last ? [last[1] === '24:00' ? '23:00' : last[1], '24:00'] : ['09:00', '18:00']);
            render();
          } }, t('hours.add')));
        }
        return h('tr', { testid: 'hours-day', dataset: { day } }, h('th', { scope: 'row' }, t(`day.${day}`)), h('td', {}, cell));
      });
      const save = h('button', { type: 'submit', class: 'btn btn--primary', testid: 'hours-save' }, t('hours.save'));
      // through h(): it skips the nulls of the 24×7 case (Element.append would print them as "null")
      clear(form).append(...h('div', {},
        h('h2', {}, t('hours.title')),
        h('p', { class: 'field__hint' }, t('hours.hint')),
        h('label', { class: 'check' }, always, ' ', t('hours.always')),
        model.always ? null : field(t('hours.timezone'), tz, t('hours.timezoneHint')),
        model.always ? null : h('datalist', { id: `tz-${site.id}` }, ...zones.map((z) => h('option', { value: z }))),
        model.always ? null : h('table', { class: 'hours-days' }, h('tbody', {}, ...rows)),
        model.always ? null : h('div', { class: 'form__actions' }, h('button', { type: 'button', class: 'btn btn--small hours-copy', testid: 'hours-copy', onclick: () => {
          for (const d of DAYS.slice(1, 5)) model.days[d] = model.days.mon.map((p) => [...p]);
          render();
        } }, t('hours.copy'))),
        nowLine,
        h('div', { class: 'form__actions' }, save, status)).childNodes);
    }

    /** The hours to send, or throws an Error with a message for the operator (and marks the input). */
    function collect() {
      for (const i of inputs) i.el.removeAttribute('aria-invalid');
      form.querySelector('[data-testid="hours-timezone"]')?.removeAttribute('aria-invalid');
      if (model.always) return null;
      const timezone = model.timezone.trim();
      if (!timezone) throw new Error(t('hours.noTimezone'));
      const days = {};
      for (const day of DAYS) {
        const name = t(`day.${day}`);
        const norm = (value, index, which) => {
          const m = /^(\d{1,2})[:.]?(\d{2})$/.exec(value.trim());
          const out = m ? `${m[1].padStart(2, '0')}:${m[2]}` : '';
          if (!/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/.test(out)) {
            mark(day, index, which);
            throw new Error(t('hours.badTime', { day: name, value: value.trim() }));
          }
          return out;
        };
        const pairs = model.days[day].map((p, i) => [norm(p[0], i, 0), norm(p[1], i, 1)]);
        if (pairs.length > 8) throw new Error(t('hours.tooMany', { day: name }));
        pairs.forEach(([a, b], i) => {
          if (a === '24:00' || a >= b) { mark(day, i, 0); mark(day, i, 1); throw new Error(t('hours.order', { day: name, start: a, end: b })); }
        });
        const sorted = [...pairs].sort((x, y) => (x[0] < y[0] ? -1 : 1));
        for (let i = 1; i < sorted.length; i += 1) if (sorted[i][0] < sorted[i - 1][1]) throw new Error(t('hours.overlap', { day: name }));
        if (sorted.length) days[day] = sorted;
      }
      return { timezone, days };
    }
    function mark(day, index, which) {
      const found = inputs.find((i) => i.day === day && i.index === index && i.which === which);
      if (found) { found.el.setAttribute('aria-invalid', 'true'); found.el.focus(); }
    }

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const say = (text, bad) => { status.textContent = text; status.className = `form-status${bad ? ' form-status--error' : ''}`; };
      let hours;
      try { hours = collect(); } catch (err) { say(err.message, true); return; }
      const button = form.querySelector('[data-testid="hours-save"]');
      button.disabled = true;
      say(t('common.saving'));
      try {
        const res = await api('PUT', `/sites/${site.id}/hours`, { hours });
        model = fromServer(res.hours);
        render();
        paintNow(res.availability);
        say(t('hours.saved'));
      } catch (err) {
        say(err.status === 422 ? t('hours.rejected', { message: explain(err) }) : errorText(err), true);
        if (err.status === 422 && /time ?zone/i.test(err.message)) form.querySelector('[data-testid="hours-timezone"]')?.setAttribute('aria-invalid', 'true');
      } finally {
        button.disabled = false;
      }
    });

    form.append(h('h2', {}, t('hours.title')), h('p', { class: 'form-status' }, t('hours.loading')));
    api('GET', `/sites/${site.id}/hours`).then((res) => {
      model = fromServer(res.hours);
      render();
      paintNow(res.availability);
    }, (err) => {
      clear(form).append(h('h2', {}, t('hours.title')), h('p', { class: 'form-status form-status--error' }, errorText(err)));
    });
    return form;
  }

  clear(root).append(h('div', { class: 'page page--split' },
    h('div', { class: 'page__side' }, h('h1', {}, t('sites.title')), list), detail));
  renderList();
  renderDetail();
}

// --- operators -------------------------------------------------------------------------

export async function renderOperators(root, ctx) {
  const [{ operators }, { sites }] = await Promise.all([api('GET', '/operators'), api('GET', '/sites')]);
  const body = h('tbody');
  const notice = h('div', { class: 'notice', testid: 'operators-notice', hidden: true });

  function show(text) { notice.hidden = false; notice.textContent = text; }

  function renderRows() {
    clear(body).append(...operators.map((op) => {
      const me = op.id === ctx.me.id;
      const siteBoxes = sites.map((s) => h('label', { class: 'check check--inline' },
        h('input', { type: 'checkbox', value: s.id, checked: (op.site_ids || []).includes(s.id), disabled: op.role === 'admin' }), ' ', s.name));
      const saveSites = op.role === 'admin' ? null : h('button', { type: 'button', class: 'link', onclick: async () => {
        const ids = siteBoxes.map((l) => l.querySelector('input')).filter((i) => i.checked).map((i) => Number(i.value));
        try { const res = await api('PUT', `/operators/${op.id}/sites`, { site_ids: ids }); op.site_ids = res.site_ids; toast(t('sites.saved')); } catch (err) { toast(errorText(err), 'error'); }
      } }, t('ops.saveSites'));
      const reset = h('button', { type: 'button', class: 'btn btn--small', testid: 'operator-reset', onclick: async () => {
        const password = generatePassword();
        try { await api('POST', `/operators/${op.id}/password`, { password }); show(t('ops.passwordSet', { name: op.name, password })); } catch (err) { show(errorText(err)); }
      } }, t('ops.resetPassword'));
      const toggle = me ? null : h('button', { type: 'button', class: 'btn btn--small', testid: 'operator-toggle', onclick: async () => {
        if (op.is_active && !window.confirm(t('ops.confirmDeactivate', { name: op.name }))) return;
        try {
          const res = await api('PATCH', `/operators/${op.id}`, { is_active: !op.is_active });
          Object.assign(op, res.operator);
          renderRows();
        } catch (err) { show(errorText(err)); }
      } }, op.is_active ? t('ops.deactivate') : t('ops.reactivate'));
      const cell = (label, cls, ...content) => h('td', { class: cls, 'data-label': label ? t(label) : null }, ...content);
      return h('tr', { testid: 'operator-row', dataset: { operatorId: op.id }, class: op.is_active ? '' : 'row--inactive' },
        cell(null, 'cell-title', h('span', { class: `dot dot--${op.status}`, title: t(`status.${op.status}`) }), ' ', op.name, me ? h('span', { class: 'muted' }, ` (${t('ops.you')})`) : null),
        cell('ops.email', 'cell-email', op.email),
        cell('ops.role', 'cell-nowrap', t(`ops.role.${op.role}`)),
        cell('ops.status', 'cell-nowrap', op.is_active ? t('ops.active') : t('ops.inactive')),
        cell('ops.sites', 'cell-sites', op.role === 'admin' ? h('span', { class: 'muted', testid: 'operator-all-sites', title: t('ops.role.admin') }, t('ops.allSites')) : [...siteBoxes, saveSites]),
        cell(null, 'cell-actions', reset, ' ', toggle));
    }));
  }

  const email = h('input', { type: 'email', required: true, maxlength: 320, testid: 'operator-email' });
  const name = h('input', { type: 'text', required: true, maxlength: 100, testid: 'operator-name' });
  const password = h('input', { type: 'text', required: true, minlength: 8, maxlength: 256, testid: 'operator-password', value: generatePassword() });
  const isAdmin = h('input', { type: 'checkbox', testid: 'operator-admin' });
  const create = h('button', { type: 'submit', class: 'btn btn--primary', testid: 'operator-create' }, t('ops.create'));
  const status = h('span', { class: 'form-status' });
  const form = h('form', { class: 'form form--inline', onsubmit: (e) => {
    e.preventDefault();
    busy(create, status, async () => {
      const res = await api('POST', '/operators', { email: email.value, name: name.value, password: password.value, admin: isAdmin.checked });
      operators.push(res.operator);
      renderRows();
      show(t('ops.created', { password: password.value }));
      email.value = name.value = '';
      password.value = generatePassword();
      return '';
    });
  } },
  field(t('ops.email'), email), field(t('ops.name'), name),
  field(t('ops.password'), h('span', { class: 'input-row' }, password, h('button', { type: 'button', class: 'btn', testid: 'operator-generate', onclick: () => { password.value = generatePassword(); } }, t('ops.generate')))),
  h('label', { class: 'check' }, isAdmin, ' ', t('ops.admin')), h('div', { class: 'form__actions' }, create, status));

  clear(root).append(h('div', { class: 'page' }, h('h1', {}, t('ops.title')),
    ctx.smtpEnabled ? null : h('p', { class: 'field__hint', testid: 'operators-smtp-off' }, t('ops.smtpOff'), ' ',
      h('a', { href: ctx.docsUrl, target: '_blank', rel: 'noopener' }, t('mail.howTo'))), notice,
    h('table', { class: 'table table--cards', testid: 'operators-table' }, h('thead', {}, h('tr', {},
      ...['ops.name', 'ops.email', 'ops.role', 'ops.status', 'ops.sites', ''].map((k) => h('th', {}, k ? t(k) : '')))), body),
    h('section', { class: 'form__section' }, h('h2', {}, t('ops.new')), form)));
  renderRows();
}

// --- profile -----------------------------------------------------------------------------

export function renderProfile(root, ctx) {
  let me = ctx.me;   // replaced by the server's answer after each change (ctx.me is the page's first copy)
  const changed = (op) => { me = { ...me, ...op }; ctx.updateMe(op); };
  const maxKb = ctx.photoMaxBytes ? Math.floor(ctx.photoMaxBytes / 1024) : null;
  const name = h('input', { type: 'text', value: me.name, maxlength: 100, required: true, testid: 'profile-name' });
  const lang = h('select', { testid: 'profile-language' },
    ...LANGUAGES.map((l) => h('option', { value: l, selected: me.language === l }, l === 'ru' ? 'Русский' : 'English')));
  const save = h('button', { type: 'submit', class: 'btn btn--primary', testid: 'profile-save' }, t('profile.save'));
  const saveStatus = h('span', { class: 'form-status', testid: 'profile-status' });
  const profileForm = h('form', { class: 'form', onsubmit: (e) => {
    e.preventDefault();
    busy(save, saveStatus, async () => {
      const res = await api('PATCH', '/me', { name: name.value, language: lang.value });
      const changedLanguage = res.operator.language !== me.language;
      changed(res.operator);
      if (changedLanguage) { setLanguage(res.operator.language); ctx.relabel(); }
      return t('profile.saved');
    });
  } }, h('h2', {}, t('profile.title')), field(t('profile.name'), name), field(t('profile.language'), lang),
  h('div', { class: 'form__actions' }, save, saveStatus));

  const photo = h('div', { class: 'avatar avatar--big', testid: 'profile-photo' });
  const paintPhoto = () => {
    clear(photo);
    remove.hidden = !me.photo_url;
    if (me.photo_url) photo.append(h('img', { src: me.photo_url, alt: '' }));
    else photo.textContent = (me.name || '?').slice(0, 1).toUpperCase();
  };
  let remove = null;
  const file = h('input', { type: 'file', accept: PHOTO_TYPES.join(','), testid: 'profile-photo-file', class: 'visually-hidden' });
  const photoStatus = h('span', { class: 'form-status', testid: 'profile-photo-status' });
  const upload = h('button', { type: 'button', class: 'btn', onclick: () => file.click() }, t('profile.photoUpload'));
  remove = h('button', { type: 'button', class: 'btn btn--ghost', testid: 'profile-photo-remove', onclick: () => busy(remove, photoStatus, async () => {
    const res = await api('DELETE', '/me/photo');
    changed(res.operator);
    paintPhoto();
    return '';
  }) }, t('profile.photoRemove'));
  file.addEventListener('change', () => {
    const f = file.files?.[0];
    file.value = '';
    if (!f) return;
    // checked here for a quick answer; the server checks again, by the file's bytes
    if (!PHOTO_TYPES.includes(f.type)) { photoStatus.textContent = t('profile.photoType'); photoStatus.className = 'form-status form-status--error'; return; }
    if (ctx.photoMaxBytes && f.size > ctx.photoMaxBytes) {
      photoStatus.textContent = t('profile.photoTooBig', { size: Math.ceil(f.size / 1024), max: maxKb });
      photoStatus.className = 'form-status form-status--error';
      return;
    }
    busy(upload, photoStatus, async () => {
      const form = new FormData();
      form.append('photo', f);
      const res = await api('POST', '/me/photo', form);
      changed(res.operator);
      paintPhoto();
      return t('profile.photoDone');
    });
  });
  paintPhoto();
  const photoSection = h('section', { class: 'form form__section' }, h('h2', {}, t('profile.photo')),
    h('div', { class: 'photo-row' }, photo, h('div', {}, h('div', { class: 'form__actions' }, upload, remove, file),
      h('p', { class: 'field__hint' }, maxKb ? t('profile.photoHint', { size: maxKb }) : t('profile.photoHintNoSize')), photoStatus)));

  const current = h('input', { type: 'password', autocomplete: 'current-password', required: true, testid: 'profile-current-password' });
  const next = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8, testid: 'profile-new-password' });
  const again = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8, testid: 'profile-repeat-password' });
  const change = h('button', { type: 'submit', class: 'btn btn--primary', testid: 'profile-change-password' }, t('profile.changePassword'));
  const pwStatus = h('span', { class: 'form-status', testid: 'profile-password-status' });
  const pwForm = h('form', { class: 'form form__section', onsubmit: (e) => {
    e.preventDefault();
    if (next.value !== again.value) { pwStatus.textContent = t('profile.passwordMismatch'); pwStatus.className = 'form-status form-status--error'; return; }
    busy(change, pwStatus, async () => {
      try {
        await api('POST', '/me/password', { current_password: current.value, new_password: next.value });
      } catch (err) {
        if (err.code === 'wrong_password') err.message = t('profile.wrongPassword');
        throw err;
      }
      current.value = next.value = again.value = '';
      return t('profile.passwordChanged');
    });
  } }, h('h2', {}, t('profile.password')), h('input', { type: 'text', autocomplete: 'username', value: me.email, hidden: true }),
  field(t('profile.currentPassword'), current), field(t('profile.newPassword'), next), field(t('profile.repeatPassword'), again),
  h('div', { class: 'form__actions' }, change, pwStatus));

  clear(root).append(h('div', { class: 'page page--narrow' }, profileForm, photoSection, pwForm));
}

// --- the quality coach's settings of a site (GET/PUT /quality/{site}/settings; docs/quality.md) --------

const COACH_CRITERIA = ['greeting', 'first_reply', 'questions_answered', 'no_long_silence', 'polite_closing', 'spelling'];

function qualityForm(site) {
  const form = h('form', { class: 'form', testid: 'quality-settings', novalidate: true });
  const status = h('span', { class: 'form-status', testid: 'quality-settings-status', role: 'status' });
  const num = (value, min, max, testid, step = 1) => h('input', { type: 'number', min, max, step, value, testid, inputmode: 'decimal' });
  clear(form).append(h('h2', {}, t('quality.settings')), h('p', { class: 'field__hint' }, t('quality.settingsHint')), status);
  api('GET', `/quality/${site.id}/settings`).then(({ settings }) => {
    const weights = Object.fromEntries(COACH_CRITERIA.map((c) => [c, num(settings.weights[c] ?? 0, 0, 10, 'quality-weight', 0.5)]));
    for (const [c, el] of Object.entries(weights)) el.dataset.criterion = c;
    const firstReply = num(settings.first_reply_seconds, 5, 3600, 'quality-first-reply');
    const silence = num(settings.silence_minutes, 1, 240, 'quality-silence');
    const save = h('button', { type: 'submit', class: 'btn btn--primary', testid: 'quality-settings-save' }, t('sites.save'));
    clear(form).append(h('h2', {}, t('quality.settings')), h('p', { class: 'field__hint' }, t('quality.settingsHint')),
      h('div', { class: 'form__grid' }, field(t('quality.firstReplySeconds'), firstReply), field(t('quality.silenceMinutes'), silence)),
      h('h3', {}, t('quality.weights')),
      h('div', { class: 'form__grid' }, ...COACH_CRITERIA.map((c) => field(t(`quality.c.${c}`), weights[c]))),
      h('div', { class: 'form__actions' }, save, status));
    form.onsubmit = (e) => {
      e.preventDefault();
      busy(save, status, async () => {
        await api('PUT', `/quality/${site.id}/settings`, {
          first_reply_seconds: Number(firstReply.value), silence_minutes: Number(silence.value),
          weights: Object.fromEntries(COACH_CRITERIA.map((c) => [c, Number(weights[c].value)])),
        });
        return t('sites.saved');
      });
    };
  }).catch((err) => { status.textContent = explain(err); });
  return form;
}
