// nginx.test.mjs - deploy/nginx/vigil.conf in front of two vigil nodes on
// one PostgreSQL database (run by tests/pg/pg_harness.sh): health, ingest
// balanced across both nodes and stored once, the events long poll, gzip
// bodies, 413s, and a node killed with SIGKILL while ingest goes on.
// nginx runs as a child with a config generated from vigil.conf (upstream
// servers and listen address substituted) under a temp prefix: never /etc,
// never port 80. Exits 77 (SKIPPED) when nginx is not installed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, copyFileSync, readFileSync, writeFileSync, existsSync,
  mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import net from 'node:net';
import { startServer, req, rawRequest, STORE } from '../api/lib.mjs';

if (STORE !== 'pg') {
  console.log('SKIPPED: needs VIGIL_TEST_PG_URL (run through pg_harness.sh)');
  process.exit(77);
}
const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']
  .find((p) => existsSync(p)) ||
  (() => { try { return execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim(); } catch { return ''; } })();
if (!NGINX) {
  console.log('SKIPPED: nginx not installed (`make deps` installs nginx-light)');
  process.exit(77);
}

const HERE = dirname(fileURLToPath(import.meta.url));
// VIGIL_NGINX_CONF runs the test on another variant of the file.
const CONF = process.env.VIGIL_NGINX_CONF ||
  join(HERE, '..', '..', 'deploy', 'nginx', 'vigil.conf');
// The nodes' --body-max; nginx's client_max_body_size is set to it, as the
// config asks. (With nginx's limit above the node's, a node that answers
// 413 from the Content-Length and closes while nginx still streams the
// body makes nginx answer 502: writev() EPIPE, seen here.)
const BODY_MAX = 1000000;

// Children still running when a test fails are killed so a failure ends
// the run. nginx gets SIGTERM first: its master stops the workers, which
// a SIGKILL of the master would leave running.
const started = [], nginxes = [];
const exited = (p) => new Promise((res) => (p.exitCode !== null || p.signalCode !== null
  ? res() : p.on('exit', res)));
after(async () => {
  for (const p of nginxes) p.kill('SIGTERM');
  await Promise.race([Promise.all(nginxes.map(exited)), sleep(3000)]);
  for (const p of [...nginxes, ...started]) p.kill('SIGKILL');
});

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
  });
}

// The shipped config with the upstream server lines replaced by the nodes
// (same parameters) and `listen 80` by 127.0.0.1:port. Throws when the file
// no longer has the lines this relies on.
function nginxConf(prefix, nodes, port) {
  const src = readFileSync(CONF, 'utf8');
  const srv = /^(\s*)server\s+\d+\.\d+\.\d+\.\d+:\d+(\s[^;]*)?;\s*$/gm;
  const active = [...src.matchAll(srv)];
  assert.ok(active.length >= 1, 'vigil.conf has upstream server lines');
  const params = active[0][2] || '';
  let n = 0;
  let body = src.replace(srv, (line, ind) => (n++ ? '' :
    nodes.map((x) => `${ind}server 127.0.0.1:${x.port}${params};`).join('\n')));
  const listens = body.match(/^\s*listen\s+80;/gm) || [];
  assert.equal(listens.length, 1, 'vigil.conf has one `listen 80;`');
  body = body.replace(/^(\s*)listen\s+80;/m, `$1listen 127.0.0.1:${port};`);
  assert.equal((body.match(/^\s*client_max_body_size\s+32m;/gm) || []).length, 1,
    'vigil.conf has one `client_max_body_size 32m;`');
  body = body.replace(/^(\s*)client_max_body_size\s+32m;/m, `$1client_max_body_size ${BODY_MAX};`);
  const root = process.getuid && process.getuid() === 0;
  const t = (d) => { mkdirSync(join(prefix, d), { recursive: true }); return join(prefix, d); };
  return [
    // As root, workers would switch to `nobody`, which cannot write the
    // temp prefix; as another user `user` is ignored.
    root ? 'user root;' : '',
    'worker_processes 1;',
    'events { worker_connections 512; }',
    'http {',
    "  log_format up '$request_method $uri $status \"$upstream_addr\" \"$upstream_status\"';",
    `  access_log ${join(prefix, 'access.log')} up;`,
    `  client_body_temp_path ${t('client_body')};`,
    `  proxy_temp_path ${t('proxy')};`,
    `  fastcgi_temp_path ${t('fastcgi')};`,
    `  uwsgi_temp_path ${t('uwsgi')};`,
    `  scgi_temp_path ${t('scgi')};`,
    body,
    '}', ''].join('\n');
}

