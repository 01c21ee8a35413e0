// dom.js - tiny element builder and the shared loading/empty/error states.
// Never sets style attributes (the CSP forbids inline styles); sizes that
// come from data are set through the CSSOM (el.style.x), which it allows.
import { t } from './i18n.js';

// h('div', {class, text, onclick, 'aria-label'...}, ...children)
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function loading() {
  return h('p', { class: 'state loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('state.loading'));
}

export function empty(text) {
  return h('p', { class: 'state empty' }, text);
}

// An error with a retry button; RETRY is called on click.
export function failure(err, retry) {
  const msg = err && err.status === 0 ? t('state.offline') : (err && err.message) || String(err);
  return h('div', { class: 'state error', role: 'alert' },
    h('p', {}, t('state.error', { msg })),
    retry ? h('button', { type: 'button', class: 'btn', onclick: retry }, t('state.retry')) : null);
}

export function announce(text) {
  const el = document.getElementById('announce');
  if (el) el.textContent = text;
}
