// fhir.test.mjs - the FHIR R4 API driven by fhir-kit-client (a client
// nobody here wrote) against the real binary: metadata, create/read,
// update conflicts, searches with date ranges and paging to the end, a
// transaction Bundle, conditional create, _history, the Bulk Data export
// flow checked against the database, every valid example of a served type
// in 06_fhir_r4_examples created and read back, and every file in
// negative_and_templates rejected with an OperationOutcome.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'fhir-kit-client';
import { startServer, req, STORE } from './lib.mjs';

const DATA = join(process.env.VIGIL_TESTDATA || join(process.env.VIGIL_SOURCE_DIR || '.', '..', 'shared', 'data'),
  '06_fhir_r4_examples');
let srv, fhir, base;

before(async () => {
  srv = await startServer();
  base = `${srv.url}/fhir`;
  fhir = new Client({ baseUrl: base, customHeaders: { Authorization: `Bearer ${srv.token}` } });
});
after(async () => { await srv.stop(); });

// Status and body of a rejected call.
async function rejected(p) {
  try { await p; } catch (e) { return e.response; }
  assert.fail('expected an error response');
}

function sql(q) {
  if (STORE === 'pg')
    return execFileSync('psql', ['-qAtX', srv.db, '-c', q], { encoding: 'utf8' }).trim();
  return execFileSync('sqlite3', [srv.db, q], { encoding: 'utf8' }).trim();
}

const patientBody = (id) => ({
  resourceType: 'Patient', identifier: [{ system: 'urn:test', value: id }],
  name: [{ family: 'Okafor', given: ['Ada'] }], gender: 'female', birthDate: '1961-04-12',
  telecom: [{ system: 'phone', value: '+1 555 0100' }],
});

const bp = (pid, t, sys, dia) => ({
  resourceType: 'Observation', status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
  subject: { reference: `Patient/${pid}` }, effectiveDateTime: t,
  component: [
    { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
      valueQuantity: { value: sys, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] },
      valueQuantity: { value: dia, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } }],
});

test('metadata: a CapabilityStatement of what is implemented', async () => {
  const cs = await fhir.capabilityStatement();
  assert.equal(cs.resourceType, 'CapabilityStatement');
  assert.equal(cs.fhirVersion, '4.0.1');
  const types = cs.rest[0].resource.map((r) => r.type);
  for (const t of ['Patient', 'Observation', 'Device', 'Condition', 'Organization', 'Practitioner',
    'CareTeam', 'Group', 'ServiceRequest', 'Task', 'Communication', 'Flag'])
    assert.ok(types.includes(t), t);
  const obs = cs.rest[0].resource.find((r) => r.type === 'Observation');
  assert.deepEqual(obs.searchParam.map((p) => p.name).sort(),
    ['_lastUpdated', 'category', 'code', 'date', 'patient', 'subject']);
  assert.ok(obs.interaction.some((i) => i.code === 'history-instance'));
  // every advertised type answers a search
  for (const t of types) await fhir.search({ resourceType: t, searchParams: { _count: 1, patient: 1 } }).catch((e) => {
    assert.ok([403, 404].includes(e.response.status) === false, `${t}: ${e.response.status}`);
  });
});

