// charts.js - uPlot charts for the patient page: time series (raw points or
// bucketed mean with a min-max band), home BP with weekly means and the
// target lines, and the ambulatory glucose profile. uPlot is the global from
// /vendor/uPlot.iife.min.js (copied from node_modules by `make deps`).
import { getLang } from './i18n.js';

const live = new Set();
const GRID = { stroke: '#e3e6ea', width: 1 };
const TICKS = { stroke: '#c8cdd3', width: 1 };
const AXIS = '#3d4650';
const FONT = '12px system-ui, sans-serif';

export const COLORS = {
  sbp: '#b3261e', dbp: '#1f5fa8', hr: '#8a3ffc', spo2: '#0b6e8a', weight: '#5c6b00',
  glucose: '#a1400b', cgm: '#1f5fa8', agp: '#1f5fa8', target: 'rgba(46, 125, 50, 0.13)',
  above: 'rgba(179, 38, 30, 0.07)',
};

export function destroyCharts() {
  for (const c of live) { c.ro.disconnect(); c.u.destroy(); }
  live.clear();
}

const heightFor = (w) => (w < 480 ? 200 : 260);

// Creates a uPlot in HOST sized to its width and kept so on resize.
function mount(host, opts, data) {
  const width = Math.max(240, Math.floor(host.clientWidth || 320));
  const u = new window.uPlot({ ...opts, width, height: heightFor(width) }, data, host);
  let raf = 0;
  const ro = new ResizeObserver(() => {
    cancelAnimationFrame(raf);
    raf = requestAnimationFrame(() => {
      const w = Math.floor(host.clientWidth);
      if (w > 0 && Math.abs(w - u.width) > 1) u.setSize({ width: w, height: heightFor(w) });
    });
  });
  ro.observe(host);
  live.add({ u, ro });
  // Helper series (band edges) stay out of the legend; with live: false
  // the legend has no row for x, so series i is row i - 1.
  const rows = u.root.querySelectorAll('.u-legend .u-series');
  opts.series.forEach((sr, i) => { if (sr.noLegend && rows[i - 1]) rows[i - 1].classList.add('no-legend'); });
  host.dataset.points = String(data.slice(1).reduce((a, s) => a + s.filter((v) => v != null).length, 0));
  return u;
}

function tickFormat(tz, incrS) {
  const o = incrS >= 28 * 86400 ? { year: 'numeric', month: 'short' }
    : incrS >= 86400 ? { month: 'short', day: 'numeric' }
      : { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  if (tz) o.timeZone = tz;
  try { return new Intl.DateTimeFormat(getLang(), o); } catch {
    delete o.timeZone;
    return new Intl.DateTimeFormat(getLang(), o);
  }
}

function timeAxis(tz) {
  return {
    stroke: AXIS, grid: GRID, ticks: TICKS, font: FONT, space: 70,
    values: (u, splits, ai, space, incr) => {
      const f = tickFormat(tz, incr);
      return splits.map((s) => f.format(new Date(s * 1000)));
    },
  };
}

function valueAxis(label, digits) {
  return {
    stroke: AXIS, grid: GRID, ticks: TICKS, font: FONT, label, labelFont: FONT, labelSize: 18,
    size: 46, values: (u, splits) => splits.map((v) => v.toFixed(digits)),
  };
}

// Draws a filled band [lo, hi] and dashed lines at LINES behind the series.
function guides({ band, lines = [], above }) {
  return (u) => {
    const { ctx, bbox } = u;
    const yOf = (v) => u.valToPos(v, 'y', true);
    const clip = (y) => Math.max(bbox.top, Math.min(bbox.top + bbox.height, y));
    ctx.save();
    if (above !== undefined) {
      const y = clip(yOf(above));
      ctx.fillStyle = COLORS.above;
      ctx.fillRect(bbox.left, bbox.top, bbox.width, y - bbox.top);
    }
    if (band) {
      const y1 = clip(yOf(band[1])), y0 = clip(yOf(band[0]));
      ctx.fillStyle = band[2] || COLORS.target;
      ctx.fillRect(bbox.left, y1, bbox.width, y0 - y1);
    }
    ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
    ctx.lineWidth = 1.5 * devicePixelRatio;
    for (const [v, color] of lines) {
      const y = Math.round(yOf(v)) + 0.5;
      if (y < bbox.top || y > bbox.top + bbox.height) continue;
      ctx.strokeStyle = color;
      ctx.beginPath(); ctx.moveTo(bbox.left, y); ctx.lineTo(bbox.left + bbox.width, y); ctx.stroke();
    }
    ctx.restore();
  };
}

// y range covering the data and the values in KEEP, padded.
function yRange(keep, floor) {
  return (u, min, max) => {
    let lo = Math.min(min ?? Infinity, ...keep), hi = Math.max(max ?? -Infinity, ...keep);
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) { lo = 0; hi = 1; }
    const pad = (hi - lo) * 0.08 || 1;
    lo -= pad; hi += pad;
    if (floor !== undefined) lo = Math.max(floor, lo);
    return [lo, hi];
  };
}

