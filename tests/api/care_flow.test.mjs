// care_flow.test.mjs - the care flow end to end: readings -> assessment
// (tier, reasons, versions) -> alert (dedup with repeats, ack/resolve,
// illegal transitions 409 with the allowed ones, escalation with fast
// delays from a rules file) -> follow-up task (overdue order, completion
// records a visit that feeds the assessment) -> referrals (state machine,
// ETag/If-Match, two concurrent updates: one wins, one 409) -> consults ->
// SSE events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnSync } from 'node:child_process';
import { startServer, req, createPatient, BIN, STORE } from './lib.mjs';

let srv, pid, calm;
const H = 3600e3;

async function until(fn, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await sleep(100);
  }
}

async function post(readings) {
  const r = await req(`${srv.url}/api/v1/readings`, 'POST', { readings });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-care-'));
  const rules = join(dir, 'rules.conf');
  // Escalation after 1 s per level so the test runs fast.
  writeFileSync(rules, 'esc_critical_s = 1\nesc_high_s = 1\ndebounce_ms = 50\n');
  srv = await startServer({ dir, args: ['--care-rules', rules, '--care-tick-ms', '200'] });
  pid = await createPatient(srv.url, { name: 'Crisis Patient', sex: 'male', birth_date: '1960-01-01' });
  calm = await createPatient(srv.url, { name: 'Calm Patient', sex: 'female' });
});
after(async () => { const { code } = await srv.stop(); if (process.env.VG_SHOW_LOG) console.log(srv.log().split("\n").filter((l) => /warn|error|care/i.test(l)).slice(0, 40).join("\n")); assert.equal(code, 0); });

test('BP crisis: alert with repeats, tier urgent, task and suggested referral', async () => {
  const now = Date.now();
  const bp = (t, s, d, src = 'cuff-1') => [
    { patient: pid, code: 'sbp', t, value: s, source: src },
    { patient: pid, code: 'dbp', t, value: d, source: src }];
  await post([...bp(now - 3 * H, 150, 95), ...bp(now - 2 * H, 185, 112)]);
  const a = await until(async () => {
    const r = await req(`${srv.url}/api/v1/alerts?patient=${pid}&state=open`);
    return r.body.alerts.find((x) => x.rule === 'bp_crisis');
  });
  assert.equal(a.severity, 'critical');
  assert.equal(a.repeats, 1);
  // A second crisis reading: same alert, repeats 2 (dedup).
  await post(bp(now - 1 * H, 190, 115));
  const a2 = await until(async () => {
    const r = await req(`${srv.url}/api/v1/alerts?patient=${pid}`);
    const x = r.body.alerts.filter((y) => y.rule === 'bp_crisis');
    return x.length === 1 && x[0].repeats === 2 && x[0];
  });
  assert.equal(a2.id, a.id);
  const as = await req(`${srv.url}/api/v1/patients/${pid}/assessment`);
  assert.equal(as.status, 200, as.text);
  console.log('assessment:', JSON.stringify(as.body.overall));
  assert.equal(as.body.overall.tier, 'urgent');
  assert.equal(as.body.overall.action, 'urgent_refer');
  assert.ok(as.body.algo_version && as.body.rules_version);
  assert.ok(as.body.programmes[0].reasons.some((s) => /180\/110/.test(s)));
  const tasks = await until(async () => (await req(`${srv.url}/api/v1/tasks`)).body.tasks.find((t) => t.patient === pid));
  assert.equal(tasks.kind, 'referral_followup');
  const refs = await until(async () => (await req(`${srv.url}/api/v1/referrals?patient=${pid}&state=suggested`)).body.referrals[0]);
  assert.equal(refs.urgency, 'emergency');
});

test('alert escalates while unacknowledged, then ack -> resolve; illegal -> 409 with allowed', async () => {
  const a = (await req(`${srv.url}/api/v1/alerts?patient=${pid}&state=open`)).body.alerts[0];
  const esc = await until(async () => {
    const x = (await req(`${srv.url}/api/v1/alerts?patient=${pid}`)).body.alerts.find((y) => y.id === a.id);
    return x.escalation_level === 2 && x;
  });
  assert.equal(esc.escalation_level, 2); // family doctor -> team lead -> duty doctor, capped
  const bad = await req(`${srv.url}/api/v1/alerts/${a.id}/resolve`, 'POST');
  assert.equal(bad.status, 200, bad.text); // open -> resolved is legal
  assert.equal(bad.body.state, 'resolved');
  assert.ok(bad.body.resolved_by);
  const again = await req(`${srv.url}/api/v1/alerts/${a.id}/ack`, 'POST');
  assert.equal(again.status, 409);
  assert.match(again.body.error.message, /allowed: none/);
  const missing = await req(`${srv.url}/api/v1/alerts/99999/ack`, 'POST');
  assert.equal(missing.status, 404);
});

