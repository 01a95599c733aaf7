// How a failed call is shown: 403 and 401 in words of their own (a 403 also turns off the
// write buttons for this mode), field errors beside their inputs, anything else with its code
// and request id so it can be quoted.

import { ForbiddenError, UnauthorizedError } from '@ecp-ai/orchestrator-client';
import { h } from './dom.js';
import { t } from './i18n.js';

export function errorBox(error, session) {
  if (error instanceof ForbiddenError) {
    session?.markReadOnly();
    return h('div', { class: 'error forbidden', role: 'alert' }, t('forbidden', { message: error.message }));
  }
  if (error instanceof UnauthorizedError) {
    return h(
      'div',
      { class: 'error', role: 'alert' },
      t('unauthorized', { message: error.message }),
      ' ',
      h('a', { href: '#/signin' }, t('sign_in')),
    );
  }
  const code = error?.code ? `${error.code}: ` : '';
  const id = error?.requestId ? ` (${error.requestId})` : '';
  return h('div', { class: 'error', role: 'alert' }, `${t('error')} — ${code}${error?.message ?? error}${id}`);
}

/** The field paths an error names: details.errors[].field, else details.field. */
export function fieldErrors(error) {
  const details = error?.details ?? {};
  const found = new Map();
  for (const entry of Array.isArray(details.errors) ? details.errors : []) {
    if (entry?.field && !found.has(entry.field)) found.set(String(entry.field), String(entry.message ?? ''));
  }
  if (details.field && !found.has(details.field)) found.set(String(details.field), error.message);
  return found;
}
