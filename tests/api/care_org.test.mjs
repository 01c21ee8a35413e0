// care_org.test.mjs - region and people end to end: the organisation tree
// (subtree listing, moves, cycles refused), teams with members, households
// with members, contracts (end date, renewal due), conditions under a
// patient, visits, optimistic versioning (If-Match -> 412, body version ->
// 409, two concurrent updates: one wins), filters and keyset paging, patient
// merge keeping readings and history, ETag / If-None-Match, and the
// row-level rule with real role tokens: a family doctor sees the patients
// their team contracted, an admin the residents of their organisation's
// subtree; lists and report counts follow the same rule.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startServer, req, createPatient, BIN, STORE } from './lib.mjs';

let srv, U;
const post = (p, b, h) => req(`${U}${p}`, 'POST', b, h);
const put = (p, b, h) => req(`${U}${p}`, 'PUT', b, h);
const get = (p, h) => req(`${U}${p}`, 'GET', undefined, h);

before(async () => { srv = await startServer(); U = srv.url; });
after(async () => { const { code } = await srv.stop(); assert.equal(code, 0); });

async function org(name, level, parent) {
  const r = await post('/api/v1/organizations', { name, level, ...(parent ? { parent } : {}) });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.headers.get('location'), `/api/v1/organizations/${r.body.id}`);
  return r.body;
}

test('organisation tree: create, subtree, move, cycle refused, versioning', async () => {
  const county = await org('County A', 'county_hospital');
  const chc = await org('CHC 1', 'community_health_centre', county.id);
  const chc2 = await org('CHC 2', 'community_health_centre', county.id);
  const vil = await org('Village 1', 'village_clinic', chc.id);
  assert.equal(county.path, `/${county.id}/`);
  assert.equal(vil.path, `/${county.id}/${chc.id}/${vil.id}/`);
  assert.equal(vil.version, 1);

  const sub = await get(`/api/v1/organizations?under=${chc.id}`);
  assert.deepEqual(sub.body.organizations.map((o) => o.id), [chc.id, vil.id]);
  const kids = await get(`/api/v1/organizations?parent=${county.id}&level=community_health_centre`);
  assert.deepEqual(kids.body.organizations.map((o) => o.id), [chc.id, chc2.id]);

  assert.equal((await post('/api/v1/organizations', { name: 'x', level: 'hut' })).status, 400);
  assert.equal((await post('/api/v1/organizations', { name: 'x', level: 'village_clinic', parent: 999999 })).status, 422);
  assert.equal((await post('/api/v1/organizations', { name: 'x', level: 'village_clinic', colour: 1 })).status, 400);

  // Versioning: no precondition -> 412; stale If-Match -> 412; stale body version -> 409.
  assert.equal((await put(`/api/v1/organizations/${chc.id}`, { name: 'CHC One' })).status, 412);
  assert.equal((await put(`/api/v1/organizations/${chc.id}`, { name: 'CHC One' }, { 'if-match': '"7"' })).status, 412);
  assert.equal((await put(`/api/v1/organizations/${chc.id}`, { name: 'CHC One', version: 7 })).status, 409);
  const ok = await put(`/api/v1/organizations/${chc.id}`, { name: 'CHC One' }, { 'if-match': '"1"' });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.version, 2);
  assert.equal(ok.body.name, 'CHC One');
  // ETag: the version, on reads and updates; If-None-Match -> 304.
  assert.equal(ok.headers.get('etag'), '"2"');
  const rd = await get(`/api/v1/organizations/${chc.id}`);
  assert.equal(rd.headers.get('etag'), '"2"');
  assert.equal((await get(`/api/v1/organizations/${chc.id}`, { 'if-none-match': '"2"' })).status, 304);
  assert.equal((await get(`/api/v1/organizations/${chc.id}`, { 'if-none-match': '"1"' })).status, 200);
  assert.equal(county.version, 1);

  // Move CHC 1 under CHC 2: the village's path follows.
  const mv = await put(`/api/v1/organizations/${chc.id}`, { parent: chc2.id, version: 2 });
  assert.equal(mv.status, 200, mv.text);
  const v2 = await get(`/api/v1/organizations/${vil.id}`);
  assert.equal(v2.body.path, `/${county.id}/${chc2.id}/${chc.id}/${vil.id}/`);
  // A cycle: county under its own village.
  const cyc = await put(`/api/v1/organizations/${county.id}`, { parent: vil.id, version: 1 });
  assert.equal(cyc.status, 422, cyc.text);

  // Two concurrent updates from the same version: exactly one wins.
  const cur = (await get(`/api/v1/organizations/${chc2.id}`)).body.version;
  const [a, b] = await Promise.all([
    put(`/api/v1/organizations/${chc2.id}`, { code: 'A' }, { 'if-match': `"${cur}"` }),
    put(`/api/v1/organizations/${chc2.id}`, { code: 'B' }, { 'if-match': `"${cur}"` })]);
  assert.deepEqual([a.status, b.status].sort(), [200, 412]);
  const fin = await get(`/api/v1/organizations/${chc2.id}`);
  assert.equal(fin.body.version, cur + 1);
  assert.equal(fin.body.code, a.status === 200 ? 'A' : 'B');
});

