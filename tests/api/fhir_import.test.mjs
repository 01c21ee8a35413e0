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

// Test data in place: $VIGIL_TESTDATA, else ../shared/data beside the project.
const DATA = join(process.env.VIGIL_TESTDATA || join(process.env.VIGIL_SOURCE_DIR || '.', '..', 'shared', 'data'),
  '01_synthea_fhir_r4');
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

// What the bundles themselves hold, computed here from the files: BP panels
// (55284-4; one systolic + one diastolic reading each, distinct per patient
// and time) and the HbA1c values outside the codes.def plausible range
// (3..20 %), which must be rejected, never stored.
const HBA1C_MIN = 3, HBA1C_MAX = 20; // src/codes.def, X(HBA1C, ...)
let bpPanels = 0, bpObs = 0, bpNoUnit = 0;
const hba1cBad = new Map(); // file -> count
for (const p of patients) {
  const f = join(DATA, p.file);
  const raw = readFileSync(f);
  const b = JSON.parse((f.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
  const times = new Set();
  let bad = 0;
  for (const e of b.entry) {
    const r = e.resource;
    if (r.resourceType !== 'Observation') continue;
    const code = r.code.coding[0].code;
    if (code === '55284-4') {
      bpObs++;
      times.add(r.effectiveDateTime);
      if (!r.component.every((c) => c.valueQuantity?.code)) bpNoUnit++;
    } else if (code === '4548-4') {
      const v = r.valueQuantity?.value;
      if (v < HBA1C_MIN || v > HBA1C_MAX) bad++;
    }
  }
  bpPanels += times.size;
  hba1cBad.set(p.file, bad);
}
const hba1cRejected = [...hba1cBad.values()].reduce((a, b) => a + b, 0);

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
  // exit 3: completed, some resources rejected (0 when none would be)
  assert.equal(r.status, hba1cRejected ? 3 : 0, r.stderr);
  // the only rejections are the implausible HbA1c values; BP components
  // without a unit are in mm[Hg] (documented leniency) and all stored
  const rejected = Object.entries(summary.types).filter(([, c]) => c.rejected);
  assert.deepEqual(rejected.map(([t]) => t), hba1cRejected ? ['Observation'] : []);
  for (const [, c] of rejected)
    for (const why of c.reasons) assert.match(why, /out of range 3\.\.20 % for hba1c/);
});

test('counts per type match the manifests and the database', () => {
  const T = summary.types;
  console.log(`bundles: ${bpObs} BP panels (${bpNoUnit} with unitless components) at ${bpPanels} distinct times; ${hba1cRejected} HbA1c values outside ${HBA1C_MIN}..${HBA1C_MAX} %`);
  assert.equal(T.Patient.accepted, patients.length);
  assert.equal(T.Patient.accepted, manifest.Patient);
  assert.equal(T.Condition.accepted, manifest.Condition);
  assert.equal(T.Observation.rejected, hba1cRejected);
  assert.equal(T.Observation.accepted, manifest.Observation - hba1cRejected);
  for (const t of ['Organization', 'Practitioner']) assert.equal(T[t].accepted, manifest[t]);
  for (const [t, c] of Object.entries(T)) assert.equal(c.accepted + c.rejected + c.skipped, manifest[t], t);
  assert.equal(Number(sql('SELECT count(*) FROM patient')), patients.length);
  assert.equal(Number(sql("SELECT count(*) FROM fhir_resource WHERE type = 'Condition'")), manifest.Condition);
  assert.equal(bpObs, patients.reduce((a, p) => a + Number(p.bp_panels_85354_9), 0));
  assert.equal(Number(sql('SELECT count(*) FROM reading WHERE code = 1')), bpPanels);
  assert.equal(Number(sql('SELECT count(*) FROM reading WHERE code = 2')), bpPanels);
  const weights = patients.reduce((a, p) => a + Number(p.weight_29463_7), 0);
  assert.equal(Number(sql('SELECT count(*) FROM reading WHERE code = 7')), weights);
  const hba1cAll = patients.reduce((a, p) => a + Number(p.hba1c_4548_4), 0);
  assert.equal(Number(sql('SELECT count(*) FROM reading WHERE code = 12')), hba1cAll - hba1cRejected);
  assert.equal(Number(sql('SELECT count(*) FROM reading WHERE code = 12 AND (value < 3 OR value > 20)')), 0);
  // every Observation is a reading or an uninterpreted FHIR Observation
  const readingObs = Number(sql('SELECT count(*) FROM reading')) - bpPanels;
  const generic = Number(sql("SELECT count(*) FROM fhir_resource WHERE type = 'Observation' AND body <> ''"));
  console.log(`observations: ${readingObs} readings (BP pairs as one) + ${generic} uninterpreted`);
  // accepted duplicates are readings already stored under the same key
  // (patient, code, time, source), e.g. two panels at one time
  assert.ok(T.Observation.duplicate >= bpObs - bpPanels);
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
  const rel = 'bundles/' + one.split('/').pop();
  assert.equal(r.status, hba1cBad.get(rel) ? 3 : 0, r.stderr);
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
