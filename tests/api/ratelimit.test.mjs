// ratelimit.test.mjs - per-address and per-token rate limits: the burst is
// served, then 429 with Retry-After and the rate_limited error; health
// probes stay exempt; service resumes after Retry-After; the token limit
// is per token (requests without it are not counted against it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, req } from './lib.mjs';

// Send n requests one after another; returns the statuses, the first 429
// and the elapsed seconds.
async function burst(url, n, headers = {}) {
  const t0 = Date.now();
  const statuses = [];
  let limited;
  for (let i = 0; i < n; i++) {
    const r = await req(url, 'GET', undefined, headers);
    statuses.push(r.status);
    if (r.status === 429 && !limited) limited = r;
  }
  return { statuses, limited, secs: (Date.now() - t0) / 1000 };
}

test('per-address limit: burst, 429 + Retry-After, probes exempt, resumes', async () => {
  // Tests connect from 127.0.0.1, normally exempt (a local reverse proxy).
  const srv = await startServer({ args: ['--rate-exempt-loopback=0',
    '--rate-addr', '1', '--rate-addr-burst', '10'] });
  try {
    const { statuses, limited, secs } = await burst(`${srv.url}/api/v1/codes`, 30,
      { authorization: null });
    const ok = statuses.filter((s) => s === 200).length;
    const over = statuses.filter((s) => s === 429).length;
    console.log(`address limit 1/s burst 10: 30 requests in ${secs.toFixed(2)} s -> ${ok} x 200, ${over} x 429`);
    assert.equal(ok + over, 30, 'only 200 or 429: ' + statuses.join(','));
    // Burst of 10 plus at most one refill per elapsed second.
    assert.ok(ok >= 10 && ok <= 10 + Math.ceil(secs) + 1, `${ok} allowed`);
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(200));
    assert.ok(limited, 'no 429');
    assert.equal(limited.body.error.code, 'rate_limited');
    const ra = Number(limited.headers.get('retry-after'));
    assert.ok(Number.isInteger(ra) && ra >= 1 && ra <= 2, 'Retry-After ' + ra);
    // Authenticated requests from the same address are limited too.
    assert.equal((await req(`${srv.url}/api/v1/me`)).status, 429);
    // Probes are never limited.
    for (let i = 0; i < 20; i++) {
      assert.equal((await req(`${srv.url}/healthz`, 'GET', undefined, { authorization: null })).status, 200);
      assert.equal((await req(`${srv.url}/readyz`, 'GET', undefined, { authorization: null })).status, 200);
    }
    await sleep(ra * 1000 + 100);
    assert.equal((await req(`${srv.url}/api/v1/codes`, 'GET', undefined, { authorization: null })).status, 200);
  } finally { await srv.stop(); }
});

test('loopback is exempt by default', async () => {
  const srv = await startServer({ args: ['--rate-addr', '1', '--rate-addr-burst', '2'] });
  try {
    const { statuses } = await burst(`${srv.url}/api/v1/codes`, 10, { authorization: null });
    assert.deepEqual(statuses, Array(10).fill(200));
  } finally { await srv.stop(); }
});

test('per-token limit: the token is limited, other callers are not', async () => {
  const srv = await startServer({ args: ['--rate-addr', '0',
    '--rate-token', '1', '--rate-token-burst', '5'] });
  try {
    const { statuses, limited, secs } = await burst(`${srv.url}/api/v1/me`, 15);
    const ok = statuses.filter((s) => s === 200).length;
    console.log(`token limit 1/s burst 5: 15 requests in ${secs.toFixed(2)} s -> ${ok} x 200`);
    assert.deepEqual(statuses.slice(0, 5), Array(5).fill(200));
    assert.ok(ok <= 5 + Math.ceil(secs) + 1, `${ok} allowed`);
    assert.ok(limited, 'no 429: ' + statuses.join(','));
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    // Without the token (public route) nothing is limited.
    const anon = await burst(`${srv.url}/api/v1/codes`, 10, { authorization: null });
    assert.deepEqual(anon.statuses, Array(10).fill(200));
    // A wrong token is refused as such (401), not counted as the real one.
    const bad = await req(`${srv.url}/api/v1/me`, 'GET', undefined,
      { authorization: 'Bearer ' + 'A'.repeat(43) });
    assert.equal(bad.status, 401);
  } finally { await srv.stop(); }
});