test('teams, households, contracts, conditions, visits; paging; merge', async () => {
  const chc = await org('CHC M', 'community_health_centre');
  const vil = await org('Village M', 'village_clinic', chc.id);
  const me = (await get('/api/v1/me')).body;
  const team = await post('/api/v1/teams', { name: 'Team 1', org: chc.id, members: [{ user: me.id, role: 'gp', lead: true }] });
  assert.equal(team.status, 201, team.text);
  assert.deepEqual(team.body.members.map((m) => [m.user, m.role, m.lead]), [[me.id, 'gp', true]]);
  assert.equal((await post('/api/v1/teams', { name: 'T', org: chc.id, members: [{ user: 999999, role: 'gp' }] })).status, 422);
  assert.equal((await post('/api/v1/teams', { name: 'T', org: chc.id, members: [{ user: me.id, role: 'chef' }] })).status, 400);
  const byMember = await get(`/api/v1/teams?member=${me.id}`);
  assert.ok(byMember.body.teams.some((t) => t.id === team.body.id));

  const p1 = await createPatient(U, { name: 'Li Wei' });
  const p2 = await createPatient(U, { name: 'Li Wei (dup)' });
  const p3 = await createPatient(U, { name: 'Wang Fang' });
  const hh = await post('/api/v1/households', { name: 'Li', address: '1 Road', org: vil.id,
    members: [{ patient: p1, relation: 'head', priority: ['low_income'] }, { patient: p3, relation: 'spouse' }] });
  assert.equal(hh.status, 201, hh.text);
  assert.deepEqual(hh.body.members.map((m) => m.patient), [p1, p3]);
  assert.deepEqual(hh.body.members[0].priority, ['low_income']);
  // A patient belongs to one household.
  const clash = await post('/api/v1/households', { org: vil.id, members: [{ patient: p1 }] });
  assert.equal(clash.status, 409, clash.text);
  const byPatient = await get(`/api/v1/households?patient=${p3}`);
  assert.deepEqual(byPatient.body.households.map((h) => h.id), [hh.body.id]);

  // Contracts: end date = signed + term; renewal due 30 days before.
  const c = await post('/api/v1/contracts', { team: team.body.id, household: hh.body.id, signed_date: '2024-02-29', term_months: 12 });
  assert.equal(c.status, 201, c.text);
  assert.equal(c.body.end_date, '2025-02-28');
  assert.equal(c.body.renewal_due_date, '2025-01-29');
  assert.equal(c.body.renewal_due, true);
  assert.equal(c.body.expired, true);
  assert.equal((await post('/api/v1/contracts', { team: team.body.id, signed_date: '2024-01-01' })).status, 400);
  assert.equal((await post('/api/v1/contracts', { team: team.body.id, household: hh.body.id, patient: p1, signed_date: '2024-01-01' })).status, 400);
  const future = new Date(Date.now() + 200 * 864e5).toISOString().slice(0, 10);
  const c2 = await post('/api/v1/contracts', { team: team.body.id, patient: p2, signed_date: future, term_months: 12 });
  assert.equal(c2.body.renewal_due, false);
  const due = await get(`/api/v1/contracts?team=${team.body.id}&renewal_due_before=2025-02-01`);
  assert.deepEqual(due.body.contracts.map((x) => x.id), [c.body.id]);
  const ofP3 = await get(`/api/v1/contracts?patient=${p3}`); // through the household
  assert.deepEqual(ofP3.body.contracts.map((x) => x.id), [c.body.id]);
  assert.equal((await put(`/api/v1/contracts/${c.body.id}`, { team: 999, version: 1 })).status, 422); // fixed field
  const term = await put(`/api/v1/contracts/${c.body.id}`, { status: 'terminated' }, { 'if-match': 'W/"1"' });
  assert.equal(term.status, 200, term.text);
  assert.equal(term.body.renewal_due, false);

  // Conditions under a patient.
  const cond = await post(`/api/v1/patients/${p1}/conditions`, { code: 'hypertension', enrolled_date: '2025-01-10' });
  assert.equal(cond.status, 201, cond.text);
  assert.equal(cond.headers.get('location'), `/api/v1/patients/${p1}/conditions/${cond.body.id}`);
  assert.equal(cond.body.status, 'active');
  assert.equal((await post(`/api/v1/patients/${p1}/conditions`, { code: 'hypertension', enrolled_date: '2025-01-10' })).status, 409);
  assert.equal((await post(`/api/v1/patients/${p1}/conditions`, { code: 'gout', enrolled_date: '2025-01-10' })).status, 400);
  assert.equal((await get(`/api/v1/patients/${p3}/conditions/${cond.body.id}`)).status, 404); // not p3's
  const dead = await put(`/api/v1/patients/${p1}/conditions/${cond.body.id}`, { status: 'dead', status_date: '2025-01-01', version: 1 });
  assert.equal(dead.status, 400, dead.text); // before enrolment
  const tr = await put(`/api/v1/patients/${p1}/conditions/${cond.body.id}`, { status: 'transferred', status_date: '2025-06-01', version: 1 });
  assert.equal(tr.status, 200, tr.text);
  assert.equal(tr.body.status_date, '2025-06-01');
  await post(`/api/v1/patients/${p2}/conditions`, { code: 't2d', enrolled_date: '2025-03-01' });
  await post(`/api/v1/patients/${p2}/conditions`, { code: 'hypertension', enrolled_date: '2024-03-01' });
  const lst = await get(`/api/v1/patients/${p2}/conditions?code=t2d`);
  assert.deepEqual(lst.body.conditions.map((x) => x.code), ['t2d']);

  // Visits.
  const v = await post('/api/v1/visits', { patient: p2, time: '2025-05-01T09:00:00+08:00', sbp: 150, dbp: 95, glucose_mmol: 8.1,
    symptoms: 'dizziness', adherence: 'partial', next_date: '2025-05-15' });
  assert.equal(v.status, 201, v.text);
  assert.equal(v.body.time, '2025-05-01T01:00:00.000Z');
  assert.equal(v.body.by, me.id);
  assert.equal((await post('/api/v1/visits', { patient: p2, time: '2025-05-01T09:00:00+08:00', sbp: 150 })).status, 400);
  assert.equal((await post('/api/v1/visits', { patient: p2, time: 'yesterday' })).status, 400);
  for (let i = 0; i < 5; i++)
    await post('/api/v1/visits', { patient: p2, time: Date.UTC(2025, 6, 1 + i), kind: 'phone' });
  // Keyset paging over the patient's visits.
  const seen = [];
  let cursor = '';
  for (let k = 0; k < 10; k++) {
    const pg = await get(`/api/v1/visits?patient=${p2}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(pg.status, 200, pg.text);
    seen.push(...pg.body.visits.map((x) => x.id));
    if (!pg.body.next_cursor) break;
    cursor = pg.body.next_cursor;
  }
  assert.equal(seen.length, 6);
  assert.deepEqual([...seen].sort((a, b) => a - b), seen);
  const july = await get(`/api/v1/visits?patient=${p2}&from=${Date.UTC(2025, 6, 2)}&to=${Date.UTC(2025, 6, 4)}`);
  assert.equal(july.body.visits.length, 2);

  // Merge p2 (duplicate) into p1: readings (a shared key once), visits,
  // contract and the condition p1 lacks move; p1's own hypertension stays.
  const t0 = Date.UTC(2025, 4, 1);
  const rd = (pid, t, v2) => ({ patient: pid, code: 'hr', t, value: v2, source: 'cuff' });
  const ing = await post('/api/v1/readings', { readings: [rd(p1, t0, 70), rd(p2, t0, 71), rd(p2, t0 + 60000, 72)] });
  assert.equal(ing.body.accepted, 3, ing.text);
  const m = await post(`/api/v1/patients/${p2}/merge`, { into: p1 });
  assert.equal(m.status, 200, m.text);
  assert.equal(m.body.moved_readings, 1);
  const rds = await get(`/api/v1/patients/${p1}/readings?code=hr&from=${t0 - 1}&to=${t0 + 120000}`);
  assert.equal(rds.status, 200, rds.text);
  assert.equal(rds.text.match(/"value"/g).length, 2);
  assert.equal((await get(`/api/v1/visits?patient=${p1}`)).body.visits.length, 6);
  assert.equal((await get(`/api/v1/visits?patient=${p2}`)).body.visits.length, 0);
  const conds = (await get(`/api/v1/patients/${p1}/conditions`)).body.conditions;
  assert.deepEqual(conds.map((x) => [x.code, x.status]).sort(), [['hypertension', 'transferred'], ['t2d', 'active']]);
  assert.deepEqual((await get(`/api/v1/contracts?patient=${p1}`)).body.contracts.map((x) => x.id).sort(), [c.body.id, c2.body.id].sort());
  assert.equal((await post(`/api/v1/patients/${p2}/merge`, { into: p1 })).status, 409); // already merged
  assert.equal((await post(`/api/v1/patients/${p1}/merge`, { into: p1 })).status, 400);
  assert.equal((await post(`/api/v1/patients/${p3}/merge`, { into: 999999 })).status, 422);
});

const PASSWORD = 'Test-passw0rd-xyz';
async function userToken(name, role, org) {
  const store = STORE === 'pg' ? ['--pg', srv.db] : ['--db', srv.db];
  const r = spawnSync(BIN, ['user', 'add', name, '--role', role, '--org', String(org), ...store,
    '--argon2-m-kib', '8192', '--argon2-t', '1'], { encoding: 'utf8', env: { ...process.env, VIGIL_PASSWORD: PASSWORD } });
  assert.equal(r.status, 0, r.stderr);
  const l = await req(`${U}/api/v1/auth/login`, 'POST', { username: name, password: PASSWORD }, { authorization: null });
  assert.equal(l.status, 200, l.text);
  return { id: l.body.user.id, h: { authorization: `Bearer ${l.body.token}` } };
}

test('visibility: doctor by team contract, admin by organisation subtree; lists and reports follow', async () => {
  const county = await org('Vis county', 'county_hospital');
  const chcA = await org('Vis CHC A', 'community_health_centre', county.id);
  const chcB = await org('Vis CHC B', 'community_health_centre', county.id);
  const vilA = await org('Vis village A', 'village_clinic', chcA.id);
  const vilB = await org('Vis village B', 'village_clinic', chcB.id);
  const docA = await userToken('vis.docA', 'doctor', chcA.id);
  const docB = await userToken('vis.docB', 'doctor', chcB.id);
  const adminA = await userToken('vis.adminA', 'admin', chcA.id);
  const teamA = (await post('/api/v1/teams', { name: 'Vis A', org: chcA.id, members: [{ user: docA.id, role: 'gp', lead: true }] })).body;
  const teamB = (await post('/api/v1/teams', { name: 'Vis B', org: chcB.id, members: [{ user: docB.id, role: 'gp', lead: true }] })).body;
  const a1 = await createPatient(U, { name: 'Vis A1' }), a2 = await createPatient(U, { name: 'Vis A2' });
  const b1 = await createPatient(U, { name: 'Vis B1' }), lone = await createPatient(U, { name: 'Vis lone' });
  const hA = (await post('/api/v1/households', { org: vilA.id, members: [{ patient: a1 }, { patient: a2 }] })).body;
  const hB = (await post('/api/v1/households', { org: vilB.id, members: [{ patient: b1 }] })).body;
  const today = new Date().toISOString().slice(0, 10);
  const cA = (await post('/api/v1/contracts', { team: teamA.id, household: hA.id, signed_date: today })).body;
  const cB = (await post('/api/v1/contracts', { team: teamB.id, household: hB.id, signed_date: today })).body;
  const cLone = (await post('/api/v1/contracts', { team: teamB.id, patient: lone, signed_date: today })).body;
  for (const pid of [a1, a2, b1, lone]) {
    assert.equal((await post(`/api/v1/patients/${pid}/conditions`, { code: 'hypertension', enrolled_date: '2024-01-01' })).status, 201);
    assert.equal((await post('/api/v1/visits', { patient: pid, time: Date.now() - 864e5, sbp: 130, dbp: 80 })).status, 201);
  }
  const ids = (r, key) => r.body[key].map((x) => x.id).sort((x, y) => x - y);
  const pidsOf = (r) => [...new Set(r.body.visits.map((x) => x.patient))].sort((x, y) => x - y);

  // The family doctor of team A: their household's patients, nobody else's.
  assert.equal((await get(`/api/v1/patients/${a1}`, docA.h)).status, 200);
  assert.equal((await get(`/api/v1/patients/${a2}`, docA.h)).status, 200);
  assert.equal((await get(`/api/v1/patients/${b1}`, docA.h)).status, 404); // only team B contracted
  assert.equal((await get(`/api/v1/patients/${lone}`, docA.h)).status, 404);
  assert.equal((await get(`/api/v1/patients/${lone}`, docB.h)).status, 200); // team B's patient contract
  assert.equal((await get(`/api/v1/households/${hA.id}`, docA.h)).status, 200);
  assert.equal((await get(`/api/v1/households/${hB.id}`, docA.h)).status, 404);
  assert.equal((await get(`/api/v1/contracts/${cA.id}`, docA.h)).status, 200);
  assert.equal((await get(`/api/v1/contracts/${cB.id}`, docA.h)).status, 404);
  assert.deepEqual(ids(await get('/api/v1/households?limit=1000', docA.h), 'households'), [hA.id]);
  assert.deepEqual(ids(await get('/api/v1/contracts?limit=1000', docA.h), 'contracts'), [cA.id]);
  assert.deepEqual(ids(await get('/api/v1/contracts?limit=1000', docB.h), 'contracts'), [cB.id, cLone.id]);
  // The patient list is the caller's visible set, paged by id like the full list.
  assert.deepEqual(ids(await get('/api/v1/patients?limit=1000', docA.h), 'patients'), [a1, a2].sort((x, y) => x - y));
  assert.deepEqual(ids(await get('/api/v1/patients?limit=1000', docB.h), 'patients'), [b1, lone].sort((x, y) => x - y));
  const page1 = await get('/api/v1/patients?limit=1', docA.h);
  assert.equal(page1.body.patients.length, 1);
  const page2 = await get(`/api/v1/patients?limit=1&cursor=${page1.body.next_cursor}`, docA.h);
  assert.deepEqual([page1.body.patients[0].id, page2.body.patients[0].id], [a1, a2].sort((x, y) => x - y));
  const vA = await get('/api/v1/visits?limit=1000', docA.h);
  assert.equal(vA.status, 200, vA.text);
  assert.deepEqual(pidsOf(vA), [a1, a2].sort((x, y) => x - y));
  assert.equal((await get(`/api/v1/visits?patient=${b1}`, docA.h)).status, 404);
  assert.equal((await post('/api/v1/visits', { patient: b1, time: Date.now(), sbp: 120, dbp: 80 }, docA.h)).status, 422);

  // The admin of centre A: residents of centre A's subtree only.
  assert.equal((await get(`/api/v1/patients/${a1}`, adminA.h)).status, 200);
  assert.equal((await get(`/api/v1/patients/${b1}`, adminA.h)).status, 404);
  assert.equal((await get(`/api/v1/patients/${lone}`, adminA.h)).status, 404); // team B's, no household
  assert.deepEqual(ids(await get('/api/v1/households?limit=1000', adminA.h), 'households'), [hA.id]);
  assert.deepEqual(pidsOf(await get('/api/v1/visits?limit=1000', adminA.h)), [a1, a2].sort((x, y) => x - y));

  // Report counts never include patients the caller cannot see.
  const period = `${today.slice(0, 4)}-Q${Math.floor((Number(today.slice(5, 7)) - 1) / 3) + 1}`;
  const rep = async (o, h) => { const r = await get(`/api/v1/reports/indicators?org=${o}&period=${period}`, h); assert.equal(r.status, 200, r.text); return r.body; };
  const full = await rep(county.id), scoped = await rep(county.id, adminA.h), docBs = await rep(county.id, docB.h);
  assert.equal(full.residents, 3); // a1, a2, b1 (lone has no household)
  assert.equal(scoped.residents, 2);
  assert.equal(docBs.residents, 1);
  const den = (b, k) => b.org.indicators.find((i) => i.key === k).denominator;
  assert.equal(den(full, 'china.htn_bp_control'), 3);
  assert.equal(den(scoped, 'china.htn_bp_control'), 2);
  assert.equal(den(docBs, 'china.htn_bp_control'), 1);
  assert.equal((await rep(chcB.id, adminA.h)).residents, 0);
  const list = await get(`/api/v1/reports/indicators/patients?org=${county.id}&period=${period}&indicator=china.htn_bp_control&part=denominator`, adminA.h);
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.body.patients, [a1, a2].sort((x, y) => x - y));
});
