// One tenant: its plan (a calculate-resources answer for its own channels and SLA, laid out by
// plan_view), per-service replicas as deployed, live charts (24 h + the stream), alerts (list +
// stream), the deployment history with each commit's compiled deltas, and the manifest with
// highlighting and download. Returns a cleanup for the streams.

import { clear, h } from './dom.js';
import { t } from './i18n.js';
import { errorBox } from './errors_view.js';
import { deployedTable, planView } from './plan_view.js';
import { CHART_METRICS, MetricChart } from './charts.js';
import { highlightYaml } from './yaml_view.js';
import { historyTable } from './history_view.js';


function section(id, title, ...children) {
  return h('section', { id, 'aria-labelledby': `${id}-h` }, h('h2', { id: `${id}-h` }, title), ...children);
}

export async function renderTenant(main, { session, navigate }, tenantId) {
  const client = session.client();
  const stops = [];
  const charts = [];
  const cleanup = () => {
    for (const stop of stops) stop();
    for (const chart of charts) chart.destroy();
  };
  main.append(h('p', { role: 'status' }, t('loading')));
  let tenant;
  try {
    tenant = await client.getTenant(tenantId);
  } catch (error) {
    clear(main, errorBox(error, session), h('p', {}, h('a', { href: '#/' }, t('back'))));
    return cleanup;
  }
  const actions = session.canWrite
    ? h('div', { class: 'actions' }, h('a', { class: 'button', id: 'edit-tenant', href: `#/edit/${tenantId}` }, t('edit')))
    : null;
  const planSlot = h('div', {}, h('p', { role: 'status' }, t('loading')));
  const chartGrid = h('div', { class: 'charts' });
  const streamState = h('p', { id: 'stream-state', class: 'hint', role: 'status' });
  const alertList = h('ul', { id: 'alert-list', class: 'alerts' });
  const manifestSlot = h('div', {});
  const historySlot = h('div', {}, h('p', { role: 'status' }, t('loading')));
  clear(main,
    h('p', {}, h('a', { href: '#/' }, `← ${t('back')}`)),
    h('h1', {}, tenant.name, ' ', h('span', { class: 'muted' }, `(${tenant.tenant_id})`)),
    h('dl', { class: 'facts' },
      h('dt', {}, t('status')), h('dd', {}, h('span', { class: `status status-${tenant.status}` }, tenant.status)),
      h('dt', {}, t('preset')), h('dd', {}, tenant.preset),
      h('dt', {}, t('gpu_type')), h('dd', {}, tenant.gpu_type ?? '—'),
      h('dt', {}, t('monthly_cost')), h('dd', { id: 'tenant-cost' }, tenant.estimated_cost ?? '—')),
    actions,
    section('plan-section', t('plan'), planSlot, deployedTable(tenant.services)),
    section('metrics-section', t('live'), streamState, chartGrid),
    section('alerts-section', t('alerts'), alertList),
    section('history-section', t('history'), historySlot),
    section('manifest-section', t('manifest'), manifestSlot));

  session.client({ debug: true })
    .calculateResources({ service_requirements: tenant.service_requirements, sla_target: tenant.sla_target })
    .then((answer) => clear(planSlot, planView(answer)))
    .catch((error) => clear(planSlot, errorBox(error, session)));

  const width = Math.max(280, Math.min(560, main.clientWidth / 2 - 24));
  for (const metric of CHART_METRICS) {
    const chart = new MetricChart(metric, t(`metric_${metric}`));
    chartGrid.append(chart.el);
    chart.mount(width);
    charts.push(chart);
  }
  const byMetric = Object.fromEntries(charts.map((chart) => [chart.metric, chart]));
  client.getMonitoring(tenantId, { hours: 24 })
    .then((data) => { for (const chart of charts) chart.load(data.metrics?.[chart.metric] ?? []); })
    .catch((error) => chartGrid.before(errorBox(error, session)));
  stops.push(client.subscribeToMonitoring(tenantId, (update) => {
    const x = Date.parse(update.timestamp) / 1000;
    for (const [metric, value] of Object.entries(update.metrics ?? {})) byMetric[metric]?.push(x, value);
    performance.mark(`ecp-chart-${update.timestamp}`);
  }, {
    metrics: CHART_METRICS,
    interval: 5000, // a fallback: the server pushes each sample as it is stored
    onOpen: () => { streamState.textContent = t('stream_open'); streamState.dataset.state = 'open'; },
    onClose: () => { streamState.textContent = t('stream_closed'); streamState.dataset.state = 'closed'; },
    onError: (error) => streamState.after(errorBox(error, session)),
  }));

  const addAlert = (alert, first = false) => {
    alertList.querySelector('.empty')?.remove();
    const item = h('li', { class: `alert sev-${alert.severity}` },
      h('strong', {}, alert.severity), ' ', alert.message, ' ', h('time', { datetime: alert.timestamp }, alert.timestamp));
    if (first) alertList.prepend(item);
    else alertList.append(item);
  };
  client.getAlerts(tenantId, { hours: 24 })
    .then((data) => {
      if (!data.alerts.length) alertList.append(h('li', { class: 'empty' }, t('no_alerts')));
      for (const alert of data.alerts) addAlert(alert);
    })
    .catch((error) => alertList.before(errorBox(error, session)));
  stops.push(client.subscribeToAlerts(tenantId, (alert) => addAlert(alert, true), { onError: () => {} }));

  client.getTenantHistory(tenantId, { limit: 50 })
    .then((history) => clear(historySlot, historyTable(history)))
    .catch((error) => clear(historySlot, errorBox(error, session)));

  client.getManifest(tenantId)
    .then((yaml) => {
      const href = URL.createObjectURL(new Blob([yaml], { type: 'application/yaml' }));
      stops.push(() => URL.revokeObjectURL(href));
      clear(manifestSlot,
        h('a', { class: 'button', id: 'download-manifest', href, download: `${tenantId}.yaml` }, t('download')),
        highlightYaml(yaml));
    })
    .catch((error) => clear(manifestSlot, errorBox(error, session)));
  void navigate;
  return cleanup;
}
