// fault.test.mjs - PostgreSQL restarts under ingest (run by pg_harness.sh):
// while it is down clients get 503 with Retry-After, never a false 2xx;
// once it is back ingest resumes on the same vigil process, and every
// reading acknowledged with 200 is stored, once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, req, createPatient, STORE } from '../api/lib.mjs';

if (STORE !== 'pg' || !process.env.VG_PG_STOP) {
  console.log('SKIPPED: needs pg_harness.sh (VIGIL_TEST_PG_URL, VG_PG_STOP)');
  process.exit(77);
}

test('restart PostgreSQL during ingest: 503 + Retry-After, then resume, nothing acknowledged lost', async () => {
  const srv = await startServer();
  after(() => srv.proc.kill('SIGKILL'));
  const pid = await createPatient(srv.url);
  const T0 = Date.now() - 86400000;
  const acked = new Set();
  const status = new Map();
  let batch = 0, stop = false, badRetry = 0;
  const client = async (w) => {
    while (!stop) {
      const b = batch++;
      const readings = Array.from({ length: 100 }, (_, i) => ({
        patient: pid, code: 'hr', t: T0 + (b * 100 + i) * 10, value: 70, source: `w${w}` }));
      let r;
      try { r = await req(`${srv.url}/api/v1/readings`, 'POST', { readings }); } catch { continue; }
      status.set(r.status, (status.get(r.status) || 0) + 1);
      if (r.status === 200) for (const x of readings) acked.add(`${x.t}|${x.source}`);
      else if (r.status === 503) { if (!r.headers.get('retry-after')) badRetry++; await sleep(50); }
    }
  };
  const workers = [0, 1, 2].map(client);
  await sleep(800);
  const before = acked.size;
  execSync(process.env.VG_PG_STOP, { stdio: 'ignore', shell: '/bin/bash' });
  await sleep(1500);
  const during = new Map(status);
  execSync(process.env.VG_PG_START, { stdio: 'ignore', shell: '/bin/bash' });
  // Ingest must resume by itself within a few seconds.
  const restartedAt = acked.size;
  let resumedMs = -1;
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    if (acked.size > restartedAt) { resumedMs = (i + 1) * 100; break; }
  }
  await sleep(500);
  stop = true;
  await Promise.all(workers);

  const codes = Object.fromEntries(status);
  console.log(`statuses ${JSON.stringify(codes)}; acked before stop ${before}, total ${acked.size}; resumed ${resumedMs} ms after start`);
  assert.ok(before > 0, 'ingest ran before the restart');
  assert.ok((during.get(503) || 0) > 0, 'clients saw 503 while PostgreSQL was down');
  assert.equal(badRetry, 0, 'every 503 carries Retry-After');
  for (const c of status.keys()) assert.ok(c === 200 || c === 503, `unexpected status ${c}`);
  assert.ok(resumedMs > 0, 'ingest resumed after PostgreSQL came back');

  const stored = new Map();
  let cursor = null;
  do {
    const g = await req(`${srv.url}/api/v1/patients/${pid}/readings?code=hr&limit=100000${cursor ? '&cursor=' + cursor : ''}`);
    assert.equal(g.status, 200, g.text);
    for (const x of g.body.readings) { const k = `${x.t}|${x.source}`; stored.set(k, (stored.get(k) || 0) + 1); }
    cursor = g.body.next_cursor;
  } while (cursor);
  const missing = [...acked].filter((k) => !stored.has(k));
  assert.equal(missing.length, 0, `${missing.length} acknowledged readings lost`);
  assert.ok([...stored.values()].every((n) => n === 1), 'no duplicates');
  assert.equal((await srv.stop()).code, 0);
});
