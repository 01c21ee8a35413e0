// analyze_cli.test.mjs - `vigil analyze` as a user runs it: JSON on stdout
// and exit 0; bad input exit 1 naming the line on stderr; usage exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = process.env.VIGIL_BIN;
if (!BIN) throw new Error('VIGIL_BIN is not set (run through ctest)');
const dir = mkdtempSync(join(tmpdir(), 'vigil-analyze-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const file = (name, text) => { const p = join(dir, name); writeFileSync(p, text); return p; };
const vigil = (args, input) => spawnSync(BIN, ['analyze', ...args], { input, encoding: 'utf8' });

let rr = 'rr_ms\n';
for (let i = 0; i < 600; i++) rr += `${800 + (i % 5) * 10}\n`;

test('af on a file: exit 0, one JSON object on stdout', () => {
  const r = vigil(['af', '--in', file('rr.csv', rr), '--per-beat']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.kind, 'af');
  assert.equal(j.per_beat.length, 600);
  assert.equal(r.stderr, '');
});

test('--in - reads stdin; --format json', () => {
  const r = vigil(['hrv', '--in', '-'], rr);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).n, 600);
  const j = vigil(['af', '--in', '-', '--format', 'json'], '{"rr_ms":[800,810,790]}');
  assert.equal(j.status, 0, j.stderr);
  assert.equal(JSON.parse(j.stdout).sufficient, false);
});

test('ecg with --fs; bp with --guideline and --tz-offset', () => {
  let s = '';
  for (let i = 0; i < 2500; i++) {
    const k = Math.round((i - 100) / 200), d = (i - (100 + 200 * k)) / 250;
    s += Math.exp(-d * d / 2e-4).toFixed(5) + '\n';
  }
  const e = vigil(['ecg', '--in', file('ecg.csv', s), '--fs', '250']);
  assert.equal(e.status, 0, e.stderr);
  assert.ok(JSON.parse(e.stdout).n_peaks >= 11);
  const b = vigil(['bp', '--in', '-', '--guideline', 'china', '--tz-offset', '480'],
    '0,150,95\n86400000,150,95\n');
  assert.equal(b.status, 0, b.stderr);
  const j = JSON.parse(b.stdout);
  assert.equal(j.guideline, 'china');
  assert.equal(j.utc_offset_min, 480);
});

test('bad input: exit 1, stderr names the file and line', () => {
  const p = file('bad.csv', 'time,value\n0,100\n300000,1O0\n');
  const r = vigil(['cgm', '--in', p]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /bad\.csv: line 3, column 2: '1O0' is not a number/);
  const m = vigil(['cgm', '--in', join(dir, 'missing.csv')]);
  assert.equal(m.status, 1);
});

test('usage errors: exit 2', () => {
  for (const args of [[], ['nope', '--in', '-'], ['af'], ['af', '--in'],
    ['af', '--in', '-', '--format', 'xml'], ['bp', '--in', '-', '--guideline', 'x'],
    ['ecg', '--in', '-', '--fs', 'abc'], ['af', '--in', '-', '--bogus', '1']]) {
    const r = vigil(args, '');
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.length > 0);
  }
  const u = vigil(['nope', '--in', '-'], '');
  assert.match(u.stderr, /unknown kind 'nope'/);
});

test('--help: exit 0, lists the kinds', () => {
  const r = vigil(['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /cgm, bp, hrv, af, ecg, spo2/);
});
