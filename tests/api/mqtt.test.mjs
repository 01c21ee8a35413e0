// mqtt.test.mjs - the MQTT gateway against a real mosquitto broker on an
// ephemeral loopback port, with the npm `mqtt` client as the publisher:
// publish -> stored -> ack; malformed payload -> reject ack; a device
// publishing for another patient -> reject; kill -9 while messages flow,
// restart -> every QoS 1 message stored exactly once (devices republish
// until the application ack, ingest is idempotent).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import { startServer, req, createPatient } from './lib.mjs';

let broker, brokerUrl, srv, dir, pid, otherPid;

function freePort() {
  return new Promise((res) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
}

async function startBroker() {
  const bdir = mkdtempSync(join(tmpdir(), 'vigil-mosq-'));
  const port = await freePort();
  writeFileSync(join(bdir, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n`);
  const proc = spawn('mosquitto', ['-c', join(bdir, 'mosquitto.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((r) => { const s = net.connect(port, '127.0.0.1', () => { s.end(); r(true); }); s.on('error', () => r(false)); });
    if (ok) break;
    await sleep(50);
  }
  return { proc, url: `mqtt://127.0.0.1:${port}` };
}

const vigilArgs = () => ['--mqtt', brokerUrl, '--mqtt-client-id', 'vigil-test'];

before(async () => {
  ({ proc: broker, url: brokerUrl } = await startBroker());
  dir = mkdtempSync(join(tmpdir(), 'vigil-mqtt-'));
  srv = await startServer({ dir, args: vigilArgs() });
  pid = await createPatient(srv.url, { name: 'MQTT Patient' });
  otherPid = await createPatient(srv.url, { name: 'Other Patient' });
  for (const serial of ['CUFF-1', 'KILL-1']) {
    const d = await req(`${srv.url}/api/v1/devices`, 'POST', { serial, kind: 'bp_cuff', patient: pid });
    assert.equal(d.status, 201, d.text);
  }
  for (let i = 0; i < 100 && !/mqtt.connected/.test(srv.log()); i++) await sleep(50);
});
after(async () => { if (srv) await srv.stop(); if (broker) broker.kill('SIGTERM'); });

// A device client: publishes with a correlation id and resolves with the
// parsed ack for it.
async function device(serial) {
  const c = await mqtt.connectAsync(brokerUrl, { protocolVersion: 5, clientId: `dev-${serial}-${process.pid}` });
  const waiting = new Map();
  await c.subscribeAsync(`vigil/out/${serial}/ack`, { qos: 1 });
  c.on('message', (topic, payload, packet) => {
    const id = packet.properties?.correlationData?.toString();
    const w = waiting.get(id);
    if (w) { waiting.delete(id); w(JSON.parse(payload.toString())); }
  });
  let seq = 0;
  return {
    client: c,
    send(body, { timeoutMs = 5000 } = {}) {
      const id = `${serial}-${++seq}`;
      const p = new Promise((res) => { waiting.set(id, res); setTimeout(() => { if (waiting.delete(id)) res(null); }, timeoutMs); });
      c.publish(`vigil/in/${serial}/readings`, typeof body === 'string' ? body : JSON.stringify(body),
        { qos: 1, properties: { correlationData: Buffer.from(id) } });
      return p;
    },
    end: () => c.endAsync(),
  };
}

const T0 = Date.now() - 3600_000;

test('publish -> stored -> ack with the HTTP reply JSON', async () => {
  const d = await device('CUFF-1');
  const body = { readings: [
    { patient: pid, code: 'sbp', t: T0, value: 128 },
    { patient: pid, code: 'dbp', t: T0, value: 82 },
  ] };
  assert.deepEqual(await d.send(body), { accepted: 2, duplicate: 0, rejected: [] });
  assert.deepEqual(await d.send(body), { accepted: 0, duplicate: 2, rejected: [] });
  const g = await req(`${srv.url}/api/v1/patients/${pid}/readings?code=sbp`);
  assert.equal(g.body.readings.length, 1);
  assert.equal(g.body.readings[0].value, 128);
  assert.equal(g.body.readings[0].source, 'CUFF-1', 'source defaults to the device serial');
  await d.end();
});

test('malformed payload and unknown device get a reject ack, no crash', async () => {
  const d = await device('CUFF-1');
  const a = await d.send('{"readings":[{"patient":1,');
  assert.ok(a && a.error, JSON.stringify(a));
  assert.match(a.error.code, /malformed|truncated/);
  const u = await device('NOPE-9');
  const b = await u.send({ readings: [{ patient: pid, code: 'hr', t: T0, value: 70 }] });
  assert.equal(b.error.code, 'forbidden');
  assert.match(b.error.message, /unknown device/);
  const h = await req(`${srv.url}/api/v1/health`);
  assert.ok(h.status < 500, 'server still up');
  await d.end(); await u.end();
});

test('a device publishing for a patient it is not bound to is rejected', async () => {
  const d = await device('CUFF-1');
  const a = await d.send({ readings: [
    { patient: otherPid, code: 'hr', t: T0, value: 70 },
    { patient: pid, code: 'hr', t: T0, value: 71 },
  ] });
  assert.equal(a.accepted, 1);
  assert.equal(a.rejected.length, 1);
  assert.equal(a.rejected[0].index, 0);
  assert.match(a.rejected[0].reason, /not permitted/);
  const g = await req(`${srv.url}/api/v1/patients/${otherPid}/readings`);
  assert.equal(g.body.readings.length, 0);
  await d.end();
});

test('kill -9 while messages flow, restart: every message stored exactly once', { timeout: 90000 }, async () => {
  const N = 400;
  const d = await device('KILL-1');
  const acked = new Set();
  const pending = [];
  // one reading per message, distinct times
  const msg = (i) => ({ readings: [{ patient: pid, code: 'hr', t: T0 + i * 1000, value: 60 + (i % 40) }] });
  for (let i = 0; i < N; i++) {
    pending.push(d.send(msg(i), { timeoutMs: 3000 }).then((a) => { if (a && !a.error) acked.add(i); }));
    if (i === N / 2) await srv.kill9();
    if (i % 20 === 0) await sleep(5);
  }
  await Promise.all(pending);
  srv = await startServer({ dir, args: vigilArgs() });
  // the device republishes everything not acknowledged, until acked
  for (let round = 0; round < 10 && acked.size < N; round++) {
    const again = [];
    for (let i = 0; i < N; i++) if (!acked.has(i)) again.push(d.send(msg(i), { timeoutMs: 5000 }).then((a) => { if (a && !a.error) acked.add(i); }));
    await Promise.all(again);
  }
  assert.equal(acked.size, N);
  const g = await req(`${srv.url}/api/v1/patients/${pid}/readings?code=hr&limit=100000&from=${new Date(T0 - 1).toISOString()}`);
  const mine = g.body.readings.filter((r) => r.source === 'KILL-1');
  const times = new Set(mine.map((r) => r.time));
  console.log(`kill -9 run: ${N} messages, ${mine.length} rows, ${times.size} distinct`);
  assert.equal(mine.length, N, 'each message stored once');
  assert.equal(times.size, N);
  await d.end();
});
