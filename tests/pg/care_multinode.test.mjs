// care_multinode.test.mjs - the care flow on two vigil nodes sharing one
// PostgreSQL database (run by tests/pg/pg_harness.sh): an alert
// acknowledged on node A reads acknowledged on node B; the periodic
// escalation job is leased with FOR UPDATE SKIP LOCKED (a lease held
// elsewhere is skipped, not waited for: the node keeps ingesting), and
// when node A is killed with SIGKILL node B takes the job over.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, req, createPatient, STORE } from '../api/lib.mjs';

if (STORE !== 'pg') {
  console.log('SKIPPED: needs VIGIL_TEST_PG_URL (run through pg_harness.sh)');
  process.exit(77);
}

const started = [];
after(() => { for (const s of started) s.proc.kill('SIGKILL'); });

async function until(fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await sleep(100);
  }
}

function psql(db, sql) {
  return execFileSync('psql', ['-q', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
    db, '-c', sql], { encoding: 'utf8' }).trim();
}

// Two nodes on one database, escalation after 1 s per level, ticks of
// 200 ms so the lease changes hands often.
async function twoNodes() {
  const dirA = mkdtempSync(join(tmpdir(), 'vigil-care-mn-'));
  const rules = join(dirA, 'rules.conf');
  writeFileSync(rules, 'esc_critical_s = 1\nesc_high_s = 1\ndebounce_ms = 50\n');
  const args = ['--care-rules', rules, '--care-tick-ms', '200'];
  const a = await startServer({ dir: dirA, args });
  started.push(a);
  const dirB = mkdtempSync(join(tmpdir(), 'vigil-care-mn-'));
  copyFileSync(join(a.dir, 'pg_url'), join(dirB, 'pg_url'));
  const b = await startServer({ dir: dirB, args });
  started.push(b);
  assert.equal(a.db, b.db);
  return [a, b];
}

async function crisis(url, pid, t) {
  const r = await req(`${url}/api/v1/readings`, 'POST', { readings: [
    { patient: pid, code: 'sbp', t, value: 192, source: 'cuff' },
    { patient: pid, code: 'dbp', t, value: 118, source: 'cuff' }] });
  assert.equal(r.status, 200, r.text);
}

async function alertOf(url, pid) {
  const r = await req(`${url}/api/v1/alerts?patient=${pid}`);
  assert.equal(r.status, 200, r.text);
  return r.body.alerts.find((x) => x.rule === 'bp_crisis');
}

test('care on two nodes: ack seen across nodes; escalation lease skips a held lock and moves to B when A is killed', async () => {
  const [a, b] = await twoNodes();
  const pidNode = (s) => `:${s.proc.pid}`;

  // 1. An alert raised through A, acknowledged on A, reads acknowledged
  //    on B straight after the 200.
  const p1 = await createPatient(a.url, { name: 'MN One' });
  await crisis(a.url, p1, Date.now() - 60000);
  const al = await until(() => alertOf(b.url, p1));
  const ack = await req(`${a.url}/api/v1/alerts/${al.id}/ack`, 'POST');
  assert.equal(ack.status, 200, ack.text);
  const seen = await alertOf(b.url, p1);
  assert.equal(seen.state, 'acknowledged');
  assert.ok(seen.ack_by, 'who acknowledged travels too');
  // B refuses a second ack with the allowed transitions.
  const twice = await req(`${b.url}/api/v1/alerts/${al.id}/ack`, 'POST');
  assert.equal(twice.status, 409);

  // 2. Both nodes run the job: the lease row names the last holder.
  const holders = new Set();
  for (let i = 0; i < 30; i++) {
    holders.add(psql(a.db, "SELECT node FROM care_job WHERE name = 'escalate'"));
    await sleep(100);
  }
  const known = [...holders].filter((h) => h.endsWith(pidNode(a)) || h.endsWith(pidNode(b)));
  assert.equal(known.length, holders.size, `holders are the two nodes: ${[...holders]}`);
  console.log(`escalate lease holders over 3 s: ${[...holders].join(', ')}`);

  // 3. SKIP LOCKED: while another session holds the job row, no node
  //    escalates and neither blocks (a node's writer would stall its
  //    ingest if it waited on the row lock).
  const p2 = await createPatient(a.url, { name: 'MN Two' });
  const lock = spawn('psql', ['-q', '-X', a.db, '-c',
    "BEGIN; SELECT name FROM care_job WHERE name = 'escalate' FOR UPDATE; SELECT pg_sleep(3); COMMIT;"],
    { stdio: 'ignore' });
  const lockDone = new Promise((res) => lock.on('exit', res));
  // Wait until the lock is really held (psql starts slowly on a busy box).
  await until(() => psql(a.db, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3)%' AND state = 'active' AND pid <> pg_backend_pid()") === '1');
  const t0 = Date.now();
  await crisis(b.url, p2, Date.now() - 30000);
  const a2 = await until(() => alertOf(a.url, p2));
  for (const s of [a, b]) {
    const t1 = Date.now();
    const r = await req(`${s.url}/api/v1/readings`, 'POST', { readings: [
      { patient: p2, code: 'hr', t: Date.now() - 1000, value: 70, source: 'x' }] });
    assert.equal(r.status, 200);
    assert.ok(Date.now() - t1 < 1000, 'ingest is not blocked by the held lease');
  }
  await sleep(Math.max(0, 2000 - (Date.now() - t0)));
  const held = await alertOf(a.url, p2);
  assert.equal(held.escalation_level, 0, 'no escalation while the lease is held');
  await lockDone;
  const esc = await until(async () => { const x = await alertOf(b.url, p2); return x.escalation_level === 2 && x; });
  assert.equal(esc.id, a2.id);

  // 4. Kill A: B takes the job over and escalates a new alert alone.
  assert.equal((await a.kill9()).sig, 'SIGKILL');
  const p3 = await createPatient(b.url, { name: 'MN Three' });
  await crisis(b.url, p3, Date.now() - 30000);
  const a3 = await until(() => alertOf(b.url, p3));
  assert.equal(a3.escalation_level, 0);
  const esc3 = await until(async () => { const x = await alertOf(b.url, p3); return x.escalation_level === 2 && x; });
  assert.equal(esc3.id, a3.id);
  const holder = psql(b.db, "SELECT node FROM care_job WHERE name = 'escalate'");
  assert.ok(holder.endsWith(pidNode(b)), `B holds the lease after A died: ${holder}`);
  console.log(`after kill -9 of A (${a.proc.pid}): lease ${holder}, alert ${a3.id} escalated to level 2`);
  assert.equal((await b.stop()).code, 0);
});
