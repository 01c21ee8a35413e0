// basics.test.mjs - health, metrics, codes, patients, devices, routing errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, req, STORE } from './lib.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { const { code } = await srv.stop(); assert.equal(code, 0, 'clean exit on SIGTERM'); });

test('healthz, readyz and request ids', async () => {
  const h = await req(`${srv.url}/healthz`);
  assert.equal(h.status, 200);
  assert.equal(h.body.status, 'ok');
  assert.match(h.headers.get('x-request-id'), /^[0-9a-f]{8}-[0-9a-f]{6}$/);
  const r = await req(`${srv.url}/readyz`);
  assert.equal(r.status, 200);
  assert.equal(r.body.store, STORE);
});

test('unknown route is a JSON 404, wrong method a 405', async () => {
  const r = await req(`${srv.url}/api/v1/nothing`);
  assert.equal(r.status, 404);
  assert.equal(r.body.error.code, 'not_found');
  assert.ok(r.body.error.message.length > 0);
  const m = await req(`${srv.url}/api/v1/patients/1`, 'DELETE');
  assert.equal(m.status, 405);
  assert.equal(m.body.error.code, 'method_not_allowed');
});

test('codes lists every reading kind with LOINC and unit', async () => {
  const r = await req(`${srv.url}/api/v1/codes`);
  assert.equal(r.status, 200);
  const sbp = r.body.codes.find((c) => c.name === 'sbp');
  assert.deepEqual([sbp.code, sbp.unit], ['8480-6', 'mm[Hg]']);
  for (const n of ['dbp', 'hr', 'glucose', 'cgm', 'spo2', 'weight', 'temp', 'resp', 'steps',
    'rri', 'hba1c', 'creatinine', 'tchol', 'hdl', 'uacr'])
    assert.ok(r.body.codes.some((c) => c.name === n), n);
});

test('patients: create, get, list with keyset paging, conflicts and errors', async () => {
  const ids = [];
  for (let i = 0; i < 5; i++) {
    const r = await req(`${srv.url}/api/v1/patients`, 'POST',
      { name: `P ${i}`, identifier: `MRN-${i}`, sex: 'female', birth_date: '1960-02-29', tz: 'Asia/Shanghai' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('location'), `/api/v1/patients/${r.body.id}`);
    ids.push(r.body.id);
  }
  const g = await req(`${srv.url}/api/v1/patients/${ids[2]}`);
  assert.equal(g.status, 200);
  assert.deepEqual([g.body.name, g.body.identifier, g.body.sex, g.body.birth_date], ['P 2', 'MRN-2', 'female', '1960-02-29']);
  // walk the pages of 2 to the end: every id once, in order
  const seen = [];
  let cursor = null;
  for (let pages = 0; pages < 10; pages++) {
    const r = await req(`${srv.url}/api/v1/patients?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200);
    seen.push(...r.body.patients.map((p) => p.id));
    cursor = r.body.next_cursor;
    if (!cursor) break;
  }
  assert.deepEqual(seen.filter((id) => ids.includes(id)), ids);
  const dup = await req(`${srv.url}/api/v1/patients`, 'POST', { name: 'X', identifier: 'MRN-1' });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.error.code, 'conflict');
  assert.equal((await req(`${srv.url}/api/v1/patients/999999`)).status, 404);
  assert.equal((await req(`${srv.url}/api/v1/patients/abc`)).status, 404);
  const bad = [
    [{}, /name/], [{ name: '' }, /name/], [{ name: 'x', sex: 'q' }, /sex/],
    [{ name: 'x', birth_date: '1960-13-01' }, /birth_date/], [{ name: 5 }, /name/],
  ];
  for (const [body, re] of bad) {
    const r = await req(`${srv.url}/api/v1/patients`, 'POST', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.body.error.message, re);
  }
  const mal = await req(`${srv.url}/api/v1/patients`, 'POST', '{"name":', { 'content-type': 'application/json' });
  assert.equal(mal.status, 400);
  assert.equal(mal.body.error.code, 'malformed');
  assert.equal((await req(`${srv.url}/api/v1/patients?limit=0`)).status, 400);
});

test('devices: register, bind, conflicts, unknown patient', async () => {
  const p = await req(`${srv.url}/api/v1/patients`, 'POST', { name: 'Device Owner' });
  const r = await req(`${srv.url}/api/v1/devices`, 'POST', { serial: 'OMRON-1', kind: 'bp_cuff', patient: p.body.id });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.patient, p.body.id);
  const g = await req(`${srv.url}/api/v1/devices/${r.body.id}`);
  assert.equal(g.body.serial, 'OMRON-1');
  assert.equal((await req(`${srv.url}/api/v1/devices`, 'POST', { serial: 'OMRON-1', kind: 'bp_cuff' })).status, 409);
  const u = await req(`${srv.url}/api/v1/devices`, 'POST', { serial: 'X-2', kind: 'bp_cuff', patient: 987654 });
  assert.equal(u.status, 422);
  assert.match(u.body.error.message, /unknown patient/);
  assert.equal((await req(`${srv.url}/api/v1/devices`, 'POST', { serial: 'X-3', kind: 'toaster' })).status, 400);
  const l = await req(`${srv.url}/api/v1/devices`);
  assert.ok(l.body.devices.some((d) => d.serial === 'OMRON-1'));
});

test('metrics are Prometheus text with request and ingest counters', async () => {
  const r = await req(`${srv.url}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain/);
  assert.match(r.text, /^vigil_http_requests_total\{class="2xx"\} [1-9]\d*$/m);
  assert.match(r.text, /^vigil_http_request_duration_seconds_bucket\{le="\+Inf"\} \d+$/m);
  assert.match(r.text, /^vigil_readings_total\{outcome="accepted"\} \d+$/m);
  assert.match(r.text, /^vigil_writer_groups_total \d+$/m);
});
