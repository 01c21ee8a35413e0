// patient_care.js - the care part of the patient page: the header line
// (conditions, tier and its reasons, contract and team, next follow-up),
// the buttons to record a visit, refer or ask for a consult (dialogs that
// post to the API with CSRF), and one timeline of alerts, tasks, visits,
// referrals and consults. Sections the user may not read are left out.
import { card, dialog, form, tierBadge, sevBadge, when, dateOnly, h, empty, api, t, announce, tOr, can, alertText, taskReason } from '../lib/care.js';
import { visitFields, visitBody } from './tasks.js';
import { onEvents } from '../lib/live.js';
import { fmtGlucose, MGDL_PER_MMOL } from '../lib/i18n.js';

// A read the role may not make (403/404) gives null instead of failing.
const maybe = (p) => p.catch((e) => { if (e.status === 403 || e.status === 404) return null; throw e; });
// GET PATH when ME holds SCOPE, else null without asking (no 403 noise).
const read = (me, scope, path) => (can(me, scope) ? maybe(api(path)) : Promise.resolve(null));

async function loadCare(pid, me) {
  const [conds, assess, contracts] = await Promise.all([
    read(me, 'condition.read', `/api/v1/patients/${pid}/conditions`),
    read(me, 'assessment.read', `/api/v1/patients/${pid}/assessment`),
    read(me, 'contract.read', `/api/v1/contracts?patient=${pid}`),
  ]);
  // null when the role may not read contracts: the line is left out.
  const active = contracts ? contracts.contracts.filter((c) => c.status === 'active') : null;
  const teams = await Promise.all((active || []).map((c) => maybe(api(`/api/v1/teams/${c.team}`))));
  return { conds, assess, active, teams };
}

async function loadTimeline(pid, me) {
  const [alerts, tasks, done, visits, refs, cons] = await Promise.all([
    read(me, 'alert.read', `/api/v1/alerts?patient=${pid}`),
    read(me, 'task.read', '/api/v1/tasks'),
    read(me, 'task.read', '/api/v1/tasks?state=done'),
    read(me, 'visit.read', `/api/v1/visits?patient=${pid}&limit=100`),
    read(me, 'referral.read', `/api/v1/referrals?patient=${pid}`),
    read(me, 'consult.read', '/api/v1/consults'),
  ]);
  const ev = [];
  for (const a of alerts ? alerts.alerts : []) {
    ev.push({ ms: a.first_ms, kind: 'alert', id: a.id, badge: sevBadge(a.severity), title: tOr(`rule.${a.rule}`, a.rule), text: alertText(a), state: t(`alert.st.${a.state}`) });
  }
  // The task list has no patient filter: the visible list, filtered here.
  for (const k of [...(tasks ? tasks.tasks : []), ...(done ? done.tasks : [])].filter((x) => x.patient === pid)) {
    ev.push({ ms: k.state === 'done' ? k.done_ms : k.due_ms, kind: 'task', id: k.id, title: tOr(`task.${k.kind}`, k.kind), text: taskReason(k),
      state: k.state === 'done' ? t('task.done') : t('task.due_on', { date: when(k.due_ms) }) });
  }
  for (const v of visits ? visits.visits : []) {
    const bits = [];
    if (v.sbp) bits.push(`${Math.round(v.sbp)}/${Math.round(v.dbp)} mmHg`);
    if (v.glucose_mmol) bits.push(`${t('alert.what.fpg')} ${fmtGlucose(v.glucose_mmol * MGDL_PER_MMOL)}`);
    ev.push({ ms: Date.parse(v.time), kind: 'visit', id: v.id, title: t(`visit.kind.${v.kind}`), text: bits.join(' · ') || v.note,
      state: v.next_date ? t('visit.next', { date: dateOnly(v.next_date) }) : '' });
  }
  for (const r of refs ? refs.referrals : []) {
    ev.push({ ms: r.created_ms, kind: 'referral', id: r.id, title: `${t(`ref.dir.${r.direction}`)} · ${t(`urg.${r.urgency}`)}`, text: r.reason, state: t(`ref.st.${r.state}`) });
  }
  for (const c of (cons ? cons.consults : []).filter((x) => x.patient === pid)) {
    ev.push({ ms: c.created_ms, kind: 'consult', id: c.id, title: c.specialty || t('tl.consult'), text: c.answer ? `${c.question} → ${c.answer}` : c.question, state: t(`consult.st.${c.state}`) });
  }
  return ev.sort((a, b) => b.ms - a.ms);
}

