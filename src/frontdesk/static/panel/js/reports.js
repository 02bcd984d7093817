// The reports page: statistics of one site over a period, compared with the period before it
// (GET /api/v1/reports/{site}?from&to; definitions in docs/reports.md). Charts are drawn by uPlot,
// vendored as a file (static/panel/vendor/, MIT licence) and loaded only when this page opens.
import { api } from './api.js';
import { language, t } from './i18n.js';
import { clear, h } from './dom.js';
import { explain } from './errors.js';

const DAY = 86_400_000;
let uplotReady = null;

/** uPlot's script and CSS, once (same origin: the panel's CSP `script-src 'self'` holds). */
function loadUplot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  if (!uplotReady) {
    uplotReady = new Promise((resolve, reject) => {
      document.head.append(h('link', { rel: 'stylesheet', href: '/panel/vendor/uPlot.min.css' }));
      const s = h('script', { src: '/panel/vendor/uPlot.iife.min.js' });
      s.onload = () => resolve(window.uPlot);
      s.onerror = () => { uplotReady = null; reject(new Error('uPlot')); };
      document.head.append(s);
    });
  }
  return uplotReady;
}

const iso = (ms) => new Date(ms).toISOString().slice(0, 10);
function today() {
  const d = new Date();
  return Date.UTC(d.getFullYear(), d.getMonth(), d.getDate());
}

