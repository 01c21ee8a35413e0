// multinode.test.mjs - two vigil nodes on one PostgreSQL database (run by
// tests/pg/pg_harness.sh): readings posted alternately to both are stored
// exactly once, and each node reads what the other wrote at once.
// Waiting for the features that do not exist yet: alert acknowledgement
// across nodes, job takeover after a node dies, SSE fan-out (LISTEN/NOTIFY).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, req, createPatient, STORE } from '../api/lib.mjs';

if (STORE !== 'pg') {
  console.log('SKIPPED: needs VIGIL_TEST_PG_URL (run through pg_harness.sh)');
  process.exit(77);
}

// Servers still running when a test fails are killed, so a failure ends
// the run instead of hanging it.
const started = [];
after(() => { for (const s of started) s.proc.kill('SIGKILL'); });

// Node B serves the database of node A's directory.
async function twoNodes() {
  const a = await startServer();
  started.push(a);
  const dirB = mkdtempSync(join(tmpdir(), 'vigil-api-'));
  copyFileSync(join(a.dir, 'pg_url'), join(dirB, 'pg_url'));
  const b = await startServer({ dir: dirB });
  started.push(b);
  assert.equal(a.db, b.db);
  return [a, b];
}

async function allReadings(url, pid, code) {
  const out = [];
  let cursor = null;
  do {
    const g = await req(`${url}/api/v1/patients/${pid}/readings?code=${code}&limit=1000${cursor ? '&cursor=' + cursor : ''}`);
    assert.equal(g.status, 200, g.text);
    out.push(...g.body.readings);
    cursor = g.body.next_cursor;
  } while (cursor);
  return out;
}

test('two nodes: alternate posts are stored once; each reads the other', async () => {
  const [a, b] = await twoNodes();
  const nodes = [a, b];
  // A patient made on A is visible on B with no delay.
  const pid = await createPatient(a.url, { identifier: 'mn-' + Date.now() });
  const g = await req(`${b.url}/api/v1/patients/${pid}`);
  assert.equal(g.status, 200, 'B reads the patient A created');

  const T0 = Date.now() - 3 * 86400000;
  const batches = 40, per = 50;
  // Overlapping batches committed at once on two nodes can exhaust the
  // store's deadlock retries: the answer is then 503 + Retry-After (nothing
  // stored), and a device retries. A 503 that had stored part of its batch
  // would show up below as accepted < total and duplicate > total.
  let retried = 0;
  const postRetrying = async (url, body) => {
    for (let attempt = 0; ; attempt++) {
      const r = await req(url, 'POST', body);
      if (r.status !== 503 || attempt >= 10) return r;
      assert.ok(r.headers.get('retry-after'), '503 carries Retry-After');
      retried++;
      await new Promise((res) => setTimeout(res, 200 + Math.random() * 300));
    }
  };
  let accepted = 0, duplicate = 0;
  const posts = [];
  for (let k = 0; k < batches; k++) {
    const readings = Array.from({ length: per }, (_, i) => ({
      patient: pid, code: 'hr', t: T0 + (k * per + i) * 1000, value: 60 + (i % 40), source: 'mn' }));
    // Each batch goes to both nodes at once, in alternating order: the
    // store must keep one copy and tell one caller "duplicate".
    const first = nodes[k % 2], second = nodes[(k + 1) % 2];
    posts.push(Promise.all([
      postRetrying(`${first.url}/api/v1/readings`, { readings }),
      postRetrying(`${second.url}/api/v1/readings`, { readings }),
    ]));
  }
  for (const pair of await Promise.all(posts)) {
    for (const r of pair) {
      assert.equal(r.status, 200, r.text);
      accepted += r.body.accepted;
      duplicate += r.body.duplicate;
    }
  }
  console.log(`two nodes: ${batches} overlapping batch pairs, ${retried} retried after 503`);
  assert.equal(accepted, batches * per, 'every reading accepted exactly once');
  assert.equal(duplicate, batches * per, 'and reported duplicate by the other node');

  for (const n of nodes) {
    const rows = await allReadings(n.url, pid, 'hr');
    const keys = new Set(rows.map((x) => `${x.t}|${x.source}`));
    assert.equal(rows.length, batches * per, 'all there');
    assert.equal(keys.size, rows.length, 'once');
  }
  // A write on B is read on A straight after its 200.
  const one = await req(`${b.url}/api/v1/readings`, 'POST',
    { readings: [{ patient: pid, code: 'hr', t: T0 - 1000, value: 61, source: 'mn' }] });
  assert.equal(one.status, 200);
  const back = await req(`${a.url}/api/v1/patients/${pid}/readings?code=hr&limit=1`);
  assert.equal(back.body.readings[0].t, T0 - 1000);
  console.log(`2 nodes: ${batches} batches x ${per} posted to both: accepted ${accepted}, duplicate ${duplicate}`);
  assert.equal((await a.stop()).code, 0);
  assert.equal((await b.stop()).code, 0);
});