const toS = (ms) => ms.map((x) => x / 1000);
const scatter = (label, color, size = 5) => ({
  label, stroke: color, fill: color, width: 0, paths: () => null,
  points: { show: true, size, fill: color, stroke: color, width: 0 },
});

// One measured quantity over time. S is from api.series(); CONV maps the
// stored value to the shown one. Raw data: a line with points; bucketed:
// the mean line inside a shaded min-max band.
export function trendChart(host, s, { label, unit, color, digits = 0, conv = (v) => v, tz, band, lines, floor }) {
  const keep = [];
  if (band) keep.push(band[0], band[1]);
  for (const [v] of lines || []) keep.push(v);
  const opts = {
    legend: { live: false },
    cursor: { points: { size: 7 } },
    scales: { x: { time: true }, y: { range: yRange(keep, floor) } },
    axes: [timeAxis(tz), valueAxis(unit, digits)],
    tzDate: tz ? (ts) => window.uPlot.tzDate(new Date(ts * 1e3), tz) : undefined,
    hooks: { drawClear: [guides({ band, lines })] },
    series: [{}],
  };
  let data;
  if (s.kind === 'raw') {
    const sparse = s.n < 400;
    opts.series.push({
      label, stroke: color, width: 1.25,
      points: { show: sparse, size: 4, fill: color }, spanGaps: true,
    });
    data = [toS(s.t), s.v.map(conv)];
  } else {
    opts.series.push(
      { label: `${label} (min)`, stroke: 'transparent', width: 0, points: { show: false }, noLegend: true },
      { label: `${label} (max)`, stroke: 'transparent', width: 0, points: { show: false }, noLegend: true },
      { label, stroke: color, width: 2, points: { show: false } },
    );
    opts.bands = [{ series: [2, 1], fill: `${color}33` }];
    data = [toS(s.t), s.min.map(conv), s.max.map(conv), s.mean.map(conv)];
    opts.legend.show = true;
  }
  return mount(host, opts, data);
}

// Home BP: SBP and DBP readings as points, weekly means as lines, dashed
// lines at the home-BP threshold 135/85 mmHg (China 2018, ESH 2023; office
// 140/90 corresponds to home 135/85) and a light shade above 135.
export function bpChart(host, { sbp, dbp, weekS, weekD }, { labels, tz }) {
  const tables = [];
  const pts = (s) => (s.kind === 'raw' ? s.v : s.mean);
  tables.push([toS(sbp.t), pts(sbp)]);
  tables.push([toS(dbp.t), pts(dbp)]);
  const wt = toS(weekS.map((b) => b.t + 3.5 * 86400000));
  tables.push([wt, weekS.map((b) => b.mean), weekD.map((b) => b.mean)]);
  const data = window.uPlot.join(tables);
  const opts = {
    legend: { live: false },
    scales: { x: { time: true }, y: { range: yRange([135, 85, 60, 160]) } },
    axes: [timeAxis(tz), valueAxis('mmHg', 0)],
    tzDate: tz ? (ts) => window.uPlot.tzDate(new Date(ts * 1e3), tz) : undefined,
    hooks: { drawClear: [guides({ above: 135, lines: [[135, COLORS.sbp], [85, COLORS.dbp]] })] },
    series: [{},
      scatter(labels.sbp, `${COLORS.sbp}99`, 4),
      scatter(labels.dbp, `${COLORS.dbp}99`, 4),
      { label: labels.sbpWeek, stroke: COLORS.sbp, width: 2.5, spanGaps: true, points: { show: true, size: 6, fill: '#fff' } },
      { label: labels.dbpWeek, stroke: COLORS.dbp, width: 2.5, spanGaps: true, points: { show: true, size: 6, fill: '#fff' } },
    ],
  };
  return mount(host, opts, data);
}

