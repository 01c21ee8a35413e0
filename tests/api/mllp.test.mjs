// mllp.test.mjs - HL7 v2 over MLLP against the real binary: ADT creates a
// patient, PCD-01 ORU from a monitor stores readings (checked over HTTP),
// AE/AR with ERR, coalesced and split TCP frames, and node-hl7-client as
// an independent sender checking the ACKs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, req, createPatient } from './lib.mjs';

let srv, mllpPort;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-mllp-'));
  srv = await startServer({ dir, args: ['--mllp', '0', '--mllp-timeout', '5',
    '--mllp-port-file', join(dir, 'mllp_port')] });
});
after(async () => { if (srv) await srv.stop(); });

// lib.mjs starts the server; the MLLP port file lives in its directory.
async function port() {
  if (mllpPort) return mllpPort;
  mllpPort = Number(readFileSync(join(srv.dir, 'mllp_port'), 'utf8').trim());
  return mllpPort;
}

const SB = '\x0b', EB = '\x1c\r';
const frame = (m) => SB + m + EB;

// Send raw bytes (string or array of pieces, each written separately) and
// collect n ACK frames. Resolves with the ACK texts.
function exchange(pieces, n, { gapMs = 0 } = {}) {
  return new Promise(async (resolve, reject) => {
    const sock = net.connect(await port(), '127.0.0.1');
    let buf = '';
    const acks = [];
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`timeout, got ${acks.length}/${n}: ${buf}`)); }, 10000);
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      buf += d;
      let e;
      while ((e = buf.indexOf('\x1c\r')) >= 0) {
        acks.push(buf.slice(buf.indexOf(SB) + 1, e));
        buf = buf.slice(e + 2);
      }
      if (acks.length >= n) { clearTimeout(timer); sock.end(); resolve(acks); }
    });
    sock.on('error', reject);
    sock.on('connect', async () => {
      for (const p of [].concat(pieces)) { sock.write(p); if (gapMs) await sleep(gapMs); }
    });
  });
}

const seg = (ack, id) => ack.split('\r').filter((s) => s.startsWith(id + '|'));
const msa = (ack) => seg(ack, 'MSA')[0].split('|');

function oru(ctl, bed, obx) {
  return `MSH|^~\\&|MONITOR^ACDE48234567ABCD^EUI-64|ICU|VIGIL|HOSP|20250301083005+0800||ORU^R01^ORU_R01|${ctl}|P|2.6|||AL|NE||UNICODE UTF-8\r` +
    `PID|||${bed}^^^ICU&1.2.3&ISO^MR\r` +
    `OBR|1|${ctl}^MONITOR||182777000^monitoring of patient^SCT|||20250301083000+0800\r` + obx.join('\r') + '\r';
}

const PCD_OBX = [
  'OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.0.1.1|131|266016^MDC_DIM_MMHG^MDC|||||R|||20250301083000+0800||||NIBP-7^EUI-64',
  'OBX|2|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.0.1.2|84|266016^MDC_DIM_MMHG^MDC|||||R|||20250301083000+0800||||NIBP-7^EUI-64',
  'OBX|3|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.0.2.1|96|262688^MDC_DIM_PERCENT^MDC|||||R|||20250301083001+0800||||OXI-7^EUI-64',
  'OBX|4|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.0.2.2|77|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||20250301083001+0800||||OXI-7^EUI-64',
];

test('ADT^A01 creates the patient; PCD-01 ORU stores NIBP, SpO2 and HR', async () => {
  const adt = 'MSH|^~\\&|ADT|HOSP|VIGIL|HOSP|20250301||ADT^A01^ADT_A01|ADT1|P|2.5\r' +
    'EVN|A01|20250301\rPID|1||BED7^^^ICU^MR||Doe^Jane||19510304|F\r';
  const [a] = await exchange(frame(adt), 1);
  assert.deepEqual(msa(a).slice(1, 3), ['AA', 'ADT1'], a);
  const list = await req(`${srv.url}/api/v1/patients?limit=1000`);
  const p = list.body.patients.find((x) => x.identifier === 'ICU:BED7');
  assert.ok(p, 'patient ICU:BED7 created');
  assert.equal(p.name, 'Jane Doe');
  const [b] = await exchange(frame(oru('ORU1', 'BED7', PCD_OBX)), 1);
  assert.deepEqual(msa(b).slice(1, 3), ['AA', 'ORU1'], b);
  assert.equal(seg(b, 'ERR').length, 0);
  const want = { sbp: 131, dbp: 84, spo2: 96, hr: 77 };
  for (const [code, value] of Object.entries(want)) {
    const g = await req(`${srv.url}/api/v1/patients/${p.id}/readings?code=${code}`);
    assert.equal(g.status, 200, g.text);
    assert.equal(g.body.readings.length, 1, code);
    assert.equal(g.body.readings[0].value, value, code);
    assert.equal(g.body.readings[0].source, code === 'sbp' || code === 'dbp' ? 'NIBP-7' : 'OXI-7');
  }
  // a resend is harmless: same ACK, no new rows
  const [c] = await exchange(frame(oru('ORU1', 'BED7', PCD_OBX)), 1);
  assert.equal(msa(c)[1], 'AA');
  const g = await req(`${srv.url}/api/v1/patients/${p.id}/readings`);
  assert.equal(g.body.readings.length, 4);
});

