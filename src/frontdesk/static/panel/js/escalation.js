// The Sites page's "missed chats" card (GET/PUT /sites/{id}/escalation): a chat nobody answers
// escalates in steps — alert again, offer to everyone online, e-mail the supervisors, ask the
// visitor for contacts — each after its own delay (minutes here, seconds on the wire; empty = off).
import { api } from './api.js';
import { t } from './i18n.js';
import { h } from './dom.js';
import { explain } from './errors.js';

const STEPS = ['alert', 'offer_all', 'email', 'contacts'];

function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'field__label' }, label), control,
    hint ? h('span', { class: 'field__hint' }, hint) : null);
}

const minutes = (seconds) => (seconds == null ? '' : String(Math.round((seconds / 60) * 100) / 100));

export function escalationForm(site, { readOnly = false } = {}) {
  const form = h('form', { class: 'form', testid: 'escalation-editor', novalidate: true });
  const status = h('span', { class: 'form-status', testid: 'escalation-status', role: 'status' });

  function say(text, bad) { status.textContent = text; status.className = `form-status${bad ? ' form-status--error' : ''}`; }

  function render(s) {
    const enabled = h('input', { type: 'checkbox', checked: s.enabled, testid: 'escalation-enabled', disabled: readOnly });
    const inputs = {};
    const rows = STEPS.map((step) => {
      inputs[step] = h('input', { type: 'number', min: '0.1', step: 'any', value: minutes(s.steps[step]), class: 'escalation-minutes',
        testid: 'escalation-step', dataset: { step }, 'aria-label': `${t(`esc.step.${step}`)}, ${t('esc.minutes')}`, disabled: readOnly });
      return h('tr', {}, h('th', { scope: 'row' }, t(`esc.step.${step}`)),
        h('td', {}, inputs[step], ' ', h('span', { class: 'muted' }, t('esc.minutesAfter'))));
    });
    const emails = h('textarea', { rows: 2, testid: 'escalation-emails', placeholder: 'boss@shop.example', disabled: readOnly });
    emails.value = (s.emails || []).join('\n');
    const lang = h('select', { testid: 'escalation-language', disabled: readOnly },
      h('option', { value: 'ru', selected: s.language === 'ru' }, 'Русский'),
      h('option', { value: 'en', selected: s.language === 'en' }, 'English'));
    const save = h('button', { type: 'submit', class: 'btn btn--primary', testid: 'escalation-save', hidden: readOnly }, t('esc.save'));
    form.replaceChildren(
      h('h2', {}, t('esc.title')),
      h('p', { class: 'field__hint' }, t('esc.hint')),
      h('label', { class: 'check' }, enabled, ' ', t('esc.enabled')),
      h('table', { class: 'escalation-steps' }, h('tbody', {}, ...rows)),
      h('p', { class: 'field__hint' }, t('esc.offHint')),
      field(t('esc.emails'), emails, t('esc.emailsHint')),
      field(t('esc.language'), lang),
      h('div', { class: 'form__actions' }, save, status));
    form.onsubmit = async (e) => {
      e.preventDefault();
      const steps = {};
      let previous = 0;
      for (const step of STEPS) {
        inputs[step].removeAttribute('aria-invalid');
        const raw = inputs[step].value.trim().replace(',', '.');
        if (!raw) { steps[step] = null; continue; }
        const secs = Math.round(Number(raw) * 60);
        if (!Number.isFinite(secs) || secs < 1 || secs > 7 * 24 * 3600) {
          inputs[step].setAttribute('aria-invalid', 'true'); say(t('esc.badMinutes'), true); return;
        }
        if (secs < previous) { inputs[step].setAttribute('aria-invalid', 'true'); say(t('esc.order'), true); return; }
        previous = secs;
        steps[step] = secs;
      }
      const list = emails.value.split(/[\n,;]/).map((x) => x.trim()).filter(Boolean);
      save.disabled = true;
      say(t('common.saving'));
      try {
        const res = await api('PUT', `/sites/${site.id}/escalation`, { enabled: enabled.checked, steps, emails: list, language: lang.value });
        render(res.escalation);
        say(t('esc.saved'));
      } catch (err) {
        say(explain(err), true);
      } finally {
        save.disabled = false;
      }
    };
  }

  say(t('esc.loading'));
  api('GET', `/sites/${site.id}/escalation`).then((res) => { render(res.escalation); say(''); }).catch((err) => say(explain(err), true));
  return form;
}
