// The Sites page's "Distribution of chats" and "Departments" (administrators): the site's routing
// mode, whether the widget offers departments, each operator's chat limit, and the departments
// with their members (docs/protocol.md § Departments and routing).
import { api } from './api.js';
import { t } from './i18n.js';
import { clear, h, toast } from './dom.js';
import { explain } from './errors.js';

function saved(status, text) {
  status.textContent = text;
  status.className = 'form-status';
}

function failed(status, err) {
  status.textContent = explain(err);
  status.className = 'form-status form-status--error';
}

/** The routing settings and departments of one site; loads what it needs itself. */
export function departmentsForm(site) {
  const box = h('div', { class: 'form departments', testid: 'departments-editor' });
  load();
  return box;

  async function load() {
    let data;
    let operators;
    let limits;
    try {
      [data, { operators }, limits] = await Promise.all([
        api('GET', `/sites/${site.id}/departments`), api('GET', '/operators'), api('GET', '/chat-limits')]);
    } catch (err) {
      clear(box).append(h('p', { class: 'form-status form-status--error' }, explain(err)));
      return;
    }
    // who can be a member: active operators of this site, and administrators (they work on every site)
    const staff = operators.filter((o) => o.is_active && (o.role === 'admin' || (o.site_ids || []).includes(site.id)));
    const limitOf = new Map(limits.operators.map((o) => [o.id, o]));
    clear(box).append(routingSection(data.routing, staff, limitOf), departmentsSection(data.departments, staff));
  }

  function routingSection(routing, staff, limitOf) {
    const mode = h('select', { testid: 'routing-mode' },
      h('option', { value: 'manual', selected: routing.mode === 'manual' }, t('routing.mode.manual')),
      h('option', { value: 'auto', selected: routing.mode === 'auto' }, t('routing.mode.auto')));
    const choose = h('input', { type: 'checkbox', checked: routing.choose_department, testid: 'routing-choose-department' });
    const status = h('span', { class: 'form-status', role: 'status', testid: 'routing-status' });
    const save = h('button', { type: 'button', class: 'btn btn--primary', testid: 'routing-save', onclick: async () => {
      save.disabled = true;
      try {
        await api('PUT', `/sites/${site.id}/routing`, { mode: mode.value, choose_department: choose.checked });
        saved(status, t('sites.saved'));
      } catch (err) { failed(status, err); } finally { save.disabled = false; }
    } }, t('routing.save'));
    const rows = staff.map((op) => {
      const info = limitOf.get(op.id) || { chat_limit: 5, active_chats: 0 };
      const input = h('input', { type: 'number', min: 1, max: 100, step: 1, value: info.chat_limit, class: 'limit__input',
        testid: 'operator-chat-limit', dataset: { operatorId: op.id }, 'aria-label': t('routing.limitOf', { name: op.name }),
        onchange: async () => {
          const value = Number(input.value);
          try {
            await api('PUT', `/operators/${op.id}/chat-limit`, { chat_limit: value });
            toast(t('routing.limitSaved', { name: op.name, n: value }));
          } catch (err) { toast(explain(err), 'error'); input.value = info.chat_limit; }
        } });
      return h('tr', { testid: 'chat-limit-row', dataset: { operatorId: op.id } },
        h('td', {}, h('span', { class: `dot dot--${op.status}`, title: t(`status.${op.status}`) }), ' ', op.name),
        h('td', { class: 'cell-nowrap' }, input),
        h('td', { class: 'cell-nowrap muted' }, t('routing.active', { n: info.active_chats })));
    });
    return h('section', { class: 'form__section' },
      h('h3', {}, t('routing.title')),
      h('label', { class: 'field' }, h('span', { class: 'field__label' }, t('routing.mode')), mode,
        h('span', { class: 'field__hint' }, t('routing.modeHint'))),
      h('label', { class: 'check' }, choose, ' ', t('routing.choose')),
      h('div', { class: 'form__actions' }, save, status),
      h('h4', { class: 'departments__sub' }, t('routing.limits')),
      h('p', { class: 'field__hint' }, t('routing.limitsHint')),
      rows.length ? h('table', { class: 'table limits' }, h('tbody', {}, ...rows)) : h('p', { class: 'muted' }, t('routing.noStaff')));
  }

  function departmentsSection(departments, staff) {
    const list = h('div', { class: 'departments__list', testid: 'departments-list' });
    const render = () => clear(list).append(...(departments.length ? departments.map(card)
      : [h('p', { class: 'muted', testid: 'departments-empty' }, t('departments.empty'))]));

    function members(selected) {
      return staff.map((op) => h('label', { class: 'check check--inline' },
        h('input', { type: 'checkbox', value: op.id, checked: selected.includes(op.id), testid: 'department-member',
          dataset: { operatorId: op.id } }), ' ', op.name));
    }
    const chosen = (boxes) => boxes.map((l) => l.querySelector('input')).filter((i) => i.checked).map((i) => Number(i.value));

    function card(dep) {
      const name = h('input', { type: 'text', value: dep.name, maxlength: 100, testid: 'department-name', 'aria-label': t('departments.name') });
      const boxes = members(dep.members);
      const status = h('span', { class: 'form-status', role: 'status' });
      const save = h('button', { type: 'button', class: 'btn btn--small', testid: 'department-save', onclick: async () => {
        save.disabled = true;
        try {
          const res = await api('PATCH', `/departments/${dep.id}`, { name: name.value, members: chosen(boxes) });
          Object.assign(dep, res.department);
          saved(status, t('sites.saved'));
        } catch (err) { failed(status, err); } finally { save.disabled = false; }
      } }, t('departments.save'));
      const remove = h('button', { type: 'button', class: 'btn btn--small btn--ghost', testid: 'department-delete', onclick: async () => {
        if (!window.confirm(t('departments.confirmDelete', { name: dep.name }))) return;
        try {
          await api('DELETE', `/departments/${dep.id}`);
          departments.splice(departments.indexOf(dep), 1);
          render();
        } catch (err) { failed(status, err); }
      } }, t('departments.delete'));
      return h('div', { class: 'department', testid: 'department-row', dataset: { departmentId: dep.id } },
        h('label', { class: 'field' }, h('span', { class: 'field__label' }, t('departments.name')), name),
        h('div', { class: 'department__members', role: 'group', 'aria-label': t('departments.members') },
          h('span', { class: 'field__label' }, t('departments.members')), ...(boxes.length ? boxes : [h('span', { class: 'muted' }, t('routing.noStaff'))])),
        h('div', { class: 'form__actions' }, save, remove, status));
    }

    const newName = h('input', { type: 'text', maxlength: 100, testid: 'department-new-name', placeholder: t('departments.placeholder'),
      'aria-label': t('departments.name') });
    const newStatus = h('span', { class: 'form-status', role: 'status' });
    const create = h('button', { type: 'submit', class: 'btn btn--primary', testid: 'department-create' }, t('departments.create'));
    const form = h('form', { class: 'department department--new', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      create.disabled = true;
      try {
        const res = await api('POST', `/sites/${site.id}/departments`, { name: newName.value, members: [] });
        departments.push(res.department);
        newName.value = '';
        saved(newStatus, '');
        render();
      } catch (err) { failed(newStatus, err); } finally { create.disabled = false; }
    } }, h('div', { class: 'input-row' }, newName, create), newStatus);
    render();
    return h('section', { class: 'form__section' },
      h('h3', {}, t('departments.title')),
      h('p', { class: 'field__hint' }, t('departments.hint')),
      list, form);
  }
}
