// browser.mjs - Debian's chromium driven by playwright-core (nothing is
// downloaded), console-error capture, screenshots into the test output.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHROMIUM = process.env.VIGIL_CHROMIUM || '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = process.env.VIGIL_SOURCE_DIR || resolve(here, '../..');
export const WEB_ROOT = join(SOURCE_DIR, 'web');
export const OUT_DIR = process.env.VIGIL_TEST_OUT || join(process.cwd(), 'browser-output');

// Exit 77 (ctest SKIPPED) with the reason when the browser tests cannot run.
export async function requireBrowser() {
  const skip = (why) => { console.log(`SKIPPED: ${why}`); process.exit(77); };
  if (!process.env.VIGIL_BIN) skip('VIGIL_BIN is not set (run through ctest)');
  if (!existsSync(CHROMIUM)) skip(`${CHROMIUM} not found (make deps installs Debian's chromium)`);
  if (!existsSync(join(WEB_ROOT, 'vendor', 'uPlot.iife.min.js')))
    skip('web/vendor/uPlot.iife.min.js missing (make deps copies it from node_modules)');
  try {
    return (await import('playwright-core')).chromium;
  } catch (e) {
    skip(`playwright-core not installed (npm ci): ${e.message}`);
  }
  return null;
}

// Launch args of the brief; playwright adds a fresh --user-data-dir in a
// temporary directory of its own for every launch.
export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launch(chromium) {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60000 });
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

// A page whose console errors and uncaught exceptions are collected in
// page.errors (an assertion at the end of each test wants it empty).
export async function newPage(browser, { viewport = DESKTOP, locale = 'en-US', timezoneId = 'UTC' } = {}) {
  const ctx = await browser.newContext({ viewport, locale, timezoneId, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
  page.setDefaultTimeout(30000);
  return page;
}

// Saves a full-page screenshot; first fails when the page shows a value
// that was never filled in (null, undefined, NaN as words of its text).
export async function shot(page, name) {
  const bad = await page.evaluate(() => (document.body.innerText.match(/\b(null|undefined|NaN)\b/g) || []).join(', '));
  if (bad) throw new Error(`${name}: the page shows ${bad}`);
  mkdirSync(OUT_DIR, { recursive: true });
  const path = join(OUT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot ${path}`);
  return path;
}
