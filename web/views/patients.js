// patients.js - the patient list: keyset "load more" over the API, search
// by name or identifier and a sex filter over the loaded rows.
import { api } from '../lib/api.js';
import { h, loading, empty, failure, announce } from '../lib/dom.js';
import { t, ageYears } from '../lib/i18n.js';

const PAGE = 25;
// Kept across visits so "back" does not refetch or lose the search.
const state = { rows: [], cursor: undefined, done: false, query: '', sex: '' };

async function loadPage() {
  const qs = `limit=${PAGE}${state.cursor ? `&cursor=${encodeURIComponent(state.cursor)}` : ''}`;
  const r = await api(`/api/v1/patients?${qs}`);
  state.rows.push(...r.patients);
  state.cursor = r.next_cursor || undefined;
  state.done = !r.next_cursor;
}

const norm = (s) => (s || '').toLocaleLowerCase();
function matches(p) {
  const q = norm(state.query.trim());
  if (state.sex && p.sex !== state.sex) return false;
  return !q || norm(p.name).includes(q) || norm(p.identifier).includes(q) || String(p.id) === q;
}

function row(p) {
  const age = ageYears(p.birth_date);
  return h('tr', {},
    h('th', { scope: 'row' }, h('a', { href: `#/patients/${p.id}`, 'aria-label': t('patients.open', { name: p.name }) }, p.name)),
    h('td', { class: 'mono' }, p.identifier || `#${p.id}`),
    h('td', {}, p.sex ? t(`sex.${p.sex}`) : '–'),
    h('td', { class: 'num' }, age === null ? '–' : String(age)));
}

export async function renderPatients(main) {
  const search = h('input', {
    type: 'search', id: 'patient-search', value: state.query, autocomplete: 'off',
    placeholder: t('patients.search'),
  });
  const sex = h('select', { id: 'patient-sex' },
    h('option', { value: '' }, t('patients.sex_all')),
    ...['female', 'male', 'other', 'unknown'].map((s) => h('option', { value: s }, t(`sex.${s}`))));
  sex.value = state.sex;
  const body = h('div', { class: 'list-body', 'aria-live': 'polite' });
  const count = h('p', { class: 'muted count', id: 'patient-count' });
  const more = h('button', { type: 'button', class: 'btn', id: 'patients-more' }, t('patients.more'));

  const draw = () => {
    const shown = state.rows.filter(matches);
    count.textContent = t(state.done ? 'patients.count_all' : 'patients.count', { shown: shown.length, loaded: state.rows.length });
    more.hidden = state.done;
    if (!state.rows.length) { body.replaceChildren(empty(t('patients.empty'))); return; }
    if (!shown.length) { body.replaceChildren(empty(t('patients.no_match'))); return; }
    body.replaceChildren(h('table', { class: 'table patients', id: 'patients' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('patients.col_name')),
        h('th', { scope: 'col' }, t('patients.col_id')),
        h('th', { scope: 'col' }, t('patients.col_sex')),
        h('th', { scope: 'col', class: 'num' }, t('patients.col_age')))),
      h('tbody', {}, shown.map(row))));
  };
  const fetchMore = async () => {
    more.disabled = true;
    more.setAttribute('aria-busy', 'true');
    try {
      await loadPage();
      draw();
      announce(count.textContent);
    } catch (e) {
      body.replaceChildren(failure(e, fetchMore));
    } finally {
      more.disabled = false;
      more.removeAttribute('aria-busy');
    }
  };
  search.addEventListener('input', () => { state.query = search.value; draw(); });
  sex.addEventListener('change', () => { state.sex = sex.value; draw(); });
  more.addEventListener('click', fetchMore);

  main.replaceChildren(h('section', { class: 'view patients-view', 'aria-labelledby': 'patients-h' },
    h('div', { class: 'view-head' }, h('h1', { id: 'patients-h' }, t('patients.title'))),
    h('div', { class: 'filters', role: 'search' },
      h('label', { class: 'field grow' }, h('span', { class: 'label' }, t('patients.search')), search),
      h('label', { class: 'field' }, h('span', { class: 'label' }, t('patients.sex')), sex)),
    count, body, h('div', { class: 'more' }, more)));

  if (!state.rows.length) {
    body.replaceChildren(loading());
    count.textContent = '';
    more.hidden = true;
    try { await loadPage(); } catch (e) {
      body.replaceChildren(failure(e, () => renderPatients(main)));
      return;
    }
  }
  draw();
}
