// day.js - the family doctor's day (their home page): today's overdue and
// due follow-ups (the API sorts by tier, then days overdue), open alerts
// by severity with acknowledge in one tap, and the households the doctor's
// teams have contracts with. Live: new alerts reload the alert card.
import {
  card, withNames, patientLink, tierBadge, sevBadge, when, dateOnly, endOfToday, h, empty, api, t, announce, tOr, DAY, alertText, taskReason,
} from '../lib/care.js';
import { onEvents } from '../lib/live.js';

const SEVS = ['critical', 'high', 'medium', 'low'];

export function tasksTable(tasks, name, { action } = {}) {
  return h('table', { class: 'table cards', id: 'task-table' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('col.patient')), h('th', { scope: 'col' }, t('col.tier')),
      h('th', { scope: 'col' }, t('col.task')), h('th', { scope: 'col' }, t('col.due')),
      h('th', { scope: 'col', class: 'num' }, t('col.overdue')), action ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('col.action'))) : null)),
    h('tbody', {}, ...tasks.map((k) => h('tr', { 'data-task': String(k.id), 'data-patient': String(k.patient), class: k.days_overdue > 0 ? 'overdue' : '' },
      h('th', { scope: 'row' }, patientLink(name(k.patient))),
      h('td', {}, tierBadge(k.tier_rank)),
      h('td', { class: 'wide-sm' }, tOr(`task.${k.kind}`, k.kind), h('div', { class: 'muted small' }, taskReason(k))),
      h('td', { 'data-label': t('col.due') }, when(k.due_ms)),
      h('td', { class: 'num' }, k.days_overdue > 0 ? t('task.days', { n: k.days_overdue }) : k.due_ms < endOfToday() ? t('task.today') : '–'),
      action ? h('td', {}, action(k)) : null))));
}

function alertsCard() {
  return card('alerts', t('day.alerts'), async (body) => {
    const { alerts } = await api('/api/v1/alerts?state=open');
    if (!alerts.length) { body.replaceChildren(empty(t('day.alerts_none'))); return 'empty'; }
    const name = await withNames(alerts);
    const groups = SEVS.map((s) => [s, alerts.filter((a) => a.severity === s)]).filter(([, l]) => l.length);
    body.replaceChildren(...groups.map(([s, list]) => h('div', { class: 'alert-group', 'data-severity': s },
      h('h3', {}, sevBadge(s), ' ', t('day.n_open', { n: list.length })),
      h('ul', { class: 'alert-list' }, ...list.map((a) => {
        const btn = h('button', { type: 'button', class: 'btn small', 'data-ack': String(a.id),
          'aria-label': t('alert.ack_for', { name: name(a.patient).name }) }, t('alert.ack'));
        btn.addEventListener('click', async () => {
          btn.disabled = true;
          try {
            await api(`/api/v1/alerts/${a.id}/ack`, { method: 'POST', body: {} });
            const li = btn.closest('li');
            const grp = li.closest('.alert-group');
            li.remove();
            if (!grp.querySelector('li')) grp.remove();
            if (!body.querySelector('li')) body.replaceChildren(empty(t('day.alerts_none')));
            announce(t('alert.acked'));
          } catch (e) {
            btn.disabled = false;
            btn.after(h('span', { class: 'form-error', role: 'alert' }, e.message));
          }
        });
        return h('li', { 'data-alert': String(a.id) },
          h('div', { class: 'alert-main' }, patientLink(name(a.patient)), h('span', { class: 'muted' }, ` · ${tOr(`rule.${a.rule}`, a.rule)}`),
            h('div', { class: 'small' }, alertText(a)),
            h('div', { class: 'muted small' }, t('alert.since', { date: when(a.first_ms, true), n: a.repeats }),
              a.escalation_level ? ` · ${t('alert.escalated', { n: a.escalation_level })}` : '')),
          btn);
      }))))); 
    return undefined;
  }, { cls: 'wide' });
}

