// population.js - population indicators for an organisation and its
// subtree (GET /api/v1/reports/indicators): HEARTS and China programme
// rates with numerator/denominator, tier distribution, contract coverage,
// alert response, and the direct children. Each number links to the list
// of patients behind it (#/population/{org}/{period}/{key}/{part}); CSV
// is the API's own format=csv.
import { card, withNames, patientLink, h, empty, api, t, can } from '../lib/care.js';
import { fmtNum } from '../lib/i18n.js';

const sel = { org: null, period: null };

export function periods(now = new Date()) {
  const out = [];
  let y = now.getUTCFullYear();
  let q = Math.floor(now.getUTCMonth() / 3) + 1;
  for (let i = 0; i < 5; i++) {
    out.push(`${y}-Q${q}`);
    if (--q === 0) { q = 4; y--; }
  }
  return out;
}

const GROUPS = [
  ['pop.hearts', (k) => k.startsWith('hearts.')],
  ['pop.china', (k) => k.startsWith('china.') && !k.startsWith('china.contract')],
  ['pop.contracts', (k) => k.startsWith('china.contract')],
  ['pop.tiers', (k) => k.startsWith('tier.')],
];

const pct = (r) => (r === null || r === undefined ? '–' : `${fmtNum(r * 100, 1)} %`);
// Numbers link to their patients only for users who may list them
// (report.patients); a researcher sees the counts alone.
let linkable = true;
const link = (org, period, key, part, n) => (!linkable ? h('span', { 'data-indicator': key, 'data-part': part }, fmtNum(n)) : h('a', {
  href: `#/population/${org}/${period}/${encodeURIComponent(key)}/${part}`,
  'data-indicator': key, 'data-part': part, 'aria-label': t('pop.list_of', { n, part: t(`pop.${part}`), name: t(`ind.${key}`) }),
}, fmtNum(n)));

function indicatorTable(org, period, list, id) {
  return h('table', { class: 'table ind-table cards cards3', id },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('pop.indicator')),
      h('th', { scope: 'col', class: 'num' }, t('pop.numerator')), h('th', { scope: 'col', class: 'num' }, t('pop.denominator')),
      h('th', { scope: 'col', class: 'num' }, t('pop.rate')))),
    h('tbody', {}, ...list.map((i) => h('tr', { 'data-key': i.key },
      h('th', { scope: 'row', title: i.label, class: 'wide-sm' }, t(`ind.${i.key}`)),
      h('td', { class: 'num', 'data-label': t('pop.numerator') }, link(org, period, i.key, 'numerator', i.numerator)),
      h('td', { class: 'num', 'data-label': t('pop.denominator') }, link(org, period, i.key, 'denominator', i.denominator)),
      h('td', { class: 'num', 'data-label': t('pop.rate') }, h('span', { class: 'rate-bar' }, pct(i.rate)))))));
}

