// login.js - the sign-in form: POST /api/v1/auth/login sets the session
// cookie (HttpOnly) and the CSRF cookie; ONDONE gets the user.
import { api } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { t } from '../lib/i18n.js';

export function renderLogin(main, { expired, onDone }) {
  const user = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const pass = h('input', { id: 'login-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const msg = h('p', { id: 'login-msg', class: 'form-msg', role: 'alert' }, expired ? t('login.expired') : '');
  const btn = h('button', { type: 'submit', class: 'btn', id: 'login-submit' }, t('login.submit'));
  const form = h('form', { class: 'card login', 'aria-labelledby': 'login-h', novalidate: true },
    h('h1', { id: 'login-h' }, t('login.title')),
    h('label', { class: 'field', for: 'login-user' }, h('span', { class: 'label' }, t('login.username'))), user,
    h('label', { class: 'field', for: 'login-pass' }, h('span', { class: 'label' }, t('login.password'))), pass,
    msg, btn);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!user.value || !pass.value) { (user.value ? pass : user).focus(); return; }
    btn.disabled = true;
    btn.textContent = t('login.busy');
    msg.textContent = '';
    try {
      const r = await api('/api/v1/auth/login', { method: 'POST', body: { username: user.value, password: pass.value } });
      pass.value = '';
      onDone(r.user);
    } catch (err) {
      msg.textContent = err.status === 401 ? t('login.failed') : t('state.error', { msg: err.message });
      btn.disabled = false;
      btn.textContent = t('login.submit');
      pass.select();
    }
  });
  main.replaceChildren(h('div', { class: 'login-wrap' }, form));
  user.focus();
}
