// fhir_import.test.mjs - `vigil import` loads all 150 Synthea R4 bundles of
// 01_synthea_fhir_r4; the counts per type are checked against the folder's
// manifests (patients.csv, resource_type_counts.csv) and against the
// database, then the served API finds what was imported. Exits 77 (ctest
// SKIPPED) when the data folder is missing. Runs as a plain script.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, mkdtempSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DATA = join(process.env.VIGIL_SOURCE_DIR || '.', '..', 'shared', 'data', '01_synthea_fhir_r4');
if (!existsSync(join(DATA, 'patients.csv'))) {
  console.log(`SKIPPED: ${DATA} is missing (see ../shared/data/INDEX.md)`);
  process.exit(77);
}
const { BIN, PG_URL, STORE, freshPgDatabase, startServer, req } = await import('./lib.mjs');

const dir = mkdtempSync(join(tmpdir(), 'vigil-import-'));
const db = PG_URL ? freshPgDatabase() : join(dir, 'vigil.db');
if (PG_URL) writeFileSync(join(dir, 'pg_url'), db); // startServer reuses it
const storeArgs = PG_URL ? ['--pg', db] : ['--db', db];
const sql = (q) => STORE === 'pg'
  ? execFileSync('psql', ['-qAtX', db, '-c', q], { encoding: 'utf8' }).trim()
  : execFileSync('sqlite3', [db, q], { encoding: 'utf8' }).trim();

const csv = (f) => {
  const [head, ...rows] = readFileSync(join(DATA, f), 'utf8').trim().split(/\r?\n/);
  const keys = head.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [keys[i], v])));
};
const manifest = Object.fromEntries(csv('resource_type_counts.csv').map((r) => [r.resourceType, Number(r.count)]));
const patients = csv('patients.csv');

let summary, secs;

test('vigil import loads the 150 bundles', () => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(BIN, ['import', ...storeArgs, '--json', DATA], { encoding: 'utf8', maxBuffer: 64 << 20 });
  secs = Number(process.hrtime.bigint() - t0) / 1e9;
  assert.ok(r.stdout, r.stderr);
  summary = JSON.parse(r.stdout.trim().split('\n').pop());
  console.log(JSON.stringify(summary, null, 1));
  console.log(`import: ${summary.resources} resources in ${secs.toFixed(2)} s = ${(summary.resources / secs).toFixed(0)} resources/s`);
  assert.equal(summary.files, 150);
  assert.equal(summary.files_failed, 0);
  assert.equal(summary.resources, Object.values(manifest).reduce((a, b) => a + b, 0));
  // rejections make the exit nonzero; the only ones are implausible HbA1c
  // values (< 3 %, the codes.def range) that Synthea 2019 generates,
  const rejected = Object.entries(summary.types).filter(([, c]) => c.rejected);
  assert.equal(r.status, rejected.length ? 1 : 0);
  // and BP panels whose components carry no unit (the vital-signs profile
  // requires a UCUM code)
  for (const [, c] of rejected)
    for (const why of c.reasons) assert.match(why, /out of range .* for hba1c|needs a UCUM unit/);
});