export async function renderPopulation(main, me) {
  linkable = can(me, 'report.patients');
  const orgs = card('pop', t('pop.title'), async (body) => {
    // Without org.read (a researcher) the choice is the user's own
    // organisation, named by the report once it loads.
    const { organizations } = can(me, 'org.read') ? await api('/api/v1/organizations?limit=1000')
      : { organizations: me.org_id ? [{ id: me.org_id, name: `#${me.org_id}`, path: `/${me.org_id}/` }] : [] };
    if (!organizations.length) { body.replaceChildren(empty(t('pop.no_orgs'))); return 'empty'; }
    if (!sel.org || !organizations.some((o) => o.id === sel.org)) {
      sel.org = (organizations.find((o) => o.id === me.org_id) || organizations[0]).id;
    }
    sel.period = sel.period || periods()[0];
    const depth = (o) => (o.path.match(/\//g) || []).length - 2;
    const orgSel = h('select', { id: 'pop-org' }, ...organizations.sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }))
      .map((o) => h('option', { value: String(o.id), selected: o.id === sel.org || null }, `${'  '.repeat(Math.max(0, depth(o)))}${o.name}`)));
    const perSel = h('select', { id: 'pop-period' }, ...periods().map((p) => h('option', { value: p, selected: p === sel.period || null }, p)));
    const out = h('div', { id: 'pop-report' });
    const csv = h('a', { class: 'btn secondary', id: 'pop-csv', download: '' }, t('pop.csv'));
    const load = async () => {
      sel.org = Number(orgSel.value);
      sel.period = perSel.value;
      csv.href = `/api/v1/reports/indicators?org=${sel.org}&period=${sel.period}&format=csv`;
      csv.setAttribute('download', `vigil-indicators-${sel.org}-${sel.period}.csv`);
      out.dataset.state = 'loading';
      out.replaceChildren(h('p', { class: 'state loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('state.loading')));
      try {
        const r = await api(`/api/v1/reports/indicators?org=${sel.org}&period=${sel.period}`);
        const ind = r.org.indicators;
        const opt = orgSel.selectedOptions[0];
        if (opt && opt.textContent === `#${r.org.id}`) opt.textContent = r.org.name;
        const a = r.org.alerts;
        out.replaceChildren(
          h('p', { class: 'muted' }, t('pop.scope', { name: r.org.name, n: fmtNum(r.residents), start: r.period.start, end: r.period.end })),
          ...GROUPS.map(([title, f]) => h('section', { class: 'pop-group' }, h('h3', {}, t(title)),
            h('div', { class: 'scroll-x' }, indicatorTable(sel.org, sel.period, ind.filter((i) => f(i.key)), `ind-${title.slice(4)}`)))),
          a ? h('section', { class: 'pop-group' }, h('h3', {}, t('pop.alerts')),
            h('p', {}, t('pop.alerts_line', { raised: a.raised, acked: a.acknowledged, esc: a.escalated, open: a.open,
              median: a.ack_minutes.median === null ? '–' : fmtNum(a.ack_minutes.median, 0) }))) : null,
          r.children.length ? h('section', { class: 'pop-group' }, h('h3', {}, t('pop.children')),
            h('div', { class: 'scroll-x' }, h('table', { class: 'table cards cards3', id: 'pop-children' },
              h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('col.org')),
                ...['hearts.bp_controlled', 'china.htn_standard_management', 'china.contract_coverage'].map((k) => h('th', { scope: 'col', class: 'num' }, t(`ind.${k}`))))),
              h('tbody', {}, ...r.children.map((c) => h('tr', {}, h('th', { scope: 'row', class: 'wide-sm' }, c.name),
                ...['hearts.bp_controlled', 'china.htn_standard_management', 'china.contract_coverage'].map((k) => {
                  const i = c.indicators.find((x) => x.key === k);
                  return h('td', { class: 'num', 'data-label': t(`ind.${k}`) }, i ? [link(c.id, sel.period, k, 'numerator', i.numerator), ' / ',
                    link(c.id, sel.period, k, 'denominator', i.denominator), h('div', { class: 'muted small' }, pct(i.rate))] : '–');
                }))))))) : null);
        out.dataset.state = 'ready';
      } catch (e) {
        out.dataset.state = 'error';
        const { failure } = await import('../lib/dom.js');
        out.replaceChildren(failure(e, load));
      }
    };
    orgSel.addEventListener('change', load);
    perSel.addEventListener('change', load);
    body.replaceChildren(h('div', { class: 'pop-controls' },
      h('label', { class: 'field' }, h('span', { class: 'label' }, t('pop.org')), orgSel),
      h('label', { class: 'field' }, h('span', { class: 'label' }, t('pop.period')), perSel), csv), out);
    await load();
    return out.dataset.state === 'error' ? 'error' : undefined;
  });
  main.replaceChildren(h('section', { class: 'view pop-view' }, orgs));
  performance.mark('vigil:pop-start');
  await orgs.run();
  performance.measure('vigil:pop', 'vigil:pop-start');
}

// The patients behind one number, in pages of 100.
export async function renderIndicatorPatients(main, org, period, key, part) {
  let cursor = null;
  const rows = h('tbody');
  const more = h('button', { type: 'button', class: 'btn secondary', hidden: true }, t('patients.more'));
  const c = card('pop-patients', t('pop.patients_title', { name: t(`ind.${key}`), part: t(`pop.${part}`) }), async (body) => {
    const r = await api(`/api/v1/reports/indicators/patients?org=${org}&period=${period}&indicator=${encodeURIComponent(key)}&part=${part}&limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    if (!r.patients.length && !rows.firstChild) { body.replaceChildren(empty(t('pop.patients_none'))); return 'empty'; }
    const name = await withNames(r.patients.map((id) => ({ patient: id })));
    rows.append(...r.patients.map((id) => h('tr', { 'data-patient': String(id) }, h('th', { scope: 'row' }, patientLink(name(id))),
      h('td', {}, name(id).identifier || ''))));
    cursor = r.next_cursor;
    more.hidden = !cursor;
    body.replaceChildren(h('p', { class: 'muted', id: 'pop-count' }, t('pop.patients_count', { n: rows.children.length, period })),
      h('table', { class: 'table' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('col.patient')), h('th', { scope: 'col' }, t('patients.col_id')))), rows), more);
    return undefined;
  });
  more.addEventListener('click', () => c.run());
  main.replaceChildren(h('section', { class: 'view' }, h('a', { class: 'back', href: '#/population' }, `← ${t('pop.title')}`), c));
  await c.run();
}
