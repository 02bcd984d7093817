// "Приглашения": a site's invitation rules with their counts (every operator of the site reads;
// admins add, change and remove), and the manual invitation box of the visitors list.
// docs/invitations.md. Everything a visitor or an admin typed is shown as text (h() sets textContent).
import { api } from './api.js';
import { t } from './i18n.js';
import { clear, h, toast } from './dom.js';
import { explain } from './errors.js';

const SOURCES = ['ads', 'search', 'social', 'campaign', 'referral', 'internal', 'direct'];
const DEVICES = ['desktop', 'phone', 'tablet'];
const DAYS = [1, 2, 3, 4, 5, 6, 7];
const DAY_KEYS = { 1: 'mon', 2: 'tue', 3: 'wed', 4: 'thu', 5: 'fri', 6: 'sat', 7: 'sun' };

function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'field__label' }, label), control,
    hint ? h('span', { class: 'field__hint' }, hint) : null);
}
function num(value, attrs = {}) { return h('input', { type: 'number', min: 0, step: 1, value: value ?? '', ...attrs }); }
function checks(values, chosen, label, testid) {
  const boxes = values.map((v) => h('input', { type: 'checkbox', value: v, checked: (chosen || []).includes(v) }));
  return {
    el: h('div', { class: 'checks', testid }, ...boxes.map((b, i) => h('label', { class: 'check' }, b, ' ', label(values[i])))),
    value: () => boxes.filter((b) => b.checked).map((b) => (typeof values[0] === 'number' ? Number(b.value) : b.value)),
  };
}

/** One line about what a rule waits for, from its conditions. */
export function describe(c) {
  const parts = [];
  if (c.url) parts.push(t(`inv.sum.url.${c.url.match}`, { value: c.url.value }));
  if (c.pages_min) parts.push(t('inv.sum.pages', { n: c.pages_min }));
  if (c.page_seconds) parts.push(t('inv.sum.pageSeconds', { n: c.page_seconds }));
  if (c.site_seconds) parts.push(t('inv.sum.siteSeconds', { n: c.site_seconds }));
  if (c.visit) parts.push(t(`inv.visit.${c.visit}`));
  if (c.visit_min) parts.push(t('inv.sum.visitMin', { n: c.visit_min }));
  if (c.sources) parts.push(c.sources.map((s) => t(`inv.source.${s}`)).join(', '));
  if (c.utm) parts.push(Object.entries(c.utm).map(([k, v]) => `utm_${k}=${v}`).join(' '));
  if (c.countries) parts.push(c.countries.join(', '));
  if (c.devices) parts.push(c.devices.map((d) => t(`inv.device.${d}`)).join(', '));
  if (c.days) parts.push(c.days.map((d) => t(`day.${DAY_KEYS[d]}`)).join(', '));
  if (c.hours) parts.push(`${c.hours[0]}:00–${c.hours[1]}:00`);
  if (c.operator_online) parts.push(t('inv.operatorOnline'));
  return parts.length ? parts.join(' · ') : t('inv.sum.always');
}