test('glucose alert: open -> acknowledged -> resolved; ack twice is 409 naming resolve', async () => {
  await post([{ patient: calm, code: 'glucose', t: Date.now() - 60000, value: 45, source: 'meter' }]);
  const a = await until(async () => (await req(`${srv.url}/api/v1/alerts?patient=${calm}&state=open`)).body.alerts.find((x) => x.rule === 'glucose_low'));
  const ack = await req(`${srv.url}/api/v1/alerts/${a.id}/ack`, 'POST');
  assert.equal(ack.status, 200, ack.text);
  assert.equal(ack.body.state, 'acknowledged');
  const twice = await req(`${srv.url}/api/v1/alerts/${a.id}/ack`, 'POST');
  assert.equal(twice.status, 409);
  assert.match(twice.body.error.message, /allowed: resolve/);
  const res = await req(`${srv.url}/api/v1/alerts/${a.id}/resolve`, 'POST');
  assert.equal(res.body.state, 'resolved');
});

test('referral state machine with ETag/If-Match and a race', async () => {
  const c = await req(`${srv.url}/api/v1/referrals`, 'POST', { patient: calm, direction: 'up', urgency: 'urgent', reason: 'uncontrolled twice' });
  assert.equal(c.status, 201, c.text);
  if (!c.body) console.log('referral:', c.text);
  const id = c.body.id;
  const g = await req(`${srv.url}/api/v1/referrals/${id}`);
  assert.equal(g.headers.get('etag'), `"${g.body.version}"`);
  const illegal = await req(`${srv.url}/api/v1/referrals/${id}/complete`, 'POST');
  assert.equal(illegal.status, 409);
  assert.match(illegal.body.error.message, /allowed: accept, decline/);
  // Two concurrent updates with the same If-Match: exactly one wins.
  const tag = g.headers.get('etag');
  const [x, y] = await Promise.all([
    req(`${srv.url}/api/v1/referrals/${id}/accept`, 'POST', undefined, { 'if-match': tag }),
    req(`${srv.url}/api/v1/referrals/${id}/decline`, 'POST', undefined, { 'if-match': tag })]);
  const codes = [x.status, y.status].sort();
  assert.deepEqual(codes, [200, 409], `${x.text} ${y.text}`);
  const won = x.status === 200 ? x : y;
  if (won.body.state === 'accepted') {
    const done = await req(`${srv.url}/api/v1/referrals/${id}/complete`, 'POST');
    assert.equal(done.body.state, 'completed');
    const ret = await req(`${srv.url}/api/v1/referrals/${id}/return`, 'POST',
      { care_plan: { tasks: [{ kind: 'home_visit', due_days: 7, reason: 'check BP at home' }] } });
    assert.equal(ret.status, 200, ret.text);
    assert.equal(ret.body.state, 'returned');
    assert.equal(ret.body.direction, 'down');
    const t = (await req(`${srv.url}/api/v1/tasks`)).body.tasks.find((k) => k.patient === calm && k.kind === 'home_visit');
    assert.ok(t, 'care plan created a community task');
  } else {
    assert.equal(won.body.state, 'declined');
    const fin = await req(`${srv.url}/api/v1/referrals/${id}/accept`, 'POST');
    assert.equal(fin.status, 409);
    assert.match(fin.body.error.message, /final state/);
  }
  const unknown = await req(`${srv.url}/api/v1/referrals/${id}/frobnicate`, 'POST');
  assert.equal(unknown.status, 404);
});

test('tasks: overdue order by tier, completion records a visit that feeds the assessment', async () => {
  const list = (await req(`${srv.url}/api/v1/tasks`)).body.tasks;
  for (let i = 1; i < list.length; i++)
    assert.ok(list[i - 1].tier_rank > list[i].tier_rank ||
      (list[i - 1].tier_rank === list[i].tier_rank && list[i - 1].due_ms <= list[i].due_ms));
  const t = list.find((k) => k.patient === pid);
  const d = await req(`${srv.url}/api/v1/tasks/${t.id}/complete`, 'POST', { sbp: 150, dbp: 95, adherence: 'good' });
  assert.equal(d.status, 200, d.text);
  assert.ok(d.body.visit > 0);
  const again = await req(`${srv.url}/api/v1/tasks/${t.id}/complete`, 'POST', {});
  assert.equal(again.status, 409);
  const v = await req(`${srv.url}/api/v1/patients/${pid}/readings?code=sbp`);
  assert.ok(JSON.stringify(v.body).includes('"visit"'), 'visit BP stored as a reading');
  const me = await req(`${srv.url}/api/v1/tasks?assignee=me`);
  assert.equal(me.status, 200);
  assert.equal(me.body.tasks.length, 0); // the admin is assigned nothing
});

