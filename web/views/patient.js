// patient.js - one patient's page: header, period switch, home BP with
// weekly means, glucose (AGP over 14 days with TIR and metrics, and the
// trend over the period), HR, SpO2 and weight trends, latest labs. Each
// section loads on its own and shows its loading, empty or error state.
import { api, readingsAll, buckets, series } from '../lib/api.js';
import { h, loading, empty, failure } from '../lib/dom.js';
import { t, fmtNum, fmtDate, ageYears, glucose, glucoseDigits, getGlucoseUnit, labValue } from '../lib/i18n.js';
import { trendChart, bpChart, agpChart, glucoseChart, COLORS } from '../lib/charts.js';
import { careSections } from './patient_care.js';

const DAY = 86400000;
const RANGES = { '14d': 14 * DAY, '30d': 30 * DAY, '90d': 90 * DAY, '1y': 365 * DAY };
let rangeKey = '90d';
let ctl = null; // aborts the fetches of the page being left

export function leavePatient() {
  if (ctl) ctl.abort();
  ctl = null;
}

// A titled section whose body LOAD fills; state in data-state for tests
// and styles: loading, ready, empty, error.
function section(id, title, load, cls = '') {
  const body = h('div', { class: 'section-body' });
  const el = h('section', { class: `card ${cls}`, id, 'aria-labelledby': `${id}-h`, 'data-state': 'loading', 'aria-busy': 'true' },
    h('h2', { id: `${id}-h` }, title), body);
  const run = async () => {
    el.dataset.state = 'loading';
    el.setAttribute('aria-busy', 'true');
    body.replaceChildren(loading());
    try {
      const state = await load(body, el);
      el.dataset.state = state || 'ready';
    } catch (e) {
      if (e.name === 'AbortError') return;
      el.dataset.state = 'error';
      body.replaceChildren(failure(e, run));
    }
    el.removeAttribute('aria-busy');
  };
  el.run = run;
  return el;
}

function figure(label, summary) {
  const plot = h('div', { class: 'plot' });
  const fig = h('figure', { class: 'chart', 'aria-label': label },
    plot, h('figcaption', { class: 'muted' }, summary));
  return { fig, plot };
}

function countText(s) {
  return s.kind === 'buckets' ? t('chart.bucketed', { n: fmtNum(s.n), bucket: s.bucket }) : t('chart.raw', { n: fmtNum(s.n) });
}

function lastText(s, fmt, tz) {
  if (!s.last) return '';
  return s.kind === 'raw' ? t('chart.last', { value: fmt(s.last.v), date: fmtDate(s.last.t, tz, true) }) : '';
}

// ---- sections -------------------------------------------------------

function bpSection(p, span) {
  return section('bp', t('bp.title'), async (body) => {
    const sig = ctl.signal;
    const [sbp, dbp, weekS, weekD] = await Promise.all([
      series(p.id, 'sbp', span.from, span.to, { signal: sig }),
      series(p.id, 'dbp', span.from, span.to, { signal: sig }),
      buckets(p.id, 'sbp', span.from, span.to, '7d', { signal: sig }),
      buckets(p.id, 'dbp', span.from, span.to, '7d', { signal: sig }),
    ]);
    if (sbp.kind === 'empty' || dbp.kind === 'empty') {
      body.replaceChildren(empty(t('chart.empty')));
      return 'empty';
    }
    let summary = t('bp.last7_none');
    if (sbp.kind === 'raw' && dbp.kind === 'raw') {
      const since = span.to - 7 * DAY;
      const ms = sbp.v.filter((v, i) => sbp.t[i] >= since);
      const md = dbp.v.filter((v, i) => dbp.t[i] >= since);
      if (ms.length && md.length) {
        const a = ms.reduce((x, y) => x + y, 0) / ms.length, b = md.reduce((x, y) => x + y, 0) / md.length;
        const above = a >= 135 || b >= 85; // home-BP threshold (docs/clinical/bp.md)
        summary = h('span', {}, t('bp.last7', { sbp: fmtNum(a), dbp: fmtNum(b), n: ms.length }), ' ',
          h('span', { class: `pill ${above ? 'bad' : 'good'}` }, t(above ? 'bp.above' : 'bp.within')));
      }
    }
    const { fig, plot } = figure(t('bp.title'), `${countText(sbp)} · ${t('bp.target')}`);
    body.replaceChildren(h('p', { class: 'lead' }, summary), fig);
    bpChart(plot, { sbp, dbp, weekS, weekD }, {
      tz: p.tz,
      labels: { sbp: t('bp.sbp'), dbp: t('bp.dbp'), sbpWeek: t('bp.sbp_week'), dbpWeek: t('bp.dbp_week') },
    });
    return 'ready';
  }, 'wide');
}

