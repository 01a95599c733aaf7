// The inputs for channels per service and the SLA target, shared by the calculator and the
// tenant form. Every input names the API field path it fills (data-field), so a server error
// for `service_requirements.stt` lands beside the stt input.

import { h } from './dom.js';
import { t } from './i18n.js';

export const SERVICES = ['callbot', 'chatbot', 'advisor', 'stt', 'tts', 'ta', 'qa'];

export function field(path, label, input, hint) {
  const id = `f-${path.replace(/[^a-z0-9]+/gi, '-')}`;
  input.id = id;
  input.dataset.field = path;
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  input.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    input,
    hint ? h('span', { class: 'hint', id: hintId }, hint) : null,
    h('span', { class: 'field-error', id: errorId, role: 'alert', 'data-error-for': path }));
}

export function requirementsFields(initial = {}) {
  const requirements = initial.service_requirements ?? {};
  const sla = initial.sla_target ?? {};
  const number = (value) => h('input', { type: 'number', min: 0, step: 1, inputmode: 'numeric', value: value ?? 0 });
  return h('div', { class: 'requirements' },
    h('fieldset', {}, h('legend', {}, t('channels')),
      SERVICES.map((name) => field(`service_requirements.${name}`, name, number(requirements[name])))),
    h('fieldset', {}, h('legend', {}, t('sla_target')),
      field('sla_target.availability', t('availability'), h('input', { type: 'text', value: sla.availability ?? '99.9%' })),
      field('sla_target.response_time', t('response_time'), h('input', { type: 'text', value: sla.response_time ?? '300ms' })),
      field('sla_target.concurrent_users', t('concurrent_users'), number(sla.concurrent_users))));
}

/** The request parts the inputs under `root` describe. Zero channels are left out, except for
 * the services in `keep` (an update merges per service, so turning one off must send its 0). */
export function readRequirements(root, keep = []) {
  const service_requirements = {};
  for (const name of SERVICES) {
    const value = Number(root.querySelector(`[data-field="service_requirements.${name}"]`).value);
    if (value || keep.includes(name)) service_requirements[name] = value;
  }
  const text = (path) => root.querySelector(`[data-field="${path}"]`).value.trim();
  const sla_target = { availability: text('sla_target.availability'), response_time: text('sla_target.response_time') };
  const users = Number(text('sla_target.concurrent_users'));
  if (users) sla_target.concurrent_users = users;
  return { service_requirements, sla_target };
}

/** Shows each named field's message beside its input; returns the messages no input took. */
export function showFieldErrors(root, errors) {
  for (const el of root.querySelectorAll('[data-error-for]')) el.textContent = '';
  for (const el of root.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const left = [];
  for (const [path, message] of errors) {
    const slot = root.querySelector(`[data-error-for="${CSS.escape(path)}"]`);
    if (!slot) {
      left.push(`${path}: ${message}`);
      continue;
    }
    slot.textContent = message;
    root.querySelector(`[data-field="${CSS.escape(path)}"]`)?.setAttribute('aria-invalid', 'true');
  }
  return left;
}
