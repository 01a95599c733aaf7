// A unified diff (the preview's manifest_diff) with its lines marked: file headers, hunk headers,
// added and removed lines. Built from text nodes and spans, never innerHTML.

import { h } from './dom.js';

function kind(line) {
  if (line.startsWith('+++') || line.startsWith('---')) return 'd-file';
  if (line.startsWith('@@')) return 'd-hunk';
  if (line.startsWith('+')) return 'd-add';
  if (line.startsWith('-')) return 'd-del';
  return 'd-ctx';
}

export function diffView(text, label) {
  const lines = text.replace(/\n$/, '').split('\n');
  return h('pre', { class: 'diff', id: 'manifest-diff', tabindex: 0, 'aria-label': label },
    h('code', {}, lines.map((line) => [h('span', { class: kind(line) }, line), '\n'])));
}
