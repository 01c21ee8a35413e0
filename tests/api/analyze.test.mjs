// analyze.test.mjs - POST /api/v1/analyze/{kind}: every kind answers with
// its metrics, bad input gives 400 naming the line, af per_beat has one
// entry per input interval, unknown kind 404, wrong media type 415.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, req } from './lib.mjs';

let srv;
const post = (kind, body, q = '', type = 'text/csv') =>
  req(`${srv.url}/api/v1/analyze/${kind}${q}`, 'POST', body, { 'content-type': type });

before(async () => { srv = await startServer(); });
after(async () => { await srv.stop(); });

const T0 = Date.UTC(2025, 0, 6);
function cgmCsv() {
  let s = 'time,glucose\n';
  for (let i = 0; i < 576; i++) s += `${T0 + i * 300000},${i < 288 ? 100 : 200}\n`;
  return s;
}
function rrCsv(n, irregular) {
  let s = '# rr in ms\n', x = 7;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    s += `${irregular ? 400 + (x % 800) : 800 + (i % 3)}\n`;
  }
  return s;
}

test('cgm: mean and time in range of a known series', async () => {
  const r = await post('cgm', cgmCsv());
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.kind, 'cgm');
  assert.equal(r.body.n, 576);
  assert.ok(Math.abs(r.body.mean_mgdl - 150) < 1e-9);
  assert.ok(Math.abs(r.body.readings_in_ranges['70_180_pct'] - 50) < 1e-9);
  assert.equal(r.body.agp.length, 96);
});

test('cgm as JSON gives the same answer as CSV', async () => {
  const t = [], values = [];
  for (let i = 0; i < 576; i++) { t.push(T0 + i * 300000); values.push(i < 288 ? 100 : 200); }
  const r = await post('cgm', JSON.stringify({ t, values }), '', 'application/json');
  assert.equal(r.status, 200, r.text);
  const c = await post('cgm', cgmCsv());
  assert.deepEqual(r.body, c.body);
});

test('bp: guideline from the query, home protocol mean', async () => {
  let s = 'time,sbp,dbp\r\n';
  for (let d = 1; d <= 7; d++) {
    s += `2025-03-0${d}T07:00:00+08:00,142,92\r\n2025-03-0${d}T19:00:00+08:00,138,88\r\n`;
  }
  const r = await post('bp', s, '?guideline=acc_aha');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.guideline, 'acc_aha');
  assert.equal(r.body.sufficient, true);
  assert.equal(r.body.home.sbp_mmhg, 140);
  assert.equal(r.body.home.verdict, 'high');
  assert.equal(r.body.category_of_mean.category, 'Stage 2');
  const bad = await post('bp', s, '?guideline=nice');
  assert.equal(bad.status, 400);
});

test('hrv: windows and whole-record summary', async () => {
  const r = await post('hrv', rrCsv(1000, false));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.sufficient, true);
  assert.ok(r.body.windows.length >= 1);
  assert.ok(Math.abs(r.body.record.mean_nn_ms - 801) < 1);
});

test('af: per_beat has one entry per input interval', async () => {
  const n = 1500;
  const r = await post('af', rrCsv(n, true), '?per_beat=1');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.per_beat.length, n);
  assert.ok(r.body.per_beat.every((v) => v === 0 || v === 1));
  assert.ok(r.body.burden_pct > 50, `irregular RR burden ${r.body.burden_pct}`);
  const q = await post('af', rrCsv(n, false));
  assert.equal(q.body.burden_pct, 0);
  assert.equal(q.body.per_beat, undefined);
});

test('ecg: fs from the query; missing fs is a 400 that says so', async () => {
  let s = '';
  for (let i = 0; i < 5000; i++) {
    const k = Math.round((i - 100) / 200), d = (i - (100 + 200 * k)) / 250;
    s += (Math.exp(-d * d / 2e-4) + 0.1 * Math.sin(i / 100)).toFixed(5) + '\n';
  }
  const r = await post('ecg', s, '?fs=250');
  assert.equal(r.status, 200, r.text);
  assert.ok(r.body.n_peaks >= 23 && r.body.n_peaks <= 25, `${r.body.n_peaks} peaks`);
  assert.ok(Math.abs(r.body.hr_mean_bpm - 75) < 0.5);
  const m = await post('ecg', s);
  assert.equal(m.status, 400);
  assert.match(m.body.error.message, /fs/);
});

test('spo2: ODI and T90', async () => {
  let s = '';
  for (let i = 0; i < 18000; i++) s += (i >= 300 && (i - 300) % 600 < 30 ? 88 : 97) + '\n';
  const r = await post('spo2', s);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.n_desat4, 30);
  assert.ok(Math.abs(r.body.t90_pct - 5) < 0.01);
  const short = await post('spo2', '97\n96\n');
  assert.equal(short.status, 200);
  assert.equal(short.body.sufficient, false);
  assert.equal(typeof short.body.reason, 'string');
});

test('bad CSV: 400 naming the line and column', async () => {
  const r = await post('cgm', 'time,value\n0,100\n300000,abc\n');
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'invalid');
  assert.match(r.body.error.message, /^line 3, column 2: 'abc' is not a number/);
  const u = await post('cgm', '0,100\n600000,100\n300000,100\n');
  assert.equal(u.status, 400);
  assert.match(u.body.error.message, /line 3, column 1: time is before/);
  const j = await post('af', '{"rr_ms":[800,"x"]}', '', 'application/json');
  assert.equal(j.status, 400);
  assert.match(j.body.error.message, /rr_ms\[1\]/);
});

test('unknown kind 404, wrong media type 415, bad query 400', async () => {
  assert.equal((await post('mage', '1\n')).status, 404);
  assert.equal((await post('af', '1\n', '', 'application/xml')).status, 415);
  assert.equal((await post('af', '800\n', '?per_beat=maybe')).status, 400);
  assert.equal((await post('cgm', '0,100\n', '?tz_offset=9999')).status, 400);
});