// Ambulatory glucose profile: AGP bins {start_min, p5..p95} in mg/dL over
// the time of day, median line, 25-75 and 5-95 bands, target band [lo, hi].
export function agpChart(host, bins, { conv, unit, digits, target, labels }) {
  const used = bins.filter((b) => b.n > 0);
  const x = used.map((b) => b.start_min + 7.5);
  const col = (k) => used.map((b) => conv(b[k]));
  const data = [x, col('p5'), col('p25'), col('p50'), col('p75'), col('p95')];
  const light = 'rgba(31, 95, 168, 0.16)', mid = 'rgba(31, 95, 168, 0.36)';
  const opts = {
    legend: { live: false },
    scales: { x: { time: false, range: [0, 1440] }, y: { range: yRange([target[0], target[1]], 0) } },
    axes: [
      { stroke: AXIS, grid: GRID, ticks: TICKS, font: FONT, splits: (u) => (u.width < 520 ? [0, 360, 720, 1080, 1440] : [0, 180, 360, 540, 720, 900, 1080, 1260, 1440]),
        values: (u, splits) => splits.map((m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:00`) },
      valueAxis(unit, digits),
    ],
    hooks: { drawClear: [guides({ band: target, lines: [[target[0], '#2e7d32'], [target[1], '#2e7d32']] })] },
    bands: [{ series: [5, 4], fill: light }, { series: [4, 2], fill: mid }, { series: [2, 1], fill: light }],
    series: [{},
      { label: '5 %', stroke: 'rgba(31, 95, 168, 0.5)', width: 1, dash: [4, 4], points: { show: false } },
      { label: labels.p25, stroke: 'rgba(31, 95, 168, 0.7)', width: 1, points: { show: false } },
      { label: labels.median, stroke: '#0d3c75', width: 2.5, points: { show: false } },
      { label: '75 %', stroke: 'rgba(31, 95, 168, 0.7)', width: 1, points: { show: false } },
      { label: '95 %', stroke: 'rgba(31, 95, 168, 0.5)', width: 1, dash: [4, 4], points: { show: false } },
    ],
  };
  return mount(host, opts, data);
}

// Meter glucose (points) and CGM (line, or bucketed mean with band) on one
// time axis with the target band.
export function glucoseChart(host, { meter, cgm }, { conv, unit, digits, target, tz, labels }) {
  const tables = [];
  const series = [{}];
  const bands = [];
  if (cgm && cgm.kind !== 'empty') {
    if (cgm.kind === 'raw') {
      tables.push([toS(cgm.t), cgm.v.map(conv)]);
      series.push({ label: labels.cgm, stroke: COLORS.cgm, width: 1, points: { show: false } });
    } else {
      tables.push([toS(cgm.t), cgm.min.map(conv), cgm.max.map(conv), cgm.mean.map(conv)]);
      series.push({ label: `${labels.cgm} min`, stroke: 'transparent', points: { show: false }, noLegend: true },
        { label: `${labels.cgm} max`, stroke: 'transparent', points: { show: false }, noLegend: true },
        { label: labels.cgm, stroke: COLORS.cgm, width: 1.5, points: { show: false } });
      bands.push({ series: [2, 1], fill: `${COLORS.cgm}2e` });
    }
  }
  if (meter && meter.kind !== 'empty') {
    const v = meter.kind === 'raw' ? meter.v : meter.mean;
    tables.push([toS(meter.t), v.map(conv)]);
    series.push(scatter(labels.meter, COLORS.glucose, 6));
  }
  const data = window.uPlot.join(tables);
  const opts = {
    legend: { live: false },
    scales: { x: { time: true }, y: { range: yRange(target, 0) } },
    axes: [timeAxis(tz), valueAxis(unit, digits)],
    tzDate: tz ? (ts) => window.uPlot.tzDate(new Date(ts * 1e3), tz) : undefined,
    hooks: { drawClear: [guides({ band: target })] },
    bands, series,
  };
  return mount(host, opts, data);
}