test('ADT^A08 updates an existing patient (checked over HTTP)', async () => {
  const a01 = 'MSH|^~\\&|ADT|HOSP|VIGIL|HOSP|20250301||ADT^A01^ADT_A01|U1|P|2.5\r' +
    'PID|1||BED11^^^ICU^MR||Roe^Rick||19450101|M\r';
  const [a] = await exchange(frame(a01), 1);
  assert.deepEqual(msa(a).slice(1, 3), ['AA', 'U1'], a);
  const list = await req(`${srv.url}/api/v1/patients?limit=1000`);
  const p = list.body.patients.find((x) => x.identifier === 'ICU:BED11');
  assert.ok(p, 'patient ICU:BED11 created');
  assert.deepEqual([p.name, p.sex, p.birth_date], ['Rick Roe', 'male', '1945-01-01']);
  const a08 = 'MSH|^~\\&|ADT|HOSP|VIGIL|HOSP|20250302||ADT^A08^ADT_A01|U2|P|2.5\r' +
    'EVN|A08|20250302\rPID|1||BED11^^^ICU^MR||Roe^Erica^^^^^L||19450102|F\r';
  const [b] = await exchange(frame(a08), 1);
  assert.deepEqual(msa(b).slice(1, 3), ['AA', 'U2'], b);
  assert.equal(seg(b, 'ERR').length, 0, b);
  const g = await req(`${srv.url}/api/v1/patients/${p.id}`);
  assert.equal(g.status, 200, g.text);
  const q = g.body.patient ?? g.body;
  assert.equal(q.id, p.id);
  assert.equal(q.identifier, 'ICU:BED11');
  assert.equal(q.name, 'Erica Roe');
  assert.equal(q.sex, 'female');
  assert.equal(q.birth_date, '1945-01-02');
  // same patient, no second row
  const again = await req(`${srv.url}/api/v1/patients?limit=1000`);
  assert.equal(again.body.patients.filter((x) => x.identifier === 'ICU:BED11').length, 1);
});

test('AE names the field; AR for unsupported messages', async () => {
  await createPatient(srv.url, { name: 'Bed 8', identifier: 'ICU:BED8' });
  const bad = oru('E1', 'BED8', [
    'OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC||131|furlong|||||R',
    'OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||140|%|||||R',
  ]);
  const [a] = await exchange(frame(bad), 1);
  assert.equal(msa(a)[1], 'AE', a);
  const errs = seg(a, 'ERR').map((e) => e.split('|')[2]);
  assert.deepEqual(errs.sort(), ['OBX^1^6', 'OBX^2^5']);
  const [u] = await exchange(frame(oru('E2', 'NOBODY', [PCD_OBX[0]])), 1);
  assert.equal(msa(u)[1], 'AE');
  assert.equal(seg(u, 'ERR')[0].split('|')[2], 'PID^1^3');
  const [r] = await exchange(frame('MSH|^~\\&|X|Y|Z|W|20250301||ORM^O01|R1|P|2.5\rPID|1\r'), 1);
  assert.deepEqual(msa(r).slice(1, 3), ['AR', 'R1']);
});

test('coalesced frames in one write and a frame split byte by byte', async () => {
  await createPatient(srv.url, { name: 'Bed 9', identifier: 'ICU:BED9' });
  const msgs = [0, 1, 2].map((i) => frame(oru(`C${i}`, 'BED9', [
    `OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC||${60 + i}|/min|||||R|||2025030108300${i}+0800`])));
  const acks = await exchange(msgs.join(''), 3);
  assert.deepEqual(acks.map((a) => msa(a).slice(1, 3).join(' ')), ['AA C0', 'AA C1', 'AA C2']);
  const one = frame(oru('S1', 'BED9', ['OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC||90|/min|||||R|||20250301083009+0800']));
  const [s] = await exchange([...one], 1, { gapMs: 1 });
  assert.deepEqual(msa(s).slice(1, 3), ['AA', 'S1']);
});

test('node-hl7-client as an independent sender gets AA and AE', { timeout: 20000 }, async () => {
  const { Client, Message } = await import('node-hl7-client');
  await createPatient(srv.url, { name: 'Bed 10', identifier: 'ICU:BED10' });
  const client = new Client({ host: '127.0.0.1', version: '2.6' });
  const got = [];
  const conn = client.createConnection({ port: await port(), waitAck: true }, async (res) => {
    const m = res.getMessage();
    got.push([m.get('MSA.1').toString(), m.get('MSA.2').toString()]);
  });
  // send one message at a time, each after the previous ACK
  const waitAcks = async (n) => { for (let i = 0; i < 100 && got.length < n; i++) await sleep(50); };
  try {
    await sleep(200);
    await conn.sendMessage(new Message({ text: oru('N1', 'BED10', [
      'OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||98|262688^MDC_DIM_PERCENT^MDC|||||R|||20250301083000+0800'])}));
    await waitAcks(1);
    await conn.sendMessage(new Message({ text: oru('N2', 'BED10', [
      'OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||9.8|262688^MDC_DIM_PERCENT^MDC|||||R|||20250301083001+0800'])}));
    await waitAcks(2);
  } finally {
    await Promise.race([conn.close(), sleep(2000)]);
    client.closeAll(); // its reconnect timers would keep the test alive
  }
  assert.deepEqual(got, [['AA', 'N1'], ['AE', 'N2']]);
});
