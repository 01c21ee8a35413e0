// tasks.js - the nurse's task list (phone first): today's and overdue tasks
// as cards, mine or the whole visible list; each opens a visit form that
// records BP and glucose and completes the task (POST tasks/{id}/complete).
// The server re-assesses the patient, which moves the next follow-up; the
// card then shows the new date.
import {
  card, withNames, patientLink, tierBadge, when, endOfToday, form, h, empty, api, t, announce, DAY, tOr, taskReason, inUse,
} from '../lib/care.js';
import { getGlucoseUnit, MGDL_PER_MMOL } from '../lib/i18n.js';
import { onEvents } from '../lib/live.js';

let scope = 'all';

export function visitFields(prefix = '') {
  const unit = getGlucoseUnit();
  return [
    { name: 'kind', label: t('visit.kind'), type: 'select', value: 'home',
      options: ['clinic', 'home', 'phone', 'online'].map((k) => [k, t(`visit.kind.${k}`)]) },
    { name: 'sbp', label: t('visit.sbp'), type: 'number', min: 40, max: 300, step: 1 },
    { name: 'dbp', label: t('visit.dbp'), type: 'number', min: 20, max: 200, step: 1 },
    { name: 'glucose', label: t('visit.glucose', { unit }), type: 'number', step: unit === 'mmol/L' ? 0.1 : 1,
      min: unit === 'mmol/L' ? 0.5 : 9, max: unit === 'mmol/L' ? 60 : 1080 },
    { name: 'adherence', label: t('visit.adherence'), type: 'select', value: 'unknown',
      options: ['good', 'partial', 'poor', 'none', 'unknown'].map((k) => [k, t(`adh.${k}`)]) },
    { name: 'symptoms', label: t('visit.symptoms'), wide: true },
    { name: 'note', label: t('visit.note'), type: 'textarea', wide: true },
  ].map((f) => ({ ...f, prefix }));
}

// Form values -> API body (glucose in mmol/L; BP only as a pair).
export function visitBody(v) {
  const b = { kind: v.kind, adherence: v.adherence };
  if ((v.sbp === undefined) !== (v.dbp === undefined)) throw new Error(t('visit.bp_pair'));
  if (v.sbp !== undefined) {
    if (v.sbp <= v.dbp) throw new Error(t('visit.bp_order'));
    b.sbp = v.sbp; b.dbp = v.dbp;
  }
  if (v.glucose !== undefined) {
    b.glucose_mmol = getGlucoseUnit() === 'mmol/L' ? v.glucose : Math.round((v.glucose / MGDL_PER_MMOL) * 10) / 10;
  }
  if (v.symptoms) b.symptoms = v.symptoms;
  if (v.note) b.note = v.note;
  return b;
}

async function nextDue(pid) {
  try {
    const a = await api(`/api/v1/patients/${pid}/assessment`);
    return a.overall && a.overall.next_due ? Date.parse(a.overall.next_due) : null;
  } catch { return null; }
}

function taskCard(k, name, body) {
  const p = name(k.patient);
  const open = h('button', { type: 'button', class: 'btn', 'data-visit': String(k.id), 'aria-expanded': 'false' }, t('task.record_visit'));
  const slot = h('div', { class: 'visit-slot' });
  const li = h('li', { class: `task-card ${k.days_overdue > 0 ? 'overdue' : ''}`, 'data-task': String(k.id), 'data-patient': String(k.patient) },
    h('div', { class: 'task-top' }, patientLink(p), tierBadge(k.tier_rank)),
    h('div', {}, h('span', { class: 'task-kind', 'data-kind': k.kind }, tOr(`task.${k.kind}`, k.kind)),
      h('span', { class: 'muted' }, ` · ${taskReason(k)}`)),
    h('div', { class: 'muted small' }, t('task.due_on', { date: when(k.due_ms) }),
      k.days_overdue > 0 ? [' · ', h('strong', { class: 'bad' }, t('task.days', { n: k.days_overdue }))]
        : k.due_ms < endOfToday() ? ` · ${t('task.today')}` : null),
    open, slot);
  open.addEventListener('click', () => {
    if (slot.firstChild) { slot.replaceChildren(); open.setAttribute('aria-expanded', 'false'); return; }
    open.setAttribute('aria-expanded', 'true');
    slot.replaceChildren(form(`visit-${k.id}`, visitFields(), t('task.complete'), async (v) => {
      const res = await api(`/api/v1/tasks/${k.id}/complete`, { method: 'POST', body: visitBody(v) });
      // The re-assessment runs in the worker; ask until the due date moves.
      let due = null;
      for (let i = 0; i < 20 && (!due || due <= k.due_ms); i++) {
        due = await nextDue(k.patient);
        if (!due || due <= k.due_ms) await new Promise((r) => setTimeout(r, 150));
      }
      li.classList.add('done');
      li.replaceChildren(h('div', { class: 'task-top' }, patientLink(p), h('span', { class: 'badge st-done' }, t('task.done'))),
        h('p', { class: 'next-due', 'data-next-due': due ? String(due) : '' },
          due ? t('task.next_due', { date: when(due), n: Math.max(0, Math.round((due - Date.now()) / DAY)) }) : t('task.next_unknown')),
        h('p', { class: 'muted small' }, t('task.visit_saved', { id: res.visit })));
      announce(t('task.done'));
      li.querySelector('a').focus();
    }, { cancel: () => { slot.replaceChildren(); open.setAttribute('aria-expanded', 'false'); open.focus(); } }));
    slot.querySelector('select, input').focus();
  });
  return li;
}

export async function renderTasks(main) {
  const list = card('tasks', t('tasks.title'), async (body) => {
    const q = scope === 'me' ? 'assignee=me&' : '';
    const { tasks } = await api(`/api/v1/tasks?${q}due_before=${endOfToday() + 14 * DAY}`);
    if (!tasks.length) { body.replaceChildren(empty(t(scope === 'me' ? 'tasks.none_mine' : 'tasks.none'))); return 'empty'; }
    const name = await withNames(tasks);
    body.replaceChildren(h('p', { class: 'muted' }, t('day.followups_count', { n: tasks.length, overdue: tasks.filter((k) => k.days_overdue > 0).length })),
      h('ul', { class: 'task-list' }, ...tasks.map((k) => taskCard(k, name, body))));
    return undefined;
  });
  const sw = h('div', { class: 'range', role: 'group', 'aria-label': t('tasks.scope') },
    ...['me', 'all'].map((s) => h('button', { type: 'button', class: 'seg-btn', 'aria-pressed': String(scope === s), 'data-scope': s,
      onclick: () => { scope = s; sw.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.scope === s))); list.run(); } },
    t(`tasks.scope.${s}`))));
  main.replaceChildren(h('section', { class: 'view tasks-view', 'aria-labelledby': 'tasks-view-h' },
    h('h1', { id: 'tasks-view-h' }, t('tasks.heading')), sw, list));
  onEvents((evs) => { if (evs.some((e) => e.kind === 'task') && !list.querySelector('form') && !inUse(list)) list.run(); });
  await list.run();
}
