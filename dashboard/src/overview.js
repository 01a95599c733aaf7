// Overview: every tenant the caller may see, searchable, filterable (preset, status, label) and
// sortable, 50 rows a page. The list answer carries the sortable columns; cost, replicas, alerts
// and last deployment come from each visible row's own answers, fetched for that page only, so
// 1,000 tenants cost one list call and a page of detail calls.

import { clear, h } from './dom.js';
import { t } from './i18n.js';
import { errorBox } from './errors_view.js';
import { RateLimitedError } from '@ecp-ai/orchestrator-client';

const PAGE_SIZE = 50;
const LIST_PAGE = 1000; // the API's largest page

const COLUMNS = [
  ['tenant_id', 'tenant'],
  ['name', 'name'],
  ['status', 'status'],
  ['preset', 'preset'],
  ['gpu_type', 'gpu_type'],
  ['services_count', 'services'],
];

const DETAIL_CONCURRENCY = 6;

/** Runs calls a few at a time, waiting out a 429 (Retry-After, else 1 s) up to three times, so
 * a page of rows stays inside a rate budget (an anonymous demo caller has 10 reads/s). */
class CallQueue {
  constructor(limit) {
    this.limit = limit;
    this.active = 0;
    this.waiting = [];
  }

  async run(call) {
    while (this.active >= this.limit) await new Promise((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      for (let attempt = 0; ; attempt += 1) {
        try {
          return await call();
        } catch (error) {
          if (!(error instanceof RateLimitedError) || attempt >= 3) throw error;
          const seconds = Number(error.details?.retry_after ?? 1) || 1;
          await new Promise((resolve) => setTimeout(resolve, Math.min(10, seconds) * 1000));
        }
      }
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }
}

export async function loadAllTenants(client, signal) {
  const tenants = [];
  for (let skip = 0; ; skip += LIST_PAGE) {
    const page = await client.getTenants({ skip, limit: LIST_PAGE, signal });
    tenants.push(...page.tenants);
    if (!page.pagination.has_more) return tenants;
  }
}

export function matches(tenant, { query, preset, status, label }) {
  if (preset && tenant.preset !== preset) return false;
  if (status && tenant.status !== status) return false;
  if (label) {
    const [key, value] = label.split('=').map((part) => part.trim());
    const labels = tenant.labels ?? {};
    if (!(key in labels) || (value !== undefined && value !== '' && labels[key] !== value)) return false;
  }
  if (query) {
    const text = `${tenant.tenant_id} ${tenant.name} ${tenant.description ?? ''}`.toLowerCase();
    if (!text.includes(query.toLowerCase())) return false;
  }
  return true;
}

function compare(key, direction) {
  return (a, b) => {
    const x = a[key] ?? '';
    const y = b[key] ?? '';
    const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return direction * order || a.tenant_id.localeCompare(b.tenant_id);
  };
}

export async function renderOverview(main, { session }) {
  const client = session.client();
  const controller = new AbortController();
  const heading = h('h1', {}, t('nav_overview'));
  const status = h('p', { id: 'overview-status', role: 'status' }, t('loading'));
  main.append(heading, status);
  let tenants;
  try {
    tenants = await loadAllTenants(client, controller.signal);
  } catch (error) {
    clear(status, errorBox(error, session));
    return () => controller.abort();
  }
  performance.mark('ecp-overview-loaded');
  const state = { query: '', preset: '', status: '', label: '', sort: 'tenant_id', direction: 1, page: 0 };
  const details = new Map();
  const queue = new CallQueue(DETAIL_CONCURRENCY);
  const body = h('tbody', {});
  const head = h('thead', {});
  const pager = h('div', { class: 'pager' });
  const count = h('p', { id: 'count', role: 'status', 'aria-live': 'polite' });
  const hasLabels = tenants.some((tenant) => Object.keys(tenant.labels ?? {}).length > 0);

  const options = (key) => [...new Set(tenants.map((tenant) => tenant[key]).filter(Boolean))].sort();
  const select = (id, key, label) => {
    const el = h('select', { id }, h('option', { value: '' }, t('any')), options(key).map((v) => h('option', { value: v }, v)));
    el.addEventListener('change', () => update({ [key]: el.value, page: 0 }));
    return h('label', {}, label, el);
  };
  const search = h('input', { id: 'search', type: 'search', placeholder: t('search_ph') });
  search.addEventListener('input', () => update({ query: search.value, page: 0 }));
  const labelInput = h('input', {
    id: 'label-filter', type: 'text', placeholder: t('label_ph'), disabled: !hasLabels,
    title: hasLabels ? undefined : t('no_labels'),
  });
  labelInput.addEventListener('input', () => update({ label: labelInput.value, page: 0 }));

  const table = h('table', { class: 'tenants', id: 'tenant-table' }, h('caption', { class: 'sr-only' }, t('nav_overview')), head, body);
  clear(
    status,
    '',
  );
  status.remove();
  main.append(
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
      h('label', {}, t('search'), search),
      select('preset-filter', 'preset', t('preset')),
      select('status-filter', 'status', t('status')),
      h('label', {}, t('label'), labelInput)),
    count,
    table,
    pager,
  );

  function update(change) {
    Object.assign(state, change);
    draw();
  }

  function draw() {
    const shown = tenants.filter((tenant) => matches(tenant, state)).sort(compare(state.sort, state.direction));
    const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    const rows = shown.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE);
    count.textContent = t('shown', { shown: shown.length, total: tenants.length });
    clear(head, h('tr', {},
      COLUMNS.map(([key, label]) => h('th', { scope: 'col', 'aria-sort': state.sort === key ? (state.direction > 0 ? 'ascending' : 'descending') : undefined },
        h('button', { type: 'button', class: 'sort', 'data-sort': key, 'aria-label': t('sort_by', { col: t(label) }),
          onclick: () => update({ sort: key, direction: state.sort === key ? -state.direction : 1 }) },
        t(label), state.sort === key ? (state.direction > 0 ? ' ▲' : ' ▼') : ''))),
      ['replicas', 'monthly_cost', 'alerts', 'last_deploy'].map((key) => h('th', { scope: 'col' }, t(key)))));
    clear(body, rows.length ? rows.map(row) : h('tr', {}, h('td', { colspan: 10 }, t('no_tenants'))));
    clear(pager,
      h('button', { type: 'button', id: 'prev-page', disabled: state.page === 0, onclick: () => update({ page: state.page - 1 }) }, t('prev')),
      h('span', {}, t('page', { page: state.page + 1, pages })),
      h('button', { type: 'button', id: 'next-page', disabled: state.page >= pages - 1, onclick: () => update({ page: state.page + 1 }) }, t('next')));
    for (const tenant of rows) fillDetails(tenant.tenant_id);
  }

