// A tenant's deployment history: one row per commit of the workspace repo (GET .../history),
// with the resources its compiled output recorded and the change against the commit before.
// Every number is the server's (the committed index entry and its deltas); nothing is re-sized
// here. A commit without compiled output in git says so instead of showing zeros.

import { h } from './dom.js';
import { t } from './i18n.js';

// Column -> [the resources field shown, the delta field that moves it].
const COLUMNS = [
  ['replicas', 'replicas_total', 'replicas'],
  ['cpu', 'cpu', 'cpu'],
  ['memory', 'memory', 'memory'],
  ['gpu', 'gpu', 'gpu'],
  ['cost', 'estimated_cost', 'monthly_cost_usd'],
];

function cell(name, commit, field, deltaField) {
  if (!commit.compiled) return h('td', { 'data-cell': name, class: 'muted' }, '—');
  const delta = commit.deltas.find((d) => d.field === deltaField);
  const change = delta?.change ?? null;
  const direction = change === null ? 'same' : change.startsWith('-') ? 'down' : 'up';
  return h('td', { 'data-cell': name, class: `num delta-${direction}` },
    String(commit.resources?.[field] ?? '—'),
    change === null ? null : h('span', { class: 'delta', 'data-delta': name }, ` (${change})`));
}

export function historyTable(history) {
  if (!history.commits.length) return h('p', { class: 'hint', id: 'no-history' }, t('no_changes'));
  const heads = [t('when'), 'commit', t('who'), t('action'), t('replicas'), 'CPU', t('metric_memory'), 'GPU', t('monthly_cost')];
  return h('div', {},
    h('table', { id: 'history', class: 'plan-table' },
      h('caption', { class: 'sr-only' }, t('history')),
      h('thead', {}, h('tr', {}, heads.map((text) => h('th', { scope: 'col' }, text)))),
      h('tbody', {}, history.commits.map((commit) => h('tr', { 'data-commit': commit.commit, 'data-compiled': String(commit.compiled) },
        h('td', {}, h('time', { datetime: commit.timestamp }, commit.timestamp)),
        h('td', {}, h('code', { title: commit.subject }, commit.commit.slice(0, 10))),
        h('td', {}, commit.principal ?? commit.author),
        h('td', { 'data-cell': 'action' }, t(`action_${commit.action}`), commit.compiled ? null : h('span', { class: 'muted' }, ` · ${t('not_compiled')}`)),
        COLUMNS.map(([name, field, deltaField]) => cell(name, commit, field, deltaField)))))),
    history.truncated ? h('p', { class: 'hint' }, t('history_truncated', { n: history.count })) : null);
}
