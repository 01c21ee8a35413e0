// api.js - fetch wrapper for the v1 JSON API: errors as ApiError with the
// server's code and message, keyset paging, bucketed series.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function csrfToken() {
  const m = /(?:^|;\s*)vigil_csrf=([^;]+)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]) : '';
}

export async function api(path, { method = 'GET', body, headers = {}, signal } = {}) {
  const init = { method, headers: { accept: 'application/json', ...headers }, credentials: 'same-origin', signal };
  // Session cookie writes need the double-submit CSRF header; the token is
  // the vigil_csrf cookie (readable by design) set at login.
  if (method !== 'GET') {
    const csrf = csrfToken();
    if (csrf) init.headers['x-csrf-token'] = csrf;
  }
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    if (!init.headers['content-type']) init.headers['content-type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'offline', e.message);
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    const err = json && json.error;
    if (res.status === 401) window.dispatchEvent(new CustomEvent('vigil:unauthorized'));
    throw new ApiError(res.status, err ? err.code : 'http', err ? err.message : `${res.status} ${res.statusText}`);
  }
  return json;
}

const q = (o) => Object.entries(o).filter(([, v]) => v !== undefined && v !== null)
  .map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');

// Every raw reading of CODE in [from, to), following next_cursor, at most
// CAP rows. Returns {t: ms[], v: number[], rows}.
export async function readingsAll(pid, code, from, to, { cap = 200000, signal } = {}) {
  const t = [], v = [], rows = [];
  let cursor;
  do {
    const page = await api(`/api/v1/patients/${pid}/readings?${q({ code, from, to, limit: Math.min(cap - t.length, 100000), cursor })}`, { signal });
    for (const r of page.readings) { t.push(r.t); v.push(r.value); rows.push(r); }
    cursor = page.next_cursor;
  } while (cursor && t.length < cap);
  return { t, v, rows };
}

export async function buckets(pid, code, from, to, bucket, { signal } = {}) {
  const r = await api(`/api/v1/patients/${pid}/readings?${q({ code, from, to, bucket })}`, { signal });
  return r.buckets;
}

const BUCKETS = [['5m', 3e5], ['15m', 9e5], ['30m', 18e5], ['1h', 36e5], ['3h', 108e5],
  ['6h', 216e5], ['12h', 432e5], ['1d', 864e5], ['7d', 6048e5]];
export function pickBucket(ms) {
  for (const b of BUCKETS) if (b[1] >= ms) return b;
  return BUCKETS[BUCKETS.length - 1];
}

// A series for a chart over [from, to): raw readings when there are at most
// RAW_MAX of them, else the API's bucketed means (about 1500 buckets), so a
// year of 5-minute data stays a light chart. One coarse bucketed probe
// counts the readings first.
// Returns {kind: 'empty'|'raw'|'buckets', n, t, v | min/mean/max, bucket, last}.
export async function series(pid, code, from, to, { rawMax = 5000, signal } = {}) {
  const span = to - from;
  const probe = await buckets(pid, code, from, to, pickBucket(span / 100)[0], { signal });
  const n = probe.reduce((a, b) => a + b.n, 0);
  if (!n) return { kind: 'empty', n: 0 };
  if (n <= rawMax) {
    const r = await readingsAll(pid, code, from, to, { signal });
    return { kind: 'raw', n: r.t.length, t: r.t, v: r.v, last: r.t.length ? { t: r.t[r.t.length - 1], v: r.v[r.v.length - 1] } : null };
  }
  const [bucket] = pickBucket(span / 1500);
  const b = await buckets(pid, code, from, to, bucket, { signal });
  return {
    kind: 'buckets', n, bucket, t: b.map((x) => x.t), mean: b.map((x) => x.mean),
    min: b.map((x) => x.min), max: b.map((x) => x.max),
    last: b.length ? { t: b[b.length - 1].t, v: b[b.length - 1].mean } : null,
  };
}
