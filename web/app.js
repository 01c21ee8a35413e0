// app.js - minimal patient and readings view over the v1 API; the full
// dashboard (issue: web dashboard) grows from here.
const $ = (sel) => document.querySelector(sel);

async function api(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ? body.error.message : res.statusText);
  return body;
}

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

async function showReadings(id, button) {
  document.querySelectorAll('#patients button').forEach((b) => b.setAttribute('aria-current', 'false'));
  button.setAttribute('aria-current', 'true');
  const tbody = $('#readings tbody');
  tbody.replaceChildren();
  const to = Date.now(), from = to - 7 * 86400000;
  const { readings } = await api(`/api/v1/patients/${id}/readings?from=${from}&to=${to}&limit=200`);
  readings.sort((a, b) => b.t - a.t);
  for (const r of readings.slice(0, 50)) {
    const tr = document.createElement('tr');
    tr.append(cell(new Date(r.t).toLocaleString()), cell(r.code), cell(r.value), cell(r.unit), cell(r.source));
    tbody.append(tr);
  }
  if (!readings.length) {
    const tr = document.createElement('tr');
    const td = cell('No readings in the last 7 days.');
    td.colSpan = 5;
    tr.append(td);
    tbody.append(tr);
  }
}

async function main() {
  try {
    const { patients } = await api('/api/v1/patients?limit=100');
    const ul = $('#patients');
    for (const p of patients) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = `${p.name} (${p.identifier || p.id})`;
      b.addEventListener('click', () => showReadings(p.id, b).catch(showError));
      li.append(b);
      ul.append(li);
    }
    $('#status').textContent = patients.length ? `${patients.length} patients` : 'No patients yet.';
  } catch (e) { showError(e); }
}

function showError(e) { $('#status').textContent = `Error: ${e.message}`; }

main();