test('create, read, update with If-Match, _history, vread', async () => {
  const p = await fhir.create({ resourceType: 'Patient', body: patientBody('U1') });
  assert.equal(p.meta.versionId, '1');
  const got = await fhir.read({ resourceType: 'Patient', id: p.id });
  assert.equal(got.name[0].family, 'Okafor');
  assert.equal(got.telecom[0].value, '+1 555 0100');
  const upd = await fhir.update({ resourceType: 'Patient', id: p.id,
    body: { ...got, gender: 'other', meta: undefined }, options: { headers: { 'If-Match': 'W/"1"' } } });
  assert.equal(upd.meta.versionId, '2');
  assert.equal(upd.gender, 'other');
  // a stale version is a conflict (412 from errors.def EPRECOND)
  const stale = await rejected(fhir.update({ resourceType: 'Patient', id: p.id,
    body: { ...got, meta: undefined }, options: { headers: { 'If-Match': 'W/"1"' } } }));
  assert.equal(stale.status, 412);
  assert.equal(stale.data.resourceType, 'OperationOutcome');
  const h = await fhir.history({ resourceType: 'Patient', id: p.id });
  assert.equal(h.type, 'history');
  assert.deepEqual(h.entry.map((e) => e.resource.meta.versionId), ['2', '1']);
  assert.equal(h.entry[1].resource.gender, 'female');
  const v1 = await fhir.vread({ resourceType: 'Patient', id: p.id, version: '1' });
  assert.equal(v1.gender, 'female');
  // Vigil's own API sees the same row (no second copy)
  const own = await req(`${srv.url}/api/v1/patients/${p.id}`);
  assert.equal(own.body.sex, 'other');
  // Observation history after a value correction
  const o = await fhir.create({ resourceType: 'Observation', body: bp(p.id, '2024-03-01T08:00:00+01:00', 150, 95) });
  const fixed = structuredClone(o); delete fixed.meta;
  fixed.component[0].valueQuantity.value = 148;
  const o2 = await fhir.update({ resourceType: 'Observation', id: o.id, body: fixed });
  assert.equal(o2.meta.versionId, '2');
  assert.equal(o2.component[0].valueQuantity.value, 148);
  const oh = await fhir.history({ resourceType: 'Observation', id: o.id });
  assert.equal(oh.entry.length, 2);
  assert.equal(oh.entry[1].resource.component[0].valueQuantity.value, 150);
  const moved = structuredClone(fixed); moved.effectiveDateTime = '2024-03-02T08:00:00+01:00';
  assert.equal((await rejected(fhir.update({ resourceType: 'Observation', id: o.id, body: moved }))).status, 422);
});

test('a reading is an Observation: BP panel through the ingest contract', async () => {
  const p = await fhir.create({ resourceType: 'Patient', body: patientBody('R1') });
  const o = await fhir.create({ resourceType: 'Observation', body: bp(p.id, '2024-01-02T08:00:00+08:00', 141, 92) });
  assert.equal(o.code.coding[0].code, '85354-9');
  assert.deepEqual(o.component.map((c) => c.code.coding[0].code), ['8480-6', '8462-4']);
  const rows = await req(`${srv.url}/api/v1/patients/${p.id}/readings`);
  const vals = JSON.stringify(rows.body);
  assert.ok(vals.includes('141') && vals.includes('92'), vals);
  // the same Observation again is a duplicate of the same reading
  const again = await fhir.create({ resourceType: 'Observation', body: bp(p.id, '2024-01-02T08:00:00+08:00', 141, 92) });
  assert.equal(again.id, o.id);
  // ranges, units and patients are the ingest contract's
  const bad = bp(p.id, '2024-01-02T09:00:00+08:00', 900, 92);
  const r1 = await rejected(fhir.create({ resourceType: 'Observation', body: bad }));
  assert.equal(r1.status, 422);
  assert.match(r1.data.issue[0].diagnostics, /range/);
  const unit = bp(p.id, '2024-01-02T09:00:00+08:00', 120, 80);
  unit.component[0].valueQuantity.code = 'kg';
  const r2 = await rejected(fhir.create({ resourceType: 'Observation', body: unit }));
  assert.equal(r2.status, 400);
  assert.match(r2.data.issue[0].diagnostics, /UCUM/);
  // documented leniency: no unit at all (system UCUM or absent, as Synthea
  // 2019 writes) is the canonical mm[Hg]; a wrong system is still rejected
  const bare = bp(p.id, '2024-01-02T10:00:00+08:00', 133, 84);
  for (const c of bare.component) { delete c.valueQuantity.code; delete c.valueQuantity.unit; }
  delete bare.component[1].valueQuantity.system;
  const ob = await fhir.create({ resourceType: 'Observation', body: bare });
  assert.deepEqual(ob.component.map((c) => [c.valueQuantity.value, c.valueQuantity.code]), [[133, 'mm[Hg]'], [84, 'mm[Hg]']]);
  const sys = bp(p.id, '2024-01-02T11:00:00+08:00', 120, 80);
  delete sys.component[0].valueQuantity.code;
  delete sys.component[0].valueQuantity.unit;
  sys.component[0].valueQuantity.system = 'http://snomed.info/sct';
  const r3 = await rejected(fhir.create({ resourceType: 'Observation', body: sys }));
  assert.equal(r3.status, 400);
  assert.match(r3.data.issue[0].diagnostics, /system must be/);
  const ghost = await rejected(fhir.create({ resourceType: 'Observation', body: bp(999999, '2024-01-02T09:00:00+08:00', 120, 80) }));
  assert.equal(ghost.status, 422);
  assert.match(ghost.data.issue[0].diagnostics, /existing Patient/);
});