async function startNginx(nodes) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const prefix = mkdtempSync(join(tmpdir(), 'vigil-nginx-'));
    const port = await freePort();
    const conf = join(prefix, 'nginx.conf');
    writeFileSync(conf, nginxConf(prefix, nodes, port));
    const args = ['-p', prefix + '/', '-e', join(prefix, 'error.log'), '-c', conf,
      '-g', `daemon off; pid ${join(prefix, 'nginx.pid')};`];
    execFileSync(NGINX, [...args, '-t', '-q'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const proc = spawn(NGINX, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    nginxes.push(proc);
    let log = '';
    proc.stderr.on('data', (d) => { log += d; });
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100 && proc.exitCode === null; i++) {
      try { if ((await fetch(`${url}/healthz`)).status === 200) return { url, port, prefix, proc, log: () => log }; } catch { /* not up */ }
      await sleep(50);
    }
    proc.kill('SIGTERM');
    await exited(proc);
    console.log(`nginx attempt ${attempt} on ${port} failed: ${log}` +
      (existsSync(join(prefix, 'error.log')) ? readFileSync(join(prefix, 'error.log'), 'utf8') : ''));
  }
  throw new Error('nginx did not start');
}

async function metric(node, name) {
  const r = await req(`${node.url}/metrics`);
  assert.equal(r.status, 200, r.text);
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(r.text);
  return m ? Number(m[1]) : 0;
}

