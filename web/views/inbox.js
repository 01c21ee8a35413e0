// inbox.js - the hospital inbox (clinician): incoming referrals to accept
// or decline, accepted ones to complete, completed ones to return down
// with a care plan (its items become community tasks), and consults to
// answer. Referral transitions send If-Match with the version read.
import {
  card, withNames, patientLink, when, form, h, empty, api, t, announce, tOr, inUse,
} from '../lib/care.js';
import { onEvents } from '../lib/live.js';

async function transition(r, action, body = {}) {
  return api(`/api/v1/referrals/${r.id}/${action}`, { method: 'POST', body, headers: { 'if-match': `"${r.version}"` } });
}

function refItem(r, name, actions) {
  const slot = h('div', { class: 'visit-slot' });
  // The item first: the action buttons close over it.
  const li = h('li', { class: 'inbox-item', 'data-referral': String(r.id), 'data-patient': String(r.patient) },
    h('div', { class: 'task-top' }, patientLink(name(r.patient)),
      h('span', { class: `badge urg-${r.urgency}` }, t(`urg.${r.urgency}`))),
    h('div', {}, r.reason),
    h('div', { class: 'muted small' }, t('inbox.ref_meta', { date: when(r.created_ms, true), by: r.created_by || '–', dir: t(`ref.dir.${r.direction}`) })),
    r.note ? h('div', { class: 'small' }, t('inbox.note', { note: r.note })) : null);
  li.append(h('div', { class: 'form-actions' }, ...actions(r, li, slot)), slot);
  return li;
}

function done(li, text) {
  li.classList.add('done');
  li.replaceChildren(h('p', {}, text));
  announce(text);
}

function btn(label, attrs, onclick) {
  const b = h('button', { type: 'button', class: `btn small ${attrs.secondary ? 'secondary' : ''}`, 'data-action': attrs.action }, label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    // Busy while the request runs: a live reload waits (inUse), or it
    // would replace this item before the answer marks it done.
    b.setAttribute('aria-busy', 'true');
    try { await onclick(); } catch (e) {
      b.disabled = false;
      b.after(h('span', { class: 'form-error', role: 'alert' }, e.message));
    } finally {
      b.removeAttribute('aria-busy');
    }
  });
  return b;
}

// Most urgent first, then the longest waiting.
const URG = { emergency: 0, urgent: 1, routine: 2 };
export const byUrgency = (a, b) => ((URG[a.urgency] ?? 3) - (URG[b.urgency] ?? 3)) || a.created_ms - b.created_ms;

function referralsCard(id, state, title, none, actions) {
  return card(id, title, async (body) => {
    const { referrals } = await api(`/api/v1/referrals?state=${state}`);
    referrals.sort(byUrgency);
    if (!referrals.length) { body.replaceChildren(empty(none)); return 'empty'; }
    const name = await withNames(referrals);
    body.replaceChildren(h('ul', { class: 'task-list' }, ...referrals.map((r) => refItem(r, name, actions))));
    return undefined;
  });
}

export async function renderInbox(main) {
  const incoming = referralsCard('ref-requested', 'requested', t('inbox.incoming'), t('inbox.incoming_none'), (r, li) => [
    btn(t('ref.accept'), { action: 'accept' }, async () => { await transition(r, 'accept'); done(li, t('ref.accepted')); accepted.run(); }),
    btn(t('ref.decline'), { action: 'decline', secondary: true }, async () => { await transition(r, 'decline'); done(li, t('ref.declined')); }),
  ]);
  const accepted = referralsCard('ref-accepted', 'accepted', t('inbox.accepted'), t('inbox.accepted_none'), (r, li) => [
    btn(t('ref.complete'), { action: 'complete' }, async () => { await transition(r, 'complete'); done(li, t('ref.completed')); toReturn.run(); }),
  ]);
  const toReturn = referralsCard('ref-completed', 'completed', t('inbox.return'), t('inbox.return_none'), (r, li, slot) => [
    btn(t('ref.return'), { action: 'return' }, async () => {
      slot.replaceChildren(form(`ret-${r.id}`, [
        { name: 'kind', label: t('plan.kind'), type: 'select', value: 'followup_visit',
          options: ['followup_visit', 'home_visit', 'lab_test'].map((k) => [k, t(`task.${k}`)]) },
        { name: 'due_days', label: t('plan.due_days'), type: 'number', min: 1, max: 365, step: 1, value: '14', required: true },
        { name: 'reason', label: t('plan.reason'), wide: true, required: true },
        { name: 'note', label: t('plan.note'), type: 'textarea', wide: true },
      ], t('ref.return_send'), async (v) => {
        await transition(r, 'return', { note: v.note || '', care_plan: { tasks: [{ kind: v.kind, due_days: v.due_days, reason: v.reason }] } });
        done(li, t('ref.returned'));
      }, { cancel: () => slot.replaceChildren() }));
      slot.querySelector('select').focus();
    }),
  ]);
  const consults = card('consults', t('inbox.consults'), async (body) => {
    const { consults: list } = await api('/api/v1/consults?state=open');
    if (!list.length) { body.replaceChildren(empty(t('inbox.consults_none'))); return 'empty'; }
    const name = await withNames(list);
    body.replaceChildren(h('ul', { class: 'task-list' }, ...list.map((c) => {
      const slot = h('div', { class: 'visit-slot' });
      const li = h('li', { class: 'inbox-item', 'data-consult': String(c.id) },
        h('div', { class: 'task-top' }, patientLink(name(c.patient)), c.specialty ? h('span', { class: 'badge' }, c.specialty) : null),
        h('p', {}, c.question),
        (c.readings || []).length ? h('div', { class: 'muted small' }, (c.readings || []).map((x) => `${tOr(`alert.what.${x.code}`, x.code)} ${x.value}`).join(' · ')) : null,
        h('div', { class: 'muted small' }, t('inbox.waiting', { by: c.asked_by || '–', h: Math.round(c.waiting_ms / 36e5) })),
        slot);
      slot.replaceChildren(form(`ans-${c.id}`, [{ name: 'answer', label: t('consult.answer'), type: 'textarea', wide: true, required: true }],
        t('consult.send'), async (v) => {
          await api(`/api/v1/consults/${c.id}/answer`, { method: 'POST', body: { answer: v.answer } });
          done(li, t('consult.answered'));
        }));
      return li;
    })));
    return undefined;
  });
  const cards = [incoming, accepted, toReturn, consults];
  main.replaceChildren(h('section', { class: 'view inbox-view', 'aria-labelledby': 'inbox-h' },
    h('h1', { id: 'inbox-h' }, t('inbox.title')), h('div', { class: 'grid2' }, ...cards)));
  onEvents((evs) => {
    if (evs.some((e) => e.kind === 'referral') && !inUse(incoming)) incoming.run();
    if (evs.some((e) => e.kind === 'consult') && !inUse(consults)) consults.run();
  });
  await Promise.all(cards.map((c) => c.run()));
}