function tasksCard() {
  return card('followups', t('day.followups'), async (body) => {
    const { tasks } = await api(`/api/v1/tasks?due_before=${endOfToday() + 14 * DAY}`);
    if (!tasks.length) { body.replaceChildren(empty(t('day.followups_none'))); return 'empty'; }
    const name = await withNames(tasks);
    const overdue = tasks.filter((k) => k.days_overdue > 0).length;
    body.replaceChildren(h('p', { class: 'muted' }, t('day.followups_count', { n: tasks.length, overdue })),
      h('div', { class: 'scroll-x' }, tasksTable(tasks, name)));
    return undefined;
  }, { cls: 'wide' });
}

function householdsCard(me) {
  return card('households', t('day.households'), async (body) => {
    const { teams } = await api(`/api/v1/teams?member=${me.id}`);
    if (!teams.length) { body.replaceChildren(empty(t('day.no_team'))); return 'empty'; }
    let lists;
    let hh;
    try {
      [lists, hh] = await Promise.all([
        Promise.all(teams.map((tm) => api(`/api/v1/contracts?team=${tm.id}&status=active&limit=1000`))),
        api('/api/v1/households?limit=1000'),
      ]);
    } catch (e) {
      // Lists of contracts and households need a whole-population
      // principal on the server; a team doctor is refused (403).
      if (e.status !== 403) throw e;
      body.replaceChildren(empty(t('day.households_forbidden')));
      return 'empty';
    }
    const byId = new Map(hh.households.map((x) => [x.id, x]));
    const rows = [];
    teams.forEach((tm, i) => lists[i].contracts.filter((c) => c.household).forEach((c) => rows.push({ tm, c, hh: byId.get(c.household) })));
    if (!rows.length) { body.replaceChildren(empty(t('day.households_none'))); return 'empty'; }
    body.replaceChildren(h('p', { class: 'muted' }, t('day.households_count', { n: rows.length, teams: teams.map((x) => x.name).join(', ') })),
      h('div', { class: 'scroll-x' }, h('table', { class: 'table cards', id: 'household-table' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('col.household')), h('th', { scope: 'col' }, t('col.address')),
          h('th', { scope: 'col' }, t('col.team')), h('th', { scope: 'col' }, t('col.contract_end')))),
        h('tbody', {}, ...rows.map(({ tm, c, hh: x }) => h('tr', { 'data-household': String(c.household) },
          h('th', { scope: 'row' }, x ? x.name : `#${c.household}`), h('td', { class: 'muted' }, x ? x.address : ''),
          h('td', { class: 'wide-sm' }, tm.name),
          h('td', { class: 'wide-sm', 'data-label': t('col.contract_end') }, dateOnly(c.end_date), c.renewal_due ? ' ' : null, c.renewal_due ? h('span', { class: 'badge st-due' }, t('contract.renew')) : null)))))));
    return undefined;
  }, { cls: 'wide' });
}

export async function renderDay(main, me) {
  performance.mark('vigil:day-start');
  const alerts = alertsCard();
  const sections = [tasksCard(), alerts, householdsCard(me)];
  const view = h('section', { class: 'view day-view', 'aria-labelledby': 'day-h' },
    h('h1', { id: 'day-h' }, t('day.title')),
    h('p', { class: 'muted' }, new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: 'full' }).format(new Date())),
    h('div', { class: 'stack' }, ...sections));
  main.replaceChildren(view);
  onEvents((evs) => { if (evs.some((e) => e.kind === 'alert')) alerts.run(); });
  const runs = sections.map((s) => s.run());
  // Read by bench/bench_web.mjs: the follow-up list is the first paint.
  runs[0].then(() => performance.measure('vigil:day-first', 'vigil:day-start'));
  await Promise.all(runs);
  // The user may have left the view meanwhile: mark this one, not main's.
  view.dataset.state = 'ready';
  if (view.isConnected) performance.measure('vigil:day', 'vigil:day-start');
}