const TIR = [
  ['below54_pct', 'glu.very_low', 'vlow', null, 54],
  ['54_69_pct', 'glu.low', 'low', 54, 69],
  ['70_180_pct', 'glu.in_range', 'in', 70, 180],
  ['181_250_pct', 'glu.high', 'high', 181, 250],
  ['above250_pct', 'glu.very_high', 'vhigh', 250, null],
];

function tirBlock(tir) {
  const d = glucoseDigits();
  // mmol/L bounds as the international TIR consensus writes them
  // (Battelino et al., Diabetes Care 2019;42:1593), not rounded mg/dL.
  const MMOL = { 54: 3.0, 69: 3.8, 70: 3.9, 180: 10.0, 181: 10.1, 250: 13.9 };
  const g = (v) => fmtNum(getGlucoseUnit() === 'mmol/L' ? MMOL[v] : v, d);
  const bounds = ([, , , lo, hi]) => (lo === null ? `< ${g(hi)}` : hi === null ? `> ${g(lo)}` : `${g(lo)}–${g(hi)}`);
  const parts = TIR.map((r) => ({ r, pct: tir[r[0]] || 0 }));
  const aria = parts.map(({ r, pct }) => `${t(r[1])} ${bounds(r)}: ${fmtNum(pct, 1)} %`).join('; ');
  const bar = h('div', { class: 'tir-bar', role: 'img', 'aria-label': `${t('glu.tir')}: ${aria}` },
    ...parts.map(({ r, pct }) => {
      const seg = h('span', { class: `seg ${r[2]}` });
      seg.style.flexBasis = `${pct}%`;
      return seg;
    }));
  const list = h('ul', { class: 'tir-list' }, ...parts.slice().reverse().map(({ r, pct }) =>
    h('li', {}, h('span', { class: `swatch ${r[2]}`, 'aria-hidden': 'true' }),
      h('span', { class: 'tir-name' }, `${t(r[1])} `, h('span', { class: 'muted' }, `${bounds(r)} ${getGlucoseUnit()}`)),
      h('strong', { class: 'num' }, `${fmtNum(pct, pct > 0 && pct < 1 ? 1 : 0)} %`))));
  return h('div', { class: 'tir', id: 'tir' }, h('h3', {}, t('glu.tir')), h('div', { class: 'tir-row' }, bar, list));
}

function metric(label, value, id) {
  return h('div', { class: 'metric', id }, h('dt', {}, label), h('dd', {}, value));
}

