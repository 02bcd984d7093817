// Bans (issue 17): the "Заблокировать" form (from the dialog and the visitors list) and the
// "Блокировки" page — list, search, lift, with who did what and when. docs/moderation.md.
import { api } from './api.js';
import { t } from './i18n.js';
import { clear, formatDateTime, h, toast } from './dom.js';
import { explain } from './errors.js';

const KINDS = ['visitor', 'ip', 'subnet'];
const EXPIRIES = ['1h', '1d', '1w', 'custom', 'permanent'];

function field(label, control) {
  return h('label', { class: 'field ban__field' }, h('span', { class: 'field__label' }, label), control);
}

function subnetOf(ip) {
  if (!ip) return '';
  if (ip.includes(':')) return `${ip}/64`;
  return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
}

/** The ban form as an element: {visitorId?, conversationId?, ip?, sites?} fills it; ``onDone(ban)``. */
export function banForm(target, onDone, onCancel) {
  const ip = target.ip || '';
  const values = { visitor: target.visitorId ? String(target.visitorId) : '', ip, subnet: subnetOf(ip) };
  const kind = h('select', { testid: 'ban-kind' },
    ...KINDS.map((k) => h('option', { value: k, disabled: k === 'visitor' && !target.visitorId && !target.free }, t(`ban.kind.${k}`))));
  kind.value = 'ip';
  const value = h('input', { type: 'text', testid: 'ban-value', maxlength: 256, spellcheck: 'false', autocomplete: 'off' });
  let typed = false;
  const fill = () => {
    value.value = values[kind.value] || '';
    // from a visitor, an empty value means "the visitor's own" (the server fills it in)
    value.placeholder = t(target.visitorId && kind.value !== 'visitor' ? 'ban.placeholder.own' : `ban.placeholder.${kind.value}`);
  };
  kind.addEventListener('change', () => { typed = false; fill(); });
  value.addEventListener('input', () => { typed = true; });
  fill();
  if (target.visitorId && !ip) { // the visitor's last address, from its card
    api('GET', `/visitors/${target.visitorId}`).then((card) => {
      const found = card?.visit?.ip;
      if (!found) return;
      values.ip = found;
      values.subnet = subnetOf(found);
      if (!typed) fill();
    }).catch(() => {});
  }
  const reason = h('input', { type: 'text', testid: 'ban-reason', maxlength: 500, placeholder: t('ban.reasonPlaceholder') });
  const expiry = h('select', { testid: 'ban-expiry' }, ...EXPIRIES.map((e) => h('option', { value: e }, t(`ban.expiry.${e}`))));
  expiry.value = '1d';
  const custom = h('input', { type: 'datetime-local', testid: 'ban-custom', hidden: true, 'aria-label': t('ban.expiry.custom') });
  expiry.addEventListener('change', () => { custom.hidden = expiry.value !== 'custom'; if (!custom.hidden) custom.focus(); });
  const site = target.sites && target.sites.length > 1
    ? h('select', { testid: 'ban-site' }, ...target.sites.map((s) => h('option', { value: s.id }, s.name))) : null;
  const status = h('p', { class: 'form-status', role: 'status', testid: 'ban-status' });
  const submit = h('button', { type: 'submit', class: 'btn btn--danger', testid: 'ban-submit' }, t('ban.submit'));
  const form = h('form', { class: 'ban', testid: 'ban-form', novalidate: true },
    h('div', { class: 'ban__row' }, field(t('ban.kind'), kind), field(t('ban.value'), value)),
    site ? field(t('ban.site'), site) : null,
    field(t('ban.reason'), reason),
    h('div', { class: 'ban__row' }, field(t('ban.expiry'), expiry), custom),
    h('p', { class: 'muted ban__hint' }, t('ban.hint')),
    status,
    h('div', { class: 'overlay__actions' },
      onCancel ? h('button', { type: 'button', class: 'btn btn--ghost', onclick: onCancel }, t('common.cancel')) : null, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if ((kind.value === 'subnet' && /\/0$/.test(value.value.trim())) && !window.confirm(t('ban.confirmAll'))) return;
    const body = { kind: kind.value, value: value.value.trim() || null, reason: reason.value.trim() || null, expiry: expiry.value,
      tz: Intl.DateTimeFormat().resolvedOptions().timeZone || null };
    if (expiry.value === 'custom') body.custom = custom.value || null;
    if (target.conversationId) body.conversation_id = target.conversationId;
    else if (target.visitorId && kind.value === 'visitor') body.visitor_id = target.visitorId;
    else if (target.visitorId) body.visitor_id = target.visitorId;
    if (site) body.site_id = Number(site.value);
    else if (target.siteId && !body.visitor_id && !body.conversation_id) body.site_id = target.siteId;
    submit.disabled = true;
    status.textContent = '';
    status.classList.remove('form-status--error');
    try {
      const res = await api('POST', '/bans', body);
      toast(t('ban.done', { value: res.ban.value }));
      onDone?.(res.ban);
    } catch (err) {
      submit.disabled = false;
      // the server explains a bad value or period in the operator's language (moderation/bans.py MESSAGES)
      status.textContent = ['invalid_ban_value', 'invalid_expiry'].includes(err.code) && err.message ? err.message : explain(err);
      status.classList.add('form-status--error');
    }
  });
  return { form, focus: () => (value.value ? reason : value).focus() };
}