export async function renderInvitations(root, ctx) {
  const admin = ctx.me.role === 'admin';
  const { sites } = await api('GET', '/sites');
  const page = h('div', { class: 'page page--wide invitations' }, h('h1', {}, t('inv.title')),
    h('p', { class: 'field__hint' }, t('inv.lead')));
  clear(root).append(page);
  if (!sites.length) { page.append(h('p', { class: 'empty-state' }, t('reports.noSites'))); return; }
  let site = sites[0].id;
  let operators = null;   // admins: who may sign an invitation
  const siteSelect = h('select', { testid: 'invitation-site', 'aria-label': t('reports.site'),
    onchange: () => { site = Number(siteSelect.value); load(); } }, ...sites.map((s) => h('option', { value: s.id }, s.name)));
  const list = h('div', { class: 'inv-list', testid: 'invitation-rules' });
  const editor = h('div', { class: 'inv-editor' });
  const status = h('div', { class: 'form-status', role: 'status' });
  const add = admin ? h('button', { type: 'button', class: 'btn btn--primary', testid: 'invitation-new', onclick: () => edit(null) }, `+ ${t('inv.new')}`) : null;
  page.append(h('div', { class: 'inv-bar' }, sites.length > 1 ? siteSelect : h('strong', {}, sites[0].name), add), status, editor, list);

  let rules = [];
  async function load() {
    status.textContent = t('reports.loading');
    try {
      rules = (await api('GET', `/sites/${site}/invitations`)).rules;
      status.textContent = '';
    } catch (err) { status.textContent = explain(err); return; }
    paint();
  }
  function paint() {
    clear(list);
    if (!rules.length) { list.append(h('p', { class: 'empty-state', testid: 'invitation-empty' }, t('inv.empty'))); return; }
    list.append(h('table', { class: 'table table--cards inv-table' },
      h('thead', {}, h('tr', {}, ...['inv.col.name', 'inv.col.when', 'inv.col.shown', 'inv.col.accepted', 'inv.col.dismissed', 'inv.col.state']
        .map((k) => h('th', {}, t(k))), admin ? h('th', {}, '') : null)),
      h('tbody', {}, ...rules.map(row))));
  }
  function row(r) {
    const c = r.counts;
    const cell = (k, v, cls) => h('td', { 'data-label': t(k), class: cls }, v);
    return h('tr', { testid: 'invitation-rule', dataset: { ruleId: r.id, shown: c.shown, accepted: c.accepted, dismissed: c.dismissed } },
      cell('inv.col.name', h('div', {}, h('strong', {}, r.name), h('div', { class: 'muted inv-text' }, r.action.text.ru || r.action.text.en || '')), 'cell-title'),
      cell('inv.col.when', describe(r.conditions), 'inv-when'),
      cell('inv.col.shown', String(c.shown), 'cell-num'),
      cell('inv.col.accepted', String(c.accepted), 'cell-num'),
      cell('inv.col.dismissed', String(c.dismissed), 'cell-num'),
      cell('inv.col.state', h('span', { class: r.enabled ? 'badge badge--on' : 'muted' }, t(r.enabled ? 'inv.on' : 'inv.off'))),
      admin ? h('td', {}, h('div', { class: 'inv-actions' },
        h('button', { type: 'button', class: 'btn btn--small', testid: 'invitation-edit', onclick: () => edit(r) }, t('inv.edit')),
        h('button', { type: 'button', class: 'btn btn--small btn--ghost', testid: 'invitation-delete', onclick: async () => {
          if (!window.confirm(t('inv.deleteConfirm', { name: r.name }))) return;
          try { await api('DELETE', `/invitations/${r.id}`); await load(); } catch (err) { toast(explain(err), 'error'); }
        } }, t('inv.delete')))) : null);
  }

  async function edit(rule) {
    if (operators === null) {
      try { operators = (await api('GET', '/operators')).operators; } catch { operators = []; }
    }
    const r = rule || { name: '', enabled: true, priority: 0, conditions: {}, caps: { once_per_visit: true },
      action: { text: { ru: '', en: '' }, sender: 'site', open_window: false } };
    const c = r.conditions, caps = r.caps;
    const name = h('input', { type: 'text', maxlength: 200, value: r.name, required: true, testid: 'invitation-name' });
    const enabled = h('input', { type: 'checkbox', checked: r.enabled, testid: 'invitation-enabled' });
    const priority = num(r.priority, { min: -1000, max: 1000, testid: 'invitation-priority' });
    const textRu = h('textarea', { rows: 2, maxlength: 1000, testid: 'invitation-text-ru' }); textRu.value = r.action.text.ru || '';
    const textEn = h('textarea', { rows: 2, maxlength: 1000, testid: 'invitation-text-en' }); textEn.value = r.action.text.en || '';
    const sender = h('select', { testid: 'invitation-sender' }, h('option', { value: '' }, t('inv.sender.site')),
      ...operators.filter((o) => o.is_active !== false).map((o) => h('option', { value: o.id, selected: r.action.operator_id === o.id }, o.name)));
    const openWin = h('input', { type: 'checkbox', checked: !!r.action.open_window, testid: 'invitation-open' });
    const pageSec = num(c.page_seconds, { max: 86400, testid: 'invitation-page-seconds' });
    const siteSec = num(c.site_seconds, { max: 86400, testid: 'invitation-site-seconds' });
    const urlMatch = h('select', { testid: 'invitation-url-match' }, h('option', { value: '' }, t('inv.url.any')),
      ...['exact', 'prefix', 'wildcard'].map((m) => h('option', { value: m, selected: c.url?.match === m }, t(`inv.url.${m}`))));
    const urlValue = h('input', { type: 'text', maxlength: 2048, value: c.url?.value || '', placeholder: '/catalog/*', testid: 'invitation-url-value' });
    const pagesMin = num(c.pages_min, { min: 1, testid: 'invitation-pages-min' });
    const visit = h('select', { testid: 'invitation-visit' }, h('option', { value: '' }, t('inv.visit.any')),
      ...['new', 'returning'].map((v) => h('option', { value: v, selected: c.visit === v }, t(`inv.visit.${v}`))));
    const visitMin = num(c.visit_min, { min: 1, testid: 'invitation-visit-min' });
    const sources = checks(SOURCES, c.sources, (s) => t(`inv.source.${s}`), 'invitation-sources');
    const utm = Object.fromEntries(['source', 'medium', 'campaign'].map((k) => [k, h('input', { type: 'text', maxlength: 200, value: c.utm?.[k] || '', testid: `invitation-utm-${k}` })]));
    const countries = h('input', { type: 'text', value: (c.countries || []).join(', '), placeholder: 'RU, KZ', testid: 'invitation-countries' });
    const devices = checks(DEVICES, c.devices, (d) => t(`inv.device.${d}`), 'invitation-devices');
    const days = checks(DAYS, c.days, (d) => t(`day.${DAY_KEYS[d]}`), 'invitation-days');
    const hourFrom = num(c.hours?.[0], { max: 23, testid: 'invitation-hour-from' });
    const hourTo = num(c.hours?.[1], { min: 1, max: 24, testid: 'invitation-hour-to' });
    const online = h('input', { type: 'checkbox', checked: !!c.operator_online, testid: 'invitation-operator-online' });
    const capBox = (k) => h('input', { type: 'checkbox', checked: !!caps[k], testid: `invitation-cap-${k.replace(/_/g, '-')}` });
    const capOnce = capBox('once_per_visit'), capDismiss = capBox('not_after_dismiss'), capChat = capBox('not_while_chatting'), capHours = capBox('working_hours_only');
    const everyDays = num(caps.every_days, { max: 3650, testid: 'invitation-cap-every-days' });
    const save = h('button', { type: 'submit', class: 'btn btn--primary', testid: 'invitation-save' }, t('inv.save'));
    const formStatus = h('span', { class: 'form-status', role: 'status', testid: 'invitation-status' });
    const int = (input) => (input.value.trim() === '' ? null : Math.round(Number(input.value)));

    const form = h('form', { class: 'form inv-form', testid: 'invitation-form', onsubmit: async (e) => {
      e.preventDefault();
      const conditions = {
        page_seconds: int(pageSec), site_seconds: int(siteSec), pages_min: int(pagesMin), visit_min: int(visitMin),
        url: urlMatch.value && urlValue.value.trim() ? { match: urlMatch.value, value: urlValue.value.trim() } : null,
        visit: visit.value || null,
        sources: sources.value().length ? sources.value() : null,
        utm: Object.fromEntries(Object.entries(utm).map(([k, i]) => [k, i.value.trim()]).filter(([, v]) => v)),
        countries: countries.value.split(/[\s,;]+/).filter(Boolean).length ? countries.value.split(/[\s,;]+/).filter(Boolean) : null,
        devices: devices.value().length ? devices.value() : null,
        days: days.value().length ? days.value() : null,
        hours: int(hourFrom) != null && int(hourTo) != null ? [int(hourFrom), int(hourTo)] : null,
        operator_online: online.checked,
      };
      const body = {
        name: name.value, enabled: enabled.checked, priority: int(priority) || 0, conditions,
        action: { text: { ru: textRu.value, en: textEn.value }, sender: sender.value ? 'operator' : 'site',
          ...(sender.value ? { operator_id: Number(sender.value) } : {}), open_window: openWin.checked },
        caps: { once_per_visit: capOnce.checked, every_days: int(everyDays) || 0, not_after_dismiss: capDismiss.checked,
          not_while_chatting: capChat.checked, working_hours_only: capHours.checked },
      };
      save.disabled = true;
      formStatus.textContent = t('common.saving');
      try {
        if (rule) await api('PATCH', `/invitations/${rule.id}`, body);
        else await api('POST', `/sites/${site}/invitations`, body);
        clear(editor);
        await load();
      } catch (err) {
        formStatus.textContent = explain(err);
        formStatus.className = 'form-status form-status--error';
      } finally { save.disabled = false; }
    } },
    h('h2', {}, rule ? t('inv.editTitle', { name: rule.name }) : t('inv.new')),
    h('div', { class: 'form__grid' }, field(t('inv.name'), name), field(t('inv.priority'), priority, t('inv.priorityHint')),
      h('label', { class: 'check' }, enabled, ' ', t('inv.enabled'))),
    h('section', { class: 'form__section' }, h('h3', {}, t('inv.message')),
      h('div', { class: 'form__grid form__grid--2' }, field('Русский', textRu), field('English', textEn)),
      h('div', { class: 'form__grid' }, field(t('inv.sender'), sender), h('label', { class: 'check' }, openWin, ' ', t('inv.openWindow')))),
    h('section', { class: 'form__section' }, h('h3', {}, t('inv.conditions')), h('p', { class: 'field__hint' }, t('inv.conditionsHint')),
      h('div', { class: 'form__grid' },
        field(t('inv.pageSeconds'), pageSec), field(t('inv.siteSeconds'), siteSec), field(t('inv.pagesMin'), pagesMin),
        field(t('inv.url'), urlMatch), field(t('inv.urlValue'), urlValue, t('inv.urlHint')),
        field(t('inv.visit'), visit), field(t('inv.visitMin'), visitMin),
        field('utm_source', utm.source), field('utm_medium', utm.medium), field('utm_campaign', utm.campaign),
        field(t('inv.countries'), countries, t('inv.countriesHint')),
        field(t('inv.hourFrom'), hourFrom), field(t('inv.hourTo'), hourTo, t('inv.hoursHint'))),
      field(t('inv.sources'), sources.el), field(t('inv.devices'), devices.el), field(t('inv.days'), days.el),
      h('label', { class: 'check' }, online, ' ', t('inv.operatorOnline'))),
    h('section', { class: 'form__section' }, h('h3', {}, t('inv.caps')),
      h('label', { class: 'check' }, capOnce, ' ', t('inv.cap.once_per_visit')),
      h('label', { class: 'check' }, capDismiss, ' ', t('inv.cap.not_after_dismiss')),
      h('label', { class: 'check' }, capChat, ' ', t('inv.cap.not_while_chatting')),
      h('label', { class: 'check' }, capHours, ' ', t('inv.cap.working_hours_only')),
      field(t('inv.cap.every_days'), everyDays, t('inv.cap.everyDaysHint'))),
    h('div', { class: 'form__actions' }, save,
      h('button', { type: 'button', class: 'btn', testid: 'invitation-cancel', onclick: () => clear(editor) }, t('common.cancel')), formStatus));
    clear(editor).append(form);
    name.focus();
  }
  await load();
}

