// care.js - shared pieces of the care-layer views: a card with its loading,
// empty and error states, patient names (cached by id), tier and severity
// badges, dates, and a small form builder whose submit posts with CSRF.
import { api } from './api.js';
import { h, loading, empty, failure, announce } from './dom.js';
import { t, fmtDate, fmtNum, fmtGlucose } from './i18n.js';

export const DAY = 86400000;

// A titled card whose body LOAD(body, el) fills. LOAD returns 'empty' or
// nothing (ready); a throw shows the error with Try again. The state is in
// data-state (loading, ready, empty, error) for tests and styles.
export function card(id, title, load, { cls = '', actions = null } = {}) {
  const body = h('div', { class: 'section-body' });
  const el = h('section', { class: `card ${cls}`, id, 'aria-labelledby': `${id}-h`, 'data-state': 'loading', 'aria-busy': 'true' },
    h('div', { class: 'card-head' }, h('h2', { id: `${id}-h` }, title), actions), body);
  const run = async () => {
    el.dataset.state = 'loading';
    el.setAttribute('aria-busy', 'true');
    if (!body.firstChild) body.replaceChildren(loading());
    try {
      const state = await load(body, el);
      el.dataset.state = state || 'ready';
    } catch (e) {
      if (e.name === 'AbortError') return;
      el.dataset.state = 'error';
      body.replaceChildren(failure(e, () => { body.replaceChildren(); run(); }));
    }
    el.removeAttribute('aria-busy');
  };
  el.run = run;
  return el;
}

export const emptyState = (text) => { const e = empty(text); return e; };

// Whether the user is working in EL: a form or button request being sent,
// a field typed in, or an item just acted on. A live reload then waits, so nothing typed or
// just confirmed vanishes under the user.
export function inUse(el) {
  if (el.querySelector('.done, form[aria-busy="true"], button[aria-busy="true"]')) return true;
  return [...el.querySelectorAll('textarea, input:not([type="hidden"])')].some((x) => x.value.trim() !== '' && x.defaultValue !== x.value);
}

// Patient names by id; one request per id, shared between views.
const names = new Map();
export function patientName(id) {
  if (!names.has(id)) {
    names.set(id, api(`/api/v1/patients/${id}`).then((p) => p, () => ({ id, name: `#${id}` })));
  }
  return names.get(id);
}
export async function withNames(rows, key = 'patient') {
  const ids = [...new Set(rows.map((r) => r[key]).filter(Boolean))];
  const ps = await Promise.all(ids.map(patientName));
  const m = new Map(ps.map((p) => [p.id, p]));
  return (id) => m.get(id) || { id, name: `#${id}` };
}
export const patientLink = (p) => h('a', { href: `#/patients/${p.id}`, class: 'plink' }, p.name || `#${p.id}`);

const TIERS = ['stable', 'attention', 'urgent'];
export const tierName = (rank) => TIERS[rank] || 'stable';
export function tierBadge(tier) {
  const name = typeof tier === 'number' ? tierName(tier) : tier || 'unknown';
  return h('span', { class: `badge tier-${name}` }, t(`tier.${name}`));
}
export const sevBadge = (sev) => h('span', { class: `badge sev-${sev}` }, t(`sev.${sev}`));
export const stateBadge = (kind, state) => h('span', { class: `badge st-${state}` }, t(`${kind}.st.${state}`));

export const ymd = (ms) => new Date(ms).toISOString().slice(0, 10);
export const when = (ms, withTime = false) => (ms ? fmtDate(ms, undefined, withTime) : '–');
// A calendar date (YYYY-MM-DD) in the locale, without a time-zone shift.
export const dateOnly = (d) => (d && /^\d{4}-\d{2}-\d{2}$/.test(d) ? fmtDate(Date.parse(`${d}T00:00:00Z`), 'UTC') : d || '–');
export const endOfToday = () => { const d = new Date(); d.setHours(24, 0, 0, 0); return d.getTime(); };

