// i18n.js - the message tables, the chosen language and glucose unit, and
// locale-aware formatting of numbers, dates and clinical units.
import en from '../i18n/en.js';

export const LANGS = ['en', 'zh-CN'];
const tables = { en };
let lang = 'en';
let msgs = en;
let glucoseUnit = 'mg/dL';
const listeners = new Set();

// Glucose molar mass 180.16 g/mol: 1 mmol/L = 18.016 mg/dL.
export const MGDL_PER_MMOL = 18.016;
// Creatinine 113.12 g/mol: 1 mg/dL = 88.42 umol/L.
const UMOL_PER_MGDL_CREAT = 88.42;
// Cholesterol 386.65 g/mol: 1 mmol/L = 38.67 mg/dL.
const MGDL_PER_MMOL_CHOL = 38.67;

function store(key, value) {
  try { localStorage.setItem(key, value); } catch { /* private mode */ }
}
function load(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}

// Language from the saved choice, else the browser's list (zh* -> zh-CN).
export async function initI18n() {
  let l = load('vigil.lang');
  if (!LANGS.includes(l)) {
    const prefs = navigator.languages && navigator.languages.length
      ? navigator.languages : [navigator.language || 'en'];
    const first = prefs.find((p) => /^(zh|en)\b/i.test(p)) || 'en';
    l = /^zh/i.test(first) ? 'zh-CN' : 'en';
  }
  await setLang(l, false);
}

export async function setLang(l, persist = true) {
  if (!LANGS.includes(l)) l = 'en';
  if (!tables[l]) tables[l] = (await import(`../i18n/${l}.js`)).default;
  lang = l;
  msgs = tables[l];
  const saved = load('vigil.glucose');
  glucoseUnit = saved === 'mg/dL' || saved === 'mmol/L' ? saved
    : l === 'zh-CN' ? 'mmol/L' : 'mg/dL';
  document.documentElement.lang = l;
  if (persist) store('vigil.lang', l);
  listeners.forEach((f) => f());
}

export function setGlucoseUnit(u) {
  glucoseUnit = u === 'mmol/L' ? 'mmol/L' : 'mg/dL';
  store('vigil.glucose', glucoseUnit);
  listeners.forEach((f) => f());
}

export const getLang = () => lang;
export const getGlucoseUnit = () => glucoseUnit;
export const onChange = (f) => listeners.add(f);

// Message KEY with {name} placeholders filled from PARAMS.
export function t(key, params) {
  const s = msgs[key] ?? en[key] ?? key;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

export function fmtNum(v, digits = 0) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return new Intl.NumberFormat(lang, {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
  }).format(v);
}

// Dates are shown in the patient's time zone when known.
export function fmtDate(ms, tz, withTime = false) {
  const o = { year: 'numeric', month: 'short', day: 'numeric' };
  if (withTime) Object.assign(o, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  if (tz) o.timeZone = tz;
  try { return new Intl.DateTimeFormat(lang, o).format(new Date(ms)); } catch {
    delete o.timeZone;
    return new Intl.DateTimeFormat(lang, o).format(new Date(ms));
  }
}

// Glucose: stored in mg/dL, shown in the chosen unit.
export const glucose = (mgdl) => (glucoseUnit === 'mmol/L' ? mgdl / MGDL_PER_MMOL : mgdl);
export const glucoseDigits = () => (glucoseUnit === 'mmol/L' ? 1 : 0);
export const fmtGlucose = (mgdl) => `${fmtNum(glucose(mgdl), glucoseDigits())} ${glucoseUnit}`;

// Lab values in the locale's customary unit: SI (umol/L, mmol/L) for
// zh-CN, conventional mg/dL for en. Returns {value, unit, digits}.
export function labValue(code, v, unit) {
  const si = lang === 'zh-CN';
  if (code === 'creatinine' && si) return { value: v * UMOL_PER_MGDL_CREAT, unit: 'µmol/L', digits: 0 };
  if (code === 'creatinine') return { value: v, unit: 'mg/dL', digits: 2 };
  if (['tchol', 'hdl', 'ldl'].includes(code) && si) return { value: v / MGDL_PER_MMOL_CHOL, unit: 'mmol/L', digits: 2 };
  if (['tchol', 'hdl', 'ldl'].includes(code)) return { value: v, unit: 'mg/dL', digits: 0 };
  if (code === 'hba1c') return { value: v, unit: '%', digits: 1 };
  return { value: v, unit: unit.replace('{1.73_m2}', '1.73 m²'), digits: 0 };
}

export function ageYears(birth, now = new Date()) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birth || '');
  if (!m) return null;
  let a = now.getUTCFullYear() - Number(m[1]);
  const md = (now.getUTCMonth() + 1) * 100 + now.getUTCDate();
  if (md < Number(m[2]) * 100 + Number(m[3])) a--;
  return a;
}