  function row(tenant) {
    return h('tr', { 'data-tenant': tenant.tenant_id },
      h('td', {}, h('a', { href: `#/tenant/${tenant.tenant_id}` }, tenant.tenant_id)),
      h('td', {}, tenant.name),
      h('td', {}, h('span', { class: `status status-${tenant.status}` }, tenant.status)),
      h('td', {}, tenant.preset ?? ''),
      h('td', {}, tenant.gpu_type ?? '—'),
      h('td', { class: 'num' }, tenant.services_count),
      ['replicas', 'cost', 'alerts', 'deployed'].map((key) => h('td', { class: `lazy ${key}`, 'data-cell': key }, '…')));
  }

  async function fillDetails(tenantId) {
    if (!details.has(tenantId)) {
      const signal = controller.signal;
      details.set(tenantId, Promise.all([
        queue.run(() => client.getTenant(tenantId, { signal })),
        queue.run(() => client.getAlerts(tenantId, { hours: 24, signal })).catch(() => null),
      ]));
    }
    let tenant, alerts;
    try {
      [tenant, alerts] = await details.get(tenantId);
    } catch {
      return;
    }
    const tr = body.querySelector(`tr[data-tenant="${tenantId}"]`);
    if (!tr) return;
    const set = (key, text) => { tr.querySelector(`[data-cell="${key}"]`).textContent = text; };
    set('replicas', String((tenant.services ?? []).reduce((sum, s) => sum + (s.replicas ?? 0), 0)));
    set('cost', tenant.estimated_cost ?? '—');
    set('alerts', alerts ? String(alerts.alerts.length) : '—');
    // The last publish (dep-<commit>) and when the tenant last changed; never published: —.
    set('deployed', tenant.deployment_id ? `${tenant.updated_at ?? ''} · ${tenant.deployment_id}` : '—');
  }

  draw();
  performance.mark('ecp-overview-painted');
  return () => controller.abort();
}
