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
import { startServer, req, createPatient } from './lib.mjs';

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
