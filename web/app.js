// app.js - the dashboard shell: session (sign-in when the server has
// authentication), language and glucose-unit switches, hash routes
// (#/login, #/patients, #/patients/{id}, #/day, #/tasks, #/inbox,
// #/population, #/admin; only ids ever go in the URL) and the role's home
// page: the first of its NAV entries, a patient's own page for a patient.
import { initI18n, setLang, setGlucoseUnit, getLang, getGlucoseUnit, onChange, t } from './lib/i18n.js';
import { api } from './lib/api.js';
import { h, empty, failure } from './lib/dom.js';
import { destroyCharts } from './lib/charts.js';
import { renderPatients } from './views/patients.js';
import { renderPatient, leavePatient } from './views/patient.js';
import { renderLogin } from './views/login.js';
import { renderDay } from './views/day.js';
import { renderTasks } from './views/tasks.js';
import { renderInbox } from './views/inbox.js';
import { renderPopulation, renderIndicatorPatients } from './views/population.js';
import { renderAdmin } from './views/admin.js';
import { startLive, stopLive, clearEvents } from './lib/live.js';
import { can } from './lib/care.js';

const main = document.getElementById('main');
// auth: 'none' when the server has no /api/v1/me (no authentication),
// 'session' otherwise; user is the signed-in principal or null.
const session = { auth: 'unknown', user: null, expired: false };

async function loadSession() {
  try {
    session.user = await api('/api/v1/me');
    session.auth = 'session';
  } catch (e) {
    if (e.status === 404) session.auth = 'none';
    else if (e.status === 401) { session.auth = 'session'; session.user = null; } else throw e;
  }
}

// Each role's pages, the first being its home page.
const NAV = {
  doctor: ['day', 'patients', 'inbox', 'population'],
  nurse: ['tasks', 'patients'],
  clinician: ['inbox'],
  admin: ['population', 'admin', 'patients', 'day', 'inbox'],
  researcher: ['population'],
  // A patient has only their own page (home()), no list.
  patient: [],
};
const role = () => (session.user ? session.user.role : null);
const pages = () => NAV[role()] || ['patients'];
const home = () => (session.user && session.user.role === 'patient' && session.user.patient_id
  ? `#/patients/${session.user.patient_id}` : `#/${pages()[0]}`);
const allowed = (page) => session.auth === 'none' || pages().includes(page);
const guard = (page, view) => () => {
  if (!allowed(page)) { location.replace(home()); return null; }
  return view();
};

const routes = [
  [/^#\/login$/, () => renderLogin(main, {
    expired: session.expired,
    onDone: (user) => {
      session.user = user;
      session.expired = false;
      const next = sessionStorage.getItem('vigil.next');
      sessionStorage.removeItem('vigil.next');
      location.hash = next && next !== '#/login' ? next : home();
    },
  })],
  [/^#\/patients\/?$/, () => {
    if (session.user && !allowed('patients')) { location.replace(home()); return null; }
    return renderPatients(main);
  }],
  [/^#\/patients\/(\d+)$/, (m) => renderPatient(main, m[1], render, session.user)],
  [/^#\/day$/, guard('day', () => renderDay(main, session.user || { id: 0 }))],
  [/^#\/tasks$/, guard('tasks', () => renderTasks(main))],
  [/^#\/inbox$/, guard('inbox', () => renderInbox(main))],
  [/^#\/population$/, guard('population', () => renderPopulation(main, session.user || {}))],
  [/^#\/population\/(\d+)\/(\d{4}-(?:Q[1-4]|\d{2}))\/([\w.]+)\/(numerator|denominator)$/,
    (m) => guard('population', () => renderIndicatorPatients(main, m[1], m[2], m[3], m[4]))()],
  [/^#\/admin$/, guard('admin', () => renderAdmin(main))],
];

function chrome() {
  document.getElementById('brand-name').textContent = t('app.title');
  document.getElementById('lang-label').textContent = t('pref.lang');
  document.getElementById('unit-label').textContent = t('pref.unit');
  document.querySelector('.skip').textContent = t('app.skip');
  document.querySelector('.brand').setAttribute('href', home());
  document.getElementById('lang').value = getLang();
  document.getElementById('glucose-unit').value = getGlucoseUnit();
  const nav = document.getElementById('nav');
  const signedOut = session.auth === 'session' && !session.user;
  const isPatient = session.user && session.user.role === 'patient';
  const cur = (location.hash.split('/')[1] || '');
  nav.replaceChildren(...(signedOut || isPatient ? []
    : (session.auth === 'none' ? ['day', 'tasks', 'patients', 'inbox', 'population', 'admin'] : pages())
      .map((pg) => h('a', { href: `#/${pg}`, 'data-nav': pg, 'aria-current': cur === pg ? 'page' : null }, t(`nav.${pg}`)))));
  document.body.dataset.role = session.user ? session.user.role : '';
  const who = document.getElementById('user');
  if (!session.user) { who.replaceChildren(); return; }
  const u = session.user;
  who.replaceChildren(
    h('span', { class: 'who', id: 'user-name', title: t('auth.user', { user: u.username, role: t(`role.${u.role}`) }) },
      u.username, h('span', { class: 'role' }, t(`role.${u.role}`))),
    h('button', { type: 'button', class: 'btn ghost', id: 'logout', onclick: logout }, t('auth.logout')));
}

async function logout() {
  try { await api('/api/v1/auth/logout', { method: 'POST', body: {} }); } catch { /* signed out anyway */ }
  session.user = null;
  stopLive();
  location.hash = '#/login';
}

// Care events for users who may read them (not patients, not researchers).
function live() {
  if (session.auth === 'none' || (session.user && session.user.role !== 'patient' && can(session.user, 'events.read'))) startLive();
}

let lastHash = null;
async function render() {
  destroyCharts();
  leavePatient();
  clearEvents();
  document.querySelectorAll('dialog').forEach((d) => d.remove());
  if (session.user || session.auth === 'none') live();
  let hash = location.hash || home();
  if (!location.hash) history.replaceState(null, '', hash);
  if (session.auth === 'session' && !session.user && hash !== '#/login') {
    sessionStorage.setItem('vigil.next', hash);
    history.replaceState(null, '', '#/login');
    hash = '#/login';
  }
  if (hash === '#/login' && (session.auth === 'none' || session.user)) {
    hash = home();
    history.replaceState(null, '', hash);
  }
  chrome();
  document.title = t('app.title');
  for (const [re, view] of routes) {
    const m = re.exec(hash);
    if (m) {
      const moved = hash !== lastHash;
      lastHash = hash;
      if (moved && hash !== '#/login') { main.focus({ preventScroll: true }); window.scrollTo(0, 0); }
      await view(m);
      return;
    }
  }
  main.replaceChildren(h('section', { class: 'view' }, empty(t('state.not_found'))));
}

async function start() {
  await initI18n();
  document.getElementById('lang').addEventListener('change', (e) => setLang(e.target.value));
  document.getElementById('glucose-unit').addEventListener('change', (e) => setGlucoseUnit(e.target.value));
  window.addEventListener('vigil:unauthorized', () => {
    if (session.auth !== 'session' || !session.user) return;
    session.user = null;
    session.expired = true;
    stopLive();
    render();
  });
  try {
    await loadSession();
  } catch (e) {
    chrome();
    main.replaceChildren(h('section', { class: 'view' }, failure(e, () => location.reload())));
    return;
  }
  onChange(render);
  window.addEventListener('hashchange', render);
  await render();
}

start();