/** The ban form in an overlay (the dialog's and the visitors list's "Заблокировать"). */
export function openBanDialog(target, onDone) {
  document.querySelector('.overlay[data-testid="ban-dialog"]')?.remove();
  let overlay;
  const close = () => overlay.remove();
  const { form, focus } = banForm(target, (ban) => { close(); onDone?.(ban); }, close);
  overlay = h('div', { class: 'overlay', testid: 'ban-dialog', onclick: (e) => { if (e.target === overlay) close(); } },
    h('div', { class: 'overlay__box', role: 'dialog', 'aria-modal': 'true', 'aria-label': t('ban.title') },
      h('h2', {}, t('ban.title'), target.name ? h('span', { class: 'transfer__who' }, ` · ${target.name}`) : null), form));
  overlay.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.stopPropagation(); close(); } });
  document.body.append(overlay);
  focus();
}

function expiryText(b) {
  if (b.lifted_at) return t('ban.liftedBy', { name: b.lifted_by?.name || '—', when: formatDateTime(b.lifted_at) });
  if (!b.expires_at) return t('ban.permanent');
  return (b.active ? t('ban.until') : t('ban.ended')) + ' ' + formatDateTime(b.expires_at);
}

/** The "Блокировки" page. */
export async function renderBans(root) {
  let sites = [];
  try { sites = (await api('GET', '/sites')).sites || []; } catch { sites = []; }
  const search = h('input', { type: 'search', testid: 'ban-search', placeholder: t('ban.search'), 'aria-label': t('ban.search') });
  const status = h('select', { testid: 'ban-filter', 'aria-label': t('ban.filter') },
    ...['active', 'ended', 'all'].map((s) => h('option', { value: s }, t(`ban.filter.${s}`))));
  const list = h('div', { class: 'bans__list', testid: 'ban-list' });
  const newHost = h('div', { class: 'bans__new', hidden: true });
  const newBtn = h('button', { type: 'button', class: 'btn', testid: 'ban-new', onclick: () => {
    newHost.hidden = !newHost.hidden;
    if (newHost.hidden) return;
    const { form, focus } = banForm({ sites, free: false, siteId: sites[0]?.id },
      () => { newHost.hidden = true; load(); }, () => { newHost.hidden = true; });
    clear(newHost).append(form);
    focus();
  } }, t('ban.new'));
  let timer = 0;
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(load, 200); });
  status.addEventListener('change', load);

  async function load() {
    let data;
    try {
      data = await api('GET', `/bans?${new URLSearchParams({ status: status.value, ...(search.value.trim() ? { q: search.value.trim() } : {}) })}`);
    } catch (err) { clear(list).append(h('p', { class: 'form-status form-status--error' }, explain(err))); return; }
    clear(list);
    if (!data.bans.length) { list.append(h('p', { class: 'muted', testid: 'ban-empty' }, t('ban.empty'))); return; }
    const table = h('table', { class: 'table table--cards bans__table' },
      h('thead', {}, h('tr', {}, ...['kind', 'value', 'reason', 'author', 'expiry', ''].map((c) => h('th', {}, c ? t(`ban.col.${c}`) : '')))),
      h('tbody', {}, ...data.bans.map((b) => h('tr', { testid: 'ban-row', dataset: { banId: b.id, active: b.active ? '1' : '0' } },
        h('td', { 'data-label': t('ban.col.kind') }, t(`ban.kind.${b.kind}`)),
        h('td', { 'data-label': t('ban.col.value') }, h('code', { class: 'bans__value', testid: 'ban-row-value' }, b.value),
          sites.length > 1 && b.site_name ? h('div', { class: 'muted' }, b.site_name) : null),
        h('td', { 'data-label': t('ban.col.reason'), class: 'bans__reason' }, b.reason || '—'),
        h('td', { 'data-label': t('ban.col.author') }, b.author?.name || '—', h('div', { class: 'muted' }, formatDateTime(b.created_at))),
        h('td', { 'data-label': t('ban.col.expiry') }, expiryText(b)),
        h('td', { class: 'bans__actions' }, b.active ? h('button', { type: 'button', class: 'btn btn--small', testid: 'ban-lift', onclick: async (e) => {
          e.currentTarget.disabled = true;
          try {
            await api('POST', `/bans/${b.id}/lift`);
            toast(t('ban.lifted', { value: b.value }));
          } catch (err) { toast(explain(err), 'error'); }
          load();
        } }, t('ban.lift')) : null)))));
    list.append(table);
  }

  clear(root).append(h('section', { class: 'page page--wide bans' },
    h('div', { class: 'page__head' }, h('h1', {}, t('ban.page')), newBtn),
    h('p', { class: 'muted' }, t('ban.intro')),
    newHost,
    h('div', { class: 'bans__tools' }, search, status),
    list));
  await load();
}
