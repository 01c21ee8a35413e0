// lib.mjs - start the real vigil binary on an ephemeral port with a temp
// database, and small HTTP helpers for the black-box API tests.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import net from 'node:net';

export const BIN = process.env.VIGIL_BIN;
if (!BIN) throw new Error('VIGIL_BIN is not set (run through ctest)');

// Start `vigil serve` on 127.0.0.1:0. Returns {url, port, dir, db, proc, stop, kill9, log}.
export async function startServer({ dir, args = [], env = {} } = {}) {
  dir = dir || mkdtempSync(join(tmpdir(), 'vigil-api-'));
  const db = join(dir, 'vigil.db');
  const portFile = join(dir, 'port');
  rmSync(portFile, { force: true });
  const proc = spawn(BIN, ['serve', '--db', db, '--port', '0', '--port-file', portFile,
    '--bind', '127.0.0.1', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
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
  return {
    url, port, dir, db, proc, exited,
    log: () => log,
    async stop(signal = 'SIGTERM') { proc.kill(signal); return exited; },
    async kill9() { proc.kill('SIGKILL'); return exited; },
  };
}

// fetch wrapper: returns {status, headers, body (parsed JSON when possible), text}.
export async function req(url, method = 'GET', body, headers = {}) {
  const init = { method, headers: { ...headers } };
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