test('search: date ranges, code, sort, _summary=count, _include, paging to the end', async () => {
  const p = await fhir.create({ resourceType: 'Patient', body: patientBody('S1') });
  const t0 = Date.UTC(2024, 0, 1, 8);
  const bundle = { resourceType: 'Bundle', type: 'batch', entry: [] };
  for (let i = 0; i < 60; i++) {
    bundle.entry.push({ request: { method: 'POST', url: 'Observation' },
      resource: bp(p.id, new Date(t0 + i * 86400000).toISOString(), 120 + (i % 20), 80) });
    bundle.entry.push({ request: { method: 'POST', url: 'Observation' }, resource: {
      resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
      subject: { reference: `Patient/${p.id}` }, effectiveDateTime: new Date(t0 + i * 86400000 + 3600000).toISOString(),
      valueQuantity: { value: 70 + i / 10, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' } } });
  }
  const res = await fhir.batch({ body: bundle });
  assert.equal(res.entry.filter((e) => e.response.status.startsWith('201')).length, 120);
  const all = await fhir.search({ resourceType: 'Observation', searchParams: { patient: p.id, _summary: 'count' } });
  assert.equal(all.total, 120);
  const jan = await fhir.search({ resourceType: 'Observation', searchParams:
    { patient: p.id, code: 'http://loinc.org|85354-9', date: ['ge2024-01-10', 'lt2024-01-20'], _count: 4, _sort: '-date' } });
  assert.equal(jan.total, 10);
  let page = jan, seen = [];
  while (page) {
    seen.push(...(page.entry || []).filter((e) => e.search.mode === 'match').map((e) => e.resource.effectiveDateTime));
    page = await fhir.nextPage({ bundle: page });
  }
  assert.equal(seen.length, 10);
  assert.deepEqual([...seen].sort().reverse(), seen, 'sorted by -date');
  assert.ok(seen.every((d) => d >= '2024-01-10' && d < '2024-01-20'), seen.join());
  const gt = await fhir.search({ resourceType: 'Observation', searchParams: { subject: `Patient/${p.id}`, code: '29463-7', date: 'gt2024-02-25' } });
  assert.equal(gt.total, 4); // Feb 26..29 at 09:00
  const eq = await fhir.search({ resourceType: 'Observation', searchParams: { patient: p.id, date: '2024-01-05' } });
  assert.equal(eq.total, 2);
  const cat = await fhir.search({ resourceType: 'Observation', searchParams: { patient: p.id, category: 'vital-signs', _count: 1 } });
  assert.equal(cat.total, 120);
  const inc = await fhir.search({ resourceType: 'Observation', searchParams: { patient: p.id, _include: 'Observation:patient', _count: 3 } });
  assert.equal(inc.entry.filter((e) => e.search.mode === 'include').length, 1);
  assert.equal(inc.entry.find((e) => e.search.mode === 'include').resource.id, p.id);
  const since = await fhir.search({ resourceType: 'Observation', searchParams: { patient: p.id, _lastUpdated: 'ge2000-01-01', _summary: 'count' } });
  assert.equal(since.total, 120);
  // Patient search
  assert.equal((await fhir.search({ resourceType: 'Patient', searchParams: { identifier: 'urn:test|S1' } })).total, 1);
  assert.ok((await fhir.search({ resourceType: 'Patient', searchParams: { name: 'okaf' } })).total >= 1);
  assert.ok((await fhir.search({ resourceType: 'Patient', searchParams: { birthdate: '1961-04-12' } })).total >= 1);
  assert.equal((await fhir.search({ resourceType: 'Patient', searchParams: { birthdate: 'lt1900' } })).total, 0);
  assert.equal((await fhir.search({ resourceType: 'Patient', searchParams: { _id: p.id } })).entry[0].resource.id, p.id);
  // unknown parameters: reported (lenient), refused with handling=strict
  const lenient = await fhir.search({ resourceType: 'Patient', searchParams: { _id: p.id, bogus: 1 } });
  const oo = lenient.entry.find((e) => e.search.mode === 'outcome');
  assert.match(oo.resource.issue[0].diagnostics, /bogus/);
  const strict = await rejected(fhir.search({ resourceType: 'Patient', searchParams: { bogus: 1 },
    options: { headers: { Prefer: 'handling=strict' } } }));
  assert.equal(strict.status, 400);
  assert.equal(strict.data.resourceType, 'OperationOutcome');
});

test('transaction: urn:uuid references, all or nothing', async () => {
  const tx = (ident, sys) => ({ resourceType: 'Bundle', type: 'transaction', entry: [
    { fullUrl: 'urn:uuid:8c3c1d2e-0000-4000-8000-000000000001', request: { method: 'POST', url: 'Patient' }, resource: patientBody(ident) },
    { fullUrl: 'urn:uuid:8c3c1d2e-0000-4000-8000-000000000002', request: { method: 'POST', url: 'Observation' },
      resource: { ...bp(0, '2024-05-01T07:30:00Z', sys, 85), subject: { reference: 'urn:uuid:8c3c1d2e-0000-4000-8000-000000000001' } } },
    { request: { method: 'POST', url: 'Condition' }, resource: { resourceType: 'Condition',
      code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003' }] },
      subject: { reference: 'urn:uuid:8c3c1d2e-0000-4000-8000-000000000001' } } }] });
  const ok = await fhir.transaction({ body: tx('T1', 130) });
  assert.equal(ok.type, 'transaction-response');
  assert.equal(ok.entry.length, 3);
  const pid = ok.entry[0].response.location.split('/')[1];
  const obs = await fhir.search({ resourceType: 'Observation', searchParams: { patient: pid } });
  assert.equal(obs.total, 1);
  const cond = await fhir.search({ resourceType: 'Condition', searchParams: { patient: pid } });
  assert.equal(cond.total, 1);
  assert.equal(cond.entry[0].resource.subject.reference, `Patient/${pid}`);
  // an invalid entry rolls back the earlier ones
  const before = sql('SELECT count(*) FROM patient');
  const bad = await rejected(fhir.transaction({ body: tx('T2', 999) }));
  assert.equal(bad.status, 422);
  assert.equal(bad.data.resourceType, 'OperationOutcome');
  assert.equal(sql('SELECT count(*) FROM patient'), before);
  assert.equal((await fhir.search({ resourceType: 'Patient', searchParams: { identifier: 'T2' } })).total, 0);
});

test('conditional create twice gives one resource', async () => {
  const p = await fhir.create({ resourceType: 'Patient', body: patientBody('C1') });
  const body = bp(p.id, '2024-06-01T10:00:00+02:00', 125, 78);
  const crit = `patient=${p.id}&code=http://loinc.org|85354-9&date=2024-06-01T10:00:00+02:00`;
  const a = await fhir.create({ resourceType: 'Observation', body, options: { headers: { 'If-None-Exist': crit } } });
  const b = await fhir.create({ resourceType: 'Observation', body, options: { headers: { 'If-None-Exist': crit } } });
  assert.equal(a.id, b.id);
  const f = { resourceType: 'Flag', status: 'active', code: { text: 'falls risk' }, subject: { reference: `Patient/${p.id}` } };
  const fa = await fhir.create({ resourceType: 'Flag', body: f, options: { headers: { 'If-None-Exist': `patient=${p.id}` } } });
  const fb = await fhir.create({ resourceType: 'Flag', body: f, options: { headers: { 'If-None-Exist': `patient=${p.id}` } } });
  assert.equal(fa.id, fb.id);
  assert.equal((await fhir.search({ resourceType: 'Flag', searchParams: { patient: p.id } })).total, 1);
  assert.equal((await fhir.search({ resourceType: 'Observation', searchParams: { patient: p.id } })).total, 1);
});

test('bulk export: kick-off, poll, manifest, NDJSON counts = database, de-identified, cancel', async () => {
  const xp = await fhir.create({ resourceType: 'Patient', body: patientBody('X1') });
  await fhir.create({ resourceType: 'Observation', body: bp(xp.id, '2023-02-01T08:00:00Z', 133, 83) });
  await fhir.create({ resourceType: 'Condition', body: { resourceType: 'Condition',
    code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006' }] }, subject: { reference: `Patient/${xp.id}` } } });
  const kick = await req(`${base}/$export?_type=Patient,Observation,Condition`, 'GET', undefined,
    { Accept: 'application/fhir+json', Prefer: 'respond-async' });
  assert.equal(kick.status, 202);
  const loc = kick.headers.get('content-location');
  assert.ok(loc, 'Content-Location');
  let st;
  for (let i = 0; i < 100; i++) {
    st = await req(loc);
    if (st.status !== 202) break;
    assert.ok(st.headers.get('x-progress'));
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(st.status, 200);
  const byType = Object.fromEntries(st.body.output.map((o) => [o.type, o]));
  const lines = async (o) => o ? (await req(o.url)).text.split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  const pats = await lines(byType.Patient);
  assert.equal(pats.length, Number(sql('SELECT count(*) FROM patient')));
  assert.equal(byType.Patient.count, pats.length);
  const obs = await lines(byType.Observation);
  const readingObs = Number(sql("SELECT count(*) FROM reading WHERE code NOT IN (1, 2)")) +
    Number(sql("SELECT count(*) FROM reading WHERE code = 1")) +
    Number(sql("SELECT count(*) FROM reading d WHERE code = 2 AND NOT EXISTS (SELECT 1 FROM reading s WHERE " +
      "s.patient_id = d.patient_id AND s.code = 1 AND s.ts_ms = d.ts_ms AND s.source = d.source)")) +
    Number(sql("SELECT count(*) FROM fhir_resource WHERE type = 'Observation' AND body <> ''"));
  assert.equal(obs.length, readingObs);
  assert.equal((await lines(byType.Condition)).length,
    Number(sql("SELECT count(*) FROM fhir_resource WHERE type = 'Condition' AND body <> ''")));
  console.log(`export: ${pats.length} Patient, ${obs.length} Observation lines = database`);
  // de-identified
  const dk = await req(`${base}/Patient/$export?_deidentify=true&_type=Patient,Observation`);
  const dm = (await req(dk.headers.get('content-location'))).body;
  const dp = await lines(dm.output.find((o) => o.type === 'Patient'));
  assert.equal(dp.length, pats.length);
  for (const p of dp) {
    assert.equal(p.name, undefined); assert.equal(p.identifier, undefined);
    assert.equal(p.telecom, undefined); assert.equal(p.text, undefined);
    assert.equal(p.extension, undefined); assert.equal(p.address, undefined);
    assert.ok(!pats.some((q) => q.id === p.id), 'ids are pseudonyms');
  }
  const dObs = await lines(dm.output.find((o) => o.type === 'Observation'));
  assert.equal(dObs.length, obs.length);
  // the one 133/83 reading (2023-02-01T08:00Z) moved by whole days, 1..180
  const mine = dObs.filter((o) => o.component?.[0].valueQuantity.value === 133 &&
    o.component[1].valueQuantity.value === 83);
  assert.equal(mine.length, 1);
  const days = (Date.parse(mine[0].effectiveDateTime) - Date.parse('2023-02-01T08:00:00Z')) / 86400000;
  assert.ok(Number.isInteger(days) && days !== 0 && Math.abs(days) <= 180, `shift ${days} days`);
  assert.ok(dObs.every((o) => !o.device && o.subject.reference.startsWith('Patient/') &&
    !pats.some((p) => o.subject.reference === `Patient/${p.id}`)), 'subjects are pseudonyms');
  // cancel
  const del = await req(dk.headers.get('content-location'), 'DELETE');
  assert.equal(del.status, 202);
  assert.equal((await req(dk.headers.get('content-location'))).status, 404);
});

test('an old patient is grouped as 90+ in a de-identified export', async () => {
  await fhir.create({ resourceType: 'Patient', body: { ...patientBody('OLD1'), birthDate: '1920-01-01' } });
  const k = await req(`${base}/$export?_type=Patient&_deidentify=true`);
  const m = (await req(k.headers.get('content-location'))).body;
  const ps = (await req(m.output[0].url)).text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const old = ps.filter((p) => p._birthDate);
  assert.ok(old.length >= 1);
  assert.equal(old[0]._birthDate.extension[0].valueString, '90+');
  assert.ok(ps.every((p) => !p.birthDate || p.birthDate > '1930'));
});

// ---- the example files ---------------------------------------------------

const SERVED = new Set(['Patient', 'Observation', 'Device', 'Condition', 'Organization', 'Practitioner',
  'CareTeam', 'Group', 'ServiceRequest', 'Task', 'Communication', 'Flag']);
const parse = (f) => JSON.parse(readFileSync(f, 'utf8').replace(/^\uFEFF/, ''));
const UNIT = { g: ['kg', 0.001], '[lb_av]': ['kg', 0.45359237], 'mmol/L': ['mg/dL', 18.016], '[degF]': ['Cel', null] };

// References Vigil checks must exist: point them at a created patient.
function localise(r, pid) {
  for (const k of ['subject', 'patient', 'for'])
    if (r[k]?.reference?.startsWith('Patient/') || (k === 'subject' && r[k]?.reference))
      r[k] = { reference: `Patient/${pid}` };
  return r;
}

test('every valid example of a served type: created, read back, compared', { skip: !existsSync(DATA) && 'no 06_fhir_r4_examples' }, async () => {
  let n = 0; const counts = {}; const notR4 = [];
  for (const dir of ['r4_spec_examples', 'normative_testfiles']) {
    for (const f of readdirSync(join(DATA, dir)).filter((x) => x.endsWith('.json'))) {
      let r; try { r = parse(join(DATA, dir, f)); } catch { continue; }
      if (!SERVED.has(r.resourceType)) continue;
      // one patient per file: two examples of the same code and day would
      // otherwise be one reading (the ingest dedup key)
      const host = await fhir.create({ resourceType: 'Patient', body: patientBody(`EX${n}-${notR4.length}`) });
      r = localise(r, host.id);
      delete r.id; delete r.meta;
      if (r.resourceType === 'Patient' && r.identifier?.[0]?.value) r.identifier[0].value = `${r.identifier[0].value.slice(0, 40)}-${n}`;
      let c;
      try {
        c = await fhir.create({ resourceType: r.resourceType, body: r });
      } catch (e) {
        // Some normative fixtures are STU3-shaped (the folder serves STU3/R4/R5
        // alike): R4 cardinality violations are rejected, with the reason.
        const d = e.response?.data?.issue?.[0]?.diagnostics || '';
        assert.equal(e.response?.status, 400, `${dir}/${f}: ${e.response?.status} ${d}`);
        assert.match(d, /cardinality|non-empty array|unknown element/, `${dir}/${f}: ${d}`);
        notR4.push(`${dir}/${f}: ${d}`);
        continue;
      }
      const back = await fhir.read({ resourceType: r.resourceType, id: c.id });
      assert.equal(back.resourceType, r.resourceType);
      if (r.resourceType === 'Patient') {
        assert.equal(back.gender, r.gender ?? 'unknown', f);
        if (r.birthDate) assert.equal(back.birthDate, r.birthDate, f);
        if (r.identifier) assert.equal(back.identifier[0].value, r.identifier[0].value, f);
        if (r.name) assert.deepEqual(back.name, r.name, f);
        for (const k of Object.keys(r)) assert.deepEqual(back[k], r[k], `${f}: ${k}`);
      } else if (back.id.startsWith('r')) {
        // a reading: code, subject, time and value (in Vigil's canonical unit)
        assert.equal(back.subject.reference, `Patient/${host.id}`);
        const t = r.effectiveDateTime ?? r.effectivePeriod?.start ?? r.effectiveInstant ?? r.issued;
        assert.equal(Date.parse(back.effectiveDateTime), Date.parse(t.length === 10 ? t + 'T00:00:00Z' : t), f);
        const q = r.valueQuantity, bq = back.valueQuantity;
        if (q && bq) {
          const u = q.code ?? q.unit;
          const conv = u === bq.code ? 1 : UNIT[u]?.[1];
          if (conv) assert.ok(Math.abs(bq.value - q.value * conv) < 1e-6 * Math.max(1, bq.value), `${f}: ${bq.value} vs ${q.value} ${u}`);
        }
        if (r.component) assert.equal(back.component.length, 2, f);
      } else {
        const { id, meta, ...rest } = back;
        assert.deepEqual(rest, r, f); // kept as given
      }
      counts[r.resourceType] = (counts[r.resourceType] || 0) + 1; n++;
    }
  }
  console.log(`examples created and read back: ${n}`, counts);
  console.log(`not valid R4, rejected: ${notR4.length}\n  ${notR4.join('\n  ')}`);
  assert.ok(notR4.length <= 5, 'at most a few STU3-shaped fixtures');
  assert.ok(n >= 30, `only ${n}`);
});

test('every file in negative_and_templates is rejected with an OperationOutcome', { skip: !existsSync(DATA) && 'no data' }, async () => {
  const dir = join(DATA, 'negative_and_templates');
  let n = 0;
  for (const f of readdirSync(dir)) {
    const text = readFileSync(join(dir, f), 'utf8').replace(/^\uFEFF/, '');
    let rt = null; try { rt = JSON.parse(text).resourceType; } catch { /* NDJSON or broken */ }
    const url = rt === 'Bundle' || rt === null ? base : `${base}/${rt || 'Patient'}`;
    const r = await req(url, 'POST', text, { 'Content-Type': 'application/fhir+json' });
    if (r.status === 200 && r.body?.type === 'batch-response') {
      // a batch answers per entry: the invalid entries carry the outcome
      const bad = r.body.entry.filter((e) => e.response.outcome?.resourceType === 'OperationOutcome' &&
        Number(e.response.status) >= 400 && Number(e.response.status) < 500);
      assert.ok(bad.length >= 1, `${f}: no entry rejected`);
      console.log(`  ${f}: batch, ${bad.length}/${r.body.entry.length} entries rejected: ${bad[0].response.outcome.issue[0].diagnostics}`);
      n++;
      continue;
    }
    assert.ok(r.status >= 400 && r.status < 500, `${f}: ${r.status} ${r.text.slice(0, 200)}`);
    assert.equal(r.body?.resourceType, 'OperationOutcome', f);
    assert.ok(r.body.issue[0].diagnostics.length > 5, f);
    console.log(`  ${f}: ${r.status} ${r.body.issue[0].diagnostics}`);
    n++;
  }
  assert.equal(n, 28);
});

test('scopes and rows: a patient token sees only itself', async () => {
  const p = await fhir.create({ resourceType: 'Patient', body: patientBody('ME1') });
  const other = await fhir.create({ resourceType: 'Patient', body: patientBody('OTHER1') });
  const r = await req(`${base}/Patient/${other.id}`, 'GET', undefined, { authorization: '' });
  assert.equal(r.status, 401);
  assert.equal(r.body.resourceType, 'OperationOutcome');
  assert.ok(p.id);
});

// Poll fn until it returns a truthy value (or fail after ms).
async function until(fn, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((res) => setTimeout(res, 100));
  }
}

test('a crisis BP through FHIR (create, transaction) is assessed: tier urgent, open alert', async () => {
  const t = (h) => new Date(Date.now() - h * 3600e3).toISOString();
  const check = async (pid, how) => {
    const t0 = Date.now();
    const as = await until(async () => {
      const r = await req(`${srv.url}/api/v1/patients/${pid}/assessment`);
      return r.status === 200 && r.body.overall?.tier === 'urgent' && r.body;
    });
    const al = await until(async () => {
      const r = await req(`${srv.url}/api/v1/alerts?patient=${pid}&state=open`);
      return r.body.alerts?.find((x) => x.rule === 'bp_crisis');
    });
    console.log(`  ${how}: tier ${as.overall.tier}, alert ${al.rule} ${al.severity} after ${Date.now() - t0} ms`);
    assert.equal(al.state, 'open');
  };
  const p = await fhir.create({ resourceType: 'Patient', body: patientBody('CRISIS1') });
  await fhir.create({ resourceType: 'Observation', body: bp(p.id, t(1), 186, 114) });
  await check(p.id, 'POST /fhir/Observation');
  const tx = await fhir.transaction({ body: { resourceType: 'Bundle', type: 'transaction', entry: [
    { fullUrl: 'urn:uuid:9b1f0c1e-0000-4000-8000-00000000c001', resource: patientBody('CRISIS2'),
      request: { method: 'POST', url: 'Patient' } },
    { resource: { ...bp(0, t(1), 190, 118), subject: { reference: 'urn:uuid:9b1f0c1e-0000-4000-8000-00000000c001' } },
      request: { method: 'POST', url: 'Observation' } }] } });
  const pid2 = tx.entry[0].response.location.split('/')[1];
  await check(pid2, 'transaction Bundle');
  crisisPid = p.id;
});

let crisisPid;
test('care tables served as FHIR: Organization, Condition, Flag, Task, ServiceRequest, Device, Group, CareTeam', async () => {
  const pid = crisisPid;
  const api = (path, m = 'GET', b) => req(`${srv.url}/api/v1${path}`, m, b);
  // Flag <- care_alert (the crisis alert of the previous test)
  const alerts = (await api(`/alerts?patient=${pid}`)).body.alerts;
  const flags = await fhir.search({ resourceType: 'Flag', searchParams: { patient: pid } });
  assert.equal(flags.total, alerts.length);
  const f = await fhir.read({ resourceType: 'Flag', id: String(alerts[0].id) });
  assert.equal(f.subject.reference, `Patient/${pid}`);
  assert.equal(f.code.coding[0].code, alerts[0].rule);
  assert.equal(f.status, 'active');
  // Task <- care_task, ServiceRequest <- care_referral
  const tasks = await until(async () => (await api('/tasks')).body.tasks.filter((x) => x.patient === Number(pid)).length && (await api('/tasks')).body.tasks.filter((x) => x.patient === Number(pid)));
  const ft = await fhir.search({ resourceType: 'Task', searchParams: { patient: pid } });
  assert.equal(ft.total, tasks.length);
  assert.equal(ft.entry[0].resource.for.reference, `Patient/${pid}`);
  assert.equal(ft.entry[0].resource.code.coding[0].code, tasks[0].kind);
  const refs = await until(async () => (await api(`/referrals?patient=${pid}`)).body.referrals.length && (await api(`/referrals?patient=${pid}`)).body.referrals);
  const sr = await fhir.search({ resourceType: 'ServiceRequest', searchParams: { patient: pid } });
  assert.equal(sr.total, refs.length);
  assert.equal(sr.entry[0].resource.id, String(refs[0].id));
  assert.equal(sr.entry[0].resource.intent, refs[0].state === 'suggested' ? 'proposal' : 'order');
  // Organization <- organization; Group <- household; CareTeam <- care_team
  const org = await api('/organizations', 'POST', { name: 'Riverside CHC', level: 'community_health_centre' });
  assert.equal(org.status, 201, org.text);
  const fo = await fhir.read({ resourceType: 'Organization', id: String(org.body.id) });
  assert.equal(fo.name, 'Riverside CHC');
  assert.equal(fo.type[0].coding[0].code, 'community_health_centre');
  const os = await fhir.search({ resourceType: 'Organization', searchParams: { _id: String(org.body.id) } });
  assert.equal(os.total, 1);
  // Condition <- patient_condition (enrolled through /api/v1), served once
  const cond = await api(`/patients/${pid}/conditions`, 'POST', { code: 'hypertension', enrolled_date: '2025-01-10' });
  assert.equal(cond.status, 201, cond.text);
  const fc = await fhir.search({ resourceType: 'Condition', searchParams: { patient: pid } });
  assert.equal(fc.total, 1);
  assert.equal(fc.entry[0].resource.code.coding[0].code, '38341003');
  assert.equal(fc.entry[0].resource.clinicalStatus.coding[0].code, 'active');
  const byCode = await fhir.search({ resourceType: 'Condition', searchParams: { patient: pid, code: 'http://snomed.info/sct|38341003' } });
  assert.equal(byCode.total, 1);
  const byOther = await fhir.search({ resourceType: 'Condition', searchParams: { patient: pid, code: '44054006' } });
  assert.equal(byOther.total, 0);
  // a Condition created through FHIR enrols and is served once, not twice
  const p2 = await fhir.create({ resourceType: 'Patient', body: patientBody('COND2') });
  await fhir.create({ resourceType: 'Condition', body: { resourceType: 'Condition', subject: { reference: `Patient/${p2.id}` },
    code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006' }] } } });
  assert.equal((await fhir.search({ resourceType: 'Condition', searchParams: { patient: p2.id } })).total, 1);
  // Device <- device
  const d = await api('/devices', 'POST', { serial: 'FHIR-CUFF-9', kind: 'bp_cuff', patient: Number(pid) });
  assert.equal(d.status, 201, d.text);
  const fd = await fhir.read({ resourceType: 'Device', id: String(d.body.id) });
  assert.equal(fd.identifier[0].value, 'FHIR-CUFF-9');
  assert.equal(fd.patient.reference, `Patient/${pid}`);
  const ds = await fhir.search({ resourceType: 'Device', searchParams: { patient: pid } });
  assert.equal(ds.total, 1);
  // unknown row ids are 404 OperationOutcomes
  const miss = await rejected(fhir.read({ resourceType: 'Flag', id: '999999' }));
  assert.equal(miss.status, 404);
  console.log(`  Flag ${flags.total}, Task ${ft.total}, ServiceRequest ${sr.total}, Condition ${fc.total}, Device ${ds.total}; Organization ${fo.id}`);
});
