// YAML with syntax highlighting, built from text nodes and spans (never innerHTML): keys,
// strings, numbers, booleans, comments and document separators each get a class.

import { h } from './dom.js';

const LINE = /^(\s*)(- )?([A-Za-z0-9_./-]+:)?(\s*)(.*)$/;

function valueSpan(text) {
  if (text === '') return null;
  if (text.startsWith('#')) return h('span', { class: 'y-comment' }, text);
  if (/^(true|false|null|~)$/.test(text)) return h('span', { class: 'y-bool' }, text);
  if (/^-?\d+(\.\d+)?$/.test(text)) return h('span', { class: 'y-num' }, text);
  if (/^["']/.test(text)) return h('span', { class: 'y-str' }, text);
  return h('span', { class: 'y-plain' }, text);
}

export function highlightYaml(text) {
  const lines = text.split('\n').map((line) => {
    if (line.startsWith('---')) return [h('span', { class: 'y-doc' }, line), '\n'];
    if (line.trimStart().startsWith('#')) return [h('span', { class: 'y-comment' }, line), '\n'];
    const [, indent, dash, key, gap, rest] = line.match(LINE);
    return [indent, dash ?? '', key ? h('span', { class: 'y-key' }, key) : '', gap, valueSpan(rest), '\n'];
  });
  return h('pre', { class: 'yaml', id: 'manifest', tabindex: 0, 'aria-label': 'manifest' }, h('code', {}, lines));
}