test('consults: open -> answered with waiting time; illegal -> 409', async () => {
  const c = await req(`${srv.url}/api/v1/consults`, 'POST', { patient: pid, question: 'Add a third drug?', readings: [{ code: 'sbp', value: 185 }] });
  assert.equal(c.status, 201, c.text);
  const open = (await req(`${srv.url}/api/v1/consults?state=open`)).body.consults.find((x) => x.id === c.body.id);
  assert.ok(open.waiting_ms >= 0);
  assert.equal(open.readings[0].value, 185);
  const a = await req(`${srv.url}/api/v1/consults/${c.body.id}/answer`, 'POST', { answer: 'Yes: add a thiazide.' });
  assert.equal(a.body.state, 'answered');
  const b = await req(`${srv.url}/api/v1/consults/${c.body.id}/answer`, 'POST', { answer: 'again' });
  assert.equal(b.status, 409);
  assert.match(b.body.error.message, /allowed: close/);
});

test('events: SSE backlog after an id, new alert arrives', async () => {
  const r = await req(`${srv.url}/api/v1/events?after=0&wait=1`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/event-stream/);
  assert.match(r.text, /event: alert/);
  assert.match(r.text, /event: referral/);
});

// Role tokens: users made with the CLI on the server's store, logged in.
const PASSWORD = 'Care-flow-passw0rd';
function cli(args) {
  const store = STORE === 'pg' ? ['--pg', srv.db] : ['--db', srv.db];
  return spawnSync(BIN, [...args, ...store, '--argon2-m-kib', '8192', '--argon2-t', '1'],
    { encoding: 'utf8', env: { ...process.env, VIGIL_PASSWORD: PASSWORD } });
}
async function userToken(name, role, extra = []) {
  const r = cli(['user', 'add', name, '--role', role, ...extra]);
  assert.equal(r.status, 0, r.stderr);
  const l = await req(`${srv.url}/api/v1/auth/login`, 'POST', { username: name, password: PASSWORD }, { authorization: null });
  assert.equal(l.status, 200, l.text);
  return { id: l.body.user.id, h: { authorization: `Bearer ${l.body.token}` } };
}

