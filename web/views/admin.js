// admin.js - administration (read-only lists): organisations as a tree,
// teams with their members, devices, and what the server does not expose
// yet (users, alert rules) said plainly.
import { card, h, empty, api, t, tOr, withNames, patientLink, when } from '../lib/care.js';

// On a phone each row is a card: the first cell as its title, the others
// labelled with their column.
const table = (id, cols, rows) => h('div', { class: 'scroll-x' }, h('table', { class: 'table cards', id },
  h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', { scope: 'col' }, c)))),
  h('tbody', {}, ...rows.map((r) => h('tr', {}, h('th', { scope: 'row', class: 'wide-sm' }, r[0]),
    ...r.slice(1).map((x, i) => h('td', { 'data-label': cols[i + 1], class: r.length === 3 && i === 1 ? 'wide-sm' : null }, x)))))));

export async function renderAdmin(main) {
  const orgs = card('adm-orgs', t('admin.orgs'), async (body) => {
    const { organizations } = await api('/api/v1/organizations?limit=1000');
    if (!organizations.length) { body.replaceChildren(empty(t('admin.none'))); return 'empty'; }
    organizations.sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }));
    body.replaceChildren(table('org-table', [t('col.org'), t('admin.level'), t('admin.code'), 'ID'],
      organizations.map((o) => [h('span', { class: `indent-${Math.min(3, (o.path.match(/\//g) || []).length - 2)}` }, o.name),
        tOr(`level.${o.level}`, o.level), o.code || '', String(o.id)])));
    return undefined;
  }, { cls: 'wide' });
  const teams = card('adm-teams', t('admin.teams'), async (body) => {
    const [{ teams: list }, { organizations }] = await Promise.all([api('/api/v1/teams?limit=1000'), api('/api/v1/organizations?limit=1000')]);
    if (!list.length) { body.replaceChildren(empty(t('admin.none'))); return 'empty'; }
    const full = await Promise.all(list.map((x) => api(`/api/v1/teams/${x.id}`)));
    const on = new Map(organizations.map((o) => [o.id, o.name]));
    body.replaceChildren(table('team-table', [t('col.team'), t('col.org'), t('admin.members')],
      full.map((x) => [x.name, on.get(x.org) || `#${x.org}`,
        (x.members || []).map((m) => `${m.username || `#${m.user}`} (${tOr(`trole.${m.role}`, m.role)}${m.lead ? `, ${t('admin.lead')}` : ''})`).join('; ') || '–'])));
    return undefined;
  }, { cls: 'wide' });
  const devices = card('adm-devices', t('admin.devices'), async (body) => {
    const { devices: list, next_cursor: more } = await api('/api/v1/devices?limit=200');
    if (!list.length) { body.replaceChildren(empty(t('admin.none'))); return 'empty'; }
    const name = await withNames(list);
    const seen = (x) => (!x ? t('admin.never') : typeof x === 'number' ? when(x, true) : x);
    body.replaceChildren(table('device-table', [t('admin.serial'), t('admin.kind'), t('col.patient'), t('admin.last_seen')],
      list.map((d) => [d.serial, d.kind, d.patient ? patientLink(name(d.patient)) : '–', seen(d.last_seen)])),
    ...(more ? [h('p', { class: 'muted' }, t('admin.first_n', { n: list.length }))] : []));
    return undefined;
  }, { cls: 'wide' });
  const gaps = card('adm-gaps', t('admin.users_rules'), async (body) => {
    body.replaceChildren(h('p', {}, t('admin.users_missing')), h('p', {}, t('admin.rules_missing')));
    return 'empty';
  }, { cls: 'wide' });
  const cards = [orgs, teams, devices, gaps];
  main.replaceChildren(h('section', { class: 'view admin-view', 'aria-labelledby': 'admin-h' },
    h('h1', { id: 'admin-h' }, t('admin.title')), h('div', { class: 'stack' }, ...cards)));
  await Promise.all(cards.map((c) => c.run()));
}