function glucoseSection(p, span) {
  return section('glucose', t('glu.title'), async (body) => {
    const sig = ctl.signal;
    const unit = getGlucoseUnit(), digits = glucoseDigits();
    const target = [glucose(70), glucose(180)];
    const agpTo = Date.now() + 600000, agpFrom = agpTo - 14 * DAY;
    const [cgm14, meter, cgm] = await Promise.all([
      readingsAll(p.id, 'cgm', agpFrom, agpTo, { signal: sig }),
      series(p.id, 'glucose', span.from, span.to, { signal: sig }),
      series(p.id, 'cgm', span.from, span.to, { signal: sig }),
    ]);
    const parts = [];
    if (cgm14.t.length) {
      const csv = `time,value\n${cgm14.rows.map((r) => `${r.time},${r.value}`).join('\n')}\n`;
      const a = await api('/api/v1/analyze/cgm', { method: 'POST', body: csv, headers: { 'content-type': 'text/csv' }, signal: sig });
      const sub = h('div', { class: 'agp', id: 'agp' }, h('h3', {}, t('glu.agp')));
      if (!a.sufficient) sub.append(h('p', { class: 'state empty' }, t('glu.agp_insufficient', { reason: a.reason || '' })));
      const { fig, plot } = figure(t('glu.agp'), `${t('glu.target', { lo: fmtNum(target[0], digits), hi: fmtNum(target[1], digits), unit })} · ${t('glu.median')}, ${t('glu.iqr')}, ${t('glu.p90')} · ${t('glu.days', { n: fmtNum(a.window_ms / DAY, 0), readings: fmtNum(a.n_used) })}`);
      const metrics = h('dl', { class: 'metrics' },
        metric(t('glu.mean'), `${fmtNum(glucose(a.mean_mgdl), digits)} ${unit}`, 'm-mean'),
        metric(t('glu.gmi'), `${fmtNum(a.gmi_pct, 1)} %`, 'm-gmi'),
        metric(t('glu.cv'), `${fmtNum(a.cv_pct, 1)} %`, 'm-cv'),
        metric(t('glu.active'), `${fmtNum(a.active_pct, 0)} %`, 'm-active'),
        metric(t('glu.hypo'), fmtNum(a.hypo_events_total), 'm-hypo'));
      sub.append(h('div', { class: 'agp-grid' }, fig, h('div', { class: 'agp-side' }, tirBlock(a.time_in_ranges), metrics)));
      parts.push({ el: sub, draw: () => agpChart(plot, a.agp, { conv: glucose, unit, digits, target, labels: { median: t('glu.median'), p25: '25 %' } }) });
    }
    if (meter.kind !== 'empty' || cgm.kind !== 'empty') {
      const n = meter.n + cgm.n;
      const { fig, plot } = figure(t('glu.trend'), [meter.kind !== 'empty' ? `${t('glu.meter')}: ${countText(meter)}` : '',
        cgm.kind !== 'empty' ? `${t('glu.cgm')}: ${countText(cgm)}` : ''].filter(Boolean).join(' · '));
      const sub = h('div', { class: 'glucose-trend', 'data-n': String(n) }, h('h3', {}, t('glu.trend')), fig);
      parts.push({ el: sub, draw: () => glucoseChart(plot, { meter, cgm }, { conv: glucose, unit, digits, target, tz: p.tz, labels: { meter: t('glu.meter'), cgm: t('glu.cgm') } }) });
    }
    if (!parts.length) {
      body.replaceChildren(empty(t('glu.none')));
      return 'empty';
    }
    body.replaceChildren(...parts.map((x) => x.el));
    parts.forEach((x) => x.draw());
    return 'ready';
  }, 'wide');
}

function vitalSection(p, span, { id, code, title, unit, color, digits = 0, lines, floor }) {
  return section(id, title, async (body) => {
    const s = await series(p.id, code, span.from, span.to, { signal: ctl.signal });
    if (s.kind === 'empty') {
      body.replaceChildren(empty(t('chart.empty')));
      return 'empty';
    }
    const fmt = (v) => `${fmtNum(v, digits)} ${unit}`;
    const { fig, plot } = figure(title, [countText(s), lastText(s, fmt, p.tz)].filter(Boolean).join(' · '));
    body.replaceChildren(fig);
    trendChart(plot, s, { label: title, unit, color, digits, tz: p.tz, lines, floor });
    return 'ready';
  }, 'vital');
}

const LABS = ['hba1c', 'egfr', 'creatinine', 'uacr', 'tchol', 'ldl', 'hdl'];

function labsSection(p) {
  return section('labs', t('labs.title'), async (body) => {
    const to = Date.now() + 600000, from = to - 3 * 365 * DAY;
    const got = await Promise.all(LABS.map((code) => readingsAll(p.id, code, from, to, { cap: 1000, signal: ctl.signal })
      .then((r) => (r.rows.length ? { code, row: r.rows[r.rows.length - 1], n: r.rows.length } : null))));
    const rows = got.filter(Boolean);
    if (!rows.length) {
      body.replaceChildren(empty(t('labs.none')));
      return 'empty';
    }
    body.replaceChildren(h('table', { class: 'table labs' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('labs.test')), h('th', { scope: 'col', class: 'num' }, t('labs.value')), h('th', { scope: 'col' }, t('labs.date')))),
      h('tbody', {}, rows.map(({ code, row }) => {
        const v = labValue(code, row.value, row.unit);
        return h('tr', {}, h('th', { scope: 'row' }, t(`lab.${code}`)),
          h('td', { class: 'num' }, `${fmtNum(v.value, v.digits)} ${v.unit}`),
          h('td', {}, fmtDate(row.t, p.tz)));
      }))));
    return 'ready';
  }, 'labs-card');
}

