// readings.test.mjs - the ingest contract (DESIGN §7) end to end: forms,
// idempotency, every reject reason, atomic, gzip, size and type limits,
// truncated and slow uploads, and the query side (paging, buckets).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { startServer, req, rawRequest, createPatient, iso } from './lib.mjs';

let srv, pid;
const T0 = Date.UTC(2025, 0, 6, 0, 0, 0); // a fixed past day
const post = (body, q = '', headers = {}) =>
  req(`${srv.url}/api/v1/readings${q}`, 'POST', body, headers);

before(async () => {
  srv = await startServer({ args: ['--body-max', '2000000'] });
  pid = await createPatient(srv.url);
});
after(async () => { await srv.stop(); });

test('JSON batch is accepted, then reported duplicate when sent again', async () => {
  const body = { readings: [
    { patient: pid, code: 'sbp', time: iso(T0), value: 135, unit: 'mm[Hg]', source: 'cuff-1' },
    { patient: String(pid), code: '8462-4', t: T0, value: 85, source: 'cuff-1' },
    { patient: pid, code: 'glucose', time: iso(T0 + 60000), value: 6.1, unit: 'mmol/L', source: 'meter' },
  ] };
  const a = await post(body);
  assert.equal(a.status, 200, a.text);
  assert.deepEqual(a.body, { accepted: 3, duplicate: 0, rejected: [] });
  const b = await post(body);
  assert.deepEqual(b.body, { accepted: 0, duplicate: 3, rejected: [] });
  const g = await req(`${srv.url}/api/v1/patients/${pid}/readings?code=glucose`);
  assert.equal(g.body.readings.length, 1);
  assert.ok(Math.abs(g.body.readings[0].value - 6.1 * 18.016) < 0.01, 'stored in mg/dL');
  assert.equal(g.body.readings[0].unit, 'mg/dL');
});

test('every reject has its index and a clear reason; good items still commit', async () => {
  const future = Date.now() + 3600_000;
  const items = [
    { patient: pid, code: 'hr', t: T0, value: 70, source: 'ok' },                 // 0 ok
    { patient: 987654321, code: 'hr', t: T0, value: 70 },                          // 1 unknown patient
    { patient: pid, code: 'nope', t: T0, value: 70 },                              // 2 unknown code
    { patient: pid, code: 'sbp', t: T0, value: 120, unit: 'furlong' },             // 3 bad unit
    { patient: pid, code: 'sbp', t: T0, value: 400 },                              // 4 out of range
    { patient: pid, code: 'sbp', t: T0, value: 1e400 },                            // 5 non-finite
    { patient: pid, code: 'sbp', t: future, value: 120 },                          // 6 future
    { patient: pid, code: 'sbp', t: T0 },                                          // 7 missing value
    { patient: pid, code: 'sbp', time: '2025-01-06T08:00:00', value: 120 },        // 8 time w/o offset
    { patient: pid, code: 'sbp', t: T0, value: '120' },                            // 9 value not a number
    { code: 'sbp', t: T0, value: 120 },                                            // 10 no patient
  ];
  const r = await post({ readings: items });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.accepted, 1);
  const byIndex = Object.fromEntries(r.body.rejected.map((x) => [x.index, x.reason]));
  assert.deepEqual(Object.keys(byIndex).map(Number), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.match(byIndex[1], /unknown patient/);
  assert.match(byIndex[2], /unknown code/);
  assert.match(byIndex[3], /unit/);
  assert.match(byIndex[4], /range/);
  assert.match(byIndex[6], /future/);
  assert.match(byIndex[7], /value/);
  assert.match(byIndex[8], /time/);
  assert.match(byIndex[10], /patient/);
  for (const reason of Object.values(byIndex)) assert.ok(reason.length > 5);
  const g = await req(`${srv.url}/api/v1/patients/${pid}/readings?code=sbp&from=${T0}&to=${T0 + 1}`);
  assert.ok(g.body.readings.every((x) => x.value !== 400), 'nothing bad stored');
});

test('atomic=true stores nothing when any reading is rejected', async () => {
  const items = [
    { patient: pid, code: 'weight', t: T0 + 1, value: 70, source: 'atomic' },
    { patient: pid, code: 'weight', t: T0 + 2, value: 7000, source: 'atomic' },
  ];
  const r = await post({ readings: items }, '?atomic=true');
  assert.equal(r.status, 422);
  assert.equal(r.body.error.code, 'unprocessable');
  assert.equal(r.body.result.accepted, 0);
  assert.equal(r.body.result.rejected[0].index, 1);
  const g = await req(`${srv.url}/api/v1/patients/${pid}/readings?code=weight`);
  assert.equal(g.body.readings.length, 0);
  const ok = await post({ readings: [items[0]] }, '?atomic=true');
  assert.equal(ok.body.accepted, 1);
});

