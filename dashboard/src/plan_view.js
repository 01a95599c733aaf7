// A sizing answer laid out as people reason about it: each path's predicted percentile against
// the SLA, per service replicas / GPU type / utilisation, the availability, resources and cost,
// and the alternatives. Fields of the path-based model (paths[], services[].queue) are shown
// when the server sends them; older answers show what they carry.

import { h } from './dom.js';
import { t } from './i18n.js';

const pct = (value) => (typeof value === 'number' ? `${(value * 100).toFixed(value > 0.999 ? 3 : 1)}%` : '—');
const ms = (value) => (typeof value === 'number' ? `${value.toFixed(1)} ms` : '—');

function table(id, caption, headers, rows) {
  return h('table', { id, class: 'plan-table' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headers.map((text) => h('th', { scope: 'col' }, text)))),
    h('tbody', {}, rows));
}

export function pathsTable(paths) {
  if (!Array.isArray(paths) || paths.length === 0) return h('p', { class: 'hint', id: 'no-paths' }, t('no_paths'));
  return table('paths', t('paths'), [t('path'), t('stages'), t('percentile'), t('predicted'), t('sla'), t('meets'), t('availability')],
    paths.map((p) => h('tr', { class: p.meets_sla ? 'ok' : 'bad' },
      h('th', { scope: 'row' }, p.name),
      h('td', {}, (p.stages ?? []).join(' → ')),
      h('td', {}, `p${p.percentile}`),
      h('td', { class: 'num' }, ms(p.predicted_ms),
        h('meter', { min: 0, max: 1.5, low: 0.8, high: 1, optimum: 0.5, value: Math.min(1.5, (p.predicted_ms ?? Infinity) / p.sla_ms), 'aria-label': `${p.name} ${t('predicted')}/${t('sla')}` })),
      h('td', { class: 'num' }, `${p.sla_ms} ms`),
      h('td', {}, p.meets_sla ? `✔ ${t('yes')}` : `✘ ${t('no')}`),
      h('td', { class: 'num' }, pct(p.availability)))));
}

export function servicesTable(services, caption = t('per_service'), id = 'services') {
  if (!Array.isArray(services) || services.length === 0) return null;
  return table(id, caption, [t('service'), t('channels'), t('replicas'), t('gpu_type'), t('utilisation'), t('predicted'), t('availability')],
    services.map((s) => {
      const util = s.queue?.utilisation;
      return h('tr', {},
        h('th', { scope: 'row' }, s.service_name),
        h('td', { class: 'num' }, s.channels ?? s.count ?? '—'),
        h('td', { class: 'num' }, s.replicas ?? '—'),
        h('td', {}, s.gpu_type ?? (s.queue ? 'CPU' : '—')),
        h('td', { class: 'num' }, typeof util === 'number'
          ? [pct(util), ' ', h('meter', { min: 0, max: 1, high: 0.85, optimum: 0.5, value: util, 'aria-label': `${s.service_name} ${t('utilisation')}` })]
          : '—'),
        h('td', { class: 'num' }, ms(s.predicted_response_time_ms)),
        h('td', { class: 'num' }, pct(s.availability)));
    }));
}

export function costBlock(answer) {
  const r = answer.resources ?? {};
  return h('dl', { class: 'costs', id: 'cost-lines' },
    h('dt', {}, t('recommended')), h('dd', { id: 'recommended-preset' }, answer.recommended_preset ?? answer.preset ?? '—'),
    h('dt', {}, t('gpu_type')), h('dd', {}, answer.gpu_type ?? '—'),
    h('dt', {}, t('resources')), h('dd', {}, `CPU ${r.cpu ?? '—'} · ${r.memory ?? '—'} · GPU ${r.gpu ?? 0} · ${r.storage ?? ''}`),
    h('dt', {}, t('monthly_cost')), h('dd', { id: 'estimated-cost' }, answer.estimated_cost ?? '—'),
    answer.paths?.length ? [h('dt', {}, t('availability')), h('dd', {}, pct(Math.min(...answer.paths.map((p) => p.availability ?? 1))))] : null);
}

export function alternativesTable(alternatives) {
  if (!Array.isArray(alternatives) || alternatives.length === 0) return null;
  return table('alternatives', t('alternatives'), [t('preset'), t('resources'), t('monthly_cost'), t('impact')],
    alternatives.map((a) => h('tr', {},
      h('th', { scope: 'row' }, a.preset),
      h('td', {}, `CPU ${a.resources?.cpu} · ${a.resources?.memory} · GPU ${a.resources?.gpu}`),
      h('td', { class: 'num' }, a.cost),
      h('td', {}, a.performance_impact))));
}

/** The sizing's own account (an X-Debug answer's `debug.explanation`, as `ecp calc --explain`
 * prints it): each path's convolution and availability product, the tiers tried, the cost lines. */
export function explanationBlock(answer) {
  const lines = answer.debug?.explanation;
  if (!Array.isArray(lines) || lines.length === 0) return null;
  return h('details', { id: 'explain', class: 'explain' },
    h('summary', {}, t('explain')),
    h('ol', {}, lines.map((line) => h('li', { class: /^(cost|path \S+ p|totals|tier )/.test(line) ? 'key' : undefined }, line))));
}

export function planView(answer) {
  return h('div', { class: 'plan', id: 'plan' },
    costBlock(answer),
    pathsTable(answer.paths),
    servicesTable(answer.services),
    alternativesTable(answer.alternatives),
    explanationBlock(answer));
}

/** The tenant's services as deployed: replicas and each pod's requests and limits. */
export function deployedTable(services) {
  if (!Array.isArray(services) || services.length === 0) return null;
  return table('deployed-services', t('deployed'), [t('service'), t('channels'), t('replicas'), 'CPU', t('metric_memory'), 'GPU'],
    services.map((s) => h('tr', {},
      h('th', { scope: 'row' }, s.service_name),
      h('td', { class: 'num' }, s.count ?? '—'),
      h('td', { class: 'num' }, s.replicas ?? '—'),
      h('td', {}, `${s.resources?.cpu_request ?? '—'} / ${s.resources?.cpu_limit ?? '—'}`),
      h('td', {}, `${s.resources?.memory_request ?? '—'} / ${s.resources?.memory_limit ?? '—'}`),
      h('td', { class: 'num' }, s.resources?.gpu ?? 0))));
}