test('visibility: nurse sees only own-task patients; clinician sees patients referred in', async () => {
  const post2 = async (path, body) => {
    const r = await req(`${srv.url}${path}`, 'POST', body);
    assert.ok(r.status === 200 || r.status === 201, `${path}: ${r.text}`);
    return r.body;
  };
  const chc = await post2('/api/v1/organizations', { name: 'Vis CHC', level: 'community_health_centre' });
  const hosp = await post2('/api/v1/organizations', { name: 'Vis Hospital', level: 'county_hospital' });
  const nurse = await userToken('vis.nurse', 'nurse', ['--org', String(chc.id)]);
  const clin = await userToken('vis.clin', 'clinician', ['--org', String(hosp.id)]);
  const team = await post2('/api/v1/teams', { name: 'Vis team', org: chc.id, members: [{ user: nurse.id, role: 'nurse', lead: true }] });
  const mine = await createPatient(srv.url, { name: 'Vis Mine' });
  const other = await createPatient(srv.url, { name: 'Vis Other' });
  await post2('/api/v1/contracts', { team: team.id, patient: mine, signed_date: '2026-01-01', term_months: 12 });
  const t = Date.now() - 60000;
  await post([mine, other].flatMap((p) => [
    { patient: p, code: 'sbp', t, value: 186, source: 'vis' }, { patient: p, code: 'dbp', t, value: 100, source: 'vis' }]));
  // The assessment makes a task for each; the team's only member (the
  // nurse) gets the one of the contracted patient.
  await until(async () => {
    const all = (await req(`${srv.url}/api/v1/tasks`)).body.tasks;
    return all.some((x) => x.patient === mine) && all.some((x) => x.patient === other);
  });
  const g = (path, h) => req(`${srv.url}${path}`, 'GET', undefined, h);
  assert.equal((await g(`/api/v1/patients/${mine}`, nurse.h)).status, 200);
  assert.equal((await g(`/api/v1/patients/${mine}/assessment`, nurse.h)).status, 200);
  assert.equal((await g(`/api/v1/patients/${other}`, nurse.h)).status, 404);
  assert.equal((await g(`/api/v1/patients/${other}/assessment`, nurse.h)).status, 404);
  const myTasks = (await g('/api/v1/tasks?assignee=me', nurse.h)).body.tasks;
  assert.deepEqual([...new Set(myTasks.map((x) => x.patient))], [mine]);
  const seenTasks = (await g('/api/v1/tasks', nurse.h)).body.tasks;
  assert.ok(seenTasks.length >= 1 && seenTasks.every((x) => x.patient === mine), 'task list has only visible patients');
  const seenAlerts = (await g('/api/v1/alerts', nurse.h)).body.alerts;
  assert.ok(seenAlerts.some((x) => x.patient === mine));
  assert.ok(seenAlerts.every((x) => x.patient === mine), 'alert list has only visible patients');
  // Another patient's alert: 404 for the nurse, and nothing changes.
  const otherAlert = (await req(`${srv.url}/api/v1/alerts?patient=${other}`)).body.alerts[0];
  assert.equal((await req(`${srv.url}/api/v1/alerts/${otherAlert.id}/ack`, 'POST', undefined, nurse.h)).status, 404);
  assert.equal((await req(`${srv.url}/api/v1/alerts?patient=${other}`)).body.alerts[0].state, otherAlert.state);
  console.log(`nurse: ${myTasks.length} own task(s), ${seenTasks.length} visible, ${seenAlerts.length} alert(s)`);

  // The clinician at the hospital sees nobody until a referral to it.
  assert.equal((await g(`/api/v1/patients/${other}`, clin.h)).status, 404);
  const ref = await post2('/api/v1/referrals', { patient: other, direction: 'up', urgency: 'urgent', reason: 'uncontrolled', to_org: hosp.id, from_org: chc.id });
  assert.equal((await g(`/api/v1/patients/${other}`, clin.h)).status, 200);
  assert.equal((await g(`/api/v1/patients/${other}/assessment`, clin.h)).status, 200);
  assert.equal((await g(`/api/v1/patients/${mine}`, clin.h)).status, 404);
  const refs = (await g('/api/v1/referrals', clin.h)).body.referrals;
  assert.ok(refs.some((x) => x.id === ref.id));
  assert.ok(refs.every((x) => x.patient === other), 'referral list has only visible patients');
  // Their patient list is their visible set: the patient referred in.
  const list = await g('/api/v1/patients?limit=1000', clin.h);
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.body.patients.map((x) => x.id), [other]);
  console.log(`clinician: ${refs.length} referral(s) visible, all of patient ${other}`);
});

test('periodic tasks: contract renewal within 30 days and the yearly check', async () => {
  const post2 = async (path, body) => {
    const r = await req(`${srv.url}${path}`, 'POST', body);
    assert.ok(r.status === 200 || r.status === 201, `${path}: ${r.text}`);
    return r.body;
  };
  const org = await post2('/api/v1/organizations', { name: 'Gen CHC', level: 'community_health_centre' });
  const team = await post2('/api/v1/teams', { name: 'Gen team', org: org.id, members: [] });
  const ending = await createPatient(srv.url, { name: 'Gen Ending' });
  const later = await createPatient(srv.url, { name: 'Gen Later' });
  // Signed 11.5 months ago for 12 months: ends in about two weeks.
  const d = new Date(Date.now() - 350 * 86400e3).toISOString().slice(0, 10);
  const c1 = await post2('/api/v1/contracts', { team: team.id, patient: ending, signed_date: d, term_months: 12 });
  await post2('/api/v1/contracts', { team: team.id, patient: later, signed_date: new Date().toISOString().slice(0, 10), term_months: 12 });
  await post2(`/api/v1/patients/${later}/conditions`, { code: 'hypertension', enrolled_date: new Date().toISOString().slice(0, 10) });
  const tasks = await until(async () => {
    const all = (await req(`${srv.url}/api/v1/tasks`)).body.tasks;
    const r = all.find((x) => x.patient === ending && x.kind === 'contract_renewal');
    const y = all.find((x) => x.patient === later && x.kind === 'yearly_check');
    return r && y && { r, y, all };
  }, 15000);
  assert.equal(new Date(tasks.r.due_ms).toISOString().slice(0, 10), c1.end_date);
  assert.ok(!tasks.all.some((x) => x.patient === later && x.kind === 'contract_renewal'), 'a new contract is not due');
  assert.ok(Math.abs(tasks.y.due_ms - Date.now()) < 60e3, 'never visited: the yearly check is due now');
  console.log(`renewal due ${c1.end_date}; yearly check due ${new Date(tasks.y.due_ms).toISOString()}`);
});