/** 75 → "1 мин 15 с" */
export function formatSeconds(sec) {
  if (sec == null) return '—';
  const s = Math.round(sec);
  if (s < 60) return t('reports.sec', { n: s });
  if (s < 3600) return t('reports.min', { m: Math.floor(s / 60), s: s % 60 });
  return t('reports.hour', { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
}

const num = (v, digits = 0) => (v == null ? '—'
  : new Intl.NumberFormat(language(), { maximumFractionDigits: digits, minimumFractionDigits: digits ? 1 : 0 }).format(v));
const pct = (v) => (v == null ? '—' : new Intl.NumberFormat(language(), { style: 'percent', maximumFractionDigits: 0 }).format(v));

// metric → [label key, formatter, is a lower value better?]
const METRICS = [
  ['conversations', (v) => num(v), false],
  ['accepted', (v) => num(v), false],
  ['missed', (v) => num(v), true],
  ['accepted_share', pct, false],
  ['first_response_median', formatSeconds, true],
  ['first_response_p90', formatSeconds, true],
  ['duration_median', formatSeconds, null],
  ['messages_per_conversation', (v) => num(v, 1), null],
  ['csat_avg', (v) => num(v, 1), false],
  ['csat_count', (v) => num(v), false],
];

export async function renderReports(root) {
  const { sites } = await api('GET', '/reports/sites');
  const page = h('div', { class: 'page page--wide reports' }, h('h1', {}, t('reports.title')));
  clear(root).append(page);
  if (!sites.length) {
    page.append(h('p', { class: 'empty-state', testid: 'reports-empty' }, t('reports.noSites')));
    return;
  }
  const state = { site: sites[0].id, to: today() + DAY, days: 30 };
  const siteSelect = h('select', { testid: 'report-site', 'aria-label': t('reports.site'),
    onchange: () => { state.site = Number(siteSelect.value); load(); } },
  ...sites.map((s) => h('option', { value: s.id }, s.name)));
  const fromInput = h('input', { type: 'date', testid: 'report-from', 'aria-label': t('reports.from') });
  const toInput = h('input', { type: 'date', testid: 'report-to', 'aria-label': t('reports.to') });
  const presets = [7, 30, 90].map((d) => h('button', { type: 'button', class: 'btn btn--small', testid: 'report-preset',
    dataset: { days: d }, onclick: () => { state.to = today() + DAY; state.days = d; load(); } }, t('reports.lastDays', { n: d })));
  const apply = h('button', { type: 'submit', class: 'btn btn--primary btn--small', testid: 'report-apply' }, t('reports.apply'));
  const form = h('form', { class: 'reports__controls', onsubmit: (e) => {
    e.preventDefault();
    const from = Date.parse(fromInput.value), to = Date.parse(toInput.value) + DAY;   // the picker's "to" is inclusive
    if (Number.isNaN(from) || Number.isNaN(to) || to <= from) { status.textContent = t('reports.badPeriod'); return; }
    state.to = to;
    state.days = Math.round((to - from) / DAY);
    load();
  } },
  sites.length > 1 ? h('label', { class: 'reports__field' }, t('reports.site'), siteSelect) : h('strong', { class: 'reports__site' }, sites[0].name),
  h('span', { class: 'reports__presets' }, ...presets),
  h('label', { class: 'reports__field' }, t('reports.from'), fromInput),
  h('label', { class: 'reports__field' }, t('reports.to'), toInput), apply);
  const status = h('div', { class: 'form-status', role: 'status', testid: 'report-status' });
  const body = h('div', { class: 'reports__body' });
  page.append(form, status, body);

  let loads = 0;
  async function load() {
    const mine = ++loads;   // only the latest request is shown, whatever order the answers come in
    const from = state.to - state.days * DAY;
    fromInput.value = iso(from);
    toInput.value = iso(state.to - DAY);
    for (const b of presets) b.classList.toggle('btn--on', Number(b.dataset.days) === state.days && state.to === today() + DAY);
    status.textContent = t('reports.loading');
    let report, quality, missed;
    try {
      [report, quality, missed] = await Promise.all([
        api('GET', `/reports/${state.site}?from=${iso(from)}&to=${iso(state.to)}`),
        api('GET', `/quality/${state.site}?from=${iso(from)}&to=${iso(state.to)}`).catch(() => null),
        api('GET', `/reports/${state.site}/missed?from=${iso(from)}&to=${iso(state.to)}`).catch(() => null)]);
    } catch (err) {
      if (mine === loads) status.textContent = explain(err);
      return;
    }
    const uPlot = await loadUplot().catch(() => null);
    if (mine !== loads) return;
    status.textContent = '';
    renderReport(body, report, state, uPlot);
    const more = moreSections(report, missed, state);   // origin, the escalation's missed chats, departments
    body.append(...more.nodes);
    if (uPlot) more.draw(uPlot);   // once in the page: the charts take their container's width
    body.append(...qualitySections(report, quality, state));   // issue 13: hours of the week, coach, export
  }
  await load();
}

function csvLink(state, report, table) {
  const c = report.current;
  return h('a', { class: 'btn btn--small', testid: 'report-csv', dataset: { table },
    href: `/api/v1/reports/${state.site}/${table}.csv?from=${c.from}&to=${c.to}`, download: '' }, t('reports.csv'));
}

function section(title, ...children) {
  return h('section', { class: 'reports__section' }, h('div', { class: 'reports__head' }, h('h2', {}, title[0]), title[1] || null), ...children);
}

function renderReport(body, report, state, uPlot) {
  const cur = report.current, prev = report.previous, s = cur.summary, p = prev.summary;
  const dates = (r) => `${r.from} — ${iso(Date.parse(r.to) - DAY)}`;
  const tiles = METRICS.map(([key, fmt, lowerBetter]) => {
    const v = s[key], was = p[key];
    let delta = null;
    if (v != null && was != null && v !== was && lowerBetter !== null) {
      const better = lowerBetter ? v < was : v > was;
      delta = h('span', { class: `tile__delta tile__delta--${better ? 'good' : 'bad'}` }, v > was ? '▲' : '▼');
    }
    return h('div', { class: 'tile', testid: 'report-value', dataset: { metric: key, value: v ?? '' } },
      h('div', { class: 'tile__label' }, t(`reports.m.${key}`)),
      h('div', { class: 'tile__value' }, fmt(v), delta),
      h('div', { class: 'tile__was' }, t('reports.was', { v: fmt(was) })));
  });
  const chartsEmpty = !s.conversations;
  const convChart = h('div', { class: 'chart', testid: 'report-chart', dataset: { report: 'conversations' } });
  const csatChart = h('div', { class: 'chart', testid: 'report-chart', dataset: { report: 'csat' } });
  clear(body).append(
    h('p', { class: 'reports__period', testid: 'report-period', dataset: { from: cur.from, to: cur.to } }, t('reports.period', { cur: dates(cur), prev: dates(prev), tz: report.timezone })),
    section([t('reports.summary'), csvLink(state, report, 'summary')], h('div', { class: 'tiles' }, ...tiles)),
    h('div', { class: 'reports__charts' },
      section([t('reports.chart.conversations')], convChart),
      section([t('reports.chart.csat'), csvLink(state, report, 'csat')], csatChart)),
    section([t('reports.daily'), csvLink(state, report, 'daily')], dailyTable(cur)),
    section([t('reports.operators'), csvLink(state, report, 'operators')], operatorsTable(cur)));
  if (chartsEmpty) convChart.append(h('p', { class: 'empty-state' }, t('reports.empty.conversations')));
  else if (uPlot) drawConversations(uPlot, convChart, cur, prev);
  if (!s.csat_count) csatChart.append(h('p', { class: 'empty-state' }, t('reports.empty.csat')));
  else if (uPlot) drawCsat(uPlot, csatChart, cur, prev);
}

function width(el) { return Math.max(280, Math.floor(el.getBoundingClientRect().width) || 600); }

function drawConversations(uPlot, el, cur, prev) {
  const days = cur.daily.map((d) => d.date);
  const labels = days.map((d) => new Intl.DateTimeFormat(language(), { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(Date.parse(d)));
  const x = days.map((_, i) => i);
  const data = [x, cur.daily.map((d) => d.accepted), cur.daily.map((d) => d.missed),
    x.map((i) => prev.daily[i]?.conversations ?? null)];
  const opts = {
    width: width(el), height: 240, padding: [12, 28, 0, 0], scales: { x: { time: false } }, legend: { live: false },
    axes: [{ values: (u, vals) => vals.map((v) => labels[v] ?? ''), space: 50 }, { size: 40, incrs: [1, 2, 5, 10, 20, 50, 100, 500, 1000] }],
    series: [{ label: t('reports.day'), value: (u, v) => labels[v] ?? '' },
      { label: t('reports.m.accepted'), stroke: '#1a7f37', width: 2, points: { size: 6 } },
      { label: t('reports.m.missed'), stroke: '#cf222e', width: 2, points: { size: 6 } },
      { label: t('reports.previousTotal'), stroke: '#8c959f', width: 1.5, dash: [6, 4], points: { show: false } }],
  };
  new uPlot(opts, data, el);
}

function drawCsat(uPlot, el, cur, prev) {
  const x = [1, 2, 3, 4, 5];
  const bars = uPlot.paths.bars({ size: [0.35, 60], align: 0 });
  const opts = {
    width: width(el), height: 240, scales: { x: { time: false, range: [0.5, 5.5] } }, legend: { live: false },
    axes: [{ values: (u, vals) => vals.map((v) => (Number.isInteger(v) ? `${v} ★` : '')), incrs: [1] }, { size: 40, incrs: [1, 2, 5, 10, 20, 50, 100, 500] }],
    series: [{ label: t('reports.value') },
      { label: t('reports.current'), fill: 'rgba(31,111,235,.75)', stroke: '#1f6feb', paths: uPlot.paths.bars({ size: [0.35, 60], align: -1 }), points: { show: false } },
      { label: t('reports.previous'), fill: 'rgba(140,149,159,.45)', stroke: '#8c959f', paths: bars, points: { show: false } }],
  };
  new uPlot(opts, [x, x.map((v) => cur.csat[v]), x.map((v) => prev.csat[v])], el);
}

function table(cols, rows, empty) {
  if (!rows.length) return h('p', { class: 'empty-state' }, empty);
  return h('table', { class: 'table table--cards' },
    h('thead', {}, h('tr', {}, ...cols.map(([k]) => h('th', {}, t(k))))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...cols.map(([k, f]) => h('td', { 'data-label': t(k) }, f(r)))))));
}

function dailyTable(cur) {
  const rows = cur.daily.filter((d) => d.conversations);
  return table([['reports.day', (d) => d.date], ['reports.m.conversations', (d) => num(d.conversations)],
    ['reports.m.accepted', (d) => num(d.accepted)], ['reports.m.missed', (d) => num(d.missed)]], rows, t('reports.empty.daily'));
}

function operatorsTable(cur) {
  return table([['reports.operator', (r) => r.name], ['reports.m.conversations', (r) => num(r.conversations)],
    ['reports.m.first_response_median', (r) => formatSeconds(r.first_response_median)],
    ['reports.m.first_response_p90', (r) => formatSeconds(r.first_response_p90)],
    ['reports.durationAvg', (r) => formatSeconds(r.duration_avg)], ['reports.messages', (r) => num(r.messages)],
    ['reports.m.csat_avg', (r) => (r.csat_count ? `${num(r.csat_avg, 1)} (${r.csat_count})` : '—')],
    ['reports.rating', ratingCell]],
  cur.operators, t('reports.empty.operators'));
}

// --- issue 13, second part: operator rating, hour-of-week load, the coach's figures, export ---------

/** The operator rating (docs/reports.md § Operator rating) with its parts in the tooltip. */
function ratingCell(r) {
  const g = r.rating || {};
  const parts = ['speed', 'accepted', 'csat'].map((k) => `${t(`reports.ratingPart.${k}`)}: ${g[k] == null ? '—' : num(g[k])}`).join(' · ');
  return h('span', { class: 'op-rating', testid: 'report-operator-rating', dataset: { value: g.value ?? '' }, title: parts },
    g.value == null ? '—' : num(g.value));
}

function qualitySections(report, quality, state) {
  const cur = report.current;
  const out = [
    section([t('reports.chart.hours'), csvLink(state, report, 'hours')], hourOfWeek(cur)),
    h('details', { class: 'reports__formula', testid: 'rating-formula' },
      h('summary', {}, t('reports.ratingFormula.title')), h('p', {}, t('reports.ratingFormula.text'))),
  ];
  if (quality) out.push(coachSection(quality));
  out.push(section([t('reports.export.title')], h('p', { class: 'reports__note' }, t('reports.export.text')),
    h('div', { class: 'reports__exports' }, ...['jsonl', 'csv'].map((f) => h('a', {
      class: 'btn btn--small', testid: 'report-export', dataset: { format: f }, download: '',
      href: `/api/v1/export/${state.site}?from=${cur.from}&to=${cur.to}&format=${f}` }, t(`reports.export.${f}`))))));
  return out;
}

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** 7 × 24 cells, the darker the more conversations started in that local hour of the week. */
function hourOfWeek(cur) {
  const grid = cur.hour_of_week || [];
  const max = Math.max(0, ...grid.flat());
  const el = h('div', { class: 'chart heat', testid: 'report-chart', dataset: { report: 'hour_of_week', max } });
  if (!max) {
    el.append(h('p', { class: 'empty-state' }, t('reports.empty.hours')));
    return el;
  }
  const head = h('div', { class: 'heat__row heat__row--head' }, h('span', { class: 'heat__day' }),
    ...Array.from({ length: 24 }, (_, hr) => h('span', { class: 'heat__hour' }, hr % 3 === 0 ? String(hr) : '')));
  el.append(head, ...grid.map((row, d) => h('div', { class: 'heat__row' },
    h('span', { class: 'heat__day' }, t(`reports.wd.${WEEKDAYS[d]}`)),
    ...row.map((n, hr) => h('span', {
      class: 'heat__cell', testid: 'report-hour', dataset: { day: d, hour: hr, value: n },
      style: `--heat:${n ? (0.15 + 0.85 * n / max).toFixed(2) : 0}`,
      title: t('reports.hourCell', { day: t(`reports.wd.${WEEKDAYS[d]}`), hour: `${String(hr).padStart(2, '0')}:00`, n }),
    })))));
  return el;
}

const CRITERIA = ['greeting', 'first_reply', 'questions_answered', 'no_long_silence', 'polite_closing', 'spelling'];

function coachSection(q) {
  const rate = (v) => (v == null ? '—' : pct(v));
  const tiles = h('div', { class: 'tiles' },
    h('div', { class: 'tile', testid: 'report-value', dataset: { metric: 'quality_score_avg', value: q.score_avg ?? '' } },
      h('div', { class: 'tile__label' }, t('quality.avg')), h('div', { class: 'tile__value' }, q.score_avg == null ? '—' : num(q.score_avg)),
      h('div', { class: 'tile__was' }, t('quality.scored', { n: q.scored }))),
    ...CRITERIA.map((c) => h('div', { class: 'tile', testid: 'report-value', dataset: { metric: `quality_${c}`, value: q.criteria[c] ?? '' } },
      h('div', { class: 'tile__label' }, t(`quality.c.${c}`)), h('div', { class: 'tile__value' }, rate(q.criteria[c])))));
  if (!q.scored) {
    return section([t('quality.title')], h('p', { class: 'empty-state' }, t('quality.empty')));
  }
  const ops = table([['reports.operator', (r) => (r.operator_id == null ? t('quality.nobody') : r.name)], ['quality.scoredCol', (r) => num(r.scored)],
    ['quality.avg', (r) => h('span', { testid: 'quality-operator', dataset: { operatorId: r.operator_id ?? '', value: r.score_avg } }, num(r.score_avg))],
    ...CRITERIA.map((c) => [`quality.c.${c}`, (r) => rate(r.criteria[c])])], q.operators, '');
  const example = (e) => h('li', { testid: 'quality-example', dataset: { conversationId: e.conversation_id, score: e.score } },
    h('a', { href: `/panel/#/conversations/${e.conversation_id}` }, e.visitor.name || t('visitor.numbered', { id: e.visitor.id })),
    ' · ', h('b', {}, String(e.score)), ' · ', e.operator_id == null ? t('quality.nobody') : e.operator_name);
  return section([t('quality.title')], tiles,
    h('h3', { class: 'reports__sub' }, t('quality.perOperator')), ops,
    h('div', { class: 'reports__examples' },
      h('div', {}, h('h3', { class: 'reports__sub' }, t('quality.best')), h('ol', { testid: 'quality-best' }, ...q.best.map(example))),
      h('div', {}, h('h3', { class: 'reports__sub' }, t('quality.worst')),
        q.worst.length ? h('ol', { testid: 'quality-worst' }, ...q.worst.map(example)) : h('p', { class: 'empty-state' }, t('quality.noWorst')))));
}

// --- issue 13, third part: incoming vs proactive, the escalation's missed chats, per department -------

function tile(metric, label, value, fmt, was) {
  return h('div', { class: 'tile', testid: 'report-value', dataset: { metric, value: value ?? '' } },
    h('div', { class: 'tile__label' }, label), h('div', { class: 'tile__value' }, fmt(value)),
    was === undefined ? null : h('div', { class: 'tile__was' }, t('reports.was', { v: fmt(was) })));
}

function moreSections(report, missed, state) {
  const cur = report.current;
  const originChart = h('div', { class: 'chart', testid: 'report-chart',
    dataset: { report: 'origin', incoming: cur.origin.incoming ?? 0, proactive: cur.origin.proactive ?? 0 } });
  const origin = section([t('reports.chart.origin')], originChart);
  const empty = !cur.summary.conversations;
  if (empty) originChart.append(h('p', { class: 'empty-state' }, t('reports.empty.origin')));
  else {
    if (!cur.origin.proactive) origin.append(h('p', { class: 'reports__note' }, t('reports.origin.noProactive')));
    else {
      origin.append(table([['reports.origin.rule', (r) => r.name || '—'], ['reports.m.conversations', (r) => num(r.conversations)]],
        cur.origin.by_rule || [], ''));
    }
  }
  const missedBody = missed
    ? [h('div', { class: 'tiles' },
      tile('missed_escalation', t('reports.m.missed_escalation'), missed.current.missed, (v) => num(v), missed.previous.missed),
      tile('missed_answered_later', t('reports.m.missed_answered_later'), missed.current.answered_later, (v) => num(v),
        missed.previous.answered_later)),
    h('p', { class: 'reports__note' }, t('reports.missed.note'))]
    : [h('p', { class: 'empty-state' }, t('reports.missed.unavailable'))];
  return {
    nodes: [
      h('div', { class: 'reports__charts' }, origin, section([t('reports.missed.title')], ...missedBody)),
      section([t('reports.departments'), (cur.departments || []).length ? csvLink(state, report, 'departments') : null],
        departmentsTable(cur)),
    ],
    draw: (uPlot) => { if (!empty) drawOrigin(uPlot, originChart, cur, report.previous); },
  };
}

function drawOrigin(uPlot, el, cur, prev) {
  const x = [1, 2];
  const labels = ['', t('reports.origin.incoming'), t('reports.origin.proactive')];
  const opts = {
    width: width(el), height: 240, scales: { x: { time: false, range: [0.5, 2.5] } }, legend: { live: false },
    axes: [{ values: (u, vals) => vals.map((v) => (Number.isInteger(v) ? labels[v] ?? '' : '')), incrs: [1] },
      { size: 40, incrs: [1, 2, 5, 10, 20, 50, 100, 500, 1000, 5000] }],
    series: [{ label: t('reports.chart.origin') },
      { label: t('reports.current'), fill: 'rgba(31,111,235,.75)', stroke: '#1f6feb',
        paths: uPlot.paths.bars({ size: [0.35, 80], align: -1 }), points: { show: false } },
      { label: t('reports.previous'), fill: 'rgba(140,149,159,.45)', stroke: '#8c959f',
        paths: uPlot.paths.bars({ size: [0.35, 80], align: 1 }), points: { show: false } }],
  };
  const o = (r) => [r.origin.incoming ?? 0, r.origin.proactive ?? 0];
  new uPlot(opts, [x, o(cur), o(prev)], el);
}

function departmentsTable(cur) {
  const rows = cur.departments || [];
  if (!rows.length) return h('p', { class: 'empty-state', testid: 'report-departments-empty' }, t('reports.empty.departments'));
  const cols = [['reports.department', (r) => (r.department_id == null ? t('reports.noDepartment') : r.name)],
    ['reports.m.conversations', (r) => num(r.conversations)], ['reports.m.accepted', (r) => num(r.accepted)],
    ['reports.m.missed', (r) => num(r.missed)],
    ['reports.m.first_response_median', (r) => formatSeconds(r.first_response_median)],
    ['reports.m.first_response_p90', (r) => formatSeconds(r.first_response_p90)],
    ['reports.durationAvg', (r) => formatSeconds(r.duration_avg)], ['reports.m.messages', (r) => num(r.messages)],
    ['reports.m.csat_avg', (r) => (r.csat_count ? `${num(r.csat_avg, 1)} (${r.csat_count})` : '—')]];
  return h('table', { class: 'table table--cards', testid: 'report-departments' },
    h('thead', {}, h('tr', {}, ...cols.map(([k]) => h('th', {}, t(k))))),
    h('tbody', {}, ...rows.map((r) => h('tr', { testid: 'report-department',
      dataset: { departmentId: r.department_id ?? '', conversations: r.conversations } },
    ...cols.map(([k, f]) => h('td', { 'data-label': t(k) }, f(r)))))));
}