// A labelled form. FIELDS: [{name, label, type:'number'|'text'|'textarea'|
// 'select'|'date', options:[[value,label]], required, min, max, step}].
// ONSUBMIT(values) posts; its error shows in the form's alert line.
export function form(id, fields, submitLabel, onsubmit, { cancel } = {}) {
  const err = h('p', { class: 'form-error', role: 'alert' });
  const controls = fields.map((f) => {
    const cid = `${id}-${f.name}`;
    let input;
    if (f.type === 'select') {
      input = h('select', { id: cid, name: f.name, required: f.required || null },
        ...f.options.map(([v, l]) => h('option', { value: v, selected: v === f.value || null }, l)));
    } else if (f.type === 'textarea') {
      input = h('textarea', { id: cid, name: f.name, rows: '3', required: f.required || null }, f.value || '');
    } else {
      input = h('input', { id: cid, name: f.name, type: f.type || 'text', required: f.required || null,
        min: f.min ?? null, max: f.max ?? null, step: f.step ?? null, inputmode: f.type === 'number' ? 'decimal' : null,
        value: f.value ?? null });
    }
    return h('label', { class: `field ${f.wide ? 'wide' : ''}`, for: cid }, h('span', { class: 'label' }, f.label), input);
  });
  const submit = h('button', { type: 'submit', class: 'btn' }, submitLabel);
  const el = h('form', { id, class: 'care-form', novalidate: null },
    h('div', { class: 'fields' }, ...controls), err,
    h('div', { class: 'form-actions' }, submit,
      cancel ? h('button', { type: 'button', class: 'btn secondary', onclick: cancel }, t('form.cancel')) : null));
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!el.reportValidity()) return;
    const v = {};
    for (const f of fields) {
      const raw = el.elements[f.name].value.trim();
      if (raw === '') continue;
      v[f.name] = f.type === 'number' ? Number(raw) : raw;
    }
    submit.disabled = true;
    el.setAttribute('aria-busy', 'true');
    err.textContent = '';
    try {
      await onsubmit(v);
    } catch (e) {
      err.textContent = t('form.failed', { msg: e.message });
    } finally {
      submit.disabled = false;
      el.removeAttribute('aria-busy');
    }
  });
  return el;
}

// A modal dialog holding CONTENT; returns {close}. Escape closes it and
// focus goes back to the opener.
export function dialog(title, content) {
  const opener = document.activeElement;
  const d = h('dialog', { class: 'care-dialog', 'aria-labelledby': 'dlg-h' },
    h('div', { class: 'card-head' }, h('h2', { id: 'dlg-h' }, title),
      h('button', { type: 'button', class: 'btn secondary icon', 'aria-label': t('form.close'), onclick: () => close() }, '×')),
    content);
  function close() {
    d.close();
    d.remove();
    if (opener && opener.focus) opener.focus();
  }
  d.addEventListener('cancel', (e) => { e.preventDefault(); close(); });
  document.body.append(d);
  d.showModal();
  const first = d.querySelector('input, select, textarea');
  if (first) first.focus();
  return { close, el: d };
}

export { h, loading, empty, failure, announce, api, t };

// An alert's message in the user's language and glucose unit. The server
// writes threshold alerts as '<what> <value> (<n> readings)' in English
// and mg/dL (care_assess.c thr_alert); other messages are shown as sent.
const WHAT = { SBP: 'sbp', DBP: 'dbp', 'glucose mg/dL': 'glucose', 'CGM glucose mg/dL': 'cgm', 'fasting glucose mg/dL': 'fpg' };
export function alertText(a) {
  const m = /^(.+) (-?[\d.]+) \((\d+) readings\)$/.exec(a.message || '');
  const what = m && WHAT[m[1]];
  if (!what) return a.message;
  const v = Number(m[2]);
  const value = what === 'sbp' || what === 'dbp' ? `${fmtNum(v, 0)} mmHg` : fmtGlucose(v);
  return t('alert.msg', { what: t(`alert.what.${what}`), value, n: Number(m[3]) });
}

// A task's reason: rule codes and the scheduled kinds (whose server text
// is English) from the message table; free text (care plans) as written.
export function taskReason(k) {
  if (k.source === 'schedule') return tOr(`reason.${k.kind}`, k.reason);
  return tOr(`reason.${k.reason}`, k.reason);
}

// Whether ME's scopes (GET /api/v1/me) allow SCOPE ('x.read'): exact, 'x.*'
// or '*'. No user or no scopes (a server without authentication): yes.
export function can(me, scope) {
  if (!me || typeof me.scopes !== 'string') return true;
  const res = scope.split('.')[0];
  return me.scopes.split(' ').some((s) => s === '*' || s === scope || s === `${res}.*`);
}

// The message for KEY, or FALLBACK when the table has none (rule and task
// kinds the server may add later show their code rather than a key).
export function tOr(key, fallback) {
  const s = t(key);
  return s === key ? fallback : s;
}
