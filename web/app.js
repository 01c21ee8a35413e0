// app.js - the dashboard shell: language and glucose-unit switches, hash
// routes (#/patients, #/patients/{id}; only ids ever go in the URL).
import { initI18n, setLang, setGlucoseUnit, getLang, getGlucoseUnit, onChange, t } from './lib/i18n.js';
import { h, empty } from './lib/dom.js';
import { destroyCharts } from './lib/charts.js';
import { renderPatients } from './views/patients.js';
import { renderPatient, leavePatient } from './views/patient.js';

const main = document.getElementById('main');
const routes = [
  [/^#\/patients\/?$/, () => renderPatients(main)],
  [/^#\/patients\/(\d+)$/, (m) => renderPatient(main, m[1], render)],
];

function chrome() {
  document.getElementById('brand-name').textContent = t('app.title');
  document.getElementById('lang-label').textContent = t('pref.lang');
  document.getElementById('unit-label').textContent = t('pref.unit');
  document.querySelector('.skip').textContent = t('app.skip');
  document.getElementById('lang').value = getLang();
  document.getElementById('glucose-unit').value = getGlucoseUnit();
  const nav = document.getElementById('nav');
  const here = location.hash.startsWith('#/patients');
  nav.replaceChildren(h('a', { href: '#/patients', 'aria-current': here ? 'page' : null }, t('nav.patients')));
}

let lastHash = null;
async function render() {
  destroyCharts();
  leavePatient();
  chrome();
  const hash = location.hash || '#/patients';
  if (!location.hash) history.replaceState(null, '', '#/patients');
  document.title = t('app.title');
  for (const [re, view] of routes) {
    const m = re.exec(hash);
    if (m) {
      const moved = hash !== lastHash;
      lastHash = hash;
      if (moved) { main.focus({ preventScroll: true }); window.scrollTo(0, 0); }
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
  onChange(render);
  window.addEventListener('hashchange', render);
  await render();
}

start();