/** The visitors list's manual invitation: a box above the table for the visitor picked with its
 * `visitor-invite` button (outside the rows, which are rebuilt on every page view). */
export function inviteBox() {
  const who = h('strong', {});
  const text = h('textarea', { rows: 2, maxlength: 1000, testid: 'visitor-invite-text', 'aria-label': t('inv.manual.text') });
  const status = h('span', { class: 'form-status', role: 'status', testid: 'visitor-invite-status' });
  const send = h('button', { type: 'submit', class: 'btn btn--primary', testid: 'visitor-invite-send' }, t('inv.manual.send'));
  let target = null;
  const box = h('form', { class: 'inv-manual', hidden: true, testid: 'visitor-invite-box', onsubmit: async (e) => {
    e.preventDefault();
    if (!target || !text.value.trim()) return;
    send.disabled = true;
    status.className = 'form-status';
    status.textContent = t('common.saving');
    try {
      await api('POST', `/visitors/${target}/invite`, { text: text.value });
      status.textContent = t('inv.manual.sent');
      text.value = '';
    } catch (err) {
      status.className = 'form-status form-status--error';
      status.textContent = explain(err);
    } finally { send.disabled = false; }
  } },
  h('div', { class: 'inv-manual__who' }, t('inv.manual.to'), ' ', who), text,
  h('div', { class: 'form__actions' }, send,
    h('button', { type: 'button', class: 'btn', onclick: () => { box.hidden = true; target = null; } }, t('common.cancel')), status));
  return {
    el: box,
    button(visitorId, name) {
      return h('button', { type: 'button', class: 'btn btn--small', testid: 'visitor-invite', title: t('inv.manual.button'),
        onclick: (e) => {
          e.stopPropagation();   // the row itself opens a conversation
          target = visitorId;
          who.textContent = name;
          status.textContent = '';
          box.hidden = false;
          text.focus();
        },
        onkeydown: (e) => e.stopPropagation() }, t('inv.manual.button'));
    },
  };
}