function headerLine({ conds, assess, active, teams }) {
  const parts = [];
  if (conds) {
    const list = conds.conditions.filter((c) => c.status === 'active');
    parts.push(h('div', { class: 'kv', id: 'care-conditions' }, h('span', { class: 'label' }, t('care.conditions')),
      list.length ? list.map((c) => h('span', { class: 'badge cond' }, tOr(`cond.${c.code}`, c.code))) : h('span', { class: 'muted' }, t('care.none'))));
  }
  if (assess && assess.overall) {
    const o = assess.overall;
    parts.push(h('div', { class: 'kv', id: 'care-tier' }, h('span', { class: 'label' }, t('care.tier')), tierBadge(o.tier),
      h('span', { class: 'muted' }, ` ${t('care.level', { n: o.level })}`)));
    parts.push(h('div', { class: 'kv', id: 'care-next' }, h('span', { class: 'label' }, t('care.next')),
      o.next_due ? when(Date.parse(o.next_due)) : '–'));
    const reasons = assess.programmes.flatMap((p) => p.reasons.map((r) => `${tOr(`prog.${p.programme}`, p.programme)}: ${r}`));
    parts.push(h('details', { class: 'reasons', id: 'care-reasons' }, h('summary', {}, t('care.reasons', { n: reasons.length })),
      h('ul', {}, ...reasons.map((r) => h('li', {}, r)))));
  }
  if (active) {
    parts.push(h('div', { class: 'kv', id: 'care-contract' }, h('span', { class: 'label' }, t('care.contract')),
      active.length ? active.map((c, i) => h('span', {}, t('care.contract_line', { team: teams[i] ? teams[i].name : `#${c.team}`, end: dateOnly(c.end_date) }),
        c.renewal_due ? h('span', { class: 'badge st-due' }, t('contract.renew')) : null)) : h('span', { class: 'muted' }, t('care.no_contract'))));
  }
  return parts;
}

function actionButtons(p, me, refresh) {
  const open = (title, fields, label, post) => () => {
    const d = dialog(title, form('care-dlg', fields, label, async (v) => {
      await post(v);
      d.close();
      announce(t('care.saved'));
      refresh();
    }, { cancel: () => d.close() }));
  };
  const visit = open(t('care.record_visit'), [...visitFields(),
    { name: 'next_date', label: t('visit.next_date'), type: 'date' }], t('form.save'), async (v) => {
    // POST /api/v1/visits requires the visit's time (RFC 3339); the task
    // completion route stamps it itself.
    const b = { patient: p.id, time: new Date().toISOString(), ...visitBody(v) };
    if (v.next_date) b.next_date = v.next_date;
    await api('/api/v1/visits', { method: 'POST', body: b });
  });
  const refer = async () => {
    let orgs = [];
    try { orgs = (await api('/api/v1/organizations?limit=1000')).organizations.filter((o) => /hospital/.test(o.level)); } catch { /* optional */ }
    open(t('care.refer'), [
      { name: 'to_org', label: t('ref.to'), type: 'select', options: orgs.map((o) => [String(o.id), o.name]) },
      { name: 'urgency', label: t('ref.urgency'), type: 'select', value: 'routine', options: ['routine', 'urgent', 'emergency'].map((u) => [u, t(`urg.${u}`)]) },
      { name: 'reason', label: t('ref.reason'), wide: true, required: true },
    ], t('ref.send'), async (v) => {
      const b = { patient: p.id, direction: 'up', urgency: v.urgency, reason: v.reason };
      if (v.to_org) b.to_org = Number(v.to_org);
      if (me && me.org_id) b.from_org = me.org_id;
      await api('/api/v1/referrals', { method: 'POST', body: b });
    })();
  };
  const consult = open(t('care.consult'), [
    { name: 'specialty', label: t('consult.specialty') },
    { name: 'question', label: t('consult.question'), type: 'textarea', wide: true, required: true },
  ], t('consult.ask'), async (v) => {
    await api('/api/v1/consults', { method: 'POST', body: { patient: p.id, question: v.question, specialty: v.specialty || '' } });
  });
  return h('div', { class: 'care-actions' },
    h('button', { type: 'button', class: 'btn', id: 'act-visit', onclick: visit }, t('care.record_visit')),
    h('button', { type: 'button', class: 'btn secondary', id: 'act-refer', onclick: refer }, t('care.refer')),
    h('button', { type: 'button', class: 'btn secondary', id: 'act-consult', onclick: consult }, t('care.consult')));
}

// The care card and the timeline card (null when ME may read none of the
// timeline's lists) of patient P for user ME.
export function careSections(p, me) {
  const clinical = !me || me.role !== 'patient';
  const timeline = card('timeline', t('tl.title'), async (body) => {
    const ev = await loadTimeline(p.id, me);
    if (!ev.length) { body.replaceChildren(empty(t('tl.none'))); return 'empty'; }
    body.replaceChildren(h('ol', { class: 'timeline' }, ...ev.slice(0, 60).map((e) => h('li', { class: `tl-${e.kind}`, 'data-kind': e.kind, 'data-id': String(e.id) },
      h('span', { class: 'tl-dot', 'aria-hidden': 'true' }),
      h('div', {}, h('div', { class: 'tl-head' }, h('span', { class: 'tl-kind' }, t(`tl.${e.kind}`)), e.badge || null, h('strong', {}, e.title),
        h('span', { class: 'muted small' }, when(e.ms, true))),
        e.text ? h('div', { class: 'small' }, e.text) : null, e.state ? h('div', { class: 'muted small' }, e.state) : null)))));
    return undefined;
  }, { cls: 'wide' });
  const care = card('care', t('care.title'), async (body) => {
    const c = await loadCare(p.id, me);
    const line = headerLine(c);
    body.replaceChildren(h('div', { class: 'care-line' }, ...line),
      ...(clinical ? [actionButtons(p, me, () => { care.run(); timeline.run(); })] : []));
    return line.length ? undefined : 'empty';
  }, { cls: 'wide' });
  // No timeline for a user who may read none of its lists (a patient).
  const any = ['alert.read', 'task.read', 'visit.read', 'referral.read', 'consult.read'].some((x) => can(me, x));
  onEvents((evs) => { if (evs.some((e) => e.patient === p.id)) { care.run(); if (any) timeline.run(); } });
  return [care, any ? timeline : null];
}
