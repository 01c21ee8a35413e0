// lib.mjs - start the real vigil binary on an ephemeral port with a temp
// database, and small HTTP helpers for the black-box API tests.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import net from 'node:net';

export const BIN = process.env.VIGIL_BIN;
if (!BIN) throw new Error('VIGIL_BIN is not set (run through ctest)');

// The store the servers use: SQLite by default; PostgreSQL when
// VIGIL_TEST_PG_URL is set (tests/pg/pg_harness.sh sets it), with a fresh
// database per server directory.
export const PG_URL = process.env.VIGIL_TEST_PG_URL || '';
export const STORE = PG_URL ? 'pg' : 'sqlite';
let pgSeq = 0;

// A new empty database on the server of PG_URL; returns its URL.
export function freshPgDatabase() {
  const name = `vg_${process.pid}_${Date.now() % 1e8}_${++pgSeq}`;
  execFileSync('psql', ['-q', '-X', '-v', 'ON_ERROR_STOP=1', PG_URL, '-c',
    `CREATE DATABASE ${name}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  const u = new URL(PG_URL);
  u.pathname = '/' + name;
  return u.toString();
}

// Store arguments for a server in dir: the SQLite file in dir, or the
// database made for dir (reused when a test restarts a server on its dir).
function storeArgs(dir) {
  if (!PG_URL) { const db = join(dir, 'vigil.db'); return { db, args: ['--db', db] }; }
  const f = join(dir, 'pg_url');
  if (!existsSync(f)) writeFileSync(f, freshPgDatabase());
  const db = readFileSync(f, 'utf8').trim();
  return { db, args: ['--pg', db] };
}

// Start `vigil serve` on 127.0.0.1:0. Returns {url, port, dir, db, proc, stop, kill9, log}.
// db is the SQLite path, or the PostgreSQL URL when STORE is 'pg'.
export async function startServer({ dir, args = [], env = {} } = {}) {
  dir = dir || mkdtempSync(join(tmpdir(), 'vigil-api-'));
  const { db, args: storeArgv } = storeArgs(dir);
  const portFile = join(dir, 'port');
  const tokenFile = join(dir, 'admin_token');
  rmSync(portFile, { force: true });
  const proc = spawn(BIN, ['serve', ...storeArgv, '--port', '0', '--port-file', portFile,
    '--bind', '127.0.0.1', '--bootstrap-admin-token-file', tokenFile, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((res) => proc.on('exit', (code, sig) => res({ code, sig })));
  for (let i = 0; i < 600 && !existsSync(portFile); i++) {
    if (proc.exitCode !== null) break;
    await sleep(50);
  }
  if (!existsSync(portFile)) {
    proc.kill('SIGKILL');
    throw new Error('vigil did not start:\n' + log);
  }
  const port = Number(readFileSync(portFile, 'utf8').trim());
  const url = `http://127.0.0.1:${port}`;
  // Requests to this server carry the bootstrap admin token unless the
  // caller passes its own Authorization (or authorization: null for none).
  const token = readFileSync(tokenFile, 'utf8').trim();
  adminTokens.set(url, token);
  return {
    url, port, dir, db, proc, exited, token,
    log: () => log,
    async stop(signal = 'SIGTERM') { proc.kill(signal); return exited; },
    async kill9() { proc.kill('SIGKILL'); return exited; },
  };
}

// Admin token per server origin (set by startServer).
const adminTokens = new Map();
export function adminToken(url) { return adminTokens.get(new URL(url).origin); }

// fetch wrapper: returns {status, headers, body (parsed JSON when possible), text}.
// Sends the server's admin token unless headers has an authorization key
// (null or '' = send no credentials).
export async function req(url, method = 'GET', body, headers = {}) {
  const init = { method, headers: {} };
  const auth = Object.keys(headers).find((k) => k.toLowerCase() === 'authorization');
  if (auth === undefined && adminToken(url)) init.headers.authorization = `Bearer ${adminToken(url)}`;
  for (const [k, v] of Object.entries(headers)) if (v !== null && v !== '') init.headers[k] = v;
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof Uint8Array || Buffer.isBuffer(body)) init.body = body;
    else { init.body = JSON.stringify(body); init.headers['content-type'] ??= 'application/json'; }
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let json; try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, body: json, text };
}

// Raw HTTP request over one socket, for bodies fetch won't send (lying
// Content-Length, slow or truncated uploads). Resolves with {status, text}
// or {closed:true} if the server closed without answering.
export function rawRequest(port, head, chunks, { delayMs = 0, endEarly = false } = {}) {
  return new Promise((resolve) => {
    const sock = new net.Socket();
    let data = '';
    sock.connect(port, '127.0.0.1', async () => {
      const tok = adminTokens.get(`http://127.0.0.1:${port}`);
      if (tok && !/^authorization:/im.test(head))
        head = head.replace('\r\n', `\r\nAuthorization: Bearer ${tok}\r\n`);
      sock.write(head);
      for (const c of chunks) { if (delayMs) await sleep(delayMs); sock.write(c); }
      if (endEarly) sock.destroy();
    });
    sock.on('data', (d) => { data += d; });
    sock.on('close', () => {
      const m = /^HTTP\/1\.[01] (\d+)/.exec(data);
      resolve(m ? { status: Number(m[1]), text: data } : { closed: true, text: data });
    });
    sock.on('error', () => {});
  });
}

export async function createPatient(url, extra = {}) {
  const r = await req(`${url}/api/v1/patients`, 'POST', { name: 'Test Patient', ...extra });
  if (r.status !== 201) throw new Error('create patient: ' + r.status + ' ' + r.text);
  return r.body.id;
}

export function iso(ms, offset = '+08:00') {
  const sign = offset[0] === '-' ? -1 : 1;
  const [h, m] = offset.slice(1).split(':').map(Number);
  const local = new Date(ms + sign * (h * 60 + m) * 60000).toISOString().replace('Z', '');
  return local + offset;
}