test('counts per type match the manifests and the database', () => {
  const T = summary.types;
  assert.equal(T.Patient.accepted, patients.length);
  assert.equal(T.Patient.accepted, manifest.Patient);
  assert.equal(T.Condition.accepted, manifest.Condition);
  assert.equal(T.Observation.accepted + T.Observation.rejected, manifest.Observation);
  assert.ok(T.Observation.rejected < manifest.Observation * 0.02, `${T.Observation.rejected} rejected`);
  for (const t of ['Organization', 'Practitioner']) assert.equal(T[t].accepted, manifest[t]);
  for (const [t, c] of Object.entries(T)) assert.equal(c.accepted + c.rejected + c.skipped, manifest[t], t);
  assert.equal(Number(sql('SELECT count(*) FROM patient')), patients.length);
  assert.equal(Number(sql("SELECT count(*) FROM fhir_resource WHERE type = 'Condition'")), manifest.Condition);
  // BP panels 55284-4 (counted here from the bundles themselves): those
  // with a UCUM unit on both components are one systolic and one diastolic
  // reading each, distinct per patient and time
  const files = patients.map((p) => join(DATA, p.file));
  let bpPanels = 0, bpNoUnit = 0, bpWithUnit = 0;
  for (const f of files) {
    const raw = readFileSync(f);
    const b = JSON.parse((f.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
    const times = new Set();
    for (const e of b.entry) {
      const r = e.resource;
      if (r.resourceType !== 'Observation' || r.code.coding[0].code !== '55284-4') continue;
      if (r.component.every((c) => c.valueQuantity?.code)) { times.add(r.effectiveDateTime); bpWithUnit++; } else bpNoUnit++;
    }
    bpPanels += times.size;
  }
  console.log(`BP panels: ${bpPanels} stored as pairs, ${bpNoUnit} without a unit (rejected)`);
  assert.equal(bpWithUnit + bpNoUnit, patients.reduce((a, p) => a + Number(p.bp_panels_85354_9), 0));
  assert.equal(Number(sql('SELECT count(*) FROM reading WHERE code = 1')), bpPanels);
  assert.equal(Number(sql('SELECT count(*) FROM reading WHERE code = 2')), bpPanels);
  const weights = patients.reduce((a, p) => a + Number(p.weight_29463_7), 0);
  assert.equal(Number(sql('SELECT count(*) FROM reading WHERE code = 7')), weights);
  // every Observation is a reading or an uninterpreted FHIR Observation
  const readingObs = Number(sql('SELECT count(*) FROM reading')) - bpPanels;
  const generic = Number(sql("SELECT count(*) FROM fhir_resource WHERE type = 'Observation' AND body <> ''"));
  console.log(`observations: ${readingObs} readings (BP pairs as one) + ${generic} uninterpreted`);
  // accepted duplicates are readings already stored under the same key
  // (patient, code, time, source), e.g. two LOINC codes of one kind
  assert.ok(T.Observation.duplicate >= bpWithUnit - bpPanels);
  assert.equal(readingObs + generic, T.Observation.accepted - T.Observation.duplicate);
});

test('patients are enrolled in programmes from their Conditions', () => {
  const flags = { hypertension: 'hypertension', t2d: 'diabetes', ckd: 'ckd', copd: 'copd',
    af: 'atrial_fibrillation', heart_failure: 'chf' };
  for (const [prog, col] of Object.entries(flags)) {
    const want = patients.filter((p) => p[col] === 'True').length;
    const got = Number(sql(`SELECT count(*) FROM patient_condition WHERE code = '${prog}'`));
    console.log(`programme ${prog}: ${got} enrolled (manifest ${want})`);
    assert.equal(got, want, prog);
  }
});

test('importing again changes nothing (idempotent)', () => {
  const before = sql('SELECT count(*) FROM reading') + '/' + sql('SELECT count(*) FROM patient');
  const one = join(DATA, 'bundles', readFileSync(join(DATA, 'patients.csv'), 'utf8').split('\n')
    .find((l) => l.startsWith('bundles/')).split(',')[0].slice('bundles/'.length));
  const r = spawnSync(BIN, ['import', ...storeArgs, '--json', one], { encoding: 'utf8' });
  assert.ok([0, 1].includes(r.status), r.stderr);
  assert.equal(sql('SELECT count(*) FROM reading') + '/' + sql('SELECT count(*) FROM patient'), before);
});

test('the imported population is served by the FHIR API', async () => {
  const srv = await startServer({ dir, args: [] });
  after(() => srv.stop());
  const p = patients[0];
  // the bundle's Patient.identifier[0] (Synthea id) is the uuid in the file name
  const ident = /_([0-9a-f-]{36})\.json/.exec(p.file)[1];
  const found = await req(`${srv.url}/fhir/Patient?identifier=${ident}`);
  assert.equal(found.body.total, 1);
  const pid = found.body.entry[0].resource.id;
  assert.equal(found.body.entry[0].resource.birthDate, p.birthDate);
  const bp = await req(`${srv.url}/fhir/Observation?patient=${pid}&code=http://loinc.org|85354-9&_summary=count`);
  assert.equal(bp.body.total, Number(p.bp_panels_85354_9), bp.text);
  const all = await req(`${srv.url}/fhir/Observation?patient=${pid}&_summary=count`);
  assert.ok(all.body.total <= Number(p.observations) && all.body.total >= Number(p.observations) * 0.95,
    `${all.body.total} of ${p.observations}`);
});