test('nginx (deploy/nginx/vigil.conf) in front of two nodes', async () => {
  const nodeArgs = ['--body-max', String(BODY_MAX)];
  const a = await startServer({ args: nodeArgs });
  started.push(a.proc);
  const dirB = mkdtempSync(join(tmpdir(), 'vigil-api-'));
  copyFileSync(join(a.dir, 'pg_url'), join(dirB, 'pg_url'));
  const b = await startServer({ dir: dirB, args: nodeArgs });
  started.push(b.proc);
  const ng = await startNginx([a, b]);
  const H = { authorization: `Bearer ${a.token}` };
  const via = (path, method, body, h = {}) => req(`${ng.url}${path}`, method, body, { ...H, ...h });
  const newPatient = async (name) => {
    const r = await via('/api/v1/patients', 'POST', { name });
    assert.equal(r.status, 201, r.text);
    return r.body.id;
  };
  const ver = spawnSync(NGINX, ['-v'], { encoding: 'utf8' }).stderr.trim();
  console.log(`${ver} on ${ng.url}, nodes ${a.url} ${b.url}`);

  // Health through the proxy.
  const hz = await via('/healthz');
  assert.equal(hz.status, 200, hz.text);
  assert.equal((await via('/readyz')).status, 200);

  // Events long poll through the proxy, while nothing happens yet: the
  // idle poll is held ~wait s and ends 200 (no proxy timeout).
  let t = Date.now();
  const idle = await via('/api/v1/events?wait=3');
  const idleMs = Date.now() - t;
  assert.equal(idle.status, 200, idle.text);
  assert.match(idle.headers.get('content-type') || '', /text\/event-stream/);
  assert.ok(idleMs >= 2800 && idleMs < 8000, `idle poll held ${idleMs} ms: ${idle.text.slice(0, 300)}`);
  const evConf = readFileSync(CONF, 'utf8').match(/location \/api\/v1\/events \{[^}]*\}/);
  assert.ok(evConf && /proxy_buffering off;/.test(evConf[0]), 'events unbuffered');
  const rt = /proxy_read_timeout (\d+)(s|m|h)?;/.exec(evConf[0]);
  const rtS = rt ? Number(rt[1]) * ({ s: 1, m: 60, h: 3600 }[rt[2] || 's']) : 60;
  assert.ok(rtS > 25, `events read timeout ${rtS} s above the 25 s longest wait`);
  // Ingest: batches through nginx alternate across the nodes (least_conn
  // with no requests in flight is round robin); each is stored once.
  const pid = await newPatient('Nginx Patient');
  const T0 = Date.now() - 2 * 86400000;
  const batches = 20, per = 50;
  const before = [await metric(a, 'vigil_ingest_batches_total'), await metric(b, 'vigil_ingest_batches_total')];
  let accepted = 0;
  const mk = (k, code = 'hr') => Array.from({ length: per }, (_, i) => ({
    patient: pid, code, t: T0 + (k * per + i) * 1000, value: 60 + (i % 40), source: 'ngx' }));
  for (let k = 0; k < batches; k++) {
    const r = await via('/api/v1/readings', 'POST', { readings: mk(k) });
    assert.equal(r.status, 200, r.text);
    accepted += r.body.accepted;
  }
  const served = [await metric(a, 'vigil_ingest_batches_total') - before[0],
    await metric(b, 'vigil_ingest_batches_total') - before[1]];
  console.log(`${batches} batches x ${per} through nginx: accepted ${accepted}; ingest batches per node A ${served[0]}, B ${served[1]}`);
  assert.equal(accepted, batches * per, 'every reading accepted once');
  assert.equal(served[0] + served[1], batches, 'each batch served by one node');
  assert.ok(served[0] >= batches / 4 && served[1] >= batches / 4, `both nodes served batches (${served})`);
  // Posting them all again is answered "duplicate", whichever node serves.
  let dup = 0;
  for (let k = 0; k < batches; k++) {
    const r = await via('/api/v1/readings', 'POST', { readings: mk(k) });
    assert.equal(r.status, 200, r.text);
    dup += r.body.duplicate;
  }
  assert.equal(dup, batches * per, 'the repeat is all duplicates');

  // gzip request body passes through unchanged.
  const gz = gzipSync(JSON.stringify({ readings: mk(100, 'sbp').map((x) => ({ ...x, value: 120 })) }));
  const g = await via('/api/v1/readings', 'POST', gz,
    { 'content-type': 'application/json', 'content-encoding': 'gzip' });
  assert.equal(g.status, 200, g.text);
  assert.equal(g.body.accepted, per);
  console.log(`gzip body ${gz.length} bytes through nginx: accepted ${g.body.accepted}`);

  // 413: a body over the limit is refused by nginx itself from its
  // Content-Length, before any upload (fetch would stream it; a raw
  // request sends the headers only). A gzip body whose inflated size is
  // over the node's --body-max is the node's 413, passed through as JSON.
  const over = await rawRequest(ng.port, 'POST /api/v1/readings HTTP/1.1\r\nHost: x\r\n' +
    `Authorization: Bearer ${a.token}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${BODY_MAX + 1}\r\nConnection: close\r\n\r\n`, []);
  assert.equal(over.status, 413, over.text.slice(0, 200));
  assert.match(over.text, /<center>nginx/, 'refused by nginx itself');
  const bomb = gzipSync(Buffer.alloc(5 * BODY_MAX, 32));
  const z = await via('/api/v1/readings', 'POST', bomb,
    { 'content-type': 'application/json', 'content-encoding': 'gzip' });
  assert.equal(z.status, 413, `${z.status} ${z.text.slice(0, 200)}`);
  assert.equal(z.body && z.body.error && z.body.error.code, 'too_large', z.text.slice(0, 200));
  // Just under the limit still goes through (nginx counts the same bytes).
  const fill = JSON.stringify({ readings: mk(0) });
  const near = fill.slice(0, -1) + ',"pad":"' + 'x'.repeat(BODY_MAX - fill.length - 10) + '"}';
  assert.ok(near.length <= BODY_MAX && near.length > BODY_MAX - 20);
  const n = await via('/api/v1/readings', 'POST', near, { 'content-type': 'application/json' });
  assert.equal(n.status, 200, `${near.length}-byte body: ${n.status} ${n.text.slice(0, 200)}`);
  console.log(`413: Content-Length ${BODY_MAX + 1} by nginx; gzip ${bomb.length} -> ${5 * BODY_MAX} bytes by the node (${z.body.error.code}); ${near.length} bytes: 200`);

  // A poll is woken by an event raised through nginx on whichever node.
  t = Date.now();
  const poll = via('/api/v1/events?wait=20');
  await sleep(1000);
  const p2 = await newPatient('Nginx Crisis');
  const tc = Date.now() - 60000;
  const cr = await via('/api/v1/readings', 'POST', { readings: [
    { patient: p2, code: 'sbp', t: tc, value: 192, source: 'cuff' },
    { patient: p2, code: 'dbp', t: tc, value: 118, source: 'cuff' }] });
  assert.equal(cr.status, 200, cr.text);
  const ev = await poll;
  const evMs = Date.now() - t;
  assert.equal(ev.status, 200, ev.text);
  assert.match(ev.text, /^event: /m, `an event came through: ${ev.text.slice(0, 200)}`);
  assert.ok(evMs < 15000, `woken by the event after ${evMs} ms, not at the 20 s end`);
  console.log(`events: idle poll wait=3 held ${idleMs} ms; poll woken after ${evMs} ms by '${/^event: (.*)$/m.exec(ev.text)[1]}'`);

  // Kill node B mid-ingest: nginx routes to A and every POST succeeds.
  const killAt = 5, after2 = 30;
  const statuses = [];
  let acc2 = 0, dup2 = 0;
  for (let k = 0; k < after2; k++) {
    if (k === killAt) await b.kill9();
    const r = await via('/api/v1/readings', 'POST', { readings: mk(200 + k) });
    statuses.push(r.status);
    if (r.status === 200) { acc2 += r.body.accepted; dup2 += r.body.duplicate; }
  }
  const hz2 = await via('/healthz');
  const bad = statuses.filter((s) => s !== 200).length;
  console.log(`kill -9 of B after ${killAt} of ${after2} posts: ${after2 - bad} answered 200, ${bad} not (${statuses.join(',')}); accepted ${acc2}, duplicate ${dup2}`);
  assert.equal(bad, 0, 'every POST succeeded with one node dead');
  assert.equal(acc2 + dup2, after2 * per);
  assert.equal(hz2.status, 200);
  // Every reading is stored once (read on the surviving node directly).
  const rows = [];
  let cursor = null;
  do {
    const r = await req(`${a.url}/api/v1/patients/${pid}/readings?code=hr&limit=1000${cursor ? '&cursor=' + cursor : ''}`);
    assert.equal(r.status, 200, r.text);
    rows.push(...r.body.readings);
    cursor = r.body.next_cursor;
  } while (cursor);
  const keys = new Set(rows.map((x) => `${x.t}|${x.source}`));
  assert.equal(rows.length, (batches + after2) * per, 'all readings stored');
  assert.equal(keys.size, rows.length, 'each once');
  // The access log shows the failover: after the kill, a request that
  // nginx first sent to B (refused) went on to A in the same request.
  const log = readFileSync(join(ng.prefix, 'access.log'), 'utf8').trim().split('\n');
  const byUp = {}, retried = [];
  for (const l of log) {
    const m = /^(\S+) (\S+) (\d+) "([^"]*)" "([^"]*)"$/.exec(l);
    assert.ok(m, `access log line: ${l}`);
    if (m[4].includes(',')) retried.push(`${m[1]} ${m[2]} ${m[3]} via ${m[4]} (${m[5]})`);
    else byUp[m[4]] = (byUp[m[4]] || 0) + 1;
  }
  console.log(`stored ${rows.length} hr readings, ${keys.size} distinct; access log: requests by upstream ${JSON.stringify(byUp)}, passed on to the next node: ${retried.length}`);
  for (const r of retried) console.log(`  ${r}`);
  assert.ok(retried.length >= 1 && retried.every((r) => r.endsWith(' 200)')),
    'a request refused by the dead node was passed to the live one');

  ng.proc.kill('SIGQUIT');               // graceful stop
  await exited(ng.proc);
  assert.equal((await a.stop()).code, 0);
});
