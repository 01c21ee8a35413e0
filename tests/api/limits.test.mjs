// limits.test.mjs - connection-level limits: slowloris-style clients that
// trickle header bytes (faster than the idle timeout) are cut at the header
// deadline while normal requests keep being answered promptly; oversized
// headers get 431; the per-address connection cap refuses the excess.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, req } from './lib.mjs';

// A client that sends a request line and then one header line every
// everyMs, never finishing. Resolves {closedAfterMs} when the server
// closes it (or null on its own timeout).
function slowClient(port, everyMs, giveUpMs) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let timer, n = 0, done = false;
    const finish = (v) => { if (done) return; done = true; clearInterval(timer); sock.destroy(); resolve(v); };
    sock.on('connect', () => {
      sock.write('GET /api/v1/codes HTTP/1.1\r\nHost: x\r\n');
      timer = setInterval(() => { if (!sock.destroyed) sock.write(`X-Slow-${n++}: a\r\n`); }, everyMs);
    });
    sock.on('data', () => {});
    sock.on('close', () => finish({ closedAfterMs: Date.now() - t0 }));
    sock.on('error', () => {});
    setTimeout(() => finish(null), giveUpMs);
  });
}

test('slow headers: others served promptly, slow clients cut at the deadline', async () => {
  const HEADER_S = 2;
  // Idle timeout 30 s: only the header deadline can cut the trickling clients.
  const srv = await startServer({ args: ['--header-timeout', String(HEADER_S),
    '--request-timeout', '30', '--conn-per-addr', '0'] });
  try {
    const N = 300;
    const slow = [];
    for (let i = 0; i < N; i++) slow.push(slowClient(srv.port, 400, 15000));
    await sleep(500);
    // While they are all open: normal requests are answered promptly.
    const lat = [];
    for (let i = 0; i < 10; i++) {
      const t0 = Date.now();
      const r = await req(`${srv.url}/api/v1/codes`, 'GET', undefined, { authorization: null });
      lat.push(Date.now() - t0);
      assert.equal(r.status, 200);
    }
    const res = await Promise.all(slow);
    const cut = res.filter((x) => x !== null).map((x) => x.closedAfterMs);
    cut.sort((a, b) => a - b);
    console.log(`${N} slow-header clients (a header line every 400 ms): normal request latency max ${Math.max(...lat)} ms; `
      + `${cut.length} cut, after ${cut[0]}..${cut[cut.length - 1]} ms (deadline ${HEADER_S * 1000} ms)`);
    assert.ok(Math.max(...lat) < 1000, 'normal request took ' + Math.max(...lat) + ' ms');
    assert.equal(cut.length, N, 'every slow client is cut');
    // Not before the deadline; within deadline + reaper period + slack.
    assert.ok(cut[0] >= HEADER_S * 1000 - 100, 'cut too early: ' + cut[0]);
    assert.ok(cut[cut.length - 1] <= HEADER_S * 1000 + 2500, 'cut too late: ' + cut[cut.length - 1]);
    // The server still serves after the storm.
    assert.equal((await req(`${srv.url}/healthz`, 'GET', undefined, { authorization: null })).status, 200);
  } finally { await srv.stop(); }
});

test('keep-alive: a second request on a connection gets a fresh deadline', async () => {
  const srv = await startServer({ args: ['--header-timeout', '2', '--request-timeout', '30'] });
  try {
    const sock = net.connect(srv.port, '127.0.0.1');
    let data = '';
    sock.on('data', (d) => { data += d; });
    const closed = new Promise((res) => sock.on('close', res));
    await new Promise((res) => sock.on('connect', res));
    sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(1500);
    sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'); // 1.5 s after the first: within its deadline
    await sleep(300);
    assert.equal((data.match(/HTTP\/1\.1 200/g) || []).length, 2, data);
    // Then idle (no request): cut at the deadline, well before the idle timeout.
    const t0 = Date.now();
    await closed;
    const ms = Date.now() - t0;
    console.log(`idle kept-alive connection closed ${ms} ms after its last response`);
    assert.ok(ms < 4500, `${ms} ms`);
  } finally { await srv.stop(); }
});

test('oversized headers: 431 under --conn-mem-max', async () => {
  const srv = await startServer({ args: ['--conn-mem-max', '16384'] });
  try {
    const r = await new Promise((resolve) => {
      const sock = net.connect(srv.port, '127.0.0.1');
      let data = '';
      sock.on('connect', () => sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: '
        + 'a'.repeat(64 * 1024) + '\r\n\r\n'));
      sock.on('data', (d) => { data += d; });
      sock.on('close', () => resolve(data));
      sock.on('error', () => resolve(data));
    });
    const status = Number((/^HTTP\/1\.[01] (\d+)/.exec(r) || [])[1]);
    console.log(`64 KiB header with a 16 KiB connection buffer: status ${status}`);
    assert.equal(status, 431);
    const ok = await req(`${srv.url}/healthz`, 'GET', undefined, { authorization: null, 'x-small': 'a'.repeat(4000) });
    assert.equal(ok.status, 200);
  } finally { await srv.stop(); }
});

test('per-address connection cap refuses the excess, then recovers', async () => {
  // libmicrohttpd counts per-address connections per thread-pool thread,
  // so the cap is exact with one thread (with T threads it is up to T x).
  // libmicrohttpd counts per-address connections per thread-pool thread,
  // so the cap is exact with one thread (with T threads it is up to T x).
  const srv = await startServer({ args: ['--conn-per-addr', '20', '--header-timeout', '30', '--threads', '1'] });
  try {
    const socks = [];
    const closed = [];
    for (let i = 0; i < 30; i++) {
      const s = net.connect(srv.port, '127.0.0.1');
      s.on('error', () => {});
      closed.push(new Promise((res) => s.on('close', () => res(i))));
      socks.push(s);
    }
    const early = await Promise.race([Promise.all(closed.slice(20)), sleep(3000).then(() => null)]);
    console.log(`30 connections with a cap of 20: the last 10 ${early ? 'refused' : 'NOT refused'}`);
    assert.ok(early, 'excess connections were not refused');
    for (const s of socks) s.destroy();
    await sleep(300);
    assert.equal((await req(`${srv.url}/healthz`, 'GET', undefined, { authorization: null })).status, 200);
  } finally { await srv.stop(); }
});