test('NDJSON, series form and gzip bodies', async () => {
  const nd = [0, 1, 2].map((i) => JSON.stringify({ patient: pid, code: 'spo2', t: T0 + i * 1000, value: 96 + i, source: 'nd' })).join('\n') + '\n';
  const a = await post(nd, '', { 'content-type': 'application/x-ndjson' });
  assert.deepEqual(a.body, { accepted: 3, duplicate: 0, rejected: [] });
  const bad = nd + '{"patient":' + pid + ',"code":"spo2",\n';
  const b = await post(bad, '', { 'content-type': 'application/x-ndjson' });
  assert.ok(b.status === 200 || b.status === 400, b.text);
  if (b.status === 200) assert.equal(b.body.rejected[0].index, 3);
  const series = { patient: pid, code: 'cgm', start: iso(T0), interval_ms: 300000, unit: 'mg/dL', source: 'cgm-1',
    values: Array.from({ length: 288 }, (_, i) => 100 + 40 * Math.sin(i / 20)) };
  const c = await post(series);
  assert.deepEqual(c.body, { accepted: 288, duplicate: 0, rejected: [] });
  const gz = gzipSync(JSON.stringify({ readings: [{ patient: pid, code: 'temp', t: T0, value: 98.6, unit: '[degF]' }] }));
  const d = await post(gz, '', { 'content-type': 'application/json', 'content-encoding': 'gzip' });
  assert.equal(d.body.accepted, 1, d.text);
  const t = await req(`${srv.url}/api/v1/patients/${pid}/readings?code=temp`);
  assert.ok(Math.abs(t.body.readings[0].value - 37.0) < 0.01);
  const corrupt = await post(Buffer.from('not gzip at all'), '', { 'content-type': 'application/json', 'content-encoding': 'gzip' });
  assert.equal(corrupt.status, 400);
});

test('malformed, truncated, wrong type, oversized', async () => {
  const m = await post('{"readings":[{"patient":1,,}]}', '', { 'content-type': 'application/json' });
  assert.equal(m.status, 400);
  assert.equal(m.body.error.code, 'malformed');
  assert.match(m.body.error.message, /byte/);
  const t = await post('{"readings":[{"patient":' + pid + ',"code":"hr","t":1,"value":7', '', { 'content-type': 'application/json' });
  assert.equal(t.status, 400);
  assert.equal(t.body.error.code, 'truncated');
  const e = await post('', '', { 'content-type': 'application/json' });
  assert.equal(e.status, 400);
  const ct = await post('patient=1', '', { 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(ct.status, 415);
  assert.equal(ct.body.error.code, 'unsupported_media');
  const big = '{"readings":[' + `{"patient":${pid},"code":"hr","t":1,"value":70},`.repeat(50000) + ']}';
  const o = await post(big, '', { 'content-type': 'application/json' });
  assert.equal(o.status, 413);
  assert.equal(o.body.error.code, 'too_large');
  const bomb = gzipSync(Buffer.alloc(5_000_000, 32));
  const z = await post(bomb, '', { 'content-type': 'application/json', 'content-encoding': 'gzip' });
  assert.equal(z.status, 413, 'decompressed size is capped too');
});

test('truncated upload (client hangs up mid-body) stores nothing; slow upload does not block others', async () => {
  const body = JSON.stringify({ readings: [{ patient: pid, code: 'resp', t: T0, value: 16, source: 'trunc' }] });
  const head = `POST /api/v1/readings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
  const r = await rawRequest(srv.port, head, [body.slice(0, body.length - 5)], { endEarly: true });
  assert.ok(r.closed, 'no answer for an incomplete body');
  // slow upload in the background, while other requests are served at once
  const slow = rawRequest(srv.port, head, body.match(/.{1,10}/gs), { delayMs: 150 });
  const t0 = Date.now();
  const h = await req(`${srv.url}/healthz`);
  assert.equal(h.status, 200);
  assert.ok(Date.now() - t0 < 1000, 'server answers others during a slow upload');
  const s = await slow;
  assert.equal(s.status, 200);
  const g = await req(`${srv.url}/api/v1/patients/${pid}/readings?code=resp`);
  assert.equal(g.body.readings.length, 1, 'only the completed upload stored');
});

test('query: keyset cursor walks every row once; buckets aggregate', async () => {
  const p2 = await createPatient(srv.url);
  const N = 2500;
  const readings = Array.from({ length: N }, (_, i) => ({ patient: p2, code: 'hr', t: T0 + i * 60000, value: 60 + (i % 40), source: i % 2 ? 'a' : 'b' }));
  const r = await post({ readings });
  assert.equal(r.body.accepted, N);
  const seen = new Set();
  let cursor = null, pages = 0;
  do {
    const g = await req(`${srv.url}/api/v1/patients/${p2}/readings?code=hr&limit=700${cursor ? '&cursor=' + cursor : ''}`);
    assert.equal(g.status, 200, g.text);
    for (const x of g.body.readings) { const k = x.t + x.source; assert.ok(!seen.has(k), 'no repeats'); seen.add(k); }
    cursor = g.body.next_cursor;
    pages++;
  } while (cursor && pages < 20);
  assert.equal(seen.size, N);
  assert.equal(pages, 4);
  const win = await req(`${srv.url}/api/v1/patients/${p2}/readings?code=hr&from=${encodeURIComponent(iso(T0 + 60000))}&to=${T0 + 180000}`);
  assert.deepEqual(win.body.readings.map((x) => x.t), [T0 + 60000, T0 + 120000]);
  const b = await req(`${srv.url}/api/v1/patients/${p2}/readings?code=hr&bucket=1h`);
  assert.equal(b.status, 200);
  const hours = Math.ceil(N / 60);
  assert.equal(b.body.buckets.length, hours);
  const first = readings.slice(0, 60).map((x) => x.value);
  assert.equal(b.body.buckets[0].n, 60);
  assert.equal(b.body.buckets[0].min, Math.min(...first));
  assert.equal(b.body.buckets[0].max, Math.max(...first));
  assert.ok(Math.abs(b.body.buckets[0].mean - first.reduce((s, v) => s + v, 0) / 60) < 1e-9);
  for (const q of ['bucket=7x', 'from=yesterday', 'code=zzz', 'cursor=bad', 'limit=0'])
    assert.equal((await req(`${srv.url}/api/v1/patients/${p2}/readings?${q}`)).status, 400, q);
  assert.equal((await req(`${srv.url}/api/v1/patients/99999999/readings`)).status, 404);
});
