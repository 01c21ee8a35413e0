// bench_web.mjs - time to a rendered patient page with a year of readings
// (5-minute CGM, home BP, HR, SpO2, weight, meter glucose, labs), to the
// patient list, and, on the full demo region (300 patients, tiers, alerts,
// tasks), to the family doctor's day (first meaningful paint: the
// follow-up list; target < 1 s) and to the population view, in Debian's
// chromium driven by playwright-core.
//   node bench/bench_web.mjs <vigil binary> [runs]
// Exits 77 when chromium or playwright-core is missing. `make bench` runs it
// through bench/run.sh.
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = process.argv[2] || process.env.VIGIL_BIN;
const RUNS = Number(process.argv[3] || 5);
if (!bin) { console.error('usage: node bench/bench_web.mjs <vigil> [runs]'); process.exit(2); }
process.env.VIGIL_BIN = resolve(bin);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.env.VIGIL_SOURCE_DIR ??= root;
const { requireBrowser, launch, newPage, DESKTOP, PHONE, WEB_ROOT } = await import(join(root, 'tests/browser/browser.mjs'));
const chromium = await requireBrowser();
const { startServer, req, createPatient } = await import(join(root, 'tests/api/lib.mjs'));

const DAY = 86400000, MIN5 = 300000;
const s = await startServer({ args: ['--demo', '--demo-patients', '20', '--web-root', WEB_ROOT] });
let region = null; // the default demo (300 patients) for the care views
let browser;
try {
  // One patient with a year of readings.
  const pid = await createPatient(s.url, { name: 'Bench Year', identifier: 'BENCH-1Y', sex: 'female', birth_date: '1958-06-01', tz: 'Asia/Shanghai' });
  const now = Date.now();
  const start = Math.floor((now - 365 * DAY) / MIN5) * MIN5;
  const n = Math.floor((now - start) / MIN5);
  const cgm = Array.from({ length: n }, (_, i) => {
    const h = ((start + i * MIN5) / 3600000 + 8) % 24;
    const v = 130 + 60 * Math.exp(-((h - 9) ** 2)) + 50 * Math.exp(-((h - 13.5) ** 2)) + 65 * Math.exp(-((h - 20) ** 2)) + 15 * Math.sin(i * 0.37);
    return Math.round(v);
  });
  let r = await req(`${s.url}/api/v1/readings`, 'POST', { patient: pid, code: 'cgm', start_t: start, interval_ms: MIN5, source: 'bench', values: cgm });
  if (r.status !== 200 || r.body.accepted !== n) throw new Error(`cgm series: ${r.status} ${r.text.slice(0, 200)}`);
  const rows = [];
  for (let d = 0; d < 365; d++) {
    const day = now - (365 - d) * DAY;
    for (const [k, off] of [[0, 7], [1, 20]]) {
      for (let j = 0; j < 2; j++) {
        const t = day + off * 3600000 + j * 60000;
        rows.push({ patient: pid, code: 'sbp', t, value: 138 + 10 * Math.sin(d / 9 + k + j) },
          { patient: pid, code: 'dbp', t, value: 84 + 6 * Math.sin(d / 9 + k + j) },
          { patient: pid, code: 'hr', t, value: 70 + 5 * Math.sin(d / 5 + j) });
      }
    }
    rows.push({ patient: pid, code: 'spo2', t: day + 21 * 3600000, value: 96 + (d % 3) },
      { patient: pid, code: 'glucose', t: day + 7 * 3600000, value: 120 + (d % 20) });
    if (d % 7 === 0) rows.push({ patient: pid, code: 'weight', t: day + 7.5 * 3600000, value: 70 + d / 100 });
    if (d % 90 === 0) rows.push({ patient: pid, code: 'hba1c', t: day + 9 * 3600000, value: 7.1 });
  }
  r = await req(`${s.url}/api/v1/readings`, 'POST', { readings: rows });
  if (r.status !== 200 || r.body.accepted !== rows.length) throw new Error(`batch: ${r.status} ${r.text.slice(0, 200)}`);
  const total = n + rows.length;

  // Sign in as demo.admin (org 0: every patient, so the bench patient too)
  // or, for the doctor's day, as demo.doctor.
  const auth = (await fetch(`${s.url}/api/v1/me`)).status !== 404;
  browser = await launch(chromium);
  const med = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const results = [];
  const measure = async (name, viewport, fn, { role = 'admin', srv = s } = {}) => {
    const times = [];
    let extra = '';
    for (let i = 0; i < RUNS; i++) {
      const page = await newPage(browser, { viewport });
      if (auth) {
        const r = await page.context().request.post(`${srv.url}/api/v1/auth/login`,
          { data: { username: `demo.${role}`, password: `Vigil-demo-${role}-1` } });
        if (r.status() !== 200) throw new Error(`login: ${r.status()}`);
      }
      const got = await fn(page);
      times.push(got.ms);
      extra = got.extra || '';
      if (page.errors.length) throw new Error(`${name}: console errors ${page.errors.join('; ')}`);
      await page.context().close();
    }
    results.push({ name, times, extra });
  };
  const lastMeasure = (page) => page.evaluate(() => {
    const m = performance.getEntriesByName('vigil:patient', 'measure');
    return m[m.length - 1].duration;
  });
  const points = (page) => page.$$eval('.plot[data-points]', (els) => els.reduce((a, e) => a + Number(e.dataset.points), 0));

  await measure('patient list, rows shown (from navigation)', DESKTOP, async (page) => {
    await page.goto(`${s.url}/#/patients`);
    await page.waitForSelector('#patients tbody tr');
    return { ms: await page.evaluate(() => performance.now()) };
  });
  for (const [vpName, vp] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    await measure(`patient page 90 d, ${vpName} (navigation -> all charts drawn)`, vp, async (page) => {
      await page.goto(`${s.url}/#/patients/${pid}`);
      await page.waitForSelector('.patient-view[data-state=ready]');
      const ready = await page.evaluate(() => performance.getEntriesByName('vigil:patient', 'measure')[0]);
      return { ms: ready.startTime + ready.duration, extra: `${await points(page)} points` };
    });
    await measure(`patient page 1 y, ${vpName} (switch -> all charts drawn)`, vp, async (page) => {
      await page.goto(`${s.url}/#/patients/${pid}`);
      await page.waitForSelector('.patient-view[data-state=ready]');
      await page.click('[data-range="1y"]');
      await page.waitForSelector('[data-range="1y"][aria-pressed="true"]');
      await page.waitForSelector('.patient-view[data-state=ready]');
      const ms = await lastMeasure(page);
      const cap = await page.textContent('#glucose .glucose-trend figcaption');
      const extra = `${await points(page)} points; ${cap}`;
      await page.click('[data-range="90d"]'); // the range is kept per tab
      await page.waitForSelector('[data-range="90d"][aria-pressed="true"]');
      await page.waitForSelector('.patient-view[data-state=ready]');
      return { ms, extra };
    });
  }
  // The care views on the full demo region (default --demo: 300 patients).
  const t0 = Date.now();
  region = await startServer({ args: ['--demo', '--web-root', WEB_ROOT] });
  const seedMs = Date.now() - t0;
  const endMark = (page, name) => page.evaluate((n) => {
    const m = performance.getEntriesByName(n, 'measure');
    return m.length ? m[m.length - 1].startTime + m[m.length - 1].duration : null;
  }, name);
  for (const [vpName, vp] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    await measure(`doctor's day, ${vpName}: first paint (navigation -> follow-ups)`, vp, async (page) => {
      await page.goto(`${region.url}/`);
      await page.waitForSelector('.day-view[data-state=ready]');
      const first = await endMark(page, 'vigil:day-first');
      const all = await endMark(page, 'vigil:day');
      const rows = await page.locator('#task-table tbody tr').count();
      const alerts = await page.locator('#alerts li[data-alert]').count();
      const hh = await page.locator('#household-table tbody tr').count();
      return { ms: first, extra: `all cards ${all.toFixed(0)} ms; ${rows} follow-ups, ${alerts} open alerts, ${hh} households` };
    }, { role: 'doctor', srv: region });
  }
  await measure('population, desktop (navigation -> report drawn)', DESKTOP, async (page) => {
    await page.goto(`${region.url}/#/population`);
    await page.waitForSelector('#pop-report[data-state=ready]');
    const ms = await endMark(page, 'vigil:pop') ?? await page.evaluate(() => performance.now());
    return { ms, extra: `${await page.locator('#pop-report tr[data-key]').count()} indicator rows` };
  }, { role: 'admin', srv: region });
  console.log(`bench_web: demo region (300 patients) seeded and serving in ${seedMs} ms`);
  const v = (await req(`${s.url}/healthz`)).status === 200 ? '' : ' (server unhealthy)';
  console.log(`bench_web: chromium ${browser.version()}, ${RUNS} runs each, patient ${pid} with ${total} readings over 365 days (${n} CGM at 5 min)${v}`);
  console.log('view'.padEnd(66), 'median_ms'.padStart(9), 'min_ms'.padStart(7), 'max_ms'.padStart(7), ' notes');
  for (const x of results) {
    console.log(x.name.padEnd(66), med(x.times).toFixed(0).padStart(9), Math.min(...x.times).toFixed(0).padStart(7),
      Math.max(...x.times).toFixed(0).padStart(7), ` ${x.extra}; runs ${x.times.map((t) => t.toFixed(0)).join(' ')}`);
  }
} finally {
  if (browser) await browser.close();
  await s.stop();
  if (region) await region.stop();
}
