// live.js - care events from GET /api/v1/events. The server answers a long
// poll in SSE format (id/event/data blocks) and ends it; this loop parses
// each answer and asks again with ?after= the last id seen, so no event
// between two polls is lost once one id is known. Views subscribe with
// onEvents(fn); the subscriptions are dropped when the route changes.
const subs = new Set();
let running = null;
let last = null;

export function onEvents(fn) { subs.add(fn); }
export function clearEvents() { subs.clear(); }

// Parses an SSE body into [{id, kind, data}].
export function parseSse(text) {
  const out = [];
  for (const block of text.split(/\n\n/)) {
    const ev = {};
    for (const line of block.split('\n')) {
      const m = /^(id|event|data): ?(.*)$/.exec(line);
      if (m) ev[m[1]] = m[2];
    }
    if (ev.id === undefined) continue;
    let data = null;
    try { data = JSON.parse(ev.data); } catch { /* keep null */ }
    out.push({ id: Number(ev.id), kind: ev.event || 'message', data, patient: data ? data.patient : 0 });
  }
  return out;
}

// Starts the poll loop once (idempotent); stop() ends it (sign-out).
// WAIT is short on purpose: the server holds one of its HTTP worker
// threads for the whole wait, and other requests of this page that share
// that thread stall behind it (a 10 s wait stalled them up to 10 s and the
// header deadline then cut them). 2 s keeps a stall short and still asks
// again at once, so no event is lost once one id is known.
export function startLive({ wait = 2 } = {}) {
  if (running) return;
  const ctl = new AbortController();
  running = ctl;
  (async () => {
    let backoff = 1000;
    while (!ctl.signal.aborted) {
      try {
        const q = last === null ? `wait=${wait}` : `after=${last}&wait=${wait}`;
        const res = await fetch(`/api/v1/events?${q}`, { credentials: 'same-origin', signal: ctl.signal, headers: { accept: 'text/event-stream' } });
        if (res.status === 401 || res.status === 403) break;
        if (!res.ok) throw new Error(String(res.status));
        const evs = parseSse(await res.text());
        backoff = 1000;
        if (evs.length) {
          last = evs[evs.length - 1].id;
          document.dispatchEvent(new CustomEvent('vigil:events', { detail: evs }));
          subs.forEach((f) => { try { f(evs); } catch (e) { console.warn(e); } });
        }
      } catch (e) {
        if (ctl.signal.aborted) break;
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 30000);
      }
    }
    if (running === ctl) running = null;
  })();
}

export function stopLive() {
  if (running) running.abort();
  running = null;
  last = null;
}
