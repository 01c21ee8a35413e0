// crash.test.mjs - every reading acknowledged with 2xx survives kill -9,
// nothing is duplicated, and SIGTERM drains in-flight requests (exit 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, req, createPatient } from './lib.mjs';

test('kill -9 mid-stream: acknowledged readings are all there, once', async () => {
  let srv = await startServer();
  const pid = await createPatient(srv.url);
  const acked = new Set();
  const T0 = Date.UTC(2025, 2, 1);
  let batch = 0, stop = false;
  const client = async (w) => {
    while (!stop) {
      const b = batch++;
      const readings = Array.from({ length: 200 }, (_, i) => ({ patient: pid, code: 'hr', t: T0 + (b * 200 + i) * 1000, value: 70, source: `w${w}` }));
      try {
        const r = await req(`${srv.url}/api/v1/readings`, 'POST', { readings });
        if (r.status === 200) for (const x of readings) acked.add(`${x.t}|${x.source}`);
      } catch { /* connection reset by the kill: not acknowledged */ }
    }
  };
  const workers = [0, 1, 2, 3].map(client);
  await new Promise((r) => setTimeout(r, 1500));
  const { sig } = await srv.kill9();
  stop = true;
  await Promise.all(workers);
  assert.equal(sig, 'SIGKILL');
  assert.ok(acked.size > 0, 'some batches were acknowledged before the kill');

  srv = await startServer({ dir: srv.dir });
  const stored = new Map();
  let cursor = null;
  do {
    const g = await req(`${srv.url}/api/v1/patients/${pid}/readings?code=hr&limit=100000${cursor ? '&cursor=' + cursor : ''}`);
    for (const x of g.body.readings) { const k = `${x.t}|${x.source}`; stored.set(k, (stored.get(k) || 0) + 1); }
    cursor = g.body.next_cursor;
  } while (cursor);
  const missing = [...acked].filter((k) => !stored.has(k));
  assert.equal(missing.length, 0, `${missing.length} acknowledged readings lost`);
  assert.ok([...stored.values()].every((n) => n === 1), 'no duplicates');
  console.log(`acknowledged ${acked.size}, stored after restart ${stored.size}`);
  const { code } = await srv.stop();
  assert.equal(code, 0);
});

test('SIGTERM lets an in-flight ingest finish, then exits 0', async () => {
  const srv = await startServer();
  const pid = await createPatient(srv.url);
  const readings = Array.from({ length: 50000 }, (_, i) => ({ patient: pid, code: 'steps', t: Date.UTC(2025, 0, 1) + i * 1000, value: i % 100 }));
  const inflight = req(`${srv.url}/api/v1/readings`, 'POST', { readings });
  await new Promise((r) => setTimeout(r, 30));
  srv.proc.kill('SIGTERM');
  const r = await inflight.catch((e) => ({ status: 0, error: e }));
  const { code } = await srv.exited;
  assert.equal(code, 0, 'exit 0 after drain');
  if (r.status === 200) {
    assert.equal(r.body.accepted, 50000);
    const again = await startServer({ dir: srv.dir });
    const g = await req(`${again.url}/api/v1/patients/${pid}/readings?code=steps&limit=100000`);
    assert.equal(g.body.readings.length, 50000, 'acknowledged batch is durable');
    await again.stop();
  }
});
