// dashboard.test.mjs - the web dashboard in Debian's chromium against the
// real vigil binary with 40 demo patients: patient list, patient page
// charts, AGP for a CGM patient, glucose units, language switch, empty and
// error states, phone layout. Any console error fails the test. Run by
// ctest (browser/dashboard); screenshots in the build tree's output/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBrowser, launch, newPage, shot, WEB_ROOT, DESKTOP, PHONE } from './browser.mjs';

const chromium = await requireBrowser();
const { startServer, req, createPatient } = await import('../api/lib.mjs');
// The message tables are browser modules; loaded as such, not as CommonJS.
const table = async (f) => (await import(`data:text/javascript,${encodeURIComponent(
  readFileSync(join(WEB_ROOT, 'i18n', f), 'utf8'))}`)).default;
const en = await table('en.js');
const zh = await table('zh-CN.js');

const DAY = 86400000;
let browser;
before(async () => { browser = await launch(chromium); });
after(async () => { if (browser) await browser.close(); });

async function demoServer() {
  const s = await startServer({ args: ['--demo', '--demo-patients', '40', '--web-root', WEB_ROOT] });
  return s;
}

async function all(url, pid, code, from, to) {
  const r = await req(`${url}/api/v1/patients/${pid}/readings?code=${code}&from=${from}&to=${to}&limit=100000`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.next_cursor, null);
  return r.body.readings;
}

// First demo patient with readings of CODE (and, if NOT given, none of it).
async function findPatient(url, code, not) {
  for (let id = 1; id <= 40; id++) {
    const has = async (c) => (await req(`${url}/api/v1/patients/${id}/readings?code=${c}&limit=1`)).body.readings.length > 0;
    if ((await has(code)) && !(not && (await has(not)))) return id;
  }
  throw new Error(`no demo patient with ${code}`);
}

// Signs the page's context in as the demo user of ROLE through the API
// (the login view has its own test). False when the server has no
// authentication (no /api/v1/me). demo.admin administers the installation
// (org 0) and so sees every patient, as the API checks below do; a doctor
// sees only the patients their team has contracts with.
async function signIn(page, url, role = 'admin') {
  const me = await fetch(`${url}/api/v1/me`);
  if (me.status === 404) return false;
  const r = await page.context().request.post(`${url}/api/v1/auth/login`,
    { data: { username: `demo.${role}`, password: `Vigil-demo-${role}-1` } });
  assert.equal(r.status(), 200, await r.text());
  return true;
}

const rows = (page) => page.$$eval('#patients tbody tr', (trs) => trs.map((tr) => ({
  name: tr.querySelector('th').textContent, id: tr.children[1].textContent, sex: tr.children[2].textContent,
})));
const num = (s) => Number(String(s).replace(/[^\d.\-]/g, ''));

function noErrors(page, allow = () => false) {
  const bad = page.errors.filter((e) => !allow(e));
  assert.deepEqual(bad, [], `console errors:\n${bad.join('\n')}`);
}

test('message tables have the same keys and placeholders', () => {
  const ph = (s) => (s.match(/\{\w+\}/g) || []).sort().join(',');
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  for (const k of Object.keys(en)) assert.equal(ph(zh[k]), ph(en[k]), `placeholders of ${k}`);
  console.log(`${Object.keys(en).length} keys in en and zh-CN`);
});