// ---- page -----------------------------------------------------------

function header(p) {
  const age = ageYears(p.birth_date);
  const facts = [
    h('span', { class: 'mono', id: 'patient-identifier' }, p.identifier || `#${p.id}`),
    p.sex ? h('span', {}, t(`sex.${p.sex}`)) : null,
    age !== null ? h('span', {}, t('patient.age', { n: age })) : null,
    p.birth_date ? h('span', { class: 'muted' }, t('patient.born', { date: fmtDate(Date.parse(`${p.birth_date}T12:00:00Z`), 'UTC') })) : null,
    p.tz ? h('span', { class: 'muted' }, t('patient.tz', { tz: p.tz })) : null,
  ].filter(Boolean);
  return h('div', { class: 'patient-head' },
    h('a', { class: 'back', href: '#/patients' }, `← ${t('patient.back')}`),
    h('h1', { id: 'patient-name' }, p.name),
    h('p', { class: 'facts' }, ...facts));
}

function rangeSwitch(onPick) {
  return h('div', { class: 'range', role: 'group', 'aria-label': t('patient.period') },
    h('span', { class: 'label', 'aria-hidden': 'true' }, t('patient.period')),
    ...Object.keys(RANGES).map((k) => h('button', {
      type: 'button', class: 'seg-btn', 'aria-pressed': String(k === rangeKey), 'data-range': k,
      onclick: () => { if (k !== rangeKey) { rangeKey = k; onPick(); } },
    }, t(`range.${k}`))));
}

export async function renderPatient(main, id, rerender, me = null) {
  leavePatient();
  performance.mark('vigil:patient-start');
  ctl = new AbortController();
  const sig = ctl.signal;
  main.replaceChildren(h('section', { class: 'view' }, loading()));
  let p;
  try {
    p = await api(`/api/v1/patients/${encodeURIComponent(id)}`, { signal: sig });
  } catch (e) {
    if (e.name === 'AbortError') return;
    const msg = e.status === 404 ? t('patient.not_found', { id })
      : e.status === 403 ? t('patient.forbidden') : null;
    main.replaceChildren(h('section', { class: 'view' },
      h('a', { class: 'back', href: '#/patients' }, `← ${t('patient.back')}`),
      msg ? empty(msg) : failure(e, () => renderPatient(main, id, rerender, me))));
    return;
  }
  document.title = `${p.name} · Vigil`;
  const to = Date.now() + 600000;
  const span = { from: to - RANGES[rangeKey], to };
  const sections = [
    bpSection(p, span),
    glucoseSection(p, span),
    vitalSection(p, span, { id: 'hr', code: 'hr', title: t('vitals.hr'), unit: t('unit.bpm'), color: COLORS.hr }),
    vitalSection(p, span, { id: 'spo2', code: 'spo2', title: t('vitals.spo2'), unit: '%', color: COLORS.spo2, lines: [[90, '#b3261e']] }),
    vitalSection(p, span, { id: 'weight', code: 'weight', title: t('vitals.weight'), unit: 'kg', color: COLORS.weight, digits: 1 }),
    labsSection(p),
  ];
  const [care, timeline] = careSections(p, me);
  main.replaceChildren(h('article', { class: 'view patient-view', 'aria-labelledby': 'patient-name', 'data-patient': String(p.id) },
    header(p), care, rangeSwitch(rerender), h('div', { class: 'grid' }, ...sections), timeline));
  care.run();
  if (timeline) timeline.run();
  await Promise.all(sections.map((s) => s.run()));
  if (sig.aborted) return;
  const view = main.querySelector('.patient-view');
  if (!view) return; // left for another view meanwhile
  view.dataset.state = 'ready';
  // Read by bench/bench_web.mjs: time from route to every section drawn.
  performance.measure('vigil:patient', 'vigil:patient-start');
}