test('static files: content types, ETag, CSP without unsafe-inline', async () => {
  const s = await demoServer();
  try {
    const idx = await fetch(`${s.url}/`);
    assert.equal(idx.status, 200);
    assert.match(idx.headers.get('content-type'), /^text\/html/);
    const csp = idx.headers.get('content-security-policy');
    assert.match(csp, /default-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html = await idx.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(html, /\sstyle=/, 'no inline style');
    const etag = idx.headers.get('etag');
    assert.ok(etag);
    const again = await fetch(`${s.url}/`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    for (const [path, type] of [['/app.js', /^text\/javascript/], ['/lib/charts.js', /^text\/javascript/],
      ['/i18n/zh-CN.js', /^text\/javascript/], ['/app.css', /^text\/css/],
      ['/vendor/uPlot.iife.min.js', /^text\/javascript/], ['/vendor/uPlot.min.css', /^text\/css/],
      ['/favicon.svg', /^image\/svg\+xml/]]) {
      const r = await fetch(`${s.url}${path}`);
      assert.equal(r.status, 200, path);
      assert.match(r.headers.get('content-type'), type, path);
      assert.ok(r.headers.get('cache-control'), path);
      // Text is gzipped for clients that accept it (node's fetch does).
      if (!path.endsWith('.svg')) assert.equal(r.headers.get('content-encoding'), 'gzip', path);
      assert.equal(r.headers.get('vary'), 'Accept-Encoding', path);
    }
    const plain = await fetch(`${s.url}/vendor/uPlot.iife.min.js`, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(plain.headers.get('content-encoding'), null);
    const zipped = await fetch(`${s.url}/vendor/uPlot.iife.min.js`);
    assert.equal(await zipped.text(), await plain.text(), 'gzip body decodes to the file');
    assert.notEqual(zipped.headers.get('etag'), plain.headers.get('etag'), 'one ETag per encoding');
  } finally { await s.stop(); }
});

test('patient list: demo patients, keyset load more, search, filter, keyboard', async () => {
  const s = await demoServer();
  const page = await newPage(browser);
  try {
    const api = (await req(`${s.url}/api/v1/patients?limit=100`)).body.patients;
    assert.equal(api.length, 40);
    await signIn(page, s.url);
    const t0 = Date.now();
    await page.goto(`${s.url}/#/patients`);
    await page.waitForSelector('#patients tbody tr');
    console.log(`patient list rendered in ${Date.now() - t0} ms`);
    assert.equal(new URL(page.url()).hash, '#/patients');
    let shown = await rows(page);
    assert.deepEqual(shown.map((r) => r.id), api.slice(0, 25).map((p) => p.identifier));
    assert.deepEqual(shown.map((r) => r.name), api.slice(0, 25).map((p) => p.name));
    await shot(page, 'list-desktop');

    await page.click('#patients-more');
    await page.waitForFunction(() => document.querySelectorAll('#patients tbody tr').length === 40);
    assert.equal(await page.isHidden('#patients-more'), true, 'no more pages after 40');
    shown = await rows(page);
    assert.deepEqual(shown.map((r) => r.id), api.map((p) => p.identifier));

    await page.fill('#patient-search', 'demo-00023');
    shown = await rows(page);
    assert.deepEqual(shown.map((r) => r.name), [api[22].name]);
    const surname = api[0].name.split(' ')[0];
    await page.fill('#patient-search', surname.toLowerCase());
    shown = await rows(page);
    assert.equal(shown.length, api.filter((p) => p.name.includes(surname)).length);
    await page.fill('#patient-search', '');
    await page.selectOption('#patient-sex', 'female');
    shown = await rows(page);
    assert.equal(shown.length, api.filter((p) => p.sex === 'female').length);
    assert.ok(shown.every((r) => r.sex === 'Female'));
    await page.fill('#patient-search', 'no such person');
    await page.waitForSelector('.list-body .state.empty');

    // Keyboard: clear, tab to the first patient link, Enter opens it.
    await page.fill('#patient-search', '');
    await page.selectOption('#patient-sex', '');
    await page.focus('#patient-sex');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement.getAttribute('href'));
    assert.equal(focused, `#/patients/${api[0].id}`);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#patient-name');
    assert.match(new URL(page.url()).hash, /^#\/patients\/\d+$/, 'only ids in the URL');
    noErrors(page);
  } finally { await page.context().close(); await s.stop(); }
});

test('patient page: BP with weekly means, vitals and labs from the readings', async () => {
  const s = await demoServer();
  const page = await newPage(browser);
  try {
    const pid = await findPatient(s.url, 'sbp', 'cgm');
    const p = (await req(`${s.url}/api/v1/patients/${pid}`)).body;
    await signIn(page, s.url);
    const t0 = Date.now();
    await page.goto(`${s.url}/#/patients/${pid}`);
    await page.waitForSelector('.patient-view[data-state=ready]');
    console.log(`patient ${pid} page ready in ${Date.now() - t0} ms`);
    assert.equal(await page.textContent('#patient-name'), p.name);
    assert.equal(await page.textContent('#patient-identifier'), p.identifier);

    const to = Date.now() + 600000, from = to - 90 * DAY;
    const sbp = await all(s.url, pid, 'sbp', from, to), dbp = await all(s.url, pid, 'dbp', from, to);
    const weeks = (await req(`${s.url}/api/v1/patients/${pid}/readings?code=sbp&from=${from}&to=${to}&bucket=7d`)).body.buckets;
    for (const id of ['bp', 'hr', 'spo2', 'weight', 'labs'])
      assert.equal(await page.getAttribute(`#${id}`, 'data-state'), 'ready', id);
    // Every SBP and DBP reading of the period plus two weekly means a week.
    const pts = Number(await page.getAttribute('#bp .plot', 'data-points'));
    console.log(`BP chart: ${pts} points; API: ${sbp.length} sbp + ${dbp.length} dbp + 2 x ${weeks.length} weekly means`);
    assert.ok(Math.abs(pts - (sbp.length + dbp.length + 2 * weeks.length)) <= 4, `BP points ${pts}`);
    assert.ok(await page.$('#bp canvas'));

    // The 7-day home mean shown equals the mean of the API readings.
    const since = to - 7 * DAY;
    const mean = (a) => a.reduce((x, y) => x + y.value, 0) / a.length;
    const ms = mean(sbp.filter((r) => r.t >= since)), md = mean(dbp.filter((r) => r.t >= since));
    const lead = await page.textContent('#bp .lead');
    const m = /(\d+)\/(\d+) mmHg/.exec(lead);
    assert.ok(m, lead);
    console.log(`7-day home mean: page ${m[1]}/${m[2]}, API ${ms.toFixed(1)}/${md.toFixed(1)}`);
    assert.ok(Math.abs(Number(m[1]) - ms) <= 1 && Math.abs(Number(m[2]) - md) <= 1, lead);

    const hr = await all(s.url, pid, 'hr', from, to);
    assert.equal(Number(await page.getAttribute('#hr .plot', 'data-points')), hr.length);
    const hba1c = await all(s.url, pid, 'hba1c', Date.now() - 3 * 365 * DAY, to);
    const labRow = await page.$$eval('#labs tbody tr', (trs) => trs.map((tr) => tr.textContent));
    assert.equal(labRow.length, 4, labRow.join('|'));
    assert.ok(labRow.some((r) => r.startsWith('HbA1c') && r.includes(`${hba1c[hba1c.length - 1].value.toFixed(1)} %`)), labRow[0]);
    await shot(page, 'patient-bp-desktop');

    await page.click('[data-range="14d"]');
    await page.waitForSelector('[data-range="14d"][aria-pressed="true"]');
    await page.waitForSelector('.patient-view[data-state=ready]');
    const pts14 = Number(await page.getAttribute('#bp .plot', 'data-points'));
    assert.ok(pts14 > 0 && pts14 < pts / 3, `14-day points ${pts14} vs 90-day ${pts}`);
    await page.click('[data-range="90d"]');
    await page.waitForSelector('.patient-view[data-state=ready]');

    await page.setViewportSize(PHONE);
    await page.reload();
    await page.waitForSelector('.patient-view[data-state=ready]');
    const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(over <= 0, `page is ${over} px wider than the phone`);
    await shot(page, 'patient-bp-phone');
    noErrors(page);
  } finally { await page.context().close(); await s.stop(); }
});

test('glucose: AGP with bands, TIR and metrics for a CGM patient; mg/dL and mmol/L', async () => {
  const s = await demoServer();
  const page = await newPage(browser);
  try {
    const pid = await findPatient(s.url, 'cgm');
    await signIn(page, s.url);
    await page.goto(`${s.url}/#/patients/${pid}`);
    await page.waitForSelector('.patient-view[data-state=ready]');
    assert.ok(await page.$('#agp canvas'), 'AGP drawn');
    // 96 15-minute bins x 5 percentiles.
    const agpPts = Number(await page.getAttribute('#agp .plot', 'data-points'));
    assert.equal(agpPts, 96 * 5);

    const to = Date.now() + 600000;
    const cgm = await all(s.url, pid, 'cgm', to - 14 * DAY, to);
    const csv = `time,value\n${cgm.map((r) => `${r.time},${r.value}`).join('\n')}\n`;
    const a = (await req(`${s.url}/api/v1/analyze/cgm`, 'POST', csv, { 'content-type': 'text/csv' })).body;
    const inRange = await page.$eval('#tir li:nth-child(3) strong', (e) => e.textContent);
    const meanTxt = await page.textContent('#m-mean dd');
    console.log(`TIR 70-180: page ${inRange}, API ${a.time_in_ranges['70_180_pct'].toFixed(2)} %; mean: page ${meanTxt}, API ${a.mean_mgdl.toFixed(1)} mg/dL; ${cgm.length} readings`);
    assert.ok(Math.abs(num(inRange) - a.time_in_ranges['70_180_pct']) <= 1, inRange);
    assert.match(meanTxt, /mg\/dL$/);
    assert.ok(Math.abs(num(meanTxt) - a.mean_mgdl) <= 1, meanTxt);
    assert.ok(Math.abs(num(await page.textContent('#m-gmi dd')) - a.gmi_pct) <= 0.1);
    assert.ok(Number(await page.getAttribute('.glucose-trend .plot', 'data-points')) > 0);
    await shot(page, 'patient-cgm-desktop');

    await page.selectOption('#glucose-unit', 'mmol/L');
    await page.waitForSelector('.patient-view[data-state=ready] #m-mean');
    const mmol = await page.textContent('#m-mean dd');
    assert.match(mmol, /mmol\/L$/);
    assert.ok(Math.abs(num(mmol) - a.mean_mgdl / 18.016) <= 0.1, `${mmol} vs ${a.mean_mgdl / 18.016}`);
    assert.match(await page.textContent('#tir li:nth-child(3)'), /3\.9–10\.0 mmol\/L/);
    await page.setViewportSize(PHONE);
    await page.waitForTimeout(200);
    const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(over <= 0, `page is ${over} px wider than the phone`);
    await shot(page, 'patient-cgm-phone-mmol');
    noErrors(page);
  } finally { await page.context().close(); await s.stop(); }
});

test('language: switch to zh-CN, locale dates and mmol/L, kept on reload; zh browser starts in Chinese', async () => {
  const s = await demoServer();
  const page = await newPage(browser);
  try {
    await signIn(page, s.url);
    await page.goto(`${s.url}/#/patients`);
    await page.waitForSelector('#patients tbody tr');
    assert.equal(await page.textContent('#patients-h'), en['patients.title']);
    assert.equal(await page.$eval('#glucose-unit', (e) => e.value), 'mg/dL');
    await page.selectOption('#lang', 'zh-CN');
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    await page.waitForSelector('#patients tbody tr');
    assert.equal(await page.textContent('#patients-h'), zh['patients.title']);
    assert.equal(await page.textContent('#lang-label'), zh['pref.lang']);
    assert.equal(await page.$eval('#glucose-unit', (e) => e.value), 'mmol/L');
    assert.ok((await rows(page)).every((r) => ['男', '女', '其他', '未知'].includes(r.sex)));

    const pid = await findPatient(s.url, 'cgm');
    await page.goto(`${s.url}/#/patients/${pid}`);
    await page.waitForSelector('.patient-view[data-state=ready]');
    assert.match(await page.textContent('.facts'), /\d+ 岁/);
    assert.match(await page.textContent('#labs tbody td:last-child'), /\d{4}年\d{1,2}月\d{1,2}日/);
    assert.match(await page.textContent('#m-mean dd'), /mmol\/L$/);
    assert.match(await page.textContent('#labs'), /µmol\/L/);
    await shot(page, 'patient-cgm-zh-desktop');
    await page.reload();
    await page.waitForSelector('.patient-view[data-state=ready]');
    assert.equal(await page.textContent('#bp-h'), zh['bp.title'], 'language kept on reload');
    noErrors(page);

    const zhPage = await newPage(browser, { locale: 'zh-CN' });
    await signIn(zhPage, s.url);
    await zhPage.goto(`${s.url}/#/patients`);
    await zhPage.waitForSelector('#patients tbody tr');
    assert.equal(await zhPage.textContent('#patients-h'), zh['patients.title']);
    noErrors(zhPage);
    await zhPage.context().close();
  } finally { await page.context().close(); await s.stop(); }
});

test('empty, not-found and error states', async () => {
  const s = await demoServer();
  const page = await newPage(browser);
  try {
    const pid = await createPatient(s.url, { name: 'Empty Record', identifier: 'EMPTY-1', sex: 'female', birth_date: '1960-02-03' });
    await signIn(page, s.url);
    await page.goto(`${s.url}/#/patients/${pid}`);
    await page.waitForSelector('.patient-view[data-state=ready]');
    for (const id of ['bp', 'glucose', 'hr', 'spo2', 'weight', 'labs'])
      assert.equal(await page.getAttribute(`#${id}`, 'data-state'), 'empty', id);
    assert.equal(await page.textContent('#glucose .state.empty'), en['glu.none']);
    await shot(page, 'patient-empty-desktop');

    await page.goto(`${s.url}/#/patients/999999`);
    await page.waitForSelector('.view .state.empty');
    assert.equal(await page.textContent('.view .state.empty'), en['patient.not_found'].replace('{id}', '999999'));

    // The server fails the heart-rate queries once: that section shows the
    // error with a retry button, the rest of the page still renders.
    let fail = true;
    await page.route(/\/readings\?code=hr&/, (route) => (fail
      ? route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":{"code":"busy","message":"writer queue full"}}' })
      : route.continue()));
    await page.goto(`${s.url}/#/patients/1`);
    await page.waitForSelector('.patient-view[data-state=ready]');
    assert.equal(await page.getAttribute('#hr', 'data-state'), 'error');
    assert.equal(await page.getAttribute('#bp', 'data-state'), 'ready');
    assert.match(await page.textContent('#hr [role=alert]'), /writer queue full/);
    fail = false;
    await page.click('#hr [role=alert] button');
    await page.waitForSelector('#hr[data-state=ready] canvas');
    noErrors(page, (e) => /status of (503|404)/.test(e)); // the two provoked above
  } finally { await page.context().close(); await s.stop(); }
});

test('role home pages and navigation; a doctor lists only their patients', async (t) => {
  const s = await demoServer();
  try {
    if ((await fetch(`${s.url}/api/v1/me`)).status === 404) {
      t.skip('server has no authentication (/api/v1/me is 404)');
      return;
    }
    // Each role's home page and its navigation (web/app.js NAV).
    const homes = {
      doctor: ['#/day', ['day', 'patients', 'inbox', 'population']],
      nurse: ['#/tasks', ['tasks', 'patients']],
      clinician: ['#/inbox', ['inbox']],
      admin: ['#/population', ['population', 'admin', 'patients', 'day', 'inbox']],
      researcher: ['#/population', ['population']],
    };
    for (const [role, [hash, nav]] of Object.entries(homes)) {
      const page = await newPage(browser);
      const refused = [];
      page.on('response', (r) => { if (r.status() >= 400) refused.push(`${r.status()} ${r.url().replace(s.url, '')}`); });
      await signIn(page, s.url, role);
      await page.goto(`${s.url}/`);
      await page.waitForFunction((h) => location.hash === h && document.querySelector('main .view'), hash);
      assert.deepEqual(await page.$$eval('#nav a', (l) => l.map((a) => a.dataset.nav)), nav, role);
      assert.equal(await page.getAttribute(`#nav a[data-nav="${hash.slice(2)}"]`, 'aria-current'), 'page');
      // A page outside the role's set goes back home.
      if (!nav.includes('admin')) {
        await page.goto(`${s.url}/#/admin`);
        await page.waitForFunction((h) => location.hash === h, hash);
      }
      if (role === 'researcher') {
        // report.read without org.read or report.patients: their own
        // organisation's report, counts without links to patients.
        await page.waitForSelector('#pop-report[data-state="ready"]');
        assert.equal(await page.locator('#pop-report a[data-part]').count(), 0);
        assert.ok(await page.locator('#pop-report span[data-part]').count() > 0);
        assert.equal(await page.locator('#pop-org option').count(), 1);
        assert.doesNotMatch(await page.textContent('#pop-org'), /^#/);
        await shot(page, 'population-researcher-desktop');
      }
      if (role === 'doctor') {
        // The patient list is the doctor's visible set, as the API gives it.
        await page.goto(`${s.url}/#/patients`);
        await page.waitForSelector('#patients tbody tr');
        while (await page.isVisible('#patients-more')) {
          await page.click('#patients-more');
          await page.waitForFunction(() => !document.getElementById('patients-more').hasAttribute('aria-busy'));
        }
        const mine = await page.evaluate(async () => {
          const ids = []; let cursor = '';
          for (;;) {
            const r = await (await fetch(`/api/v1/patients?limit=100${cursor ? `&cursor=${cursor}` : ''}`)).json();
            ids.push(...r.patients.map((p) => p.identifier));
            if (!r.next_cursor) return ids;
            cursor = encodeURIComponent(r.next_cursor);
          }
        });
        const all = (await req(`${s.url}/api/v1/patients?limit=100`)).body.patients;
        assert.ok(mine.length > 0 && mine.length < all.length, `doctor sees ${mine.length} of ${all.length} patients`);
        assert.deepEqual((await rows(page)).map((r) => r.id), mine);
        console.log(`doctor's patient list: ${mine.length} of ${all.length} demo patients (team contracts)`);
      }
      assert.deepEqual(refused, [], `${role}: refused requests`);
      noErrors(page);
      await page.context().close();
    }
  } finally { await s.stop(); }
});

test('sign in: login view, wrong password, role home, patient sees only their own page, sign out', async (t) => {
  const s = await demoServer();
  const page = await newPage(browser);
  try {
    if ((await fetch(`${s.url}/api/v1/me`)).status === 404) {
      t.skip('server has no authentication (/api/v1/me is 404)');
      return;
    }
    await page.goto(`${s.url}/#/patients/3`);
    await page.waitForSelector('#login-user');
    assert.equal(new URL(page.url()).hash, '#/login');
    assert.equal(await page.textContent('#login-h'), en['login.title']);
    await shot(page, 'login-desktop');
    await page.fill('#login-user', 'demo.doctor');
    await page.fill('#login-pass', 'not the password');
    await page.click('#login-submit');
    await page.waitForFunction(() => document.getElementById('login-msg').textContent.length > 0);
    assert.equal(await page.textContent('#login-msg'), en['login.failed']);
    await page.fill('#login-pass', 'Vigil-demo-doctor-1');
    await page.press('#login-pass', 'Enter');
    // Back to the page asked for before signing in.
    await page.waitForSelector('.patient-view[data-state=ready]');
    assert.equal(new URL(page.url()).hash, '#/patients/3');
    assert.match(await page.textContent('#user-name'), /demo\.doctor/);
    const cookies = await page.context().cookies();
    assert.ok(cookies.find((c) => c.name === 'vigil_session' && c.httpOnly), 'HttpOnly session cookie');
    await page.click('#logout');
    await page.waitForSelector('#login-user');
    assert.equal((await fetch(`${s.url}/api/v1/me`, { headers: { cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; ') } })).status, 401, 'session revoked');

    // A patient lands on their own page and cannot open another's.
    await page.fill('#login-user', 'demo.patient');
    await page.fill('#login-pass', 'Vigil-demo-patient-1');
    await page.click('#login-submit');
    await page.waitForSelector('.patient-view[data-state=ready]');
    const me = await page.evaluate(() => fetch('/api/v1/me').then((r) => r.json()));
    assert.equal(new URL(page.url()).hash, `#/patients/${me.patient_id}`);
    assert.equal(await page.$('#nav a'), null, 'no patient list for a patient');
    const other = me.patient_id === 2 ? 3 : 2;
    await page.goto(`${s.url}/#/patients/${other}`);
    await page.waitForSelector('.view .state');
    assert.equal(await page.$('#patient-name'), null);
    assert.match(await page.textContent('.view .state'), /do not have access|There is no patient/);
    await page.goto(`${s.url}/#/patients`);
    await page.waitForSelector('.patient-view[data-state=ready]');
    assert.equal(new URL(page.url()).hash, `#/patients/${me.patient_id}`);
    await page.setViewportSize(PHONE);
    await shot(page, 'patient-self-phone');
    noErrors(page, (e) => /status of (401|403|404)/.test(e)); // provoked above
  } finally { await page.context().close(); await s.stop(); }
});
